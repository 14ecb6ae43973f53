"""Cut context files into chunks along their own structure.

Markdown by headings, OpenAPI/Swagger (YAML or JSON) by path and operation, SQL by statement,
Python/TypeScript by top-level definition, anything else by paragraphs. Endpoints and tables found on
the way are recorded so the API and database sections can be told what already exists.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

#: a chunk longer than this (in characters) is split further by paragraphs
MAX_CHUNK_CHARS = 1600
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@dataclass(frozen=True)
class Chunk:
    source: str  # the file's display path
    label: str  # where in the file: a heading, "GET /orders", "CREATE TABLE users", "def f"
    text: str

    def tokens(self) -> int:
        return estimate_tokens(self.text) + estimate_tokens(self.label) + 4


@dataclass
class Facts:
    """What already exists according to the context."""

    endpoints: set[str] = field(default_factory=set)  # "GET /orders"
    tables: set[str] = field(default_factory=set)  # lower-case names


def estimate_tokens(text: str) -> int:
    """A cheap, tokenizer-free estimate (about 4 characters per token)."""
    return (len(text) + 3) // 4


def _split_long(source: str, label: str, text: str) -> list[Chunk]:
    text = text.strip()
    if not text:
        return []
    if len(text) <= MAX_CHUNK_CHARS:
        return [Chunk(source, label, text)]
    chunks: list[Chunk] = []
    buffer = ""
    for para in re.split(r"\n\s*\n", text):
        while len(para) > MAX_CHUNK_CHARS:
            if buffer:
                chunks.append(Chunk(source, label, buffer.strip()))
                buffer = ""
            chunks.append(Chunk(source, label, para[:MAX_CHUNK_CHARS]))
            para = para[MAX_CHUNK_CHARS:]
        if buffer and len(buffer) + len(para) > MAX_CHUNK_CHARS:
            chunks.append(Chunk(source, label, buffer.strip()))
            buffer = ""
        buffer += para + "\n\n"
    if buffer.strip():
        chunks.append(Chunk(source, label, buffer.strip()))
    return chunks


def chunk_markdown(source: str, text: str) -> list[Chunk]:
    chunks: list[Chunk] = []
    label, lines = Path(source).name, list[str]()
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        heading = re.match(r"^#{1,6}\s+(.*)$", line) if not fenced else None
        if heading and lines:
            chunks += _split_long(source, label, "\n".join(lines))
            lines = []
        if heading:
            label = heading.group(1).strip()
        lines.append(line)
    chunks += _split_long(source, label, "\n".join(lines))
    return chunks


#: libyaml's safe loader when PyYAML has it (same data, ten times faster, nesting bounded at 1,000)
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_openapi(text: str) -> dict[str, Any] | None:
    if "openapi" not in text and "swagger" not in text:
        return None  # the one key that makes a file an API description is not even spelled in it
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else yaml.load(text, Loader=_YAML_LOADER)
    except (ValueError, RecursionError, yaml.YAMLError):
        return None
    if (
        isinstance(data, dict)
        and ("openapi" in data or "swagger" in data)
        and isinstance(data.get("paths"), dict)
    ):
        return data
    return None


def chunk_openapi(source: str, spec: dict[str, Any], facts: Facts) -> list[Chunk]:
    chunks: list[Chunk] = []
    info = spec.get("info")
    if isinstance(info, dict):
        chunks += _split_long(source, "info", yaml.safe_dump(info, sort_keys=False))
    for path, item in spec["paths"].items():
        if not isinstance(item, dict):
            continue
        for method, operation in item.items():
            if str(method).lower() not in HTTP_METHODS:
                continue
            endpoint = f"{str(method).upper()} {path}"
            facts.endpoints.add(endpoint)
            body = yaml.safe_dump({path: {method: operation}}, sort_keys=False, allow_unicode=True)
            chunks += _split_long(source, endpoint, body)
    return chunks


_TABLE = re.compile(
    r"^\s*(?:create|alter)\s+(?:temporary\s+|temp\s+)?table\s+(?:if\s+(?:not\s+)?exists\s+)?([\w.\"`\[\]]+)",
    re.IGNORECASE,
)


def table_name(raw: str) -> str:
    return raw.strip('"`[]').split(".")[-1].strip('"`[]').lower()


def chunk_sql(source: str, text: str, facts: Facts) -> list[Chunk]:
    chunks: list[Chunk] = []
    without_comments = re.sub(r"--[^\n]*", "", text)
    for statement in without_comments.split(";"):
        statement = statement.strip()
        if not statement:
            continue
        match = _TABLE.match(statement)
        if match and statement.lower().lstrip().startswith("create"):
            facts.tables.add(table_name(match.group(1)))
        label = " ".join(statement.split()[:3]) if not match else f"TABLE {table_name(match.group(1))}"
        chunks += _split_long(source, label, statement + ";")
    return chunks


_TOP_LEVEL = {
    ".py": re.compile(r"^(?:async\s+def|def|class)\s+\w+|^@"),
    ".ts": re.compile(
        r"^(?:export\s+)?(?:default\s+)?(?:async\s+)?(?:function|class|interface|type|enum|const|let)\s"
    ),
}


def chunk_code(source: str, text: str, suffix: str) -> list[Chunk]:
    starts = _TOP_LEVEL[".ts" if suffix in {".ts", ".tsx", ".js", ".jsx"} else ".py"]
    chunks: list[Chunk] = []
    lines: list[str] = []
    label = Path(source).name
    decorated = False
    for line in text.splitlines():
        if starts.match(line) and not decorated:
            if lines:
                chunks += _split_long(source, label, "\n".join(lines))
            lines = []
        decorated = line.startswith("@")
        if starts.match(line) and not line.startswith("@"):
            label = line.split("(")[0].split(":")[0].split("{")[0].strip()
        lines.append(line)
    chunks += _split_long(source, label, "\n".join(lines))
    return chunks


def chunk_paragraphs(source: str, text: str) -> list[Chunk]:
    chunks: list[Chunk] = []
    for number, para in enumerate(re.split(r"\n\s*\n", text), 1):
        chunks += _split_long(source, f"{Path(source).name} ¶{number}", para)
    return chunks


def chunk_file(source: str, text: str, facts: Facts) -> list[Chunk]:
    suffix = Path(source).suffix.lower()
    if suffix in {".yaml", ".yml", ".json"}:
        spec = _load_openapi(text)
        if spec is not None:
            return chunk_openapi(source, spec, facts)
    if suffix in {".md", ".markdown", ".mdx"}:
        return chunk_markdown(source, text)
    if suffix == ".sql":
        return chunk_sql(source, text, facts)
    if suffix in {".py", ".ts", ".tsx", ".js", ".jsx"}:
        return chunk_code(source, text, suffix)
    return chunk_paragraphs(source, text)
