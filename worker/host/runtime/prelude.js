// First module the sandbox evaluates, before any session code: it removes what a route
// must not use and routes console output and outbound fetch through the host.
//
// What is refused here is refused again by Deno's permissions (no --allow-read, -write,
// -env, -run, -ffi, -sys; --allow-net only for this process's port and the platform
// endpoint): this module makes the common cases fail early and say why.
import { AsyncLocalStorage } from "node:async_hooks";

/** The request a piece of route code runs for (its id counts outbound fetches). */
export const currentRequest = new AsyncLocalStorage();

// Storage that would persist on the host's disk between requests and versions.
// Each is replaced by a getter that says so, rather than left undefined.
for (const name of ["localStorage", "sessionStorage", "caches", "indexedDB"]) {
  try {
    Object.defineProperty(globalThis, name, {
      configurable: false,
      get() {
        throw new Error(`API routes cannot use ${name}; keep data in @stage/compute`);
      },
    });
  } catch {
    delete globalThis[name]; // a Deno that made it non-configurable: at least remove it
  }
}

const encoder = new TextEncoder();
const MAX_LINE = 8192; // one console call; longer output is cut, never buffered whole

/** One JSON line on stdout: the host reads them as this app version's log. */
export function emit(record) {
  const line = JSON.stringify(record);
  Deno.stdout.writeSync(encoder.encode(line + "\n"));
}

function text(args) {
  const parts = args.map((a) => {
    if (typeof a === "string") return a;
    if (a instanceof Error) return `${a.name}: ${a.message}`;
    try {
      return JSON.stringify(a);
    } catch {
      return String(a);
    }
  });
  const joined = parts.join(" ");
  return joined.length > MAX_LINE ? joined.slice(0, MAX_LINE) + "…" : joined;
}

const LEVELS = { log: "info", info: "info", debug: "debug", warn: "warn", error: "error" };
for (const [method, level] of Object.entries(LEVELS)) {
  console[method] = (...args) => {
    const request = currentRequest.getStore();
    emit({ t: "log", level, text: text(args), route: request?.route ?? null });
  };
}

// Raw fetch may only reach the platform endpoint (permissions); a route's fetch of any URL
// goes there as a checked proxy request, which resolves the name, refuses loopback,
// private, link-local and metadata addresses and counts the request's fetches.
const rawFetch = globalThis.fetch.bind(globalThis);
let platform = null;

/** Called once by the harness with the platform endpoint's URL and this process's token. */
export function connectPlatform(config) {
  platform = { url: config.platformUrl, token: config.token, sid: config.sid };
}

/** A call to the host's platform endpoint, authenticated as this app. */
export function platformFetch(path, init = {}) {
  if (platform === null) {
    throw new Error("the platform endpoint is not reachable while the route module loads; " +
      "call it from a handler");
  }
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${platform.token}`);
  const request = currentRequest.getStore();
  if (request) headers.set("x-stage-request", request.id);
  return rawFetch(`${platform.url}/v1/apps/${platform.sid}${path}`, { ...init, headers });
}

globalThis.fetch = async function fetch(input, init) {
  const request = new Request(input, init);
  const headers = new Headers(request.headers);
  headers.set("x-stage-target", request.url);
  headers.set("x-stage-method", request.method);
  const body = ["GET", "HEAD"].includes(request.method) ? undefined : await request.arrayBuffer();
  const answer = await platformFetch("/fetch", {
    method: "POST",
    headers,
    body,
    signal: request.signal,
  });
  const refused = answer.headers.get("x-stage-refused");
  if (refused !== null) {
    throw new TypeError(`fetch ${request.url}: ${await answer.text()}`);
  }
  const out = new Headers(answer.headers);
  out.delete("x-stage-refused");
  return new Response(answer.body, { status: answer.status, statusText: answer.statusText,
    headers: out });
};
