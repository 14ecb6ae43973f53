"""Prompt messages rendered from prompts/*.j2.

Layout for prompt caching: every request of one spec starts with the same two messages (system
prompt, then brief and outline), byte for byte; what differs per section comes last. llama.cpp and
OpenAI both reuse a cached identical prefix. Nothing here may add timestamps or random ids: request
bodies must repeat exactly for the cassettes.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel

from agent.context.chunking import Chunk
from agent.drafting.brief import Brief
from agent.drafting.examples import example_for
from agent.drafting.values import normalise
from agent.io.resources import resource_dir
from agent.specdoc.language import ENGLISH, LANGUAGES
from agent.specdoc.requirements import short_text
from agent.specdoc.schemas.base import json_schema
from agent.specdoc.stacks import fit_examples_to_brief
from agent.specdoc.template import SpecTemplate, TemplateSection

Message = dict[str, str]


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(resource_dir("prompts"))),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=False,
        keep_trailing_newline=False,
    )


def render_prompt(name: str, **values: Any) -> str:
    return _environment().get_template(name).render(**values).strip()


#: a clause of the prompts' own wording this long (in words) is never part of a spec
PROMPT_CLAUSE_WORDS = 5
_JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_CLAUSE_BREAK = re.compile(r"[.,:;()<>\"\[\]{}|?!\n]+")


@lru_cache(maxsize=1)
def prompt_clauses() -> frozenset[str]:
    """The fixed wording of every prompt, clause by clause (normalised, five words or more).

    A model that echoes its prompt ("Change requested by the person (text from a user ...") into a
    section writes these; a spec never needs them.
    """
    env = _environment()
    clauses: set[str] = set()
    for name in env.list_templates(extensions=["j2"]):
        source = env.loader.get_source(env, name)[0] if env.loader else ""
        for part in _CLAUSE_BREAK.split(_JINJA_TAG.sub("|", source)):
            norm = normalise(part)
            if len(norm.split()) >= PROMPT_CLAUSE_WORDS:
                clauses.add(norm)
    return frozenset(clauses)


def shared_prefix(
    brief: Brief, template: SpecTemplate, context: list[Chunk] | None = None, *, language: str = ENGLISH
) -> list[Message]:
    """The messages every section request of one spec starts with.

    A spec in another language than English has the system message ask for it (an English spec's
    messages are exactly what they always were).

    Repository excerpts relevant to the whole brief (``--context``) come last in the prefix, so it
    stays byte-identical across sections; without them the prefix is exactly what it always was.
    """
    # The brief's numbers and named technologies, restated once in the cached prefix: a model that
    # drafts the performance section 3,000 tokens after the brief otherwise invents its own scale
    # (the 1.5B left out "20k workspaces" and "a few hundred invites per minute").
    facts = brief.facts.facts
    brief_text = render_prompt(
        "brief.j2",
        brief=brief,
        outline=template.outline(),
        figures=[f.text for f in facts if f.kind == "number"],
        technologies=[f.text for f in facts if f.kind == "technology"],
    )
    if context:
        brief_text += "\n\n" + render_prompt("context.j2", chunks=context)
    return [
        {"role": "system", "content": render_prompt("system.j2", **language_values(language))},
        {"role": "user", "content": brief_text},
    ]


def language_values(code: str) -> dict[str, str]:
    """What system.j2 needs to ask for a language other than English (nothing for English)."""
    if code == ENGLISH:
        return {}
    language = LANGUAGES[code]
    return {"language": language.name, "native": language.native}


def section_context(chunks: list[Chunk], endpoints: list[str], tables: list[str]) -> str:
    """The section-specific part of the context (after the shared prefix), or ''."""
    if not (chunks or endpoints or tables):
        return ""
    return render_prompt("context_section.j2", chunks=chunks, endpoints=endpoints, tables=tables)


def section_messages(
    prefix: list[Message],
    section: TemplateSection,
    model: type[BaseModel],
    context: list[tuple[str, str]],
    *,
    open_points: bool = False,
    with_example: bool = True,
    with_template: bool = True,
    grounding: str = "",
    requirements: dict[str, str] | None = None,
    brief: str = "",
) -> list[Message]:
    """The section's request; ``requirements`` (ID -> text) are listed for its items to cite in ``covers``.

    ``with_template`` shows the section's template Markdown above the field list (which carries the same
    instructions field by field); see ``ReaskPolicy.show_template``. With the ``brief``'s text, the
    template's backend examples that contradict the brief's stack are left out of both.
    """
    task = render_prompt(
        "section.j2",
        section=section,
        source=fit_examples_to_brief(section.source, brief),
        show_template=with_template,
        context=context,
        fields=fit_examples_to_brief(describe_fields(model), brief),
        example=example_for(section.key, model) if with_example else "",
        open_points=open_points,
        requirements=[(rid, short_text(text)) for rid, text in (requirements or {}).items()],
    )
    if grounding:
        task = grounding + "\n\n" + task
    return [*prefix, {"role": "user", "content": task}]


def naive_messages(
    prefix: list[Message],
    section: TemplateSection,
    model: type[BaseModel],
    context: list[tuple[str, str]],
    *,
    open_points: bool = False,
    requirements: dict[str, str] | None = None,
) -> list[Message]:
    """The layout the benchmark compares against: section instructions first, so no two requests share
    more than the system prompt."""
    task = section_messages(
        prefix, section, model, context, open_points=open_points, requirements=requirements
    )[-1]["content"]
    return [prefix[0], {"role": "user", "content": task + "\n\n" + prefix[1]["content"]}]


def repair_messages(
    messages: list[Message], section: TemplateSection, answer: str, problems: list[str]
) -> list[Message]:
    """The conversation so far plus the model's answer and what was wrong with it."""
    note = render_prompt("repair.j2", section=section, problems=problems[:10])
    return [*messages, {"role": "assistant", "content": answer}, {"role": "user", "content": note}]


