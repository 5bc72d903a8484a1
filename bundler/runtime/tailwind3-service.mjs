// Stage's Tailwind v3 service: one long-lived Node process per worker process, started on
// the first session whose stylesheet is written for Tailwind v3 (`@tailwind base;`, …).
//
// It runs the pinned Tailwind 3.4 (the `tailwindcss3` alias), the compiler the AI app
// builders ran when their users saw these apps, so the page looks as it did there.
//
// Protocol: one JSON request per line on stdin, one JSON response per line on stdout.
//   request  {id, entry: {path, css}, files: {path: text}, config: object|null,
//             configPath: string|null, maxCandidates: number}
//   response {id, css, candidates}
//            {id, error: {message, file, line, column, lineText}}   the session's CSS is wrong
//
// `config` is the session's tailwind.config already evaluated in a sandbox (JSON data, never
// code): a plugin is a marker {"$plugin": name, "options"?: …} mapped here to the pinned
// package. `content` is replaced by the session's files, sent as raw text: this process
// reads no session path and runs no session code.

import Module, { createRequire } from "node:module";
import { dirname } from "node:path";
import { createInterface } from "node:readline";

const require = createRequire(import.meta.url);

// The plugins were written for v3 and `require("tailwindcss/…")` (plugin, colors,
// defaultTheme): they must get v3's, not the v4 package installed under that name.
const V3 = "tailwindcss3";
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === "tailwindcss" || request.startsWith("tailwindcss/")) {
    request = V3 + request.slice("tailwindcss".length);
  }
  return resolveFilename.call(this, request, ...rest);
};

const requireV3 = createRequire(require.resolve(V3));
const postcss = requireV3("postcss");
const postcssImport = requireV3("postcss-import");
const resolveConfig = require(`${V3}/resolveConfig`);
const { validateConfig } = require(`${V3}/lib/util/validateConfig`);
const { createContext } = require(`${V3}/lib/lib/setupContextUtils`);
const step = (name) => require(`${V3}/lib/lib/${name}`).default;
const normalizeTailwindDirectives = step("normalizeTailwindDirectives");
const partitionApplyAtRules = step("partitionApplyAtRules");
const expandTailwindAtRules = step("expandTailwindAtRules");
const expandApplyAtRules = step("expandApplyAtRules");
const LATER_STEPS = ["evaluateTailwindFunctions", "substituteScreenAtRules", "resolveDefaultsAtRules",
  "collapseAdjacentRules", "collapseDuplicateDeclarations"].map(step);
const { defaultExtractor } = require(`${V3}/lib/lib/defaultExtractor`);
const { NOT_ON_DEMAND } = require(`${V3}/lib/lib/sharedState`); // "*": every run's own candidate
const { generateRules } = require(`${V3}/lib/lib/generateRules`);

const PLUGINS = new Map([
  ["tailwindcss-animate", "tailwindcss-animate"],
  ["@tailwindcss/typography", "@tailwindcss/typography"],
  ["@tailwindcss/forms", "@tailwindcss/forms"],
  ["@tailwindcss/aspect-ratio", "@tailwindcss/aspect-ratio"],
  ["@tailwindcss/container-queries", "@tailwindcss/container-queries"],
]);

// v3's own entry points, as older stylesheets import them.
const V3_IMPORTS = new Map([
  ["tailwindcss/base", "base"], ["tailwindcss/base.css", "base"],
  ["tailwindcss/components", "components"], ["tailwindcss/components.css", "components"],
  ["tailwindcss/utilities", "utilities"], ["tailwindcss/utilities.css", "utilities"],
  ["tailwindcss/variants", "variants"], ["tailwindcss/screens", "screens"],
  ["tailwindcss/tailwind.css", "all"], ["tailwindcss", "all"],
]);
const SESSION = "/";

class UserError extends Error {}

const SCANNED = /\.(tsx|ts|jsx|js|mjs|cjs|html|htm|md|mdx|json|vue|svelte|astro)$/;

function content(files, configPath) {
  return Object.entries(files)
    .filter(([path]) => SCANNED.test(path) && path !== configPath)
    .map(([path, raw]) => ({ raw, extension: path.slice(path.lastIndexOf(".") + 1) }));
}

function plugin(marker, where) {
  const name = marker?.$plugin;
  if (!PLUGINS.has(name)) {
    throw new UserError(`${where}: only the plugins ${[...PLUGINS.keys()].join(", ")} are available`);
  }
  const module = require(PLUGINS.get(name));
  return marker.options === undefined ? module : module(marker.options);
}

function withPlugins(config, where) {
  const out = { ...config };
  if (Array.isArray(config.plugins)) out.plugins = config.plugins.map((p, i) => plugin(p, `${where}plugins[${i}]`));
  if (Array.isArray(config.presets)) out.presets = config.presets.map((p, i) => withPlugins({ ...p, content: [] }, `${where}presets[${i}].`));
  return out;
}

