"""GET /models, the one probe of a server: what drafting (no --model) and doctor learn from it, and that a
URL's credentials never reach a message."""

from __future__ import annotations

import socket

import pytest
from helpers.fault_server import FaultServer
from pydantic import SecretStr

from agent.cli.diagnostics import run_doctor
from agent.errors import ConfigError, ModelError, ProbeError
from agent.llm.providers import ModelSettings, Provider, open_endpoint
from agent.llm.server_models import served_models

PASSWORD = "hunter2"
GATEWAY = f"https://alice:{PASSWORD}@gw.example/v1"  # no port: urllib takes "hunter2@gw.example" for one


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_the_models_listed_and_the_key_sent(fault_server: FaultServer) -> None:
    served = served_models(fault_server.base_url + "/", SecretStr("k-123"), 5)
    assert served.ids == ("fault-model",) and served.listed and served.seconds >= 0
    first = fault_server.received[-1]
    assert first.path == "/v1/models" and first.headers["authorization"] == "Bearer k-123"
    served_models(fault_server.base_url, None, 5)
    assert "authorization" not in fault_server.received[-1].headers


@pytest.mark.parametrize(
    ("reply", "ids", "listed"),
    [
        ((200, b"<html>a login page</html>"), (), False),
        ((200, b'{"object": "list", "data": []}'), (), True),
        ((200, b'{"data": [{"object": "model"}, {"id": "second"}]}'), ("second",), True),
    ],
)
def test_answers_without_a_usable_list(
    fault_server: FaultServer, reply: tuple[int, bytes], ids: tuple[str, ...], listed: bool
) -> None:
    fault_server.models_reply = reply
    served = served_models(fault_server.base_url, None, 5)
    assert (served.ids, served.listed) == (ids, listed)


def test_a_refusal_carries_its_status(fault_server: FaultServer) -> None:
    fault_server.models_reply = (401, b'{"error": {"message": "bad key"}}')
    with pytest.raises(ProbeError) as caught:
        served_models(fault_server.base_url, SecretStr("k-123"), 5)
    assert caught.value.status == 401
    assert caught.value.message == f"Cannot reach the model server at {fault_server.base_url}: Unauthorized."


def test_no_answer_masks_the_url() -> None:
    url = f"http://alice:{PASSWORD}@127.0.0.1:{closed_port()}/v1?api_key=tok-123456"
    with pytest.raises(ProbeError) as caught:
        served_models(url, None, 2)
    assert caught.value.status is None
    assert "alice:***@127.0.0.1" in str(caught.value)
    assert PASSWORD not in str(caught.value) and "tok-123456" not in str(caught.value)


def test_a_url_urllib_cannot_open_is_refused_without_its_password() -> None:
    # http.client says "nonnumeric port: 'hunter2@gw.example'": that text never reaches a message
    with pytest.raises(ProbeError) as caught:
        served_models(GATEWAY, None, 2)
    message = str(caught.value)
    assert message.startswith("Cannot reach the model server at https://alice:***@gw.example/v1: ")
    assert PASSWORD not in message and "--model" in message


def _compatible(*urls: str, model: str | None = None) -> ModelSettings:
    return ModelSettings(provider=Provider.compatible, base_url=urls, model=model, timeout=5)


def test_drafting_takes_the_first_listed_model(fault_server: FaultServer) -> None:
    with open_endpoint(_compatible(fault_server.base_url + "/")) as endpoint:
        assert endpoint.model == "fault-model" and endpoint.base_url == fault_server.base_url


def test_drafting_without_a_listed_model_says_so(fault_server: FaultServer) -> None:
    fault_server.models_reply = (200, b"not json")
    with pytest.raises(ConfigError) as caught, open_endpoint(_compatible(fault_server.base_url)):
        pass
    assert str(caught.value) == (
        f"The server at {fault_server.base_url} did not list its models.\nName the model with --model."
    )


def test_drafting_reports_every_replica_down_masked() -> None:
    urls = [f"http://alice:{PASSWORD}@127.0.0.1:{closed_port()}/v1" for _ in range(2)]
    with pytest.raises(ModelError) as caught, open_endpoint(_compatible(*urls)):
        pass
    message = str(caught.value)
    assert message.startswith("None of the model servers could be reached: Cannot reach the model server at")
    assert message.count("alice:***@127.0.0.1") == 2 and PASSWORD not in message


@pytest.mark.parametrize(
    ("reply", "words"),
    [(None, "cannot reach"), ((403, b"{}"), "answered HTTP 403"), ((200, b"<html>"), "did not answer JSON")],
    ids=["down", "refused", "html"],
)
def test_doctor_reports_the_probe(
    fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch, reply: tuple[int, bytes] | None, words: str
) -> None:
    fault_server.models_reply = reply
    url = f"http://127.0.0.1:{closed_port()}/v1" if reply is None else fault_server.base_url
    monkeypatch.setenv("SPECDRAFT_BASE_URL", url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdef")
    check = next(c for c in run_doctor(timeout=2).checks if c.name == "provider")
    assert check.status == "fail" and words in check.detail and url in check.detail
    if reply is not None:
        assert fault_server.received[-1].headers["authorization"] == "Bearer sk-test-0123456789abcdef"


@pytest.mark.parametrize("port", [True, False], ids=["refused", "unusable"])
def test_doctor_masks_credentials(monkeypatch: pytest.MonkeyPatch, port: bool) -> None:
    url = f"http://alice:{PASSWORD}@127.0.0.1:{closed_port()}/v1" if port else GATEWAY
    monkeypatch.setenv("SPECDRAFT_BASE_URL", url)
    check = next(c for c in run_doctor(timeout=2).checks if c.name == "provider")
    assert check.status == "fail" and "cannot reach" in check.detail and "alice:***@" in check.detail
    assert PASSWORD not in check.detail + (check.fix or "")
