"""The docker footprint bench without an engine: `docker stats` arithmetic, the compose profiles and limits,
the totals, and the README's Docker memory paragraph equal to what docs/footprint-docker.json says."""
from __future__ import annotations

import argparse
import copy
import json
import re

import pytest

from chaoslib import config
from chaoslib.backends.docker import DockerBackend
from chaoslib.bench import footprint_docker as fd
from chaoslib.bench.footprint_docs import DOCS, JSON_NAME, MD_NAME, load, readme_paragraph
from chaoslib.cli import bench as cli_bench
from chaoslib.errors import ServiceError, UsageError

MIB = 2**20
README = config.REPO_ROOT / "README.md"


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class TestStatsArithmetic:
    def test_cgroup_v1_less_total_inactive_file(self):
        assert fd.stats_memory({"memory_stats": {"usage": 100 * MIB, "stats": {"total_inactive_file": 30 * MIB,
                                                                               "inactive_file": 1}}}) == 70 * MIB

    def test_cgroup_v2_less_inactive_file(self):
        assert fd.stats_memory({"memory_stats": {"usage": 100 * MIB, "stats": {"inactive_file": 40 * MIB}}}) == 60 * MIB

    def test_usage_alone_when_the_cache_is_not_below_it(self):
        assert fd.stats_memory({"memory_stats": {"usage": 10, "stats": {"inactive_file": 20}}}) == 10
        assert fd.stats_memory({}) == 0

    @pytest.mark.parametrize(("text", "size"), [("384m", 384 * MIB), ("1g", 1024 * MIB), ("1500m", 1500 * MIB),
                                                ("256MiB", 256 * MIB), (536870912, 512 * MIB), ("64k", 65536)])
    def test_compose_sizes(self, text, size):
        assert fd.parse_size(text) == size

    def test_a_size_that_is_not_one_is_refused(self):
        with pytest.raises(UsageError, match="not a memory size"):
            fd.parse_size("lots")


class TestComposeProfiles:
    def test_the_log_stack_is_the_logs_profile_and_the_rest_is_core(self):
        services = fd.compose_services()
        assert {n for n, s in services.items() if s.profile == "logs"} == set(fd.LOG_SERVICES)
        assert services["helper"].profile is None, "a tool `up` never starts is in no total"
        assert services["grafana"].profile == services["cadvisor"].profile == services["app1"].profile == "core"
        assert services["migrate"].one_shot and services["kibana-setup"].one_shot and not services["app1"].one_shot

    def test_limits_are_read_from_the_file(self):
        services = fd.compose_services()
        assert services["elasticsearch"].limit_bytes == 1500 * MIB
        assert services["app2"].limit_bytes == 512 * MIB
        assert services["postgres"].limit_bytes is None

    def test_a_deploy_limit_counts_like_mem_limit(self, tmp_path):
        compose = tmp_path / "compose.yml"
        compose.write_text("services:\n  db:\n    image: x\n    deploy: {resources: {limits: {memory: 2g}}}\n"
                           "  web:\n    image: y\n    profiles: [logs]\n")
        services = fd.compose_services(compose)
        assert services["db"] == fd.ComposeService("db", "core", 2048 * MIB, False)
        assert services["web"] == fd.ComposeService("web", "logs", None, False)


SERVICES = {
    "app1": fd.ComposeService("app1", "core", 512 * MIB, False),
    "migrate": fd.ComposeService("migrate", "core", None, True),
    "helper": fd.ComposeService("helper", None, None, True),
    "grafana": fd.ComposeService("grafana", "core", 384 * MIB, False),
    "elasticsearch": fd.ComposeService("elasticsearch", "logs", 1500 * MIB, False),
    "filebeat": fd.ComposeService("filebeat", "logs", 256 * MIB, False),
}
ENGINE = {"version": "20.10.24", "api_version": "1.41", "cgroup_version": "1"}


class TestReport:
    def test_measured_at_limits_and_one_shots_add_up_per_profile(self):
        doc = fd.report({"app1": int(97.4 * MIB), "filebeat": 40 * MIB}, SERVICES, engine=ENGINE, samples=3,
                        interval=3, date="2026-12-06")
        rows = doc["services"]
        assert "helper" not in rows
        assert (rows["app1"]["source"], rows["app1"]["mib"]) == ("measured", 97)
        assert (rows["grafana"]["source"], rows["grafana"]["mib"]) == ("limit", 384)
        assert (rows["migrate"]["source"], rows["migrate"]["mib"]) == ("one-shot", 0)
        assert (rows["filebeat"]["source"], rows["filebeat"]["mib"]) == ("measured", 40)
        assert doc["profiles"]["core"] == {"measured_mib": 97, "at_limits_mib": 384, "total_mib": 481}
        assert doc["profiles"]["core + logs"] == {"measured_mib": 137, "at_limits_mib": 1884, "total_mib": 2021}

    def test_a_stopped_service_without_a_limit_is_an_error_not_a_zero(self):
        services = {**SERVICES, "postgres": fd.ComposeService("postgres", "core", None, False)}
        with pytest.raises(ServiceError, match="postgres.*no memory limit"):
            fd.report({"app1": MIB}, services, engine=ENGINE, samples=1, interval=0)


