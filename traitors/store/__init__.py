"""Where episodes live and how they are found: the episode directory, reading and writing its
logs (events, manifest, model calls), Parquet shards, a sweep's journal, and the validity
counts read from them. The episode, sweep, analysis and view layers all read it; it uses
only the game contract and ``traitors.util``."""
