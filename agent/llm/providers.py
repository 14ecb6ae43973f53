"""Model providers, one code path: every provider is an OpenAI-compatible chat endpoint.

* ``local`` (default): the embedded llama.cpp server with the bundled model, a pulled model or any GGUF;
* ``openai``: api.openai.com with OPENAI_API_KEY from the environment;
* ``compatible``: any ``--base-url`` (vLLM, Ollama, LM Studio, a llama.cpp server, a gateway).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from pydantic import SecretStr

from agent.errors import ConfigError, InputError, ModelError
from agent.io.config import Settings
from agent.io.redact import display_url
from agent.llm.embedded import EmbeddedSettings
from agent.llm.server_models import served_models
from agent.models.size import ModelSize, size_from_name

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
OPENAI_BASE_URL = "https://api.openai.com/v1"
# The embedded server needs no key; the OpenAI client insists on one.
NO_KEY = "no-key-needed"


class Provider(str, Enum):
    local = "local"
    openai = "openai"
    compatible = "compatible"


@dataclass(frozen=True)
class ModelSettings:
    """What an endpoint and its client need: built from the configuration by :func:`model_settings`.

    Sampling settings (temperature, re-asks) are not here: they travel with each request's options.
    """

    #: the provider in force: a base_url with the default provider means a compatible server
    provider: Provider = Provider.local
    model: str | None = None
    #: every server, as configured (several: replicas serving the same model); () for none
    base_url: tuple[str, ...] = ()
    model_path: Path | None = None
    timeout: float = 300.0
    #: server slots: requests the embedded server answers at once
    slots: int = 4
    #: transport-level retries (429, 5xx, connection errors), done by the OpenAI SDK with backoff
    http_retries: int = 3
    seed: int | None = 42
    #: answer identical requests from the disk cache (agent.llm.response_cache); --no-cache turns it off
    use_cache: bool = True
    #: why OPENAI_API_KEY must not be sent (a server only an untrusted project file names), else None
    key_withheld: str | None = None

    def __post_init__(self) -> None:
        # mypy catches this in agent/; a test or bench script giving one URL as a string would otherwise
        # be read as one server per character
        if isinstance(self.base_url, str):
            raise TypeError("ModelSettings.base_url is a tuple of URLs, not a string")


def model_settings(
    settings: Settings, *, slots: int, use_cache: bool = True, key_withheld: str | None = None
) -> ModelSettings:
    """The one conversion of the configuration in force (agent.io.config) into what an endpoint needs.

    The configuration has validated every value, so nothing is checked again; the provider is resolved
    here, once: a base_url with the default provider means an OpenAI-compatible server.
    """
    provider = Provider(settings.provider)
    if settings.base_url and provider is Provider.local:
        provider = Provider.compatible
    return ModelSettings(
        provider=provider,
        model=settings.model,
        base_url=settings.base_url,
        model_path=settings.model_path,
        timeout=settings.timeout,
        slots=slots,
        use_cache=use_cache,
        key_withheld=key_withheld,
    )


@dataclass
class Endpoint:
    provider: Provider
    base_url: str
    model: str
    api_key: SecretStr = field(repr=False)
    #: llama.cpp accepts extra sampling parameters (repeat_penalty) in the request body
    accepts_sampling_extras: bool = False
    load_seconds: float = 0.0
    notice: str | None = None
    #: what makes two endpoints give the same answers, for the response cache key (never the key)
    cache_identity: str = ""
    #: every server of a compatible endpoint given several --base-url (base_url is the first), else ()
    replicas: tuple[str, ...] = ()
    #: the model's parameters from its GGUF (the embedded engine); None: a remote model, sized by its name
    size: ModelSize | None = None

    @property
    def model_size(self) -> ModelSize:
        """How big the served model is, for the re-ask policy: its file's count, else what its name says."""
        return self.size if self.size is not None else size_from_name(self.model)


@contextmanager
def open_endpoint(settings: ModelSettings) -> Iterator[Endpoint]:
    """Yield a ready endpoint; the embedded server, when used, is stopped on exit."""
    provider = settings.provider
    if provider is Provider.openai:
        yield _openai_endpoint(settings)
    elif provider is Provider.compatible:
        yield _compatible_endpoint(settings)
    else:
        from agent.llm.embedded import EmbeddedServer

        embedded_settings, notice = _embedded_settings(settings)
        server = EmbeddedServer(embedded_settings).start()
        try:
            yield Endpoint(
                provider=Provider.local,
                base_url=server.base_url,
                model=embedded_settings.model_name,
                api_key=SecretStr(NO_KEY),
                accepts_sampling_extras=True,
                load_seconds=server.load_seconds,
                notice=notice,
                cache_identity=_file_identity(embedded_settings.model_path),
                size=embedded_settings.model_size,
            )
        finally:
            server.close()


