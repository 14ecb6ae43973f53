"""The one template resolver: built-in names and paths to compiled templates and outlines.

A spec records its template in its front matter (``specdraft.template``): a built-in template by
name, a custom one by its path relative to the spec file (plus ``template_sha256``), so every
command finds it again from any working directory.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from agent.errors import InputError, TemplateError
from agent.io.paths import confine_recorded
from agent.io.resources import resource_dir
from agent.io.textinput import byte_limit, read_user_bytes, read_user_text
from agent.specdoc.document import SpecDocument, parse_spec
from agent.specdoc.placeholders import template_placeholders
from agent.specdoc.schemas.covering import apply_covering_models
from agent.specdoc.schemas.registry import apply_typed_models
from agent.specdoc.template import SpecTemplate, TemplateInfo
from agent.specdoc.template_compiler import MAX_TEMPLATE_CHARS, compile_template

# --------------------------------------------------------------------------------------------------
# Loading


def builtin_templates_dir() -> Path:
    return resource_dir("templates")


def list_templates() -> list[TemplateInfo]:
    infos = []
    for path in sorted(builtin_templates_dir().glob("*.md")):
        template = load_template(str(path))
        infos.append(
            TemplateInfo(
                name=path.stem,
                path=path,
                description=str(template.front_matter.get("description", "")).strip(),
                sections=len(template.sections),
            )
        )
    return infos


def is_builtin_name(value: str) -> bool:
    """Whether ``value`` is a built-in template's name (``tech-spec``), not a path."""
    plain = "/" not in value and "\\" not in value and not value.endswith(".md") and len(value) <= 100
    return plain and value not in (".", "..") and (builtin_templates_dir() / f"{value}.md").is_file()


def resolve_template_path(name_or_path: str | None) -> Path:
    """Map a template name (``tech-spec``) or a path to the template file."""
    if name_or_path is None:
        name_or_path = "tech-spec"
    candidate = Path(name_or_path).expanduser()
    looks_like_path = "/" in name_or_path or name_or_path.endswith(".md") or candidate.exists()
    if looks_like_path:
        return candidate
    builtin = builtin_templates_dir() / f"{name_or_path}.md"
    if builtin.is_file():
        return builtin
    known = ", ".join(sorted(p.stem for p in builtin_templates_dir().glob("*.md")))
    raise TemplateError(
        f"Unknown template '{name_or_path}'.",
        hint=f"Built-in templates: {known}. Or give a path to a Markdown template "
        "(see `specdraft templates`).",
    )


def load_template(name_or_path: str | None = None) -> SpecTemplate:
    """Load and compile a template by built-in name or path."""
    path = resolve_template_path(name_or_path)
    text, label = read_user_text(path, what="Template", max_chars=MAX_TEMPLATE_CHARS)
    name = path.stem
    template = compile_template(text, name=name, path=path, source=label)
    return apply_covering_models(apply_typed_models(template))


DEFAULT_TEMPLATE = "tech-spec"


def _is_builtin(path: Path) -> bool:
    try:
        return path.resolve().parent == builtin_templates_dir().resolve()
    except OSError:
        return False


def template_reference(template: SpecTemplate, spec_path: Path | None) -> str:
    """How a spec records its template: a built-in by name, a custom one by path relative to the spec."""
    if _is_builtin(template.path):
        return template.name
    target = template.path.expanduser().resolve()
    if spec_path is None:
        return str(target)
    return Path(os.path.relpath(target, spec_path.expanduser().resolve().parent)).as_posix()


def spec_template_path(ref: str | None, spec: SpecDocument, spec_path: Path | None) -> Path:
    """The template a spec follows: ``ref`` when given, else the one its front matter records.

    A recorded path is relative to the spec file; a recorded name is a built-in template; a spec
    that records nothing follows the default template.
    """
    if ref is not None:
        return resolve_template_path(ref)
    meta = spec.front_matter.get("specdraft")
    recorded = meta.get("template") if isinstance(meta, dict) else None
    if not isinstance(recorded, str) or not recorded.strip():
        return resolve_template_path(DEFAULT_TEMPLATE)
    recorded = recorded.strip()
    where = str(spec_path) if spec_path is not None else "the spec"
    if "/" in recorded or "\\" in recorded or recorded.endswith(".md"):
        candidate = _recorded_template(recorded, spec_path, where)
        if candidate.is_file():
            return candidate
        raise TemplateError(
            f"The template recorded in {where} (specdraft.template: {recorded}) is not at {candidate}.",
            hint="The template has moved or was deleted: pass its new location with --template PATH.",
        )
    builtin = builtin_templates_dir() / f"{recorded}.md"
    if builtin.is_file():
        return builtin
    known = ", ".join(sorted(p.stem for p in builtin_templates_dir().glob("*.md")))
    raise TemplateError(
        f"Unknown template '{recorded}' (recorded in {where} as specdraft.template).",
        hint=f"Built-in templates: {known}. For a custom template, pass it with --template PATH.",
    )


