"""Offline export formats: JSON for scripts, a Markdown checklist, and a CSV that Jira's importer takes."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from agent.integrations.export.identity import marker
from agent.integrations.export.tasks import Task
from agent.specdoc.render import neutralise_html

#: GitHub refuses an issue body longer than this (422), on every rerun
MAX_ISSUE_BODY = 65_536
#: a cell starting with one of these is a formula to Excel, LibreOffice and Sheets (OWASP CSV injection)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")
_SCRIPT_LINK = re.compile(r"\]\((?=\s*<?\s*(?:javascript|vbscript|data):)", re.IGNORECASE)


def inert(text: str) -> str:
    """Spec text as it goes into an issue: no @mention notifies anyone (``@&#8203;name`` shows as
    ``@name``), no raw HTML (``<`` as ``&lt;``), no ``javascript:`` link (its ``](`` escaped)."""
    text = neutralise_html(text)
    return _SCRIPT_LINK.sub("]\\(", _MENTION.sub("@&#8203;", text))


def _title(task: Task) -> str:
    return f"[{task.id}] {task.title}"[:250]


def issue_title(task: Task) -> str:
    """A GitHub issue's title (inert text)."""
    return inert(_title(task))[:250]


def issue_body(task: Task, *, spec_name: str, spec_id: str) -> str:
    """A GitHub issue's text (inert), ending with the marker that makes the issue this spec's."""
    text = inert(_body_text(task, spec_name))
    tail = "\n" + marker(spec_id, task.id)
    if len(text) + len(tail) > MAX_ISSUE_BODY:
        note = (
            f"\n\n(Cut to GitHub's {MAX_ISSUE_BODY:,}-character limit; the whole task is in `{spec_name}`.)"
        )
        text = text[: MAX_ISSUE_BODY - len(tail) - len(note)] + note
    return text + tail


def _body_text(task: Task, spec_name: str) -> str:
    lines = [f"Task {task.id} from `{spec_name}`, phase: {task.phase}.", ""]
    if task.requirements:
        lines.append("Requirements:")
        lines += [
            f"- **{r}**: {task.requirement_texts.get(r, '(not defined in the spec)')}"
            for r in task.requirements
        ]
        lines.append("")
    if task.acceptance:
        lines.append("Acceptance criteria:")
        lines += [f"- [ ] {a}" for a in task.acceptance]
        lines.append("")
    return "\n".join(lines)


def label_for(phase: str) -> str:
    return phase.split(":")[0].strip()[:50] or "phase"


def to_json(tasks: list[Task], *, spec_name: str) -> str:
    return (
        json.dumps({"spec": spec_name, "tasks": [t.to_dict() for t in tasks]}, indent=2, ensure_ascii=False)
        + "\n"
    )


def to_markdown(tasks: list[Task], *, spec_name: str) -> str:
    out = [f"# Tasks from {spec_name}", ""]
    phase = None
    for task in tasks:
        if task.phase != phase:
            phase = task.phase
            out += [f"## {phase}", ""] if len(out) == 2 else ["", f"## {phase}", ""]
        refs = (
            f" ({', '.join(task.requirements)})"
            if task.requirements and not all(r in task.title for r in task.requirements)
            else ""
        )
        out.append(f"- [ ] **{task.id}** {task.title}{refs}")
        out += [f"  - acceptance: {a}" for a in task.acceptance]
    return "\n".join(out) + "\n"


def to_jira_csv(tasks: list[Task], *, spec_name: str) -> str:
    """One Epic row per phase, then the tasks with ``Parent`` = the epic's Issue ID (Jira's CSV importer)."""
    buffer = io.StringIO()
    writer = _SafeWriter(csv.writer(buffer, lineterminator="\n"))
    writer.writerow(["Issue ID", "Summary", "Description", "Issue Type", "Labels", "Parent"])
    epics: dict[str, int] = {}
    rows: list[list[str]] = []
    next_id = 1
    for task in tasks:
        if task.phase not in epics:
            epics[task.phase] = next_id
            writer.writerow([str(next_id), task.phase, f"Phase of {spec_name}", "Epic", "specdraft", ""])
            next_id += 1
    for task in tasks:
        labels = " ".join(["specdraft", *task.requirements])
        rows.append(
            [
                str(next_id),
                _title(task),  # Jira shows text as given: no GitHub escapes
                _body_text(task, spec_name),
                "Task",
                labels,
                str(epics[task.phase]),
            ]
        )
        next_id += 1
    writer.writerows(rows)
    return buffer.getvalue()


def csv_cell(value: str) -> str:
    """``value`` as a spreadsheet shows it, never runs it: a leading ``'`` before a formula start."""
    return "'" + value if value.startswith(_FORMULA_START) else value


class _SafeWriter:
    """A csv writer whose every cell goes through :func:`csv_cell`."""

    def __init__(self, writer: Any) -> None:  # a csv.writer (its type is private)
        self._writer = writer

    def writerow(self, row: list[str]) -> None:
        self._writer.writerow([csv_cell(cell) for cell in row])

    def writerows(self, rows: list[list[str]]) -> None:
        for row in rows:
            self.writerow(row)
