"""Host-wide names belong to one state folder; the lockdown rules guard every control endpoint."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from chaoslib import config
from chaoslib.config import Settings
from chaoslib.errors import PrerequisiteError
from chaoslib.native import lockdown, owner


@pytest.fixture
def owner_file(tmp_path, monkeypatch):
    """The owner file moved into a temporary folder."""
    path = tmp_path / "run" / "owner"
    monkeypatch.setattr(owner, "OWNER_FILE", path)
    return path


def test_claim_release_and_dead_owner(owner_file, tmp_path, monkeypatch):
    """A claim is kept by its folder, released by it only; a dead owner's claim does not bind others."""
    a, b = Settings(state_dir=tmp_path / "a"), Settings(state_dir=tmp_path / "b")
    assert owner.owns_host(a) and owner.owns_host(b)
    owner.claim(a)
    assert owner_file.read_text() == str(a.state_dir.resolve())
    assert owner_file.stat().st_mode & 0o077 == 0
    assert owner.owns_host(b)  # a's supervisor is not running: its claim is stale
    monkeypatch.setattr(owner, "_alive", lambda state_dir: True)
    assert owner.owns_host(a) and not owner.owns_host(b)
    with pytest.raises(PrerequisiteError) as e:
        owner.claim(b)
    assert f"chaosctl --state-dir {a.state_dir.resolve()} down" in e.value.one_line()
    owner.release(b)
    assert owner_file.exists()
    owner.release(a)
    assert not owner_file.exists()


def test_lockdown_guards_every_control_endpoint():
    """Each control endpoint has a reject rule that lets root through, and the app itself is not guarded."""
    text = lockdown.script()
    for infra in (config.PROMETHEUS, config.ALERTMANAGER, config.PAGER, config.SATURATION_EXPORTER, config.POSTGRES):
        line = next(line for line in text.splitlines() if f"ip daddr {infra.host} tcp dport {infra.port} " in line)
        assert "meta skuid != { 0" in line and "reject" in line and "syn" in line
    assert f"dport {config.TRAEFIK.port} " not in text


#: A user namespace mapping the caller to root, with its own network namespace: there a normal
#: user holds CAP_NET_ADMIN over an empty ruleset, which is all `nft -c` needs.
OWN_NETNS = ["unshare", "--user", "--map-root-user", "--net"]


def _nft_check() -> list[str]:
    """The command that checks a script: `nft -c` as root; as a normal user, inside OWN_NETNS."""
    if os.geteuid() == 0:
        return ["nft", "-c", "-f", "-"]
    probe = subprocess.run([*OWN_NETNS, "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"nft -c needs CAP_NET_ADMIN and this kernel refuses a user namespace: {probe.stderr.strip()}")
    return [*OWN_NETNS, "nft", "-c", "-f", "-"]


@pytest.mark.skipif(shutil.which("nft") is None, reason="nft is not installed")
def test_lockdown_script_is_valid_nft():
    """`nft -c` (check only, the ruleset is not changed) accepts the script, and refuses a broken one."""
    check = _nft_check()
    proc = subprocess.run(check, input=lockdown.script(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    broken = subprocess.run(check, input=lockdown.script().replace(" reject ", " rejekt "),
                            capture_output=True, text=True)
    assert broken.returncode != 0 and "rejekt" in broken.stderr, broken.stderr