def _recorded_template(recorded: str, spec_path: Path | None, where: str) -> Path:
    """A template path from a spec's front matter, confined to the spec's folder or work tree."""
    folder = spec_path.parent if spec_path is not None else Path.cwd()
    try:
        return confine_recorded(recorded, folder, what="template")
    except InputError as exc:
        raise TemplateError(
            f"The template recorded in {where} (specdraft.template) was not read: {exc.message}",
            hint="Pass the template with --template PATH if you trust it.",
        ) from None


def load_spec_template(ref: str | None, spec: SpecDocument, spec_path: Path | None) -> SpecTemplate:
    """The compiled template a spec follows (see :func:`spec_template_path`)."""
    return load_template(str(spec_template_path(ref, spec, spec_path)))


# --------------------------------------------------------------------------------------------------
# Outlines (what lint checks a spec against)


@dataclass(frozen=True)
class TemplateOutline:
    """The headings a spec drafted from a template must carry, and the template's placeholders."""

    name: str
    path: Path
    #: ``##`` titles in order, each with its ``###`` titles in order
    sections: tuple[tuple[str, tuple[str, ...]], ...]
    #: the bracketed placeholder texts of the template, e.g. "Specific functional requirement"
    placeholders: frozenset[str]
    sha256: str


#: outlines already read, by (file, name); each carries the sha256 of the bytes it was read from
_OUTLINES: dict[tuple[str, str | None], TemplateOutline] = {}
_MAX_OUTLINES = 64


def read_template_outline(path: Path, *, name: str | None = None) -> TemplateOutline:
    """Read a Markdown template's ``##``/``###`` headings (TemplateError when it has none).

    Linting a folder reads the same template for every spec: the file is still read every time, but
    it is parsed again only when its content (sha256) differs from the outline kept for that file.
    """
    try:  # the one bounded reader: a FIFO or /dev/zero named as a template is refused, not read
        raw = read_user_bytes(path, what="Template", max_bytes=byte_limit(MAX_TEMPLATE_CHARS))
    except InputError as exc:
        raise TemplateError(exc.message, hint=exc.hint) from None
    digest = hashlib.sha256(raw).hexdigest()
    key = (str(path.absolute()), name)
    cached = _OUTLINES.get(key)
    if cached is not None and cached.sha256 == digest and cached.path == path:
        return cached
    outline = _read_outline(path, name, raw, digest)
    if len(_OUTLINES) >= _MAX_OUTLINES:
        _OUTLINES.pop(next(iter(_OUTLINES)))
    _OUTLINES[key] = outline
    return outline


def _read_outline(path: Path, name: str | None, raw: bytes, digest: str) -> TemplateOutline:
    try:
        text = raw.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        raise TemplateError(f"Template '{path}' cannot be read: {exc}.") from None
    try:
        doc = parse_spec(text, source=str(path))
    except InputError:
        raise TemplateError(f"Template '{path}' has no '## ' sections.") from None
    sections = tuple((s.title, tuple(sub.title for sub in s.subsections)) for s in doc.sections)
    return TemplateOutline(
        name=name or path.stem,
        path=path,
        sections=sections,
        placeholders=template_placeholders(text),
        sha256=digest,
    )


def spec_outline(ref: str | None, spec: SpecDocument, spec_path: Path | None) -> TemplateOutline:
    """The outline of the template a spec follows (see :func:`spec_template_path`)."""
    return read_template_outline(spec_template_path(ref, spec, spec_path))


def template_changed(spec: SpecDocument, outline: TemplateOutline) -> str | None:
    """A notice when ``outline``'s template is not the one the spec was drafted from, else None.

    The spec records its template's sha256 (``specdraft.template_sha256``); a template edited since
    then may ask for sections the spec never had, so the reader is told what lint compares against.
    """
    meta = spec.front_matter.get("specdraft")
    recorded = meta.get("template_sha256") if isinstance(meta, dict) else None
    if not isinstance(recorded, str) or recorded == outline.sha256:
        return None
    try:  # the recorded digest is of the text as drafting read it (BOM and line endings normalised)
        text, _ = read_user_text(outline.path, what="Template", max_chars=MAX_TEMPLATE_CHARS)
    except InputError:
        return None
    if hashlib.sha256(text.encode("utf-8")).hexdigest() == recorded:
        return None
    return (
        f"The template {outline.path} has changed since this spec was drafted (its sha256 differs "
        "from the one the spec records); the spec is checked against the template as it is now."
    )
