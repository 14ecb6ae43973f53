"""The embedded model: llama.cpp's OpenAI-compatible server, run in-process by the xllamacpp wheel."""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.errors import ConfigError, ModelError
from agent.models.size import ModelSize

#: tokens of context each parallel slot gets (prompt + answer of one section)
CTX_PER_SLOT = 4096


#: speculative decoding kinds the engine offers (``Speculation.kind``)
SPECULATION_KINDS = ("draft", "ngram-simple", "ngram-mod", "ngram-map-k")


@dataclass(frozen=True)
class Speculation:
    """Speculative decoding: a small draft model (same tokenizer) or n-gram lookup proposes tokens.

    Measured slower on a 2-core CPU (docs/performance.md, ``bench/speculative.py``): the draft model's
    own decoding and the verification batch cost more than the accepted tokens save there. Off by default.
    """

    kind: str
    draft_model: Path | None = None
    #: at most this many tokens proposed per step
    max_draft_tokens: int = 8


@dataclass(frozen=True)
class EmbeddedSettings:
    model_path: Path
    model_name: str
    slots: int = 4
    ctx_per_slot: int = CTX_PER_SLOT
    threads: int | None = None
    #: llama.cpp keeps evicted slots' prompt states in host RAM for reuse; its default (8 GiB) let a
    #: single draft of the 135M model grow past 1.9 GB RSS. The shared prefix stays in the slots anyway.
    prompt_cache_ram_mib: int = 256
    #: the model's parameters as its GGUF header says (None: not read, e.g. a --model-path that is no file)
    model_size: ModelSize | None = None
    speculation: Speculation | None = None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedServer:
    """One llama.cpp server on 127.0.0.1 with a free port; stopped on ``close()`` or at exit."""

    def __init__(self, settings: EmbeddedSettings) -> None:
        self.settings = settings
        self._server: Any = None
        self.base_url = ""
        self.load_seconds = 0.0

    def start(self) -> EmbeddedServer:
        path = self.settings.model_path
        if not path.is_file():
            raise ConfigError(f"Model file '{path}' does not exist.", hint="Check --model-path.")
        _check_gguf_magic(path)
        try:
            import xllamacpp
        except ImportError:  # pragma: no cover - a broken install
            raise ConfigError(
                "The embedded engine (xllamacpp) is not installed.",
                hint="Run `make install`, or `pip install xllamacpp`.",
            ) from None
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.model_alias = [self.settings.model_name]  # a set of aliases, not one string
        params.n_parallel = self.settings.slots
        params.n_ctx = self.settings.ctx_per_slot * self.settings.slots
        params.cont_batching = True
        params.cache_prompt = True
        params.cache_ram_mib = self.settings.prompt_cache_ram_mib
        params.hostnames = ["127.0.0.1"]
        params.port = free_port()
        params.endpoint_metrics = False
        params.verbosity = -1
        params.log_json = False
        threads = self.settings.threads or max(1, os.cpu_count() or 1)
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        if self.settings.speculation is not None:
            _speculate(params, self.settings.speculation, threads, xllamacpp.common_speculative_type)
        started = time.perf_counter()
        with _quiet_stderr():
            try:
                self._server = xllamacpp.Server(params)
            except Exception as exc:
                raise ModelError(
                    f"The embedded engine could not load '{path.name}': {exc}.",
                    hint="Is it a valid GGUF model file? Try another --model-path.",
                ) from None
        self.load_seconds = time.perf_counter() - started
        self.base_url = f"http://127.0.0.1:{params.port}/v1"
        atexit.register(self.close)
        return self

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            with _quiet_stderr():
                del server

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _speculate(params: Any, speculation: Speculation, threads: int, kinds: Any) -> None:
    """Set llama.cpp's speculative decoding parameters from ``speculation``."""
    if speculation.kind not in SPECULATION_KINDS:
        raise ConfigError(
            f"Unknown speculative decoding kind {speculation.kind!r}.",
            hint=f"Use one of: {', '.join(SPECULATION_KINDS)}.",
        )
    spec = params.speculative
    if speculation.kind == "draft":
        draft = speculation.draft_model
        if draft is None or not draft.is_file():
            raise ConfigError(
                f"The draft model '{draft}' does not exist.",
                hint="Give a GGUF file with the same tokenizer as the model (e.g. its 0.5B sibling).",
            )
        _check_gguf_magic(draft)
        spec.types = [kinds.COMMON_SPECULATIVE_TYPE_DRAFT_SIMPLE]
        spec.draft.mparams.path = str(draft)
        spec.draft.n_max = speculation.max_draft_tokens
        spec.draft.n_min = 0
        spec.draft.p_min = 0.6  # propose only tokens the draft model is fairly sure of (measured setting)
        spec.draft.cpuparams.n_threads = threads
        spec.draft.cpuparams_batch.n_threads = threads
        return
    spec.types = [getattr(kinds, "COMMON_SPECULATIVE_TYPE_" + speculation.kind.upper().replace("-", "_"))]


def _check_gguf_magic(path: Path) -> None:
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic != b"GGUF":
        raise ConfigError(
            f"'{path}' is not a GGUF model file (it does not start with the GGUF magic bytes).",
            hint="Give a .gguf file made for llama.cpp, or run `specdraft models` for ones that work.",
        )


_stderr_lock = threading.Lock()


@contextlib.contextmanager
def _quiet_stderr() -> Any:
    """Silence llama.cpp's C-level log lines while it loads (unless SPECDRAFT_DEBUG is set)."""
    if os.environ.get("SPECDRAFT_DEBUG"):
        yield
        return
    with _stderr_lock:
        try:
            saved = os.dup(2)
        except OSError:
            yield
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)
