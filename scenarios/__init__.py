"""Scenario rules (one module or package per game, on the kit in `common`) and their
ready-to-run YAML specs."""
