"""The Docker stack's disk exporter publishes each mounted disk under cAdvisor's names, and skips the others."""
from __future__ import annotations

import os
from pathlib import Path

from chaoslib.services.disk_exporter import DiskCollector


def test_a_mounted_disk_is_published_and_an_unmounted_one_is_not(tmp_path):
    """/ (a mount point) appears with its statvfs figures under its name; a plain folder does not."""
    plain = tmp_path / "app2"
    plain.mkdir()
    families = {f.name: f for f in DiskCollector([Path("/"), plain]).collect()}
    assert set(families) == {"container_fs_usage", "container_fs_limit"} or \
        set(families) == {"container_fs_usage_bytes", "container_fs_limit_bytes"}
    samples = [s for f in families.values() for s in f.samples]
    assert {s.labels["device"] for s in samples} == {"/"}
    st = os.statvfs("/")
    limit = [s.value for s in samples if s.name.startswith("container_fs_limit")][0]
    used = [s.value for s in samples if s.name.startswith("container_fs_usage")][0]
    assert limit == st.f_blocks * st.f_frsize and 0 < used <= limit
