"""The game contract every scenario implements: actions, events and who sees them, rules,
words, the seeded random streams, the spectator's board and transcript lines, and the registry
through which scenarios and policies are found. It imports nothing from the layers above it
(only ``traitors.util``), so a scenario depends on this package alone."""
