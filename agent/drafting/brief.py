"""Feature briefs: the short Markdown or plain-text description a spec is drafted from."""

from __future__ import annotations

import functools
import hashlib
import re
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent.errors import InputError
from agent.io.paths import confine_recorded
from agent.io.sanitize import CONTROL_CHARS
from agent.io.textinput import read_user_text
from agent.io.validation import validation_message
from agent.specdoc.document import SpecDocument
from agent.specdoc.frontmatter import split_front_matter
from agent.specdoc.grounding import BriefFacts, extract, word_count

MAX_BRIEF_CHARS = 20_000


class Priority(str, Enum):
    low = "low"
    medium = "medium"
    high = "high"


class BriefMeta(BaseModel):
    """The front-matter keys specdraft understands; any other key is kept as context."""

    model_config = ConfigDict(extra="allow")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    priority: Priority = Priority.medium
    owner: str | None = Field(default=None, max_length=200)

    @field_validator("title", "owner", mode="before")
    @classmethod
    def _one_line(cls, value: object) -> object:
        # A newline in a title would become a line of the spec (an injected heading): one line only.
        return one_line(value) if isinstance(value, str) else value


#: a brief shorter than this leaves most of a spec open: its first section must ask questions
VAGUE_BRIEF_WORDS = 40


class Brief(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    body: str
    priority: Priority = Priority.medium
    owner: str | None = None
    context: dict[str, str] = Field(default_factory=dict)
    source: str = "<brief>"

    @field_validator("title", "owner", mode="before")
    @classmethod
    def _one_line(cls, value: object) -> object:
        return one_line(value) if isinstance(value, str) else value

    @property
    def sha256(self) -> str:
        """A digest of everything that shapes the prompt (for provenance and resume)."""
        canonical = repr(
            (self.title, self.body, self.priority.value, self.owner, sorted(self.context.items()))
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @functools.cached_property
    def facts(self) -> BriefFacts:
        """The brief's key terms and facts, extracted once per brief: drafting (copy and off-topic
        checks) and the brief coverage measured after the draft share them."""
        return extract(self.body, self.title)

    @property
    def vague(self) -> bool:
        """Shorter than ``VAGUE_BRIEF_WORDS`` words (Chinese and Japanese, written without spaces: about
        one word per two characters), so the spec's first section must ask questions."""
        return word_count(self.body, self.facts.language) < VAGUE_BRIEF_WORDS


def one_line(text: str) -> str:
    """``text`` as one line: line breaks, tabs and other control or bidi characters become spaces."""
    return " ".join(CONTROL_CHARS.sub(" ", text).split())


_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")


def parse_brief(text: str, *, source: str = "<brief>") -> Brief:
    """Build a Brief from Markdown or plain text with optional YAML front matter."""
    text = text.replace("\r\n", "\n")  # CRs of CRLF line ends do not count toward the limit
    if "\x00" in text:
        raise InputError(f"Brief '{source}' looks binary (it contains NUL bytes); give a text file.")
    if len(text) > MAX_BRIEF_CHARS:
        raise InputError(
            f"Brief '{source}' has {len(text):,} characters; the limit is {MAX_BRIEF_CHARS:,}.",
            hint="Shorten it to the essentials of the feature.",
        )
    if not text.strip():
        raise InputError(f"Brief '{source}' is empty.", hint="Write a few sentences describing the feature.")
    fm = split_front_matter(text, source=source)
    try:
        meta = BriefMeta.model_validate(fm.data)
    except ValidationError as exc:
        raise InputError(
            f"Brief '{source}': bad front matter: {validation_message(exc)}.",
            hint="priority is one of low, medium, high; title and owner are short strings.",
        ) from None
    body = fm.body.strip()
    if not body:
        raise InputError(
            f"Brief '{source}' has front matter but no text.",
            hint="Write a few sentences describing the feature below the front matter.",
        )
    title = one_line(meta.title or _title_from_body(body)) or "Untitled feature"
    extra: dict[str, Any] = dict(meta.model_extra or {})
    context = {key: _as_text(value) for key, value in extra.items()}
    return Brief(
        title=title.strip(),
        body=body,
        priority=meta.priority,
        owner=meta.owner,
        context=context,
        source=source,
    )


BRIEF_SUFFIXES = (".md", ".markdown", ".txt")


def recorded_brief_path(spec: Path, reference: str) -> Path:
    """The brief a spec's front matter names (``specdraft.brief``), confined to the spec's folder tree.

    The front matter is only text: anyone can write ``brief: /home/me/.ssh/id_rsa`` or
    ``../secret.env`` into it, and the brief is sent to the model. So a recorded path is used only when
    it stays inside the spec's folder or the git work tree holding it (``agent.io.paths``, the one
    confinement; symlinks followed) and names a .md, .markdown or .txt file; otherwise InputError says
    why (a brief given on the command line is not limited).
    """
    resolved = confine_recorded(reference, spec.parent, what="brief")
    if resolved.suffix.lower() not in BRIEF_SUFFIXES:
        raise InputError(f"it is not a .md, .markdown or .txt file ({resolved.name}).")
    return resolved


def load_brief(path: str | Path) -> Brief:
    """Read and parse a brief from a file path, or stdin when ``path`` is ``-``."""
    text, label = read_user_text(path, what="Brief", max_chars=MAX_BRIEF_CHARS)
    return parse_brief(text, source=label)


def _title_from_body(body: str) -> str:
    lines = [line for line in body.splitlines() if line.strip()]
    for line in lines:
        match = _HEADING.match(line)
        if match and match.group(1).strip():  # "# \t" is a heading of nothing
            return match.group(1).strip()[:200]
    texts = [line.strip().lstrip("#").strip() for line in lines]
    first = next((text for text in texts if text), "")
    first = re.split(r"(?<=[.!?])\s", first, maxsplit=1)[0].rstrip(".")
    return first[:120] or "Untitled feature"


def _as_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def recorded_brief(spec: Path, doc: SpecDocument) -> tuple[Brief | None, str | None]:
    """The brief the spec's front matter points to (``specdraft.brief``), and a notice for the user.

    Revisions keep to the brief when they can see it; a brief that moved or cannot be read is only a
    notice, never an error (the spec alone is still enough to revise).
    """
    meta = doc.front_matter.get("specdraft")
    reference = meta.get("brief") if isinstance(meta, dict) else None
    if not isinstance(reference, str) or not reference.strip():
        return None, None
    try:
        path = recorded_brief_path(spec, reference)
    except InputError as exc:  # refused: the front matter cannot send any file to the model
        return None, (
            f"The brief recorded in the spec ({_clip_reference(reference)}) was not read: {exc.message} "
            "Pass --brief to use a brief from elsewhere."
        )
    try:
        brief = load_brief(path)
    except InputError as exc:
        return None, f"The brief recorded in the spec ({reference}) was not used: {exc.message} Pass --brief."
    recorded = meta.get("brief_sha256") if isinstance(meta, dict) else None
    if recorded and recorded != brief.sha256:
        return brief, f"Using the brief {path}; it has changed since the spec was drafted."
    return brief, f"Using the brief {path} (recorded in the spec)."


def _clip_reference(reference: str) -> str:
    return reference if len(reference) <= 120 else reference[:117] + "..."
