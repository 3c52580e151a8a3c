"""The backends, by name: one table of dotted paths, loaded on demand, so nothing else chooses by name."""
from __future__ import annotations

from importlib import import_module

from chaoslib import config
from chaoslib.backends.base import Backend
from chaoslib.config import Settings
from chaoslib.errors import UsageError

#: Every backend `--backend` and CHAOSCTL_BACKEND can name: name -> dotted path of its class.
BACKENDS = {
    "local": "chaoslib.backends.local.backend.LocalBackend",
    "docker": "chaoslib.backends.docker.backend.DockerBackend",
    #: In-process and forgetful: for the unit tests and for trying a new family without a stack.
    "memory": "chaoslib.backends.memory.backend.MemoryBackend",
}


def backend_class(name: str) -> type[Backend]:
    """The class of the backend called `name`; UsageError naming the known ones otherwise."""
    path = BACKENDS.get(name)
    if path is None:
        raise UsageError(f"unknown backend {name!r}: backends are {', '.join(BACKENDS)}", field="backend",
                         value=name, hint="pass one of them to --backend or CHAOSCTL_BACKEND")
    module, _, attr = path.rpartition(".")
    return getattr(import_module(module), attr)


def load(name: str | None = None, *, settings: Settings | None = None) -> Backend:
    """The backend called `name` (default: CHAOSCTL_BACKEND, else the default backend), ready to use."""
    return backend_class(name or config.backend_name())(settings)
