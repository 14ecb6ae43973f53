"""Refining a spec on disk: route an instruction, revise the sections it touches, apply, undo, redo.

The spec file is the only copy: every step re-reads it (``agent.specdoc.document``), so edits a person makes
in an editor between two turns are kept. A revised section is regenerated with the template's own
section model, validated and re-asked like a drafted one (``agent.drafting.reask.ask_section``) and
rendered by ``agent.specdoc.render``; accepted changes are written atomically and journalled
(``agent.io.journal``) so undo and redo restore exact bytes, across sessions. Every write (apply, undo,
redo) first asks the one lifecycle guard (``agent.specdoc.lifecycle.ensure_editable``): an APPROVED spec is
refused, whichever entry point asked.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.context.retrieval import ContextPack
from agent.drafting.brief import Brief
from agent.drafting.intent import RequestKind, plain_kind, request_names
from agent.drafting.policy import ReaskPolicy
from agent.drafting.prompting import (
    Message,
    describe_fields,
    language_values,
    render_prompt,
    section_context,
    shared_prefix,
)
from agent.drafting.reask import Check, ask_section, leak_check
from agent.drafting.values import normalise
from agent.errors import InputError, SectionFailedError
from agent.io.atomic import atomic_write_text
from agent.io.journal import Entry, Journal, SectionEdit
from agent.llm.client import ChatClient, Usage
from agent.llm.providers import Endpoint, ModelSettings
from agent.specdoc.document import SpecDocument, load_spec, normalise_heading
from agent.specdoc.grounding import content_stems
from agent.specdoc.language import language_name, spec_language
from agent.specdoc.lifecycle import ensure_editable
from agent.specdoc.render import SectionContent, render_section
from agent.specdoc.requirements import defined_requirements, short_text
from agent.specdoc.schemas.techspec import CoveringSection, covering_context, covering_schema
from agent.specdoc.template import TemplateSection
from agent.specdoc.template_resolver import load_spec_template

#: earlier turns shown to the model (the most recent ones)
MAX_TURNS = 4
#: characters of spec text given to the model when answering a question
ANSWER_CONTEXT_CHARS = 3000
MAX_INSTRUCTION_CHARS = 4000

_HEADING = re.compile(r"^ {0,3}##\s+(.*?)\s*#*\s*$")


@dataclass(frozen=True)
class RefineOptions:
    max_retries: int = 2
    temperature: float = 0.2
    #: the language the sections are revised in (a code); None: the spec's (:func:`revision_language`)
    language: str | None = None


def revision_language(doc: SpecDocument, wanted: str | None = None) -> str:
    """The language a spec's sections are revised in: ``wanted`` (a code, already parsed) when given,
    else the spec's (:func:`agent.specdoc.language.spec_language`). A spec whose front matter records
    another language is refused (InputError): revising some of its sections in another language would
    leave it in two."""
    current = spec_language(doc.front_matter, doc.body)
    recorded = doc.front_matter.get("language")
    if wanted is None or wanted == current:
        return current
    if isinstance(recorded, str) and recorded.strip():
        raise InputError(
            f"language: the spec is written in {language_name(current)} (its front matter says "
            f"'language: {recorded.strip()}'), so it is revised in {language_name(current)}, not in "
            f"{language_name(wanted)}.",
            hint="Leave language out, or change the spec's 'language:' in its front matter first.",
        )
    return wanted


@dataclass
class Route:
    kind: RequestKind
    sections: list[tuple[str, str]]  # (title, reason)
    forced: bool = False


@dataclass
class SectionChange:
    title: str
    reason: str
    before: str
    after: str
    attempts: int = 1

    def diff(self, label: str = "spec") -> list[str]:
        return list(
            difflib.unified_diff(
                self.before.splitlines(keepends=True),
                self.after.splitlines(keepends=True),
                fromfile=f"a/{label} ({self.title})",
                tofile=f"b/{label} ({self.title})",
            )
        )


@dataclass
class SectionFailure:
    title: str
    attempts: int
    problems: list[str]


@dataclass
class Proposal:
    instruction: str
    route: Route
    changes: list[SectionChange] = field(default_factory=list)
    failures: list[SectionFailure] = field(default_factory=list)
    answer: str | None = None
    usage: Usage = field(default_factory=Usage)

    def to_dict(self, label: str = "spec") -> dict[str, Any]:
        return {
            "instruction": self.instruction,
            "kind": self.route.kind,
            "sections": [{"title": t, "reason": r} for t, r in self.route.sections],
            "changes": [
                {"title": c.title, "reason": c.reason, "attempts": c.attempts, "diff": "".join(c.diff(label))}
                for c in self.changes
            ],
            "failed": [
                {"title": f.title, "attempts": f.attempts, "problems": f.problems} for f in self.failures
            ],
            "answer": self.answer,
            "usage": self.usage.as_dict(),
        }


def heading_title(text: str) -> str:
    match = _HEADING.match(text.split("\n", 1)[0])
    return match.group(1) if match else text.split("\n", 1)[0]


def check_instruction(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise InputError("The instruction is empty.", hint='Say what to change, e.g. -m "use PostgreSQL 16".')
    if len(cleaned) > MAX_INSTRUCTION_CHARS:
        raise InputError(
            f"The instruction has {len(cleaned):,} characters; the limit is {MAX_INSTRUCTION_CHARS:,}.",
            hint="Split it into several smaller changes.",
        )
    return cleaned


def _trailing(text: str) -> str:
    return text[len(text.rstrip("\n")) :]


_ASSUMPTIONS = re.compile(r"\n(?:### Assumptions|\*\*Assumptions\*\*:)\n")


#: the problem re-asked with when a revision says what the section already said
UNCHANGED = "the section says exactly what it said before; write it again with the requested change made"
#: ... and when it pastes the request itself into the section
QUOTED_REQUEST = (
    "a value repeats the request word for word; state the change as the spec would and keep the rest"
)
#: ... and when none of the names and numbers the request brings made it in
CHANGE_MISSING = "the change is not in the section: it never names {words}; write the change in"
#: a request this long (in words) pasted into a value is a quote, not a coincidence
QUOTE_WORDS = 4
#: requests that take words out: their new words need not appear
_REMOVING = frozenset(["drop", "remove", "delete", "exclude", "omit", "forget"])


def revision_check(section: TemplateSection, before: str, instruction: str) -> Check:
    """A revision must make the change, in the spec's words: the 1.5B answered "Add Okta single
    sign-on to the Overview" first with the Overview as it was, then with the request as the Overview,
    and "Mention that invitees can sign in with Okta" with a Technical Requirements without Okta."""
    said_before = normalise(before)
    request = normalise(instruction)
    # the names and numbers the request brings that the section lacks ("Okta" in "mention Okta
    # sign-in", "3" in "valid for 3 days"); a removal's may be the very words to take out
    new_names = [n for n in request_names(instruction) if n.lower() not in before.lower()]
    if _REMOVING & set(request.split()):
        new_names = []

    def check(answer: str, data: Any) -> list[str]:
        text = render_section(section, SectionContent(data=data.render_data()))
        rendered = normalise(text)
        if rendered == said_before:
            return [UNCHANGED]
        if len(request.split()) >= QUOTE_WORDS and f" {request} " in f" {rendered} ":
            return [QUOTED_REQUEST]
        if new_names and not any(name.lower() in text.lower() for name in new_names):
            return [CHANGE_MISSING.format(words=", ".join(new_names))]
        return []

    return check


def _kept_tail(before: str, section: TemplateSection) -> str:
    """The drafter's assumptions list (``**Assumptions**:``): not part of the section's model."""
    if any(normalise_heading(s) == "assumptions" for s in section.subsections):
        return ""
    match = _ASSUMPTIONS.search(before)
    return "\n" + before[match.start() :].rstrip("\n") if match else ""


_PARTIAL_ANSWER = re.compile(r'"answer"\s*:\s*"((?:[^"\\]|\\.)*)')


def _answer_text(text: str) -> str:
    """The answer from the model's JSON; from an answer cut off at the length limit, what there is of it."""
    try:
        obj = json.loads(text)
        return str(obj.get("answer", "")).strip() if isinstance(obj, dict) else ""
    except ValueError:
        pass
    match = _PARTIAL_ANSWER.search(text)
    if not match:
        return ""
    raw = match.group(1).rstrip("\\")
    try:
        partial = str(json.loads(f'"{raw}"'))
    except ValueError:
        return ""
    return " ".join(partial.split()) + " ..." if partial.strip() else ""


