// A Stage gateway in Node.js, written from docs/contract.md: it writes the documented Redis
// keys with the shipped Lua scripts (worker/state/lua/*.lua, read as files), sends the documented
// Celery message, and checks what it reads against docs/schema/*.json. Nothing else of the
// worker's code is used.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import Ajv2020 from "ajv/dist/2020.js";
import { commandOptions, createClient } from "redis";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const LUA = join(ROOT, "worker", "state", "lua");
const SCHEMAS = join(ROOT, "docs", "schema");

// The contract's defaults (docs/contract.md §1, "Limits").
export const LIMITS = {
  maxFiles: 500, maxFileBytes: 2 * 1024 * 1024, maxSessionBytes: 20 * 1024 * 1024,
  maxPathLength: 256, maxScopes: 50, maxNameLength: 200,
};
const TERMINAL = new Set(["ready", "failed", "superseded"]);

export class InvalidInput extends Error {}

// -- the character rules (docs/contract.md §1, "Paths") ---------------------------------
export const FORBIDDEN_CATEGORIES = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u;
const FORBIDDEN_CHARACTERS = new Set('\\:*?"<>|#%');
const SPACE_SEPARATOR = /^\p{Zs}|\p{Zs}$/u;

export function validatePath(path) {
  if (typeof path !== "string") throw new InvalidInput(`file path ${path}: must be a string`);
  if ([...path].length > LIMITS.maxPathLength) throw new InvalidInput(`"${path}": too long`);
  if (!path.startsWith("/")) throw new InvalidInput(`"${path}": paths must be absolute`);
  for (const char of path) {
    if (FORBIDDEN_CATEGORIES.test(char)) {
      throw new InvalidInput(`"${path}": control or invisible character U+` +
                             char.codePointAt(0).toString(16).toUpperCase().padStart(4, "0"));
    }
    if (FORBIDDEN_CHARACTERS.has(char)) throw new InvalidInput(`"${path}": may not contain ${char}`);
  }
  if (path.normalize("NFC") !== path) throw new InvalidInput(`"${path}": not NFC`);
  for (const segment of path.slice(1).split("/")) {
    if (segment === "" || segment === "." || segment === "..") {
      throw new InvalidInput(`"${path}": empty, "." or ".." segment`);
    }
    if (SPACE_SEPARATOR.test(segment)) throw new InvalidInput(`"${path}": segment edge space`);
    if (Buffer.byteLength(segment, "utf8") > 255) throw new InvalidInput(`"${path}": long segment`);
    if (segment === "node_modules") throw new InvalidInput(`"${path}": node_modules`);
  }
  return path;
}

function validateName(name) {
  if (typeof name !== "string" || !name.trim()) throw new InvalidInput("name: must be non-empty");
  if ([...name].length > LIMITS.maxNameLength) throw new InvalidInput("name: too long");
  if (/[\p{Cc}\p{Cs}\p{Zl}\p{Zp}]/u.test(name)) throw new InvalidInput("name: control character");
  return name.trim();
}

const URI_CHARACTERS = /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&()*+,;=]|%[0-9A-Fa-f]{2})*$/;

function validateScopes(scopes) {
  const unique = [...new Set(scopes)];
  if (unique.length > LIMITS.maxScopes) throw new InvalidInput("googleScopes: too many");
  for (const scope of unique) {
    let url = null;
    try { url = new URL(scope); } catch { /* not a URL */ }
    if (typeof scope !== "string" || scope.length > 2048 || !URI_CHARACTERS.test(scope)
        || !url || url.protocol !== "https:" || !url.hostname) {
      throw new InvalidInput(`googleScopes: "${scope}" is not an https:// URL`);
    }
  }
  return unique;
}

// Code-point order, as the contract sorts paths: UTF-8 bytes compare the same way.
const byCodePoint = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));

// -- the gateway -----------------------------------------------------------------------
export class Gateway {
  // `broker` replaces the broker's client (anything with connect, lPush and quit).
  constructor({ redisUrl, brokerUrl = redisUrl, prefix = "stage:", queue = "stage.render",
                broker = null }) {
    this.prefix = prefix;
    this.queue = queue;
    this.redis = createClient({ url: redisUrl });
    this.broker = broker ?? (brokerUrl === redisUrl ? this.redis : createClient({ url: brokerUrl }));
    this.lua = Object.fromEntries(
      ["create_session", "set_if_exists", "push_files", "request_render", "fail_queued"]
        .map(name => [name, readFileSync(join(LUA, `${name}.lua`), "utf8")]));
    const ajv = new Ajv2020({ strict: false });
    this.schemas = {};
    for (const name of ["session", "session-status", "file-content", "render-record",
                        "check", "app-version", "channels", "channel-entry", "task-message"]) {
      this.schemas[name] = ajv.compile(JSON.parse(readFileSync(join(SCHEMAS, `${name}.json`))));
    }
  }

