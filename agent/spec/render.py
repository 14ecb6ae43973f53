"""Assembly: validated section data rendered into Markdown with the template's structure.

Each compiled section becomes a small Jinja2 program: literal template lines are passed in as data
(``lit[i]``), never as template source, and field values go through macros that write the
template's shapes (key/value bullets, numbered checklists, fences). Rendering runs in a
SandboxedEnvironment with StrictUndefined, so a missing value is an error, not an empty string, and
nothing in a brief or a model answer is ever evaluated.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from agent.errors import SpecdraftError
from agent.spec.frontmatter import dump_front_matter
from agent.spec.template import PLACEHOLDER, Block, FieldKind, SpecTemplate, TemplateSection

MACROS = r"""
{%- macro prose(value) -%}{{ value | block }}{%- endmacro -%}
{%- macro text(label, value) -%}- **{{ label }}**: {{ value | oneline }}{%- endmacro -%}
{%- macro code(info, value) -%}
{%- set fence = value | fence -%}
{{ fence }}{{ info }}
{{ value | rstrip }}
{{ fence }}
{%- endmacro -%}
{%- macro numbered(prefix, items) -%}
{%- for item in items %}- [ ] **{{ prefix }}-{{ '%03d' % loop.index }}**: {{ item | oneline }}{% if not loop.last %}
{% endif %}{% endfor -%}
{%- endmacro -%}
{%- macro labelled(items) -%}
{%- for item in items %}- [ ] **{{ item.name | oneline }}**: {{ item.description | oneline }}{% if not loop.last %}
{% endif %}{% endfor -%}
{%- endmacro -%}
{%- macro tasks(items) -%}
{%- for item in items %}- [ ] {{ item | oneline }}{% if not loop.last %}
{% endif %}{% endfor -%}
{%- endmacro -%}
{%- macro bullets(items) -%}
{%- for item in items %}- {{ item | oneline }}{% if not loop.last %}
{% endif %}{% endfor -%}
{%- endmacro -%}
{%- macro group(labels, keys, entries) -%}
{%- for entry in entries %}- **{{ labels[0] }}**: {{ entry[keys[0]] | oneline }}
{% for i in range(1, keys | length) %}  - **{{ labels[i] }}**: {{ entry[keys[i]] | oneline }}{% if not loop.last %}
{% endif %}{% endfor %}{% if not loop.last %}
{% endif %}{% endfor -%}
{%- endmacro -%}
{%- macro attention(reason) -%}[NEEDS ATTENTION: {{ reason | marker_text }}]{%- endmacro -%}
"""

_HEADING_START = re.compile(r"^(\s{0,3})(#{1,6}\s|---\s*$|```|~~~)")


def _oneline(value: Any) -> str:
    return " ".join(str(value).split())


def _marker_text(value: Any) -> str:
    """One line without square brackets: a reason quoting '[Description]' would close the marker early."""
    return _oneline(value).replace("[", "(").replace("]", ")")


def _block(value: Any) -> str:
    """Multi-line prose that cannot open a heading, a rule or a fence and break the spec's structure."""
    lines = str(value).strip().splitlines()
    return "\n".join(_HEADING_START.sub(r"\1\\\2", line) for line in lines)


def _fence(value: Any) -> str:
    longest = max((len(run) for run in re.findall(r"`{3,}", str(value))), default=2)
    return "`" * max(3, longest + 1)


@dataclass
class Provenance:
    model: str
    provider: str
    template: str
    template_sha256: str
    version: str
    brief_sha256: str
    usage: dict[str, int] = field(default_factory=dict)
    settings_sha256: str = ""
    #: the brief's path relative to the spec's directory, when both are files (chat finds it there)
    brief: str | None = None
    #: ``--context``: files (path relative to the spec, sha256), directories, git state, per-section sources
    context: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "model": self.model,
            "provider": self.provider,
            "template": self.template,
            "template_sha256": self.template_sha256,
            "version": self.version,
            "brief_sha256": self.brief_sha256,
            "usage": dict(self.usage),
        }
        if self.settings_sha256:
            data["settings_sha256"] = self.settings_sha256
        if self.brief:
            data["brief"] = self.brief
        if self.context:
            data["context"] = self.context
        return data


@dataclass
class SectionContent:
    """What goes into one section: validated data, or the reason it needs attention."""

    data: dict[str, Any] | None = None
    attention: str | None = None
    assumptions: list[str] = field(default_factory=list)
    open_questions: list[str] = field(default_factory=list)


@functools.cache
def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        loader=jinja2.DictLoader({"macros": MACROS}),
    )
    env.filters["oneline"] = _oneline
    env.filters["marker_text"] = _marker_text
    env.filters["block"] = _block
    env.filters["fence"] = _fence
    env.filters["rstrip"] = lambda value: str(value).rstrip()
    return env


@functools.lru_cache(maxsize=1024)
def _compiled(program: str) -> jinja2.Template:
    """Section programs depend on the template, not the data: compile each once (batch drafts many)."""
    return _environment().from_string(program)


def _path_expr(path: tuple[str, ...]) -> str:
    return "d" + "".join(f"[{key!r}]" for key in path)


def _block_source(block: Block, index: int, attention: bool) -> str | None:
    if block.literal is not None:
        return f"{{{{ lit[{index}] }}}}"
    spec = block.field
    assert spec is not None
    if attention:
        return None
    value = _path_expr(block.path)
    if spec.kind is FieldKind.prose:
        return f"{{{{ m.prose({value}) }}}}"
    if spec.kind is FieldKind.text:
        return f"{{{{ m.text({spec.label!r}, {value}) }}}}"
    if spec.kind is FieldKind.code:
        return f"{{{{ m.code({spec.fence_info!r}, {value}) }}}}"
    if spec.kind is FieldKind.numbered:
        return f"{{{{ m.numbered({spec.id_prefix!r}, {value}) }}}}"
    if spec.kind is FieldKind.labelled:
        return f"{{{{ m.labelled({value}) }}}}"
    if spec.kind is FieldKind.tasks:
        return f"{{{{ m.tasks({value}) }}}}"
    if spec.kind is FieldKind.bullets:
        return f"{{{{ m.bullets({value}) }}}}"
    labels = [child.label or child.key for child in spec.children]
    keys = [child.key for child in spec.children]
    return f"{{{{ m.group({labels!r}, {keys!r}, {value}) }}}}"


