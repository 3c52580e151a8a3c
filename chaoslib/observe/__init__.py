"""Watching the stack from outside: metrics, alerts and pages, logs, dashboards."""
