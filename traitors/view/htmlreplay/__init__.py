"""One episode as a single self-contained HTML replay (``traitors export``).

``document`` builds the JSON data of the god view or of one seat (only what that seat saw),
and ``page`` embeds it with the static ``replay.js`` and ``replay.css`` into one HTML file.
It reads the store and the game contract only; the command is ``traitors.commands.export``.
"""
