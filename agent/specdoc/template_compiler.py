"""The template compiler: a Markdown spec template becomes an ordered list of fillable sections.

Conventions understood (those of templates/tech-spec.md):

* YAML front matter; ``# Title`` with document placeholders such as ``[FEATURE_NAME]``;
* ``##`` sections (the unit the model drafts) and ``###`` subsections (kept as headings);
* prose placeholders ``[...]`` on a line of their own;
* key/value bullets ``- **Label**: [...]``, optionally with indented key/value children
  (a repeatable group, e.g. one per database table);
* checklists ``- [ ] **FR-001**: [...]`` (numbered by code), ``- [ ] **Name**: [...]`` (labelled items)
  and ``- [ ] plain task`` (a task list the model rewrites);
* plain bullets ``- [...]``;
* fenced blocks (diagrams, JSON, endpoint lists), filled as text;
* a footer after a closing ``---`` rule with ``**Label**: value`` lines (author, date, status).

Each section gets a Pydantic model generated with ``pydantic.create_model`` in which the placeholder
text becomes the field description. Everything that is not a placeholder is kept literally.
"""

from __future__ import annotations

import re
from pathlib import Path

from agent.errors import TemplateError
from agent.specdoc.frontmatter import split_front_matter
from agent.specdoc.schemas.generic import build_section_model
from agent.specdoc.template import (
    Block,
    FieldKind,
    FieldSpec,
    SpecTemplate,
    TemplateSection,
    has_placeholder,
    placeholder_text,
    slugify,
)

MAX_TEMPLATE_CHARS = 200_000
_H2 = re.compile(r"^##\s+(.+?)\s*$")
_H3 = re.compile(r"^###\s+(.+?)\s*$")
_H1 = re.compile(r"^#\s+(.+?)\s*$")
_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")
_KV = re.compile(r"^(\s*)- \*\*(.+?)\*\*:\s*(.*)$")
_CHECK_LABELLED = re.compile(r"^(\s*)- \[[ xX]\] \*\*(.+?)\*\*:\s*(.*)$")
_CHECK_PLAIN = re.compile(r"^(\s*)- \[[ xX]\] (.+)$")
_BULLET = re.compile(r"^(\s*)- (.+)$")
_BOLD_LINE = re.compile(r"^\*\*(.+?)\*\*\s*$")
_REQ_ID = re.compile(r"^([A-Z][A-Z0-9]{0,5})-(\d{1,4})$")
_JINJA = re.compile(r"\{\{|\{%|\{#")

# --------------------------------------------------------------------------------------------------
# Compiling


def compile_template(text: str, *, name: str, path: Path, source: str = "template") -> SpecTemplate:
    """Compile template text into sections with fields, layout blocks and generated models."""
    jinja = _JINJA.search(text)
    if jinja:
        line_no = text.count("\n", 0, jinja.start()) + 1
        raise TemplateError(
            f"{source}: line {line_no} contains template-engine syntax '{jinja.group(0)}'.",
            hint="Templates are plain Markdown with [placeholders]; remove Jinja expressions such as "
            "'{{ ... }}' or '{% ... %}'.",
        )
    fm = split_front_matter(text, source=source)
    lines = fm.body.split("\n")

    title_line = ""
    preamble: list[str] = []
    footer: list[str] = []
    raw_sections: list[tuple[str, list[str]]] = []

    footer_start = _footer_start(lines)
    body_lines = lines if footer_start is None else lines[:footer_start]
    if footer_start is not None:
        footer = lines[footer_start:]

    in_fence = False
    for line in body_lines:
        fence = _FENCE.match(line)
        if fence:
            in_fence = not in_fence
        heading = None if in_fence or fence else _H2.match(line)
        if heading:
            raw_sections.append((heading.group(1).strip(), []))
            continue
        if raw_sections:
            raw_sections[-1][1].append(line)
        elif not title_line and _H1.match(line):
            title_line = line
        else:
            preamble.append(line)

    if not raw_sections:
        raise TemplateError(
            f"{source}: the template has no sections.",
            hint="A template needs '## Section' headings with [placeholders] beneath them.",
        )
    sections = []
    seen: set[str] = set()
    for title, body in raw_sections:
        key = slugify(title, fallback="section")
        if key in seen:
            raise TemplateError(
                f"{source}: section '## {title}' appears twice; section titles must be unique."
            )
        seen.add(key)
        sections.append(_compile_section(title, key, body, source))
    if not any(section.fields for section in sections):
        raise TemplateError(
            f"{source}: no section has anything to fill in.",
            hint="Mark what the model should write with [placeholders], e.g. '[Describe the feature]'.",
        )
    return SpecTemplate(
        name=name,
        path=path,
        text=text,
        front_matter=fm.data,
        title_line=title_line,
        preamble=preamble,
        sections=sections,
        footer=footer,
    )


