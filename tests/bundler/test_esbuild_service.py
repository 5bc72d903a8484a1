"""The esbuild service: reused between builds; a crash or a hang becomes an infrastructure error."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bundler import (
    DEFAULT_BUILD_TIMEOUT_S,
    Bundler,
    BundlerCrashed,
    BundlerTimeout,
    BundlerUnavailable,
    Runtime,
    SourceFile,
)

VERSION = Runtime().esbuild_version
APP = [SourceFile("/app/App.tsx", b"export default function App() { return <h1>hi</h1>; }\n")]

# Every fake records its pid beside itself, so a test can tell whether it was killed.
PRELUDE = """\
import os, struct, sys, time
with open(os.path.join(os.path.dirname(__file__), "pid"), "w") as f:
    f.write(str(os.getpid()))
def packet(body):
    sys.stdout.buffer.write(struct.pack("<I", len(body)) + body)
    sys.stdout.buffer.flush()
"""


def fake_esbuild(folder: Path, script: str) -> Path:
    """An executable named esbuild in ``folder`` that runs ``script`` (Python) instead."""
    binary = folder / "esbuild"
    binary.write_text(f"#!{sys.executable}\n{PRELUDE}{script}")
    binary.chmod(0o755)
    return binary


def assert_gone(pid: int) -> None:
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@pytest.fixture
def fresh_bundler() -> Iterator[Bundler]:
    built = Bundler()
    yield built
    built.close()


CRASHES = {
    "exits-at-start": (
        'sys.stderr.write("esbuild: cannot allocate memory\\n")\nsys.exit(3)\n',
        3,
        "esbuild exited during a build\nesbuild: cannot allocate memory",
    ),
    "stderr-after-stdout-closed": (
        'os.close(1)\ntime.sleep(0.2)\nsys.stderr.write("fatal: out of file descriptors\\n")\n'
        "sys.exit(3)\n",
        3,
        "esbuild exited during a build\nfatal: out of file descriptors",
    ),
    "panics-mid-build": (
        f'packet(b"{VERSION}")\nsys.stdin.buffer.read(4)\n'
        'sys.stderr.write("panic: runtime error: index out of range\\n\\ngoroutine 1:\\n")\n'
        "sys.exit(2)\n",
        2,
        "esbuild exited during a build\npanic: runtime error: index out of range\n\ngoroutine 1:",
    ),
}


@pytest.mark.parametrize(("script", "code", "output"), CRASHES.values(), ids=CRASHES.keys())
def test_crashing_esbuild_raises_with_command_exit_code_and_output(tmp_path, script, code, output):
    binary = fake_esbuild(tmp_path, script)
    bundler = Bundler(Runtime(binary_override=binary), timeout_s=10)
    with pytest.raises(BundlerCrashed) as info:
        bundler.build(APP)
    assert str(info.value) == (
        f"command: {binary} --service={VERSION} --ping\nexit code: {code}\noutput: {output}"
    )
    assert isinstance(info.value, BundlerUnavailable)  # retried, not reported as the user's
    assert (info.value.exit_code, info.value.output) == (code, output)
    assert bundler.service.pid is None


def test_garbage_from_esbuild_raises_crashed_and_kills_it(tmp_path):
    binary = fake_esbuild(
        tmp_path,
        (
            f'packet(b"{VERSION}")\n'
            "sys.stdin.buffer.read(4)\n"
            'packet(b"\\x03\\x00\\x00\\x00\\x09")  # id 1, then a value tag that does not exist\n'
            "time.sleep(600)\n"
        ),
    )
    bundler = Bundler(Runtime(binary_override=binary), timeout_s=10)
    with pytest.raises(BundlerCrashed) as info:
        bundler.build(APP)
    assert "esbuild sent a packet this driver cannot read" in info.value.output
    assert_gone(int((tmp_path / "pid").read_text()))


def test_wrong_version_handshake_raises_crashed_and_kills_it(tmp_path):
    binary = fake_esbuild(tmp_path, 'packet(b"0.0.1")\ntime.sleep(600)\n')
    bundler = Bundler(Runtime(binary_override=binary), timeout_s=10)
    with pytest.raises(BundlerCrashed) as info:
        bundler.build(APP)
    assert info.value.output == f"esbuild binary is '0.0.1', expected '{VERSION}'"
    assert info.value.command == [str(binary), f"--service={VERSION}", "--ping"]
    assert_gone(int((tmp_path / "pid").read_text()))


def test_real_esbuild_refuses_a_runtime_pinned_to_another_version(tmp_path):
    (tmp_path / "package.json").write_text(json.dumps({"dependencies": {"react": "0.0.1"}}))
    pin = tmp_path / "node_modules" / "esbuild" / "package.json"
    pin.parent.mkdir(parents=True)
    pin.write_text(json.dumps({"name": "esbuild", "version": "0.0.1"}))
    bundler = Bundler(Runtime(root=tmp_path, binary_override=Runtime().binary), timeout_s=10)
    with pytest.raises(BundlerCrashed) as info:
        bundler.build(APP)
    assert info.value.exit_code == 1
    assert f'Host version "0.0.1" does not match binary version "{VERSION}"' in info.value.output


def test_missing_binary_raises_crashed_naming_it(tmp_path):
    binary = tmp_path / "no-such-esbuild"
    with pytest.raises(BundlerCrashed) as info:
        Bundler(Runtime(binary_override=binary)).build(APP)
    assert info.value.command[0] == str(binary)
    assert info.value.output.startswith("could not start esbuild: ")
    assert "No such file or directory" in info.value.output


def test_hanging_esbuild_times_out_is_killed_and_a_new_bundler_still_builds(tmp_path):
    binary = fake_esbuild(tmp_path, "time.sleep(600)\n")
    bundler = Bundler(Runtime(binary_override=binary), timeout_s=0.5)
    started = time.monotonic()
    with pytest.raises(BundlerTimeout) as info:
        bundler.build(APP)
    elapsed = time.monotonic() - started
    assert str(info.value) == (
        f"command: {binary} --service={VERSION} --ping\n"
        "esbuild did not finish within 0.5s (build timeout) and was killed"
    )
    assert isinstance(info.value, BundlerUnavailable)
    assert 0.5 <= elapsed < 5
    assert_gone(int((tmp_path / "pid").read_text()))

    healthy = Bundler()
    try:
        assert healthy.build(APP).page.scripts
    finally:
        healthy.close()


@pytest.mark.parametrize("warm", [False, True], ids=["while-starting", "mid-build"])
def test_bundler_recovers_after_a_timeout(fresh_bundler, warm):
    dead_pid = None
    if warm:
        fresh_bundler.build(APP)
        dead_pid = fresh_bundler.service.pid
    fresh_bundler.timeout_s = 0.001 if warm else 0  # a React build takes far longer than 1 ms
    with pytest.raises(BundlerTimeout):
        fresh_bundler.build(APP)
    assert fresh_bundler.service.pid is None
    if dead_pid is not None:
        assert_gone(dead_pid)

    fresh_bundler.timeout_s = DEFAULT_BUILD_TIMEOUT_S
    assert fresh_bundler.build(APP).page.scripts
    assert fresh_bundler.service.pid not in (None, dead_pid)


def test_builds_in_a_row_reuse_one_esbuild_process(fresh_bundler):
    first = fresh_bundler.build(APP)
    pid = fresh_bundler.service.pid
    assert pid is not None
    os.kill(pid, 0)  # alive between builds
    second = fresh_bundler.build(APP)
    assert fresh_bundler.service.pid == pid
    assert [a.sha256 for a in first.artifacts] == [a.sha256 for a in second.artifacts]


def test_close_stops_esbuild_and_the_next_build_starts_another(fresh_bundler):
    fresh_bundler.build(APP)
    pid = fresh_bundler.service.pid
    assert pid is not None
    fresh_bundler.close()
    assert fresh_bundler.service.pid is None
    assert_gone(pid)
    assert fresh_bundler.build(APP).page.scripts
    assert fresh_bundler.service.pid not in (None, pid)


def test_transforms_on_one_service_answer_each_file_in_order(fresh_bundler):
    fresh_bundler.build(APP)
    pid = fresh_bundler.service.pid
    jobs = [
        (
            f"export const v{i} = {'' if i % 7 == 3 else i};\n".encode(),
            ["--log-level=silent", "--loader=ts", f"--sourcefile=app/v{i}.ts"],
        )
        for i in range(40)
    ]  # more than are sent ahead at once
    responses = fresh_bundler.service.transform(jobs, DEFAULT_BUILD_TIMEOUT_S)
    for i, response in enumerate(responses):
        if i % 7 == 3:
            [error] = response["errors"]
            assert (error["text"], error["location"]["file"]) == ('Unexpected ";"', f"app/v{i}.ts")
        else:
            assert response["errors"] == []
            assert response["code"] == f"export const v{i} = {i};\n"
    assert fresh_bundler.service.pid == pid  # the build's service, not another process


def test_the_page_service_runs_with_its_go_settings_on_top_of_the_environment(fresh_bundler):
    fresh_bundler.build(APP)
    pid = fresh_bundler.service.pid
    assert pid is not None
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    assert b"GOGC=400" in environ and b"GOMEMLIMIT=150MiB" in environ
    # Added to this process's environment, not in place of it.
    assert f"PATH={os.environ['PATH']}".encode() in environ
