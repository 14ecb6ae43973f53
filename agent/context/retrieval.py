"""Rank context chunks against the brief and each section with BM25 and keep the best within a budget.

BM25 comes from ``bm25s`` (a maintained, numpy-only implementation with prebuilt wheels). Scores are
computed per chunk, so a long unrelated file only adds low-scoring chunks: it cannot crowd out the
relevant parts of smaller files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import bm25s  # type: ignore[import-untyped]
import numpy as np

from agent.context.chunking import Chunk, Facts, chunk_file
from agent.context.walk import WalkResult, walk_context

#: default prompt budget for context, in tokens: the embedded server gives each slot 4,096 tokens
#: (llm/embedded.py CTX_PER_SLOT), of which a section's instructions, brief and answer take ~2,500;
#: and prompt processing (~150 tokens/s on 2 cores) is the slow part. Brief-wide chunks take 2/3.
DEFAULT_CONTEXT_BUDGET = 600
#: chunks scoring below this fraction of the best chunk's score are left out
RELATIVE_FLOOR = 0.25


@dataclass
class ContextPack:
    """Everything the drafter needs from ``--context``."""

    walk: WalkResult
    chunks: list[Chunk]
    facts: Facts
    budget: int
    shared: list[Chunk] = field(default_factory=list)
    _index: bm25s.BM25 | None = None
    #: each chunk's ``tokens()``, worked out once (a large repository has tens of thousands of chunks)
    _costs: list[int] = field(default_factory=list)

    def files(self) -> list[Path]:
        return [f.path for f in self.walk.files]

    def _scores(self, query: str) -> np.ndarray:
        """The BM25 score of every chunk for ``query`` (float64, one per chunk)."""
        if self._index is None or not self.chunks:
            return np.zeros(len(self.chunks))
        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False, return_ids=False)
        # numbers and two-letter fragments (FR, 90, per) match anything: they are not evidence
        words = [w for w in tokens[0] if len(w) > 2 and not w.isdigit()]
        if not words:
            return np.zeros(len(self.chunks))
        return np.asarray(self._index.get_scores(words), dtype=np.float64)

    def select(self, query: str, budget: int, exclude: list[Chunk] | None = None) -> list[Chunk]:
        """The best-scoring chunks (score > 0) for ``query`` that fit ``budget`` tokens, in file order."""
        if not self.chunks:
            return []
        excluded = {id(c) for c in exclude or []}
        scores = self._scores(query)
        # a chunk that shares one stray word with the query is noise: keep those near the best
        floor = float(scores.max()) * RELATIVE_FLOOR
        keep = np.flatnonzero((scores > 0) & (scores >= floor))
        # best first, ties in file order (a stable sort of indices that are already ascending)
        ranked = keep[np.argsort(-scores[keep], kind="stable")].tolist()
        if len(self._costs) != len(self.chunks):
            self._costs = [c.tokens() for c in self.chunks]
        costs = self._costs
        chosen: list[int] = []
        used = 0
        for i in ranked:
            if excluded and id(self.chunks[i]) in excluded:
                continue
            cost = costs[i]
            if used + cost > budget:
                continue
            chosen.append(i)
            used += cost
        return [self.chunks[i] for i in sorted(chosen)]

    def for_brief(self, brief_text: str) -> ContextPack:
        """The same index with the brief-wide chunks chosen for ``brief_text`` (one walk, many briefs)."""
        pack = dataclasses.replace(self, shared=[])
        pack.shared = pack.select(brief_text, self.budget * 2 // 3)
        return pack

    def digest(self) -> str:
        """sha256 over the context files' paths and contents (a batch redrafts when it changes)."""
        digest = hashlib.sha256()
        for file in self.walk.files:
            digest.update(str(file.path).encode() + b"\0" + file.text.encode() + b"\0")
        return digest.hexdigest()

    def section_chunks(self, query: str) -> list[Chunk]:
        return self.select(query, self.budget - sum(c.tokens() for c in self.shared), exclude=self.shared)


def display_path(path: Path, base: Path) -> str:
    try:
        return Path(os.path.relpath(path, base)).as_posix()
    except ValueError:
        return path.as_posix()


def build_context(paths: list[str], brief_text: str, *, budget: int = DEFAULT_CONTEXT_BUDGET) -> ContextPack:
    """Walk, chunk and index ``paths``; pick the brief-wide chunks for the shared prefix."""
    return index_context(paths, budget=budget).for_brief(brief_text)


def index_context(paths: list[str], *, budget: int = DEFAULT_CONTEXT_BUDGET) -> ContextPack:
    """Walk, chunk and index ``paths`` (no brief yet: see ContextPack.for_brief)."""
    walk = walk_context(paths)
    facts = Facts()
    chunks: list[Chunk] = []
    base = Path.cwd()
    for file in walk.files:
        chunks += chunk_file(display_path(file.path, base), file.text, facts)
    index: bm25s.BM25 | None = None
    if chunks:
        corpus = [f"{c.label}\n{c.text}" for c in chunks]
        index = bm25s.BM25()
        index.index(bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False)
    return ContextPack(walk=walk, chunks=chunks, facts=facts, budget=budget, _index=index)
