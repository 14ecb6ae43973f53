"""``specdraft doctor``: can a draft run here, and if not, what to do. Checks only; nothing is printed.

Each check has a status: ``ok``, ``info`` (nothing to do), ``warn`` (works, but worth knowing) or ``fail``
(a draft cannot run until it is fixed). The embedded server is only started when ``probe`` is asked for.
Secrets are never part of a result: for the API key only whether the variable is set is reported.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import shutil
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from agent import __version__
from agent.errors import CorruptModelError, SpecdraftError
from agent.io.config import KEY_ENV, EffectiveConfig, Settings, load_config, user_config_path
from agent.io.redact import display_url
from agent.llm.providers import (
    DEFAULT_OPENAI_MODEL,
    OPENAI_BASE_URL,
    ModelSettings,
    Provider,
    resolve_provider,
)
from agent.llm.response_cache import default_cache_dir
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

Status = Literal["ok", "info", "warn", "fail"]

#: the packages whose versions a bug report needs; the required ones fail the check when missing
PACKAGES = ("specdraft", "openai", "langchain-core", "langchain-openai", "pydantic", "typer", "xllamacpp")
REQUIRED = ("openai", "langchain-core", "langchain-openai", "pydantic", "typer")
PROBE_TIMEOUT = 5.0


@dataclass
class DoctorCheck:
    name: str
    status: Status
    detail: str
    fix: str | None = None


@dataclass
class ModelFile:
    name: str
    path: str
    size_bytes: int
    bundled: bool
    verified: bool
    how: str


@dataclass
class DoctorReport:
    checks: list[DoctorCheck] = field(default_factory=list)
    versions: dict[str, str | None] = field(default_factory=dict)
    models: list[ModelFile] = field(default_factory=list)
    provider: str = "local"
    model: str | None = None
    model_reason: str = ""

    @property
    def ready(self) -> bool:
        """A draft can run: no check failed."""
        return not any(c.status == "fail" for c in self.checks)

    @property
    def problems(self) -> list[DoctorCheck]:
        return [c for c in self.checks if c.status in ("fail", "warn")]

    def add(self, name: str, status: Status, detail: str, fix: str | None = None) -> DoctorCheck:
        check = DoctorCheck(name, status, detail, fix)
        self.checks.append(check)
        return check

    def as_dict(self) -> dict[str, Any]:
        return {
            "ready": self.ready,
            "provider": self.provider,
            "model": self.model,
            "model_reason": self.model_reason,
            "versions": self.versions,
            "models": [asdict(m) for m in self.models],
            "checks": [asdict(c) for c in self.checks],
        }


def run_doctor(*, probe: bool = False, timeout: float = PROBE_TIMEOUT) -> DoctorReport:
    """Every check, in the order a person reads them: software, settings, model, provider, files."""
    report = DoctorReport()
    _check_python(report)
    _check_packages(report)
    config = _check_config(report)
    settings = config.settings if config else Settings()
    model_settings = ModelSettings(
        provider=Provider(settings.provider),
        model=settings.model,
        base_url=",".join(settings.base_url) if isinstance(settings.base_url, list) else settings.base_url,
        model_path=settings.model_path,
        timeout=settings.timeout,
        slots=settings.parallel,
    )
    provider = resolve_provider(model_settings)
    report.provider = provider.value
    _check_engine(report, provider)
    _check_models(report)
    _check_template(report, settings)
    resolved = _check_chosen_model(report, provider, settings, config)
    if provider is Provider.local:
        _check_memory(report, resolved, settings.parallel)
    _check_key(report, provider)
    _check_provider(report, provider, model_settings, resolved, probe=probe, timeout=timeout)
    _check_context(report, settings, config)
    _check_writable(report)
    _check_ssh_keygen(report)
    return report


# ---------------------------------------------------------------- software


def _check_python(report: DoctorReport) -> None:
    version = ".".join(str(v) for v in sys.version_info[:3])
    report.add("python", "ok", f"Python {version} ({sys.executable})")


def _package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return __version__ if name == "specdraft" else None


def _check_packages(report: DoctorReport) -> None:
    for name in PACKAGES:
        version = _package_version(name)
        report.versions[name] = version
        if version is not None:
            report.add(f"package {name}", "ok", version)
        elif name in REQUIRED:
            report.add(
                f"package {name}", "fail", "not installed", f"pip install '{name}' (or reinstall specdraft)"
            )
        else:
            report.add(
                f"package {name}",
                "warn",
                "not installed (the embedded engine needs it)",
                "pip install xllamacpp, or use --provider openai / --base-url",
            )


def _check_engine(report: DoctorReport, provider: Provider) -> None:
    try:
        importlib.import_module("xllamacpp")
    except Exception as exc:  # an ImportError, or a broken native library
        status: Status = "fail" if provider is Provider.local else "warn"
        report.add(
            "embedded engine",
            status,
            f"xllamacpp cannot be imported ({type(exc).__name__}: {str(exc)[:160]})",
            "pip install --force-reinstall xllamacpp, or use --provider openai / --base-url",
        )
        return
    report.add("embedded engine", "ok", "xllamacpp imports")


# ---------------------------------------------------------------- settings


def _check_config(report: DoctorReport) -> EffectiveConfig | None:
    try:
        config = load_config()
    except SpecdraftError as exc:
        report.add("configuration", "fail", exc.message, exc.hint or "Fix the file or variable it names.")
        return None
    project = str(config.project_file) if config.project_file else "no project file"
    user = str(config.user_file) + ("" if config.user_file_exists else " (not present)")
    report.add("configuration", "ok", f"project: {project}; user: {user}")
    return config


def _check_template(report: DoctorReport, settings: Settings) -> None:
    from agent.specdoc.template_resolver import load_template

    try:
        template = load_template(settings.template)
    except SpecdraftError as exc:
        report.add("template", "fail", exc.message, exc.hint or "Check the template setting.")
        return
    report.add("template", "ok", f"{template.path} ({len(template.sections)} sections)")


def _check_context(report: DoctorReport, settings: Settings, config: EffectiveConfig | None) -> None:
    if not settings.context:
        return
    missing = [str(p) for p in settings.context if not p.exists()]
    source = config.sources["context"] if config else "configuration"
    if missing:
        report.add(
            "context",
            "warn",
            f"{len(missing)} of {len(settings.context)} context paths do not exist: {', '.join(missing)}",
            f"Fix the context setting ({source}).",
        )
    else:
        report.add("context", "ok", f"{len(settings.context)} paths ({source})")


# ---------------------------------------------------------------- models


def _check_models(report: DoctorReport) -> None:
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


def _check_chosen_model(
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
    status: Status = "warn" if resolved.is_bundled else "ok"
    fix = resolved.notice if resolved.is_bundled else None
    report.add("model", status, f"{resolved.name}: {reason}", fix)
    return resolved


def _check_memory(report: DoctorReport, resolved: ResolvedModel | None, parallel: int) -> None:
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


# ---------------------------------------------------------------- provider and key


def _check_key(report: DoctorReport, provider: Provider) -> None:
    present = bool(os.environ.get(KEY_ENV, "").strip())
    state = f"{KEY_ENV} is {'set' if present else 'not set'}"
    if provider is Provider.openai:
        if present:
            report.add("api key", "ok", state)
        else:
            report.add(
                "api key", "fail", state, f"export {KEY_ENV}=... (keys are read only from the environment)"
            )
    elif provider is Provider.compatible:
        report.add(
            "api key",
            "info",
            state + (" (sent to the server)" if present else " (most local servers need none)"),
        )
    else:
        report.add("api key", "info", state + " (the embedded model needs none)")


def _check_provider(
    report: DoctorReport,
    provider: Provider,
    settings: ModelSettings,
    resolved: ResolvedModel | None,
    *,
    probe: bool,
    timeout: float,
) -> None:
    if provider is Provider.local:
        if not probe:
            report.add(
                "provider",
                "info",
                "local: the embedded server starts on demand when a command needs it",
                None,
            )
            return
        if resolved is None:
            return
        _probe_embedded(report, settings, timeout)
        return
    urls = settings.base_urls or ((OPENAI_BASE_URL,) if provider is Provider.openai else ())
    if not urls:
        report.add(
            "provider", "fail", "compatible: no base_url", "Set base_url, SPECDRAFT_BASE_URL or --base-url."
        )
        return
    if len(urls) == 1:
        _get_models(report, provider.value, urls[0], settings.model, timeout)
        return
    # Several servers: each is checked; while one answers, drafting goes on without the others.
    checks = []
    for number, url in enumerate(urls, start=1):
        _get_models(report, f"{provider.value} server {number} of {len(urls)}", url, settings.model, timeout)
        checks.append(report.checks[-1])
    if any(check.status == "ok" for check in checks):
        for check in checks:
            if check.status == "fail":
                check.status = "warn"
                check.fix = (check.fix or "") + " Requests go to the other servers meanwhile."


def _get_models(report: DoctorReport, label: str, base_url: str, model: str | None, timeout: float) -> None:
    """GET {base_url}/models: reachable, the key accepted, and the model listed."""
    headers = {}
    key = os.environ.get(KEY_ENV, "").strip()
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(f"{base_url}/models", headers=headers)
    shown = display_url(base_url)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = json.load(response)
    except urllib.error.HTTPError as exc:
        fix = (
            f"The server refused the key: check {KEY_ENV}."
            if exc.code in (401, 403)
            else "Check base_url (it usually ends in /v1)."
        )
        report.add("provider", "fail", f"{label}: {shown}/models answered HTTP {exc.code}", fix)
        return
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        report.add(
            "provider",
            "fail",
            f"{label}: cannot reach {shown} ({reason})",
            "Is the server running? Check base_url (it usually ends in /v1); `specdraft config show` "
            "says where it is set.",
        )
        return
    except ValueError:
        report.add("provider", "fail", f"{label}: {shown}/models did not answer JSON", "Check base_url.")
        return
    seconds = time.perf_counter() - started
    ids = _model_ids(payload)
    detail = f"{label}: {shown} answered in {seconds * 1000:.0f} ms, {len(ids)} model(s) listed"
    if model and ids and model not in ids:
        shown = ", ".join(ids[:5]) + (" ..." if len(ids) > 5 else "")
        report.add(
            "provider", "warn", f"{detail}; '{model}' is not among them ({shown})", "Check the model setting."
        )
        return
    if not model and report.provider == "compatible" and ids:
        report.model = ids[0]
        for check in report.checks:
            if check.name == "model":
                check.detail = f"{ids[0]}: {report.model_reason}"
    report.add("provider", "ok", detail)


def _model_ids(payload: Any) -> list[str]:
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        return []
    return [str(item["id"]) for item in data if isinstance(item, dict) and "id" in item]


def _probe_embedded(report: DoctorReport, settings: ModelSettings, timeout: float) -> None:
    from agent.llm.providers import open_endpoint

    started = time.perf_counter()
    try:
        with open_endpoint(settings) as endpoint:
            _get_models(report, "local (probe)", endpoint.base_url, None, timeout)
    except SpecdraftError as exc:
        report.add("provider", "fail", f"local: the embedded server did not start: {exc.message}", exc.hint)
        return
    report.checks[-1].detail += f"; started and stopped in {time.perf_counter() - started:.1f} s"


# ---------------------------------------------------------------- files and tools


def _writable(path: Path) -> tuple[bool, Path]:
    """Whether ``path`` can be written (created if missing), judged on its nearest existing ancestor."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return (probe.is_dir() and os.access(probe, os.W_OK | os.X_OK)), probe


