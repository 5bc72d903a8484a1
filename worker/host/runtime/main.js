// The route harness: one per app version, in its own Deno process.
//
// The host writes one JSON line on stdin (port, platform URL, token, key); nothing else in
// the process can read it afterwards. Each request from the host names the route (by its
// index in the manifest) and its params; the harness calls the route's handler with a
// standard Request and returns its Response. Uncaught errors become a 500 whose body names
// the session file and line (Deno applies the bundles' source maps to stacks).
import { connectPlatform, currentRequest, emit } from "./prelude.js";
import { compute, routes } from "stage:routes";
import { installCompute } from "./stage-compute.js";

const HEADER_PREFIX = "x-stage-";

async function readConfig() {
  const reader = Deno.stdin.readable.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  while (!buffered.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  return JSON.parse(buffered.slice(0, buffered.indexOf("\n")));
}

const config = await readConfig();
connectPlatform(config);
installCompute(compute);
const codeUrl = new URL(config.codeUrl);

const PERMISSIONS = [
  [/read access/, "API routes cannot read files"],
  [/write access/, "API routes cannot write files"],
  [/env access/, "API routes cannot read environment variables"],
  [/run access/, "API routes cannot start processes"],
  [/net access/, "API routes cannot open connections; fetch public https:// URLs instead"],
  [/sys access/, "API routes cannot inspect the machine they run on"],
  [/ffi access/, "API routes cannot load native code"],
  [/import access/, "API routes cannot import code at run time"],
];

/** Session frames of a stack: "/api/tasks.ts:3:9", most recent first. */
function sessionFrames(error) {
  const frames = [];
  for (const match of String(error?.stack ?? "").matchAll(/(file:\/\/[^\s()]+):(\d+):(\d+)/g)) {
    const url = match[1];
    if (!url.startsWith(codeUrl.href)) continue;
    const path = "/" + url.slice(codeUrl.href.length);
    if (path.startsWith("/out/")) continue; // a bundle line that no source map covers
    frames.push(`${decodeURIComponent(path)}:${match[2]}:${match[3]}`);
  }
  return frames;
}

/** A platform module's refusal (a bad argument, a limit, a quota) that the route let escape
 * answers with the module's 4xx status; anything else is the route's own failure, 500. */
function statusOf(error) {
  const platform = error?.name === "ComputeError" || error?.name === "PlatformError";
  const status = Number(error?.status);
  return platform && status >= 400 && status < 500 ? status : 500;
}

function failure(route, error) {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const permission = PERMISSIONS.find(([pattern]) => pattern.test(message));
  const frames = sessionFrames(error);
  const body = {
    error: permission ? `${permission[1]} (${message})` : message,
    route: route.route,
    at: frames[0] ?? route.source,
    stack: frames,
  };
  emit({ t: "log", level: "error", route: route.route,
    text: `uncaught in ${route.route} at ${body.at}: ${message}` });
  return Response.json(body, { status: statusOf(error), headers: { "x-stage-error": "uncaught" } });
}

function handlerOf(module, method) {
  const direct = module[method] ?? (method === "HEAD" ? module.GET : undefined);
  if (typeof direct === "function") return direct;
  const fallback = module.default;
  if (fallback && typeof fallback.fetch === "function") return fallback.fetch.bind(fallback);
  if (typeof fallback === "function") return fallback;
  return null;
}

async function handle(incoming) {
  if (incoming.headers.get(`${HEADER_PREFIX}key`) !== config.key) {
    return new Response("forbidden", { status: 403 });
  }
  const index = Number(incoming.headers.get(`${HEADER_PREFIX}route`));
  const route = routes[index];
  if (route === undefined) return new Response("no such route", { status: 404 });
  const params = JSON.parse(incoming.headers.get(`${HEADER_PREFIX}params`) ?? "{}");
  const url = incoming.headers.get(`${HEADER_PREFIX}url`) ?? incoming.url;
  const id = incoming.headers.get(`${HEADER_PREFIX}request`) ?? "";
  const headers = new Headers();
  for (const [name, value] of incoming.headers) {
    if (!name.startsWith(HEADER_PREFIX)) headers.set(name, value);
  }
  const request = new Request(url, {
    method: incoming.method,
    headers,
    body: ["GET", "HEAD"].includes(incoming.method) ? undefined : incoming.body,
    signal: incoming.signal,
  });
  const handler = handlerOf(route.module, incoming.method);
  if (handler === null) {
    return Response.json({ error: `${route.route} does not answer ${incoming.method}` },
      { status: 405 });
  }
  return await currentRequest.run({ id, route: route.route }, async () => {
    try {
      const response = await handler(request, { params });
      if (!(response instanceof Response)) {
        const kind = response === null ? "null" : typeof response;
        throw new TypeError(`the ${incoming.method} handler returned ${kind}, not a Response`);
      }
      return response;
    } catch (error) {
      return failure(route, error);
    }
  });
}

Deno.serve({
  hostname: "127.0.0.1",
  port: config.port,
  onListen() {
    emit({ t: "ready", nonce: config.key });
  },
  onError(error) {
    return Response.json({ error: String(error) }, { status: 500 });
  },
}, handle);
