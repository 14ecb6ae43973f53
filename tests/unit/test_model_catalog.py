"""The model catalogue (shipped and user entries, hf:// references) and GGUF header checks."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import pytest
from helpers.hub_server import isolate_env, make_gguf

from agent.errors import ConfigError, CorruptModelError
from agent.models.bundled import BUNDLED_MODEL_NAME, bundled_model_path
from agent.models.catalog import find_model, load_catalog, parse_hf_uri, split_parts
from agent.models.gguf import check_gguf, read_gguf_info

EXPECTED = {
    "smollm2-135m-instruct",
    "qwen2.5-0.5b-instruct",
    "qwen2.5-1.5b-instruct",
    "qwen2.5-3b-instruct",
    "qwen2.5-7b-instruct",
    "llama-3.2-1b-instruct",
    "llama-3.2-3b-instruct",
    "qwen2.5-coder-0.5b-instruct",
    "qwen2.5-coder-1.5b-instruct",
    "qwen2.5-coder-3b-instruct",
    "qwen2.5-coder-7b-instruct",
}


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_env(tmp_path, monkeypatch)


def write_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    path = tmp_path / "models.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("SPECDRAFT_CONFIG", str(path))
    return path


def test_shipped_catalogue_has_the_documented_models() -> None:
    catalog = load_catalog()
    assert set(catalog) == EXPECTED
    for entry in catalog.values():
        assert entry.note and entry.license and entry.context_length >= 2048 and entry.min_ram_gb
        if entry.is_bundled:
            continue
        assert entry.repo and entry.files and all(f.endswith(".gguf") for f in entry.files)
        if entry.name.startswith("qwen2.5-coder-"):
            # the publisher's figures, pinned (see test_pypi_carrier for the values)
            assert entry.verified and entry.size_exact and entry.size_bytes
        else:
            assert entry.size_bytes and not entry.size_exact  # not verifiable without the Hub
            assert entry.sha256 == ()  # left out rather than guessed
    assert catalog["qwen2.5-7b-instruct"].repo == "bartowski/Qwen2.5-7B-Instruct-GGUF"
    assert catalog["qwen2.5-1.5b-instruct"].files == ("qwen2.5-1.5b-instruct-q4_k_m.gguf",)


def test_bundled_entry_matches_the_installed_file() -> None:
    entry = load_catalog()[BUNDLED_MODEL_NAME]
    data = bundled_model_path().read_bytes()
    assert entry.size_exact and entry.size_bytes == len(data)
    assert entry.sha256 == (hashlib.sha256(data).hexdigest(),)


def test_user_entries_are_added_and_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(
        tmp_path,
        monkeypatch,
        """
[[models]]
name = "my-model"
repo = "me/my-GGUF"
files = ["my-q8_0-00001-of-00003.gguf"]
context_length = 4096
note = "mine"

