// The shape every platform module (@stage/compute, @stage/inference) calls the host with:
// POST /v1/apps/<sid>/<module>/<function> with a JSON body, authenticated as this app.
// The host answers JSON, or an error status with {"error": message} that is thrown here.
import { platformFetch } from "./prelude.js";

export class PlatformError extends Error {
  constructor(module, fn, status, message) {
    super(`${module}.${fn}: ${message}`);
    this.name = "PlatformError";
    this.status = status;
  }
}

export async function call(module, fn, args) {
  const response = await platformFetch(`/${module}/${fn}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(args ?? null),
  });
  const body = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new PlatformError(module, fn, response.status, body.error);
  return body;
}

/**
 * A call whose answer streams: resolves once the host accepted it (its refusal is thrown
 * here, as for call), then yields each JSON line of the answer. A line {"error", "status"}
 * ends the stream by throwing it.
 */
export async function callStream(module, fn, args) {
  const response = await platformFetch(`/${module}/${fn}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(args ?? null),
  });
  if (!response.ok) {
    const body = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
    throw new PlatformError(module, fn, response.status, body.error);
  }
  return lines(module, fn, response.body);
}

async function* lines(module, fn, body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += value;
      let end;
      while ((end = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        if (line.trim() === "") continue;
        const item = JSON.parse(line);
        if (item.error !== undefined) {
          throw new PlatformError(module, fn, item.status ?? 502, item.error);
        }
        yield item;
      }
    }
  } finally {
    // A reader that stops early closes the stream: the host stops asking the provider.
    await reader.cancel().catch(() => {});
  }
}
