"""Doctor checks of the software: Python, package versions, the embedded engine."""

from __future__ import annotations

import importlib
import importlib.metadata
import sys

from agent import __version__
from agent.cli.diagnostics.report import CheckStatus, DoctorReport
from agent.llm.providers import Provider

#: the packages whose versions a bug report needs; the required ones fail the check when missing
PACKAGES = ("specdraft", "openai", "langchain-core", "langchain-openai", "pydantic", "typer", "xllamacpp")
REQUIRED = ("openai", "langchain-core", "langchain-openai", "pydantic", "typer")


def check_python(report: DoctorReport) -> None:
    version = ".".join(str(v) for v in sys.version_info[:3])
    report.add("python", "ok", f"Python {version} ({sys.executable})")


def _package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return __version__ if name == "specdraft" else None


def check_packages(report: DoctorReport) -> None:
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


def check_engine(report: DoctorReport, provider: Provider) -> None:
    try:
        importlib.import_module("xllamacpp")
    except Exception as exc:  # an ImportError, or a broken native library
        status: CheckStatus = "fail" if provider is Provider.local else "warn"
        report.add(
            "embedded engine",
            status,
            f"xllamacpp cannot be imported ({type(exc).__name__}: {str(exc)[:160]})",
            "pip install --force-reinstall xllamacpp, or use --provider openai / --base-url",
        )
        return
    report.add("embedded engine", "ok", "xllamacpp imports")
