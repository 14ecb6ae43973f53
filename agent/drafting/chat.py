"""The ``specdraft chat`` session loop: messages, slash commands, diffs and Apply? [y/n/e].

Input comes line by line from a terminal (prompt_toolkit: line editing and history) or from a pipe
(a scripted session: answers to Apply? are read from the same stream). Ctrl-C during a model call
cancels that call and returns to the prompt; Ctrl-D (end of input) or ``/quit`` ends the session.
"""

from __future__ import annotations

import getpass
import io
import shlex
import sys
from collections.abc import Callable
from typing import Any, Protocol, TextIO

from rich.console import Console
from rich.text import Text

from agent.drafting.refine import Proposal, Refiner, SectionChange
from agent.errors import SpecdraftError, TerminationRequested
from agent.io.sanitize import SURROGATES, for_terminal
from agent.specdoc.comments import CommentStore

HELP = """\
Type what to change ("use PostgreSQL 16, not MongoDB") or ask a question ("why Redis?").
Commands:
  /help                         this text
  /sections                     the spec's sections
  /show SECTION                 print a section as it is on disk
  /diff                         every change accepted in this session
  /undo                         revert the last accepted change (again to go further back)
  /redo                         re-apply the last undone change
  /edit SECTION INSTRUCTION     change exactly this section (quote a title with spaces, or type its start)
  /comment [N]                  list the open review comments, or address comment N (resolved once applied)
  /quit                         end the session (Ctrl-D too)
After a proposed change: y applies it to the file, n discards it, e opens $EDITOR on the new text.
Ctrl-C while the model works cancels that request."""


#: characters of one piped line kept at most (an instruction is far shorter)
MAX_LINE_CHARS = 100_000


class LineReader(Protocol):
    def read(self, prompt: str) -> str | None:
        """The next line without its end, or None at end of input."""


class PipeReader:
    """Lines from a pipe or file; each line is echoed after its prompt so a transcript reads well."""

    def __init__(self, stream: TextIO, echo: Callable[[str], None]) -> None:
        self.stream = stream
        self.echo = echo

    def read(self, prompt: str) -> str | None:
        # bounded like every input: an endless line is cut (and then refused as too long), not buffered
        line = self.stream.readline(MAX_LINE_CHARS + 1)
        if not line:
            return None
        if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
            while (rest := self.stream.readline(1 << 16)) and not rest.endswith("\n"):
                pass  # skip the remainder of the over-long line
        # a pipe's invalid UTF-8 arrives as lone surrogates (surrogateescape), which no stream can write
        line = SURROGATES.sub("\ufffd", line.rstrip("\r\n"))
        self.echo(f"{prompt}{line}")
        return line


class TerminalReader:
    """prompt_toolkit line editing and in-session history; Ctrl-C on an empty prompt just re-prompts."""

    def __init__(self) -> None:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import InMemoryHistory

        self.session: Any = PromptSession(history=InMemoryHistory())

    def read(self, prompt: str) -> str | None:
        while True:
            try:
                return str(self.session.prompt(prompt))
            except TerminationRequested:
                raise
            except KeyboardInterrupt:
                continue
            except EOFError:
                return None


def default_editor(text: str) -> str | None:
    import click

    return click.edit(text, extension=".md", require_save=False)


