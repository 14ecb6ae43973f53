"""The importable core of ``specdraft draft``: brief + template + model settings -> Markdown spec."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent import __version__
from agent.checks.lint import Finding, lint_text
from agent.context.provenance import context_provenance
from agent.context.retrieval import ContextPack
from agent.drafting.brief import Brief
from agent.drafting.drafter import Drafter, DraftOptions, DraftResult, EventHandler
from agent.errors import SpecdraftError
from agent.llm.client import ChatClient, Usage
from agent.llm.pricing import CostEstimate, estimate_cost
from agent.llm.providers import Endpoint, ModelSettings, open_endpoint
from agent.specdoc.render import DocumentValues, Provenance, render_spec
from agent.specdoc.template import SpecTemplate
from agent.specdoc.template_resolver import TemplateOutline, read_template_outline, template_reference


@dataclass
class DraftOutcome:
    markdown: str
    result: DraftResult
    endpoint_model: str
    provider: str
    load_seconds: float
    seconds: float
    notices: list[str] = field(default_factory=list)
    #: the outline of the template the spec was drafted from (what ``findings`` lints against)
    outline: TemplateOutline | None = None
    context_summary: str = ""
    #: the model's parameters (None: unknown) and the re-ask policy drafted with
    model_params: int | None = None
    reask_policy: str = ""

    @functools.cached_property
    def findings(self) -> list[Finding]:
        """Lint findings on the rendered spec, against the template it was drafted from.

        Computed on first use: ``draft`` shows them, a batch of many briefs never asks (linting a
        spec costs more CPU than several model calls' client-side work).
        """
        return lint_text(self.markdown, self.outline)

    def cost(self) -> CostEstimate:
        return estimate_cost(self.result.usage, self.endpoint_model, self.provider)

    def summary(self, output: str | None) -> dict[str, Any]:
        """The machine-readable result printed by ``draft --json``."""
        return {
            "output": output,
            "model": self.endpoint_model,
            "model_params": self.model_params,
            "reask_policy": self.reask_policy,
            "provider": self.provider,
            "status": "attention" if self.result.needs_attention else "ok",
            "sections": [
                {
                    "key": r.key,
                    "title": r.title,
                    "status": r.status,
                    "attempts": r.attempts,
                    "problems": r.problems,
                }
                for r in self.result.sections.values()
            ],
            "needs_attention": self.result.needs_attention,
            "retries": self.result.retries,
            "tokens": self.result.usage.as_dict(),
            "cost": self.cost().as_dict(),
            "seconds": round(self.seconds, 2),
            "model_load_seconds": round(self.load_seconds, 2),
            **({"context": self.context_summary} if self.context_summary else {}),
        }


def settings_digest(settings: ModelSettings, options: DraftOptions, endpoint_model: str) -> str:
    """A digest of what shapes the model's answers besides brief and template (for resume)."""
    material = {
        "provider": settings.provider.value,
        "model": endpoint_model,
        "base_url": settings.base_url,
        "temperature": options.temperature,
        "seed": settings.seed,
        "max_retries": options.max_retries,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def brief_reference(brief_source: str, spec_path: Path | None) -> str | None:
    """The brief's path relative to the spec's directory (POSIX form), or None (stdin, a batch row)."""
    brief_file = Path(brief_source)
    if spec_path is None or not brief_file.is_file():
        return None
    relative = os.path.relpath(brief_file.resolve(), spec_path.resolve().parent)
    return Path(relative).as_posix()


def author_line(model: str) -> str:
    return f"specdraft {__version__} ({model})"


def draft_with_endpoint(
    endpoint: Endpoint,
    brief: Brief,
    template: SpecTemplate,
    settings: ModelSettings,
    options: DraftOptions,
    on_event: EventHandler | None = None,
    *,
    today: datetime | None = None,
    spec_path: Path | None = None,
    context: ContextPack | None = None,
) -> DraftOutcome:
    drafting = adraft_with_endpoint(
        endpoint,
        brief,
        template,
        settings,
        options,
        on_event,
        today=today,
        spec_path=spec_path,
        context=context,
    )
    return asyncio.run(drafting)


async def adraft_with_endpoint(
    endpoint: Endpoint,
    brief: Brief,
    template: SpecTemplate,
    settings: ModelSettings,
    options: DraftOptions,
    on_event: EventHandler | None = None,
    *,
    today: datetime | None = None,
    client: ChatClient | None = None,
    spec_path: Path | None = None,
    context: ContextPack | None = None,
    spent: Usage | None = None,
) -> DraftOutcome:
    """The async form of draft_with_endpoint; many drafts can share one event loop and ``client``.

    ``spec_path``, where the spec will be written, lets the front matter point to the brief and the
    ``context`` files (``--context``, see agent.context).
    ``spent`` collects every token and model call as they happen, so a caller still knows what a
    draft cost when it fails or is interrupted; a SpecdraftError raised here also carries it as ``usage``.
    """
    started = time.perf_counter()
    spent = spent if spent is not None else Usage()
    drafter = Drafter(
        client or ChatClient(endpoint, settings), brief, template, options, on_event, context, spent=spent
    )
    try:
        result = await drafter.draft()
    except SpecdraftError as exc:
        exc.usage = spent
        raise
    day = (today or datetime.now(UTC)).date()
    values = DocumentValues(
        title=brief.title,
        priority=brief.priority.value,
        owner=brief.owner,
        status="DRAFT",
        author=author_line(endpoint.model),
        day=day,
    )
    size = endpoint.model_size
    provenance = Provenance(
        model=endpoint.model,
        model_params=size.params,
        model_params_from=size.source,
        reask_policy=drafter.policy.name,
        provider=endpoint.provider.value,
        template=template_reference(template, spec_path),
        template_sha256=template.sha256,
        version=__version__,
        brief_sha256=brief.sha256,
        usage=result.usage.as_dict(),
        settings_sha256=settings_digest(settings, options, endpoint.model),
        brief=brief_reference(brief.source, spec_path),
        context=(
            context_provenance(
                context, (spec_path or Path("spec.md")).resolve().parent, drafter.context_sources
            )
            if context is not None
            else None
        ),
    )
    markdown = render_spec(template, result.contents(), values, provenance)
    return DraftOutcome(
        markdown=markdown,
        result=result,
        endpoint_model=endpoint.model,
        provider=endpoint.provider.value,
        load_seconds=endpoint.load_seconds,
        seconds=time.perf_counter() - started,
        notices=[endpoint.notice] if endpoint.notice else [],
        outline=read_template_outline(template.path),
        context_summary=context.walk.summary() if context is not None else "",
        model_params=size.params,
        reask_policy=drafter.policy.name,
    )


def draft_spec(
    brief: Brief,
    template: SpecTemplate,
    settings: ModelSettings,
    options: DraftOptions,
    on_event: EventHandler | None = None,
    *,
    context: ContextPack | None = None,
    spec_path: Path | None = None,
) -> DraftOutcome:
    """Open the provider (starting the embedded server when local), draft, render."""
    with open_endpoint(settings) as endpoint:
        return draft_with_endpoint(
            endpoint, brief, template, settings, options, on_event, context=context, spec_path=spec_path
        )
