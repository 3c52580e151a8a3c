"""The agent protocol: the `Game` façade served to programs (`AgentSession`) and over MCP (`chaosctl mcp`).

An agent sees and does what a person on call does, as plain bounded data; nothing here reaches the
game's hidden truth. agents/server.py (the MCP tools) is imported only by `chaosctl mcp`.
"""
from chaoslib.agents.bounds import Bounds, CallTimedOut
from chaoslib.agents.session import AgentSession

__all__ = ["AgentSession", "Bounds", "CallTimedOut"]
