"""The one place where config templates in stack/ and grafana/ are rendered.

Templates end in `.j2` and use `[[ var ]]` / `[% block %]` delimiters, so the Go templates
that Prometheus and Alertmanager configs carry (`{{ $labels.x }}`) pass through untouched.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from .config import REPO_ROOT

STACK_DIR = REPO_ROOT / "stack"

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(REPO_ROOT)),
    variable_start_string="[[",
    variable_end_string="]]",
    block_start_string="[%",
    block_end_string="%]",
    comment_start_string="[#",
    comment_end_string="#]",
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(template: str, **context: Any) -> str:
    """Render a template given by its path relative to the repository root."""
    return _ENV.get_template(template).render(**context)


def render_to(template: str, dest: Path, **context: Any) -> Path:
    """Render a template into `dest` (written atomically) and return the path."""
    text = render(template, **context)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(dest.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(dest)
    return dest
