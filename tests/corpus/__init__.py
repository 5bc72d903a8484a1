"""Apps written the way AI app builders write them, kept as the files a session would hold.

Each folder is one app; its files sit at their session paths below it
(``calculator/app/App.tsx`` is the session's ``/app/App.tsx``). The apps style everything with
Tailwind classes and ship their own shadcn/ui component files, as v0, bolt and llamacoder do;
``packing`` is a Claude artifact: one ``App.tsx`` importing shadcn/ui components it does not
push (the built-in ones) and keeping its state with ``window.storage``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["APPS", "CORPUS", "load_app"]

CORPUS = Path(__file__).resolve().parent

#: Every app in the corpus, by folder name.
APPS = tuple(sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and p.name != "__pycache__"))


def load_app(name: str) -> list[dict[str, str]]:
    """The app's files as a push payload: ``[{"path": "/app/App.tsx", "content": ...}, ...]``."""
    folder = CORPUS / name
    if not folder.is_dir():
        raise ValueError(f"no app {name!r} in the corpus; the apps are {', '.join(APPS)}")
    return [
        {"path": "/" + p.relative_to(folder).as_posix(), "content": p.read_text("utf-8")}
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    ]
