const tasks = [{ id: 1, title: "write the route" }, { id: 2, title: "call it" }];

export function GET() {
  console.log(`listing ${tasks.length} tasks`);
  return Response.json({ version: "one", tasks });
}

export async function POST(request: Request) {
  return Response.json({ created: await request.json() }, { status: 201 });
}