def describe_fields(model: type[BaseModel]) -> str:
    """A short, readable list of the fields a section's JSON must have."""
    schema = json_schema(model)
    defs = schema.get("$defs", {})
    lines = []
    for name, prop in schema.get("properties", {}).items():
        if name in {"assumptions", "open_questions"}:
            continue
        lines.append(f"- {name}: {_describe(prop, defs)}")
    return "\n".join(lines)


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in prop:
        resolved = dict(defs[prop["$ref"].rsplit("/", 1)[-1]])
        resolved.update({k: v for k, v in prop.items() if k != "$ref"})
        return resolved
    if "allOf" in prop and len(prop["allOf"]) == 1:
        return _resolve({**prop["allOf"][0], **{k: v for k, v in prop.items() if k != "allOf"}}, defs)
    return prop


def _describe(prop: dict[str, Any], defs: dict[str, Any], depth: int = 0) -> str:
    prop = _resolve(prop, defs)
    note = prop.get("description", "")
    kind = prop.get("type")
    if "enum" in prop:
        text = "one of " + " | ".join(str(v) for v in prop["enum"])
    elif kind == "array":
        items = _resolve(prop.get("items", {}), defs)
        low, high = prop.get("minItems"), prop.get("maxItems")
        count = f"{low}-{high} " if low is not None and high is not None else ""
        if items.get("type") == "object":
            text = f"list of {count}objects " + _describe_object(items, defs, depth)
        else:
            text = f"list of {count}texts"
    elif kind == "object":
        text = "object " + _describe_object(prop, defs, depth)
    elif kind in ("number", "integer"):
        text = "number"
    elif kind == "boolean":
        text = "true or false"
    else:
        text = "text"
    if note and depth == 0 and "enum" not in prop:
        text += f" ({note})"
    return text


def _describe_object(prop: dict[str, Any], defs: dict[str, Any], depth: int) -> str:
    parts = []
    for name, inner in prop.get("properties", {}).items():
        resolved = _resolve(inner, defs)
        description = resolved.get("description")
        shown = _describe(inner, defs, depth + 1)
        if description and shown == "text":
            shown = f"text: {description}"
        parts.append(f"{name}: {shown}")
    return "{" + "; ".join(parts) + "}"
