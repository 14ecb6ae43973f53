"""``specdraft mcp``: specdraft's core as Model Context Protocol tools for coding agents (stdio).

Built on the official ``mcp`` SDK's FastMCP (1.x: ``mcp.server.fastmcp``). Tools return compact structured
results (agents pay for context). Every path is confined to the server's root directory; a specdraft error
becomes a tool error carrying the same message the CLI prints, never a crash of the server.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from itertools import islice
from pathlib import Path
from typing import Any, Literal, TypeVar

import anyio
import anyio.from_thread
import anyio.to_thread
from mcp.server.fastmcp import Context, FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from pydantic import BaseModel, Field

from agent.checks.lint import count_errors, lint_path, summary_line
from agent.drafting.brief import load_brief, parse_brief, recorded_brief
from agent.drafting.drafter import SectionEvent
from agent.drafting.refine import RefineOptions, Refiner, check_instruction, revision_language
from agent.drafting.service import DraftPlan, check_destination, draft_to_file, plan_drafts
from agent.errors import InputError, SpecdraftError
from agent.io.config import EffectiveConfig, load_config
from agent.io.markdown_walk import markdown_files
from agent.io.paths import confine
from agent.io.redact import redact
from agent.io.textinput import read_user_bytes
from agent.llm.providers import model_settings, open_endpoint
from agent.signoff.verification import verify
from agent.specdoc.document import load_spec
from agent.specdoc.language import LANGUAGES, parse_language
from agent.specdoc.lifecycle import ensure_editable
from agent.specdoc.template_resolver import builtin_templates_dir, is_builtin_name, list_templates
from agent.specdoc.trace import trace_document

ProviderName = Literal["local", "openai", "compatible"]
Result = TypeVar("Result")
_CODES = ", ".join(LANGUAGES)


class DraftToolResult(BaseModel):
    path: str
    status: Literal["ok", "attention"]
    needs_attention: list[str]
    lint: str
    usage: dict[str, Any]


class LintFinding(BaseModel):
    rule: str
    severity: str
    section: str
    line: int
    message: str


class LintResult(BaseModel):
    path: str
    errors: int
    warnings: int
    summary: str
    findings: list[LintFinding]


class TracedRequirementResult(BaseModel):
    id: str
    #: the endpoints, tests, success criteria and tasks that cite it (their lines, shortened)
    covered_by: dict[str, list[str]]


class TraceResult(BaseModel):
    path: str
    traced_share: float
    uncovered: list[str]
    requirements: list[TracedRequirementResult]


class RefineResult(BaseModel):
    path: str
    applied: bool
    answer: str | None = None
    sections: list[str] = Field(default_factory=list)
    diff: str = ""
    failed: list[str] = Field(default_factory=list)


class VerifyResult(BaseModel):
    path: str
    ok: bool
    status: str
    required: int
    holding: int
    problems: list[str]


class TemplateEntry(BaseModel):
    name: str
    description: str
    sections: int


class Workspace:
    """The directory the tools may touch; every path argument is resolved inside it or refused."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path(self, value: str, *, what: str = "path") -> Path:
        return confine(
            value,
            self.root,
            what=what,
            root_name="the server's working directory",
            hint="Give a path inside it (relative paths are resolved against it).",
        )

    def template(self, value: str | None) -> str | None:
        """A template argument: a built-in name as it is, anything else a path confined to the root
        (resolved against the root, never against the server's own working directory)."""
        if value is None or is_builtin_name(value):
            return value
        return str(self.path(value, what="template"))

    def shown(self, path: Path) -> str:
        return str(path.relative_to(self.root)) if self.root in path.parents else str(path)


@dataclass(frozen=True)
class ModelArguments:
    """The model settings a tool call gives (None = not given: the project's configuration)."""

    provider: ProviderName | None = None
    model: str | None = None
    base_url: str | None = None
    timeout: float | None = None


def _language(value: str | None) -> str | None:
    """A tool call's ``language``: a code or name as ``--language`` takes it, refused by name when unknown."""
    return None if value is None else parse_language(value, where="language")


