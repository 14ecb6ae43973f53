"""YAML front matter: ``---`` lines around a YAML mapping at the very top of a Markdown file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from agent.errors import InputError, YamlLimitError

#: front matter longer than this is refused before YAML parses it (a spec's, sign-offs included, is a few KB)
MAX_FRONT_MATTER_CHARS = 256_000
#: nodes the YAML may expand to once aliases are followed (an alias bomb expands to billions)
MAX_YAML_NODES = 20_000
#: nesting deeper than this is refused (PyYAML composes recursively)
MAX_YAML_DEPTH = 60


def load_yaml(raw: str) -> Any:
    """The ONE YAML loader for text a user or a file supplies: safe types only, bounded.

    ``yaml.safe_load`` follows aliases without limit: ``&a [*a, *a, ...]`` nested a few levels expands
    to billions of values when the data is later walked. Here the document is composed first, its
    expanded size (aliases followed) and depth are counted, and only then is it constructed.
    Raises ``yaml.YAMLError`` for malformed YAML and ``YamlLimitError`` for YAML over the limits.
    """
    if len(raw) > MAX_FRONT_MATTER_CHARS:
        raise YamlLimitError(f"it has {len(raw):,} characters; the limit is {MAX_FRONT_MATTER_CHARS:,}")
    loader = yaml.SafeLoader(raw)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise YamlLimitError(f"it is nested more than {MAX_YAML_DEPTH} levels deep") from None
        if node is None:
            return None
        _check_expanded_size(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_expanded_size(root: yaml.Node) -> None:
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise YamlLimitError("an alias refers to the value that contains it")
        if depth > MAX_YAML_DEPTH:
            raise YamlLimitError(f"it is nested more than {MAX_YAML_DEPTH} levels deep")
        total = 1
        if isinstance(node, yaml.SequenceNode | yaml.MappingNode):
            active.add(key)
            children: list[yaml.Node] = []
            for item in node.value:
                children.extend(item if isinstance(item, tuple) else (item,))
            for child in children:
                total += size(child, depth + 1)
                if total > MAX_YAML_NODES:
                    raise YamlLimitError(
                        f"it expands to more than {MAX_YAML_NODES:,} values once its aliases "
                        "(*name) are followed"
                    )
            active.discard(key)
        sizes[key] = total
        return total

    size(root, 0)


@dataclass(frozen=True)
class FrontMatter:
    data: dict[str, Any]
    body: str
    #: 1-based line number in the original text where the body starts
    body_line: int
    #: whether the text had a front-matter block at all
    present: bool


def split_front_matter(text: str, *, source: str = "input") -> FrontMatter:
    """Split ``text`` into its front-matter mapping and body.

    Raises InputError naming the line when the block is not closed or not a YAML mapping.
    """
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return FrontMatter({}, text, 1, False)
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            raw = "".join(lines[1:index])
            body = "".join(lines[index + 1 :])
            return FrontMatter(_load_mapping(raw, source), body, index + 2, True)
    raise InputError(
        f"{source}: front matter opened with '---' on line 1 is never closed.",
        hint="Add a line with '---' after the front-matter keys.",
    )


def _load_mapping(raw: str, source: str) -> dict[str, Any]:
    try:
        data = load_yaml(raw) if raw.strip() else {}
    except YamlLimitError as exc:
        raise InputError(
            f"{source}: front matter refused: {exc}.",
            hint="Front matter holds a few plain 'key: value' lines; remove the anchors (&name) and aliases.",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" on line {mark.line + 2}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InputError(
            f"{source}: malformed front matter{where}: {problem}.",
            hint="Front matter is YAML between two '---' lines, e.g. 'title: My feature'.",
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(
            f"{source}: front matter must be a mapping of keys to values, not {type(data).__name__}.",
            hint="Write it as 'key: value' lines between two '---' lines.",
        )
    return {str(key): value for key, value in data.items()}


def dump_front_matter(data: dict[str, Any]) -> str:
    """Render a mapping as a front-matter block (keys kept in insertion order)."""
    dumped = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{dumped}---\n"
