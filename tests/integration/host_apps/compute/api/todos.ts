import { compute } from "@stage/compute";

export async function GET() {
  return Response.json(await compute.query("todos", "list", {}));
}

export async function POST(request: Request) {
  const { title } = await request.json();
  return Response.json({ id: await compute.mutation("todos", "add", { title }) });
}

export async function PATCH(request: Request) {
  const { id } = await request.json();
  return Response.json(await compute.mutation("todos", "complete", { id }));
}
