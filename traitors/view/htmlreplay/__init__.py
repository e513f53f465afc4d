"""``traitors export``: one episode as a single self-contained HTML replay.

``document`` builds the JSON data of the god view or of one seat (only what that seat saw),
``page`` embeds it with the static ``replay.js`` and ``replay.css`` into one HTML file, and
``command`` is the CLI. This module imports nothing, so the CLI starts fast.
"""
