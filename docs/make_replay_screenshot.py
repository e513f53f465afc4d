"""Remake ``docs/replay.png``: the god-view HTML replay of a scripted episode of
``scenarios/the_traitors.yaml`` (seed 1, four rounds), scrubbed to the second round's
public vote and its reveal, in headless Chromium at 1280x900.

    .venv/bin/python docs/make_replay_screenshot.py [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from traitors.episode.spec import load_spec, with_policy
from traitors.game.events import RevealEvent, VoteResultEvent
from traitors.store.log import read_episode
from traitors.sweep.episodes import run_episodes
from traitors.view.htmlreplay.document import build_document
from traitors.view.htmlreplay.page import render_page

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "scenarios" / "the_traitors.yaml"
OUT = ROOT / "docs" / "replay.png"
SEED = 1
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def main() -> None:
    """Play the episode, export it, open it at the chosen step and take the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="browser executable")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        (summary,) = run_episodes(with_policy(load_spec(SPEC), "heuristic"), [SEED], Path(tmp))
        log = read_episode(summary.dir)
        document = build_document(log.manifest, log.events)
        results = [
            e.seq
            for e in log.events
            if isinstance(e, VoteResultEvent | RevealEvent)
            and e.round == 2
            and e.visibility.scope == "public"
        ]
        steps = document["views"][0]["steps"]
        step = steps.index(results[-1]) if results else len(steps) // 2
        page_file = Path(tmp) / "replay.html"
        page_file.write_text(render_page(document), encoding="utf-8")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route(
                "**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort()
            )
            page.goto(page_file.as_uri())
            page.eval_on_selector(
                "#step", "(e, v) => { e.value = v; e.dispatchEvent(new Event('input')); }", step
            )
            page.screenshot(path=str(OUT))
            browser.close()
    print(f"wrote {OUT} (episode {log.manifest.episode_id}, step {step + 1} of {len(steps)})")


if __name__ == "__main__":
    main()
