"""Grafana: dashboards JSON and provisioning files are well formed, and their queries sound."""
from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from .tooling import run, tool

REPO = Path(__file__).resolve().parents[2]
RULES_DIR = REPO / "stack" / "prometheus" / "rules"
GRAFANA = REPO / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
PROMETHEUS_DS = {"type": "prometheus", "uid": "prometheus"}
ELASTICSEARCH_DS = {"type": "elasticsearch", "uid": "elasticsearch"}


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text())


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def exprs() -> list[tuple[str, str]]:
    """(dashboard/panel, expr) for every query of every dashboard."""
    return [(f"{p.stem}/{panel['title']}", t["expr"]) for p in DASHBOARDS for panel in load(p)["panels"]
            if panel["datasource"] == PROMETHEUS_DS for t in panel.get("targets", [])]


def test_the_four_dashboards_exist():
    assert {p.stem for p in DASHBOARDS} >= {"golden-signals", "saturation", "database", "logs"}


def test_dashboard_shape():
    for path in DASHBOARDS:
        check_dashboard(path)


def check_dashboard(path: Path) -> None:
    d = load(path)
    assert d["uid"] == path.stem and d["title"]
    assert d["schemaVersion"] >= 38
    assert d["panels"], "no panels"
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids)), "duplicate panel ids"
    for panel in d["panels"]:
        where = f"{path.stem}/{panel.get('title')}"
        assert panel["title"], where
        assert set(panel["gridPos"]) == {"x", "y", "w", "h"}, where
        assert 0 <= panel["gridPos"]["x"] and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, where
        assert panel["datasource"] in (PROMETHEUS_DS, ELASTICSEARCH_DS), where
        assert panel["targets"], f"{where} has no target"
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), where
        for t in panel["targets"]:
            assert t.get("datasource", panel["datasource"]) == panel["datasource"], where
        if panel["datasource"] == PROMETHEUS_DS:
            assert panel["type"] in ("timeseries", "stat"), where
            for t in panel["targets"]:
                assert t["expr"].strip(), f"{where}: empty expr"
                assert "legendFormat" in t, where
        else:
            check_elasticsearch_panel(panel, where)


def check_elasticsearch_panel(panel: dict, where: str) -> None:
    """A Lucene query with a time field; a logs panel asks for log lines, a time series for counts in time."""
    assert panel["type"] in ("logs", "timeseries"), where
    for t in panel["targets"]:
        assert t["query"].strip() and "$" not in t["query"], where
        assert t["timeField"] == "@timestamp", where
        kinds = [m["type"] for m in t["metrics"]]
        if panel["type"] == "logs":
            assert kinds == ["logs"] and t["bucketAggs"] == [], where
        else:
            assert kinds == ["count"], where
            assert t["bucketAggs"][-1]["type"] == "date_histogram", where
            assert t["bucketAggs"][-1]["field"] == "@timestamp", where


def test_dashboard_uids_are_unique():
    uids = [load(p)["uid"] for p in DASHBOARDS]
    assert len(uids) == len(set(uids))


def test_queries_use_no_grafana_variables():
    """The notebooks run these queries straight against Prometheus: literal ranges only."""
    for where, expr in exprs():
        assert "$" not in expr, f"{where}: Grafana variable in {expr!r}"


def test_recording_rules_used_by_dashboards_exist():
    recorded = {r["record"] for g in load_yaml(RULES_DIR / "recording.yml")["groups"] for r in g["rules"]}
    for where, expr in exprs():
        for name in re.findall(r"\b[a-z_]+:[a-z0-9_]+:[a-z0-9_]+\b", expr):
            assert name in recorded, f"{where}: unknown recording rule {name}"


def test_queries_parse(tmp_path):
    """Every query is valid PromQL (promtool parses it as a recording rule)."""
    promtool = tool("promtool")
    rules = [{"record": f"check:dashboard:q{i}", "expr": e} for i, (_, e) in enumerate(exprs())]
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    run(promtool, "check", "rules", str(path))


def test_datasources_provisioning():
    doc = load_yaml(GRAFANA / "provisioning" / "datasources" / "datasources.yml")
    assert doc["apiVersion"] == 1
    by_uid = {d["uid"]: d for d in doc["datasources"]}
    assert by_uid["prometheus"]["type"] == "prometheus"
    assert by_uid["prometheus"]["url"] == "http://prometheus:9090"
    assert by_uid["elasticsearch"]["type"] == "elasticsearch"
    assert by_uid["elasticsearch"]["url"] == "http://elasticsearch:9200"
    assert by_uid["elasticsearch"]["jsonData"]["index"] == "filebeat-*"
    assert by_uid["alertmanager"]["type"] == "alertmanager"
    assert sum(bool(d.get("isDefault")) for d in doc["datasources"]) == 1


def test_dashboards_provisioning():
    doc = load_yaml(GRAFANA / "provisioning" / "dashboards" / "dashboards.yml")
    assert doc["apiVersion"] == 1
    (provider,) = doc["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"


def elasticsearch_panels(name: str) -> dict[str, dict]:
    """A dashboard's panels on the Elasticsearch datasource, by type."""
    return {p["type"]: p for p in load(GRAFANA / "dashboards" / f"{name}.json")["panels"]
            if p["datasource"] == ELASTICSEARCH_DS}


def test_logs_dashboard_shows_the_app_error_lines_from_elasticsearch():
    """Under Docker the logs dashboard lists the replicas' error lines and counts them by replica.

    The fields are Filebeat's: `container.name` (add_docker_metadata; the container is the
    replica), `log.level` (filebeat.yml renames the app's decoded `json.level` there) and
    `json.status` (the app's access-log status, decoded under json.*).
    """
    panels = elasticsearch_panels("logs")
    assert set(panels) == {"logs", "timeseries"}
    datasource = {d["uid"]: d for d in load_yaml(GRAFANA / "provisioning" / "datasources" / "datasources.yml")
                  ["datasources"]}[ELASTICSEARCH_DS["uid"]]
    level_field = datasource["jsonData"]["logLevelField"]
    for panel in panels.values():
        (target,) = panel["targets"]
        query = target["query"]
        assert "container.name:app*" in query, query
        assert f"{level_field}:(ERROR OR CRITICAL)" in query, query
        assert "json.status:>=500" in query, query
        assert target["timeField"] == datasource["jsonData"]["timeField"]
    (terms,) = [b for b in panels["timeseries"]["targets"][0]["bucketAggs"] if b["type"] == "terms"]
    assert terms["field"] == "container.name"
    assert panels["timeseries"]["targets"][0]["alias"] == "{{term container.name}}"
    assert int(panels["logs"]["targets"][0]["metrics"][0]["settings"]["limit"]) > 0
    assert panels["logs"]["options"]["sortOrder"] == "Descending"


def test_native_plots_skip_the_elasticsearch_panels():
    """Without Grafana the notebooks draw the PromQL panels only: the Elasticsearch ones are not drawn."""
    from chaoslib.observe import dashboards

    titles = {p.title for p in dashboards.panels("logs")}
    assert titles and not titles & {p["title"] for p in elasticsearch_panels("logs").values()}
