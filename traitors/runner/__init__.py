"""Executors that run many episodes and write their directories."""