  async connect() {
    await this.redis.connect();
    if (this.broker !== this.redis) await this.broker.connect();
  }

  async close() {
    await this.redis.quit();
    if (this.broker !== this.redis) await this.broker.quit();
  }

  valid(schema, document) {
    if (!this.schemas[schema](document)) {
      throw new Error(`${schema}: ${JSON.stringify(this.schemas[schema].errors)}`);
    }
    return document;
  }

  keys(id) {
    const base = `${this.prefix}session:{${id}}`;
    return { session: base, files: `${base}:files`, binary: `${base}:binary`,
             version: `${base}:version`, renders: `${base}:renders`, live: `${base}:live`,
             events: `${base}:events` };
  }

  // EVAL of a shipped script (EVALSHA works the same; EVAL keeps this short).
  script(name, keys, args, options) {
    const command = ["EVAL", this.lua[name], String(keys.length), ...keys,
                     ...args.map(a => (Buffer.isBuffer(a) ? a : String(a)))];
    return options ? this.redis.sendCommand(command, options) : this.redis.sendCommand(command);
  }

  async createSession({ name }) {
    const id = randomBytes(16).toString("hex");
    await this.script("create_session", [this.keys(id).session],
                      [validateName(name), new Date().toISOString()]);
    return this.valid("session", { id, name: validateName(name) });
  }

  async setGoogleScopes(id, scopes) {
    const valid = validateScopes(scopes);
    const found = await this.script("set_if_exists", [this.keys(id).session],
                                    ["googleScopes", JSON.stringify(valid)]);
    if (found !== 1) throw new Error(`no session ${id}`);
    return valid;
  }

  async pushFiles(id, files) {
    const keys = this.keys(id);
    const pushed = files.map(({ path, content, encoding = "utf-8" }) => {
      validatePath(path);
      const data = encoding === "base64" ? Buffer.from(content, "base64")
                                         : Buffer.from(content, "utf8");
      if (data.length > LIMITS.maxFileBytes) throw new InvalidInput(`"${path}": too large`);
      return { path, data, binary: encoding === "base64" ? "1" : "0" };
    });
    // Stored paths that break the rules are removed in the same script (a repair).
    const stored = await this.redis.hKeys(keys.files);
    const broken = stored.filter(p => { try { validatePath(p); return false; } catch { return true; } });
    const paths = new Set([...stored.filter(p => !broken.includes(p)), ...pushed.map(f => f.path)]);
    for (const path of paths) {
      for (let parent = path.slice(0, path.lastIndexOf("/")); parent;
           parent = parent.slice(0, parent.lastIndexOf("/"))) {
        if (paths.has(parent)) throw new InvalidInput(`"${path}": "${parent}" is a file`);
      }
    }
    const args = [LIMITS.maxFiles, LIMITS.maxSessionBytes, broken.length, ...broken];
    for (const f of pushed) args.push(f.path, f.data, f.binary);
    const [outcome, value] = await this.script("push_files",
                                               [keys.session, keys.files, keys.binary], args);
    if (outcome < 0) throw new InvalidInput(`push refused: ${outcome} (${value})`);
  }

  queuedRecord(now) {
    return { status: "queued", requestedAt: now, startedAt: null, finishedAt: null,
             attempts: 0, timingsMs: {}, inputHash: null, indexKey: null, url: null,
             error: null, warnings: [], check: null };
  }

  async render(id) {
    const keys = this.keys(id);
    const rest = JSON.stringify(this.queuedRecord(new Date().toISOString()));
    const version = await this.script("request_render",
                                      [keys.session, keys.version, keys.renders],
                                      ['{"version": ', ", " + rest.slice(1)]);
    if (version === 0) throw new Error(`no session ${id}`);
    const message = this.valid("task-message", envelope(this.queue, id, version));
    try {
      await this.broker.lPush(this.queue, JSON.stringify(message));
    } catch (error) {
      const failed = { version, ...this.queuedRecord(new Date().toISOString()),
                       status: "failed", finishedAt: new Date().toISOString(),
                       error: { kind: "infrastructure", message: `could not queue: ${error}`,
                                diagnostics: [] } };
      if (await this.script("fail_queued", [keys.renders], [version, JSON.stringify(failed)]) === 1) {
        await this.redis.publish(keys.events, String(version));
      }
      throw error;
    }
    return this.valid("render-record", JSON.parse(await this.redis.hGet(keys.renders, String(version))));
  }

