"""``specdraft batch --via batch-api`` and ``--via jsonl`` / ``--ingest`` against the stand-in Batch API
(helpers.batch_server) and the fake model server (helpers.fault_server), on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from helpers.batch_server import BatchServer
from typer.testing import CliRunner

from agent.cli.main import app

BODY = (
    "Users need {what}. The feature must work for teams of every size, keep an audit trail of changes, "
    "and respect the permissions of each workspace. Support staff should be able to see what happened."
)
ENV = {"COLUMNS": "200", "OPENAI_API_KEY": "sk-test-batch-key"}


def write_briefs(directory: Path, count: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        name = f"feature-{index:02d}"
        (directory / f"{name}.md").write_text(
            f"# Feature {index:02d} {WORDS[index % len(WORDS)]}\n\n{BODY.format(what=name)}\n",
            encoding="utf-8",
        )
    return directory


WORDS = (
    "invoices",
    "webhooks",
    "exports",
    "invites",
    "billing",
    "search",
    "audit",
    "alerts",
    "tags",
    "teams",
)


def via_api(server: BatchServer, *args: str) -> Any:
    return CliRunner().invoke(
        app,
        [
            "batch",
            *args,
            "--via",
            "batch-api",
            "--provider",
            "openai",
            "--base-url",
            server.base_url,
            "--model",
            "gpt-4o-mini",
            "--poll",
            "0.01",
        ],
        env=ENV,
    )


def report(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return data


def test_smoke(tmp_path: Path, batch_server: BatchServer) -> None:
    briefs = write_briefs(tmp_path / "briefs", 2)
    out = tmp_path / "out"
    result = via_api(batch_server, str(briefs), "-o", str(out), "--template", "adr")
    print(result.output)
    assert result.exit_code == 0, result.output
