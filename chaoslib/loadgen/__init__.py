"""Steady traffic for the stack (Locust), with a ledger of every acknowledged vote."""
