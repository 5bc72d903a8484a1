// Runs compute.<kind>(module, fn, args) from the JSON body {kind, module, fn, args} and
// answers the result; a refusal escapes, so the route answers with its status.
import { compute } from "@stage/compute";

export async function POST(request: Request, { params }: { params: { fn: string } }) {
  const { kind, module, args } = await request.json();
  // deno-lint-ignore no-explicit-any
  const result = await (compute as any)[kind](module, params.fn, args ?? {});
  return Response.json({ result: result ?? null });
}
