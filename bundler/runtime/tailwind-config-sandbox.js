// Evaluates one session's tailwind.config in Deno with no permissions at all (no files,
// network, environment, processes or system information) and prints it as JSON data.
//
// stdin:  {"path": "/tailwind.config.ts", "source": "...", "defaultTheme": {...}, "colors": {...}}
// stdout: one line, the last one: {"config": {...}} or
//         {"error": {"message": "...", "line": n, "column": n}}
//
// The config is imported as a data: module (TypeScript allowed), with an import map (made
// by the caller) that resolves the only packages a config may name to small data modules:
// the plugins become markers {"$plugin": name, "options"?: …}, which the compiler maps to
// its pinned packages; `tailwindcss/defaultTheme` and `tailwindcss/colors` are Tailwind
// v3's data. `require()` of the same names works for CommonJS-style configs. Functions in
// `theme` are called here with a `theme()` helper; any other function is refused.

const request = JSON.parse(await new Response(Deno.stdin.readable).text());
const stdout = Deno.stdout;
const exit = Deno.exit; // taken before the config runs: it may replace Deno's members
const encoder = new TextEncoder();

// What would still tell the config about this machine without a permission.
for (const name of ["execPath", "cwd"]) {
  Object.defineProperty(Deno, name, { value: () => "/", configurable: false });
}
for (const name of ["mainModule", "pid", "ppid"]) {
  Object.defineProperty(Deno, name, { value: name === "mainModule" ? "stage:config" : 0, configurable: false });
}

const PLUGINS = ["tailwindcss-animate", "@tailwindcss/typography", "@tailwindcss/forms",
  "@tailwindcss/aspect-ratio", "@tailwindcss/container-queries"];
const PLUGIN = Symbol("plugin");
const OPTIONS = Symbol("options");

function marker(name) {
  const plugin = (options = {}) => ({ [PLUGIN]: name, [OPTIONS]: options });
  plugin[PLUGIN] = name;
  return plugin;
}

class ConfigError extends Error {}

const MODULES = {
  "tailwindcss": {},
  "tailwindcss/defaultTheme": request.defaultTheme,
  "tailwindcss/colors": request.colors,
  ...Object.fromEntries(PLUGINS.map((name) => [name, marker(name)])),
};
globalThis.__stageModule = (name) => MODULES[name];

function require(name) {
  if (name in MODULES) return MODULES[name];
  throw new ConfigError(`require("${name}"): a Tailwind config may only load ${Object.keys(MODULES).join(", ")}`);
}
globalThis.require = require;
globalThis.module = { exports: {} };
globalThis.exports = globalThis.module.exports;
globalThis.__dirname = "/";
globalThis.__filename = request.path;

function lookup(object, path) {
  let value = object;
  for (const part of path.split(/[.[\]]+/).filter(Boolean)) {
    if (value === null || typeof value !== "object") return undefined;
    value = value[part];
  }
  return value;
}

function themeHelper(config) {
  const own = config.theme ?? {};
  const extend = own.extend ?? {};
  const theme = (path, fallback) => {
    let value = lookup(own, path);
    if (value === undefined) value = lookup(request.defaultTheme, path);
    const extra = lookup(extend, path);
    if (extra !== undefined) {
      value = value !== null && typeof value === "object" && typeof extra === "object" ? { ...value, ...extra } : extra;
    }
    if (typeof value === "function") value = value(...helpers);
    return value === undefined ? fallback : value;
  };
  // As Tailwind 3 calls them: `(theme, utils)`, the theme function carrying the utilities
  // too, so both `(theme) => theme("…")` and `({ theme, colors }) => …` work.
  const utils = {
    colors: request.colors,
    breakpoints: (screens) => Object.fromEntries(Object.entries(screens ?? {}).map(([k, v]) => [`screen-${k}`, v])),
  };
  Object.assign(theme, utils, { theme });
  return [theme, utils];
}

let helpers = null;
let source = request.source;

