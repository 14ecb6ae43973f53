"""Context selection ranks with numpy now: the chunks chosen are the ones the plain ranking chooses."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from agent.context.chunking import Chunk
from agent.context.retrieval import RELATIVE_FLOOR, ContextPack, index_context

WORDS = [
    "invoice",
    "export",
    "tenant",
    "csv",
    "audit",
    "retry",
    "webhook",
    "token",
    "ledger",
    "refund",
    "quota",
    "archive",
]


def _reference(pack: ContextPack, query: str, budget: int, exclude: list[Chunk]) -> list[Chunk]:
    """The ranking as first written: Python floats, sorted by (-score, index), first fit."""
    excluded = {id(c) for c in exclude}
    scores = [float(s) for s in pack._scores(query)]
    floor = max(scores, default=0.0) * RELATIVE_FLOOR
    scored = sorted(
        ((s, i) for i, s in enumerate(scores) if s > 0 and s >= floor and id(pack.chunks[i]) not in excluded),
        key=lambda pair: (-pair[0], pair[1]),
    )
    chosen, used = [], 0
    for _, i in scored:
        cost = pack.chunks[i].tokens()
        if used + cost <= budget:
            chosen.append(i)
            used += cost
    return [pack.chunks[i] for i in sorted(chosen)]


@pytest.fixture
def pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ContextPack:
    rng = random.Random(5)
    for n in range(60):
        paragraphs = [" ".join(rng.choices(WORDS, k=rng.randint(3, 40))) for _ in range(rng.randint(1, 4))]
        # identical files give identical scores: ties must keep file order
        text = "\n\n".join(paragraphs) if n % 10 else "invoice export csv"
        (tmp_path / f"note{n:02d}.txt").write_text(text + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return index_context([str(tmp_path)])


@pytest.mark.parametrize("budget", [0, 15, 60, 200, 600, 5000])
def test_select_matches_the_plain_ranking(pack: ContextPack, budget: int) -> None:
    for query in ("invoice export csv", "webhook retry", "tenant quota refund ledger", "nothing matches"):
        exclude = pack.chunks[::7]
        assert pack.select(query, budget) == _reference(pack, query, budget, [])
        assert pack.select(query, budget, exclude=exclude) == _reference(pack, query, budget, exclude)


def test_ties_keep_file_order(pack: ContextPack) -> None:
    chosen = pack.select("invoice export csv", 10_000)
    sources = [c.source for c in chosen]
    assert sources == sorted(sources)
    assert any(c.text == "invoice export csv" for c in chosen)
