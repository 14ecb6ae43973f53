"""``specdraft doctor``: can a draft run here, and if not, what to do. Checks only; nothing is printed.

Each check has a status: ``ok``, ``info`` (nothing to do), ``warn`` (works, but worth knowing) or ``fail``
(a draft cannot run until it is fixed). The embedded server is only started when ``probe`` is asked for.
Secrets are never part of a result: for the API key only whether the variable is set is reported.
"""

from __future__ import annotations

from agent.cli.diagnostics.files import check_ssh_keygen, check_writable
from agent.cli.diagnostics.models import check_chosen_model, check_memory, check_models
from agent.cli.diagnostics.provider import check_key, check_provider
from agent.cli.diagnostics.report import PROBE_TIMEOUT, DoctorCheck, DoctorReport, ModelFile
from agent.cli.diagnostics.settings import check_config, check_context, check_template
from agent.cli.diagnostics.software import check_engine, check_packages, check_python
from agent.io.config import Settings
from agent.llm.providers import Provider
from agent.llm.providers import model_settings as to_model_settings


def run_doctor(*, probe: bool = False, timeout: float = PROBE_TIMEOUT) -> DoctorReport:
    """Every check, in the order a person reads them: software, settings, model, provider, files."""
    report = DoctorReport()
    check_python(report)
    check_packages(report)
    config = check_config(report)
    settings = config.settings if config else Settings()
    withheld = config.key_withheld if config else None
    model_settings = to_model_settings(settings, slots=settings.parallel, key_withheld=withheld)
    provider = model_settings.provider
    report.provider = provider.value
    check_engine(report, provider)
    check_models(report)
    check_template(report, settings)
    resolved = check_chosen_model(report, provider, settings, config)
    if provider is Provider.local:
        check_memory(report, resolved, settings.parallel)
    check_key(report, provider)
    check_provider(report, provider, model_settings, resolved, probe=probe, timeout=timeout)
    check_context(report, settings, config)
    check_writable(report)
    check_ssh_keygen(report)
    return report


__all__ = ["DoctorCheck", "DoctorReport", "ModelFile", "run_doctor"]
