"""The agent protocol over the Model Context Protocol: each `AgentSession` method as an MCP tool.

Served over stdio (the default), or streamable HTTP on a loopback address with a bearer token.
Every answer is compact JSON of at most `max_chars` characters (cut lists say `truncated: true`),
every call answers within its time limit or with a one-line error. The tools are exactly the
session's: nothing here reaches the game's truth. Imported only by `chaosctl mcp` (the `mcp`
package takes a noticeable time to import).
"""
from __future__ import annotations

import asyncio
import hmac
import ipaddress
from collections.abc import Awaitable, Callable, MutableMapping
from functools import partial
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from chaoslib.agents.bounds import fit
from chaoslib.agents.session import AgentSession
from chaoslib.errors import ChaosError, UsageError

INSTRUCTIONS = """You are on call for a Django polls app (replicas app1..appN behind Traefik, PostgreSQL,
Prometheus). A hidden incident may have been injected. Observe (stack_status, promql_*, search_logs,
count_logs, first_page, list_pages, list_alerts, dashboard_data), record what you conclude
(record_hypothesis with families from list_families), fix it with the player's fixes (list_fixes,
show_view, apply_fix), prove it (validate_fix), then finish_game to see the truth and the score.
Wrong fixes, wrong diagnoses and hints cost points; time counts. Answers are JSON; long lists are
cut and say "truncated": true with their total size. Times are Unix seconds."""

#: ASGI's shapes (the SDK's Starlette app, uvicorn's calls), spelled here rather than imported from Starlette.
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The tools and what each says to an LLM: name -> (session method, description).
TOOLS: dict[str, tuple[str, str]] = {
    "game_clock": ("clock", "The game's status (none, playing, finished), difficulty, Unix time it began "
                   "(started_at), seconds since (elapsed_s) and now. Cheap: call it any time."),
    "stack_status": ("status", "Every service (postgres, traefik, loadgen, app1..appN): state, healthy, detail, "
                     "restarts, uptime_s, CPU seconds, memory and disk in bytes, limits (cores, bytes); and "
                     "'problems': what keeps the stack from its steady state now."),
    "promql_query": ("query", "An instant PromQL query against Prometheus (e.g. "
                     "sum by (replica) (rate(traefik_service_requests_total[1m]))). Returns at most 20 series "
                     "as {labels, time, value}. Errors in one line on a stack without Prometheus."),
    "promql_range": ("query_range", "A PromQL range query over the last `minutes` (at most 120) with `step_s` "
                     "seconds between samples (raised so a series has at most 60 points). At most 20 series as "
                     "{labels, points: [[unix_s, value], ...]}."),
    "search_logs": ("logs", "Search the logs of the last `minutes` (at most 120): filter by service (app1, "
                    "traefik, postgres...), replica, level (that level or worse: warning, error) and text (a "
                    "case-insensitive substring). The newest 100 lines, each cut to 300 characters."),
    "count_logs": ("log_counts", "How many log lines match, grouped by `by` columns (service, replica, level, "
                   "logger, status, message...), most first: the quick way to see who logs errors."),
    "first_page": ("page", "The game's first page (the alert that woke you): alertname, replica, summary, "
                   "after_s since the game began; null before it comes (or without a pager)."),
    "list_pages": ("pages", "Every notification the pager received in this game (firing and resolved), newest last."),
    "list_alerts": ("alerts", "The alerts Prometheus evaluates as pending or firing now."),
    "list_dashboards": ("dashboards", "The dashboards' names (for dashboard_data)."),
    "dashboard_data": ("dashboard", "One dashboard's panels over the last `minutes`: per panel {columns, points: "
                       "[[unix_s, v1, v2...]]}, at most 20 lines and 60 points each."),
    "list_families": ("families", "The fault families a finding may name in record_hypothesis."),
    "list_fixes": ("fixes", "The player's fixes (what each does, its arguments) and the read-only views they need "
                   "(firewall rules, a disk's files)."),
    "show_view": ("view", "One read-only view by name with its `arguments` (e.g. {\"target\": \"app2\"}): "
                  "changes nothing, costs nothing."),
    "record_hypothesis": ("hypothesis", "Record (or revise) your diagnosis: `findings` is a list of {\"family\": "
                          "one of list_families, \"targets\": [replicas]}, one per fault; `evidence` in your words. "
                          "Every version is kept; the last one is scored."),
    "list_hypotheses": ("hypotheses", "Every hypothesis recorded in this game, oldest first."),
    "declare_no_fault": ("declare_no_fault", "Answer that nothing is wrong in this game (no fault), with your "
                         "evidence. Errors in one line where the game cannot take that answer yet."),
    "apply_fix": ("apply_fix", "Apply one of the player's fixes by name with its `arguments` (e.g. {\"target\": "
                  "\"app2\"}). A wrong fix costs 5 points."),
    "validate_fix": ("validate", "Wait up to `recover_s` seconds for the stack to recover, hold the steady state over "
                     "the game's window, and check the cause is gone: {passed, problems, window_s}. May take minutes."),
    "get_hint": ("hint", "The next hint (where to look, then the family, then the replicas); each costs 10 points."),
    "give_up": ("give_up", "End the game now, unsolved: the truth and the score."),
    "finish_game": ("finish", "End the game (after validate_fix passed): the truth (faults), the score, the "
                    "postmortem's path."),
    "get_score": ("score", "The finished game's score: points, times to detect, diagnose and recover (s), what "
                  "cost points."),
    "answer_limits": ("limits", "The caps on answers and calls: rows, series, points, characters, minutes back, "
                      "seconds per call."),
}