def _config(
    root: Path, arguments: ModelArguments, *, template: str | None = None, language: str | None = None
) -> EffectiveConfig:
    """The project's configuration (its specdraft.toml, found from ``root`` as the CLI finds it from the
    working directory, then SPECDRAFT_* variables and the user file), with the tool's arguments over it
    as the CLI's flags are, except that a server only the call names gets no API key)."""
    configured = load_config(root)
    config = configured.with_flags({**asdict(arguments), "template": template, "language": language})
    if arguments.base_url is not None and config.settings.base_url != configured.settings.base_url:
        # an agent (or text it read) chose this server: the user's API key does not go there
        return replace(config, server_named_by="the MCP tool call's base_url")
    return config


class _Progress:
    """A draft's progress as MCP progress notifications (sections finished of all)."""

    def __init__(self, ctx: Context, plan: DraftPlan) -> None:  # type: ignore[type-arg]
        self.ctx = ctx
        self.total = len(plan.template.sections)
        self.done = 0

    def note(self, message: str) -> None:
        return None

    def on_event(self, event: SectionEvent) -> None:
        if event.kind in ("done", "attention"):
            self.done += 1
            anyio.from_thread.run(
                self.ctx.report_progress, self.done, self.total, f"{event.kind}: {event.key}"
            )


def build_server(root: Path) -> FastMCP:
    """The MCP server for ``root``: its tools and resources, each added by a step of its own."""
    ws = Workspace(root)
    server = FastMCP(
        "specdraft",
        instructions=(
            "Draft technical specs from feature briefs, lint them, refine them by instruction and verify "
            f"their sign-offs. Paths are relative to {ws.root}."
        ),
    )
    for add in (
        _add_draft_tool,
        _add_lint_tool,
        _add_trace_tool,
        _add_refine_tool,
        _add_verify_tool,
        _add_template_tools,
        _add_specs_resource,
    ):
        add(server, ws)
    return server


async def _call(fn: Callable[[], Result]) -> Result:
    """Run a tool's work in a worker thread; a specdraft error becomes a tool error with the CLI's message."""
    try:
        return await anyio.to_thread.run_sync(fn)
    except SpecdraftError as exc:
        raise ToolError(redact(str(exc))) from None  # like the CLI's Error: line


# ---------------------------------------------------------------- draft_spec


def _add_draft_tool(server: FastMCP, ws: Workspace) -> None:
    @server.tool()
    async def draft_spec(
        ctx: Context,  # type: ignore[type-arg]
        output: str = Field(description="Where to write the spec (inside the working directory)."),
        brief_path: str | None = Field(None, description="A brief file to draft from."),
        brief_text: str | None = Field(None, description="Or the brief itself (Markdown or text)."),
        template: str | None = Field(
            None, description="Template name or path (default: the project's specdraft.toml, else tech-spec)."
        ),
        language: str | None = Field(
            None,
            description=f"The spec's language, a code ({_CODES}) or a name (German, Deutsch); default: the "
            "project's configuration, else the template's, else the brief's.",
        ),
        provider: ProviderName | None = Field(None, description="Default: the project's configuration."),
        model: str | None = None,
        base_url: str | None = Field(None, description="OpenAI-compatible server (provider compatible)."),
        timeout: float | None = Field(None, description="Seconds per model call (default 300)."),
        force: bool = Field(False, description="Overwrite an existing output file."),
    ) -> DraftToolResult:
        """Draft a spec from a brief; every template section filled by the model and validated.

        Settings not given come from the project's specdraft.toml (its ``context`` files ground the spec).
        """
        settings = ModelArguments(provider, model, base_url, timeout)
        draft = DraftRequest(output, brief_path, brief_text, template, force, settings, language)
        return await _call(functools.partial(_draft, ws, ctx, draft))


@dataclass(frozen=True)
class DraftRequest:
    """The arguments of a draft_spec call."""

    output: str
    brief_path: str | None
    brief_text: str | None
    template: str | None
    force: bool
    settings: ModelArguments
    language: str | None = None


