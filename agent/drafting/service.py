"""The one way to draft a spec: brief + configuration -> a Markdown spec written, linted and measured.

``draft``, ``eval --draft``, ``batch`` (per brief) and the MCP tool ``draft_spec`` all go through here:
:func:`plan_drafts` turns the configuration in force (agent.io.config) into what every draft of a command
shares (template, model settings, options, indexed context); :func:`draft_to_file` (or
:func:`adraft_to_file` inside an event loop) drafts one brief, writes it atomically and returns a
:class:`DraftOutcome` whose lint findings and brief coverage are computed once, when first asked for.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from agent import __version__
from agent.checks.lint import Finding, lint_text, summary_line
from agent.context.provenance import context_provenance
from agent.context.retrieval import ContextPack, index_context
from agent.drafting.brief import Brief
from agent.drafting.digest import settings_digest
from agent.drafting.drafter import Drafter, DraftOptions, DraftResult, EventHandler, SectionEvent
from agent.errors import InputError, SpecdraftError
from agent.io.atomic import atomic_write_text
from agent.io.config import EffectiveConfig
from agent.io.output import check_output_path
from agent.io.slug import slugify
from agent.llm.client import ChatClient, Usage
from agent.llm.pricing import CostEstimate, estimate_cost
from agent.llm.providers import (
    Endpoint,
    ModelSettings,
    Provider,
    model_settings,
    open_endpoint,
)
from agent.specdoc.language import parse_language
from agent.specdoc.render import DocumentValues, Provenance, render_spec
from agent.specdoc.template import SpecTemplate
from agent.specdoc.template_resolver import (
    TemplateOutline,
    load_template,
    read_template_outline,
    template_reference,
)


@dataclass
class DraftOutcome:
    markdown: str
    result: DraftResult
    endpoint_model: str
    provider: str
    load_seconds: float
    seconds: float
    notices: list[str] = field(default_factory=list)
    #: what a person should know about the spec's language (a German brief, an English template)
    language_note: str = ""
    #: the outline of the template the spec was drafted from (what ``findings`` lints against)
    outline: TemplateOutline | None = None
    context_summary: str = ""
    #: the model's parameters (None: unknown) and the re-ask policy drafted with
    model_params: int | None = None
    reask_policy: str = ""
    #: the brief drafted from (its facts, extracted once, measure the coverage)
    brief: Brief | None = None

    @functools.cached_property
    def findings(self) -> list[Finding]:
        """Lint findings on the rendered spec, against the template it was drafted from.

        Computed on first use: ``draft`` shows them, a batch of many briefs never asks (linting a
        spec costs more CPU than several model calls' client-side work).
        """
        return lint_text(self.markdown, self.outline)

    @property
    def lint_line(self) -> str:
        """The one line ``draft`` prints about the lint findings."""
        return summary_line(self.findings)

    @functools.cached_property
    def brief_coverage(self) -> float | None:
        """The share of the brief's key terms and facts the spec carries (None without the brief)."""
        return self.brief.facts.coverage(self.markdown)[0] if self.brief is not None else None

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
            "status": self.result.status,
            "sections": [
                {
                    "key": r.key,
                    "title": r.title,
                    "status": r.status,
                    "attempts": r.attempts,
                    "problems": r.problems,
                    "dropped": r.dropped,
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
    return finished_draft(drafter, result, endpoint, started=started, today=today, spec_path=spec_path)


def finished_draft(
    drafter: Drafter,
    result: DraftResult,
    endpoint: Endpoint,
    *,
    started: float,
    today: datetime | None = None,
    spec_path: Path | None = None,
) -> DraftOutcome:
    """The spec of a draft whose sections are all settled (drafted live, or from a batch's answers):
    rendered with its front matter and provenance, not yet written."""
    brief, template, context = drafter.brief, drafter.template, drafter.context
    values = DocumentValues(
        title=brief.title,
        priority=brief.priority.value,
        owner=brief.owner,
        status="DRAFT",
        author=author_line(endpoint.model),
        day=(today or datetime.now(UTC)).date(),
    )
    settings = drafter.client.settings
    provenance = _provenance(drafter, result, endpoint, settings, spec_path)
    # the spec records its language next to the template's own front matter keys
    recorded = replace(template, front_matter={**template.front_matter, "language": drafter.language.code})
    markdown = render_spec(recorded, result.contents(), values, provenance)
    return DraftOutcome(
        markdown=markdown,
        result=result,
        endpoint_model=endpoint.model,
        provider=endpoint.provider.value,
        load_seconds=endpoint.load_seconds,
        seconds=time.perf_counter() - started,
        notices=[endpoint.notice] if endpoint.notice else [],
        language_note=drafter.language.note,
        outline=read_template_outline(template.path),
        context_summary=context.walk.summary() if context is not None else "",
        model_params=endpoint.model_size.params,
        reask_policy=drafter.policy.name,
        brief=brief,
    )


def _provenance(
    drafter: Drafter, result: DraftResult, endpoint: Endpoint, settings: ModelSettings, spec_path: Path | None
) -> Provenance:
    """What the spec's front matter records about how it was drafted: model, policy, template, brief,
    settings digest, tokens and the context files each section used."""
    size = endpoint.model_size
    template, brief, context = drafter.template, drafter.brief, drafter.context
    return Provenance(
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
        settings_sha256=settings_digest(settings, drafter.options, endpoint),
        brief=brief_reference(brief.source, spec_path),
        context=(
            context_provenance(
                context, (spec_path or Path("spec.md")).resolve().parent, drafter.context_sources
            )
            if context is not None
            else None
        ),
    )


@dataclass(frozen=True)
class DraftPlan:
    """What every draft of one command shares: template, model settings, options and context."""

    template: SpecTemplate
    settings: ModelSettings
    options: DraftOptions
    #: the indexed ``--context`` files (else the configured ``context``), ranked against each brief
    context: ContextPack | None = None

    def context_for(self, brief: Brief) -> ContextPack | None:
        return self.context.for_brief(f"{brief.title}\n{brief.body}") if self.context is not None else None


def chosen_retries(config: EffectiveConfig) -> int | None:
    """max_retries as set by a flag, variable or file; None (the default) lets the re-ask policy
    choose from the model's size (agent.drafting.policy)."""
    return None if config.sources.get("max_retries", "default") == "default" else config.settings.max_retries


def context_paths(config: EffectiveConfig, given: list[str] | None) -> list[str] | None:
    """``--context`` as given, else the ``context`` list of the configuration (None when neither)."""
    if given:
        return given
    return [str(path) for path in config.settings.context] or None


def check_price_table(settings: ModelSettings) -> None:
    """A broken price table is reported before any model work, not after the draft (remote models only)."""
    if settings.provider is not Provider.local:
        from agent.llm.pricing import load_prices

        load_prices()


def plan_drafts(
    config: EffectiveConfig,
    *,
    slots: int | None = None,
    use_cache: bool = True,
    keep_going: bool = True,
    context: list[str] | None = None,
    context_budget: int = 600,
) -> DraftPlan:
    """The plan for the configuration in force; bad settings, template or context fail here, before any
    model work. ``slots``: server slots (default: the configured ``parallel``)."""
    cfg = config.settings
    settings = model_settings(
        cfg, slots=slots or cfg.parallel, use_cache=use_cache, key_withheld=config.key_withheld
    )
    check_price_table(settings)
    template = load_template(cfg.template)
    # re-asks chosen for the model's size unless set, the engine's speed probed first
    options = DraftOptions(
        max_retries=chosen_retries(config),
        keep_going=keep_going,
        parallel=cfg.parallel,
        temperature=cfg.temperature,
        probe=True,
        language=parse_language(cfg.language, where="language") if cfg.language else None,
    )
    paths = context_paths(config, context)
    indexed = index_context(paths, budget=context_budget) if paths else None
    return DraftPlan(template, settings, options, indexed)


def destination(
    given: Path | None, config: EffectiveConfig, plan: DraftPlan, brief: Brief, *, overwrite: bool
) -> Path | None:
    """Where ``draft`` writes (None: stdout), checked before any model work: ``-o`` as given (``-`` is
    stdout); without it <brief name>.md in a configured ``output_dir``, else stdout."""
    if given is None:
        given = default_output(config.settings.output_dir, brief)
    elif str(given) == "-":
        given = None
    if given is not None:
        check_destination(given, plan, brief, overwrite=overwrite)
    return given


def default_output(output_dir: Path | None, brief: Brief) -> Path | None:
    """<brief name>.md in a configured ``output_dir`` (created), else None (stdout)."""
    if output_dir is None:
        return None
    from_stdin = brief.source == "<stdin>"  # agent.io.textinput's label for -
    name = slugify(brief.title if from_stdin else Path(brief.source).stem)
    if output_dir.exists() and not output_dir.is_dir():
        raise InputError(f"The configured output_dir '{output_dir}' is a file; it must be a directory.")
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"Cannot create the configured output_dir '{output_dir}': {exc.strerror}.") from None
    return output_dir / f"{name}.md"


def check_destination(
    output: Path, plan: DraftPlan, brief: Brief, *, overwrite: bool, force_hint: str = "--force"
) -> None:
    """Before any model work: a bad output path is found now, not after the whole draft. The brief and
    the template are never overwritten, whatever ``overwrite`` says."""
    check_output_path(
        output, overwrite=overwrite, inputs=[brief.source, plan.template.path], force_hint=force_hint
    )


class DraftObserver(Protocol):
    """Progress of one draft (the CLI draws a bar; MCP reports progress to the agent)."""

    def note(self, message: str) -> None: ...
    def on_event(self, event: SectionEvent) -> None: ...


def endpoint_notes(endpoint: Endpoint) -> list[str]:
    """What a person is told once the model is ready: the choice of model, the time it took to load."""
    notes = [endpoint.notice] if endpoint.notice else []
    if endpoint.load_seconds:
        notes.append(f"Model {endpoint.model} loaded in {endpoint.load_seconds:.1f} s")
    return notes


@contextmanager
def open_drafting(plan: DraftPlan, observer: DraftObserver | None = None) -> Iterator[Endpoint]:
    """The endpoint for the plan's model settings (the embedded server started, and stopped on exit)."""
    if observer is not None:
        observer.note("Starting the model...")
    with open_endpoint(plan.settings) as endpoint:
        for note in endpoint_notes(endpoint):
            if observer is not None:
                observer.note(note)
        yield endpoint


def draft_to_file(
    brief: Brief,
    plan: DraftPlan,
    output: Path | None,
    *,
    overwrite: bool = False,
    endpoint: Endpoint | None = None,
    observer: DraftObserver | None = None,
) -> DraftOutcome:
    """Draft ``brief`` and write it to ``output`` atomically (None: not written; the caller prints it).

    An existing ``output`` is replaced only with ``overwrite``. Without ``endpoint`` one is opened for
    this draft (several drafts in a row share one by passing it).
    """
    if endpoint is None:
        with open_drafting(plan, observer) as opened:
            return draft_to_file(brief, plan, output, overwrite=overwrite, endpoint=opened, observer=observer)
    outcome = draft_with_endpoint(
        endpoint,
        brief,
        plan.template,
        plan.settings,
        plan.options,
        observer.on_event if observer is not None else None,
        spec_path=output,
        context=plan.context_for(brief),
    )
    return written(outcome, output, overwrite=overwrite)


async def adraft_to_file(
    endpoint: Endpoint,
    brief: Brief,
    plan: DraftPlan,
    output: Path,
    *,
    overwrite: bool = True,
    on_event: EventHandler | None = None,
    client: ChatClient | None = None,
    spent: Usage | None = None,
) -> DraftOutcome:
    """draft_to_file inside an event loop: many drafts share the loop, ``endpoint`` and ``client``."""
    outcome = await adraft_with_endpoint(
        endpoint,
        brief,
        plan.template,
        plan.settings,
        plan.options,
        on_event,
        client=client,
        spec_path=output,
        context=plan.context_for(brief),
        spent=spent,
    )
    # synchronous from here on: a cancellation cannot land between the draft and its write
    return written(outcome, output, overwrite=overwrite)


def written(outcome: DraftOutcome, output: Path | None, *, overwrite: bool) -> DraftOutcome:
    """``outcome``'s spec written atomically to ``output`` (None: not written)."""
    if output is not None:
        atomic_write_text(output, outcome.markdown, overwrite=overwrite)
    return outcome
