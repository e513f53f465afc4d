"""Many episodes: jobs, the local and Ray executors, budgets and estimates, designs and the
stopping rule, inference workers, the process-wide model services, and replay. It composes
the episode layer with ``traitors.llm`` and writes through the store."""
