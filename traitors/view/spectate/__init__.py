"""The terminal spectator: ``traitors watch``, and the view that ``traitors play`` and
``run --live`` compose with a running episode (in ``traitors.commands``).

``tail`` reads an episode directory while any executor writes it; ``view.Spectator`` keeps
one viewer's view (god, or a player's through ``player_view``) as a board and a call
``meter``; ``panels`` renders it with rich; ``display`` shows it live in a terminal or as
plain lines otherwise; ``app`` is the interactive Textual view, ``watch``, ``runs`` and
``live`` drive it. It reads the store and the game contract only.
"""