def _footer_start(lines: list[str]) -> int | None:
    """Index of the last top-level ``---`` rule when only ``**Label**: value`` lines follow it."""
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].strip() == "---":
            rest = [line for line in lines[index + 1 :] if line.strip()]
            if rest and all(re.match(r"^\*\*.+?\*\*:", line.strip()) for line in rest):
                return index
            return None
    return None


class _SectionBuilder:
    def __init__(self, title: str, key: str, source: str) -> None:
        self.title = title
        self.key = key
        self.source = source
        self.blocks: list[Block] = []
        self.fields: list[FieldSpec] = []
        self.subsections: list[str] = []
        self.current_sub: str | None = None
        self.last_bold: str | None = None

    def literal(self, text: str) -> None:
        self.blocks.append(Block(literal=text))

    def add_field(self, spec: FieldSpec) -> None:
        spec.subsection = self.current_sub
        self.fields.append(spec)
        self.blocks.append(Block(field=spec))


def _compile_section(title: str, key: str, body: list[str], source: str) -> TemplateSection:
    builder = _SectionBuilder(title, key, source)
    index = 0
    while index < len(body):
        line = body[index]
        stripped = line.strip()
        sub = _H3.match(line)
        fence = _FENCE.match(line)
        if sub:
            builder.current_sub = sub.group(1).strip()
            builder.subsections.append(builder.current_sub)
            builder.literal(line)
            builder.last_bold = None
            index += 1
        elif fence:
            index = _take_fence(builder, body, index, fence)
        elif _CHECK_LABELLED.match(line) or _CHECK_PLAIN.match(line):
            index = _take_checklist(builder, body, index)
        elif _KV.match(line):
            index = _take_kv(builder, body, index)
        elif _BULLET.match(line) and has_placeholder(line):
            index = _take_bullets(builder, body, index)
        elif stripped and has_placeholder(stripped):
            label = builder.last_bold
            builder.add_field(
                FieldSpec(key="", kind=FieldKind.prose, description=placeholder_text(stripped), label=label)
            )
            builder.last_bold = None
            index += 1
        else:
            bold = _BOLD_LINE.match(stripped)
            builder.last_bold = bold.group(1).rstrip(":?").strip() if bold else builder.last_bold
            if stripped and not bold:
                builder.last_bold = None
            builder.literal(line)
            index += 1
    _name_fields(builder)
    shape = _shape(builder.fields)
    model = build_section_model(key, title, shape)
    source_text = "\n".join([f"## {title}", *body]).strip("\n")
    return TemplateSection(
        title=title,
        key=key,
        source=source_text,
        subsections=builder.subsections,
        fields=builder.fields,
        blocks=_with_paths(builder.blocks, shape),
        model=model,
        shape=shape,
    )


def _take_fence(builder: _SectionBuilder, body: list[str], index: int, fence: re.Match[str]) -> int:
    marker = fence.group(2)
    info = fence.group(3).strip()
    end = index + 1
    while end < len(body) and not body[end].strip().startswith(marker):
        end += 1
    content = "\n".join(body[index + 1 : end])
    if end >= len(body):
        raise TemplateError(f"{builder.source}: a code fence in section '{builder.title}' is never closed.")
    description = (
        placeholder_text(content) if has_placeholder(content) else "Content in the shape of this example"
    )
    spec = FieldSpec(
        key="", kind=FieldKind.code, description=description, fence_info=info, examples=[content]
    )
    spec.label = builder.last_bold
    builder.add_field(spec)
    builder.last_bold = None
    return end + 1


def _take_checklist(builder: _SectionBuilder, body: list[str], index: int) -> int:
    items: list[re.Match[str]] = []
    plain: list[str] = []
    while index < len(body):
        labelled = _CHECK_LABELLED.match(body[index])
        simple = _CHECK_PLAIN.match(body[index])
        if labelled:
            items.append(labelled)
        elif simple:
            plain.append(simple.group(2).strip())
        else:
            break
        index += 1
    if items:
        labels = [m.group(2).strip() for m in items]
        descriptions = [placeholder_text(m.group(3)) for m in items]
        ids = [_REQ_ID.match(label) for label in labels]
        if all(ids):
            prefix = ids[0].group(1) if ids[0] else ""
            spec = FieldSpec(
                key="",
                kind=FieldKind.numbered,
                description=_merge_descriptions(descriptions),
                id_prefix=prefix,
                examples=descriptions,
            )
        else:
            spec = FieldSpec(
                key="",
                kind=FieldKind.labelled,
                description=_merge_descriptions(descriptions),
                examples=labels,
            )
    else:
        spec = FieldSpec(
            key="",
            kind=FieldKind.tasks,
            description="Checklist items like: " + "; ".join(placeholder_text(p) for p in plain),
            examples=[placeholder_text(p) for p in plain],
        )
    builder.add_field(spec)
    return index


