"""The route contract at render time: handlers recorded per route, what cannot run refused."""

from __future__ import annotations

import json

import pytest

from bundler import ComputeModule, Route

APP = "export default function App() { return <h1>hi</h1>; }\n"


def test_routes_record_the_methods_they_export(build):
    bundle = build(
        {
            "/app/App.tsx": APP,
            "/api/tasks/index.ts": "export function GET() { return Response.json([]); }\n"
            "export async function POST(req: Request) {\n"
            "  return Response.json(await req.json(), { status: 201 });\n}\n",
            "/api/tasks/[id].ts": "export const GET = (_r: Request, { params }) =>\n"
            "  Response.json(params);\n"
            "export function DELETE() { return new Response(null, "
            "{ status: 204 }); }\n",
            "/api/echo.ts": "export default {\n"
            "  fetch(req: Request) { return new Response(req.method); },\n};\n",
        }
    )
    assert bundle.page.routes == [
        Route("/api/echo", "/api/echo.ts", "server/api/echo.js", ("fetch",)),
        Route(
            "/api/tasks/[id]", "/api/tasks/[id].ts", "server/api/tasks/[id].js", ("GET", "DELETE")
        ),
        Route("/api/tasks", "/api/tasks/index.ts", "server/api/tasks/index.js", ("GET", "POST")),
    ]
    listed = json.loads(json.dumps(bundle.page.to_dict()))["routes"]
    assert listed[2] == {
        "route": "/api/tasks",
        "source": "/api/tasks/index.ts",
        "path": "server/api/tasks/index.js",
        "methods": ["GET", "POST"],
    }
    server = {a.path: a.content.decode() for a in bundle.artifacts if a.kind == "server"}
    # A source map (mappings only) lets the sandbox name the session file of an error.
    assert "sourceMappingURL=data:application/json;base64," in server["server/api/echo.js"]


def test_compute_modules_are_bundled_for_the_server_and_listed(build):
    bundle = build(
        {
            "/app/App.tsx": APP,
            "/compute/schema.ts": 'import { defineSchema, defineTable } from "@stage/compute";\n'
            "export default defineSchema({ tasks: defineTable({}) });\n",
            "/compute/tasks.ts": 'import { query } from "@stage/compute";\n'
            'import { z } from "zod";\n'
            'import { pick } from "./_shared";\n'
            "export const list = query({ args: z.object({ s: z.string() }),\n"
            '  handler: async (ctx, { s }) => pick(await ctx.db.query("tasks").collect(), s) });\n',
            "/compute/_shared.ts": "export const pick = (xs: any[], s: string) =>\n"
            "  xs.filter((x) => x.status === s);\n",
        }
    )
    # No /api/ route: the compute modules alone get a server build.
    assert bundle.page.routes == []
    assert bundle.page.compute == [
        ComputeModule("schema", "/compute/schema.ts", "server/compute/schema.js"),
        ComputeModule("tasks", "/compute/tasks.ts", "server/compute/tasks.js"),
    ]
    assert json.loads(json.dumps(bundle.page.to_dict()))["compute"][1] == {
        "name": "tasks",
        "source": "/compute/tasks.ts",
        "path": "server/compute/tasks.js",
    }
    server = {a.path: a.content.decode() for a in bundle.artifacts if a.kind == "server"}
    tasks = server["server/compute/tasks.js"]
    # The platform module stays an import the sandbox maps; zod and the helper are inside.
    assert 'from "@stage/compute"' in tasks
    assert "x.status === s" in tasks and "safeParse" in tasks
    assert "server/compute/_shared.js" not in server


def test_the_page_cannot_import_compute_code(build_failure):
    error = build_failure(
        {
            "/app/App.tsx": 'import { list } from "../compute/tasks";\n'
            "export default function App() { return <p>{String(list)}</p>; }\n",
            "/compute/tasks.ts": 'import { query } from "@stage/compute";\n'
            "export const list = query(async () => []);\n",
        }
    )
    messages = [d.message for d in error.diagnostics if d.severity == "error"]
    assert any('cannot import "@stage/compute"' in m for m in messages), messages


def test_a_route_with_no_handler_fails_the_render_at_its_file(build_failure):
    error = build_failure(
        {
            "/app/App.tsx": APP,
            "/api/tasks.ts": "export const items = [1, 2];\n",
        }
    )
    [diagnostic] = [d for d in error.diagnostics if d.severity == "error"]
    assert (diagnostic.file, diagnostic.line) == ("/api/tasks.ts", 1)
    assert diagnostic.message == (
        "/api/tasks.ts is the route /api/tasks but exports no handler; export GET, POST, PUT, "
        "PATCH, DELETE (each (request, {params}) => Response) or a default { fetch }"
    )


@pytest.mark.parametrize(
    ("specifier", "why"),
    [
        ("node:fs", "API routes cannot read or write files; keep data in @stage/compute"),
        ("fs/promises", "API routes cannot read or write files; keep data in @stage/compute"),
        ("node:child_process", "API routes cannot start processes, workers or threads"),
        (
            "node:net",
            "API routes cannot open sockets or servers; call public https:// URLs with "
            "fetch (or fetchWithRetry from @stage/utils)",
        ),
        ("os", "API routes cannot inspect or change the machine they run on"),
    ],
)
def test_node_builtins_the_sandbox_cannot_run_are_refused_at_the_import(
    build_failure, specifier, why
):
    error = build_failure(
        {
            "/app/App.tsx": APP,
            "/api/files.ts": f'import * as mod from "{specifier}";\n'
            "export function GET() { return Response.json(Object.keys(mod)); }\n",
        }
    )
    [diagnostic] = [d for d in error.diagnostics if d.severity == "error"]
    assert (diagnostic.file, diagnostic.line, diagnostic.column) == ("/api/files.ts", 1, 22)
    assert diagnostic.message == f'cannot import "{specifier}": {why}'


def test_builtins_that_need_no_permission_are_imported_by_their_node_name(build):
    bundle = build(
        {
            "/app/App.tsx": APP,
            "/api/hash.ts": 'import { createHash } from "crypto";\n'
            'import { Buffer } from "node:buffer";\n'
            "export function GET() {\n"
            '  return new Response(createHash("sha1").update(Buffer.from("x"))'
            '.digest("hex"));\n}\n',
        }
    )
    [server] = [a.content.decode() for a in bundle.artifacts if a.kind == "server"]
    assert 'from "node:crypto"' in server
    assert 'from "node:buffer"' in server