  async record(id, version) {
    const raw = await this.redis.hGet(this.keys(id).renders, String(version));
    return raw === null ? null : this.valid("render-record", JSON.parse(raw));
  }

  async waitForRender(id, version, { timeoutMs = 60000, check = false } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const record = await this.record(id, version);
      const done = check ? record.check !== null || (TERMINAL.has(record.status) && record.status !== "ready")
                         : TERMINAL.has(record.status);
      if (done) return record;
      if (Date.now() > deadline) throw new Error(`render ${version} still ${record.status}`);
      await new Promise(resolve => setTimeout(resolve, 50));
    }
  }

  async status(id) {
    const keys = this.keys(id);
    const [meta, newest, live, paths] = await this.redis.multi()
      .hGetAll(keys.session).get(keys.version).get(keys.live).hKeys(keys.files).exec();
    if (!meta || Object.keys(meta).length === 0) throw new Error(`no session ${id}`);
    const sizes = paths.length
      ? await Promise.all(paths.map(p => this.redis.hStrLen(keys.files, p))) : [];
    const wanted = [newest, live].filter(v => v !== null);
    const records = wanted.length ? await this.redis.hmGet(keys.renders, wanted) : [];
    const byVersion = Object.fromEntries(wanted.map((v, i) => [v, records[i] && JSON.parse(records[i])]));
    return this.valid("session-status", {
      id, name: meta.name,
      files: paths.map((path, i) => ({ path, size: sizes[i] }))
        .sort((a, b) => byCodePoint(a.path, b.path)),
      googleScopes: JSON.parse(meta.googleScopes ?? "[]"),
      render: newest !== null ? byVersion[newest] ?? null : null,
      live: live !== null ? byVersion[live] ?? null : null,
    });
  }

  async readFile(id, path) {
    const keys = this.keys(id);
    validatePath(path);
    const [exists, binary] = await this.redis.multi()
      .exists(keys.session).sIsMember(keys.binary, path).exec();
    const content = await this.redis.hGet(commandOptions({ returnBuffers: true }),
                                          keys.files, path);
    if (!exists) throw new Error(`no session ${id}`);
    if (content === null) throw new Error(`"${path}": no such file`);
    const file = binary ? { path, content: content.toString("base64"), encoding: "base64" }
                        : { path, content: content.toString("utf8"), encoding: "utf-8" };
    return this.valid("file-content", file);
  }

  // Publishing is done by the Python library (docs/contract.md §7): a gateway reads apps.
  async channels(sid) {
    const base = `${this.prefix}app:{${sid}}`;
    const entries = await this.redis.hGetAll(`${base}:channels`);
    const channel = async name => {
      if (!entries[name]) return null;
      const entry = this.valid("channel-entry", JSON.parse(entries[name]));
      const version = this.valid("app-version", JSON.parse(
        await this.redis.hGet(`${base}:versions`, entry.appVersionSid)));
      return { ...entry, url: version.url };
    };
    return this.valid("channels", { sid, preview: await channel("preview"),
                                    production: await channel("production") });
  }
}

// The Celery message of docs/contract.md §2: id, root_id and correlation_id are one uuid.
export function envelope(queue, sessionId, version, task = "stage.render") {
  const id = randomUUID();
  const kwargs = { session_id: sessionId, version };
  const body = [[], kwargs, { callbacks: null, errbacks: null, chain: null, chord: null }];
  return {
    body: Buffer.from(JSON.stringify(body)).toString("base64"),
    "content-encoding": "utf-8",
    "content-type": "application/json",
    headers: {
      lang: "py", task, id, root_id: id, parent_id: null, group: null, retries: 0,
      eta: null, expires: null, timelimit: [null, null], argsrepr: "()",
      kwargsrepr: JSON.stringify(kwargs), origin: "gateway-node",
    },
    properties: {
      correlation_id: id, reply_to: "", delivery_mode: 2,
      delivery_info: { exchange: "", routing_key: queue },
      priority: 0, body_encoding: "base64", delivery_tag: randomUUID(),
    },
  };
}

export const sha256 = data => createHash("sha256").update(data).digest("hex");
