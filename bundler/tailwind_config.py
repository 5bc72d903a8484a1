"""A session's ``tailwind.config.{js,cjs,mjs,ts}``, evaluated in a sandbox, as JSON data.

The config is session code. It runs in Deno (the binary of the pinned ``deno`` wheel) with
no permission at all: no files, network, environment, processes or system information
(``--no-prompt``, no ``--allow-*``), no remote or npm modules, a V8 heap limit, a CPU-time
and data-size rlimit, a wall-clock deadline, an empty working folder and an empty
environment; one fresh process per evaluation, so nothing survives between sessions. The
packages a config may name (the pinned plugins, ``tailwindcss/defaultTheme`` and
``tailwindcss/colors``) resolve inside the sandbox to markers and to Tailwind v3's data; what
comes out is data only, which the Tailwind v3 service maps back to its pinned plugins. Any
other import, a custom plugin, a config that throws, loops or allocates without end fails
the build with a diagnostic at the config's line.

Evaluations are cached by the config's path and text: a warm render pays nothing.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import posixpath
import re
import resource
import signal
import subprocess
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from bundler.artifacts import Diagnostic
from bundler.errors import BuildFailed, BundlerCrashed

__all__ = [
    "ConfigSandbox",
    "CONFIG_NAMES",
    "ALLOWED_MODULES",
    "PLUGINS",
    "find_config",
    "SANDBOX_SCRIPT",
    "config_imports",
]

_RUNTIME = Path(__file__).resolve().parent / "runtime"
#: The evaluator that runs inside Deno.
SANDBOX_SCRIPT = _RUNTIME / "tailwind-config-sandbox.js"
#: Prints Tailwind v3's default theme and palette (trusted code, run once per process).
_DATA_SCRIPT = _RUNTIME / "tailwind3-data.mjs"

#: File names Tailwind v3 looks for, in its own order.
CONFIG_NAMES = (
    "tailwind.config.js",
    "tailwind.config.cjs",
    "tailwind.config.mjs",
    "tailwind.config.ts",
    "tailwind.config.cts",
    "tailwind.config.mts",
)
#: The plugins a config may use: each is pinned in bundler/runtime.
PLUGINS = (
    "tailwindcss-animate",
    "@tailwindcss/typography",
    "@tailwindcss/forms",
    "@tailwindcss/aspect-ratio",
    "@tailwindcss/container-queries",
)
#: Every specifier a config may import or require.
ALLOWED_MODULES = ("tailwindcss", "tailwindcss/defaultTheme", "tailwindcss/colors", *PLUGINS)
_TYPE_ONLY = re.compile(r"^tailwindcss/types(/.*)?$")

#: A config is a few kilobytes of data; a second of CPU is generous, the wall clock allows
#: for a busy machine.
DEFAULT_CPU_S = 2
DEFAULT_WALL_S = 10.0
#: V8's heap for the config; the data limit also catches what V8 does not count (array
#: buffers), above what Deno itself reserves at start (its code range, ~600 MB of address
#: space counted as data).
DEFAULT_HEAP_MB = 64
_DATA_LIMIT_MB = 768
#: What the sandbox may print (its answer is one line of JSON) before it is cut off.
_OUTPUT_LIMIT_BYTES = 4 << 20
#: Distinct configs kept evaluated per process.
_KEEP = 64

_SPECIFIER = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)(["'])([^"'\n]+)\1""")
_IMPORT_TYPE = re.compile(r"""\bimport\s+type\b[^;]*?\bfrom\s*(["'])([^"'\n]+)\1""")


def find_config(sources: Iterable[str], stylesheet: str) -> str | None:
    """The config Tailwind v3 would use for ``stylesheet``: the nearest folder up, else
    the shallowest config in the session."""
    configs = [p for p in sources if posixpath.basename(p) in CONFIG_NAMES]
    if not configs:
        return None
    folder = posixpath.dirname(stylesheet)
    while True:
        for name in CONFIG_NAMES:
            candidate = posixpath.join(folder, name)
            if candidate in configs:
                return candidate
        if folder == "/":
            break
        folder = posixpath.dirname(folder)
    return min(configs, key=lambda p: (p.count("/"), p))


def config_imports(path: str, text: str) -> list[Diagnostic]:
    """A diagnostic for each module the config names that the sandbox does not provide."""
    type_only = {m.start(2) for m in _IMPORT_TYPE.finditer(text)}
    diagnostics = []
    for match in _SPECIFIER.finditer(text):
        specifier = match[2]
        if specifier in ALLOWED_MODULES or _TYPE_ONLY.match(specifier):
            continue
        if match.start(2) in type_only:
            continue
        line = text.count("\n", 0, match.start()) + 1
        start = text.rfind("\n", 0, match.start()) + 1
        end = text.find("\n", match.start())
        line_text = text[start : end if end >= 0 else len(text)]
        column = match.start(2) - start + 1
        diagnostics.append(Diagnostic(path, line, column, _not_allowed(specifier), line_text))
    return diagnostics


