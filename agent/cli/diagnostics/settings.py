"""Doctor checks of the settings: configuration files, the template, --context paths."""

from __future__ import annotations

from agent.cli.diagnostics.report import DoctorReport
from agent.errors import SpecdraftError
from agent.io.config import EffectiveConfig, Settings, load_config


def check_config(report: DoctorReport) -> EffectiveConfig | None:
    try:
        config = load_config()
    except SpecdraftError as exc:
        report.add("configuration", "fail", exc.message, exc.hint or "Fix the file or variable it names.")
        return None
    project = str(config.project_file) if config.project_file else "no project file"
    user = str(config.user_file) + ("" if config.user_file_exists else " (not present)")
    report.add("configuration", "ok", f"project: {project}; user: {user}")
    return config


def check_template(report: DoctorReport, settings: Settings) -> None:
    from agent.specdoc.template_resolver import load_template

    try:
        template = load_template(settings.template)
    except SpecdraftError as exc:
        report.add("template", "fail", exc.message, exc.hint or "Check the template setting.")
        return
    report.add("template", "ok", f"{template.path} ({len(template.sections)} sections)")


def check_context(report: DoctorReport, settings: Settings, config: EffectiveConfig | None) -> None:
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
