// The SDK's example route: the app's data, then a model call on it.
import { compute } from "@stage/compute";
import { inference } from "@stage/inference";

export async function GET() {
  const tasks = await compute.query("tasks", "list", { status: "active" });
  const messages = [{ role: "user", content: `Summarize: ${JSON.stringify(tasks)}` }];
  const summary = await inference.chat({ model: "gpt-4o-mini", messages });
  return Response.json(summary);
}