def _check_writable(report: DoctorReport) -> None:
    places: list[tuple[str, Callable[[], Path], str]] = [
        (
            "response cache",
            default_cache_dir,
            "Set SPECDRAFT_CACHE_DIR to a writable directory, or use --no-cache.",
        ),
        ("models directory", models_dir, "Set SPECDRAFT_MODELS_DIR to a writable directory to pull models."),
        (
            "config directory",
            lambda: user_config_path().parent,
            "Set XDG_CONFIG_HOME to a writable directory.",
        ),
    ]
    for name, where, fix in places:
        try:
            path = where()
        except SpecdraftError as exc:
            report.add(name, "warn", exc.message, exc.hint)
            continue
        ok, probe = _writable(path)
        if ok:
            report.add(name, "ok", f"{path} (writable)")
        else:
            report.add(name, "warn", f"{path} is not writable ({probe})", fix)


def _check_ssh_keygen(report: DoctorReport) -> None:
    found = shutil.which("ssh-keygen")
    if found:
        report.add("ssh-keygen", "ok", found)
    else:
        report.add(
            "ssh-keygen",
            "warn",
            "not found (needed only for signed approvals)",
            "Install OpenSSH (e.g. apt install openssh-client) to sign approvals.",
        )


__all__ = ["DoctorCheck", "DoctorReport", "ModelFile", "run_doctor"]
