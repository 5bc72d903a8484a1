function find(id: string) {
  // the tests assert the line and column of this error
  if (id === "boom") {
    throw new Error(`task ${id} does not exist`);
  }
  return id;
}

type Context = { params: { id: string } };

export function GET(request: Request, { params }: Context) {
  const full = new URL(request.url).searchParams.get("full");
  return Response.json({ method: "GET", id: find(params.id), ...(full ? { full } : {}) });
}

async function update(request: Request, { params }: Context) {
  return Response.json({ method: request.method, id: params.id, body: await request.json() });
}

export const PUT = update;
export const PATCH = update;

export function DELETE() {
  return new Response(null, { status: 204 });
}
