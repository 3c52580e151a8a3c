"""Chaos Control: a game day in a box."""
__version__ = "0.1.0"
