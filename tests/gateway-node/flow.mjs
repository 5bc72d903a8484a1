// The SDK's example flow through the Node.js gateway, against a real worker.
//   node flow.mjs session            create, scopes, push, render (and its boot check),
//                                    status, readFile, the page fetched over HTTP
//   node flow.mjs channels <sid>     read an app's channels (apps are published in Python)
//   node flow.mjs unsent             render with a broker that refuses the message
// Configuration: STAGE_REDIS_URL, STAGE_BROKER_URL (optional), STAGE_KEY_PREFIX, STAGE_QUEUE.
// Prints one JSON object: what the flow saw.
import { Gateway } from "./gateway.mjs";

const APP = `export default function App() {
  return <h1>Hello from ShiftCal</h1>;
}
`;
const DOT = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]);
const env = process.env;

const command = process.argv[2];
const refusing = { connect: async () => {}, quit: async () => {},
                   lPush: async () => { throw new Error("broker down"); } };
const gateway = new Gateway({
  redisUrl: env.STAGE_REDIS_URL, brokerUrl: env.STAGE_BROKER_URL || env.STAGE_REDIS_URL,
  prefix: env.STAGE_KEY_PREFIX, queue: env.STAGE_QUEUE,
  broker: command === "unsent" ? refusing : null,
});

async function session() {
  const { id } = await gateway.createSession({ name: "my-app" });
  await gateway.setGoogleScopes(id, ["https://www.googleapis.com/auth/drive.readonly"]);
  await gateway.pushFiles(id, [
    { path: "/app/App.tsx", content: APP },
    { path: "/public/dot.bin", content: DOT.toString("base64"), encoding: "base64" },
  ]);
  const queued = await gateway.render(id);
  const record = await gateway.waitForRender(id, queued.version);
  const checked = await gateway.waitForRender(id, queued.version, { check: true });
  const status = await gateway.status(id);
  const file = await gateway.readFile(id, "/app/App.tsx");
  const binary = await gateway.readFile(id, "/public/dot.bin");
  const page = record.url ? await fetch(record.url) : null;
  return {
    sessionId: id, queued, record, check: checked.check, status,
    readBack: file.content === APP, binaryReadBack: binary.content === DOT.toString("base64"),
    page: page && { status: page.status, type: page.headers.get("content-type"),
                    body: await page.text() },
  };
}

async function unsent() {
  const { id } = await gateway.createSession({ name: "never sent" });
  await gateway.pushFiles(id, [{ path: "/app/App.tsx", content: APP }]);
  let refused = null;
  try { await gateway.render(id); } catch (error) { refused = String(error); }
  return { sessionId: id, refused, record: await gateway.record(id, 1) };
}

async function channels(sid) {
  const read = await gateway.channels(sid);
  const page = read.preview ? await fetch(read.preview.url) : null;
  return { channels: read, page: page && { status: page.status, body: await page.text() } };
}

await gateway.connect();
try {
  const args = process.argv.slice(3);
  const result = command === "channels" ? await channels(...args)
    : command === "unsent" ? await unsent() : await session();
  process.stdout.write(JSON.stringify(result) + "\n");
} finally {
  await gateway.close();
}
