"""The journal of a batch sent in waves (``--via batch-api`` or ``jsonl``): ``<output>/batch/journal.json``.

It holds what was paid for or is being paid for: every request file written, its upload and batch ids,
each batch's last known status, and every answer collected (by ``custom_id``), so a run interrupted at
any point (Ctrl-C, the machine off) picks up the running batches and replays the collected answers
instead of paying twice. It is rewritten atomically (agent.io.atomic) after every step; the request and
result files sit beside it.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.errors import InputError
from agent.io.atomic import atomic_write_text
from agent.io.validation import validation_message

#: the folder of the journal and the request and result files, inside the output directory
JOURNAL_DIR = "batch"
JOURNAL_NAME = "journal.json"


class Via(StrEnum):
    """How a batch's requests reach the model (``--via``)."""

    LIVE = "live"
    BATCH_API = "batch-api"
    JSONL = "jsonl"


class Submission(BaseModel):
    """One request file of a wave and what became of it."""

    model_config = ConfigDict(extra="forbid")

    wave: int
    part: int = 1
    #: the request file's name inside the journal's folder
    requests_file: str
    custom_ids: list[str]
    #: each brief's inputs digest when the file was written: an answer for a brief changed since is
    #: an answer to another request, and is not kept
    digests: dict[str, str] = Field(default_factory=dict)
    input_file_id: str | None = None
    batch_id: str | None = None
    #: ``written`` (the file only), then the Batch API's status (``validating`` ... ``completed``)
    status: str = "written"
    #: its results (or errors) are in the journal's answers and failures
    collected: bool = False


class Answer(BaseModel):
    """A collected answer, enough to judge it again on resume (agent.drafting.reask.SectionAsk.judge).

    Plain data (agent.drafting.batch_waves turns it into a Completion and back): the journal and ``Via``
    load without the model client, so ``specdraft --help`` stays fast."""

    model_config = ConfigDict(extra="forbid")

    text: str
    finish_reason: str | None = None
    fault: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0


class Journal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    #: ``batch-api`` or ``jsonl``
    via: str
    #: each brief's key (agent.llm.batch_api.brief_key) -> the inputs digest its answers belong to
    briefs: dict[str, str] = Field(default_factory=dict)
    submissions: list[Submission] = Field(default_factory=list)
    answers: dict[str, Answer] = Field(default_factory=dict)
    #: custom_id -> why each of its lines got no answer (failed, expired, cancelled); retried up to a limit
    failures: dict[str, list[str]] = Field(default_factory=dict)

    def open_submissions(self) -> list[Submission]:
        return [s for s in self.submissions if not s.collected]

    @property
    def waves(self) -> int:
        return max((s.wave for s in self.submissions), default=0)

    def forget_changed(self, digests: dict[str, str]) -> None:
        """Drop the answers of briefs whose inputs changed since (their custom_ids start with the key)."""
        stale = {key for key, digest in self.briefs.items() if digests.get(key) not in (None, digest)}
        for table in (self.answers, self.failures):
            for custom_id in [c for c in table if brief_of(c) in stale]:
                del table[custom_id]
        self.briefs.update(digests)


def brief_of(custom_id: str) -> str:
    """The brief key a ``custom_id`` starts with (agent.llm.batch_api.RequestId)."""
    return custom_id.split(".", 1)[0]


def journal_dir(output_dir: Path) -> Path:
    return output_dir / JOURNAL_DIR


def load_journal(output_dir: Path) -> Journal | None:
    """The journal in ``output_dir`` (None when there is none); a damaged one is an error naming it."""
    path = journal_dir(output_dir) / JOURNAL_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"Cannot read the batch journal '{path}': {exc.strerror}.") from None
    try:
        return Journal.model_validate(json.loads(text))
    except (ValueError, ValidationError) as exc:
        reason = validation_message(exc) if isinstance(exc, ValidationError) else "not valid JSON"
        raise InputError(
            f"The batch journal '{path}' cannot be read ({reason}).",
            hint="Move it aside to start the waves afresh (batches it names keep running until they end).",
        ) from None


def save_journal(output_dir: Path, journal: Journal) -> None:
    folder = journal_dir(output_dir)
    folder.mkdir(exist_ok=True)
    atomic_write_text(folder / JOURNAL_NAME, journal.model_dump_json(indent=1) + "\n")
