""" "Did you mean …" for an import of a package that is not allowed.

AI-written apps reach for packages that do the same job as an allowed one (``moment``
for ``date-fns``, ``@heroicons/react`` for ``lucide-react``), or misspell one. The
refusal names the allowed package that does that job, or the allowed package one or two
typing mistakes away.
"""

from __future__ import annotations

from collections.abc import Collection

__all__ = ["suggestion"]

#: Packages that are not allowed → what to use instead (an allowed package, or a built-in).
_INSTEAD = {
    "@radix-ui/react-icons": "lucide-react",
    "@heroicons/react": "lucide-react",
    "react-icons": "lucide-react",
    "@tabler/icons-react": "lucide-react",
    "react-feather": "lucide-react",
    "framer-motion": "motion",
    "motion": "framer-motion",
    "react-router": "react-router-dom",
    "lodash-es": "lodash",
    "underscore": "lodash",
    "moment": "date-fns",
    "dayjs": "date-fns",
    "luxon": "date-fns",
    "classnames": "clsx",
    "yup": "zod",
    "redux": "zustand",
    "@reduxjs/toolkit": "zustand",
    "react-query": "@tanstack/react-query",
    "d3-scale": "d3",
    "d3-shape": "d3",
    "nanoid": "uuid",
    "marked": "react-markdown",
    "chartjs": "chart.js",
}
#: Suggestions that are not packages.
_BUILT_IN = {
    "axios": "fetch() (built into the browser)",
    "node-fetch": "fetch() (built into the browser)",
    "cross-fetch": "fetch() (built into the browser)",
}
_MAX_TYPOS = 2


def suggestion(package: str, allowed: Collection[str]) -> str | None:
    """``did you mean "<allowed package>"?`` for ``package``, or None."""
    if package in _BUILT_IN:
        return f"did you mean {_BUILT_IN[package]}?"
    instead = _INSTEAD.get(package)
    if instead in allowed:
        return f'did you mean "{instead}"?'
    if package.startswith("@radix-ui/react-") and "radix-ui" in allowed:
        return 'did you mean "radix-ui"? it exports every radix primitive'
    best = min(allowed, key=lambda name: (_distance(package, name), name), default=None)
    if best is not None and _distance(package, best) <= min(_MAX_TYPOS, len(package) // 4):
        return f'did you mean "{best}"?'
    return None


def _distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]