class Refiner:
    """The engine behind ``specdraft chat`` and ``specdraft refine`` for one spec file."""

    def __init__(
        self,
        path: Path,
        endpoint: Endpoint,
        settings: ModelSettings,
        options: RefineOptions | None = None,
        *,
        brief: Brief | None = None,
        template: str | None = None,
        context: ContextPack | None = None,
    ) -> None:
        self.path = path
        #: ``--context``: repository excerpts ranked against the brief and each instruction
        self.context = context
        self.endpoint = endpoint
        self.settings = settings
        self.options = options or RefineOptions()
        self.brief = brief
        self.journal = Journal(path)
        #: one line per earlier turn of this conversation, for the model
        self.turns: list[str] = []
        #: changes accepted in this session (for /diff)
        self.session_changes: list[SectionChange] = []
        doc = self.load()
        self.template = load_spec_template(template, doc, path)
        self.journal.load()  # moves a corrupt journal aside now, with a warning to show

    # -- the file as it is on disk ------------------------------------------------------------
    def load(self) -> SpecDocument:
        return load_spec(self.path)

    def sections(self, doc: SpecDocument | None = None) -> list[tuple[str, TemplateSection | None]]:
        """Each section of the spec with its template section (None for a section the template lacks)."""
        doc = doc or self.load()
        by_title = {normalise_heading(s.title): s for s in self.template.sections}
        return [(s.title, by_title.get(normalise_heading(s.title))) for s in doc.sections]

    def editable_titles(self, doc: SpecDocument) -> list[str]:
        titles = [title for title, section in self.sections(doc) if section is not None]
        if not titles:
            raise InputError(
                f"No section of {self.path} matches the template '{self.template.name}'.",
                hint="Set specdraft.template in the spec's front matter to the template it follows.",
            )
        return titles

    def resolve_title(self, doc: SpecDocument, name: str) -> str:
        """A section title from what a person typed: exact (any case), else a unique prefix."""
        wanted = normalise_heading(name)
        titles = [s.title for s in doc.sections]
        for title in titles:
            if normalise_heading(title) == wanted:
                return title
        matches = [t for t in titles if normalise_heading(t).startswith(wanted)]
        if len(matches) == 1:
            return matches[0]
        listed = ", ".join(titles)
        raise InputError(f"No single section called '{name}'. Sections: {listed}.")

    # -- one turn -------------------------------------------------------------------------------
    def propose(
        self,
        instruction: str,
        *,
        sections: list[str] | None = None,
        on_status: Callable[[str], None] | None = None,
    ) -> Proposal:
        """Route (unless ``sections`` forces it) and revise; nothing is written."""
        instruction = check_instruction(instruction)
        return asyncio.run(self._propose(instruction, sections, on_status or (lambda text: None)))

    async def _propose(
        self, instruction: str, forced: list[str] | None, status: Callable[[str], None]
    ) -> Proposal:
        client = ChatClient(self.endpoint, self.settings)
        usage = Usage()
        try:
            doc = self.load()
            titles = self.editable_titles(doc)
            if forced:
                route = Route(
                    RequestKind.EDIT,
                    [(self.resolve_title(doc, t), "forced with /edit") for t in forced],
                    True,
                )
            else:
                status("Deciding what the message asks for...")
                route = await self._route(client, doc, titles, instruction, usage)
            proposal = Proposal(instruction, route, usage=usage)
            if route.kind is RequestKind.QUESTION or not route.sections:
                status("Answering...")
                proposal.answer = await self._answer(client, doc, route, instruction, usage)
                self.turns.append(f"asked: {instruction} -> answered: {proposal.answer}")
                return proposal
            for title, reason in route.sections:
                status(f"Revising {title}...")
                result = await self._revise(client, doc, title, instruction, usage)
                if isinstance(result, SectionFailure):
                    proposal.failures.append(result)
                elif result.after != result.before:
                    result.reason = reason
                    proposal.changes.append(result)
            return proposal
        finally:
            await client.aclose()

    async def _route(
        self, client: ChatClient, doc: SpecDocument, titles: list[str], message: str, usage: Usage
    ) -> Route:
        schema = {
            "title": "route",
            "type": "object",
            "properties": {
                "kind": {"type": "string", "enum": [kind.value for kind in RequestKind]},
                "sections": {
                    "type": "array",
                    "maxItems": 4,
                    "items": {
                        "type": "object",
                        "properties": {
                            "title": {"type": "string", "enum": titles},
                            "reason": {"type": "string", "maxLength": 160},
                        },
                        "required": ["title", "reason"],
                        "additionalProperties": False,
                    },
                },
            },
            "required": ["kind", "sections"],
            "additionalProperties": False,
        }
        prompt = render_prompt("route.j2", titles=titles, turns=self.turns[-MAX_TURNS:], message=message)
        completion = await client.complete_json(
            [{"role": "user", "content": prompt}], schema, max_tokens=256, temperature=0.0
        )
        usage.add(completion.usage)
        try:
            obj = json.loads(completion.text)
            # a message whose form says what it is overrules the model (agent.drafting.intent)
            said = obj.get("kind")
            kind = plain_kind(message) or (
                RequestKind(said) if said in list(RequestKind) else RequestKind.QUESTION
            )
            picked: list[tuple[str, str]] = []
            for item in obj.get("sections") or []:
                title = str(item.get("title", ""))
                if title in titles and title not in [p[0] for p in picked]:
                    picked.append((title, " ".join(str(item.get("reason", "")).split())))
        except (ValueError, TypeError, AttributeError, KeyError):
            return Route(RequestKind.QUESTION, [])  # an unreadable routing answer edits nothing
        return Route(kind, picked)

    async def _answer(
        self, client: ChatClient, doc: SpecDocument, route: Route, message: str, usage: Usage
    ) -> str:
        chosen = [doc.section(t) for t, _ in route.sections] or [doc.sections[0]]
        context: list[tuple[str, str]] = []
        budget = ANSWER_CONTEXT_CHARS
        for section in chosen:
            if section is None or budget <= 0:
                continue
            text = section.content.strip()[:budget]
            budget -= len(text)
            context.append((section.title, text))
        schema = {
            "title": "answer",
            "type": "object",
            "properties": {"answer": {"type": "string", "maxLength": 600}},
            "required": ["answer"],
            "additionalProperties": False,
        }
        prompt = render_prompt("answer.j2", sections=context, turns=self.turns[-MAX_TURNS:], message=message)
        completion = await client.complete_json(
            [{"role": "user", "content": prompt}],
            schema,
            max_tokens=200,
            temperature=self.options.temperature,
        )
        usage.add(completion.usage)
        return _answer_text(completion.text) or "(The model gave no answer.)"

    def _prefix(self, language: str) -> list[Message]:
        """The shared prefix of a revision: the brief's, else the system prompt alone."""
        if self.brief is not None:
            shared = self.context.shared if self.context else None
            return shared_prefix(self.brief, self.template, shared, language=language)
        return [{"role": "system", "content": render_prompt("system.j2", **language_values(language))}]

    async def _revise(
        self, client: ChatClient, doc: SpecDocument, title: str, instruction: str, usage: Usage
    ) -> SectionChange | SectionFailure:
        current = doc.section(title)
        tsection = {normalise_heading(s.title): s for s in self.template.sections}.get(
            normalise_heading(title)
        )
        if current is None or tsection is None:
            return SectionFailure(title, 0, [f"the template '{self.template.name}' has no section '{title}'"])
        model = tsection.model
        requirements: dict[str, str] = {}
        if issubclass(model, CoveringSection):
            for other in doc.sections:
                if other.title != current.title:
                    requirements.update(defined_requirements(other.text))
        # the spec's language (its front matter): a German spec is revised in German
        language = revision_language(doc, self.options.language)
        prefix = self._prefix(language)
        task = render_prompt(
            "refine.j2",
            section=tsection,
            current=current.text.strip(),
            instruction=instruction,
            turns=self.turns[-MAX_TURNS:],
            fields=describe_fields(model),
            requirements=[(rid, short_text(text)) for rid, text in requirements.items()],
        )
        if self.context is not None:
            chunks = self.context.section_chunks(f"{tsection.title}\n{instruction}")
            if self.brief is None:  # no shared prefix to carry the brief-wide excerpts
                chunks = self.context.select(f"{tsection.title}\n{instruction}", self.context.budget)
            grounding = section_context(chunks, [], [])
            task = f"{grounding}\n\n{task}" if grounding else task
        messages: list[Message] = [*prefix, {"role": "user", "content": task}]
        try:
            accepted = await ask_section(
                client,
                messages,
                tsection,
                model,
                ReaskPolicy(attempts=self.options.max_retries + 1, temperature=self.options.temperature),
                usage,
                validation_context=covering_context(requirements) if requirements else None,
                schema=covering_schema(model, requirements) if requirements else None,
                checks=[leak_check(messages), revision_check(tsection, current.text, instruction)],
                # words an answer may share with the prompt's example: the brief's, else the spec's own
                brief_terms=(
                    self.brief.facts.terms if self.brief is not None else frozenset(content_stems(doc.body))
                ),
                language=language,
            )
        except SectionFailedError as exc:
            return SectionFailure(title, exc.attempts, exc.errors)
        rendered = render_section(tsection, SectionContent(data=accepted.data.render_data()))
        after = rendered.rstrip("\n") + _kept_tail(current.text, tsection) + (_trailing(current.text) or "\n")
        return SectionChange(title, "", current.text, after, accepted.attempt)

    # -- writing --------------------------------------------------------------------------------
    def apply(self, proposal: Proposal, changes: list[SectionChange] | None = None) -> Entry:
        """Write the changes to the file (atomically) and journal them.

        NotEditableError, nothing written, when the file is APPROVED now: whoever calls (chat, refine,
        the MCP server, a script), an approved spec changes only after it is reopened.
        """
        chosen = proposal.changes if changes is None else changes
        doc = self.load()
        ensure_editable(doc)
        edits: list[SectionEdit] = []
        for change in chosen:
            section = doc.section(change.title)
            if section is None or section.text != change.before:
                raise InputError(
                    f"Section '{change.title}' of {self.path} changed on disk since the change was proposed; "
                    "nothing was written.",
                    hint="Ask again: the next proposal starts from the file as it is now.",
                )
            after = change.after.rstrip("\n") + (_trailing(change.before) or "\n")
            new = doc.with_section_text(change.title, after)
            if len(new.sections) != len(doc.sections):
                raise InputError(
                    f"The new text of '{change.title}' would add or remove a '## ' section; "
                    "nothing was written.",
                    hint="Keep exactly one '## ' heading, at the top.",
                )
            doc = new
            edits.append(SectionEdit(section.title, section.text, after))
        atomic_write_text(self.path, doc.serialise())
        entry = self.journal.record_apply(proposal.instruction, edits)
        self.session_changes.extend(chosen)
        self.turns.append(f"changed {', '.join(entry.titles)}: {proposal.instruction}")
        return entry

    def rejected(self, proposal: Proposal) -> None:
        self.turns.append(
            f"proposed a change to {', '.join(c.title for c in proposal.changes)}, rejected: "
            f"{proposal.instruction}"
        )

    def _swap(self, entry: Entry, *, undo: bool) -> None:
        doc = self.load()
        ensure_editable(doc)  # undo and redo rewrite the spec too
        for edit in reversed(entry.sections) if undo else entry.sections:
            old, new = (edit.after, edit.before) if undo else (edit.before, edit.after)
            section = doc.section(heading_title(old))
            if section is None or section.text != old:
                raise InputError(
                    f"Section '{edit.title}' was edited after change {entry.id} ({entry.instruction!r}); "
                    f"not {'undoing' if undo else 'redoing'} it, the file is unchanged.",
                    hint=f"Edit the section by hand, or look at {self.journal.path.name} for the old text.",
                )
            doc = doc.with_section_text(section.title, new)
        atomic_write_text(self.path, doc.serialise())

    def undo(self) -> Entry | None:
        history = self.journal.load()
        if not history.done:
            return None
        entry = history.entries[history.done[-1]]
        self._swap(entry, undo=True)
        self.journal.record_undo(entry.id)
        self.turns.append(f"undid the change to {', '.join(entry.titles)}")
        return entry

    def redo(self) -> Entry | None:
        history = self.journal.load()
        if not history.undone:
            return None
        entry = history.entries[history.undone[-1]]
        self._swap(entry, undo=False)
        self.journal.record_redo(entry.id)
        self.turns.append(f"redid the change to {', '.join(entry.titles)}")
        return entry
