"""Watching episodes: plain line output now; the rich live view builds on it."""
