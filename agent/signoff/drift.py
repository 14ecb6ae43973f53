"""``specdraft drift``: have the files a spec was written against changed since it was drafted?

The spec's provenance lists its ``--context`` files (path relative to the spec, sha256), the
directories walked and, per section, the files whose chunks its prompt carried. Drift compares that
record with the files as they are now: changed, missing, or new in the same directories.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.context.known import context_entries, read_recorded_context
from agent.context.provenance import file_sha256, relative_to
from agent.context.walk import WalkResult, generated, walk_directory
from agent.errors import InputError
from agent.signoff.records import read_signoffs
from agent.specdoc.document import SpecDocument
from agent.specdoc.lifecycle import Status, current_status


@dataclass
class DriftReport:
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    #: file -> the sections whose prompts used chunks from it
    sections: dict[str, list[str]] = field(default_factory=dict)
    baseline: str = "draft"

    @property
    def drifted(self) -> bool:
        return bool(self.changed or self.missing or self.new)

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": "specdraft.drift/1",
            "drift": self.drifted,
            "baseline": self.baseline,
            "changed": [{"path": p, "sections": self.sections.get(p, [])} for p in self.changed],
            "missing": [{"path": p, "sections": self.sections.get(p, [])} for p in self.missing],
            "new": [{"path": p} for p in self.new],
        }


def _context(doc: SpecDocument) -> dict[str, Any]:
    meta = doc.front_matter.get("specdraft")
    context = meta.get("context") if isinstance(meta, dict) else None
    if not isinstance(context, dict) or not context_entries(doc.front_matter):
        raise InputError(
            f"{doc.source} records no context files.",
            hint="Drift needs a spec drafted with --context (its front matter lists the files).",
        )
    return context


def current_hashes(doc: SpecDocument, base: Path) -> dict[str, str]:
    """path -> sha256 of the spec's context files as they are now (missing files left out)."""
    hashes: dict[str, str] = {}
    for entry in context_entries(doc.front_matter):
        try:  # confined to the spec's tree and read by the bounded reader, as lint reads them
            hashes[entry["path"]] = hashlib.sha256(read_recorded_context(base, entry["path"])).hexdigest()
        except InputError:
            continue
    return hashes


def approval_baseline(doc: SpecDocument) -> dict[str, str] | None:
    """The context hashes of the last standing approval of an APPROVED spec, else None."""
    if current_status(doc) is not Status.APPROVED:
        return None
    standing = [r for r in read_signoffs(doc) if r.superseded is None and r.context is not None]
    return standing[-1].context if standing else None


def check_drift(doc: SpecDocument, spec_path: Path) -> DriftReport:
    """Compare the spec's context record with the files beside it now.

    The baseline is the draft's record, or the last approval's when the spec is APPROVED.
    """
    base = spec_path.parent
    baseline = approval_baseline(doc)
    context = _context(doc)
    recorded = {e["path"]: e["sha256"] for e in context_entries(doc.front_matter)}
    report = DriftReport()
    if baseline is not None:
        recorded = {path: baseline.get(path, sha) for path, sha in recorded.items()}
        report.baseline = "approval"
    sections = context.get("sections")
    if isinstance(sections, dict):
        for key, paths in sections.items():
            for path in paths if isinstance(paths, list) else []:
                report.sections.setdefault(str(path), []).append(str(key))
    for path, sha in sorted(recorded.items()):
        file = base / path
        if not file.is_file():
            report.missing.append(path)
            continue
        try:
            if file_sha256(file) != sha:
                report.changed.append(path)
        except (OSError, InputError):
            report.missing.append(path)
    directories = context.get("directories")
    known = set(recorded)
    scratch = WalkResult()
    for directory in directories if isinstance(directories, list) else []:
        root = base / str(directory)
        if not root.is_dir():
            continue
        # only the directory itself: its subdirectories are listed on their own when they were walked
        for file in walk_directory(root, scratch):
            relative = relative_to(file, base)
            if file.parent.resolve() != root.resolve() or relative in known or generated(file):
                continue
            if file.resolve() == spec_path.resolve():
                continue
            known.add(relative)
            report.new.append(relative)
    report.new.sort()
    return report
