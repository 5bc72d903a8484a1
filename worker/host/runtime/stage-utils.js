// @stage/utils: helpers for API routes, plain JavaScript over the sandbox's fetch.

const RETRY_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);
const MAX_RETRY_AFTER_MS = 30_000; // a server asking for longer is not worth a request's wait

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Milliseconds a Retry-After header asks for (seconds or an HTTP date), or null. */
export function retryAfterMs(value, now = Date.now()) {
  if (value === null || value === undefined || value === "") return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/**
 * fetch, retried on network errors, 408/425/429 and 5xx. `backoff` is the first wait in
 * milliseconds, doubled each attempt; a Retry-After header wins when it is shorter than
 * 30 s. The last answer (or error) is returned (or thrown) once `retries` are spent.
 */
export async function fetchWithRetry(url, init = {}, { retries = 3, backoff = 200 } = {}) {
  let attempt = 0;
  for (;;) {
    let response;
    try {
      response = await fetch(url, init);
    } catch (error) {
      // A refused address is policy, not a passing fault: retrying cannot help.
      if (attempt >= retries || String(error?.message).includes("refused:")) throw error;
      await sleep(backoff * 2 ** attempt);
      attempt += 1;
      continue;
    }
    if (!RETRY_STATUSES.has(response.status) || attempt >= retries) return response;
    const asked = retryAfterMs(response.headers.get("retry-after"));
    await response.body?.cancel();
    const wait = asked !== null && asked <= MAX_RETRY_AFTER_MS ? asked : backoff * 2 ** attempt;
    await sleep(wait);
    attempt += 1;
  }
}

/**
 * `fn` over `items`, at most `concurrency` at once (or in batches of `batchSize`, each
 * batch finished before the next starts); results in the order of `items`.
 */
export async function batchedMap(items, fn, { batchSize, concurrency } = {}) {
  const list = Array.from(items);
  const results = new Array(list.length);
  if (batchSize !== undefined) {
    if (!(batchSize >= 1)) throw new RangeError("batchSize must be at least 1");
    for (let start = 0; start < list.length; start += batchSize) {
      const batch = list.slice(start, start + batchSize);
      const done = await Promise.all(batch.map((item, i) => fn(item, start + i)));
      done.forEach((value, i) => (results[start + i] = value));
    }
    return results;
  }
  const width = concurrency ?? 4;
  if (!(width >= 1)) throw new RangeError("concurrency must be at least 1");
  let next = 0;
  async function lane() {
    while (next < list.length) {
      const index = next++;
      results[index] = await fn(list[index], index);
    }
  }
  await Promise.all(Array.from({ length: Math.min(width, list.length) }, lane));
  return results;
}
