// Adds a task ({title, status}) through the app's own mutation.
import { compute } from "@stage/compute";

export async function POST(request: Request) {
  return Response.json({ id: await compute.mutation("tasks", "add", await request.json()) });
}
