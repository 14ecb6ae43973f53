"""`specdraft config show`, `specdraft init`, and draft/batch/refine options falling back to configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.fault_server import FaultServer
from typer.testing import CliRunner

from agent.cli.main import app
from agent.io.config import KEYS, user_config_path

TEMPLATE = "# [FEATURE_NAME]\n\n## Summary\n[What the feature does and for whom]\n"
BRIEF = "# CSV export\n\nUsers export their invoices as CSV files from the billing page.\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "briefs").mkdir()
    (root / "briefs" / "csv-export.md").write_text(BRIEF)
    (root / "small.md").write_text(TEMPLATE)
    monkeypatch.chdir(root / "briefs")
    return root


def _run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200", "OPENAI_API_KEY": "", **(env or {})})
    return result.exit_code, result.stdout, result.stderr


def _show(env: dict[str, str] | None = None) -> dict[str, dict[str, object]]:
    code, out, err = _run(["config", "show", "--json"], env)
    assert code == 0, err
    return {row["key"]: row for row in json.loads(out)["settings"]}


def test_config_show_reports_each_source(project: Path) -> None:
    user = user_config_path()
    user.parent.mkdir(parents=True)
    user.write_text('model = "user-model"\ntemperature = 0.5\njobs = 8\n')
    (project / "specdraft.toml").write_text("# project\ntemperature = 0.7\nparallel = 2\n")
    rows = _show({"SPECDRAFT_PARALLEL": "5"})
    assert set(rows) == set(KEYS)
    assert rows["model"] == {
        "key": "model",
        "value": "user-model",
        "source": f"{user}:1",
        "env": "SPECDRAFT_MODEL",
    }
    assert (rows["temperature"]["value"], rows["temperature"]["source"]) == (
        0.7,
        f"{project}/specdraft.toml:2",
    )
    assert (rows["parallel"]["value"], rows["parallel"]["source"]) == (5, "env SPECDRAFT_PARALLEL")
    assert (rows["jobs"]["value"], rows["jobs"]["source"]) == (8, f"{user}:3")
    assert (rows["timeout"]["value"], rows["timeout"]["source"]) == (300.0, "default")

    code, out, _ = _run(["config", "show"], {"SPECDRAFT_PARALLEL": "5"})
    assert code == 0
    assert "env SPECDRAFT_PARALLEL" in out and f"{project}/specdraft.toml:2" in out
    assert f"Project file: {project}/specdraft.toml" in out
    assert "by model size" in out  # max_retries unset: the re-ask policy chooses


def test_config_show_bad_file_exits_2_naming_file_and_line(project: Path) -> None:
    (project / "specdraft.toml").write_text('model = "m"\napi_key = "sk-live-abcdef123456"\n')
    code, out, err = _run(["config", "show"])
    assert code == 2
    assert f"{project}/specdraft.toml:2" in err and "OPENAI_API_KEY" in err
    assert "sk-live" not in out + err


def test_init_writes_a_commented_file_and_never_overwrites(project: Path) -> None:
    code, out, err = _run(["init", str(project)])
    assert code == 0, err
    assert f"Wrote {project}/specdraft.toml" in out
    written = (project / "specdraft.toml").read_text()
    assert all(f"# {key} = " in written for key in KEYS)
    assert _show()["provider"]["source"] == "default"  # everything commented out

    (project / "specdraft.toml").write_text('model = "mine"\n')
    code, _, err = _run(["init", str(project)])
    assert code == 2
    assert "already exists; not overwriting it" in err
    assert (project / "specdraft.toml").read_text() == 'model = "mine"\n'


def test_init_defaults_to_the_working_directory_and_refuses_a_missing_one(project: Path) -> None:
    code, _, err = _run(["init"])
    assert code == 0, err
    assert (project / "briefs" / "specdraft.toml").is_file()
    code, _, err = _run(["init", str(project / "nope")])
    assert code == 2 and "is not a directory" in err
    assert not (project / "nope").exists()


def _temperatures(server: FaultServer) -> set[float]:
    return {r.body["temperature"] for r in server.chat_requests()}


def test_draft_takes_unset_options_from_configuration(project: Path, fault_server: FaultServer) -> None:
    (project / "specdraft.toml").write_text(
        f'base_url = "{fault_server.base_url}"\nmodel = "fault-model"\ntemplate = "small.md"\n'
        'temperature = 0.7\noutput_dir = "specs"\nmax_retries = 0\n'
    )
    code, out, err = _run(["draft", "csv-export.md", "--quiet"])
    assert code == 0, err
    spec = project / "specs" / "csv-export.md"  # output_dir from the file, relative to it
    assert spec.is_file() and "## Summary" in spec.read_text()
    assert out == ""
    assert _temperatures(fault_server) == {0.7}


def test_flag_beats_env_beats_project_beats_user(project: Path, fault_server: FaultServer) -> None:
    user = user_config_path()
    user.parent.mkdir(parents=True)
    user.write_text(f'base_url = "{fault_server.base_url}"\ntemperature = 0.1\nmodel = "fault-model"\n')
    (project / "specdraft.toml").write_text(f'template = "{project}/small.md"\ntemperature = 0.3\n')
    args = ["draft", "csv-export.md", "-o", "-", "--quiet"]
    for env, flags, expected in [
        ({}, [], 0.3),
        ({"SPECDRAFT_TEMPERATURE": "0.6"}, [], 0.6),
        ({"SPECDRAFT_TEMPERATURE": "0.6"}, ["--temperature", "0.9"], 0.9),
    ]:
        fault_server.received.clear()
        code, out, err = _run(args + flags, env)
        assert code == 0, err
        assert "## Summary" in out
        assert _temperatures(fault_server) == {expected}
    (project / "specdraft.toml").unlink()
    fault_server.received.clear()
    code, _, err = _run([*args, "--template", str(project / "small.md")])
    assert code == 0, err
    assert _temperatures(fault_server) == {0.1}


def test_a_flag_overrides_a_dead_configured_server(project: Path, fault_server: FaultServer) -> None:
    (project / "specdraft.toml").write_text('base_url = "http://127.0.0.1:9/v1"\ntemplate = "small.md"\n')
    code, _, err = _run(["draft", "csv-export.md", "-o", "-", "-q"])
    assert code == 1 and "Cannot reach the model server at http://127.0.0.1:9/v1" in err
    code, _, err = _run(["draft", "csv-export.md", "-o", "-", "-q", "--base-url", fault_server.base_url])
    assert code == 0, err


def test_draft_with_a_bad_configuration_exits_2_before_any_model_work(
    project: Path, fault_server: FaultServer
) -> None:
    (project / "specdraft.toml").write_text(f'base_url = "{fault_server.base_url}"\nparralel = 2\n')
    code, _, err = _run(["draft", "csv-export.md"])
    assert code == 2
    assert f"{project}/specdraft.toml:2: unknown setting 'parralel'. Did you mean 'parallel'?" in err
    assert fault_server.received == []


def test_batch_uses_configured_output_dir_and_jobs(project: Path, fault_server: FaultServer) -> None:
    (project / "specdraft.toml").write_text(
        f'base_url = "{fault_server.base_url}"\ntemplate = "small.md"\noutput_dir = "out"\njobs = 2\n'
    )
    code, out, err = _run(["batch", str(project / "briefs"), "--json", "-q"])
    assert code == 0, err
    assert json.loads(out)["totals"]["ok"] == 1
    assert (project / "out" / "report.json").is_file()
    assert len(list((project / "out").glob("*.md"))) == 1


def test_batch_without_any_output_dir_says_how_to_give_one(project: Path) -> None:
    code, _, err = _run(["batch", str(project / "briefs")])
    assert code == 2 and "-o DIR" in err and "output_dir" in err


def test_help_still_shows_the_defaults() -> None:
    code, out, _ = _run(["draft", "--help"])
    assert code == 0
    flat = " ".join(out.split())
    for shown in ("[default: (local)]", "[default: (0.2)]", "[default: (300.0)]", "[default: (tech-spec)]"):
        assert shown in flat
    assert "specdraft config show" in flat


def test_draft_from_stdin_into_the_configured_output_dir(project: Path, fault_server: FaultServer) -> None:
    (project / "specdraft.toml").write_text(
        f'base_url = "{fault_server.base_url}"\ntemplate = "small.md"\noutput_dir = "specs"\n'
    )
    result = CliRunner().invoke(app, ["draft", "-", "-q"], input=BRIEF, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    assert (project / "specs" / "csv-export.md").is_file()  # named after the brief's title


def test_refine_takes_the_server_and_temperature_from_configuration(
    project: Path, fault_server: FaultServer
) -> None:
    spec = project / "spec.md"
    spec.write_bytes((Path(__file__).parents[1] / "data" / "specs" / "clean.md").read_bytes())
    (project / "specdraft.toml").write_text(f'base_url = "{fault_server.base_url}"\ntemperature = 0.45\n')
    code, _, err = _run(["refine", str(spec), "-m", "Use PostgreSQL for storage"])
    assert fault_server.chat_requests(), err  # the configured server was asked
    assert 0.45 in _temperatures(fault_server)
    assert code == 0, err


def test_config_show_hides_a_password_in_base_url(project: Path) -> None:
    (project / "specdraft.toml").write_text('base_url = "https://ann:hunter2-secret@gw.example/v1"\n')
    for args in (["config", "show"], ["config", "show", "--json"]):
        code, out, err = _run(args)
        assert code == 0, err
        assert "hunter2" not in out and "ann:***@gw.example" in out


@pytest.mark.parametrize("args", [["--help"], ["config", "--help"], ["config", "trust", "--help"]])
def test_help_names_the_pyproject_table(args: list[str]) -> None:
    """Rich markup read `[tool.specdraft]` as a style tag and dropped it from the help."""
    code, out, _ = _run(args)
    assert code == 0
    assert "[tool.specdraft] in pyproject.toml" in " ".join(out.split())


def test_timeout_inf_on_the_command_line_is_refused(project: Path) -> None:
    code, _, err = _run(["draft", str(project / "briefs" / "csv-export.md"), "--timeout", "inf"])
    assert code == 2 and "--timeout" in err