function importer(files) {
  return postcssImport({
    // Only session stylesheets are inlined; v3's own entry points become its directives
    // (by `load`), and anything else is the session's mistake.
    resolve(id, basedir) {
      if (V3_IMPORTS.has(id)) return `${SESSION}@tailwind/${V3_IMPORTS.get(id)}`;
      if (/^(https?:)?\/\//.test(id)) return id;
      if (!id.startsWith(".") && !id.startsWith("/")) {
        throw new UserError(`@import "${id}" is not available; a Tailwind v3 stylesheet may import session files and tailwindcss/base, tailwindcss/components, tailwindcss/utilities`);
      }
      const parts = (id.startsWith("/") ? id : `${basedir}/${id}`).split("/");
      const out = [];
      for (const part of parts) {
        if (part === "..") out.pop();
        else if (part && part !== ".") out.push(part);
      }
      let path = "/" + out.join("/");
      if (!(path in files) && `${path}.css` in files) path = `${path}.css`;
      if (!(path in files)) throw new UserError(`@import "${id}": ${path} is not a session file`);
      return path;
    },
    load(path) {
      if (path.startsWith(`${SESSION}@tailwind/`)) {
        const layer = path.slice(`${SESSION}@tailwind/`.length);
        return layer === "all" ? "@tailwind base;\n@tailwind components;\n@tailwind utilities;\n" : `@tailwind ${layer};\n`;
      }
      return files[path];
    },
    filter: (id) => !/^(https?:)?\/\//.test(id) && !/^url\(/.test(id),
  });
}

// Building a context (registering every core utility and plugin) costs far more than
// generating a page's rules from one, and a context remembers every rule it generated. So
// a context is kept per distinct config and stylesheet and reused only for a request whose
// candidates include every class it generated rules for (its output is then exactly what a
// fresh one would give); otherwise a spare, built after the previous answer while the worker
// bundles and uploads, takes its place. Candidates are read here, with Tailwind's own
// extractor and a cache per line, so an edit costs only its changed lines.
// Each kept context (with its spare) holds 10-15 MB: four keep the process under 200 MB.
const KEEP_CONTEXTS = 4;
const KEEP_LINES = 50_000;
const contexts = new Map();
const configs = new Map();

function resolved(config) {
  const key = JSON.stringify(config ?? {});
  let value = configs.get(key);
  if (value === undefined) {
    const tailwindConfig = validateConfig(resolveConfig({ ...withPlugins(config ?? {}, ""), content: [{ raw: "", extension: "html" }] }));
    value = { key, config: tailwindConfig, extract: null, lines: new Map() };
    configs.set(key, value);
    if (configs.size > KEEP_CONTEXTS) configs.delete(configs.keys().next().value);
  }
  return value;
}

function candidatesOf(resolvedConfig, raw) {
  // Tailwind's extractor depends on the config alone (prefix, separator), not on a context.
  resolvedConfig.extract ??= defaultExtractor({ tailwindConfig: resolvedConfig.config });
  const { extract, lines } = resolvedConfig;
  if (lines.size > KEEP_LINES) lines.clear();
  const candidates = new Set();
  for (const { raw: text, extension } of raw) {
    const source = extension === "svelte" ? text.replace(/(?:^|\s)class:/g, " ") : text;
    for (let line of source.split("\n")) {
      line = line.trim();
      let found = lines.get(line);
      if (found === undefined) {
        found = extract(line).filter((s) => s !== "!*");
        lines.set(line, found);
      }
      for (const candidate of found) candidates.add(candidate);
    }
  }
  return candidates;
}

// What createContext does to a stylesheet besides reading it: the layers it turned into
// plugins leave the tree. A kept context already holds them, so a reused one gets the same tree.
function stripLayers(root) {
  root.each((node) => {
    if (node.type === "atrule" && ["responsive", "variants"].includes(node.name)) {
      node.name = "layer";
      node.params = "utilities";
    }
  });
  root.walkAtRules("layer", (rule) => {
    if (["base", "components", "utilities"].includes(rule.params)) rule.remove();
  });
}

async function imported(entry, files) {
  const sheets = { ...files, [entry.path]: entry.css };
  return postcss([importer(sheets)]).process(entry.css, { from: entry.path, map: false });
}

function freshContext(config, root) {
  return createContext(config, [], root);
}

function reusable(context, candidates) {
  if (context === null) return false;
  for (const candidate of context.classCache.keys()) {
    if (!candidates.has(candidate) && candidate !== NOT_ON_DEMAND) return false;
  }
  return true;
}

async function handle(request) {
  const { entry, files, config, configPath, maxCandidates } = request;
  const tailwindConfig = resolved(config);
  const raw = content(files, configPath);
  // Tailwind 3's extractor is regular expressions in JavaScript, slow on a flood of
  // words; a cheap count of distinct words refuses a flood before it runs.
  const words = new Set();
  for (const { raw: text } of raw) for (const word of text.split(/[\s"'`{}();,<>=]+/)) words.add(word);
  const candidates = words.size > maxCandidates ? words : candidatesOf(tailwindConfig, raw);
  if (candidates.size > maxCandidates) {
    throw new UserError(`the session's files hold ${candidates.size} distinct class candidates, more than the limit of ${maxCandidates}`);
  }
  const first = await imported(entry, files);
  const key = `${tailwindConfig.key}\0${entry.path}\0${first.css}`;
  const kept = contexts.get(key) ?? { config: tailwindConfig.config, css: first.css, current: null, spare: null, output: null };
  contexts.delete(key);
  contexts.set(key, kept); // most recently used last
  if (contexts.size > KEEP_CONTEXTS) contexts.delete(contexts.keys().next().value);
  if (!reusable(kept.current, candidates)) {
    [kept.current, kept.spare, kept.output] = [kept.spare, null, null];
  } else if (kept.output !== null) {
    // The output depends on the stylesheet and the classes that generated rules alone. The
    // candidates this context never judged are judged now, as the full run would; if none
    // is a class, the page's classes are the last answer's, and so is the output.
    const context = kept.current;
    const unknown = [...candidates].filter((c) => !context.classCache.has(c) && !context.notClassCache.has(c));
    const classes = context.classCache.size;
    if (unknown.length > 0) generateRules(new Set(unknown), context);
    if (context.classCache.size === classes) return { css: kept.output, candidates: candidates.size, key };
    context.stylesheetCache = null; // it grew before the run below could notice
  }
  const root = first.root;
  const result = { messages: [], opts: { from: entry.path } };
  // Tailwind's own order of steps (processTailwindFeatures), with one addition: what @apply
  // generated is forgotten afterwards, so the context holds only the files' classes (a
  // fresh context would not print an applied class as a utility either).
  normalizeTailwindDirectives(root);
  partitionApplyAtRules()(root, result);
  if (kept.current === null) kept.current = freshContext(tailwindConfig.config, root);
  else stripLayers(root);
  const context = kept.current;
  if (context.tailwindConfig.separator === "-") {
    throw new UserError("separator: \"-\" cannot be Tailwind's separator (use \"_\" or keep \":\")");
  }
  context.candidates = candidates;
  await expandTailwindAtRules(context)(root, result);
  const before = [new Set(context.classCache.keys()), new Set(context.candidateRuleCache.keys()),
    new Set(context.ruleCache)];
  partitionApplyAtRules()(root, result);
  expandApplyAtRules(context)(root, result);
  forgetSince(context, before);
  for (const later of LATER_STEPS) later(context)(root, result);
  kept.output = root.toString();
  return { css: kept.output, candidates: candidates.size, key };
}

function forgetSince(context, [classes, candidates, rules]) {
  for (const key of context.classCache.keys()) if (!classes.has(key)) context.classCache.delete(key);
  for (const key of context.candidateRuleCache.keys()) if (!candidates.has(key)) context.candidateRuleCache.delete(key);
  for (const rule of context.ruleCache) if (!rules.has(rule)) context.ruleCache.delete(rule);
}

function prepareSpare(key) {
  const kept = contexts.get(key);
  if (kept === undefined || kept.spare !== null) return;
  kept.spare = freshContext(kept.config, postcss.parse(kept.css));
}

function locate(error, entry, files) {
  const sheets = { ...files, [entry.path]: entry.css };
  // postcss errors (a syntax error, an unknown @apply class) carry the file and line.
  if (error.name === "CssSyntaxError" && typeof error.line === "number") {
    const file = error.file in sheets ? error.file : entry.path;
    const text = sheets[file] ?? "";
    return { message: error.reason, file, line: error.line, column: error.column ?? 0,
             lineText: text.split("\n")[error.line - 1] ?? "" };
  }
  const named = /^(@import "[^"]*")/.exec(error.message)?.[1] ?? /`([^`]+)`/.exec(error.message)?.[1];
  if (named) {
    for (const [file, text] of [[entry.path, entry.css], ...Object.entries(files).filter(([p]) => p.endsWith(".css"))]) {
      const lines = text.split("\n");
      const index = lines.findIndex((l) => l.includes(named));
      if (index >= 0) return { message: error.message, file, line: index + 1, column: lines[index].indexOf(named) + 1, lineText: lines[index] };
    }
  }
  return { message: error.message, file: entry.path, line: 0, column: 0, lineText: "" };
}

const input = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
for await (const line of input) {
  const request = JSON.parse(line);
  let response;
  let key = null;
  try {
    const { key: used, ...answer } = await handle(request);
    key = used;
    response = { id: request.id, ...answer };
  } catch (error) {
    response = { id: request.id, error: locate(error, request.entry, request.files) };
  }
  process.stdout.write(JSON.stringify(response) + "\n");
  if (key !== null) setImmediate(() => { try { prepareSpare(key); } catch {} });
}
