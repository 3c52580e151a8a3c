"""The one place where config templates in stack/ and grafana/ are rendered.

Templates end in `.j2` and use `[[ var ]]` / `[% block %]` delimiters, so the Go templates
that Prometheus and Alertmanager configs carry (`{{ $labels.x }}`) pass through untouched.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from chaoslib import config
from chaoslib.config import REPO_ROOT

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


def links() -> dict[str, str]:
    """The bases of the alerts' links (prometheus.yml.j2's external labels), read from config at render time."""
    return {"grafana": config.grafana_public_url(), "runbooks": config.runbook_base()}


_ENV.globals["links"] = links


def render(template: str, **context: Any) -> str:
    """Render a template given by its path relative to the repository root."""
    return _ENV.get_template(template).render(**context)


def render_to(template: str, dest: Path, *, mode: int = 0o644, **context: Any) -> Path:
    """Render a template into `dest` (written atomically, with `mode`) and return the path."""
    text = render(template, **context)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(dest.suffix + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
        os.fchmod(f.fileno(), mode)
    tmp.replace(dest)
    return dest


def alertmanager_context(pager_url: str, env: Mapping[str, str] | None = None) -> dict:
    """Template values for alertmanager.yml.j2 (either stack): the pager, Slack and Discord only when set."""
    env = config.environment() if env is None else env
    return {
        "pager_url": f"{pager_url}/pages",
        "tickets_url": f"{pager_url}/tickets",
        "slack_webhook_url": env.get("SLACK_WEBHOOK_URL", ""),
        "slack_channel": env.get("SLACK_CHANNEL", ""),
        "discord_webhook_url": env.get("DISCORD_WEBHOOK_URL", ""),
    }
