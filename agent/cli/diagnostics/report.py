"""The doctor's report: one DoctorCheck per finding, the local model files, and whether a draft can run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

#: a doctor check's verdict (a spec's status is agent.specdoc.lifecycle.Status)
CheckStatus = Literal["ok", "info", "warn", "fail"]

PROBE_TIMEOUT = 5.0


@dataclass
class DoctorCheck:
    name: str
    status: CheckStatus
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

    def add(self, name: str, status: CheckStatus, detail: str, fix: str | None = None) -> DoctorCheck:
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
