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
from typing import Any, Literal

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from agent.errors import SpecdraftError
from agent.io.sanitize import CONTROL_CHARS
from agent.specdoc.frontmatter import dump_front_matter
from agent.specdoc.placeholders import PLACEHOLDER
from agent.specdoc.template import Block, FieldKind, SpecTemplate, TemplateSection

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

#: a line that would open structure in Markdown: an ATX heading (a bare ``#`` too), a fence, a
#: thematic break in any spelling (``---``, ``- - -``, ``***``, ``___``) or a setext underline (``===``,
#: ``---``: under a line of prose either turns that line into a heading)
_STRUCTURE_START = re.compile(r"^(\s{0,3})(#{1,6}(?=\s|$)|```|~~~|(?:[-*_][ \t]*){3,}$|=+[ \t]*$|-+[ \t]*$)")
EscapeMode = Literal["line", "block", "code", "marker"]
#: an inline code span (kept as it is: a renderer shows its text literally), or a ``<`` that can open
#: raw HTML or an autolink in CommonMark (a tag name, ``/``, ``!`` for comments, ``?``); ``< 300 ms`` stays
_CODE_SPAN_OR_TAG = re.compile(r"(?P<ticks>`+).+?(?<!`)(?P=ticks)(?!`)|<(?=[A-Za-z/!?])", re.DOTALL)


def neutralise_html(text: str) -> str:
    """``text`` with every ``<`` that could open HTML, outside inline code spans, written ``&lt;``: a
    Markdown renderer then shows the model's ``<!--``, ``<h2>`` or ``<img onerror=...>`` as text, never
    as a comment that hides the rest of the spec, a heading or an element."""
    if "<" not in text:
        return text
    return _CODE_SPAN_OR_TAG.sub(lambda m: "&lt;" if m.group(0) == "<" else m.group(0), text)


def escape_model_text(value: Any, mode: EscapeMode = "line") -> str:
    """The ONE escaping of model-written (and brief-written) text before it enters a spec.

    Model output is untrusted: it never adds structure, in the Markdown source or once rendered.
    Control and bidi characters are dropped in every mode, and outside fences and code spans raw HTML
    is neutralised (``<`` as ``&lt;``, :func:`neutralise_html`); then

    * ``line``: one line (line breaks become spaces); a leading heading, rule or fence is escaped;
    * ``block``: prose of several lines; every line that could open a heading (ATX or setext), a
      thematic break or a fence is escaped with a backslash;
    * ``code``: the body of a fenced block (the fence is made longer than any run inside it);
    * ``marker``: one line without square brackets, for ``[NEEDS ...: reason]`` markers.
    """
    text = CONTROL_CHARS.sub("", str(value))
    if mode == "code":
        return text.rstrip()
    text = neutralise_html(text)
    if mode == "block":
        lines = text.strip().splitlines()
        return "\n".join(_STRUCTURE_START.sub(r"\1\\\2", line) for line in lines)
    line = " ".join(text.split())
    if mode == "marker":
        return line.replace("[", "(").replace("]", ")")
    return _STRUCTURE_START.sub(r"\1\\\2", line)


def _oneline(value: Any) -> str:
    return escape_model_text(value, "line")


def _marker_text(value: Any) -> str:
    """One line without square brackets: a reason quoting '[Description]' would close the marker early."""
    return escape_model_text(value, "marker")


def _block(value: Any) -> str:
    """Multi-line prose that cannot open a heading, a rule or a fence and break the spec's structure."""
    return escape_model_text(value, "block")


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
    #: the model's parameters (None: unknown) and where that was read (agent.models.size): what the
    #: re-ask policy was chosen from; specs drafted before these keys existed simply lack them
    model_params: int | None = None
    model_params_from: str = ""
    #: the re-ask policy's name (agent.drafting.policy: a size tier, or "classic")
    reask_policy: str = ""

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"model": self.model}
        if self.model_params is not None:
            data["model_params"] = self.model_params
        if self.model_params_from:
            data["model_params_from"] = self.model_params_from
        if self.reask_policy:
            data["reask_policy"] = self.reask_policy
        data |= {
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
    env.filters["rstrip"] = lambda value: escape_model_text(value, "code")
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
        return _oneline(found) if found is not None else f"[NEEDS CLARIFICATION: {inner}]"

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


#: headings meant for the assumptions a draft makes, best first
ASSUMPTION_HEADINGS = ("assumptions", "notes", "open questions")
#: the label of the assumptions list inside a section not named for them alone
ASSUMPTIONS_LABEL = "**Assumptions**:"


def _heading_key(title: str) -> str:
    return " ".join(title.split()).casefold()


def assumptions_home(template: SpecTemplate) -> tuple[str, str | None] | None:
    """Where a draft's assumptions go: (section key, ``###`` title or None), or None when no heading fits."""
    for wanted in ASSUMPTION_HEADINGS:
        for section in template.sections:
            for sub in section.subsections:
                if _heading_key(sub) == wanted:
                    return section.key, sub
        for section in template.sections:
            if _heading_key(section.title) == wanted:
                return section.key, None
    return None


def _with_assumptions(text: str, subsection: str | None, assumptions: list[str]) -> str:
    """The section text with the assumptions listed under the chosen heading (no heading added)."""
    listed = "\n".join(f"- {a}" for a in assumptions)
    if subsection is None:
        return f"{text.rstrip()}\n\n{ASSUMPTIONS_LABEL}\n{listed}"
    lines = text.rstrip().split("\n")
    start = next(
        i
        for i, line in enumerate(lines)
        if line.startswith("### ") and _heading_key(line[4:]) == _heading_key(subsection)
    )
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("### ")), len(lines))
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return "\n".join([*lines[:end], listed, *([""] if end < len(lines) else []), *lines[end:]]).rstrip()


def render_spec(
    template: SpecTemplate,
    contents: dict[str, SectionContent],
    values: DocumentValues,
    provenance: Provenance,
) -> str:
    """The whole spec: front matter, title, every section in template order, notes, footer."""
    env = _environment()
    front = _front_matter(template, values, provenance)
    if assumptions_home(template) is None:
        # no section of the template is meant for them: the front matter keeps them, never a new heading
        listed = list(dict.fromkeys(_oneline(a) for c in contents.values() for a in c.assumptions))
        if listed:
            front["specdraft"]["assumptions"] = listed
    parts = [dump_front_matter(front).rstrip("\n")]
    head = [fill_document_placeholders(template.title_line, values)] if template.title_line else []
    head += [fill_document_placeholders(line, values) for line in template.preamble]
    parts.append("\n".join(head).strip("\n"))
    assumptions = list(dict.fromkeys(_oneline(a) for c in contents.values() for a in c.assumptions))
    home = assumptions_home(template)
    for section in template.sections:
        content = contents.get(section.key) or SectionContent(attention="not drafted")
        text = render_section(section, content, env=env)
        if home is not None and section.key == home[0] and assumptions:
            text = _with_assumptions(text, home[1], assumptions)
        parts.append(text)
    document = "\n\n".join(part for part in parts if part)
    if template.footer:
        document += "\n\n" + "\n".join(_footer(template, values)).strip("\n")
    return document.rstrip("\n") + "\n"
