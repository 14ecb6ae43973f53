"""The history journal next to a spec: records, undo/redo stacks, locking, corruption."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest
from pydantic import SecretStr

from agent.drafting.refine import Proposal, Refiner, Route, SectionChange
from agent.errors import InputError, JournalCorrupt
from agent.io.journal import Journal, SectionEdit, journal_path, replay
from agent.llm.providers import Endpoint, ModelSettings, Provider

CLEAN = Path(__file__).resolve().parent.parent / "data" / "specs" / "clean.md"


def edit(n: int) -> SectionEdit:
    return SectionEdit("Overview", f"## Overview\n\nbefore {n}\n", f"## Overview\n\nafter {n}\n")


def test_journal_sits_next_to_the_spec(tmp_path: Path) -> None:
    assert journal_path(tmp_path / "spec.md") == tmp_path / "spec.md.history.jsonl"


def test_apply_undo_redo_stacks(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "spec.md")
    first = journal.record_apply("one", [edit(1)])
    second = journal.record_apply("two", [edit(2)])
    assert (first.id, second.id) == (1, 2)
    journal.record_undo(2)
    journal.record_undo(1)
    history = journal.load()
    assert history.done == [] and history.undone == [2, 1]
    journal.record_redo(1)
    third = journal.record_apply("three", [edit(3)])  # a new change after an undo drops the redo stack
    history = journal.load()
    assert history.done == [1, 3] and history.undone == []
    assert third.id == 3 and history.entries[3].sections[0].after == "## Overview\n\nafter 3\n"
    lines = journal.path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["op"] for line in lines] == ["apply", "apply", "undo", "undo", "redo", "apply"]
    record = json.loads(lines[0])
    assert set(record) == {"op", "id", "at", "instruction", "sections"} and record["at"].endswith("Z")


@pytest.mark.parametrize(
    "lines",
    [
        ["{not json"],
        ['{"op": "undo", "id": 1}'],
        ['{"op": "apply", "id": 1, "instruction": "x", "sections": []}'],
        ['{"op": "apply", "id": 1, "instruction": "x", "sections": [{"title": "A"}]}'],
        ['{"op": "explode"}'],
        ["[1, 2]"],
    ],
)
def test_replay_rejects_nonsense(lines: list[str]) -> None:
    with pytest.raises(JournalCorrupt):
        replay(lines)


def test_corrupt_journal_is_moved_aside_with_a_warning(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "spec.md")
    journal.path.write_text('{"op": "redo", "id": 4}\n', encoding="utf-8")
    assert journal.load().done == []
    assert journal.warning is not None and "moved it to" in journal.warning
    assert not journal.path.exists()
    [aside] = list(tmp_path.glob("spec.md.history.jsonl.corrupt-*"))
    assert aside.read_text(encoding="utf-8") == '{"op": "redo", "id": 4}\n'
    assert journal.record_apply("after", [edit(1)]).id == 1  # a fresh journal starts


def test_concurrent_appends_never_interleave(tmp_path: Path) -> None:
    def writer(k: int) -> None:
        journal = Journal(tmp_path / "spec.md")
        for n in range(5):
            journal.record_apply(f"w{k}-{n}", [edit(n)])

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    history = Journal(tmp_path / "spec.md").load()
    assert sorted(history.entries) == list(range(1, 31))
    assert len({e.instruction for e in history.entries.values()}) == 30


def _refiner(tmp_path: Path) -> Refiner:
    spec = tmp_path / "spec.md"
    shutil.copyfile(CLEAN, spec)
    endpoint = Endpoint(Provider.compatible, "http://127.0.0.1:9/v1", "none", SecretStr("no-key-needed"))
    return Refiner(spec, endpoint, ModelSettings())


def _change(refiner: Refiner, text: str) -> Proposal:
    section = refiner.load().section("Overview")
    assert section is not None
    after = f"## Overview\n\n{text}\n\n"
    return Proposal(
        "say " + text, Route("edit", [("Overview", "")]), [SectionChange("Overview", "", section.text, after)]
    )


def test_undo_of_a_section_edited_since_is_refused(tmp_path: Path) -> None:
    refiner = _refiner(tmp_path)
    refiner.apply(_change(refiner, "First version."))
    text = refiner.path.read_text(encoding="utf-8")
    refiner.path.write_text(
        text.replace("First version.", "First version, edited by hand."), encoding="utf-8"
    )
    edited = refiner.path.read_bytes()
    with pytest.raises(InputError, match="was edited after change 1"):
        refiner.undo()
    assert refiner.path.read_bytes() == edited
    assert [e for e in refiner.journal.load().done] == [1]


def test_undo_twice_then_redo_twice_restores_each_state(tmp_path: Path) -> None:
    refiner = _refiner(tmp_path)
    states = [refiner.path.read_bytes()]
    for text in ("One.", "Two."):
        refiner.apply(_change(refiner, text))
        states.append(refiner.path.read_bytes())
    assert refiner.undo() is not None and refiner.path.read_bytes() == states[1]
    assert refiner.undo() is not None and refiner.path.read_bytes() == states[0]
    assert refiner.undo() is None and refiner.path.read_bytes() == states[0]
    assert refiner.redo() is not None and refiner.path.read_bytes() == states[1]
    assert refiner.redo() is not None and refiner.path.read_bytes() == states[2]
    assert refiner.redo() is None


def test_apply_refuses_text_that_adds_a_section(tmp_path: Path) -> None:
    refiner = _refiner(tmp_path)
    original = refiner.path.read_bytes()
    proposal = _change(refiner, "Text.\n\n## Sneaky\n\nmore")
    with pytest.raises(InputError, match="add or remove a '## ' section"):
        refiner.apply(proposal)
    assert refiner.path.read_bytes() == original
    assert not refiner.journal.path.exists()


def test_a_torn_last_line_is_cut_and_the_complete_lines_kept(tmp_path: Path) -> None:
    """A process killed in the middle of an append leaves half a line: the history before it survives."""
    journal = Journal(tmp_path / "spec.md")
    journal.record_apply("first", [edit(1)])
    journal.record_apply("second", [edit(2)])
    complete = journal.path.read_text(encoding="utf-8")
    with open(journal.path, "a", encoding="utf-8") as handle:
        handle.write('{"op":"apply","id":3,"at":"2026-11-2')  # torn: no end, no newline
    fresh = Journal(tmp_path / "spec.md")
    history = fresh.load()
    assert history.done == [1, 2]
    assert fresh.warning is not None and "incomplete" in fresh.warning and "kept the 2" in fresh.warning
    assert journal.path.read_text(encoding="utf-8") == complete, "the torn tail is cut off the file"
    assert not list(tmp_path.glob("*.corrupt-*"))
    assert fresh.record_apply("third", [edit(3)]).id == 3  # the next append starts on its own line
    assert Journal(tmp_path / "spec.md").load().done == [1, 2, 3]


def test_a_complete_last_line_without_newline_is_kept(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "spec.md")
    journal.record_apply("first", [edit(1)])
    journal.path.write_text(journal.path.read_text(encoding="utf-8").rstrip("\n"), encoding="utf-8")
    assert Journal(tmp_path / "spec.md").load().done == [1]
    journal.record_apply("second", [edit(2)])
    assert Journal(tmp_path / "spec.md").load().done == [1, 2]
