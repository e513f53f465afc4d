"""One episode: the spec that names it, the steppable core, the async engine over policies,
recorded moves, restore and fork, and the conformance check. It uses the game contract and
the store, and no model code: policies reach models through ``Services.gateway``, a protocol
this package owns (``traitors.llm.Gateway`` implements it)."""
