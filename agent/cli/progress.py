"""Progress of a draft on stderr: a rich bar on a terminal, plain lines otherwise, nothing with -q."""

from __future__ import annotations

import sys
import time
from typing import Any

from agent.drafting.drafter import EventKind, SectionEvent


def eta_seconds(done: int, total: int, tokens: int, elapsed: float) -> tuple[float, float] | None:
    """(tokens per second so far, seconds left) from the completion tokens of the finished sections.

    The sections still to draft are assumed to need as many tokens as the finished ones did on
    average, generated at the rate measured so far. None until a section with tokens has finished.
    """
    if done <= 0 or tokens <= 0 or elapsed <= 0:
        return None
    rate = tokens / elapsed
    left = max(0, total - done) * (tokens / done) / rate
    return rate, left


def describe_eta(done: int, total: int, tokens: int, elapsed: float) -> str:
    estimate = eta_seconds(done, total, tokens, elapsed)
    if estimate is None:
        return ""
    rate, left = estimate
    return f" ~{left:.0f} s left at {rate:.1f} tok/s" if done < total else f" at {rate:.1f} tok/s"


class DraftProgress:
    def __init__(self, total: int, *, quiet: bool = False, stream: Any = None) -> None:
        self.total = total
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.done = 0
        self.tokens = 0
        self.started = time.perf_counter()
        self._live: Any = None
        self._task: Any = None
        self.interactive = not quiet and hasattr(self.stream, "isatty") and self.stream.isatty()

    def __enter__(self) -> DraftProgress:
        if self.interactive:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._live = Progress(
                TextColumn("[bold]Drafting[/]"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[tokens]} tokens"),
                TextColumn("{task.fields[eta]}"),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
                console=Console(file=self.stream),
                transient=False,
            )
            self._live.start()
            self._task = self._live.add_task("", total=self.total, tokens=0, eta="")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()

    def note(self, message: str) -> None:
        if self.quiet:
            return
        if self._live is not None:
            self._live.console.print(message)
        else:
            print(message, file=self.stream, flush=True)

    def on_event(self, event: SectionEvent) -> None:
        if self.quiet:
            return
        if event.kind in (EventKind.DONE, EventKind.ATTENTION):
            self.done += 1
            self.tokens += event.usage.completion_tokens if event.usage else 0
        elapsed = time.perf_counter() - self.started
        if event.kind is EventKind.STARTED:
            line = f"section {event.title}: drafting"
        elif event.kind is EventKind.RETRY:
            first = event.problems[0] if event.problems else "invalid"
            line = f"section {event.title}: attempt {event.attempt} rejected ({first}); re-asking"
        elif event.kind is EventKind.DONE:
            line = f"section {event.title}: ok after {event.attempt} attempt(s) [{self.done}/{self.total}]"
            if event.problems:  # failing list items dropped, unanswered fields asked as questions
                line += f", {len(event.problems)} failing part(s) dropped or asked ({event.problems[0]})"
        else:
            count = f"[{self.done}/{self.total}]"
            line = f"section {event.title}: NEEDS ATTENTION after {event.attempt} attempt(s) {count}"
        eta = describe_eta(self.done, self.total, self.tokens, elapsed)
        if event.kind in (EventKind.DONE, EventKind.ATTENTION):
            line += eta
        if self._live is not None:
            self._live.update(
                self._task, completed=self.done, tokens=self.tokens, description=event.title, eta=eta.strip()
            )
            if event.kind in (EventKind.DONE, EventKind.ATTENTION, EventKind.RETRY):
                self._live.console.print(line)
        else:
            print(f"[{elapsed:6.1f}s] {line}", file=self.stream, flush=True)
