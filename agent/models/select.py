"""Choosing the local model to serve, and sizing the embedded server to the machine's memory.

The drafting core calls :func:`resolve_local_model` and :func:`fit_server_settings`; neither prints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from agent.errors import ConfigError, CorruptModelError, ModelError
from agent.models.bundled import BUNDLED_MODEL_NAME, bundled_model_path
from agent.models.catalog import ModelEntry, find_model, load_catalog, split_parts
from agent.models.gguf import FALLBACK_KV_BYTES_PER_TOKEN, check_gguf, read_gguf_info
from agent.models.size import UNKNOWN_SIZE, ModelSize
from agent.models.store import installed_files

GIB = 1024**3
#: Context per parallel slot we try to give each request (a section prompt plus its answer fits easily).
SLOT_CONTEXT_TARGET = 8192
#: Below this per-slot context, fewer parallel slots are better than more.
SLOT_CONTEXT_MIN = 2048
#: Below this, the model cannot draft a section at all.
SLOT_CONTEXT_FLOOR = 512


@dataclass(frozen=True)
class ResolvedModel:
    """A local model ready to be served by the embedded llama.cpp server."""

    name: str
    #: GGUF file to load (first part of a split model; llama.cpp loads the others from beside it)
    path: Path
    context_length: int
    is_bundled: bool
    #: one line for stderr when the caller should tell the user something (fallback, low memory), else None
    notice: str | None = None
    #: parameters read from the file's header once here, so the re-ask policy never re-reads it
    size: ModelSize = UNKNOWN_SIZE


# ---------------------------------------------------------------- memory


def memory_total() -> int:
    """Physical memory in bytes, capped by a cgroup limit when one applies."""
    total = _meminfo("MemTotal") or _sysconf("SC_PHYS_PAGES")
    limit = _cgroup_limit()
    return min(total, limit) if limit else total


def memory_available() -> int:
    """Memory a new process can use without swapping, in bytes (MemAvailable, capped by a cgroup limit)."""
    available = _meminfo("MemAvailable") or _sysconf("SC_AVPHYS_PAGES")
    limit = _cgroup_limit()
    if limit:
        available = min(available, max(0, limit - _cgroup_usage()))
    return available


def _meminfo(key: str) -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                name, _, rest = line.partition(":")
                if name == key:
                    return int(rest.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _sysconf(pages: str) -> int:
    try:
        return int(os.sysconf(pages)) * int(os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, AttributeError):
        return 4 * GIB


def _cgroup_limit() -> int:
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        value = _read_int(path)
        if value and value < 1 << 60:
            return value
    return 0


def _cgroup_usage() -> int:
    return _read_int("/sys/fs/cgroup/memory.current") or _read_int(
        "/sys/fs/cgroup/memory/memory.usage_in_bytes"
    )


def _read_int(path: str) -> int:
    try:
        return int(Path(path).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return 0


# ---------------------------------------------------------------- choosing a model


def recommended_model(total_memory: int | None = None, cores: int | None = None) -> str:
    """The verified catalogue model worth pulling on this machine (shown in notices and `specdraft models`).

    The Coder 1.5B is the default recommendation: on a 2-core laptop CPU it drafts a whole tech spec in
    minutes and writes sections about the brief's feature (docs/models.md has the measured frontier).
    Only a machine with memory and cores to spare gets the 7B; one short of memory gets the 0.5B.
    """
    memory = memory_total() if total_memory is None else total_memory
    cpus = (os.cpu_count() or 1) if cores is None else cores
    if memory >= 16 * GIB and cpus >= 8:
        return "qwen2.5-coder-7b-instruct"
    if memory >= 4 * GIB:
        return "qwen2.5-coder-1.5b-instruct"
    return "qwen2.5-coder-0.5b-instruct"


def memory_needed(model: ResolvedModel) -> int:
    """About how much memory serving ``model`` takes (weights plus runtime), as the selection assumes."""
    parts = [model.path.parent / Path(p).name for p in split_parts(model.path.name)]
    weights = sum(p.stat().st_size for p in parts if p.exists())
    return int(weights * 1.3) + 256 * 1024**2


def _needed_memory(entry: ModelEntry, files: list[Path]) -> int:
    weights = sum(f.stat().st_size for f in files)
    return max(entry.min_ram_bytes or 0, int(weights * 1.3) + 256 * 1024**2)


def _header_facts(path: Path, fallback_context: int) -> tuple[int, ModelSize]:
    """The trained context (else ``fallback_context``) and the size, read from the file's header once.

    A header that cannot be read leaves both to their fallbacks (the size unknown): the embedded
    server, which loads the whole file, is the one to report a damaged model.
    """
    try:
        info = read_gguf_info(path)
    except (CorruptModelError, OSError):
        return fallback_context, UNKNOWN_SIZE
    return info.context_length or fallback_context, info.size


def _resolved(
    name: str, path: Path, fallback_context: int, *, is_bundled: bool = False, notice: str | None = None
) -> ResolvedModel:
    context, size = _header_facts(path, fallback_context)
    return ResolvedModel(name, path, context, is_bundled, notice, size)


#: context assumed for a GGUF whose header does not say (llama.cpp's usual default)
FALLBACK_CONTEXT_LENGTH = 4096


def any_gguf(path: Path) -> ResolvedModel:
    """A GGUF named by path (``--model-path``): served like a catalogue model, sized to memory too.

    A file that is not a GGUF is left for the embedded server to report (it names the option).
    """
    return _resolved(path.stem, path, FALLBACK_CONTEXT_LENGTH)


def resolve_local_model(name: str | None) -> ResolvedModel:
    """The local model called ``name`` (catalogue name or ``hf://`` reference), or the default for None.

    The default is the largest downloaded catalogue model that fits in the memory available now, else the
    bundled SmolLM2-135M with a notice naming the pull command for better specs.
    Raises ConfigError for unknown or not-downloaded names, CorruptModelError for a damaged file and
    ModelError when the model cannot fit in this machine's memory at all.
    """
    if name is None:
        return _default_model()
    entry = find_model(name)
    files = installed_files(entry)
    if files is None:
        raise ConfigError(
            f"Model '{name}' is not downloaded yet.",
            hint=f"Download it with: specdraft models pull {name}",
        )
    check_gguf(files[0])
    needed, total, available = _needed_memory(entry, files), memory_total(), memory_available()
    if needed > total:
        raise ModelError(
            f"Model '{name}' needs about {needed / GIB:.1f} GiB of memory; "
            f"this machine has {total / GIB:.1f} GiB.",
            hint=f"Use a smaller model, e.g. specdraft models pull {recommended_model()}",
        )
    notice = None
    if needed > available:
        notice = (
            f"Note: {name} needs about {needed / GIB:.1f} GiB of memory "
            f"and {available / GIB:.1f} GiB is free; "
            "expect it to be slow."
        )
    shown = name if name.startswith("hf://") else entry.name
    return _resolved(shown, files[0], entry.context_length, is_bundled=entry.is_bundled, notice=notice)


def _default_model() -> ResolvedModel:
    """The best downloaded model that fits in free memory: verified (pinned sha256) before unverified,
    then the largest; else the bundled fallback. Either way the notice says which model and why."""
    catalog = load_catalog()
    available = memory_available()
    best: tuple[tuple[bool, int], ModelEntry, Path] | None = None
    skipped: list[str] = []
    for entry in catalog.values():
        if entry.is_bundled:
            continue
        files = installed_files(entry)
        if files is None:
            continue
        try:
            check_gguf(files[0])
        except CorruptModelError:
            skipped.append(f"{entry.name} (damaged file)")
            continue
        if _needed_memory(entry, files) > available:
            skipped.append(f"{entry.name} (needs more than the {available / GIB:.1f} GiB free)")
            continue
        rank = (entry.verified, sum(f.stat().st_size for f in files))
        if best is None or rank > best[0]:
            best = (rank, entry, files[0])
    others = f"; skipped: {', '.join(skipped)}" if skipped else ""
    if best is not None:
        (verified, _), entry, path = best
        kind = "verified model" if verified else "model (no pinned sha256)"
        notice = f"Model: {entry.name}, the largest {kind} downloaded that fits in free memory{others}."
        return _resolved(entry.name, path, entry.context_length, notice=notice)
    bundled = catalog[BUNDLED_MODEL_NAME]
    path = bundled_model_path()
    check_gguf(path)
    notice = (
        f"Using the bundled {BUNDLED_MODEL_NAME} (135M parameters){others}: it shows how a draft works "
        "but its sections are mostly generic and many are marked. For a spec worth reviewing: "
        f"specdraft models pull {recommended_model()}"
    )
    return _resolved(bundled.name, path, bundled.context_length, is_bundled=True, notice=notice)


# ---------------------------------------------------------------- sizing the server


@dataclass(frozen=True)
class ServerFit:
    """How the embedded server is sized: total context, parallel slots, and a notice when lowered."""

    n_ctx: int
    slots: int
    #: one line for the user when fewer slots than asked for fit in free memory, else None
    notice: str | None = None


def fit_server_settings(model: ResolvedModel, requested_slots: int) -> tuple[int, int]:
    """``(n_ctx, n_parallel)`` for the embedded server (see :func:`fit_server`)."""
    fit = fit_server(model, requested_slots)
    return fit.n_ctx, fit.slots


def fit_server(model: ResolvedModel, requested_slots: int, *, available: int | None = None) -> ServerFit:
    """Size the embedded server: total context over all slots, the slot count, and why it was lowered.

    Keeps weights plus KV cache within the memory available now (``available``, read from the system
    when None): each slot gets up to min(model context, 8192) tokens; slots are dropped (down to 1)
    before a slot falls below 2048 tokens. Raises ModelError when not even one 512-token slot fits.
    """
    free = memory_available() if available is None else available
    parts = [model.path.parent / Path(p).name for p in split_parts(model.path.name)]
    weights = sum(p.stat().st_size for p in parts if p.exists())
    try:
        kv_per_token = read_gguf_info(model.path).kv_bytes_per_token or FALLBACK_KV_BYTES_PER_TOKEN
    except CorruptModelError:
        kv_per_token = FALLBACK_KV_BYTES_PER_TOKEN
    overhead = 256 * 1024**2 + weights // 20  # compute buffers and runtime
    budget = int(free * 0.85) - weights - overhead
    tokens = max(0, budget) // kv_per_token
    slot_cap = min(model.context_length, SLOT_CONTEXT_TARGET)
    wanted = max(1, requested_slots)
    slots = wanted
    while slots > 1 and tokens // slots < min(SLOT_CONTEXT_MIN, slot_cap):
        slots -= 1
    per_slot = min(slot_cap, tokens // slots)
    per_slot -= per_slot % 256
    if per_slot < SLOT_CONTEXT_FLOOR:
        raise ModelError(
            f"Not enough free memory to serve {model.name}: {free / GIB:.1f} GiB available, "
            f"the weights alone take {weights / GIB:.1f} GiB.",
            hint=f"Close other programs or use a smaller model: specdraft models pull {recommended_model()}",
        )
    notice = None
    if slots < wanted:
        slot_gib = min(SLOT_CONTEXT_MIN, slot_cap) * kv_per_token / GIB
        notice = (
            f"Running {slots} request(s) at once instead of the {wanted} asked for (--jobs/--parallel): "
            f"{free / GIB:.1f} GiB of memory is free, {model.name} takes {weights / GIB:.2f} GiB and each "
            f"slot needs {slot_gib:.2f} GiB for {min(SLOT_CONTEXT_MIN, slot_cap)} tokens of context. "
            "Free some memory or use a smaller model to run more at once."
        )
    return ServerFit(per_slot * slots, slots, notice)
