"""Policies: scripted baselines (and later LLM and human seats)."""
