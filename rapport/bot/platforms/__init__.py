"""Chat platforms: each turns its input into typed commands for the core, renders the core's
views its own way, and implements the scheduler's Messenger. Wired in `registry.py` only."""
