"""Analysis of run logs (reads logs only, never the engine)."""
