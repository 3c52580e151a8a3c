"""JupyterLab is never open to anyone: no `allow_origin='*'`, never 0.0.0.0 without a token.

Reads every place that starts it: .gitpod.yml, devcontainer.json, the Makefile, and the command
line and environment `chaoslib.services.lab.start_lab` (`chaosctl lab`, `make lab`, `make docker-lab`) builds.
"""
from __future__ import annotations

import re
import subprocess

import pytest

from chaoslib.config import Settings
from chaoslib.services import lab

from .compose import REPO

SOURCES = [".gitpod.yml", ".devcontainer/devcontainer.json", "Makefile"]
ANY_ORIGIN = re.compile(r"allow_origin(_pat)?\s*=\s*['\"]?(\*|\.\*)")
EVERY_INTERFACE = re.compile(r"(--|\.)ip\s*=\s*['\"]?(0\.0\.0\.0|\*|::)(?![\w.])")
EMPTY_TOKEN = re.compile(r"(\.token|JUPYTER_TOKEN)\s*=\s*(''|\"\"|(?=\s)|$)", re.M)
#: A token made at start from a cryptographic source, then exported for JupyterLab to read.
RANDOM_TOKEN = re.compile(r"JUPYTER_TOKEN=\"?\$\(.*(secrets\.token_|openssl rand|/dev/urandom)")


def exposures(text: str) -> list[str]:
    """What in a launcher's text lets a stranger in: any origin, an empty token, 0.0.0.0 without a random token."""
    found = [f"allow_origin any: {m.group(0)}" for m in ANY_ORIGIN.finditer(text)]
    found += [f"empty token: {m.group(0)!r}" for m in EMPTY_TOKEN.finditer(text)]
    if EVERY_INTERFACE.search(text):
        if not RANDOM_TOKEN.search(text) or not re.search(r"export JUPYTER_TOKEN|JUPYTER_TOKEN=.*\bjupyter", text):
            found.append("listens on every interface without a random token exported to it")
        elif not re.search(r"\?token=\$\{?JUPYTER_TOKEN", text):
            found.append("listens on every interface but never prints the URL with its token")
    return found


@pytest.mark.parametrize("name", SOURCES)
def test_launchers_never_expose_jupyterlab(name):
    """No launcher allows any origin or an empty token; one on 0.0.0.0 makes a random token and prints it."""
    assert exposures((REPO / name).read_text()) == []


def test_the_check_catches_the_old_gitpod_command():
    """The former `.gitpod.yml` line (0.0.0.0, empty token, any origin) is caught three ways."""
    old = ("jupyterlab --no-browser --ip=0.0.0.0 --port=8888 --IdentityProvider.token= \\\n"
           "  --ServerApp.allow_origin='*' --ServerApp.trust_xheaders=True\n")
    assert len(exposures(old)) == 3
    assert exposures("jupyter lab --ip=0.0.0.0 --ServerApp.token=''") != []
    assert exposures("jupyter lab --ServerApp.ip=127.0.0.1 --port=8888") == []


def test_lab_py_listens_on_localhost_with_a_random_token(tmp_path, monkeypatch):
    """`chaosctl lab`'s JupyterLab: 127.0.0.1, a fresh random token in its environment, no origin override."""
    seen: list[tuple[list[str], dict]] = []

    class Started(Exception):
        pass

    def popen(cmd, **kwargs):
        seen.append((list(cmd), dict(kwargs["env"])))
        raise Started

    monkeypatch.setattr(lab, "port_in_use", lambda host, port: False)
    monkeypatch.setattr(subprocess, "Popen", popen)
    tokens = set()
    for run in range(2):
        with pytest.raises(Started):
            lab.start_lab(Settings(state_dir=tmp_path / f"state{run}"))
        cmd, env = seen[-1]
        line = " ".join(cmd)
        assert "--ip=127.0.0.1" in cmd and exposures(line) == [], line
        assert not any("token" in arg.lower() for arg in cmd), "a token on the command line is readable by all"
        assert len(env["JUPYTER_TOKEN"]) >= 32
        tokens.add(env["JUPYTER_TOKEN"])
    assert len(tokens) == 2