// Where a value the config built is written: its function's text when the source has it
// as written, else the line naming its key (`plugins:` for plugins[2]).
function located(message, where, fn) {
  const error = new ConfigError(message);
  const lines = source.split("\n");
  const first = fn === undefined ? "" : String(fn).split("\n")[0].trim();
  let index = first ? lines.findIndex((l) => l.includes(first)) : -1;
  let column = index >= 0 ? lines[index].indexOf(first) + 1 : 0;
  if (index < 0) {
    const key = where.split(/[.[\]]+/).filter((k) => k && !/^\d+$/.test(k)).at(-1);
    const pattern = key ? new RegExp(`["']?\\b${key.replace(/[^\w-]/g, "")}\\b["']?\\s*:`) : null;
    index = pattern ? lines.findIndex((l) => pattern.test(l)) : -1;
    column = index >= 0 ? lines[index].search(pattern) + 1 : 0;
  }
  if (index >= 0) error.at = [index + 1, column];
  return error;
}

const MAX_DEPTH = 32;

function data(value, where, depth = 0) {
  if (depth > MAX_DEPTH) throw located(`${where}: nested more than ${MAX_DEPTH} levels deep`, where);
  if (value === null || ["string", "number", "boolean"].includes(typeof value)) return value;
  if (value === undefined) return undefined;
  if (typeof value === "function") {
    if (value[PLUGIN]) return { $plugin: value[PLUGIN] };
    if (where.startsWith("theme.") && helpers !== null) return data(value(...helpers), where, depth + 1);
    throw located(`${where} is a function: a config is data, and the plugins are ${PLUGINS.join(", ")} (custom plugins are not run)`, where, value);
  }
  if (value instanceof RegExp) throw located(`${where} is a regular expression: list the class names instead`, where);
  if (Array.isArray(value)) return value.map((item, i) => data(item, `${where}[${i}]`, depth + 1));
  if (typeof value === "object") {
    if (value[PLUGIN]) return { $plugin: value[PLUGIN], options: data(value[OPTIONS], `${where} options`, depth + 1) };
    const out = {};
    for (const [key, item] of Object.entries(value)) {
      if (key === "__proto__" || key === "constructor" || key === "prototype") continue;
      const converted = data(item, where ? `${where}.${key}` : key, depth + 1);
      if (converted !== undefined) out[key] = converted;
    }
    return out;
  }
  throw located(`${where} is a ${typeof value}: a config is data`, where);
}

function position(error) {
  if (error instanceof ConfigError && error.at) return error.at;
  const text = `${error?.stack ?? ""}\n${error?.message ?? ""}`;
  const match = /data:[^\s)]*?:(\d+):(\d+)/.exec(text);
  return match ? [Number(match[1]), Number(match[2])] : [0, 0];
}

const DENIED = /^NotCapable: Requires (\w+) access(?: to ("[^"]*"))?, run again with the --allow-\w+ flag/;
const ACCESS = { read: "read files", write: "write files", net: "use the network", env: "read the environment",
  run: "start processes", sys: "read system information", ffi: "load native code", import: "import remote modules" };

function plain(message) {
  // Deno's own messages name the data: URL and colour their output; neither helps a reader.
  const denied = DENIED.exec(String(message));
  if (denied) return `a Tailwind config may not ${ACCESS[denied[1]] ?? denied[1]}${denied[2] ? ` (${denied[2]})` : ""}: it runs with no access to files, network, environment or processes`;
  return String(message).replace(/\u001b\[[0-9;]*m/g, "").replace(/\s+at data:\S+/g, "").replace(/data:[^\s"']+/g, request.path).split("\n")[0];
}

let answer;
try {
  const bytes = encoder.encode(source);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  const media = /\.[cm]?ts$/.test(request.path) ? "application/typescript" : "text/javascript";
  const module = await import(`data:${media};base64,${btoa(binary)}`);
  let config = module.default ?? globalThis.module.exports;
  if (config && typeof config === "object" && "default" in config && Object.keys(config).length === 1) config = config.default;
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new ConfigError("the config exports no object (use `export default { … }` or `module.exports = { … }`)");
  }
  helpers = themeHelper(config);
  answer = { config: data(config, "") };
} catch (error) {
  const [line, column] = position(error);
  let message = error instanceof ConfigError ? error.message : `${error?.name ?? "Error"}: ${error?.message ?? error}`;
  message = plain(message.replace(/^TypeError: (SyntaxError: )/, "$1"));
  if (/allocation failed/.test(message)) message = `the config used more than its memory limit (${message})`;
  answer = { error: { message, line, column } };
}
const out = encoder.encode("\n" + JSON.stringify(answer) + "\n");
for (let written = 0; written < out.length;) written += stdout.writeSync(out.subarray(written));
exit(0); // a timer the config left behind does not keep the sandbox running
