// A route bundle as the worker stores it (ESM), for the pool tests.
export function GET() {
  return Response.json({ hello: true });
}