def render_section(
    section: TemplateSection, content: SectionContent, *, env: SandboxedEnvironment | None = None
) -> str:
    """Markdown for one section, heading included."""
    env = env or _environment()
    attention = content.data is None
    literals: list[str] = []
    lines = ["{% import 'macros' as m %}{{ heading }}"]
    if attention:
        lines += ["", "{{ m.attention(reason) }}"]
    for block in section.blocks:
        if attention and block.literal is not None and not block.literal.lstrip().startswith("#"):
            continue  # a section needing attention keeps only its headings
        if block.literal is not None:
            literals.append(block.literal)
        source = _block_source(block, len(literals) - 1, attention)
        if source is not None:
            lines.append(source)
    if content.open_questions:
        lines += ["", "{{ m.bullets(questions) }}"]
    program = "\n".join(lines)
    questions = [f"[NEEDS CLARIFICATION: {_marker_text(q).rstrip('?')}?]" for q in content.open_questions]
    try:
        compiled = _compiled(program) if env is _environment() else env.from_string(program)
        rendered = compiled.render(
            heading=f"## {section.title}",
            d=content.data or {},
            lit=literals,
            reason=content.attention or "",
            questions=questions,
        )
    except jinja2.UndefinedError as exc:
        raise SpecdraftError(
            f"Section '{section.title}' is missing a value when rendering: {exc.message}."
        ) from None
    return _tidy(rendered)


def _tidy(text: str) -> str:
    """Collapse runs of blank lines left by empty blocks and strip trailing blank lines."""
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n")


@dataclass
class DocumentValues:
    title: str
    priority: str
    owner: str | None
    status: str
    author: str
    day: date

    def lookup(self, name: str) -> str | None:
        key = name.strip().upper().replace(" ", "_")
        table = {
            "FEATURE_NAME": self.title,
            "FEATURE": self.title,
            "TITLE": self.title,
            "NAME": self.title,
            "DATE": self.day.isoformat(),
            "PRIORITY": self.priority,
            "OWNER": self.owner or "",
            "STATUS": self.status,
            "AUTHOR": self.author,
        }
        return table.get(key)


def fill_document_placeholders(text: str, values: DocumentValues) -> str:
    """Replace document-level placeholders ([FEATURE_NAME], [DATE], [low|medium|high], ...)."""

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        if "|" in inner:
            options = [option.strip() for option in inner.split("|")]
            for known in (values.priority, values.status):
                for option in options:
                    if option.lower() == known.lower():
                        return option
            return options[0]
        found = values.lookup(inner)
        return found if found is not None else f"[NEEDS CLARIFICATION: {inner}]"

    return PLACEHOLDER.sub(replace, text)


def _front_matter(template: SpecTemplate, values: DocumentValues, provenance: Provenance) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in template.front_matter.items():
        if key == "status":
            data[key] = values.status
        elif isinstance(value, str):
            data[key] = fill_document_placeholders(value, values)
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            # YAML reads `priority: [low|medium|high]` as a one-item list: it is a placeholder.
            data[key] = fill_document_placeholders("[" + ", ".join(value) + "]", values)
        else:
            data[key] = value
    if "status" not in data:
        data["status"] = values.status
    data["specdraft"] = provenance.as_dict()
    return data


def _footer(template: SpecTemplate, values: DocumentValues) -> list[str]:
    lines = []
    for line in template.footer:
        match = re.match(r"^(\s*\*\*(.+?)\*\*:\s*)(.*?)(\s*)$", line)
        if not match:
            lines.append(line)
            continue
        prefix, label, _value, trailing = match.groups()
        lowered = label.lower()
        if lowered.endswith(" by") or lowered in {"author", "authors", "written by"}:
            filled = values.author
        elif lowered == "date":
            filled = values.day.isoformat()
        elif lowered == "status":
            filled = values.status
        else:
            filled = fill_document_placeholders(_value, values)
        lines.append(f"{prefix}{filled}{trailing}")
    return lines


def render_spec(
    template: SpecTemplate,
    contents: dict[str, SectionContent],
    values: DocumentValues,
    provenance: Provenance,
) -> str:
    """The whole spec: front matter, title, every section in template order, notes, footer."""
    env = _environment()
    parts = [dump_front_matter(_front_matter(template, values, provenance)).rstrip("\n")]
    head = [fill_document_placeholders(template.title_line, values)] if template.title_line else []
    head += [fill_document_placeholders(line, values) for line in template.preamble]
    parts.append("\n".join(head).strip("\n"))
    assumptions = [a for content in contents.values() for a in content.assumptions]
    last_key = template.sections[-1].key
    for section in template.sections:
        content = contents.get(section.key) or SectionContent(attention="not drafted")
        text = render_section(section, content, env=env)
        if section.key == last_key and assumptions:
            listed = "\n".join(f"- {_oneline(a)}" for a in dict.fromkeys(assumptions))
            text += f"\n\n### Assumptions\n{listed}"
        parts.append(text)
    document = "\n\n".join(part for part in parts if part)
    if template.footer:
        document += "\n\n" + "\n".join(_footer(template, values)).strip("\n")
    return document.rstrip("\n") + "\n"
