"""Page weight: the JavaScript a rendered page loads against what bare esbuild emits.

    python -m bench.weight [--app weight] [--chunks]

A page loads every script tag index.html names: the overlay, the vendor chunks its code
uses, and its own script. Bare ``esbuild --bundle --minify`` of the same app (React from
``bundler/runtime``, tree-shaken, one file) is what an app needs at least; the target is a
page at most :data:`TARGET_RATIO` times that, for ``bench/apps/weight`` (a few lucide
icons, two date-fns functions, one recharts chart). Exit 0 on PASS, 1 on FAIL.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.baselines import esbuild_cli, write_esbuild_project
from bench.gen_apps import BenchApp, folder_app
from bundler import Bundler, SourceFile

__all__ = ["TARGET_RATIO", "PageWeight", "measure", "main"]

TARGET_RATIO = 1.25


@dataclass(frozen=True)
class PageWeight:
    """Bytes of each script a page loads, and of bare esbuild's bundle of the same app."""

    scripts: dict[str, int]  # path → bytes, in load order
    esbuild_bytes: int

    @property
    def page_bytes(self) -> int:
        return sum(self.scripts.values())

    @property
    def ratio(self) -> float:
        return self.page_bytes / self.esbuild_bytes

    @property
    def passed(self) -> bool:
        return self.ratio <= TARGET_RATIO


def measure(app: BenchApp, bundler: Bundler) -> PageWeight:
    """Build ``app`` with ``bundler`` (vendor chunks on) and bare esbuild; weigh both."""
    bundle = bundler.build([SourceFile(p, t.encode("utf-8")) for p, t in app.files.items()])
    vendor = {a.path: len(a.content) for a in bundle.vendor}
    own = {a.path: len(a.content) for a in bundle.artifacts if a.path in bundle.page.scripts}
    shared = [bundle.page.overlay, *bundle.page.vendor_scripts]
    scripts = {path: vendor[path] for path in shared if path}
    scripts.update(own)
    with tempfile.TemporaryDirectory(prefix="stage-weight-") as tmp:
        entry = write_esbuild_project(app, Path(tmp))
        esbuild_bytes = esbuild_cli(entry, 1).output_bytes
    return PageWeight(scripts, esbuild_bytes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.weight", description=__doc__)
    parser.add_argument("--app", default="weight", help="a folder under bench/apps/")
    parser.add_argument("--chunks", action="store_true", help="also list every vendor chunk's size")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="stage-weight-cache-") as cache:
        bundler = Bundler(vendor_cache=Path(cache))
        try:
            weight = measure(folder_app(args.app), bundler)
            vendor = bundler.load_vendor()
        finally:
            bundler.close()
    for path, size in weight.scripts.items():
        print(f"{size:>10,}  {path}")
    print(f"{weight.page_bytes:>10,}  page JS, {len(weight.scripts)} script tags")
    print(f"{weight.esbuild_bytes:>10,}  esbuild --bundle --minify")
    verdict = "PASS" if weight.passed else "FAIL"
    print(f"ratio {weight.ratio:.2f} (target <= {TARGET_RATIO}): {verdict}")
    if args.chunks and vendor is not None:
        print("\nvendor chunks:")
        for chunk in sorted(vendor.chunks.values(), key=lambda c: -len(c.content)):
            print(f"{len(chunk.content):>10,}  {chunk.name}  ({len(chunk.packages)} package(s))")
    return 0 if weight.passed else 1


if __name__ == "__main__":
    sys.exit(main())
