"""Prometheus: the rendered config, the rules, and their promtool unit tests."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from chaoslib.observe.promrules import load_alerts, paging_alerts
from chaoslib.render import render

from .tooling import run, tool

REPO = Path(__file__).resolve().parents[2]
RULES_DIR = REPO / "stack" / "prometheus" / "rules"
PROM_TESTS_DIR = REPO / "stack" / "prometheus" / "tests"

JOBS = {"pollapp", "traefik", "postgres", "saturation", "alertmanager", "prometheus", "pager"}
TEST_FILES = sorted(PROM_TESTS_DIR.glob("*.yml"))
RULE_FILES = sorted(RULES_DIR.glob("*.yml"))
#: Words that name a cause: a page says what users experience, never why.
CAUSE_WORDS = ("disk", "oom", "memory", "cpu", "throttl", "firewall", "packet", "network", "database",
               "postgres", "enospc", "crash", "restart", "quota", "limit", "kill", "cgroup", "nft")


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text())


def replicas(n: int) -> list[dict]:
    return [{"name": f"app{i}", "address": f"127.0.1.{i}:8000"} for i in range(1, n + 1)]


def context(backend: str, n: int) -> dict:
    return dict(backend=backend, replicas=replicas(n), rules_dir=str(RULES_DIR),
                traefik_metrics="127.0.2.2:8082", postgres_exporter="127.0.2.5:9187",
                saturation_exporter="127.0.2.6:9338", alertmanager="127.0.2.4:9093",
                prometheus="127.0.2.3:9090", pager="127.0.2.7:9099")


def rendered(backend: str, n: int) -> dict:
    return yaml.safe_load(render("stack/prometheus/prometheus.yml.j2", **context(backend, n)))


def jobs(cfg: dict) -> dict[str, dict]:
    return {j["job_name"]: j for j in cfg["scrape_configs"]}


# -- the config ---------------------------------------------------------------------------------
def test_promtool_check_config(tmp_path):
    promtool = tool("promtool")
    for backend, n in (("local", 3), ("local", 5), ("docker", 3)):
        path = tmp_path / f"prometheus-{backend}-{n}.yml"
        path.write_text(render("stack/prometheus/prometheus.yml.j2", **context(backend, n)))
        run(promtool, "check", "config", str(path))


def test_config_shape():
    for backend in ("local", "docker"):
        cfg = rendered(backend, 3)
        assert cfg["global"]["scrape_interval"] == "5s"
        assert cfg["global"]["evaluation_interval"] == "2s"
        # The paging signals come from Traefik, scraped every 2 s (issue #15: pages within 30 s).
        assert (jobs(cfg)["traefik"]["scrape_interval"], jobs(cfg)["traefik"]["scrape_timeout"]) == ("2s", "1500ms")
        assert cfg["rule_files"] == [f"{RULES_DIR}/*.yml"]
        # Docker adds the `disks` exporter: a replica's disk is a volume cAdvisor does not measure.
        assert set(jobs(cfg)) == (JOBS if backend == "local" else JOBS | {"disks"}), backend
        am = cfg["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
        assert am == (["127.0.2.4:9093"] if backend == "local" else ["alertmanager:9093"])


def test_local_pollapp_targets_carry_replica_and_service():
    for n in (3, 5):
        sc = jobs(rendered("local", n))["pollapp"]
        assert sc.get("metrics_path", "/metrics") == "/metrics"
        got = [(g["targets"], g["labels"]) for g in sc["static_configs"]]
        assert got == [([f"127.0.1.{i}:8000"], {"replica": f"app{i}", "service": "pollapp"})
                       for i in range(1, n + 1)]


def test_docker_pollapp_targets_use_service_names():
    sc = jobs(rendered("docker", 3))["pollapp"]
    assert [g["targets"] for g in sc["static_configs"]] == [["app1:8000"], ["app2:8000"], ["app3:8000"]]


def test_service_labels():
    expected = {"postgres": "postgres", "saturation": "pollapp", "alertmanager": "alertmanager",
                "prometheus": "prometheus", "pager": "pager"}
    for backend in ("local", "docker"):
        by_job = jobs(rendered(backend, 3))
        # Traefik's own metrics carry service="polls@file": no target label may clobber it.
        assert all("service" not in g.get("labels", {}) for g in by_job["traefik"]["static_configs"])
        for job, service in expected.items():
            assert all(g["labels"]["service"] == service for g in by_job[job]["static_configs"]), (backend, job)


def _relabel(rules: list[dict], labels: dict[str, str]) -> dict[str, str]:
    """Apply `replace`, `drop` and `keep` relabel rules the way Prometheus does (anchored regex).

    A dropped series comes back as an empty dict.
    """
    out = dict(labels)
    for r in rules:
        value = r.get("separator", ";").join(out.get(s, "") for s in r["source_labels"])
        m = re.fullmatch(r.get("regex", "(.*)"), value)
        action = r.get("action", "replace")
        if (action == "drop" and m) or (action == "keep" and not m):
            return {}
        if action == "replace" and m:
            out[r["target_label"]] = m.expand(r.get("replacement", "$1").replace("$", "\\"))
    return out


def test_traefik_server_up_gets_a_replica_label():
    rules = jobs(rendered("local", 5))["traefik"]["metric_relabel_configs"]
    assert len([r for r in rules if r.get("source_labels") == ["url"]]) == 5
    for i in range(1, 6):
        series = {"__name__": "traefik_service_server_up", "service": "polls@file", "url": f"http://127.0.1.{i}:8000"}
        assert _relabel(rules, series)["replica"] == f"app{i}"
    # 127.0.1.1 must not match 127.0.1.10 (dots escaped, anchored).
    assert "replica" not in _relabel(rules, {"url": "http://127.0.1.10:8000"})
    assert "replica" not in _relabel(rules, {"url": "http://127x0x1x1:8000"})


def test_saturation_copies_name_into_replica():
    for backend in ("local", "docker"):
        rules = jobs(rendered(backend, 3))["saturation"]["metric_relabel_configs"]
        assert _relabel(rules, {"name": "app2"})["replica"] == "app2"
        assert "replica" not in _relabel(rules, {"name": "postgres"})
        assert "replica" not in _relabel(rules, {"name": "app2-sidecar"})


# -- the rules ----------------------------------------------------------------------------------
def test_promtool_check_rules():
    promtool = tool("promtool")
    assert {p.name for p in RULE_FILES} == {"recording.yml", "alerts.yml"}
    run(promtool, "check", "rules", *map(str, RULE_FILES))


def test_promtool_unit_tests(background):
    """`promtool test rules` on every test file (rule files are relative to the test file): one promtool per file,
    started with the static stage by the `background` fixture (each evaluates hours of samples on one core)."""
    tool("promtool")
    assert {p.name for p in TEST_FILES} >= {"paging_test.yml", "tickets_test.yml", "recording_test.yml"}
    results = {f.name: background.result(f"promtool {f.name}") for f in TEST_FILES}
    failed = {name: out for name, (code, out) in results.items() if code != 0}
    assert not failed, "\n".join(f"promtool test rules {name} failed:\n{out}" for name, out in failed.items())
    assert all("SUCCESS" in out for _, out in results.values()), results


def _alert_cases() -> dict[str, dict[str, int]]:
    """alertname -> {"firing": n, "silent": m} over every alert_rule_test in the test files."""
    cases: dict[str, dict[str, int]] = {}
    for path in TEST_FILES:
        for t in load_yaml(path).get("tests", []):
            for case in t.get("alert_rule_test", []):
                c = cases.setdefault(case["alertname"], {"firing": 0, "silent": 0})
                c["firing" if case.get("exp_alerts") else "silent"] += 1
    return cases


def test_every_alert_has_firing_and_silent_unit_tests():
    assert TEST_FILES, "no promtool test files"
    cases = _alert_cases()
    names = [a["name"] for a in load_alerts()]
    assert len(names) == len(set(names)), "duplicate alert names"
    for name in names:
        assert name in cases, f"alert {name} has no promtool unit test"
        assert cases[name]["firing"] >= 1, f"no test shows {name} firing"
        assert cases[name]["silent"] >= 1, f"no test shows {name} staying silent"
    assert set(cases) <= set(names), f"tests for unknown alerts: {set(cases) - set(names)}"


def test_healthy_traffic_does_not_page_is_tested():
    healthy = [t for t in load_yaml(PROM_TESTS_DIR / "paging_test.yml")["tests"] if t["name"].startswith("healthy")]
    assert healthy
    silent = {c["alertname"] for c in healthy[0]["alert_rule_test"] if not c.get("exp_alerts")}
    assert silent == {a["name"] for a in paging_alerts()}


def test_alert_labels():
    for a in load_alerts():
        assert a["labels"].get("severity") in ("page", "ticket"), a["name"]
        assert a["labels"].get("team") == "polls", a["name"]
        assert a["annotations"].get("summary") and a["annotations"].get("description"), a["name"]


def test_paging_alerts_are_symptoms():
    pages = paging_alerts()
    assert {a["name"] for a in pages} >= {"PollsHighErrorRatio", "PollsSlowResponses", "PollsServerOutOfRotation",
                                          "PollsUnavailable", "PollsTrafficDrop"}
    for a in pages:
        assert a["group"] == "paging"
        text = " ".join(a["annotations"].values()).lower()
        named = [w for w in CAUSE_WORDS if w in text]
        assert not named, f"{a['name']} names a cause in its annotations: {named}"
        # Symptoms at the load balancer: Traefik series or the lb:* recording rules only.
        assert "lb:" in a["expr"] or "traefik_" in a["expr"], a["name"]
        assert not re.search(r"\b(container_|pg_|django_|pollapp_|up\{)", a["expr"]), a["name"]


def test_recording_rules_used_by_alerts_exist():
    recorded = {r["record"] for g in load_yaml(RULES_DIR / "recording.yml")["groups"] for r in g["rules"]}
    for a in load_alerts():
        for name in re.findall(r"\b[a-z_]+:[a-z0-9_]+:[a-z0-9_]+\b", a["expr"]):
            assert name in recorded, f"{a['name']} uses unknown recording rule {name}"


#: Where the series Prometheus keeps are read: rules, dashboards, the companion package.
_READERS = ("stack/prometheus/rules", "grafana", "chaoslib", "notebooks")


def _metric_names_read() -> set[str]:
    """Metric names in rules and dashboards, and in the package's and notebooks' PromQL strings.

    In Python, `go_`, `process_`, `prometheus_` and `alertmanager_` also start ordinary names
    (go_small, prometheus_client): there only the other families count.
    """
    families = r"django|pg|traefik|container|votes|polls|pollapp|pager|chaos"
    config = re.compile(rf"\b((?:{families}|go|process|alertmanager|prometheus)_[a-z0-9_]+)")
    code = re.compile(rf"\b((?:{families})_[a-z0-9_]+)")
    names: set[str] = set()
    for where in _READERS:
        for path in (REPO / where).rglob("*"):
            if path.suffix in (".yml", ".json"):
                names |= set(config.findall(path.read_text(errors="replace")))
            elif path.suffix in (".py", ".ipynb"):
                names |= set(code.findall(path.read_text(errors="replace")))
    return names


@pytest.mark.parametrize("backend", ["local", "docker"])
def test_scrape_drops_only_series_nothing_reads(backend):
    """The series dropped at scrape (issue #15) are read by no rule, dashboard or notebook, and some are dropped."""
    by_job = {name: job.get("metric_relabel_configs", []) for name, job in jobs(rendered(backend, 3)).items()}
    read = _metric_names_read()
    assert {"traefik_service_server_up", "django_http_requests_latency_seconds_by_view_method_bucket"} <= read
    for job, rules in by_job.items():
        own = [n for n in read if n.startswith(f"{job}_")] if job in ("alertmanager", "prometheus") else read
        for name in own:  # a self-monitoring job serves only its own family
            assert _relabel(rules, {"__name__": name, "name": "app1"}), f"job {job} drops {name}, which is read"
    dropped = ["go_goroutines", "process_resident_memory_bytes",
               "django_http_requests_body_total_bytes_bucket", "prometheus_http_requests_total",
               "alertmanager_http_request_duration_seconds_bucket"]
    for name in dropped:
        assert any(not _relabel(rules, {"__name__": name}) for rules in by_job.values()), name
    assert not _relabel(by_job["pollapp"], {"__name__": "django_http_requests_body_total_bytes_bucket"})