def api_key_from_environment(*, required: bool) -> SecretStr | None:
    key = os.environ.get("OPENAI_API_KEY", "").strip()
    if not key:
        if required:
            raise ConfigError(
                "--provider openai needs an API key, and OPENAI_API_KEY is not set.",
                hint="Export OPENAI_API_KEY=... in your shell (keys are read only from the environment).",
            )
        return None
    return SecretStr(key)


def _openai_endpoint(settings: ModelSettings) -> Endpoint:
    if settings.model_path:
        raise InputError(
            "--model-path serves a GGUF on the embedded engine; it cannot be used with --provider openai."
        )
    if len(settings.base_url) > 1:
        raise InputError(
            "--provider openai takes one --base-url; several servers need --provider compatible."
        )
    if settings.key_withheld:
        raise ConfigError(
            f"Not sending OPENAI_API_KEY: {settings.key_withheld}.",
            hint="Or name the server yourself with --base-url or SPECDRAFT_BASE_URL.",
        )
    key = api_key_from_environment(required=True)
    assert key is not None
    base_url = settings.base_url[0] if settings.base_url else OPENAI_BASE_URL
    model = settings.model or DEFAULT_OPENAI_MODEL
    return Endpoint(
        provider=Provider.openai,
        base_url=base_url,
        model=model,
        api_key=key,
        cache_identity=f"openai {base_url} {model}",
    )


def _compatible_endpoint(settings: ModelSettings) -> Endpoint:
    if not settings.base_url:
        raise ConfigError("--provider compatible needs --base-url, e.g. http://localhost:8000/v1.")
    if settings.model_path:
        raise InputError(
            "--model-path serves a GGUF on the embedded engine; it cannot be combined with --base-url."
        )
    # validated once, with the configuration (agent.io.config.Settings); the request paths go after "/"
    urls = tuple(url.rstrip("/") for url in settings.base_url)
    withheld = settings.key_withheld
    key = SecretStr(NO_KEY) if withheld else api_key_from_environment(required=False) or SecretStr(NO_KEY)
    model = settings.model or _first_served_model_of(urls, key, settings.timeout)
    return Endpoint(
        notice=f"No API key sent: {withheld}." if withheld else None,
        provider=Provider.compatible,
        base_url=urls[0],
        model=model,
        api_key=key,
        cache_identity=f"compatible {' '.join(sorted(urls))} {model}",
        replicas=urls if len(urls) > 1 else (),
    )


def _first_served_model_of(urls: tuple[str, ...], key: SecretStr, timeout: float) -> str:
    """The model the first reachable server serves (a replica that is down now is tried later)."""
    failures: list[str] = []
    for url in urls:
        try:
            return _first_served_model(url, key, timeout)
        except ModelError as exc:
            if len(urls) == 1:
                raise
            failures.append(exc.message)
    raise ModelError(
        "None of the model servers could be reached: " + " ".join(failures),
        hint="Are the servers running? Check each --base-url (they usually end in /v1).",
    )


def _file_identity(path: Path) -> str:
    """A GGUF is known by its resolved path and size (a re-pulled or replaced file gets a new identity)."""
    try:
        resolved = path.expanduser().resolve()
        return f"local {resolved} {resolved.stat().st_size}"
    except OSError:
        return f"local {path}"


def _first_served_model(base_url: str, key: SecretStr, timeout: float) -> str:
    """The first model the server lists (GET /models, which also proves it is reachable)."""
    served = served_models(base_url, key, min(timeout, 15))
    if not served.ids:
        raise ConfigError(
            f"The server at {display_url(base_url.rstrip('/'))} did not list its models.",
            hint="Name the model with --model.",
        )
    return served.ids[0]


def _embedded_settings(settings: ModelSettings) -> tuple[EmbeddedSettings, str | None]:
    """The GGUF to serve: --model-path, a pulled model named by --model, or the default local model."""
    from agent.models.select import any_gguf, fit_server, resolve_local_model

    wanted = max(1, settings.slots)
    if settings.model_path is not None:
        path = settings.model_path.expanduser()
        if not path.is_file():  # the embedded server reports it, naming --model-path
            return EmbeddedSettings(model_path=path, model_name=path.stem, slots=wanted), None
        resolved = any_gguf(path)
    else:
        resolved = resolve_local_model(settings.model)
    fit = fit_server(resolved, wanted)
    embedded = EmbeddedSettings(
        model_path=resolved.path,
        model_name=resolved.name,
        slots=fit.slots,
        ctx_per_slot=max(1, fit.n_ctx // fit.slots),
        model_size=resolved.size,
    )
    unknown_size = _unknown_size_notice(resolved.name, resolved.size)
    notices = [text for text in (resolved.notice, fit.notice, unknown_size) if text]
    return embedded, " ".join(notices) or None


def _unknown_size_notice(name: str, size: ModelSize) -> str | None:
    """Say so when a local model's header gives no parameter count: drafting then treats it as large."""
    if size.params is not None:
        return None
    return (
        f"The parameter count of {name} could not be read from its GGUF header; "
        'drafts use the re-ask policy for large models (docs/drafting.md, "The re-ask policy").'
    )
