"""YAML front matter: ``---`` lines around a YAML mapping at the very top of a Markdown file."""

from __future__ import annotations

import functools
import re
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
    simple = _simple_mapping(raw)
    if simple is not None:
        return simple
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
        if isinstance(node, yaml.MappingNode):
            _refuse_repeated_keys(node)
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


def _refuse_repeated_keys(node: yaml.MappingNode) -> None:
    """YAML keeps the last of two equal keys without a word: ``approvals_required`` given twice would
    silently lower what a spec needs. Refused as malformed, naming the key and its line."""
    seen: set[str] = set()
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            if key_node.value in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key_node.value!r} is given twice", key_node.start_mark
                )
            seen.add(key_node.value)


# -- the fast path: the plain nested ``key: value`` mappings specdraft itself writes ----------------------

#: ``key:`` or ``key: value`` with a plain key; the indentation is group 1
_SIMPLE_LINE = re.compile(r"( *)([A-Za-z_][A-Za-z0-9_-]*):(?:[ ]+(.*?))?[ ]*")
#: a plain scalar that means the same on its own line as anywhere: no indicator first, no ': ' or ' #'
_PLAIN = re.compile(r"[A-Za-z0-9_(./$^~\\][^:#\[\]{}`]*(?::[^ :#\[\]{}`][^:#\[\]{}`]*)*")
_SINGLE_QUOTED = re.compile(r"'((?:[^']|'')*)'")
_RESOLVER = yaml.resolver.Resolver()
_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
#: an int with no sign, base prefix, leading zero (octal to YAML 1.1), '_' or ':' (sexagesimal)
_PLAIN_DECIMAL = re.compile(r"[1-9][0-9]*|0")
#: a float written as digits, a dot and digits
_PLAIN_FLOAT = re.compile(r"[0-9]+\.[0-9]+")


@functools.lru_cache(maxsize=4096)  # the resolver is pure; keys and many values repeat from spec to spec
def _tag(plain: str) -> str:
    """The tag PyYAML's resolver gives a plain scalar (str, int, float, bool, null, timestamp, ...)."""
    tag: str = _RESOLVER.resolve(yaml.ScalarNode, plain, (True, False))  # type: ignore[no-untyped-call]
    return tag


def _scalar(text: str) -> tuple[bool, Any]:
    """(understood, value) of one value text, typed as PyYAML's safe loader types it."""
    quoted = _SINGLE_QUOTED.fullmatch(text)
    if quoted is not None:
        return True, quoted.group(1).replace("''", "'")
    if _PLAIN.fullmatch(text) is None or "  " in text:
        return False, None
    tag = _tag(text)
    if tag == _STR:
        return True, text
    # the common numbers (token counts, seconds) the way PyYAML reads them, without its constructor
    if tag == _INT and _PLAIN_DECIMAL.fullmatch(text):
        return True, int(text)
    if tag == _FLOAT and _PLAIN_FLOAT.fullmatch(text):
        return True, float(text)
    constructor = yaml.constructor.SafeConstructor()
    return True, constructor.construct_object(yaml.ScalarNode(tag, text))


def _simple_mapping(raw: str) -> dict[str, Any] | None:
    """``raw`` parsed without PyYAML's composer when it is only nested ``key: plain value`` lines.

    Returns None for anything else (lists, flow style, anchors, comments, double quotes, block
    scalars, tabs, ...): ``load_yaml`` then takes the full, bounded road. The result is the one
    ``yaml.safe_load`` gives (tests compare the two); the node and depth limits hold here too.
    """
    root: dict[str, Any] = {}
    # (indentation, mapping) from the outermost; a key without a value opens a mapping below it
    stack: list[tuple[int, dict[str, Any]]] = [(0, root)]
    pending: tuple[dict[str, Any], str] | None = None  # the last "key:" without a value
    nodes = 1
    for line in raw.split("\n"):
        if not line.strip():
            continue
        if not line.isprintable():
            return None  # tabs, control characters, odd line breaks: the YAML reader's business
        match = _SIMPLE_LINE.fullmatch(line)
        if match is None:
            return None
        indent, key, value = len(match.group(1)), match.group(2), match.group(3)
        if _tag(key) != _STR:
            return None  # a key such as 'yes', 'null' or '1e3' is not a string to YAML
        if pending is not None:
            parent, name = pending
            if indent > stack[-1][0]:
                child: dict[str, Any] = {}
                parent[name] = child
                stack.append((indent, child))
                if len(stack) > MAX_YAML_DEPTH:
                    return None
            else:
                parent[name] = None
            pending = None
        while indent < stack[-1][0]:
            stack.pop()
        if indent != stack[-1][0]:
            return None  # indented under a key that has a value, or back to a level never opened
        mapping = stack[-1][1]
        nodes += 2
        if nodes > MAX_YAML_NODES or key in mapping:
            return None  # a repeated key: the full road names it
        if value is None or value == "":
            pending = (mapping, key)
            mapping[key] = None
            continue
        understood, parsed = _scalar(value)
        if not understood:
            return None
        mapping[key] = parsed
    return root or None


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


#: characters a plain or single-quoted YAML scalar would carry raw across a line of the file
_LINE_BREAKING = re.compile(r"[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


class _Dumper(yaml.SafeDumper):
    """SafeDumper that writes a string holding a line break double-quoted, the break escaped (``\\n``).

    Plain and single-quoted styles carry line breaks over several lines of the file, and a file name
    such as ``a\\n---\\nb.md`` then puts a ``---`` line in the middle of the front matter, closing it
    early for every reader that splits on such lines.
    """


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = '"' if _LINE_BREAKING.search(value) else None
    return dumper.represent_scalar(_STR, value, style=style)


_Dumper.add_representer(str, _represent_str)


def dump_front_matter(data: dict[str, Any]) -> str:
    """Render a mapping as a front-matter block (keys kept in insertion order); every value, whatever its
    characters, stays on its own line and reads back equal."""
    dumped = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{dumped}---\n"
