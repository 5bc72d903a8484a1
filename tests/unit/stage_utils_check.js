// Checks @stage/utils against a scripted fetch; run by tests/unit/test_stage_utils.py with
// the pinned Deno. Prints one JSON object with what each case observed.
import { batchedMap, fetchWithRetry, retryAfterMs } from "../../worker/host/runtime/stage-utils.js";

const calls = [];
function script(answers) {
  calls.length = 0;
  globalThis.fetch = async (url) => {
    calls.push([url, Date.now()]);
    const next = answers.shift();
    if (next instanceof Error) throw next;
    return new Response(next.body ?? "", { status: next.status, headers: next.headers ?? {} });
  };
}

const out = {};
script([{ status: 503 }, new TypeError("connection reset"), { status: 429, headers: { "retry-after": "0" } },
  { status: 200, body: "done" }]);
const ok = await fetchWithRetry("https://api.example/x", {}, { retries: 3, backoff: 1 });
out.retried = { status: ok.status, body: await ok.text(), calls: calls.length };

script([{ status: 500 }, { status: 500 }, { status: 500 }]);
const spent = await fetchWithRetry("https://api.example/x", {}, { retries: 2, backoff: 1 });
out.spent = { status: spent.status, calls: calls.length };

script([{ status: 404 }]);
const notRetried = await fetchWithRetry("https://api.example/x", {}, { retries: 3, backoff: 1 });
out.notRetried = { status: notRetried.status, calls: calls.length };

script([new TypeError("fetch https://127.0.0.1/: refused: 127.0.0.1 is a loopback address")]);
try {
  await fetchWithRetry("https://127.0.0.1/", {}, { retries: 3, backoff: 1 });
} catch (error) {
  out.refused = { message: error.message, calls: calls.length };
}

script([{ status: 429, headers: { "retry-after": "0.2" } }, { status: 200 }]);
const started = Date.now();
await fetchWithRetry("https://api.example/x", {}, { retries: 1, backoff: 5000 });
out.retryAfterWaitMs = Date.now() - started;
out.retryAfterDate = retryAfterMs(new Date(Date.now() + 3000).toUTCString()) > 1000;

let running = 0;
let peak = 0;
const doubled = await batchedMap([1, 2, 3, 4, 5, 6, 7], async (n, i) => {
  running += 1;
  peak = Math.max(peak, running);
  await new Promise((r) => setTimeout(r, 5 * (7 - i)));
  running -= 1;
  return n * 2;
}, { concurrency: 3 });
out.concurrency = { doubled, peak };

const batches = [];
await batchedMap([1, 2, 3, 4, 5], async (n) => { batches.push(n); return n; }, { batchSize: 2 });
out.batches = batches;
console.log(JSON.stringify(out));
