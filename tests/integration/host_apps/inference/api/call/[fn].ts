// Calls inference.<fn> with the request's JSON body and answers what it returned, or the
// platform's refusal with its status (as an app's author would pass it on).
import { inference } from "@stage/inference";

async function streamed(body: Record<string, unknown>) {
  const stream = await inference.chat({ ...body, stream: true });
  const deltas: string[] = [];
  for await (const delta of stream) deltas.push(delta);
  return { deltas, content: stream.content, model: stream.model, usage: stream.usage };
}

async function firstDelta(body: Record<string, unknown>) {
  const stream = await inference.chat({ ...body, stream: true });
  for await (const delta of stream) return { first: delta };
  return { first: null };
}

export async function POST(request: Request, { params }: { params: { fn: string } }) {
  const body = await request.json();
  try {
    if (params.fn === "stream") return Response.json(await streamed(body));
    if (params.fn === "stream-first") return Response.json(await firstDelta(body));
    // deno-lint-ignore no-explicit-any
    return Response.json(await (inference as any)[params.fn](body));
  } catch (error) {
    const status = (error as { status?: number }).status ?? 500;
    return Response.json({ error: (error as Error).message, status }, { status });
  }
}