class ChatSession:
    def __init__(
        self,
        refiner: Refiner,
        reader: LineReader,
        console: Console,
        *,
        yes: bool = False,
        editor: Callable[[str], str | None] | None = None,
    ) -> None:
        self.refiner = refiner
        self.reader = reader
        self.console = console
        self.yes = yes
        self.editor = editor or (lambda text: default_editor(text))
        self.accepted = 0
        self.finished = False

    # -- output ---------------------------------------------------------------------------------
    def say(self, text: str, style: str | None = None) -> None:
        """Every line the session shows (model answers, diffs, the spec's text) made safe to print."""
        self.console.print(Text(for_terminal(text), style=style or ""))

    def show_diff(self, change: SectionChange) -> None:
        self.say(f"~ {change.title}: {change.reason}" if change.reason else f"~ {change.title}", "bold")
        for line in change.diff(self.refiner.path.name):
            line = line.rstrip("\n")
            style = (
                "bold"
                if line.startswith(("+++", "---"))
                else "green"
                if line.startswith("+")
                else "red"
                if line.startswith("-")
                else "cyan"
                if line.startswith("@@")
                else None
            )
            self.say(line, style)

    # -- the loop ---------------------------------------------------------------------------------
    def run(self) -> int:
        doc = self.refiner.load()
        if self.refiner.journal.warning:
            self.say(self.refiner.journal.warning, "yellow")
        history = self.refiner.journal.load()
        self.say(
            f"Editing {self.refiner.path} ({len(doc.sections)} sections, "
            f"template {self.refiner.template.name}; "
            f"{len(history.done)} earlier change(s) in {self.refiner.journal.path.name}). /help for commands."
        )
        while not self.finished:
            read = self.reader.read("> ")
            if read is None:
                break
            line = read.strip()
            if not line:
                continue
            try:
                if line.startswith("/"):
                    self.command(line)
                else:
                    self.turn(line)
            except SpecdraftError as exc:
                self.say(f"Error: {exc}", "red")
        self.say(
            f"Session ended: {self.accepted} change(s) accepted; the file and its history are up to date."
        )
        return 0

    def command(self, line: str) -> None:
        name, _, rest = line.partition(" ")
        rest = rest.strip()
        if name in ("/quit", "/exit", "/q"):
            self.finished = True
        elif name == "/help":
            self.say(HELP)
        elif name == "/sections":
            for title, section in self.refiner.sections():
                self.say(
                    f"  {title}" + ("" if section is not None else "   (not in the template: not editable)")
                )
        elif name == "/show":
            if not rest:
                self.say("Usage: /show SECTION")
                return
            doc = self.refiner.load()
            shown = doc.section(self.refiner.resolve_title(doc, rest))
            assert shown is not None
            self.say(shown.text.rstrip("\n"))
        elif name == "/diff":
            if not self.refiner.session_changes:
                self.say("No changes accepted in this session.")
            for change in self.refiner.session_changes:
                self.show_diff(change)
        elif name == "/undo":
            entry = self.refiner.undo()
            self.say(
                "Nothing to undo."
                if entry is None
                else f"Undid change {entry.id} ({', '.join(entry.titles)}): {entry.instruction}"
            )
        elif name == "/redo":
            entry = self.refiner.redo()
            self.say(
                "Nothing to redo."
                if entry is None
                else f"Redid change {entry.id} ({', '.join(entry.titles)}): {entry.instruction}"
            )
        elif name == "/comment":
            self.address_comment(rest)
        elif name == "/edit":
            target, instruction = self.split_edit(rest)
            if target is None:
                self.say("Usage: /edit SECTION INSTRUCTION (quote a section title that has spaces)")
                return
            self.turn(instruction, sections=[target])
        else:
            self.say(f"Unknown command {name}; /help lists them.")

    def address_comment(self, rest: str) -> None:
        """``/comment N``: the review comment's text as the instruction, confined to its section; the
        comment is marked resolved once the change is applied. ``/comment`` alone lists the open ones."""
        store = CommentStore(self.refiner.path)
        if not rest.isdigit():
            comments = store.open_comments()
            for comment in comments:
                self.say(for_terminal(f"  #{comment.id} [{comment.anchor()}] {comment.by}: {comment.text}"))
            self.say("Usage: /comment N" if comments else "No open review comments.")
            return
        comment = store.get_open(int(rest))
        applied = self.accepted
        self.turn(comment.text, sections=[comment.section] if comment.section else None)
        if self.accepted > applied:
            store.resolve(comment.id, by=f"{getpass.getuser()} (chat)")
            self.say(f"Resolved review comment {comment.id}.", "green")

    def split_edit(self, rest: str) -> tuple[str | None, str]:
        """Split ``/edit`` arguments: ``"Tech Stack" use Go``, ``Tech Stack use Go`` or ``tech use Go``."""
        doc = self.refiner.load()
        if rest.startswith(('"', "'")):
            try:
                parts = shlex.split(rest)
            except ValueError:
                return None, ""
            if len(parts) < 2:
                return None, ""
            return self.refiner.resolve_title(doc, parts[0]), " ".join(parts[1:])
        words = rest.split()
        titles = {" ".join(t.split()).casefold(): t for t in (s.title for s in doc.sections)}
        for n in range(len(words) - 1, 0, -1):
            candidate = " ".join(words[:n]).casefold()
            if candidate in titles:
                return titles[candidate], " ".join(words[n:])
        if len(words) >= 2:
            return self.refiner.resolve_title(doc, words[0]), " ".join(words[1:])
        return None, ""

    def turn(self, instruction: str, *, sections: list[str] | None = None) -> None:
        try:
            with self.console.status("Thinking...") if self.console.is_terminal else _nothing():
                proposal = self.refiner.propose(instruction, sections=sections)
        except TerminationRequested:
            raise
        except KeyboardInterrupt:
            self.say("Cancelled; nothing was changed.", "yellow")
            return
        self.present(proposal)

    def present(self, proposal: Proposal) -> None:
        if proposal.answer is not None:
            self.say(proposal.answer)
            return
        for failure in proposal.failures:
            problem = failure.problems[0] if failure.problems else "unknown problem"
            self.say(
                f"{failure.title}: left as it was; the model's answer did not validate after "
                f"{failure.attempts} attempt(s) ({problem}). "
                "Try rephrasing, --max-retries or a stronger model.",
                "yellow",
            )
        if not proposal.changes:
            if not proposal.failures:
                self.say("The model proposed no change to the text.")
            return
        while True:
            for change in proposal.changes:
                self.show_diff(change)
            choice = "y" if self.yes else self.ask()
            if choice == "y":
                entry = self.refiner.apply(proposal)
                self.accepted += 1
                self.say(
                    f"Applied change {entry.id} to {', '.join(entry.titles)}; saved {self.refiner.path}.",
                    "green",
                )
                return
            if choice == "n":
                self.refiner.rejected(proposal)
                self.say("Discarded; the file is unchanged.")
                return
            self.edit(proposal)

    def ask(self) -> str:
        while True:
            answer = self.reader.read("Apply? [y/n/e] ")
            if answer is None:
                self.finished = True
                return "n"
            answer = answer.strip().lower()
            if answer in ("y", "yes", "n", "no", "e", "edit"):
                return answer[0]
            self.say("Answer y (apply), n (discard) or e (edit the new text).")

    def edit(self, proposal: Proposal) -> None:
        for change in proposal.changes:
            edited = self.editor(change.after)
            if edited is None:
                continue
            if not edited.lstrip().startswith("## "):
                self.say(
                    f"The edited text of {change.title} must start with its '## ' heading; kept the proposal."
                )
                continue
            change.after = edited if edited.endswith("\n") else edited + "\n"


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def reader_for(stream: TextIO, console: Console) -> LineReader:
    if stream is sys.stdin and stream.isatty():
        return TerminalReader()
    if isinstance(stream, io.TextIOWrapper):
        stream.reconfigure(errors="replace")  # invalid UTF-8 piped in: U+FFFD, not a crash
    return PipeReader(stream, lambda text: console.print(Text(for_terminal(text))))
