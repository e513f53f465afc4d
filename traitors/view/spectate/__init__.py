"""Watching episodes and playing in them: ``traitors watch``, ``traitors play``, ``run --live``.

``tail`` reads an episode directory while any executor writes it; ``view.Spectator`` keeps
one viewer's view (god, or a player's through ``player_view``) as a ``board`` and a call
``meter``; ``panels`` renders it with rich; ``display`` shows it live in a terminal or as
plain ``lines`` otherwise; ``watch``, ``runs``, ``live`` and ``play`` drive the commands
defined in ``commands``.
"""
