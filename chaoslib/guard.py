"""Refuse to run beside Chaos Toolkit's library, which also installs a package `chaoslib`."""
from __future__ import annotations

import importlib.metadata

from chaoslib.errors import PrerequisiteError

CONFLICTING = "chaostoolkit-lib"


def conflicting_distribution() -> str | None:
    """The version of chaostoolkit-lib installed in this environment, if any."""
    try:
        return importlib.metadata.version(CONFLICTING)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_environment() -> None:
    """Fail clearly when `chaoslib` could be Chaos Toolkit's rather than ours."""
    version = conflicting_distribution()
    if version is not None:
        raise PrerequisiteError(
            f"{CONFLICTING} {version} is installed here; it also provides a package named 'chaoslib', "
            "so the two would overwrite each other",
            hint=f"use a separate virtualenv for Chaos Control, or `pip uninstall {CONFLICTING}`")
