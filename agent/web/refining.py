"""Refine from the review page: the instruction's diff is shown first, written only when applied.

The same engine as `specdraft refine` (``agent.drafting.refine.Refiner``: ``propose`` asks the model and
writes nothing, ``apply`` writes and journals, refusing an APPROVED spec or a section changed on disk
since the proposal). The model is the one `specdraft serve` was configured with (the same flags and
settings as refine); it is opened on the first instruction (the embedded engine starts then) and kept
for the next ones. Proposals wait in memory under a random id until applied or dropped.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from contextlib import ExitStack
from dataclasses import dataclass

from agent.drafting.brief import recorded_brief
from agent.drafting.refine import Proposal, RefineOptions, Refiner
from agent.errors import InputError
from agent.io.journal import Entry
from agent.llm.providers import Endpoint, ModelSettings, open_endpoint
from agent.signoff.steps import ensure_version
from agent.specdoc.document import load_spec
from agent.specdoc.lifecycle import ensure_editable
from agent.web.roots import SpecRef

#: proposals kept waiting (the oldest is dropped beyond this)
MAX_PENDING = 20


@dataclass(frozen=True)
class Pending:
    id: str
    ref: SpecRef
    proposal: Proposal
    refiner: Refiner


class Refining:
    """The model behind the page's refine, and the proposals waiting to be applied."""

    def __init__(self, settings: ModelSettings, options: RefineOptions) -> None:
        self.settings = settings
        self.options = options
        self._stack = ExitStack()
        self._endpoint: Endpoint | None = None
        self._lock = threading.Lock()  # one model request at a time; the endpoint opened once
        self._pending: OrderedDict[str, Pending] = OrderedDict()

    def _open(self) -> Endpoint:
        if self._endpoint is None:
            self._endpoint = self._stack.enter_context(open_endpoint(self.settings))
        return self._endpoint

    def propose(self, ref: SpecRef, instruction: str, version: str | None) -> Pending:
        """Ask the model for the change to the version the page showed; nothing is written."""
        doc = load_spec(ref.path)
        ensure_version(doc, version)
        ensure_editable(doc)  # a quick answer; apply checks again on the file as it is then
        brief, _ = recorded_brief(ref.path, doc)
        with self._lock:
            refiner = Refiner(ref.path, self._open(), self.settings, self.options, brief=brief)
            proposal = refiner.propose(instruction)
            pending = Pending(secrets.token_urlsafe(12), ref, proposal, refiner)
            self._pending[pending.id] = pending
            while len(self._pending) > MAX_PENDING:
                self._pending.popitem(last=False)
        return pending

    def apply(self, ref: SpecRef, ident: str) -> Entry:
        """Write a waiting proposal (the one for this spec with this id) and journal it."""
        with self._lock:
            pending = self._pending.get(ident)
            if pending is None or pending.ref.path != ref.path:
                raise InputError(
                    "That proposal is no longer waiting (applied, or dropped).",
                    hint="Ask for the change again.",
                )
            entry = pending.refiner.apply(pending.proposal)
            del self._pending[ident]
        return entry

    def close(self) -> None:
        self._stack.close()