def _draft(ws: Workspace, ctx: Context, request: DraftRequest) -> DraftToolResult:  # type: ignore[type-arg]
    if (request.brief_path is None) == (request.brief_text is None):
        raise InputError("Give exactly one of brief_path or brief_text.")
    language = _language(request.language)  # an unknown one is refused before anything is read
    out = ws.path(request.output, what="output")
    brief = (
        load_brief(ws.path(request.brief_path, what="brief"))
        if request.brief_path
        else parse_brief(request.brief_text or "")
    )
    config = _config(ws.root, request.settings, template=ws.template(request.template), language=language)
    plan = plan_drafts(config)
    check_destination(out, plan, brief, overwrite=request.force, force_hint="force=true")
    outcome = draft_to_file(brief, plan, out, overwrite=request.force, observer=_Progress(ctx, plan))
    return DraftToolResult(
        path=ws.shown(out),
        status="attention" if outcome.result.needs_attention else "ok",
        needs_attention=outcome.result.needs_attention,
        lint=outcome.lint_line,
        usage=outcome.result.usage.as_dict(),
    )


# ---------------------------------------------------------------- lint_spec, trace_spec, verify_spec


def _add_lint_tool(server: FastMCP, ws: Workspace) -> None:
    @server.tool()
    async def lint_spec(
        path: str = Field(description="The spec file."),
        template: str | None = Field(
            None, description="Template to check against (default: the spec's own)."
        ),
    ) -> LintResult:
        """Lint a spec: structure, placeholders, requirement IDs, traceability. Findings are structured."""
        return await _call(functools.partial(_lint, ws, path, template))


def _lint(ws: Workspace, path: str, template: str | None) -> LintResult:
    spec = ws.path(path, what="spec")
    _doc, _outline, findings = lint_path(spec, ws.template(template))
    errors, warnings = count_errors(findings)
    return LintResult(
        path=ws.shown(spec),
        errors=errors,
        warnings=warnings,
        summary=summary_line(findings),
        findings=[LintFinding(**f.to_dict()) for f in findings],
    )


def _add_trace_tool(server: FastMCP, ws: Workspace) -> None:
    @server.tool()
    async def trace_spec(path: str = Field(description="The spec file.")) -> TraceResult:
        """Which endpoints, tests, success criteria and tasks cite each requirement; what nothing covers."""
        return await _call(functools.partial(_trace, ws, path))


def _trace(ws: Workspace, path: str) -> TraceResult:
    spec = ws.path(path, what="spec")
    matrix = trace_document(load_spec(spec))
    return TraceResult(
        path=ws.shown(spec),
        traced_share=matrix.traced_share,
        uncovered=[r.id for r in matrix.uncovered],
        requirements=[
            TracedRequirementResult(id=r.id, covered_by={k: list(v) for k, v in r.covered_by.items()})
            for r in matrix.requirements
        ],
    )


def _add_verify_tool(server: FastMCP, ws: Workspace) -> None:
    @server.tool()
    async def verify_spec(path: str = Field(description="The spec file.")) -> VerifyResult:
        """Check every sign-off of a spec against its text as it is now."""
        return await _call(functools.partial(_verify, ws, path))


def _verify(ws: Workspace, path: str) -> VerifyResult:
    spec = ws.path(path, what="spec")
    report = verify(load_spec(spec))
    return VerifyResult(
        path=ws.shown(spec),
        ok=report.ok,
        status=report.status,
        required=report.required,
        holding=report.holding,
        problems=report.problems,
    )


# ---------------------------------------------------------------- refine_spec