def _check_loopback(host: str) -> None:
    """A one-line error unless `host` is a loopback address (the token is the only other guard)."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise UsageError(f"the MCP server listens on loopback only, not {host!r}", field="host", value=host,
                         hint="use 127.0.0.1 and forward the port (ssh -L) to reach it from elsewhere")


class BearerGate:
    """An ASGI wrapper answering 401 to any HTTP request without `Authorization: Bearer <token>`."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app, self.token = app, token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, b"Bearer " + self.token):
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"text/plain"), (b"www-authenticate", b"Bearer")]})
                await send({"type": "http.response.body", "body": b"a bearer token is required\n"})
                return
        await self.app(scope, receive, send)


def build(session: AgentSession, *, max_chars: int = 20_000, timeout_s: float = 30.0,
          validate_timeout_s: float = 300.0) -> MCPServer[Any]:
    """The MCP server offering `session`'s methods as TOOLS, each answer at most `max_chars` characters."""
    server: MCPServer[Any] = MCPServer(name="chaos-control", instructions=INSTRUCTIONS)

    async def call(tool: str, method: Callable[..., Any], **arguments: Any) -> str:
        limit = (validate_timeout_s if tool == "validate_fix" else timeout_s) + 5  # the session's own limit first
        try:  # on expiry the worker thread is left to finish; the session lets one call run at a time
            answer = await asyncio.wait_for(asyncio.to_thread(partial(method, **arguments)), limit)
        except TimeoutError:
            raise ToolError(f"{tool} did not answer within {limit:g} s") from None
        except ChaosError as e:
            raise ToolError(e.one_line()) from None
        except (TypeError, ValueError) as e:  # arguments the method does not take
            raise ToolError(f"{tool}: {str(e).splitlines()[0]}") from None
        return fit(answer, max_chars)

    for name, fn in _tools(session, call).items():
        server.add_tool(fn, name=name, description=TOOLS[name][1], structured_output=False)
    return server


def _tools(s: AgentSession, call: Callable[..., Awaitable[str]]) -> dict[str, Callable[..., Awaitable[str]]]:
    """One async function per tool, typed so the SDK writes each tool's input schema."""
    async def game_clock() -> str:
        return await call("game_clock", s.clock)

    async def stack_status() -> str:
        return await call("stack_status", s.status)

    async def promql_query(promql: str) -> str:
        return await call("promql_query", s.query, promql=promql)

    async def promql_range(promql: str, minutes: float = 15, step_s: float = 15) -> str:
        return await call("promql_range", s.query_range, promql=promql, minutes=minutes, step_s=step_s)

    async def search_logs(service: str | None = None, replica: str | None = None, level: str | None = None,
                          text: str | None = None, minutes: float = 15) -> str:
        return await call("search_logs", s.logs, service=service, replica=replica, level=level, text=text,
                          minutes=minutes)

    async def count_logs(by: list[str] | None = None, service: str | None = None, replica: str | None = None,
                         level: str | None = None, text: str | None = None, minutes: float = 15) -> str:
        return await call("count_logs", s.log_counts, by=tuple(by or ("service", "level")), service=service,
                          replica=replica, level=level, text=text, minutes=minutes)

    async def first_page() -> str:
        return await call("first_page", s.page)

    async def list_pages() -> str:
        return await call("list_pages", s.pages)

    async def list_alerts() -> str:
        return await call("list_alerts", s.alerts)

    async def list_dashboards() -> str:
        return await call("list_dashboards", s.dashboards)

    async def dashboard_data(name: str, minutes: float = 15) -> str:
        return await call("dashboard_data", s.dashboard, name=name, minutes=minutes)

    async def list_families() -> str:
        return await call("list_families", s.families)

    async def list_fixes() -> str:
        return await call("list_fixes", s.fixes)

    async def show_view(name: str, arguments: dict[str, Any] | None = None) -> str:
        return await call("show_view", s.view, name=name, arguments=arguments)

    async def record_hypothesis(findings: list[dict[str, Any]], evidence: str = "") -> str:
        return await call("record_hypothesis", s.hypothesis, findings=findings, evidence=evidence)

    async def list_hypotheses() -> str:
        return await call("list_hypotheses", s.hypotheses)

    async def declare_no_fault(evidence: str = "") -> str:
        return await call("declare_no_fault", s.declare_no_fault, evidence=evidence)

    async def apply_fix(name: str, arguments: dict[str, Any] | None = None) -> str:
        return await call("apply_fix", s.apply_fix, name=name, arguments=arguments)

    async def validate_fix(recover_s: float = 120) -> str:
        return await call("validate_fix", s.validate, recover_s=recover_s)

    async def get_hint() -> str:
        return await call("get_hint", s.hint)

    async def give_up() -> str:
        return await call("give_up", s.give_up)

    async def finish_game() -> str:
        return await call("finish_game", s.finish)

    async def get_score() -> str:
        return await call("get_score", s.score)

    async def answer_limits() -> str:
        return await call("answer_limits", s.limits)

    tools = {name: fn for name, fn in locals().items() if name in TOOLS}
    assert set(tools) == set(TOOLS), set(TOOLS) ^ set(tools)
    return tools


def serve_stdio(server: MCPServer[Any]) -> None:
    """Serve over stdin/stdout until the client closes them (stdout carries only the protocol)."""
    server.run("stdio")


def serve_http(server: MCPServer[Any], *, host: str, port: int, token: str) -> None:
    """Serve streamable HTTP at http://HOST:PORT/mcp, loopback only, every request with the bearer token."""
    _check_loopback(host)
    app = BearerGate(server.streamable_http_app(host=host), token)
    uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning")).run()
