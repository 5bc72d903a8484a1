// @stage/compute: the app's own functions over its own tables. Files /compute/<module>.ts
// export functions made with `query`, `mutation` or `action`; a route calls them by name
// (`compute.query("tasks", "list", args)`). The function runs here, in the route's
// process; every `ctx.db` call goes to the host (POST compute/db), which keeps the app's
// documents and holds a mutation's transaction until `compute/commit` or `compute/abort`.
import { call, PlatformError } from "./stage-platform.js";

const DEFINED = Symbol.for("stage.compute.function");

/** A refusal of @stage/compute: bad arguments, an unknown function, a limit. `status` is
 * the HTTP status a route that lets it escape answers with. */
export class ComputeError extends Error {
  constructor(message, status = 400) {
    super(message);
    this.name = "ComputeError";
    this.status = status;
  }
}

function define(kind, definition) {
  let handler = definition;
  let args;
  if (typeof definition !== "function") {
    handler = definition?.handler;
    args = definition?.args;
  }
  if (typeof handler !== "function") {
    throw new TypeError(`${kind}() takes a handler (ctx, args) => … or { args, handler }`);
  }
  const fn = (ctx, input) => handler(ctx, input);
  fn[DEFINED] = { kind, handler, args };
  return fn;
}

export const query = (definition) => define("query", definition);
export const mutation = (definition) => define("mutation", definition);
export const action = (definition) => define("action", definition);
export const internalQuery = query;
export const internalMutation = mutation;
export const internalAction = action;

class TableDefinition {
  constructor(fields) {
    this.fields = fields ?? {};
    this.indexes = {};
  }

  index(name, fields) {
    if (!Array.isArray(fields) || fields.length === 0) {
      throw new TypeError(`index ${name}: name its fields, e.g. .index("by_status", ["status"])`);
    }
    this.indexes[name] = fields.map(String);
    return this;
  }
}

/** A table's document fields (validators, not enforced by the host) and its indexes. */
export const defineTable = (fields) => new TableDefinition(fields);
/** The app's tables: `export default defineSchema({ tasks: defineTable({…}).index(…) })`. */
export const defineSchema = (tables) => ({ tables });

// --- installed by the harness: the app's compute modules, by name ---------------------

let modules = {};
let schemaSent = null;

export function installCompute(installed) {
  modules = installed ?? {};
  schemaSent = null;
}

function declaredSchema() {
  const schema = modules.schema?.default;
  if (!schema?.tables) return null;
  const tables = {};
  for (const [name, table] of Object.entries(schema.tables)) {
    tables[name] = { indexes: { ...(table?.indexes ?? {}) } };
  }
  return { tables };
}

function ensureSchema() {
  if (schemaSent === null) {
    const schema = declaredSchema();
    schemaSent = schema === null ? Promise.resolve() : call("compute", "schema", schema);
    schemaSent.catch(() => { schemaSent = null; });
  }
  return schemaSent;
}

function lookup(module, name) {
  const file = modules[module];
  if (file === undefined || module === "schema") {
    const known = Object.keys(modules).filter((m) => m !== "schema");
    throw new ComputeError(
      `no compute module "${module}": add /compute/${module}.ts` +
        (known.length ? ` (this app has ${known.join(", ")})` : ""),
      404,
    );
  }
  const fn = file[name];
  if (typeof fn !== "function" || fn[DEFINED] === undefined) {
    const known = Object.keys(file).filter((k) => file[k]?.[DEFINED] !== undefined);
    throw new ComputeError(
      `/compute/${module}.ts exports no function "${name}" made with query, mutation or action` +
        (known.length ? ` (it has ${known.join(", ")})` : ""),
      404,
    );
  }
  return fn[DEFINED];
}

function describe(issue) {
  const path = (issue.path ?? []).join(".");
  return `${path || "(arguments)"}: ${issue.message}`;
}

function validate(label, validator, input) {
  if (validator === undefined || validator === null) return input;
  const check = (schema, value, at) => {
    if (typeof schema?.safeParse !== "function") return value;
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    const issues = (result.error?.issues ?? [{ message: String(result.error) }]).map((i) =>
      describe({ ...i, path: [...at, ...(i.path ?? [])] })
    );
    throw new ComputeError(`${label}: bad arguments: ${issues.join("; ")}`, 400);
  };
  if (typeof validator.safeParse === "function") return check(validator, input, []);
  // Convex's shape: { field: validator, … }
  const value = input ?? {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ComputeError(`${label}: bad arguments: expected an object`, 400);
  }
  const out = {};
  for (const key of Object.keys(value)) {
    if (!(key in validator)) {
      throw new ComputeError(`${label}: bad arguments: ${key}: not an argument of this function`);
    }
  }
  for (const [key, schema] of Object.entries(validator)) {
    const checked = check(schema, value[key], [key]);
    if (checked !== undefined) out[key] = checked;
  }
  return out;
}

// --- ctx.db ---------------------------------------------------------------------------

/** Sends db operations to the host, those issued in one tick as one request. A mutation's
 * first request opens its transaction; the rest name it. */
class Channel {
  constructor(kind) {
    this.kind = kind;
    this.tx = null;
    this.pending = [];
    this.chain = Promise.resolve();
    this.closed = false;
  }