[[models]]
name = "qwen2.5-1.5b-instruct"
repo = "Qwen/Qwen2.5-1.5B-Instruct-GGUF"
files = ["qwen2.5-1.5b-instruct-q8_0.gguf"]
""",
    )
    catalog = load_catalog()
    assert catalog["my-model"].files == tuple(f"my-q8_0-0000{i}-of-00003.gguf" for i in (1, 2, 3))
    assert catalog["qwen2.5-1.5b-instruct"].files == ("qwen2.5-1.5b-instruct-q8_0.gguf",)
    assert "qwen2.5-3b-instruct" in catalog


def test_default_user_config_location(tmp_path: Path) -> None:
    path = tmp_path / "config" / "specdraft" / "models.toml"
    path.parent.mkdir(parents=True)
    path.write_text('[[models]]\nname = "x"\nrepo = "a/b"\nfiles = ["x.gguf"]\n', encoding="utf-8")
    assert "x" in load_catalog()


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ('[[models]]\nname = "x"\nrepo = "a/b"\nfiles = ["x.gguf"]\nsize = 3\n', "'x'.size"),
        ('[[models]]\nname = "x"\nrepo = "a/b"\nfiles = ["x.bin"]\n', "x.bin"),
        ('[[models]]\nname = "x"\nfiles = ["x.gguf"]\n', "repo"),
        ('[[models]]\nname = "Bad Name"\nrepo = "a/b"\nfiles = ["x.gguf"]\n', "Bad Name"),
        ('[[models]]\nname = "x"\nrepo = "a/b"\nfiles = ["x.gguf"]\nsha256 = ["abc"]\n', "abc"),
        ("[[model]]\nname = 1\n", "model"),
        ("[[models]\n", "not valid TOML"),
        ('[[models]]\nname = "smollm2-135m-instruct"\nrepo = "a/b"\nfiles = ["x.gguf"]\n', "reserved"),
    ],
)
def test_bad_user_config_is_reported_with_the_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, quoted: str
) -> None:
    path = write_config(tmp_path, monkeypatch, text)
    with pytest.raises(ConfigError) as info:
        load_catalog()
    assert str(path) in str(info.value) and quoted in str(info.value)


def test_missing_explicit_config_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPECDRAFT_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_catalog()


def test_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(ConfigError) as info:
        find_model("qwen2.5-1.5b")
    message = str(info.value)
    assert "Unknown model 'qwen2.5-1.5b'" in message and "qwen2.5-1.5b-instruct" in message
    assert "specdraft models" in message
    with pytest.raises(ConfigError, match=r"llama-3\.2-1b-instruct"):
        find_model("lama-3.2-1b")
    with pytest.raises(ConfigError) as nothing_close:
        find_model("zzzzzz")
    assert "Did you mean" not in str(nothing_close.value)


def test_names_are_case_insensitive() -> None:
    assert find_model("Qwen2.5-3B-Instruct").name == "qwen2.5-3b-instruct"


def test_hf_references() -> None:
    entry = find_model("hf://Qwen/Qwen2.5-7B-Instruct-GGUF/qwen2.5-7b-instruct-q4_k_m-00002-of-00002.gguf")
    assert entry.repo == "Qwen/Qwen2.5-7B-Instruct-GGUF"
    assert entry.files == (
        "qwen2.5-7b-instruct-q4_k_m-00001-of-00002.gguf",
        "qwen2.5-7b-instruct-q4_k_m-00002-of-00002.gguf",
    )
    pinned = parse_hf_uri("hf://me/repo@v1.0/sub/dir/model.gguf")
    assert (pinned.repo, pinned.revision, pinned.files) == ("me/repo", "v1.0", ("sub/dir/model.gguf",))
    assert pinned.hub_uri == "hf://me/repo@v1.0/sub/dir/model.gguf"
    for bad in ("hf://only-owner/file.gguf", "hf://a/b/model.bin", "hf://a/b/../x.gguf", "hf://a//x.gguf"):
        with pytest.raises(ConfigError):
            parse_hf_uri(bad)


def test_split_parts() -> None:
    assert split_parts("m.gguf") == ("m.gguf",)
    assert split_parts("d/m-00001-of-00002.gguf") == ("d/m-00001-of-00002.gguf", "d/m-00002-of-00002.gguf")
    with pytest.raises(ConfigError):
        split_parts("m-00003-of-00002.gguf")


def test_gguf_header_of_the_bundled_model() -> None:
    info = read_gguf_info(bundled_model_path())
    # SmolLM2-135M: 30 layers, 3 KV heads of 64 dims (576 / 9 heads), f16 K and V.
    assert (info.architecture, info.context_length) == ("llama", 8192)
    assert info.kv_bytes_per_token == 30 * 3 * (64 + 64) * 2


def test_gguf_header_of_a_made_file(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(make_gguf(payload_bytes=100, context_length=4096))
    assert check_gguf(path) == 3
    info = read_gguf_info(path)
    assert info.context_length == 4096 and info.kv_bytes_per_token == 2 * 2 * (16 + 16) * 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html>Not found</html>", "not a GGUF model file"),
        (b"GGUF\x03\x00", "truncated"),
        (b"GGUF" + struct.pack("<IQQ", 99, 0, 0), "unsupported GGUF version 99"),
        (b"", "not a GGUF model file"),
    ],
)
def test_corrupt_gguf_is_a_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.gguf"
    path.write_bytes(content)
    with pytest.raises(CorruptModelError, match=message) as info:
        check_gguf(path)
    assert "pull" in str(info.value)


def test_damaged_header_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "cut.gguf"
    path.write_bytes(make_gguf()[:40])
    with pytest.raises(CorruptModelError, match="damaged GGUF header"):
        read_gguf_info(path)
    with pytest.raises(CorruptModelError, match="does not exist"):
        check_gguf(tmp_path / "missing.gguf")
