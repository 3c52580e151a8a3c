"""`chaosctl mcp`: serve the game to an LLM agent as MCP tools (stdio, or HTTP on loopback with a token).

Argument parsing only: the tools are chaoslib.agents.server's over an `AgentSession`. In stdio mode
stdout carries the protocol alone, so everything said to a person (progress, the token) goes to stderr.
"""
from __future__ import annotations

import argparse
import secrets
import sys
from typing import Any

from chaoslib.agents import AgentSession, Bounds
from chaoslib.cli.args import stack_of
from chaoslib.cli.output import progress
from chaoslib.errors import UsageError
from chaoslib.game import Game


def cmd_mcp(args: argparse.Namespace) -> int:
    # The MCP SDK takes most of a second to import: only this command loads it.
    from chaoslib.agents import server as mcp_server

    if args.timeout <= 0 or args.max_chars < 500:
        raise UsageError("--timeout must be above 0 and --max-chars at least 500", field="timeout",
                         value=(args.timeout, args.max_chars))
    stack = stack_of(args)
    if args.up:
        stack.up(progress=progress)
    game = Game(stack, autopilot=False)
    if args.play:
        families = [f.strip() for f in args.families.split(",") if f.strip()] if args.families else None
        info = game.start(seed=args.seed, difficulty=args.difficulty, families=families, progress=progress)
        progress(f"the game is on ({info.difficulty}): the agent plays it")
    bounds = Bounds(call_timeout_s=args.timeout, validate_timeout_s=max(args.timeout, args.validate_timeout))
    session = AgentSession(game, bounds=bounds, validation_window_s=args.validation_window)
    server = mcp_server.build(session, max_chars=args.max_chars, timeout_s=bounds.call_timeout_s,
                              validate_timeout_s=bounds.validate_timeout_s)
    if args.http is None:
        mcp_server.serve_stdio(server)
        return 0
    token = args.token or secrets.token_urlsafe(24)
    if not args.token:
        print(f"chaosctl mcp: bearer token {token}", file=sys.stderr, flush=True)
    progress(f"MCP over HTTP at http://{args.host}:{args.http}/mcp (send 'Authorization: Bearer <token>')")
    mcp_server.serve_http(server, host=args.host, port=args.http, token=token)
    return 0


def register(sub: Any) -> None:
    """Add `chaosctl mcp` to the sub-command parser `sub`."""
    p = sub.add_parser("mcp", help="serve the game to an LLM agent as MCP tools (stdio; --http PORT for HTTP)")
    p.add_argument("--http", type=int, default=None, metavar="PORT",
                   help="serve streamable HTTP on PORT (loopback only, with a bearer token) instead of stdio")
    p.add_argument("--host", default="127.0.0.1", help="the loopback address to listen on with --http")
    p.add_argument("--token", default=None, help="the bearer token for --http (default: a new one, on stderr)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds each tool call may take (default 30)")
    p.add_argument("--validate-timeout", type=float, default=300.0,
                   help="seconds validate_fix may take (default 300)")
    p.add_argument("--max-chars", type=int, default=20_000, help="characters in one answer at most (default 20000)")
    p.add_argument("--validation-window", type=float, default=None,
                   help="seconds the steady state must hold (default: the game's, 60; 20 in CI)")
    p.add_argument("--up", action="store_true", help="start the stack first (the in-memory backend starts empty)")
    p.add_argument("--play", action="store_true",
                   help="start a game first (the agent never learns its seed); else the agent plays the one on")
    p.add_argument("--seed", type=int, default=None, help="with --play: the draw's seed")
    p.add_argument("--difficulty", default="normal", choices=["easy", "normal", "hard"], help="with --play")
    p.add_argument("--families", default=None, help="with --play: FAMILY[,FAMILY] to draw from (default all)")
    p.set_defaults(func=cmd_mcp)
