"""Progress for long commands: a rich bar on a terminal, periodic `key=value` log lines anywhere else.

A scheduler's log (cron mail, journald, scrapyd) gets no bars or carriage returns, only lines such as
`progress step=crawl boards_done=120 boards_total=3863 items=5120 errors=2 elapsed_s=61.0`.
"""

from __future__ import annotations

import logging
import sys
import time
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

logger = logging.getLogger("jobagg.progress")


def ensure_log_handler() -> None:
    """Send jobagg's own log lines to stderr (Scrapy's root handler is off while the CLI runs)."""
    root = logging.getLogger("jobagg")
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        root.propagate = False


class StepProgress:
    """`with StepProgress(console, "crawl", total=n, unit="boards") as p: p.update(done=.., items=.., errors=..)`."""

    def __init__(
        self, console: Console, step: str, total: int | None = None, unit: str = "boards", interval: float = 15.0
    ) -> None:
        self.console, self.step, self.total, self.unit, self.interval = console, step, total, unit, interval
        self.done = self.items = self.errors = 0
        self.tty = console.is_terminal
        self._bar: Progress | None = None
        self._task: Any = None
        self._started = self._logged = time.monotonic()

    def __enter__(self) -> StepProgress:
        if self.tty:
            self._bar = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn(self.unit), TextColumn("{task.fields[items]} items"),
                TextColumn("{task.fields[errors]} errors"),
                TimeElapsedColumn(), console=self.console, transient=False,
            )  # fmt: skip
            self._bar.__enter__()
            self._task = self._bar.add_task(self.step, total=self.total, items=0, errors=0)
        else:
            ensure_log_handler()
            self._log("start")
        return self

    def update(
        self, done: int | None = None, items: int | None = None, errors: int | None = None, advance_items: int = 0
    ) -> None:
        if done is not None:
            self.done = done
        if items is not None:
            self.items = items
        self.items += advance_items
        if errors is not None:
            self.errors = errors
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done, items=self.items, errors=self.errors)
        elif time.monotonic() - self._logged >= self.interval:
            self._log("progress")

    def _log(self, event: str) -> None:
        self._logged = time.monotonic()
        fields = {
            "step": self.step,
            f"{self.unit}_done": self.done,
            f"{self.unit}_total": self.total if self.total is not None else "-",
            "items": self.items,
            "errors": self.errors,
            "elapsed_s": f"{self._logged - self._started:.1f}",
        }
        logger.info("%s %s", event, " ".join(f"{k}={v}" for k, v in fields.items()))

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.__exit__(exc_type, exc, tb)
        else:
            self._log("failed" if exc_type else "done")
