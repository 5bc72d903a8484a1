// Stage's Tailwind service: one long-lived Node process per worker process.
//
// Protocol: one JSON request per line on stdin, one JSON response per line on stdout.
//   request  {id, entry: {path, css}, files: {path: text}, probe: string|null,
//             maxCandidates: number}
//   response {id, css, candidates}                  the compiled stylesheet
//            {id, css: null, candidates}            probe given and no utility in it
//            {id, error: {message, file, line, column, lineText}}   the session's CSS is wrong
// Anything else (a crash, a hang) is the driver's business: it kills and restarts us.
//
// Only session files (sent in the request) and the pinned packages below can be loaded:
// nothing here reads a path the request names.

import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { __unstable__loadDesignSystem as loadDesignSystem, compile } from "tailwindcss";
import { Scanner } from "@tailwindcss/oxide";

const require = createRequire(import.meta.url);
const packageDir = (name) => join(dirname(fileURLToPath(import.meta.url)), "node_modules", name);

// Stylesheets a session may @import, by specifier → file in the pinned package.
const TAILWIND = packageDir("tailwindcss");
const ANIMATE = packageDir("tw-animate-css");
const STYLESHEETS = new Map([
  ["tailwindcss", join(TAILWIND, "index.css")],
  ["tailwindcss/index.css", join(TAILWIND, "index.css")],
  ["tailwindcss/preflight", join(TAILWIND, "preflight.css")],
  ["tailwindcss/preflight.css", join(TAILWIND, "preflight.css")],
  ["tailwindcss/theme", join(TAILWIND, "theme.css")],
  ["tailwindcss/theme.css", join(TAILWIND, "theme.css")],
  ["tailwindcss/utilities", join(TAILWIND, "utilities.css")],
  ["tailwindcss/utilities.css", join(TAILWIND, "utilities.css")],
  ["tw-animate-css", join(ANIMATE, "dist", "tw-animate.css")],
  ["tw-animate-css/prefix", join(ANIMATE, "dist", "tw-animate-prefix.css")],
]);
// Plugins a session may name with @plugin.
const PLUGINS = new Map([["@tailwindcss/typography", "@tailwindcss/typography"]]);
const ALLOWED = `session files, ${[...new Set([...STYLESHEETS.keys()].map((k) => k.split("/")[0]))].join(", ")}`;

// A session's base folder is "session:" + its folder, so it can never be mistaken for a
// path on this machine.
const SESSION = "session:";
// Compilers kept per distinct stylesheet input. A compiler's build() remembers every
// candidate it was given, so one is reused only for a candidate set that contains all of
// them: the output is then exactly what a fresh compiler would give (see prepareSpare).
const KEEP_COMPILERS = 8;
const compilers = new Map();
// Design systems answer "is this a utility?" without remembering anything (the probe).
const designSystems = new Map();
const sheetCache = new Map();

class UserError extends Error {}

function readPinned(file) {
  let text = sheetCache.get(file);
  if (text === undefined) {
    text = readFileSync(file, "utf8");
    sheetCache.set(file, text);
  }
  return text;
}

function resolveSession(id, base) {
  const parts = (id.startsWith("/") ? id : `${base.slice(SESSION.length)}/${id}`).split("/");
  const out = [];
  for (const part of parts) {
    if (part === "..") out.pop();
    else if (part && part !== ".") out.push(part);
  }
  return "/" + out.join("/");
}

function loaders(files, loaded) {
  const loadStylesheet = async (id, base) => {
    const pinned = STYLESHEETS.get(id);
    if (pinned !== undefined) return { path: pinned, base: dirname(pinned), content: readPinned(pinned) };
    const relative = id.startsWith(".") || id.startsWith("/");
    if (relative && base.startsWith(SESSION)) {
      let path = resolveSession(id, base);
      if (!(path in files) && `${path}.css` in files) path = `${path}.css`;
      if (path in files) {
        loaded.set(path, files[path]);
        return { path, base: SESSION + dirname(path), content: files[path] };
      }
      throw new UserError(`@import "${id}": ${path} is not a session file; a stylesheet may import ${ALLOWED}`);
    }
    throw new UserError(`@import "${id}" is not available; a stylesheet may import ${ALLOWED}`);
  };
  const loadModule = async (id, base, hint) => {
    if (hint === "config") {
      throw new UserError(`@config "${id}": JavaScript config files are not run; use @theme in CSS, and @plugin for ${[...PLUGINS.keys()].join(", ")}`);
    }
    const name = PLUGINS.get(id);
    if (name === undefined) {
      throw new UserError(`@plugin "${id}" is not available; the plugins are ${[...PLUGINS.keys()].join(", ")}`);
    }
    const path = require.resolve(name);
    const module = await import(pathToFileURL(path).href);
    return { path, base: dirname(path), module: module.default ?? module };
  };
  return { loadStylesheet, loadModule };
}

// A compiled stylesheet depends on its own text and the session stylesheets it imported.
function cached(cache, entry, files) {
  const key = `${entry.path}\0${entry.css}`;
  const kept = cache.get(key);
  cache.delete(key);
  if (kept === undefined) return undefined;
  for (const [path, content] of kept.loaded) if (files[path] !== content) return undefined;
  cache.set(key, kept); // most recently used last
  return kept;
}

