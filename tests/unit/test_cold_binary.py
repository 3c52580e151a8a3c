"""The Go services start with their binary's cached pages dropped, so they map only what they read (issue #15)."""
from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from chaoslib.config import Settings
from chaoslib.native.launch import drop_cached_pages
from chaoslib.native.programs import programs

RAM_FILESYSTEMS = {"tmpfs", "ramfs"}


def _resident_bytes(path) -> int:
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return int(out.split()[0])


def _filesystem(path: Path) -> str:
    """The type of the filesystem holding `path` ("ext2/ext3", "tmpfs", ...)."""
    return subprocess.run(["stat", "--file-system", "--format", "%T", str(path)],
                          capture_output=True, text=True, check=True).stdout.strip()


@contextmanager
def _on_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on a disk filesystem (RAM-backed ones have no cache to drop): tmp_path, or when
    that is in RAM a temporary folder in /var/tmp, removed after. Never in the checkout, which
    the user running the tests may not be allowed to write (issue #26)."""
    if _filesystem(tmp_path) not in RAM_FILESYSTEMS:
        yield tmp_path
        return
    if _filesystem(Path("/var/tmp")) in RAM_FILESYSTEMS:
        pytest.fail(f"{tmp_path} and /var/tmp are both in RAM: no disk filesystem to drop pages on",
                    pytrace=False)
    with tempfile.TemporaryDirectory(dir="/var/tmp", prefix="chaos-test-cold-") as tmp:
        yield Path(tmp)


def test_drop_cached_pages_empties_the_page_cache_of_a_file(tmp_path):
    """A file just written and synced is wholly cached; afterwards none of it is."""
    with _on_disk(tmp_path) as folder:
        path = str(folder / "binary")
        with open(path, "wb") as f:
            f.write(os.urandom(8 << 20))
            f.flush()
            os.fsync(f.fileno())
        assert _resident_bytes(path) > (4 << 20)
        drop_cached_pages(path)
        assert _resident_bytes(path) < (1 << 20)


def test_drop_cached_pages_of_a_missing_file_is_harmless(tmp_path):
    """A path that cannot be opened is left alone (the exec reports it)."""
    drop_cached_pages(str(tmp_path / "absent"))


def test_only_the_go_services_launch_cold(tmp_path):
    """Traefik, Prometheus, Alertmanager and the postgres exporter pass --cold-binary; Python services do not."""
    settings = Settings(state_dir=tmp_path)
    cold = {p.name for p in programs(settings, secret_key="x") if "--cold-binary" in p.command(settings)}
    assert cold == {"traefik", "prometheus", "alertmanager", "postgres-exporter"}
