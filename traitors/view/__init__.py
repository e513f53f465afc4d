"""What a person sees: the terminal spectator (``spectate``) and self-contained HTML replays
(``htmlreplay``). Views read episodes through the store and render them with the game
contract; they never run an episode (``traitors play`` composes one in ``traitors.commands``)."""
