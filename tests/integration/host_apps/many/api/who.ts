// Made once per process: every answer of one app's process carries the same value.
const processId = crypto.randomUUID();

export function GET(request: Request) {
  return Response.json({ process: processId, path: new URL(request.url).pathname });
}
