"""Shared fixtures: cassettes recorded from the embedded model, replayed offline; the helper servers;
a clean spec on disk (``spec``) and the tech-spec template (``tech_spec``). docs/testing.md lists them.

``make cassettes`` sets SPECDRAFT_RECORD=1: the ``model_endpoint`` fixture then starts the real
embedded server and vcrpy re-records every cassette. Otherwise cassettes replay with record mode
``none`` and no server runs at all.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from agent.llm.providers import Endpoint, Provider
from agent.models.size import ModelSize
from agent.specdoc.template import SpecTemplate
from agent.specdoc.template_resolver import load_template

# The helper servers' fixtures (`fault_server`, `hub`, ...) are registered once here for every test.
pytest_plugins = [
    "helpers.fault_server",
    "helpers.batch_server",
    "helpers.hub_server",
    "helpers.fake_github",
    "helpers.package_index",
]

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = ROOT / "cassettes"
#: the model the cassettes were recorded from (name and size), written by `make cassettes`
RECORDED_MODEL = CASSETTES / "model.json"
CLEAN_SPEC = ROOT / "tests" / "data" / "specs" / "clean.md"
RECORDING = os.environ.get("SPECDRAFT_RECORD") == "1"

# Headers that may carry credentials or account ids: never written to a cassette.
FILTERED_HEADERS = [
    "authorization",
    "api-key",
    "x-api-key",
    "cookie",
    "set-cookie",
    "openai-organization",
    "openai-project",
]


@pytest.fixture(autouse=True)
def _private_response_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test gets an empty response cache: no test answers from another's (or the user's) cache."""
    monkeypatch.setenv("SPECDRAFT_CACHE_DIR", str(tmp_path_factory.mktemp("response-cache")))


@pytest.fixture(autouse=True)
def _no_user_configuration(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the user's ~/.config/specdraft files or the SPECDRAFT_* settings of the shell."""
    from agent.io.config import ENV_VARS, USER_FILE_ENV
    from agent.io.trust import TRUST_FILE_ENV

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
    for name in (*ENV_VARS.values(), USER_FILE_ENV, TRUST_FILE_ENV):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    """A copy of tests/data/specs/clean.md (a DRAFT tech spec that lints clean) at tmp_path/spec.md."""
    path = tmp_path / "spec.md"
    shutil.copyfile(CLEAN_SPEC, path)
    return path


@pytest.fixture(scope="session")
def tech_spec() -> SpecTemplate:
    """The shipped tech-spec template, compiled once for the session (tests read it, none changes it)."""
    return load_template("tech-spec")


def _json_body(request: Any) -> Any:
    body = request.body
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    try:
        return json.loads(body) if body else None
    except ValueError:
        return body


def _body_matcher(r1: Any, r2: Any) -> None:
    assert _json_body(r1) == _json_body(r2), "request bodies differ"


def _drop_response_headers(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in FILTERED_HEADERS:
            del headers[name]
    return response


def make_vcr(module: str) -> Any:
    import vcr

    recorder = vcr.VCR(
        cassette_library_dir=str(CASSETTES / module),
        record_mode="all" if RECORDING else "none",
        match_on=["method", "path", "json_body"],
        filter_headers=FILTERED_HEADERS,
        before_record_response=_drop_response_headers,
        decode_compressed_response=True,
    )
    recorder.register_matcher("json_body", _body_matcher)
    return recorder


@pytest.fixture
def cassette(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Record or replay this test's HTTP traffic in cassettes/<module>/<test>.yaml."""
    module = request.module.__name__.rsplit(".", 1)[-1]
    name = request.node.name.replace("/", "_").replace("[", "_").replace("]", "")
    path = CASSETTES / module / f"{name}.yaml"
    if RECORDING:
        path.unlink(missing_ok=True)  # re-record from scratch: no stale interactions kept
    elif not path.exists():
        pytest.fail(f"cassette {path.relative_to(ROOT)} is missing; record it with `make cassettes`")
    with make_vcr(module).use_cassette(f"{name}.yaml", allow_playback_repeats=True) as recorded:
        yield recorded


@pytest.fixture(scope="session")
def model_endpoint() -> Iterator[Endpoint]:
    """The embedded model when recording; a placeholder endpoint (never contacted) when replaying.

    ``make cassettes`` records from ``SPECDRAFT_RECORD_MODEL`` (the demo's model, pulled first) and notes
    its name and size in cassettes/model.json; replay builds the same endpoint from that note, so the
    requests (model name, the re-ask policy its size selects) repeat byte for byte.
    """
    if RECORDING:
        from agent.llm.embedded import EmbeddedServer, EmbeddedSettings
        from agent.models.select import resolve_local_model

        model = resolve_local_model(os.environ.get("SPECDRAFT_RECORD_MODEL") or None)
        note = {"name": model.name, "params": model.size.params, "params_from": model.size.source}
        RECORDED_MODEL.write_text(json.dumps(note, indent=2) + "\n", encoding="utf-8")
        settings = EmbeddedSettings(model.path, model.name, slots=2, model_size=model.size)
        with EmbeddedServer(settings) as server:
            yield _endpoint(server.base_url, model.name, model.size)
    else:
        note = json.loads(RECORDED_MODEL.read_text(encoding="utf-8"))
        yield _endpoint("http://127.0.0.1:9/v1", note["name"], ModelSize(note["params"], note["params_from"]))


def _endpoint(base_url: str, name: str, size: ModelSize) -> Endpoint:
    return Endpoint(
        Provider.local, base_url, name, SecretStr("no-key-needed"), accepts_sampling_extras=True, size=size
    )
