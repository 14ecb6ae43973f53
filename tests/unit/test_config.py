"""Configuration files: finding them, precedence, validation errors naming file and line, no secrets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.errors import ConfigError
from agent.io.config import (
    DEFAULTS,
    INIT_TEXT,
    KEYS,
    find_key_line,
    find_project_config,
    load_config,
    user_config_path,
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A repository root (the walk stops here) with a nested working directory."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "src" / "deep").mkdir(parents=True)
    return root


def _user_file(text: str) -> Path:
    path = user_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_when_nothing_is_configured(project: Path) -> None:
    config = load_config(project, environ={})
    assert config.settings == DEFAULTS
    assert set(config.sources.values()) == {"default"}
    assert config.project_file is None
    assert not config.user_file_exists


def test_precedence_flag_env_project_user_default(project: Path) -> None:
    user = _user_file(
        'model = "user-model"\ntemperature = 0.5\nparallel = 3\nmax_retries = 5\ntimeout = 60\n'
    )
    (project / "specdraft.toml").write_text("temperature = 0.7\nparallel = 2\nmax_retries = 4\n")
    env = {"SPECDRAFT_PARALLEL": "6", "SPECDRAFT_MAX_RETRIES": "1"}
    config = load_config(project / "src" / "deep", environ=env).with_flags({"max_retries": 0, "jobs": None})
    s = config.settings
    assert (s.model, s.timeout) == ("user-model", 60.0)  # user only
    assert s.temperature == 0.7  # project over user
    assert s.parallel == 6  # env over project
    assert s.max_retries == 0  # flag over env
    assert s.jobs == DEFAULTS.jobs  # a flag not given (None) changes nothing
    assert config.sources["model"] == f"{user}:1"
    assert config.sources["timeout"] == f"{user}:5"
    assert config.sources["temperature"] == f"{project / 'specdraft.toml'}:1"
    assert config.sources["parallel"] == "env SPECDRAFT_PARALLEL"
    assert config.sources["max_retries"] == "flag --max-retries"
    assert config.sources["jobs"] == "default"


def test_walks_up_to_the_nearest_file(project: Path) -> None:
    (project / "specdraft.toml").write_text('\n\nmodel = "root"\n')
    (project / "src" / "specdraft.toml").write_text('model = "src"\n')
    config = load_config(project / "src" / "deep", environ={})
    assert config.settings.model == "src"
    assert config.project_file == project / "src" / "specdraft.toml"
    assert load_config(project, environ={}).sources["model"] == f"{project / 'specdraft.toml'}:3"


def test_walk_stops_at_the_repository_root(tmp_path: Path, project: Path) -> None:
    (tmp_path / "specdraft.toml").write_text('model = "outside the repository"\n')
    assert find_project_config(project / "src" / "deep") is None
    # a directory outside any repository still finds it
    (tmp_path / "elsewhere").mkdir()
    assert find_project_config(tmp_path / "elsewhere") is not None


def test_pyproject_without_the_table_does_not_count(project: Path) -> None:
    (project / "specdraft.toml").write_text('model = "from specdraft.toml"\n')
    (project / "src" / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.ruff]\nline-length = 100\n'
    )
    config = load_config(project / "src" / "deep", environ={})
    assert config.settings.model == "from specdraft.toml"


def test_pyproject_tool_specdraft_table(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.other]\nmodel = "not ours"\n\n'
        '[tool.specdraft]\n# a comment\nmodel = "ours"\ntemplate = "templates/mine.md"\n'
    )
    config = load_config(project / "src", environ={})
    assert config.settings.model == "ours"
    assert config.sources["model"] == f"{project / 'pyproject.toml'}:9"
    assert config.settings.template == str(project / "templates" / "mine.md")


def test_specdraft_toml_wins_over_pyproject_in_one_directory(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.specdraft]\nmodel = "pyproject"\n')
    (project / "specdraft.toml").write_text('model = "specdraft.toml"\n')
    assert load_config(project, environ={}).settings.model == "specdraft.toml"


def test_relative_paths_are_relative_to_the_file(project: Path, tmp_path: Path) -> None:
    inside = project.resolve() / "api" / "api.yaml"  # an absolute path inside the project is kept
    (project / "specdraft.toml").write_text(
        f'model_path = "models/m.gguf"\noutput_dir = "specs"\ncontext = ["docs", "{inside}"]\n'
        'template = "adr"\n'
    )
    config = load_config(project / "src" / "deep", environ={})
    assert config.settings.model_path == project / "models" / "m.gguf"
    assert config.settings.output_dir == project.resolve() / "specs"
    assert config.settings.context == [project.resolve() / "docs", inside]
    assert config.settings.template == "adr"  # a built-in name stays a name


def test_user_file_paths_are_relative_to_the_user_file(project: Path) -> None:
    user = _user_file('output_dir = "out"\n')
    assert load_config(project, environ={}).settings.output_dir == user.parent / "out"


def test_unknown_key_names_file_line_and_a_suggestion(project: Path) -> None:
    path = project / "specdraft.toml"
    path.write_text('model = "m"\n\ntemprature = 0.3\n')
    with pytest.raises(ConfigError) as caught:
        load_config(project, environ={})
    assert f"{path}:3: unknown setting 'temprature'" in str(caught.value)
    assert "Did you mean 'temperature'?" in str(caught.value)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("model = 'm'\ntemperature = 3.5\n", 2, ["temperature = 3.5", "less than or equal to 2"]),
        ("parallel = true\n", 1, ["parallel = true", "not true/false"]),
        ('provider = "skynet"\n', 1, ['provider = "skynet"', "local, openai or compatible"]),
        ('base_url = "localhost:8000"\n', 1, ["http(s) URL"]),
        ('context = "docs"\n', 1, ["context", "valid list"]),
        ("jobs = 0\n", 1, ["jobs = 0", "greater than or equal to 1"]),
        ('\n\n"timeout" = "soon"\n', 3, ["timeout", "valid number"]),
    ],
)
def test_bad_value_names_file_line_and_value(project: Path, text: str, line: int, words: list[str]) -> None:
    path = project / "specdraft.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(project, environ={})
    message = str(caught.value)
    assert f"{path}:{line}:" in message
    for word in words:
        assert word in message


def test_every_problem_of_a_file_is_listed_in_line_order(project: Path) -> None:
    path = project / "specdraft.toml"
    path.write_text("parallel = 0\nfoo = 1\njobs = -1\n")
    with pytest.raises(ConfigError) as caught:
        load_config(project, environ={})
    lines = [line.split(": ")[0] for line in str(caught.value).splitlines()[:3]]
    assert lines == [f"{path}:1", f"{path}:2", f"{path}:3"]


@pytest.mark.parametrize("key", ["api_key", "openai_api_key", "token", "API-KEY"])
def test_api_keys_are_never_read_from_files(project: Path, key: str) -> None:
    secret = "sk-proj-THISMUSTNOTLEAK0123456789"
    path = project / "specdraft.toml"
    path.write_text(f'model = "m"\n"{key}" = "{secret}"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(project, environ={})
    message = str(caught.value)
    assert f"{path}:2:" in message
    assert "OPENAI_API_KEY" in message
    assert secret not in message and "sk-proj" not in message


def test_invalid_toml_names_the_file(project: Path) -> None:
    path = project / "specdraft.toml"
    path.write_text("model = \n")
    with pytest.raises(ConfigError, match="not valid TOML") as caught:
        load_config(project, environ={})
    assert str(path) in str(caught.value)


def test_a_non_table_tool_specdraft_is_an_error(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool]\nspecdraft = "yes"\n')
    with pytest.raises(ConfigError, match=r"\[tool.specdraft\] must be a table"):
        load_config(project, environ={})


def test_environment_values_are_validated_and_named(project: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(project, environ={"SPECDRAFT_TEMPERATURE": "hot"})
    assert 'SPECDRAFT_TEMPERATURE="hot"' in str(caught.value)


def test_environment_context_is_a_path_list(project: Path) -> None:
    env = {"SPECDRAFT_CONTEXT": os.pathsep.join(["/a/docs", "/b/api.yaml", ""]), "SPECDRAFT_MODEL": " "}
    config = load_config(project, environ=env)
    assert config.settings.context == [Path("/a/docs"), Path("/b/api.yaml")]
    assert config.sources["model"] == "default"  # an empty variable counts as unset


def test_user_config_variable_must_name_a_file(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPECDRAFT_USER_CONFIG", str(project / "missing.toml"))
    with pytest.raises(ConfigError, match="SPECDRAFT_USER_CONFIG points to"):
        load_config(project, environ=dict(os.environ))


def test_user_config_variable_moves_the_user_file(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    moved = project / "mine.toml"
    moved.write_text('model = "moved"\n')
    monkeypatch.setenv("SPECDRAFT_USER_CONFIG", str(moved))
    config = load_config(project, environ=dict(os.environ))
    assert config.settings.model == "moved"
    assert config.sources["model"] == f"{moved}:1"


def test_a_flag_with_a_bad_value_is_an_error(project: Path) -> None:
    with pytest.raises(ConfigError, match="Unknown provider 'skynet'"):
        load_config(project, environ={}).with_flags({"provider": "skynet"})


def test_find_key_line_respects_tables_quotes_and_dotted_keys() -> None:
    text = 'model = "top"\n[tool.x]\nmodel = "x"\n[ tool . "specdraft" ]\n  \'model\' = "y"\n'
    assert find_key_line(text, "", "model") == 1
    assert find_key_line(text, "tool.specdraft", "model") == 5
    assert find_key_line("[tool]\nspecdraft.model = 1\n", "tool.specdraft", "model") is None
    assert find_key_line('tool.specdraft.model = "m"\n', "tool.specdraft", "model") == 1
    assert find_key_line("[context]\na = 1\n", "", "context") == 1


def test_init_text_lists_every_setting_and_is_valid_uncommented(project: Path) -> None:
    assert load_config(project, environ={}).settings == DEFAULTS
    (project / "specdraft.toml").write_text(INIT_TEXT)
    assert load_config(project, environ={}).settings == DEFAULTS  # all commented out
    lines = [line[2:] if line.startswith("# ") and " = " in line else line for line in INIT_TEXT.splitlines()]
    (project / "specdraft.toml").write_text("\n".join(lines) + "\n")
    config = load_config(project, environ={})
    assert {key for key, source in config.sources.items() if source != "default"} == set(KEYS)


def test_display_url_hides_a_password() -> None:
    from agent.io.redact import display_url

    assert display_url("http://ann:s3cret-pass@llm.internal:8000/v1") == "http://ann:***@llm.internal:8000/v1"
    assert display_url("http://llm.internal:8000/v1") == "http://llm.internal:8000/v1"


def test_a_stronger_local_provider_ignores_a_weaker_base_url(project: Path) -> None:
    user = _user_file('base_url = "http://llm.internal:8000/v1"\nmodel_path = "m.gguf"\n')
    config = load_config(project, environ={})
    # same strength: base_url and model_path from one file clash, and draft says so (neither is dropped)
    assert config.settings.base_url and config.settings.model_path
    flagged = config.with_flags({"provider": "local"})
    assert flagged.settings.base_url == ()
    assert (
        flagged.sources["base_url"] == f"ignored ({user}:1): overridden by provider local (flag --provider)"
    )
    (project / "specdraft.toml").write_text('provider = "local"\n')
    assert load_config(project, environ={}).settings.base_url == ()


def test_the_same_place_setting_local_and_base_url_keeps_both(project: Path) -> None:
    (project / "specdraft.toml").write_text('provider = "local"\nbase_url = "http://h:1/v1"\n')
    assert load_config(project, environ={}).settings.base_url == ("http://h:1/v1",)


def test_a_stronger_server_ignores_a_weaker_model_path(project: Path) -> None:
    _user_file('model_path = "m.gguf"\n')
    (project / "specdraft.toml").write_text('base_url = "http://h:1/v1"\n')
    config = load_config(project, environ={})
    assert config.settings.model_path is None
    assert "overridden by base_url" in config.sources["model_path"]
    env_path = load_config(project, environ={"SPECDRAFT_MODEL_PATH": "/x/y.gguf"})
    assert (env_path.settings.model_path, env_path.settings.base_url) == (Path("/x/y.gguf"), ())
    remote = load_config(project, environ={"SPECDRAFT_PROVIDER": "openai"})
    assert remote.settings.model_path is None and remote.settings.base_url == ("http://h:1/v1",)


GATEWAY = "https://alice:hunter2@gw.example/v1"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            [GATEWAY.replace("https", "ftp")],
            '--base-url "ftp://alice:***@gw.example/v1": should be an http(s) URL',
        ),
        ([GATEWAY, GATEWAY + "/"], '"https://alice:***@gw.example/v1/" is listed twice'),
        ([GATEWAY, "ftp://bob:pw-2@h/v1"], '"ftp://bob:***@h/v1" should be an http(s) URL'),
    ],
)
def test_bad_server_flags_are_named_masked(project: Path, flags: list[str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(project, environ={}).with_flags({"base_url": flags})
    assert message in str(caught.value)
    assert "hunter2" not in str(caught.value) and "pw-2" not in str(caught.value)


def test_servers_are_one_tuple_however_given(project: Path) -> None:
    """A flag's list, a variable's commas and a file's string or list all become the same tuple."""
    one, two = "http://a:1/v1", "http://b:2/v1/"
    (project / "specdraft.toml").write_text(f'base_url = "{one}"\n')
    assert load_config(project, environ={}).settings.base_url == (one,)
    (project / "specdraft.toml").write_text(f'base_url = ["{one}", " {two}"]\n')
    assert load_config(project, environ={}).settings.base_url == (one, two)
    variable = load_config(project, environ={"SPECDRAFT_BASE_URL": f"{one}, {two}"})
    assert variable.settings.base_url == (one, two)
    assert variable.with_flags({"base_url": [one]}).settings.base_url == (one,)
    assert variable.with_flags({"base_url": [one, two]}).settings.base_url == (one, two)


def test_a_file_nested_thousands_deep_is_a_clear_error(project: Path) -> None:
    """tomllib recurses once per level: 10,000 nested arrays ended in RecursionError."""
    (project / "specdraft.toml").write_text("context = " + "[" * 10_000 + "]" * 10_000 + "\n")
    with pytest.raises(ConfigError) as caught:
        load_config(project, environ={})
    assert "nests arrays or tables too deeply" in str(caught.value)


@pytest.mark.parametrize("value", ["inf", "1e9"])
def test_a_timeout_outside_one_second_to_a_day_is_refused(project: Path, value: str) -> None:
    (project / "specdraft.toml").write_text(f"timeout = {value}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(project, environ={})
    assert "timeout" in str(caught.value) and caught.value.exit_code == 2
