"""Remake docs/watch.svg and docs/watch.txt: the interactive watch view of the sample episode of
docs/guides/watching.md (The Traitors, 10 players, ``fake/random`` agents), paused in round
1's murder vote.

    .venv/bin/python docs/capture_watch.py
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from traitors.episode.spec import load_spec
from traitors.sweep.episodes import run_episodes
from traitors.view.spectate.app import WatchApp

DOCS = Path(__file__).resolve().parent
SPEC = DOCS.parent / "scenarios" / "the_traitors.yaml"
SIZE = (150, 46)


def screen_text(app: WatchApp) -> str:
    """The characters on the screen, line by line."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(s.text for s in strip).rstrip() for strip in strips) + "\n"


async def capture(episode: Path) -> None:
    app = WatchApp(episode, speed=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("home", "right_square_bracket", "right_square_bracket")
        await pilot.press(*["full_stop"] * 4)  # round 1: discussion ... the murder vote
        await pilot.press(*["right"] * 3)
        await pilot.pause(0.2)
        app.save_screenshot("watch.svg", str(DOCS))
        (DOCS / "watch.txt").write_text(screen_text(app))


def main() -> None:
    settings = ["agents.default.policy=llm", "agents.default.model=fake/random", "seed=7"]
    with tempfile.TemporaryDirectory() as out:
        (summary,) = run_episodes(load_spec(SPEC, settings), [7], Path(out))
        asyncio.run(capture(summary.dir))
    print(f"wrote {DOCS / 'watch.svg'} and {DOCS / 'watch.txt'}")


if __name__ == "__main__":
    main()
