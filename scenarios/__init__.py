"""Scenario rules (one module per game) and their ready-to-run YAML specs."""