def _add_refine_tool(server: FastMCP, ws: Workspace) -> None:
    @server.tool()
    async def refine_spec(
        path: str = Field(description="The spec file."),
        instruction: str = Field(description="What to change, e.g. 'make NFR-001 measurable'."),
        apply: bool = Field(False, description="Write the change (default: only return the diff)."),
        language: str | None = Field(
            None,
            description=f"The language the revised sections are written in, a code ({_CODES}) or a name; "
            "default: the spec's. A spec whose front matter records another language is refused.",
        ),
        provider: ProviderName | None = Field(None, description="Default: the project's configuration."),
        model: str | None = None,
        base_url: str | None = None,
        timeout: float | None = Field(None, description="Seconds per model call (default 300)."),
    ) -> RefineResult:
        """Revise the sections an instruction concerns; returns the unified diff, writes only with apply."""
        settings = ModelArguments(provider, model, base_url, timeout)
        request = RefineRequest(path, instruction, apply, settings, language)
        return await _call(functools.partial(_refine, ws, request))


@dataclass(frozen=True)
class RefineRequest:
    """The arguments of a refine_spec call."""

    path: str
    instruction: str
    apply: bool
    settings: ModelArguments
    language: str | None = None


def _refine(ws: Workspace, request: RefineRequest) -> RefineResult:
    spec = ws.path(request.path, what="spec")
    text = check_instruction(request.instruction)
    doc = load_spec(spec)
    # refused before any model work: an unknown language, another than the spec records
    language = revision_language(doc, _language(request.language))
    apply, settings = request.apply, request.settings
    if apply:  # refused before any model work; Refiner.apply checks again when it writes
        ensure_editable(doc)
    brief, _notice = recorded_brief(spec, doc)
    config = _config(ws.root, settings)
    model = model_settings(config.settings, slots=4, key_withheld=config.key_withheld)
    with open_endpoint(model) as endpoint:
        refiner = Refiner(spec, endpoint, model, RefineOptions(language=language), brief=brief)
        proposal = refiner.propose(text)
        applied = bool(apply and proposal.changes)
        if applied:
            refiner.apply(proposal)
    return RefineResult(
        path=ws.shown(spec),
        applied=applied,
        answer=proposal.answer,
        sections=[c.title for c in proposal.changes],
        diff="".join("".join(c.diff(spec.name)) for c in proposal.changes),
        failed=[f.title for f in proposal.failures],
    )


# ---------------------------------------------------------------- templates and specs


def _add_template_tools(server: FastMCP, ws: Workspace) -> None:
    """The list_templates tool and each built-in template as a resource."""

    @server.tool(name="list_templates")
    async def list_templates_tool() -> list[TemplateEntry]:
        """The built-in spec templates."""
        infos = await _call(list_templates)
        return [TemplateEntry(name=i.name, description=i.description, sections=i.sections) for i in infos]

    @server.resource("specdraft://templates/{name}", mime_type="text/markdown")
    def template_resource(name: str) -> str:
        """A built-in template's Markdown."""
        path = builtin_templates_dir() / f"{Path(name).name}.md"
        if not path.is_file():
            raise ValueError(f"No built-in template '{name}'.")
        return path.read_text(encoding="utf-8")


def _add_specs_resource(server: FastMCP, ws: Workspace) -> None:
    @server.resource("specdraft://specs", mime_type="application/json")
    def specs_resource() -> list[str]:
        """The specs (Markdown files with front matter naming specdraft) under the working directory."""
        return _specs_under(ws)


#: bytes of a Markdown file read to tell a spec (front matter naming specdraft) from other Markdown
SPEC_HEAD_BYTES = 2000
#: Markdown files looked at for the list; the walk stops there
MAX_LISTED_FILES = 500


def _specs_under(ws: Workspace) -> list[str]:
    """Specs under the root: special files (a FIFO, a link to /dev/zero) and links out of it are skipped,
    and only the head of each file is read."""
    found = []
    for md in islice(markdown_files(ws.root), MAX_LISTED_FILES):
        try:
            ws.path(str(md), what="spec")
            raw = read_user_bytes(md, what="Spec", max_bytes=SPEC_HEAD_BYTES, head=True)
        except InputError:
            continue
        head = raw.decode("utf-8", errors="replace")
        if head.startswith("---") and "specdraft" in head:
            found.append(ws.shown(md))
    return found


def serve(root: Path) -> None:
    if not root.is_dir():
        raise InputError(f"--root '{root}' is not a directory.")
    build_server(root).run("stdio")
