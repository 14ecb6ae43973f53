"""Reading a GGUF file's header: whether it is one, how big its KV cache gets, how many parameters it has.

GGUF layout (little-endian): the magic ``GGUF``, a uint32 version, uint64 tensor and key/value counts
(uint32 in version 1), then the key/value pairs, then one entry per tensor (name, dimension count, the
dimensions, type, data offset). Only this header is read, never the tensor data: a 0.5B model's header
is about 6 MB of its 491 MB and reads in well under a second.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from agent.errors import CorruptModelError
from agent.models.size import (
    FROM_PARAMETER_COUNT,
    FROM_SIZE_LABEL,
    FROM_TENSORS,
    UNKNOWN_SIZE,
    ModelSize,
    params_in_label,
)

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
#: the general keys read: the architecture, and the size a file without a tensor table may still state
_WANTED_KEYS = frozenset({"general.architecture", "general.parameter_count", "general.size_label"})
#: beyond these a header is damaged, not large: real files have tens of key/values and at most a few
#: thousand tensors of up to four dimensions (GGML_MAX_DIMS) and a few dozen types (GGML_TYPE_COUNT)
MAX_KEY_VALUES = 100_000
MAX_TENSORS = 1_000_000
MAX_TENSOR_DIMS = 4
MAX_TENSOR_TYPE = 256
MAX_TENSOR_ELEMENTS = 2**63 - 1
#: what a damaged header raises while it is read (short reads, bad lengths, invalid UTF-8)
_DAMAGE = (struct.error, UnicodeDecodeError, ValueError)
_REPULL_HINT = "Delete it and download it again (specdraft models rm NAME, then specdraft models pull NAME)."
#: Bytes of KV cache per token assumed when a file's header does not say (a 7B-class model, f16 cache).
FALLBACK_KV_BYTES_PER_TOKEN = 128 * 1024


@dataclass(frozen=True)
class GGUFInfo:
    version: int
    architecture: str | None
    context_length: int | None
    kv_bytes_per_token: int | None
    #: parameters: every tensor's element count summed, else what the header's metadata says
    size: ModelSize = UNKNOWN_SIZE


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
    """Read the architecture, context length, KV-cache size per token and parameter count of a GGUF.

    Raises CorruptModelError naming the damaged part (the key/values or the tensor table).
    """
    version = check_gguf(path)
    with path.open("rb") as handle:
        handle.seek(8)
        try:
            tensor_count, values = _read_metadata(handle, version)
        except _DAMAGE as exc:
            raise CorruptModelError(
                f"'{path}' has a damaged GGUF header ({exc}).", hint=_REPULL_HINT
            ) from None
        try:
            tensor_params = _count_parameters(handle, tensor_count, version)
        except _DAMAGE as exc:
            raise CorruptModelError(
                f"'{path}' has a damaged GGUF tensor table ({exc}).", hint=_REPULL_HINT
            ) from None
    arch = values.get("general.architecture")
    arch_name = arch if isinstance(arch, str) else None

    def get(suffix: str) -> int | None:
        return _positive_int(values.get(f"{arch_name}{suffix}"))

    blocks, width = get(".block_count"), get(".embedding_length")
    heads, kv_heads = get(".attention.head_count"), get(".attention.head_count_kv")
    key_len, value_len = get(".attention.key_length"), get(".attention.value_length")
    kv_per_token: int | None = None
    if blocks and (kv_heads or heads) and ((width and heads) or (key_len and value_len)):
        head_dim = width // heads if width and heads else 0
        per_head = (key_len or head_dim) + (value_len or head_dim)
        kv_per_token = blocks * (kv_heads or heads or 0) * per_head * 2  # f16 cache: 2 bytes per value
    size = _model_size(tensor_params, values)
    return GGUFInfo(version, arch_name, get(".context_length"), kv_per_token, size)


def _read_metadata(handle: BinaryIO, version: int) -> tuple[int, dict[str, object]]:
    """The tensor count and the wanted key/values; leaves ``handle`` at the start of the tensor table."""
    count_fmt = "<I" if version == 1 else "<Q"
    tensor_count = int(_read(handle, count_fmt))
    kv_count = int(_read(handle, count_fmt))
    if kv_count > MAX_KEY_VALUES:
        raise ValueError(f"{kv_count:,} key/value pairs")
    values: dict[str, object] = {}
    for _ in range(kv_count):
        key = _read_string(handle, version)
        value = _read_value(handle, int(_read(handle, "<I")), version)
        if key in _WANTED_KEYS or key.endswith(_WANTED_SUFFIXES):
            values[key] = value
    return tensor_count, values


def _count_parameters(handle: BinaryIO, tensor_count: int, version: int) -> int | None:
    """The elements of every tensor summed, from the tensor table alone (None for a file without tensors).

    This is the figure llama.cpp prints as "model params": a file that stores the output matrix apart
    from the token embeddings counts both.
    """
    if tensor_count > MAX_TENSORS:
        raise ValueError(f"{tensor_count:,} tensors")
    dim_fmt = "<I" if version == 1 else "<Q"
    total = 0
    for index in range(tensor_count):
        name = _read_string(handle, version)
        where = f"tensor {index + 1} of {tensor_count}, {name[:64]!r}"
        dims = int(_read(handle, "<I"))
        if dims > MAX_TENSOR_DIMS:
            raise ValueError(f"{where}: {dims} dimensions, at most {MAX_TENSOR_DIMS}")
        elements = 1
        for _ in range(dims):
            elements *= int(_read(handle, dim_fmt))
        if elements > MAX_TENSOR_ELEMENTS:
            raise ValueError(f"{where}: {elements:,} elements")
        kind = int(_read(handle, "<I"))
        if kind >= MAX_TENSOR_TYPE:
            raise ValueError(f"{where}: unknown tensor type {kind}")
        _read(handle, "<Q")  # where its data starts: not needed to count it
        total += elements
    return total or None


def _model_size(tensor_params: int | None, values: dict[str, object]) -> ModelSize:
    """The tensor table's count; a file without tensors may still say its size in its metadata."""
    if tensor_params:
        return ModelSize(tensor_params, FROM_TENSORS)
    count = _positive_int(values.get("general.parameter_count"))
    if count:
        return ModelSize(count, FROM_PARAMETER_COUNT)
    label = values.get("general.size_label")
    labelled = params_in_label(label) if isinstance(label, str) else None
    return ModelSize(labelled, FROM_SIZE_LABEL) if labelled else UNKNOWN_SIZE


def _positive_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _read(handle: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = handle.read(size)
    if len(data) != size:
        raise ValueError("unexpected end of file")
    return struct.unpack(fmt, data)[0]


def _read_string(handle: BinaryIO, version: int) -> str:
    return _read_bytes(handle, version).decode("utf-8")


def _read_bytes(handle: BinaryIO, version: int) -> bytes:
    length = int(_read(handle, "<I" if version == 1 else "<Q"))
    if length > 1 << 24:
        raise ValueError(f"string of {length:,} bytes")
    data = handle.read(length)
    if len(data) != length:
        raise ValueError("unexpected end of file")
    return data


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
        elif item_kind == _STRING:  # a tokenizer's vocabulary: 150,000 strings nobody here reads
            for _ in range(count):
                _read_bytes(handle, version)
        else:
            for _ in range(count):
                _read_value(handle, item_kind, version)
        return None
    raise ValueError(f"unknown value type {kind}")