function keep(cache, entry, value) {
  cache.set(`${entry.path}\0${entry.css}`, value);
  if (cache.size > KEEP_COMPILERS) cache.delete(cache.keys().next().value);
  return value;
}

async function freshCompiler(entry, files) {
  const loaded = new Map();
  const compiler = await compile(entry.css, {
    base: SESSION + dirname(entry.path),
    from: entry.path,
    ...loaders(files, loaded),
  });
  return { compiler, loaded, seen: new Set() };
}

async function compilerFor(entry, files, candidates) {
  const kept = cached(compilers, entry, files);
  if (kept !== undefined) {
    if ([...kept.current.seen].every((c) => candidates.has(c))) return kept.current;
    if (kept.spare !== null) {
      [kept.current, kept.spare] = [kept.spare, null];
      return kept.current;
    }
  }
  const current = await freshCompiler(entry, files);
  keep(compilers, entry, { entry, loaded: current.loaded, current, spare: null });
  return current;
}

// Compiling a stylesheet costs far more than building from a compiler (tens of ms against
// a few), and a compiler that saw a class cannot serve a page without it. So once an
// answer is out, the stylesheet just used gets a fresh spare compiler, ready for the
// session's next edit; this runs while the worker uploads, not while it waits.
async function prepareSpare(entry) {
  const kept = compilers.get(`${entry.path}\0${entry.css}`);
  if (kept === undefined || kept.spare !== null || kept.current.seen.size === 0) return;
  kept.spare = await freshCompiler(kept.entry, Object.fromEntries(kept.loaded));
}

const SCANNED = /\.(tsx|ts|jsx|js|mjs|cjs|html|htm|md|mdx|json|vue|svelte|astro)$/;

function scan(files, maxCandidates) {
  const contents = Object.entries(files)
    .filter(([path]) => SCANNED.test(path))
    .map(([path, content]) => ({ content, extension: path.slice(path.lastIndexOf(".") + 1) }));
  const candidates = new Set(new Scanner({}).scanFiles(contents));
  if (candidates.size > maxCandidates) {
    throw new UserError(`the session's files hold ${candidates.size} distinct class candidates, more than the limit of ${maxCandidates}`);
  }
  return candidates;
}

function build(kept, candidates) {
  for (const c of candidates) kept.seen.add(c);
  return kept.compiler.build([...candidates]);
}

async function hasUtility(entry, files, probe) {
  let kept = cached(designSystems, entry, files);
  if (kept === undefined) {
    const loaded = new Map();
    const system = await loadDesignSystem(entry.css, { base: SESSION + dirname(entry.path), ...loaders(files, loaded) });
    kept = keep(designSystems, entry, { system, loaded });
  }
  const probed = new Scanner({}).scanFiles([{ content: probe, extension: "html" }]);
  return kept.system.candidatesToCss(probed).some((css) => css !== null);
}

async function handle(request) {
  const { entry, files, probe, maxCandidates } = request;
  const candidates = scan(files, maxCandidates);
  if (probe !== null && !(await hasUtility(entry, files, probe))) {
    return { css: null, candidates: candidates.size };
  }
  const kept = await compilerFor(entry, files, candidates);
  return { css: build(kept, candidates), candidates: candidates.size };
}

function locate(error, entry, files) {
  const sheets = { ...files, [entry.path]: entry.css };
  const syntax = Array.isArray(error.loc) ? error.loc : null;
  if (syntax && syntax[0]?.file in sheets) {
    const text = sheets[syntax[0].file];
    const before = text.slice(0, syntax[1]).split("\n");
    return position(syntax[0].file, text, before.length, before.at(-1).length + 1,
      error.message.replace(/^\S+:\d+:\d+: /, ""));
  }
  // Tailwind's other errors name the offending class or value in backticks, ours the
  // directive and its argument: the first line holding that text is where it is.
  const named = /^(@\w+ "[^"]*")/.exec(error.message)?.[1] ?? /`([^`]+)`/.exec(error.message)?.[1];
  if (named) {
    const token = named.replace(/^theme\((.*)\)$/, "$1");
    for (const [file, text] of [[entry.path, entry.css], ...Object.entries(files).filter(([p]) => p.endsWith(".css"))]) {
      const lines = text.split("\n");
      const index = lines.findIndex((l) => l.includes(token));
      if (index >= 0) return position(file, text, index + 1, lines[index].indexOf(token) + 1, error.message);
    }
  }
  return { message: error.message, file: entry.path, line: 0, column: 0, lineText: "" };
}

function position(file, text, line, column, message) {
  return { message, file, line, column, lineText: text.split("\n")[line - 1] ?? "" };
}

const input = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
for await (const line of input) {
  const request = JSON.parse(line);
  let response;
  try {
    response = { id: request.id, ...(await handle(request)) };
  } catch (error) {
    response = { id: request.id, error: locate(error, request.entry, request.files) };
  }
  process.stdout.write(JSON.stringify(response) + "\n");
  if (!response.error) setImmediate(() => prepareSpare(request.entry).catch(() => {}));
}