def _take_kv(builder: _SectionBuilder, body: list[str], index: int) -> int:
    match = _KV.match(body[index])
    assert match is not None
    indent = len(match.group(1))
    label = match.group(2).strip()
    value = match.group(3)
    index += 1
    children: list[FieldSpec] = []
    while index < len(body):
        child = _KV.match(body[index])
        if not child or len(child.group(1)) <= indent:
            break
        children.append(
            FieldSpec(
                key=slugify(child.group(2)),
                kind=FieldKind.text,
                description=placeholder_text(child.group(3)),
                label=child.group(2).strip(),
            )
        )
        index += 1
    if children:
        head = FieldSpec(
            key=slugify(label), kind=FieldKind.text, description=placeholder_text(value), label=label
        )
        spec = FieldSpec(
            key="",
            kind=FieldKind.group,
            description=f"One entry per {label.lower()}",
            label=label,
            children=[head, *children],
        )
        builder.add_field(spec)
    elif has_placeholder(value):
        builder.add_field(
            FieldSpec(key="", kind=FieldKind.text, description=placeholder_text(value), label=label)
        )
    else:
        builder.literal(body[index - 1])
    return index


def _take_bullets(builder: _SectionBuilder, body: list[str], index: int) -> int:
    descriptions = []
    while index < len(body):
        bullet = _BULLET.match(body[index])
        if not bullet or not has_placeholder(bullet.group(2)) or _KV.match(body[index]):
            break
        descriptions.append(placeholder_text(bullet.group(2)))
        index += 1
    builder.add_field(
        FieldSpec(
            key="",
            kind=FieldKind.bullets,
            description=_merge_descriptions(descriptions),
            examples=descriptions,
        )
    )
    return index


def _merge_descriptions(descriptions: list[str]) -> str:
    unique = list(dict.fromkeys(d for d in descriptions if d))
    return "; ".join(unique)


def _name_fields(builder: _SectionBuilder) -> None:
    """Give every field a key unique within its subsection (or the section's top level)."""
    by_scope: dict[str | None, list[FieldSpec]] = {}
    for spec in builder.fields:
        by_scope.setdefault(spec.subsection, []).append(spec)
    for scope, specs in by_scope.items():
        used: set[str] = set()
        for spec in specs:
            if spec.label:
                base = slugify(spec.label)
            elif len(specs) == 1 and scope:
                base = slugify(scope)
            else:
                base = {
                    FieldKind.numbered: "items",
                    FieldKind.tasks: "tasks",
                    FieldKind.bullets: "items",
                    FieldKind.code: "content",
                    FieldKind.prose: "description",
                    FieldKind.labelled: "items",
                }.get(spec.kind, "value")
            candidate, number = base, 2
            while candidate in used:
                candidate, number = f"{base}_{number}", number + 1
            used.add(candidate)
            spec.key = candidate


def _shape(fields: list[FieldSpec]) -> list[tuple[str, FieldSpec | list[FieldSpec]]]:
    """Top-level layout: section-level fields, and one nested object per subsection with 2+ fields.

    A subsection with a single field is flattened to a key named after the subsection.
    """
    shape: list[tuple[str, FieldSpec | list[FieldSpec]]] = []
    groups: dict[str, list[FieldSpec]] = {}
    order: list[str | FieldSpec] = []
    for spec in fields:
        if spec.subsection is None:
            order.append(spec)
        else:
            if spec.subsection not in groups:
                groups[spec.subsection] = []
                order.append(spec.subsection)
            groups[spec.subsection].append(spec)
    used: set[str] = set()
    for entry in order:
        if isinstance(entry, FieldSpec):
            key = _unique(entry.key, used)
            entry.key = key
            shape.append((key, entry))
        else:
            specs = groups[entry]
            key = _unique(slugify(entry, fallback="part"), used)
            if len(specs) == 1:
                specs[0].key = key
                shape.append((key, specs[0]))
            else:
                shape.append((key, specs))
    return shape


def _unique(key: str, used: set[str]) -> str:
    candidate, number = key, 2
    while candidate in used:
        candidate, number = f"{key}_{number}", number + 1
    used.add(candidate)
    return candidate


def _with_paths(blocks: list[Block], shape: list[tuple[str, FieldSpec | list[FieldSpec]]]) -> list[Block]:
    paths: dict[int, tuple[str, ...]] = {}
    for key, entry in shape:
        if isinstance(entry, FieldSpec):
            paths[id(entry)] = (key,)
        else:
            for spec in entry:
                paths[id(spec)] = (key, spec.key)
    for block in blocks:
        if block.field is not None:
            block.path = paths[id(block.field)]
    return blocks
