"""Where the logs come from, and the player told which: the docker backend's choice, the search's attrs."""
from __future__ import annotations

from chaoslib.backends.base.logs import FILES
from chaoslib.backends.docker import DockerBackend
from chaoslib.backends.docker import logs as docker_logs
from chaoslib.config import Settings
from chaoslib.game import Game
from chaoslib.observe.logs import GIVEN_FILES, Logs


def test_a_search_says_where_its_lines_came_from(tmp_path):
    log = tmp_path / "app1.log"
    log.write_text('{"time": "2026-12-06T10:00:00Z", "level": "error", "message": "boom"}\n')
    frame = Logs({"app1": [log]}).search(minutes=None)
    assert list(frame["message"]) == ["boom"]
    assert frame.attrs == {"log_source": GIVEN_FILES[0], "log_note": GIVEN_FILES[1]}
    counts = Logs({"app1": [log]}).counts(minutes=None)
    assert counts.attrs["log_source"] == "files"
    assert Logs({}).counts(minutes=None).attrs["log_source"] == "files"  # no lines: still said


def test_a_backend_of_captured_files_says_so(memory_stack):
    observe = Game(stack=memory_stack).observe
    assert observe.log_source() == FILES and str(FILES) == FILES.note
    assert observe.logs(minutes=None).attrs["log_source"] == "files"


def _backend(tmp_path, monkeypatch, *, elasticsearch: bool) -> DockerBackend:
    backend = DockerBackend(Settings(state_dir=tmp_path / "state"), project="chaos-control-unit")
    asked: list[str] = []

    def reachable(url: str) -> bool:
        asked.append(url)
        return elasticsearch
    monkeypatch.setattr(docker_logs.elastic(), "reachable", reachable)
    backend.asked = asked  # type: ignore[attr-defined]
    return backend


def test_docker_reads_elasticsearch_when_it_answers_else_the_engine(tmp_path, monkeypatch):
    up = _backend(tmp_path, monkeypatch, elasticsearch=True)
    assert up.log_source() is docker_logs.ELASTICSEARCH and up.asked == [up.endpoints()["elasticsearch"]]
    down = _backend(tmp_path, monkeypatch, elasticsearch=False)
    assert down.log_source() is docker_logs.ENGINE
    assert str(down.log_source()) == ("logs from the Docker engine "
                                      "(start with --profile logs for Elasticsearch and Kibana)")


def test_one_answer_stands_for_a_search_then_elasticsearch_is_asked_again(tmp_path, monkeypatch):
    backend = _backend(tmp_path, monkeypatch, elasticsearch=False)
    assert backend.log_source() is backend.log_source() is docker_logs.ENGINE
    assert len(backend.asked) == 1
    monkeypatch.setattr(docker_logs, "SOURCE_TTL_S", 0.0)  # the answer has aged
    backend.log_source()
    assert len(backend.asked) == 2
