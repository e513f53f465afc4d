"""Kaggle Game Arena Werewolf replays read as Werewolf episodes (``traitors import
kaggle-werewolf``): :data:`IMPORTER`, announced through the entry-point group
``traitors.importers``.

Modules, one job each: ``stream`` reads a replay's top-level keys without ``steps``;
``records`` decodes the moderator's records; ``table`` finds the seats, true roles and
agents; ``rules`` maps the configuration onto Werewolf's rule options and presets;
``events`` translates the records into Werewolf's events; ``manifest`` builds the manifest;
``importer`` ties them together.
"""

from scenarios.werewolf_kaggle.importer import KaggleWerewolf

IMPORTER = KaggleWerewolf()
"""The importer of Kaggle Werewolf replays."""
