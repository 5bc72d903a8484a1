"""Inline ``<Script>`` texts of a session file, so ``next/script`` can run them.

A page's Content-Security-Policy lets scripts come only from the render itself: a ``<script>``
element made at run time with inline text would be refused. So each inline text written as a
literal in the source (``<Script id="x">{`…`}</Script>`` or
``dangerouslySetInnerHTML={{ __html: "…" }}``) becomes a file of the render, and next/script
loads that file when it is asked to run exactly that text. A text built at run time (a
template with ``${…}``) has no file, and next/script says so in the console.
"""

from __future__ import annotations

import re

__all__ = ["inline_scripts", "cook"]

_TEMPLATE = r"`((?:[^`\\$]|\\.|\$(?!\{))*)`"
_DOUBLE = r'"((?:[^"\\\n]|\\.)*)"'
_SINGLE = r"'((?:[^'\\\n]|\\.)*)'"
_LITERAL = rf"(?:{_TEMPLATE}|{_DOUBLE}|{_SINGLE})"
_OPENING = re.compile(r"<Script\b")
_STRING = re.compile(_LITERAL)
_CLOSING = re.compile(r"</Script\s*>")
_TOKEN = re.compile(r"[{}>/`\"']")  # what can open a literal, change depth or end a tag
_INNER_HTML = re.compile(r"dangerouslySetInnerHTML\s*=\s*\{\s*\{\s*__html\s*:\s*" + _LITERAL)
_CHILD = re.compile(r"^\s*\{\s*" + _LITERAL + r"\s*\}\s*$", re.DOTALL)
_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r\n|[\s\S])")
_SIMPLE = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "0": "\0",
    "\n": "",
    "\r\n": "",
    "\u2028": "",
    "\u2029": "",
}


def cook(raw: str) -> str:
    """A JavaScript string literal's body as the string it means (escapes applied)."""

    def one(found: re.Match[str]) -> str:
        escape = found.group(1)
        if escape.startswith("u{"):
            return chr(int(escape[2:-1], 16))
        if escape[0] in "ux" and len(escape) > 1:
            return chr(int(escape[1:], 16))
        return _SIMPLE.get(escape, escape)

    return _ESCAPE.sub(one, raw)


def inline_scripts(text: str) -> list[str]:
    """Every literal inline text of a ``<Script>`` element in ``text``, in order, once each."""
    found: list[str] = []
    for element in _elements(text):
        opening, children = element
        literal = _INNER_HTML.search(opening)
        if literal is None and children is not None:
            literal = _CHILD.match(children)
        if literal is None:
            continue
        raw = (
            next(g for g in literal.groups() if g is not None)
            if any(g is not None for g in literal.groups())
            else ""
        )
        code = cook(raw)
        if code not in found:
            found.append(code)
    return found


def _elements(text: str) -> list[tuple[str, str | None]]:
    """Each ``<Script …>`` as (its opening tag, its children or None when self-closing):
    braces are counted and string literals skipped, so code inside them cannot end a tag.
    One pass over the text: the next element is looked for after the end of the last."""
    elements: list[tuple[str, str | None]] = []
    position = 0
    while (start := _OPENING.search(text, position)) is not None:
        depth, index, position = 0, start.end(), len(text)
        while (found := _TOKEN.search(text, index)) is not None:
            index = found.start()
            char = text[index]
            literal = _STRING.match(text, index) if char in "`\"'" else None
            if literal is not None:
                index = literal.end()
                continue
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
            elif depth == 0 and text.startswith("/>", index):
                elements.append((text[start.start() : index + 2], None))
                position = index + 2
                break
            elif depth == 0 and char == ">":
                closing = _CLOSING.search(text, index)
                end = closing.start() if closing else len(text)
                elements.append((text[start.start() : index + 1], text[index + 1 : end]))
                position = closing.end() if closing else len(text)
                break
            index += 1
    return elements