def _not_allowed(specifier: str) -> str:
    if specifier == "tailwindcss/plugin":
        return (
            "custom plugins (tailwindcss/plugin) are not run; a Tailwind config may use "
            f"the plugins {', '.join(PLUGINS)}"
        )
    return (
        f'"{specifier}" cannot be loaded by a Tailwind config; it may load '
        f"{', '.join(ALLOWED_MODULES)}"
    )


class ConfigSandbox:
    """Evaluates Tailwind configs in Deno with no permissions; thread-safe, cached."""

    def __init__(
        self,
        deno: str | None = None,
        node: str = "node",
        cpu_s: int = DEFAULT_CPU_S,
        wall_s: float = DEFAULT_WALL_S,
        heap_mb: int = DEFAULT_HEAP_MB,
    ) -> None:
        self._deno = deno
        self.node = node
        self.cpu_s = cpu_s
        self.wall_s = wall_s
        self.heap_mb = heap_mb
        self._cache: OrderedDict[str, dict[str, Any] | BuildFailed] = OrderedDict()
        self._lock = threading.Lock()
        self.evaluations = 0  # how many configs really ran (the rest came from the cache)

    @cached_property
    def deno(self) -> str:
        """The Deno binary: the pinned wheel's unless one was given."""
        if self._deno is not None:
            return self._deno
        from deno import find_deno_bin  # the wheel ships the binary beside this function

        return str(find_deno_bin())

    def command(self, import_map: Path) -> list[str]:
        """How the sandbox runs: no ``--allow-*`` flag, so every permission is denied."""
        return [
            self.deno,
            "run",
            "--no-prompt",
            "--no-config",
            "--no-remote",
            "--no-npm",
            "--no-lock",
            f"--v8-flags=--max-old-space-size={self.heap_mb}",
            f"--import-map={import_map}",
            str(SANDBOX_SCRIPT),
        ]

    @cached_property
    def _import_map(self) -> str:
        return _import_map(self._data["defaultTheme"], self._data["colors"])

    @cached_property
    def _data(self) -> dict[str, Any]:
        """Tailwind v3's default theme and palette (from the pinned package, by Node)."""
        command = [self.node, str(_DATA_SCRIPT)]
        try:
            done = subprocess.run(
                command, cwd=_RUNTIME, capture_output=True, timeout=60, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BundlerCrashed(
                command, None, f"could not read Tailwind v3's theme: {exc}"
            ) from exc
        if done.returncode != 0:
            raise BundlerCrashed(command, done.returncode, done.stderr.decode("utf-8", "replace"))
        return dict(json.loads(done.stdout))

    def evaluate(self, path: str, text: str) -> dict[str, Any]:
        """The config at ``path`` as data. Raises BuildFailed with a located diagnostic."""
        key = hashlib.sha256(f"{path}\0{text}".encode()).hexdigest()
        with self._lock:
            kept = self._cache.get(key)
            if kept is not None:
                self._cache.move_to_end(key)
        if kept is None:
            kept = self._evaluate(path, text)
            with self._lock:
                self._cache[key] = kept
                while len(self._cache) > _KEEP:
                    self._cache.popitem(last=False)
        if isinstance(kept, BuildFailed):
            raise BuildFailed(kept.message, kept.diagnostics)
        return kept

    def _evaluate(self, path: str, text: str) -> dict[str, Any] | BuildFailed:
        diagnostics = config_imports(path, text)
        if diagnostics:
            return BuildFailed(f"{path} loads what a Tailwind config may not", diagnostics)
        self.evaluations += 1
        request = json.dumps({"path": path, "source": text, **self._data}).encode("utf-8")
        answer, failure = self._run(request)
        if failure is not None:
            return BuildFailed(
                f"{path} could not be evaluated", [Diagnostic(path, 0, 0, failure, "")]
            )
        if "error" in answer:
            error = answer["error"]
            line = int(error.get("line") or 0)
            lines = text.split("\n")
            line_text = lines[line - 1] if 0 < line <= len(lines) else ""
            return BuildFailed(
                f"{path} could not be evaluated",
                [
                    Diagnostic(
                        path,
                        line,
                        int(error.get("column") or 0),
                        str(error.get("message")),
                        line_text,
                    )
                ],
            )
        config = _data(answer.get("config"))
        if not isinstance(config, dict):
            return BuildFailed(
                f"{path} could not be evaluated",
                [Diagnostic(path, 0, 0, "the config exports no object", "")],
            )
        return config

    def _run(self, request: bytes) -> tuple[dict[str, Any], str | None]:
        """Run the sandbox once: (its answer, or a reason it gave none)."""
        with tempfile.TemporaryDirectory(prefix="stage-twconfig-") as folder:
            out_path = Path(folder) / "out"
            work = Path(folder) / "work"
            work.mkdir()
            import_map = Path(folder) / "imports.json"
            import_map.write_text(self._import_map, "utf-8")
            command = self.command(import_map)
            env = {
                "DENO_DIR": str(Path(folder) / "cache"),
                "DENO_NO_UPDATE_CHECK": "1",
                "NO_COLOR": "1",
            }
            with open(out_path, "wb") as out:
                try:
                    proc = subprocess.Popen(
                        command,
                        stdin=subprocess.PIPE,
                        stdout=out,
                        stderr=out,
                        cwd=work,
                        env=env,
                        preexec_fn=self._limits,
                        start_new_session=True,
                    )
                except OSError as exc:
                    raise BundlerCrashed(command, None, f"could not start Deno: {exc}") from exc
                try:
                    proc.communicate(request, timeout=self.wall_s)
                except subprocess.TimeoutExpired:
                    _kill_group(proc)
                    return {}, (
                        f"the config did not finish within {self.wall_s:g} s "
                        "(does it loop forever?)"
                    )
                finally:
                    _kill_group(proc)
            output = out_path.read_bytes()[-_OUTPUT_LIMIT_BYTES:]
            code = proc.returncode
        lines = [line for line in output.decode("utf-8", "replace").split("\n") if line]
        last = lines[-1] if lines else ""
        if code == 0 and last.startswith("{"):
            with contextlib.suppress(ValueError):
                answer = json.loads(last)
                if isinstance(answer, dict):
                    return answer, None
        text = output.decode("utf-8", "replace")
        if code in (-signal.SIGXCPU, -signal.SIGKILL) and "out of memory" not in text:
            return {}, f"the config used more than {self.cpu_s} s of CPU (does it loop forever?)"
        if "out of memory" in text or "allocation failed" in text:
            return {}, f"the config used more than its memory limit ({self.heap_mb} MB heap)"
        if code == -signal.SIGXFSZ:
            return {}, "the config printed more than the sandbox keeps"
        if "Top-level await promise never resolved" in text:
            return {}, "the config awaits something that never comes (a top-level await)"
        # The config ended the process itself (Deno.exit, a fatal error): its own doing. What
        # Deno said may name this machine's paths: those are not the session's business.
        said = re.sub(r"(?:file://)?/\S+", "<sandbox>", last.strip())[:300] or "nothing"
        return {}, f"the config ended the sandbox without an answer (exit code {code}): {said}"

    def _limits(self) -> None:
        # In the child, before exec: what the config can spend, whatever V8's flags say.
        resource.setrlimit(resource.RLIMIT_CPU, (self.cpu_s, self.cpu_s + 1))
        data = _DATA_LIMIT_MB << 20
        resource.setrlimit(resource.RLIMIT_DATA, (data, data))
        output = _OUTPUT_LIMIT_BYTES * 4
        resource.setrlimit(resource.RLIMIT_FSIZE, (output, output))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


#: Keys a JSON merge in the compiler could mistake for an object's prototype.
_UNSAFE_KEYS = frozenset({"__proto__", "constructor", "prototype"})
_MAX_DEPTH = 32


def _data(value: Any, depth: int = 0) -> Any:
    """The config as plain data without prototype keys. The sandbox's answer is the
    config's own output (it can print a line of its choosing), so it is read as untrusted."""
    if depth > _MAX_DEPTH:
        return None
    if isinstance(value, dict):
        return {str(k): _data(v, depth + 1) for k, v in value.items() if k not in _UNSAFE_KEYS}
    if isinstance(value, list):
        return [_data(v, depth + 1) for v in value]
    return value


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _import_map(default_theme: Mapping[str, Any], colors: Mapping[str, Any]) -> str:
    """The import map's text: each allowed module is a data: module the evaluator fills."""

    def module(name: str, names: Iterable[str]) -> str:
        exports = [n for n in names if re.fullmatch(r"[A-Za-z_$][\w$]*", n)]
        code = f"const m = globalThis.__stageModule({json.dumps(name)});\nexport default m;\n"
        if exports:
            code += f"export const {{ {', '.join(exports)} }} = m;\n"
        return "data:text/javascript;base64," + base64.b64encode(code.encode()).decode()

    imports = {name: module(name, ()) for name in ALLOWED_MODULES}
    imports["tailwindcss/defaultTheme"] = module("tailwindcss/defaultTheme", default_theme)
    imports["tailwindcss/colors"] = module("tailwindcss/colors", colors)
    return json.dumps({"imports": imports}, indent=1, sort_keys=True) + "\n"
