"""Offline export formats: JSON for scripts, a Markdown checklist, and a CSV that Jira's importer takes."""

from __future__ import annotations

import csv
import io
import json

from agent.integrations.export.tasks import Task


def issue_title(task: Task) -> str:
    return f"[{task.id}] {task.title}"[:250]


def issue_body(task: Task, *, spec_name: str) -> str:
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
    lines.append(f"<!-- specdraft-task {task.id} sha256={task.text_hash[:16]} -->")
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
    writer = csv.writer(buffer, lineterminator="\n")
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
                issue_title(task),
                issue_body(task, spec_name=spec_name),
                "Task",
                labels,
                str(epics[task.phase]),
            ]
        )
        next_id += 1
    writer.writerows(rows)
    return buffer.getvalue()
