"""JSON with comments (JSONC, as devcontainer.json allows): comments stripped outside strings."""
from __future__ import annotations

import json
from pathlib import Path


def strip_comments(text: str) -> str:
    """`text` with every // line comment and /* block comment */ outside a string replaced by spaces.

    Newlines inside block comments are kept, so a JSON error still names the right line.
    """
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise ValueError(f"unterminated /* comment at offset {i}")
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j + 2]))
            i = j + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def load(path: Path) -> dict:
    """A JSONC file parsed (comments allowed, trailing commas not: the Dev Container schema says so)."""
    return json.loads(strip_comments(path.read_text()))
