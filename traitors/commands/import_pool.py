"""The readers of ``traitors import``: worker processes that each read one game file with the
importer and send back its episode's files as text (the parent stores them).

At most ``window`` files are in flight (memory does not grow with the import); results come
in the order they finish. A handful of files (no more than one window) is read in this
process: starting workers would cost more than it saves. Workers are spawned (fresh
interpreters: safe beside the parent's threads) and ignore Ctrl-C: the parent stops them.
"""

from __future__ import annotations

import itertools
import multiprocessing
import signal
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass

from traitors.commands.import_sources import Task
from traitors.store.imported import BadReplay, Importer, Rendered, render
from traitors.store.log import problem

IN_FLIGHT = 4
"""Files in flight per worker."""


@dataclass(frozen=True)
class Result:
    """What became of one file: its game, or why it was refused (one line)."""

    task: Task
    game: Rendered | None = None
    error: str | None = None


def read_task(importer: Importer, task: Task) -> Result:
    """Read ``task``'s file into a game; a file that is not one gives its reason instead."""
    try:
        with open(task.path, "rb") as stream:
            episode = importer.read(stream, task.label)
        return Result(task, render(episode))
    except BadReplay as exc:
        return Result(task, error=str(exc))
    except OSError as exc:
        return Result(task, error=f"cannot read: {exc.strerror or exc}")
    except Exception as exc:  # an importer's own bug must not stop the other files
        return Result(task, error=f"the importer failed: {type(exc).__name__}: {problem(exc)}")


_importer: Importer | None = None
"""The importer of this worker process."""


def _start_worker(importer: Importer) -> None:
    global _importer
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _importer = importer


def _read_in_worker(task: Task) -> Result:
    assert _importer is not None
    return read_task(_importer, task)


class Readers:
    """Reads tasks with ``workers`` processes; a context manager that stops them."""

    def __init__(self, importer: Importer, workers: int) -> None:
        self.importer = importer
        self.workers = workers
        self.window = IN_FLIGHT * workers
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Readers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def results(self, tasks: Iterable[Task]) -> Iterator[Result]:
        """The result of each task, as each finishes; BrokenProcessPool if a worker died."""
        tasks = iter(tasks)
        first = list(itertools.islice(tasks, self.window + 1))
        if self.workers <= 1 or len(first) <= self.window:
            for task in itertools.chain(first, tasks):
                yield _done(read_task(self.importer, task))
            return
        self._pool = ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(self.importer,),
        )
        pending: set[Future[Result]] = set()
        waiting = itertools.chain(first, tasks)
        while True:
            for task in itertools.islice(waiting, self.window - len(pending)):
                pending.add(self._pool.submit(_read_in_worker, task))
            if not pending:
                return
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                yield _done(future.result())


def _done(result: Result) -> Result:
    """``result``, its spool copy removed."""
    if result.task.spooled:
        result.task.path.unlink(missing_ok=True)
    return result
