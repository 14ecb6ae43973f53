"""Doctor checks of the model server: the API key (set or not, never its value) and GET /models."""

from __future__ import annotations

import os
import time
from dataclasses import replace

from agent.cli.diagnostics.report import DoctorReport
from agent.errors import ProbeError, SpecdraftError
from agent.io.config import KEY_ENV
from agent.io.redact import display_url
from agent.llm.providers import OPENAI_BASE_URL, ModelSettings, Provider, api_key_from_environment
from agent.llm.server_models import ServedModels, served_models
from agent.models.select import ResolvedModel


def check_key(report: DoctorReport, provider: Provider) -> None:
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


def check_provider(
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
    urls = settings.base_url or ((OPENAI_BASE_URL,) if provider is Provider.openai else ())
    if not urls:
        report.add(
            "provider", "fail", "compatible: no base_url", "Set base_url, SPECDRAFT_BASE_URL or --base-url."
        )
        return
    if len(urls) == 1:
        _get_models(report, provider.value, urls[0], settings, timeout)
        return
    # Several servers: each is checked; while one answers, drafting goes on without the others.
    checks = []
    for number, url in enumerate(urls, start=1):
        _get_models(report, f"{provider.value} server {number} of {len(urls)}", url, settings, timeout)
        checks.append(report.checks[-1])
    if any(check.status == "ok" for check in checks):
        for check in checks:
            if check.status == "fail":
                check.status = "warn"
                check.fix = (check.fix or "") + " Requests go to the other servers meanwhile."


def _get_models(
    report: DoctorReport, label: str, base_url: str, settings: ModelSettings, timeout: float
) -> None:
    """GET {base_url}/models: reachable, the key accepted, and the model listed (the key is not sent to
    a server only an untrusted project file names)."""
    model = settings.model
    shown = display_url(base_url.rstrip("/"))
    key = None if settings.key_withheld else api_key_from_environment(required=False)
    try:
        served = served_models(base_url, key, timeout)
    except ProbeError as exc:
        if exc.status is not None:
            fix = (
                f"The server refused the key: check {KEY_ENV}."
                if exc.status in (401, 403)
                else "Check base_url (it usually ends in /v1)."
            )
            report.add("provider", "fail", f"{label}: {shown}/models answered HTTP {exc.status}", fix)
        else:
            report.add(
                "provider",
                "fail",
                f"{label}: cannot reach {shown} ({exc.reason})",
                "Is the server running? Check base_url (it usually ends in /v1); `specdraft config show` "
                "says where it is set.",
            )
        return
    if not served.listed:
        report.add("provider", "fail", f"{label}: {shown}/models did not answer JSON", "Check base_url.")
        return
    _models_listed(report, label, shown, served, model)


def _models_listed(
    report: DoctorReport, label: str, shown: str, served: ServedModels, model: str | None
) -> None:
    """The server answered: is the configured model among those it lists (none named: the first is used)."""
    ids = served.ids
    detail = f"{label}: {shown} answered in {served.seconds * 1000:.0f} ms, {len(ids)} model(s) listed"
    if model and ids and model not in ids:
        listed = ", ".join(ids[:5]) + (" ..." if len(ids) > 5 else "")
        missing = f"{detail}; '{model}' is not among them ({listed})"
        report.add("provider", "warn", missing, "Check the model setting.")
        return
    if not model and report.provider == "compatible" and ids:
        report.model = ids[0]
        for check in report.checks:
            if check.name == "model":
                check.detail = f"{ids[0]}: {report.model_reason}"
    report.add("provider", "ok", detail)


def _probe_embedded(report: DoctorReport, settings: ModelSettings, timeout: float) -> None:
    from agent.llm.providers import open_endpoint

    started = time.perf_counter()
    try:
        with open_endpoint(settings) as endpoint:
            probe = replace(settings, model=None)  # any model the embedded server lists will do
            _get_models(report, "local (probe)", endpoint.base_url, probe, timeout)
    except SpecdraftError as exc:
        report.add("provider", "fail", f"local: the embedded server did not start: {exc.message}", exc.hint)
        return
    report.checks[-1].detail += f"; started and stopped in {time.perf_counter() - started:.1f} s"
