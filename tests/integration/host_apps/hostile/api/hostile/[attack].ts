// Each attack tries to cross a boundary of the sandbox; the tests expect every one refused.
import { fetchWithRetry } from "@stage/utils";

const encoder = new TextEncoder();
declare const process: { env: Record<string, string | undefined> };

async function rawPlatformCall(port: number, sid: string) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(encoder.encode(
    `GET /v1/apps/${sid}/whoami HTTP/1.1\r\nhost: 127.0.0.1\r\n` +
      "authorization: Bearer forged-token\r\nconnection: close\r\n\r\n",
  ));
  const text = await new Response(conn.readable).text();
  const [head, body] = text.split("\r\n\r\n");
  return { status: Number(head.split(" ")[1]), body: JSON.parse(body) };
}

export async function GET(request: Request, { params }: { params: { attack: string } }) {
  const url = new URL(request.url);
  switch (params.attack) {
    case "read-file":
      return new Response(await Deno.readTextFile("/etc/passwd"));
    case "import-file": {
      const path = ["", "etc", "passwd"].join("/");
      return Response.json(await import(path));
    }
    case "fetch-file":
      return await fetch("file:///etc/passwd");
    case "env":
      return Response.json(Deno.env.toObject());
    case "process-env":
      return Response.json({ home: process.env.HOME, keys: Object.keys(process.env) });
    case "spawn": {
      const out = await new Deno.Command("/bin/sh", { args: ["-c", "id"] }).output();
      return new Response(out.stdout);
    }
    case "fetch-loopback":
      return await fetch("https://127.0.0.1:6379/");
    case "fetch-localhost":
      return await fetch("https://localhost/");
    case "fetch-metadata":
      return await fetch("https://169.254.169.254/latest/meta-data/");
    case "fetch-private-name":
      return await fetch("https://public-name.example/");
    case "fetch-rebound":
      return await fetch("https://rebound.example/");
    case "fetch-http":
      return await fetch("http://example.com/");
    case "retry-refused":
      return await fetchWithRetry("https://127.0.0.1/", {}, { retries: 5, backoff: 2000 });
    case "connect-redis": {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: 6379 });
      return new Response(String(conn.remoteAddr));
    }
    case "fetch-count": {
      let last = "";
      for (let i = 0; i < 10; i++) {
        try {
          await fetch("https://public-name.example/");
        } catch (error) {
          last = String(error);
        }
      }
      return new Response(last);
    }
    case "infinite-loop":
      for (;;) {
        // spins until the host's deadline kills the process
      }
    case "promise-bomb": {
      const bomb = (): Promise<void> => Promise.resolve().then(() => { bomb(); bomb(); });
      bomb();
      await new Promise(() => {});
      return new Response("unreachable");
    }
    case "heap": {
      const keep: unknown[] = [];
      for (;;) keep.push(new Array(1_000_000).fill(keep.length));
    }
    case "buffer-2gb": {
      const buffer = new Uint8Array(2 * 1024 ** 3);
      buffer.fill(1);
      return Response.json({ length: buffer.length });
    }
    case "local-storage":
      // deno-lint-ignore no-explicit-any
      (globalThis as any).localStorage.setItem("kept", "between requests");
      return new Response("stored");
    case "caches":
      // deno-lint-ignore no-explicit-any
      return Response.json(await (globalThis as any).caches.open("kept"));
    case "platform":
      return Response.json(await rawPlatformCall(Number(url.searchParams.get("port")),
        url.searchParams.get("sid") ?? ""));
    default:
      return new Response("no such attack", { status: 404 });
  }
}
