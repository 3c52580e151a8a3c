"""The saturation exporter writes Prometheus' text format itself; a real parser reads it back."""
from __future__ import annotations

import shutil
import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families

from chaoslib.native.saturation import Family, exposition


def _families() -> list[Family]:
    cpu = Family("container_cpu_usage_seconds_total", "counter", "Cumulative CPU time consumed in seconds.")
    cpu.add({"name": "app1"}, 4.25)
    cpu.add({"name": "app2"}, 0)
    disk = Family("container_fs_usage_bytes", "gauge", 'A help with a \\ and\na newline.')
    disk.add({"name": "app1", "device": 'tmpfs:"odd"\\name'}, 9.223372036854772e+18)
    empty = Family("container_spec_cpu_quota", "gauge", "CPU quota of the container.")
    return [cpu, disk, empty]


def test_prometheus_client_parses_what_the_exporter_writes():
    """Names, types, labels (quotes and backslashes escaped) and values survive a round trip."""
    parsed = {f.name: f for f in text_string_to_metric_families(exposition(_families()).decode())}
    assert parsed["container_cpu_usage_seconds"].type == "counter"
    assert {(s.labels["name"], s.value) for s in parsed["container_cpu_usage_seconds"].samples} == {
        ("app1", 4.25), ("app2", 0.0)}
    (sample,) = parsed["container_fs_usage_bytes"].samples
    assert sample.labels == {"name": "app1", "device": 'tmpfs:"odd"\\name'}
    assert sample.value == 9.223372036854772e+18
    assert parsed["container_fs_usage_bytes"].documentation == "A help with a \\ and\na newline."
    assert parsed["container_spec_cpu_quota"].samples == []


def test_promtool_finds_nothing_wrong():
    """promtool, the tool that owns the format, checks the exposition without a complaint."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: `make deps` installs it (apt prometheus)")
    proc = subprocess.run([promtool, "check", "metrics"], input=exposition(_families()), capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode() + proc.stdout.decode()
