"""Kibana (Docker backend): kibana-setup's script and payloads make the data view and the game's saved search."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

from .compose import REPO, services, volume_parts
from .test_filebeat import config, elasticsearch_datasource

KIBANA = REPO / "stack" / "kibana"
SCRIPT = KIBANA / "setup.sh"
SEARCH_ID = "chaos-app-errors"


def payload(name: str) -> dict:
    return json.loads((KIBANA / name).read_text())


def search_source() -> dict:
    return json.loads(payload("app-errors-search.json")["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])


def test_the_script_is_valid_shell():
    """shellcheck when it is installed (Debian: shellcheck), else bash's own parse."""
    checker = shutil.which("shellcheck")
    argv = [checker, str(SCRIPT)] if checker else ["bash", "-n", str(SCRIPT)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_script_posts_each_payload_with_overwrite():
    """The data view (override) and the saved search (overwrite) are posted, so a rerun changes nothing."""
    text = SCRIPT.read_text()
    posts = re.findall(r"^post (\S+) (\S+)$", text, re.M)
    assert posts == [("/api/data_views/data_view", "data-view.json"),
                     (f'"/api/saved_objects/search/{SEARCH_ID}?overwrite=true"', "app-errors-search.json")]
    for _path, name in posts:
        assert (KIBANA / name).is_file(), name
    assert payload("data-view.json")["override"] is True
    assert "set -euo pipefail" in text


def test_kibana_setup_runs_the_script_mounted_read_only():
    """The one-shot service runs setup.sh from the folder mounted read-only, once Kibana is healthy."""
    svc = services()["kibana-setup"]
    mounts = {volume_parts(v)[0]: volume_parts(v)[1:] for v in svc["volumes"]}
    target = mounts["./stack/kibana"]
    assert target[0] == "/setup" and "ro" in target[1:], target
    assert svc["entrypoint"] == ["bash", "/setup/setup.sh"]
    assert svc["image"] == services()["kibana"]["image"]
    assert svc["depends_on"] == {"kibana": {"condition": "service_healthy"}}


def test_the_saved_search_reads_the_data_view():
    """The saved search names the data view by id through its reference, as Kibana stores it."""
    view = payload("data-view.json")["data_view"]
    search = payload("app-errors-search.json")
    ref_name = search_source()["indexRefName"]
    (ref,) = [r for r in search["references"] if r["name"] == ref_name]
    assert ref == {"name": ref_name, "type": "index-pattern", "id": view["id"]}
    assert view["id"] == "filebeat"
    assert view["title"] == elasticsearch_datasource()["jsonData"]["index"]


def test_the_saved_search_lists_the_app_error_lines_newest_first():
    """KQL on Filebeat's fields: the replicas' containers, ERROR/CRITICAL (log.level) or a 5xx (json.status)."""
    attrs = payload("app-errors-search.json")["attributes"]
    assert "Chaos Control" in attrs["title"]
    query = search_source()["query"]
    assert query["language"] == "kuery"
    assert "container.name : app*" in query["query"]
    level_field = {f["from"]: f["to"] for p in config()["processors"] if "rename" in p
                   for f in p["rename"]["fields"]}["json.level"]
    assert f"{level_field} : (ERROR or CRITICAL)" in query["query"]
    assert "json.status >= 500" in query["query"]
    assert attrs["sort"] == [["@timestamp", "desc"]]
    assert attrs["columns"][0] == "container.name" and "message" in attrs["columns"]
