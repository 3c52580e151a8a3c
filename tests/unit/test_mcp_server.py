"""`chaosctl mcp`: a real MCP client session over stdio lists the tools and plays a whole game on the in-memory
backend (a subprocess, no root); the HTTP mode wants its token and loopback; no tool reaches the truth."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest
import requests
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from chaoslib import config
from chaoslib.agents import AgentSession
from chaoslib.agents.server import TOOLS, _check_loopback
from chaoslib.errors import UsageError

REPO = Path(__file__).resolve().parents[2]
#: What a status detail says of a full disk (as in test_agents.py), and names no tool may carry.
SYMPTOMS = {"disk": ("no space", "disk full")}
HIDDEN = ("truth", "injected", "scenarios", "detective", "autofix", "panic", "abandon", "registry", "journal",
          "seed")


def server_args(state: Path, *extra: str) -> list[str]:
    return ["-m", "chaoslib.cli", "--backend", "memory", "--state-dir", str(state), "mcp", "--up", "--play",
            "--seed", "4", "--difficulty", "easy", "--families", "disk", "--validation-window", "0", *extra]


async def _play(state: Path) -> dict:
    """A client session, as an MCP-capable agent opens one: list the tools, then play from what they answer."""
    params = StdioServerParameters(command=sys.executable, args=server_args(state, "--max-chars", "4000"),
                                   cwd=str(REPO))
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = {t.name: t for t in (await session.list_tools()).tools}

        async def call(tool: str, **arguments) -> object:
            result = await session.call_tool(tool, arguments)
            text = result.content[0].text
            assert len(text) <= 4000, (tool, len(text))
            if result.is_error:
                return {"error": text}
            return json.loads(text)

        played = {"tools": tools, "clock": await call("game_clock"), "unknown": await call("truth"),
                  "no_prometheus": await call("promql_query", promql="up")}
        rows = (await call("stack_status"))["services"]["rows"]
        sick = [r for r in rows if r["kind"] == "replica" and not r["healthy"]]
        family = next(f for f, words in SYMPTOMS.items() if any(w in sick[0]["detail"].lower() for w in words))
        targets = [r["name"] for r in sick]
        played["hypothesis"] = await call("record_hypothesis", findings=[{"family": family, "targets": targets}],
                                          evidence="the status says the disk is full")
        for target in targets:
            files = (await call("show_view", name="disk-files", arguments={"target": target}))["rows"]
            junk = [f["path"] for f in files if not config.is_app_file(f["path"])]
            await call("apply_fix", name="delete_files", arguments={"target": target, "paths": junk})
            await call("apply_fix", name="restart", arguments={"target": target})
        played["validation"] = await call("validate_fix", recover_s=0)
        played["outcome"] = await call("finish_game")
        played["targets"] = targets
        return played


def test_a_client_session_plays_a_whole_game_over_stdio(tmp_path):
    played = anyio.run(_play, tmp_path)
    assert set(played["tools"]) == set(TOOLS)
    for tool in played["tools"].values():
        assert len(tool.description) > 30 and tool.input_schema["type"] == "object"
    assert played["clock"]["status"] == "playing" and "seed" not in played["clock"]
    assert "truth" in played["unknown"]["error"].lower()  # an unknown tool, not an answer
    assert played["no_prometheus"]["error"].count("\n") == 0 and "Prometheus" in played["no_prometheus"]["error"]
    assert played["hypothesis"]["version"] == 1
    assert played["validation"] == {"passed": True, "problems": [], "window_s": 0}
    score = played["outcome"]["score"]
    assert score["diagnosis_correct"] and score["wrong_fixes"] == 0 and score["points"] > 0
    assert [f["targets"] for f in played["outcome"]["faults"]] == [played["targets"]]


def test_every_tool_is_a_session_method_and_none_is_hidden():
    """The tools map onto the agent session's public methods only; no tool is named after a hidden thing."""
    public = {n for n in dir(AgentSession) if not n.startswith("_")}
    assert {method for method, _ in TOOLS.values()} <= public
    assert not [t for t in TOOLS if any(h in t.split("_") for h in HIDDEN)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_http_wants_the_token_and_loopback(tmp_path):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, *server_args(tmp_path, "--http", str(port), "--token", "s3cret")],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url, deadline = f"http://127.0.0.1:{port}/mcp", time.monotonic() + 15
        while True:
            try:
                refused = requests.post(url, json={}, timeout=2)
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.1)
        assert refused.status_code == 401
        assert requests.post(url, json={}, headers={"Authorization": "Bearer wrong"}, timeout=5).status_code == 401
        hello = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                 "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                            "clientInfo": {"name": "test", "version": "0"}}}
        answered = requests.post(url, json=hello, timeout=5, headers={
            "Authorization": "Bearer s3cret", "Accept": "application/json, text/event-stream"})
        assert answered.status_code == 200, answered.text
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    with pytest.raises(UsageError, match="loopback only"):
        _check_loopback("0.0.0.0")
    _check_loopback("::1")
