"""Reading just enough of a GGUF file's header to tell whether it is one and how big its KV cache gets.

GGUF layout (little-endian): the magic ``GGUF``, a uint32 version, uint64 tensor and key/value counts
(uint32 in version 1), then the key/value pairs. Only the header is read, never the tensors.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from agent.errors import CorruptModelError

GGUF_MAGIC = b"GGUF"
_SCALAR_FORMATS: dict[int, str] = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9
_WANTED_SUFFIXES = (
    ".context_length",
    ".block_count",
    ".embedding_length",
    ".attention.head_count",
    ".attention.head_count_kv",
    ".attention.key_length",
    ".attention.value_length",
)
_REPULL_HINT = "Delete it and download it again (specdraft models rm NAME, then specdraft models pull NAME)."
#: Bytes of KV cache per token assumed when a file's header does not say (a 7B-class model, f16 cache).
FALLBACK_KV_BYTES_PER_TOKEN = 128 * 1024


@dataclass(frozen=True)
class GGUFInfo:
    version: int
    architecture: str | None
    context_length: int | None
    kv_bytes_per_token: int | None


def check_gguf(path: Path) -> int:
    """Raise CorruptModelError unless ``path`` starts with a plausible GGUF header; return its version."""
    try:
        with path.open("rb") as handle:
            head = handle.read(24)
    except FileNotFoundError:
        raise CorruptModelError(f"Model file '{path}' does not exist.") from None
    except OSError as exc:
        raise CorruptModelError(f"Model file '{path}' cannot be read: {exc.strerror}.") from None
    hint = _REPULL_HINT
    if head[:4] != GGUF_MAGIC:
        raise CorruptModelError(
            f"'{path}' is not a GGUF model file (it starts with {head[:4]!r}, not b'GGUF').", hint=hint
        )
    if len(head) < 24:
        raise CorruptModelError(
            f"'{path}' is truncated: {len(head)} bytes, shorter than a GGUF header.", hint=hint
        )
    version = struct.unpack_from("<I", head, 4)[0]
    if version not in (1, 2, 3):
        raise CorruptModelError(f"'{path}' has unsupported GGUF version {version}.", hint=hint)
    return int(version)


def read_gguf_info(path: Path) -> GGUFInfo:
    """Read the architecture, context length and KV-cache size per token from a GGUF header."""
    version = check_gguf(path)
    values: dict[str, object] = {}
    try:
        with path.open("rb") as handle:
            handle.seek(8)
            count_fmt = "<I" if version == 1 else "<Q"
            _read(handle, count_fmt)  # tensor count
            kv_count = int(_read(handle, count_fmt))
            for _ in range(min(kv_count, 100_000)):
                key = _read_string(handle, version)
                value = _read_value(handle, int(_read(handle, "<I")), version)
                if key == "general.architecture" or key.endswith(_WANTED_SUFFIXES):
                    values[key] = value
                if _complete(values):
                    break
    except (struct.error, UnicodeDecodeError, ValueError) as exc:
        raise CorruptModelError(
            f"'{path}' has a damaged GGUF header ({exc}).",
            hint=_REPULL_HINT,
        ) from None
    arch = values.get("general.architecture")
    arch_name = arch if isinstance(arch, str) else None

    def get(suffix: str) -> int | None:
        value = values.get(f"{arch_name}{suffix}")
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None

    blocks, width = get(".block_count"), get(".embedding_length")
    heads, kv_heads = get(".attention.head_count"), get(".attention.head_count_kv")
    key_len, value_len = get(".attention.key_length"), get(".attention.value_length")
    kv_per_token: int | None = None
    if blocks and (kv_heads or heads) and ((width and heads) or (key_len and value_len)):
        head_dim = width // heads if width and heads else 0
        per_head = (key_len or head_dim) + (value_len or head_dim)
        kv_per_token = blocks * (kv_heads or heads or 0) * per_head * 2  # f16 cache: 2 bytes per value
    return GGUFInfo(version, arch_name, get(".context_length"), kv_per_token)


def _complete(values: dict[str, object]) -> bool:
    arch = values.get("general.architecture")
    if not isinstance(arch, str):
        return False
    return all(f"{arch}{suffix}" in values for suffix in _WANTED_SUFFIXES[:5])


def _read(handle: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = handle.read(size)
    if len(data) != size:
        raise ValueError("unexpected end of file")
    return struct.unpack(fmt, data)[0]


def _read_string(handle: BinaryIO, version: int) -> str:
    length = int(_read(handle, "<I" if version == 1 else "<Q"))
    if length > 1 << 24:
        raise ValueError(f"string of {length} bytes")
    data = handle.read(length)
    if len(data) != length:
        raise ValueError("unexpected end of file")
    return data.decode("utf-8")


def _read_value(handle: BinaryIO, kind: int, version: int) -> object:
    if kind in _SCALAR_FORMATS:
        return _read(handle, _SCALAR_FORMATS[kind])
    if kind == _STRING:
        return _read_string(handle, version)
    if kind == _ARRAY:
        item_kind = int(_read(handle, "<I"))
        count = int(_read(handle, "<I" if version == 1 else "<Q"))
        if item_kind in _SCALAR_FORMATS:
            handle.seek(struct.calcsize(_SCALAR_FORMATS[item_kind]) * count, 1)
        else:
            for _ in range(count):
                _read_value(handle, item_kind, version)
        return None
    raise ValueError(f"unknown value type {kind}")
