// Calls a compute module this app does not have (there is no /compute/tasks.ts).
import { compute } from "@stage/compute";

export async function GET() {
  return Response.json(await compute.query("tasks", "list", {}));
}
