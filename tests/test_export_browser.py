"""HTML replays in a real browser (Debian's headless Chromium through playwright), every
network request blocked and counted: the transcript is complete, the scrubber and the seat
switch change the view, hostile text is shown literally and runs nothing, and a seat's
export shows nothing that seat did not see."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from replay_episodes import LONG, TAG, learned, run_hostile

from traitors.game.events import Event, player_view
from traitors.store.log import EpisodeLog, read_episode
from traitors.view.htmlreplay.page import episode_page
from traitors.view.spectate.view import episode_words

pytestmark = pytest.mark.slow  # a real browser
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
ROWS = "#transcript .row:not([hidden])"


def chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        pytest.skip(f"Debian's chromium is not installed (.ci/run installs it): no {path}")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for every test of the module."""
    executable = chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.skip(f"playwright is not installed (pip install -e '.[dev]'): {exc}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> EpisodeLog:
    (summary,) = run_hostile(tmp_path_factory.mktemp("run"))
    return read_episode(summary.dir)


@pytest.fixture(scope="module")
def exports(log: EpisodeLog, tmp_path_factory: pytest.TempPathFactory) -> dict[str | None, Path]:
    """The god export and one export per seat."""
    out = tmp_path_factory.mktemp("html")
    paths: dict[str | None, Path] = {}
    for seat in [None, *log.manifest.players]:
        paths[seat] = out / f"{seat or 'god'}.html"
        paths[seat].write_text(episode_page(log.manifest, log.events, seat), encoding="utf-8")
    return paths


class Opened:
    """A page showing one export, with every request and dialog it made."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.url = path.as_uri()
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(self.url)

    def _route(self, route: Any) -> None:
        if route.request.url == self.url:
            route.continue_()
        else:
            route.abort()

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def rows(self) -> int:
        return int(self.page.locator(ROWS).count())

    def scrub(self, step: int) -> None:
        self.page.eval_on_selector(
            "#step", "(e, v) => { e.value = v; e.dispatchEvent(new Event('input')); }", step
        )

    def role(self, player: str) -> str:
        return str(self.page.locator(f'#board tr[data-player="{player}"] td.role').inner_text())

    def close(self) -> None:
        """Close, after checking that nothing but the file was requested or went wrong."""
        assert self.requests == [self.url], f"requests besides the file: {self.requests}"
        assert not self.dialogs and not self.errors
        assert self.page.evaluate("typeof window.pwned") == "undefined"
        self.context.close()


@pytest.fixture
def opened(browser: Any) -> Iterator[Any]:
    pages: list[Opened] = []

    def open_export(path: Path) -> Opened:
        pages.append(Opened(browser, path))
        return pages[-1]

    yield open_export
    for page in pages:
        page.close()


def with_lines(events: list[Event], log: EpisodeLog) -> int:
    words = episode_words(log.dir)
    return sum(event.line_text(words) is not None for event in events)


def test_the_transcript_is_complete_and_the_scrubber_moves(
    log: EpisodeLog, exports: dict[str | None, Path], opened: Any
) -> None:
    shown = opened(exports[None])
    assert shown.rows() == with_lines(log.events, log)
    last = int(shown.page.get_attribute("#step", "max"))
    board = shown.page.inner_text("#board")
    shown.scrub(last // 3)
    assert 0 < shown.rows() < with_lines(log.events, log)
    assert shown.page.inner_text("#board") != board  # fewer players out
    assert int(shown.page.input_value("#step")) == last // 3
    before = shown.rows()
    shown.page.click("#next")
    assert int(shown.page.input_value("#step")) == last // 3 + 1
    assert before <= shown.rows() <= before + 1
    shown.page.click("#prev")
    assert shown.rows() == before
    assert shown.page.locator("#trust circle").count() == len(log.manifest.players)


def test_the_seat_switch_shows_only_what_the_seat_knows(
    log: EpisodeLog, exports: dict[str | None, Path], opened: Any
) -> None:
    roles = log.manifest.roles
    seat = next(p for p, role in roles.items() if role == "faithful")
    known = learned(player_view(log.events, seat), seat)
    other = next(p for p in log.manifest.players if p not in known and roles[p] == "traitor")
    shown = opened(exports[None])
    assert shown.role(other) == roles[other]
    shown.page.select_option("#view", label=seat)
    assert shown.role(other) == "?"
    assert shown.role(seat) == roles[seat]
    assert shown.rows() == with_lines(player_view(log.events, seat), log)
    assert "as " + seat in shown.page.inner_text("#meta")
    shown.page.select_option("#view", label="god")
    assert shown.role(other) == roles[other]


def test_hostile_text_is_shown_literally_and_runs_nothing(
    exports: dict[str | None, Path], opened: Any
) -> None:
    shown = opened(exports[None])
    text = shown.page.inner_text("#transcript")
    for literal in (
        "<b>bold</b> and <i>x</i>",
        "<script>window.pwned=1</script>",
        '<img src=x onerror="window.pwned=2">',
        "</script><script>window.pwned=3</script><!--",
        "\\x1b[31mred\\x1b[0m \\u202eevil\\u202c",
    ):
        assert literal in text
    assert "\x1b" not in text and "\u202e" not in text
    page = shown.page
    assert page.locator("#transcript b, #transcript i, img").count() == 0
    assert page.locator("script").count() == 2
    assert page.evaluate("[...document.querySelectorAll('details')].every(d => !d.open)")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280, "a long speech widened the page"
    transcript = page.locator("#transcript")
    assert transcript.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
    long_row = page.locator("#transcript .line", has_text=LONG[:100]).first
    assert long_row.evaluate("e => e.getBoundingClientRect().height") > 100  # wrapped


def test_a_seat_export_shows_nothing_the_seat_did_not_see(
    log: EpisodeLog, exports: dict[str | None, Path], opened: Any
) -> None:
    roles = log.manifest.roles
    seat = next(p for p, role in roles.items() if role == "faithful")
    view = player_view(log.events, seat)
    shown = opened(exports[seat])
    page = shown.page
    assert page.eval_on_selector_all("#view option", "os => os.map(o => o.textContent)") == [seat]
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    assert shown.rows() == with_lines(view, log)
    seen = {t for e in view for t in TAG.findall(e.model_dump_json())}
    hidden = {t for e in log.events for t in TAG.findall(e.model_dump_json())} - seen
    dom = page.evaluate("document.documentElement.outerHTML")
    text = page.inner_text("body")
    assert all(tag in text for tag in seen)
    assert not [tag for tag in hidden if tag in dom or tag in text]
    assert not [tag for tag in hidden if tag in exports[seat].read_text()]
    known = learned(view, seat)
    for player in log.manifest.players:
        assert (shown.role(player) == "?") == (player not in known)
        assert shown.role(player).rstrip("*") in ("?", roles[player])


def test_the_header_shows_the_status_and_the_result_the_view_saw(
    log: EpisodeLog, tmp_path: Path, opened: Any
) -> None:
    manifest = log.manifest.model_copy(update={"status": "degraded", "status_reason": "slow"})
    path = tmp_path / "degraded.html"
    path.write_text(episode_page(manifest, log.events), encoding="utf-8")
    page = opened(path).page
    assert page.is_visible("#status") and "degraded: slow" in page.inner_text("#status")
    assert log.manifest.outcome is not None and log.manifest.outcome.winner is not None
    assert log.manifest.outcome.winner in page.inner_text("#result")
