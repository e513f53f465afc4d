"""The command line's subcommands, the layer that composes the others: running and sweeping
(``run``), forks and influence, planning, analysis with its replays, watching and playing.
Only ``traitors.cli`` imports this package."""
