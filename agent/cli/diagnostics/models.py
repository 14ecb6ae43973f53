"""Doctor checks of the models: local model files, the model a draft would use, memory for it."""

from __future__ import annotations

from pathlib import Path

from agent.cli.diagnostics.report import CheckStatus, DoctorReport, ModelFile
from agent.errors import CorruptModelError, SpecdraftError
from agent.io.config import EffectiveConfig, Settings
from agent.llm.providers import DEFAULT_OPENAI_MODEL, Provider
from agent.models.bundled import bundled_model_path
from agent.models.catalog import load_catalog
from agent.models.gguf import check_gguf
from agent.models.select import (
    GIB,
    ResolvedModel,
    any_gguf,
    fit_server,
    memory_available,
    memory_needed,
    resolve_local_model,
)
from agent.models.store import cached_ggufs, installed_files, models_dir


def check_models(report: DoctorReport) -> None:
    """The bundled model and every pulled one: size, and whether its header (and size) check out."""
    try:
        path = bundled_model_path()
        report.models.append(_model_file("smollm2-135m-instruct (bundled)", path, True, None))
    except SpecdraftError as exc:
        report.add("bundled model", "warn", exc.message, exc.hint)
    try:
        catalog = load_catalog()
    except SpecdraftError as exc:
        report.add("model catalogue", "fail", exc.message, exc.hint)
        return
    known: set[tuple[str | None, str]] = set()
    for entry in catalog.values():
        known.update((entry.repo, f) for f in entry.files)
        if entry.is_bundled:
            continue
        files = installed_files(entry)
        if not files:
            continue
        size = sum(f.stat().st_size for f in files)
        expected = entry.size_bytes if entry.size_exact else None
        report.models.append(_model_file(entry.name, files[0], False, expected, total=size))
    for cached in cached_ggufs():
        if (cached.repo, cached.filename) not in known:
            report.models.append(_model_file(cached.uri, cached.path, False, None))
    damaged = [m.name for m in report.models if not m.verified]
    pulled = sum(1 for m in report.models if not m.bundled)
    detail = f"{pulled} pulled model(s) in {models_dir()}"
    if damaged:
        report.add(
            "models",
            "warn",
            f"{detail}; failed checks: {', '.join(damaged)}",
            "Remove and pull again: specdraft models rm NAME && specdraft models pull NAME",
        )
    else:
        report.add("models", "ok" if pulled else "info", detail)


def _model_file(
    name: str, path: Path, bundled: bool, expected: int | None, total: int | None = None
) -> ModelFile:
    size = total if total is not None else path.stat().st_size
    try:
        check_gguf(path)
    except CorruptModelError as exc:
        return ModelFile(name, str(path), size, bundled, False, exc.message)
    if expected is not None and size != expected:
        how = f"GGUF header ok, but {size:,} bytes where the catalogue says {expected:,}"
        return ModelFile(name, str(path), size, bundled, False, how)
    how = "GGUF header" + (", size matches the catalogue" if expected is not None else "")
    return ModelFile(name, str(path), size, bundled, True, how)


def check_chosen_model(
    report: DoctorReport, provider: Provider, settings: Settings, config: EffectiveConfig | None
) -> ResolvedModel | None:
    """The model a draft would use now, and why (the same choice `draft` makes)."""

    def source(key: str) -> str:
        return config.sources[key] if config else "default"

    if provider is Provider.openai:
        report.model = settings.model or DEFAULT_OPENAI_MODEL
        report.model_reason = (
            f"model from {source('model')}" if settings.model else "the default OpenAI model"
        )
    elif provider is Provider.compatible:
        report.model = settings.model
        report.model_reason = (
            f"model from {source('model')}" if settings.model else "the first model the server lists"
        )
    if provider is not Provider.local:
        if report.model:
            report.add("model", "ok", f"{report.model}: {report.model_reason}")
        else:
            report.add("model", "info", f"not named: {report.model_reason}")
        return None
    try:
        if settings.model_path is not None:
            path = settings.model_path
            check_gguf(path)
            resolved = any_gguf(path)
            reason = f"model_path from {source('model_path')}"
        else:
            resolved = resolve_local_model(settings.model)
            if settings.model:
                reason = f"model from {source('model')}"
            elif resolved.is_bundled:
                reason = "the bundled fallback (no pulled model, or none fits in free memory)"
            else:
                reason = "the largest pulled model that fits in free memory"
    except SpecdraftError as exc:
        report.add("model", "fail", exc.message, exc.hint or "Check the model and model_path settings.")
        return None
    report.model = resolved.name
    report.model_reason = reason
    status: CheckStatus = "warn" if resolved.is_bundled else "ok"
    fix = resolved.notice if resolved.is_bundled else None
    report.add("model", status, f"{resolved.name}: {reason}", fix)
    return resolved


def check_memory(report: DoctorReport, resolved: ResolvedModel | None, parallel: int) -> None:
    if resolved is None:
        return
    free = memory_available()
    needed = memory_needed(resolved)
    try:
        fit = fit_server(resolved, parallel, available=free)
    except SpecdraftError as exc:
        report.add("memory", "fail", exc.message, exc.hint)
        return
    detail = (
        f"{free / GIB:.1f} GiB free; {resolved.name} needs about {needed / GIB:.2f} GiB; "
        f"{fit.slots} slot(s) of {fit.n_ctx // fit.slots} tokens"
    )
    if fit.notice:
        report.add("memory", "warn", detail, fit.notice)
    elif needed > free:
        report.add(
            "memory", "warn", detail, "Close other programs, or use a smaller model; expect it to be slow."
        )
    else:
        report.add("memory", "ok", detail)
