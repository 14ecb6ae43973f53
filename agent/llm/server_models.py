"""Which models an OpenAI-compatible server serves: ``GET {base_url}/models``, the one probe of a server.

The compatible endpoint asks it for the model to use when none is named (agent.llm.providers); doctor
asks it whether each server answers, takes the key and lists the configured model
(agent.cli.diagnostics.provider). Every URL in a message goes through the one masker (``display_url``).
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from agent.errors import ProbeError
from agent.io.redact import display_url


@dataclass(frozen=True)
class ServedModels:
    """A server's answer to ``GET /models``."""

    #: the model ids it lists, in its order (none when ``listed`` is False)
    ids: tuple[str, ...]
    #: how long it took to answer
    seconds: float
    #: False when the answer was not JSON (then ``ids`` is empty)
    listed: bool = True


#: why a URL the configuration accepted cannot be asked (http.client's own text would quote the password)
UNUSABLE_URL = (
    "its address cannot be opened to list the models (user:password@ in it is not supported there, "
    "nor a port that is not a number)"
)


def _failed(
    server: str,
    reason: str,
    *,
    status: int | None = None,
    hint: str = "Is the server running? Check --base-url (it usually ends in /v1).",
) -> ProbeError:
    message = f"Cannot reach the model server at {display_url(server)}: {reason}."
    return ProbeError(message, reason=reason, status=status, hint=hint)


def served_models(base_url: str, key: SecretStr | None, timeout: float) -> ServedModels:
    """Ask the server at ``base_url`` which models it serves (this also proves it is reachable), sending
    ``key`` as a bearer token when there is one. ProbeError (agent.errors) when it does not answer or
    refuses."""
    server = base_url.rstrip("/")
    headers = {"Authorization": f"Bearer {key.get_secret_value()}"} if key is not None else {}
    request = urllib.request.Request(f"{server}/models", headers=headers)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise _failed(server, str(exc.reason), status=exc.code) from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise _failed(server, str(getattr(exc, "reason", exc))) from None
    except http.client.InvalidURL:  # "nonnumeric port: 'PASSWORD@host'": never quoted
        raise _failed(server, UNUSABLE_URL, hint="Name the model with --model to skip asking.") from None
    except http.client.HTTPException as exc:  # a reply cut off or not HTTP
        raise _failed(server, f"a broken answer ({type(exc).__name__})") from None
    seconds = time.perf_counter() - started
    try:
        payload = json.loads(body)
    except ValueError:
        return ServedModels((), seconds, listed=False)
    return ServedModels(_model_ids(payload), seconds)


def _model_ids(payload: Any) -> tuple[str, ...]:
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        return ()
    return tuple(str(item["id"]) for item in data if isinstance(item, dict) and "id" in item)
