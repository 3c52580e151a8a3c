"""The Go services start with their binary's cached pages dropped, so they map only what they read (issue #15)."""
from __future__ import annotations

import os
import subprocess
import tempfile

from chaoslib.config import REPO_ROOT, Settings
from chaoslib.native.launch import drop_cached_pages
from chaoslib.native.programs import programs


def _resident_bytes(path) -> int:
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return int(out.split()[0])


def test_drop_cached_pages_empties_the_page_cache_of_a_file():
    """A file just written and synced is wholly cached; afterwards none of it is."""
    # Beside the repository, on a disk filesystem (a tmpfs /tmp has no cache to drop).
    with tempfile.TemporaryDirectory(dir=REPO_ROOT, prefix=".chaos-test-cold-") as tmp:
        path = os.path.join(tmp, "binary")
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