class FakeContainer:
    def __init__(self, service: str, usage: int) -> None:
        self.labels = {"com.docker.compose.project": "chaos-control", "com.docker.compose.service": service}
        self.usage = usage

    def stats(self, *, stream: bool, one_shot: bool) -> dict:
        assert not stream and one_shot
        return {"memory_stats": {"usage": self.usage, "stats": {"total_inactive_file": 0}}}


class FakeClient:
    def __init__(self) -> None:
        self.readings = iter([[80, 90], [100, 95], [90, 200]])

    class _Containers:
        def __init__(self, outer: FakeClient) -> None:
            self.outer = outer

        def list(self, **_kw) -> list[FakeContainer]:
            app1, pg = next(self.outer.readings)
            others = [n for n, s in fd.compose_services().items() if s.profile == "core" and not s.one_shot
                      and n not in ("app1", "postgres", "grafana", "cadvisor")]
            return [FakeContainer("app1", app1 * MIB), FakeContainer("postgres", pg * MIB),
                    *(FakeContainer(n, 10 * MIB) for n in others)]

    @property
    def containers(self) -> _Containers:
        return self._Containers(self)

    def version(self) -> dict:
        return {"Version": "20.10.24", "ApiVersion": "1.41"}

    def info(self) -> dict:
        return {"CgroupVersion": "1"}


def test_the_bench_prints_and_writes_medians_per_service(tmp_path, capsys):
    """`chaosctl bench footprint --backend docker` on a fake engine: the medians, the docs, the paragraph."""
    backend = DockerBackend(project="chaos-control", client=FakeClient())
    cli_bench.docker_footprint(backend, samples=3, interval=0, docs=tmp_path)
    out = capsys.readouterr().out
    doc = json.loads((tmp_path / JSON_NAME).read_text())
    assert doc["services"]["app1"]["mib"] == 90 and doc["services"]["postgres"]["mib"] == 95
    assert doc["services"]["elasticsearch"]["source"] == doc["services"]["grafana"]["source"] == "limit"
    assert doc["services"]["traefik"] == {"profile": "core", "source": "measured", "mib": 10, "limit_mib": None}
    assert "20.10.24" in (tmp_path / MD_NAME).read_text()
    assert readme_paragraph(doc) in out
    parser = argparse.ArgumentParser()
    cli_bench.register(parser.add_subparsers())
    assert parser.parse_args(["bench", "footprint"]).docs_dir == DOCS


class TestTheReadmeIsWrittenFromTheBench:
    def test_the_readme_paragraph_is_the_committed_figures(self):
        assert _flat(readme_paragraph(load())) in _flat(README.read_text()), (
            "README.md's Docker memory paragraph differs from docs/footprint-docker.json: paste what "
            "`chaosctl bench footprint --backend docker` prints")

    def test_control_a_changed_figure_no_longer_matches(self):
        doc = copy.deepcopy(load())
        doc["profiles"]["core"]["total_mib"] += 1
        assert _flat(readme_paragraph(doc)) not in _flat(README.read_text())

    def test_the_figures_at_limits_are_the_compose_file_limits_of_today(self):
        services = fd.compose_services()
        for name, row in load()["services"].items():
            limit = services[name].limit_bytes
            assert row["limit_mib"] == (round(limit / MIB) if limit else None), f"{name}: re-run the bench"
            assert row["profile"] == services[name].profile, f"{name} moved profile: re-run the bench"
            if row["source"] == "limit":
                assert row["mib"] == row["limit_mib"]

    def test_the_markdown_names_the_engine_and_the_date(self):
        doc, md = load(), (DOCS / MD_NAME).read_text()
        assert doc["engine"]["version"] in md and doc["date"] in md
        for label, t in doc["profiles"].items():
            assert f"| {label} | {t['measured_mib']:,} | {t['at_limits_mib']:,} | {t['total_mib']:,} |" in md
