"""The one template resolver: built-in names and paths to compiled templates."""

from __future__ import annotations

from pathlib import Path

from agent.errors import TemplateError
from agent.io.resources import resource_dir
from agent.io.textinput import read_user_text
from agent.spec.schemas.registry import apply_typed_models
from agent.spec.template import SpecTemplate, TemplateInfo
from agent.spec.template_compiler import MAX_TEMPLATE_CHARS, compile_template

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
    return apply_typed_models(template)