  send(op) {
    if (this.closed) {
      return Promise.reject(new ComputeError("ctx.db is used after its function returned"));
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ op, resolve, reject });
      if (this.pending.length === 1) queueMicrotask(() => this.flush());
    });
  }

  flush() {
    const batch = this.pending;
    this.pending = [];
    this.chain = this.chain.then(async () => {
      const body = { ops: batch.map((b) => b.op) };
      if (this.kind === "mutation") {
        if (this.tx === null) body.begin = "mutation";
        else body.tx = this.tx;
      }
      try {
        const answer = await call("compute", "db", body);
        if (answer.tx) this.tx = answer.tx;
        batch.forEach((b, i) => b.resolve(answer.results[i]));
      } catch (error) {
        const refusal = error instanceof PlatformError
          ? new ComputeError(error.message.replace(/^compute\.db: /, ""), error.status)
          : error;
        batch.forEach((b) => b.reject(refusal));
      }
    });
  }

  async finish(commit) {
    this.closed = true;
    await this.chain;
    if (this.tx === null) return;
    const tx = this.tx;
    this.tx = null;
    if (commit) {
      try {
        await call("compute", "commit", { tx });
      } catch (error) {
        throw error instanceof PlatformError
          ? new ComputeError(error.message.replace(/^compute\.commit: /, ""), error.status)
          : error;
      }
    } else {
      await call("compute", "abort", { tx }).catch(() => {});
    }
  }
}

const field = (name) => ({ $field: String(name) });
const literal = (value) =>
  value !== null && typeof value === "object" && ("$field" in value || "$op" in value)
    ? value
    : { $literal: value === undefined ? null : value };
const node = (op, ...args) => ({ $op: op, args: args.map(literal) });

const FILTER = {
  field,
  eq: (a, b) => node("eq", a, b),
  neq: (a, b) => node("neq", a, b),
  lt: (a, b) => node("lt", a, b),
  lte: (a, b) => node("lte", a, b),
  gt: (a, b) => node("gt", a, b),
  gte: (a, b) => node("gte", a, b),
  and: (...xs) => node("and", ...xs),
  or: (...xs) => node("or", ...xs),
  not: (x) => node("not", x),
};

class IndexRange {
  constructor() {
    this.fields = [];
  }
  eq(name, value) {
    this.fields.push([String(name), value === undefined ? null : value]);
    return this;
  }
}

class Query {
  #channel;
  #spec;
  constructor(channel, table) {
    this.#channel = channel;
    this.#spec = { op: "query", table, order: "asc" };
  }

  withIndex(name, range) {
    const built = new IndexRange();
    if (typeof range === "function") range(built);
    this.#spec.index = { name: String(name), eq: built.fields };
    return this;
  }

  filter(predicate) {
    const expr = predicate(FILTER);
    this.#spec.filter = this.#spec.filter ? node("and", this.#spec.filter, expr) : expr;
    return this;
  }

  order(direction) {
    if (direction !== "asc" && direction !== "desc") {
      throw new ComputeError(`order takes "asc" or "desc", not ${JSON.stringify(direction)}`);
    }
    this.#spec.order = direction;
    return this;
  }

  take(n) {
    if (!Number.isInteger(n) || n < 0) throw new ComputeError(`take(n) needs a whole n >= 0`);
    return this.#channel.send({ ...this.#spec, limit: n });
  }

  async first() {
    const [doc] = await this.#channel.send({ ...this.#spec, limit: 1 });
    return doc ?? null;
  }

  async unique() {
    const docs = await this.#channel.send({ ...this.#spec, limit: 2 });
    if (docs.length > 1) throw new ComputeError(`unique(): more than one document matches`);
    return docs[0] ?? null;
  }

  collect() {
    return this.#channel.send({ ...this.#spec });
  }

  async *[Symbol.asyncIterator]() {
    yield* await this.collect();
  }
}

function reader(channel) {
  return {
    get: (id) => channel.send({ op: "get", id }),
    query: (table) => new Query(channel, table),
  };
}

function writer(channel) {
  return {
    ...reader(channel),
    insert: (table, doc) => channel.send({ op: "insert", table, doc }),
    patch: (id, fields) => channel.send({ op: "patch", id, fields }),
    replace: (id, doc) => channel.send({ op: "replace", id, doc }),
    delete: (id) => channel.send({ op: "delete", id }),
  };
}

// --- running a function -----------------------------------------------------------------

function reference(args) {
  // ("tasks", "list", args) or ("tasks:list", args)
  if (typeof args[1] === "string" && typeof args[0] === "string") return [args[0], args[1], args[2]];
  const [module, name] = String(args[0]).split(":");
  return [module, name ?? "default", args[1]];
}

async function run(kind, module, name, input) {
  const label = `${module}:${name}`;
  const fn = lookup(module, name);
  if (fn.kind !== kind) {
    throw new ComputeError(`${label} is a ${fn.kind}; call it with compute.${fn.kind}`);
  }
  const args = validate(label, fn.args, input ?? {});
  await ensureSchema();
  if (kind === "action") {
    return await fn.handler(actionContext(), args);
  }
  const channel = new Channel(kind);
  const ctx = { db: kind === "mutation" ? writer(channel) : reader(channel) };
  let result;
  try {
    result = await fn.handler(ctx, args);
  } catch (error) {
    await channel.finish(false);
    throw error;
  }
  await channel.finish(kind === "mutation");
  return result;
}

function actionContext() {
  return {
    runQuery: (...ref) => run("query", ...reference(ref)),
    runMutation: (...ref) => run("mutation", ...reference(ref)),
    runAction: (...ref) => run("action", ...reference(ref)),
  };
}

export const compute = {
  /** Runs a query (reads only): `compute.query("tasks", "list", { status: "active" })`. */
  query: (...ref) => run("query", ...reference(ref)),
  /** Runs a mutation: all its writes or none, one mutation of the app at a time. */
  mutation: (...ref) => run("mutation", ...reference(ref)),
  /** Runs an action: no ctx.db; `fetch`, `inference`, `ctx.runQuery`/`ctx.runMutation`. */
  action: (...ref) => run("action", ...reference(ref)),
};

export default compute;
