"""Filebeat: autodiscover of Docker container logs with hints, Docker metadata, into filebeat-* on Elasticsearch."""
from __future__ import annotations

from fnmatch import fnmatch
from typing import Any

import yaml

from .compose import REPLICAS, REPO, services

FILEBEAT = REPO / "stack" / "filebeat" / "filebeat.yml"
DATASOURCES = REPO / "grafana" / "provisioning" / "datasources" / "datasources.yml"


def expand(node: Any) -> Any:
    """Dotted keys as nested mappings, the way Filebeat reads `a.b: x` == `a: {b: x}`."""
    if isinstance(node, list):
        return [expand(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict = {}
    for key, value in node.items():
        head, *rest = str(key).split(".")
        value = expand(value)
        for part in reversed(rest):
            value = {part: value}
        if isinstance(out.get(head), dict) and isinstance(value, dict):
            out[head] = expand({**out[head], **value})
        else:
            out[head] = value
    return out


def config() -> dict:
    return expand(yaml.safe_load(FILEBEAT.read_text()))


def elasticsearch_datasource() -> dict:
    (ds,) = [d for d in yaml.safe_load(DATASOURCES.read_text())["datasources"] if d["type"] == "elasticsearch"]
    return ds


def test_autodiscover_docker_with_hints():
    """One docker provider, hints on, default input: the container's json-file log by its id."""
    (provider,) = config()["filebeat"]["autodiscover"]["providers"]
    assert provider["type"] == "docker"
    assert provider["hints"]["enabled"] is True
    default = provider["hints"]["default_config"]
    assert default["type"] == "container"
    assert default["paths"] == ["/var/lib/docker/containers/${data.container.id}/*-json.log"]


def test_processors():
    """Docker metadata is added; decoded JSON lines lift their message and level where Grafana reads them."""
    processors = config()["processors"]
    names = [next(iter(p)) for p in processors]
    assert names[0] == "add_docker_metadata"
    renames = {f["from"]: f["to"] for p in processors if "rename" in p for f in p["rename"]["fields"]}
    ds = elasticsearch_datasource()["jsonData"]
    assert renames["json.message"] == ds["logMessageField"]
    assert renames["json.level"] == ds["logLevelField"]


def test_output_and_index_match_grafana():
    """Output to elasticsearch:9200; the index and template pattern fall under Grafana's index pattern."""
    cfg = config()
    assert cfg["output"]["elasticsearch"]["hosts"] == ["elasticsearch:9200"]
    pattern = elasticsearch_datasource()["jsonData"]["index"]
    assert pattern == "filebeat-*"
    assert fnmatch(cfg["output"]["elasticsearch"]["index"].replace("%{[agent.version]}", "8.15.3"), pattern)
    assert cfg["setup"]["template"]["pattern"] == pattern
    assert cfg["setup"]["template"]["settings"]["index"]["number_of_replicas"] == 0
    assert cfg["setup"]["kibana"]["host"] == "kibana:5601"


def test_app_containers_carry_json_hints():
    """The replicas (and Traefik) ask Filebeat to decode their JSON lines with co.elastic.logs/json.* hints."""
    for name in (*REPLICAS, "traefik"):
        labels = services()[name]["labels"]
        hints = {k: v for k, v in labels.items() if k.startswith("co.elastic.logs/json.")}
        assert hints.get("co.elastic.logs/json.keys_under_root") == "false", name
        assert hints.get("co.elastic.logs/json.add_error_key") == "true", name


def test_kibana_data_view_matches_the_index():
    """The one-shot kibana-setup creates (idempotently) a data view on Grafana's index pattern."""
    import json

    svc = services()["kibana-setup"]
    body = json.loads((REPO / "stack" / "kibana" / "data-view.json").read_text())
    assert body["override"] is True
    assert body["data_view"]["title"] == elasticsearch_datasource()["jsonData"]["index"]
    assert body["data_view"]["timeFieldName"] == elasticsearch_datasource()["jsonData"]["timeField"]
    assert svc["depends_on"] == {"kibana": {"condition": "service_healthy"}}
