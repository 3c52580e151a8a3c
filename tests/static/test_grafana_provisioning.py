"""Grafana under Docker: dashboards load, name only provisioned datasources, and the provider path is mounted."""
from __future__ import annotations

import json
from collections.abc import Iterator

import yaml

from .compose import REPO, services, volume_parts

GRAFANA = REPO / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
BUILTIN_UIDS = {"-- Grafana --", "grafana", "-- Mixed --", "-- Dashboard --"}


def datasource_refs(node) -> Iterator[dict]:
    """Every `datasource` object anywhere in a dashboard (panels, targets, annotations)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource" and isinstance(value, dict):
                yield value
            yield from datasource_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from datasource_refs(item)


def provisioned() -> dict[str, dict]:
    doc = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "datasources.yml").read_text())
    return {d["uid"]: d for d in doc["datasources"]}


def test_dashboards_load_and_use_provisioned_datasources():
    """Every dashboard is JSON whose datasource uids (and types) are provisioned or Grafana's own."""
    assert DASHBOARDS
    sources = provisioned()
    for path in DASHBOARDS:
        refs = list(datasource_refs(json.loads(path.read_text())))
        assert refs, path.name
        for ref in refs:
            uid = ref.get("uid")
            if uid in BUILTIN_UIDS:
                continue
            assert uid in sources, f"{path.name}: unknown datasource uid {uid!r}"
            assert ref.get("type", sources[uid]["type"]) == sources[uid]["type"], (path.name, ref)


def test_provider_path_is_the_compose_mount():
    """The dashboards provider reads the folder docker-compose.yml mounts grafana/dashboards on."""
    doc = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "dashboards.yml").read_text())
    (provider,) = doc["providers"]
    mounts = {volume_parts(v)[0]: volume_parts(v)[1] for v in services()["grafana"]["volumes"]}
    assert mounts["./grafana/dashboards"] == provider["options"]["path"]
    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"


def test_datasource_urls_are_compose_services():
    """Each provisioned datasource points at a compose service by name."""
    names = set(services())
    for ds in provisioned().values():
        host = ds["url"].split("//", 1)[1].split(":")[0]
        assert host in names, ds["url"]


def test_elasticsearch_datasource_serves_the_log_panels():
    """The Elasticsearch datasource (fixed uid, Filebeat's index and time field) is the one the logs panels name."""
    ds = provisioned()["elasticsearch"]
    assert ds["type"] == "elasticsearch" and ds["url"] == "http://elasticsearch:9200"
    assert ds["jsonData"]["index"] == "filebeat-*" and ds["jsonData"]["timeField"] == "@timestamp"
    log_panels = []
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            refs = [panel["datasource"], *(t.get("datasource", panel["datasource"]) for t in panel["targets"])]
            if any(r.get("type") == "elasticsearch" for r in refs):
                assert all(r == {"type": "elasticsearch", "uid": "elasticsearch"} for r in refs), (path.name, panel)
                log_panels.append(panel["type"])
    assert "logs" in log_panels
