"""Read a spec's tasks: checklist items with stable IDs, phase, cited requirements and acceptance criteria.

Tasks come from the Implementation Timeline (``### Phase ...`` subsections) when the spec has one, else from
every checklist item of the template that is not itself a requirement (``**FR-001**: ...``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from agent.errors import InputError
from agent.specdoc.document import SpecDocument, load_spec, normalise_heading
from agent.specdoc.language import title_pattern
from agent.specdoc.requirements import ID_PATTERN, REQUIREMENT, defined_requirements, split_covers

_CHECK = re.compile(r"^\s*[-*]\s+\[[ xX]\]\s+(?P<text>.+?)\s*$")
_REQ_REF = re.compile(rf"\b{ID_PATTERN}\b")
_BULLET = re.compile(r"^\s*[-*]\s+(?:\[[ xX]\]\s+)?(?P<text>.+?)\s*$")
_ACCEPTANCE_TITLES = ("success", "testing", "acceptance", "criteria", "verification")
_TIMELINE = title_pattern("timeline")
#: the same in the other template languages (title words of agent.specdoc.language)
_ACCEPTANCE = title_pattern("criteria")


@dataclass(frozen=True)
class Task:
    id: str
    title: str
    phase: str
    requirements: tuple[str, ...]
    requirement_texts: dict[str, str] = field(default_factory=dict)
    acceptance: tuple[str, ...] = ()

    @property
    def text_hash(self) -> str:
        """sha256 of the task's own text and what it cites: changes when the spec's wording does."""
        parts = [self.title, self.phase, *self.requirements, *self.acceptance]
        return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "phase": self.phase,
            "requirements": [{"id": r, "text": self.requirement_texts.get(r, "")} for r in self.requirements],
            "acceptance_criteria": list(self.acceptance),
            "sha256": self.text_hash,
        }


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("**", "")).strip()


def requirements_of(doc: SpecDocument) -> dict[str, str]:
    """Every requirement definition (``**FR-001**: text``, ``**NFR-001**: ...``) in the spec, in order."""
    return {rid: _clean(text) for rid, text in defined_requirements(doc.body).items()}


def _acceptance_lines(doc: SpecDocument) -> list[str]:
    lines: list[str] = []
    for section in doc.sections:
        title = section.title.lower()
        if any(word in title for word in _ACCEPTANCE_TITLES) or _ACCEPTANCE.search(title):
            for line in section.content.splitlines():
                match = _BULLET.match(line)
                if match:
                    lines.append(_clean(match.group("text")))
    return lines


def _phase_items(doc: SpecDocument) -> list[tuple[str, str]]:
    timeline = next(
        (
            s
            for s in doc.sections
            if normalise_heading(s.title) == normalise_heading("Implementation Timeline")
            or _TIMELINE.search(s.title.strip())
        ),
        None,
    )
    items: list[tuple[str, str]] = []
    if timeline is not None:
        phase = "Timeline"
        for line in timeline.content.splitlines():
            if line.startswith("### "):
                phase = _clean(line[4:])
                continue
            match = _CHECK.match(line)
            if match:
                items.append((phase, _clean(match.group("text"))))
        if items:
            return items
    for section in doc.sections:
        phase = section.title.strip()
        for line in section.content.splitlines():
            if line.startswith("### "):
                phase = _clean(line[4:])
                continue
            match = _CHECK.match(line)
            if match and not REQUIREMENT.match(line):
                items.append((phase, _clean(match.group("text"))))
    return items


def tasks_of(doc: SpecDocument) -> list[Task]:
    """The spec's tasks in document order with IDs T-001, T-002, ... (stable while the order holds)."""
    requirements = requirements_of(doc)
    acceptance_pool = _acceptance_lines(doc)
    tasks: list[Task] = []
    for index, (phase, item) in enumerate(_phase_items(doc), start=1):
        # the item's ``covers`` as rendered (``Add the endpoint (FR-001, NFR-002)``), then IDs in its text
        text, covers = split_covers(item)
        mentioned = [rid for rid in _REQ_REF.findall(text) if rid in requirements]
        cited = tuple(dict.fromkeys([*covers, *mentioned]))
        acceptance: list[str] = []
        for req in cited:
            matching = [line for line in acceptance_pool if re.search(rf"\b{re.escape(req)}\b", line)]
            if matching:
                acceptance.extend(m for m in matching if m not in acceptance)
            elif requirements.get(req):
                acceptance.append(f"{req}: {requirements[req]}")
        tasks.append(
            Task(
                id=f"T-{index:03d}",
                title=text,
                phase=phase,
                requirements=cited,
                requirement_texts={r: requirements[r] for r in cited if r in requirements},
                acceptance=tuple(acceptance),
            )
        )
    return tasks


def load_tasks(path: Path) -> tuple[SpecDocument, list[Task]]:
    doc = load_spec(path)
    tasks = tasks_of(doc)
    if not tasks:
        raise InputError(
            f"'{path}' has no tasks to export: no checklist items ('- [ ] ...') outside its requirements.",
            hint="Add tasks under '## Implementation Timeline' (a '### Phase' per group) and export again.",
        )
    return doc, tasks
