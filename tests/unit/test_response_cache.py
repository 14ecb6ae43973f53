"""The response cache: identical requests answered from disk, bounded, cleared, never holding a key."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from helpers.fault_server import FaultServer
from typer.testing import CliRunner

from agent.cli.main import app
from agent.errors import ConfigError
from agent.llm.response_cache import (
    CachedAnswer,
    ResponseCache,
    default_cache_dir,
    default_max_bytes,
    request_key,
)

TEMPLATE = "# [FEATURE_NAME]\n\n## Summary\n[What the feature does and for whom]\n\n## Risks\n- [A risk]\n"
BRIEF = "# CSV export\n\nUsers export their invoices as CSV files from the billing page, by date range.\n"
FAKE_KEY = "sk-test-cache-0123456789abcdefghij"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "brief.md").write_text(BRIEF)
    (tmp_path / "small.md").write_text(TEMPLATE)
    return {"brief": tmp_path / "brief.md", "template": tmp_path / "small.md", "out": tmp_path / "spec.md"}


def draft(server: FaultServer, files: dict[str, Path], *extra: str) -> tuple[int, dict[str, object], str]:
    args = ["draft", str(files["brief"]), "-o", str(files["out"]), "--force", "--json",
            "--template", str(files["template"]), "--base-url", server.base_url,
            "--model", "fault-model", "--parallel", "1", "--max-retries", "1", *extra]  # fmt: skip
    result = CliRunner().invoke(app, args, env={"COLUMNS": "120", "OPENAI_API_KEY": FAKE_KEY})
    summary = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.exit_code, summary, result.stderr


def body_of(spec: Path) -> str:
    return spec.read_text().split("\n---\n", 1)[1]


def cache_files() -> list[Path]:
    return sorted(default_cache_dir().rglob("*.json"))


# -- through the CLI ------------------------------------------------------------------------------


def test_an_identical_draft_is_answered_from_the_cache(
    fault_server: FaultServer, files: dict[str, Path]
) -> None:
    code, _, err = draft(fault_server, files)
    assert code == 0, err
    body = body_of(files["out"])
    assert len(fault_server.chat_requests()) == 2
    assert len(cache_files()) == 2

    code, second, err = draft(fault_server, files)
    assert code == 0, err
    assert len(fault_server.chat_requests()) == 2, "no new request reached the server"
    assert body_of(files["out"]) == body, "the same spec, apart from the usage in the front matter"
    assert "response_cache_hits: 2" in files["out"].read_text()
    tokens = second["tokens"]
    assert isinstance(tokens, dict)
    assert tokens["response_cache_hits"] == 2 and tokens["model_calls"] == 0 and tokens["prompt_tokens"] == 0


def test_no_cache_asks_the_model_and_stores_nothing(
    fault_server: FaultServer, files: dict[str, Path]
) -> None:
    assert draft(fault_server, files)[0] == 0
    code, summary, err = draft(fault_server, files, "--no-cache")
    assert code == 0, err
    assert len(fault_server.chat_requests()) == 4
    tokens = summary["tokens"]
    assert isinstance(tokens, dict) and tokens["response_cache_hits"] == 0


def test_a_changed_brief_misses(fault_server: FaultServer, files: dict[str, Path]) -> None:
    assert draft(fault_server, files)[0] == 0
    files["brief"].write_text(BRIEF.replace("date range", "customer"))
    assert draft(fault_server, files)[0] == 0
    assert len(fault_server.chat_requests()) == 4


def test_a_rerun_replays_rejected_answers_and_their_re_asks(
    fault_server: FaultServer, files: dict[str, Path]
) -> None:
    fault_server.plan("invalid")  # Summary's first answer fails validation, the re-ask passes
    code, first, err = draft(fault_server, files)
    assert code == 0, err
    assert len(fault_server.chat_requests()) == 3
    assert len(cache_files()) == 3, "the rejected answer is kept with the others"
    body = body_of(files["out"])
    # A re-run sends the same first request, gets the same rejected answer, sends the same re-ask:
    # the whole draft is replayed without the server, retries included.
    code, second, err = draft(fault_server, files)
    assert code == 0, err
    assert len(fault_server.chat_requests()) == 3
    assert body_of(files["out"]) == body
    tokens = second["tokens"]
    assert isinstance(tokens, dict) and tokens["response_cache_hits"] == 3
    assert second["retries"] == first["retries"] == 1


def test_the_cache_holds_no_key_and_no_brief(fault_server: FaultServer, files: dict[str, Path]) -> None:
    assert draft(fault_server, files)[0] == 0
    for path in cache_files():
        text = path.read_text()
        assert FAKE_KEY not in text
        assert "billing page" not in text, "requests are kept only as their digest"


def test_cache_command_shows_and_clears(fault_server: FaultServer, files: dict[str, Path]) -> None:
    assert draft(fault_server, files)[0] == 0
    runner = CliRunner()
    info = runner.invoke(app, ["cache", "--json"])
    assert info.exit_code == 0
    stats = json.loads(info.stdout)
    assert stats["entries"] == 2 and stats["bytes"] > 0 and stats["directory"] == str(default_cache_dir())
    human = runner.invoke(app, ["cache"])
    assert "Answers:   2" in human.stdout

    cleared = runner.invoke(app, ["cache", "clear"])
    assert cleared.exit_code == 0 and "Removed 2 cached answers" in cleared.stdout
    assert cache_files() == []
    assert draft(fault_server, files)[0] == 0
    assert len(fault_server.chat_requests()) == 4, "after clearing, the model is asked again"


def test_a_bad_size_bound_is_a_clear_error(
    fault_server: FaultServer, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPECDRAFT_CACHE_MAX_MB", "lots")
    code, _, err = draft(fault_server, files)
    assert code == 2
    assert "SPECDRAFT_CACHE_MAX_MB='lots'" in err and "Traceback" not in err
    assert fault_server.chat_requests() == []


# -- the cache itself ------------------------------------------------------------------------------


def answer(text: str) -> CachedAnswer:
    return CachedAnswer(text=text, finish_reason="stop", prompt_tokens=100, completion_tokens=20)


BASE = {"messages": [{"role": "user", "content": "x"}], "schema": {"type": "object"}, "temperature": 0.2,
        "seed": 42, "max_tokens": 100, "repeat_penalty": 1.0}  # fmt: skip


@pytest.mark.parametrize(
    "change",
    [
        {"messages": [{"role": "user", "content": "y"}]},
        {"schema": {"type": "array"}},
        {"temperature": 0.45},
        {"seed": 7},
        {"max_tokens": 200},
        {"repeat_penalty": 1.15},
    ],
    ids=["messages", "schema", "temperature", "seed", "max_tokens", "repeat_penalty"],
)
def test_every_part_of_the_request_is_in_the_key(change: dict[str, object]) -> None:
    assert request_key("local m 1", BASE) != request_key("local m 1", {**BASE, **change})


def test_the_model_identity_is_in_the_key_and_dict_order_is_not() -> None:
    assert request_key("local a.gguf 1", BASE) != request_key("local b.gguf 1", BASE)
    assert request_key("m", BASE) == request_key("m", dict(reversed(list(BASE.items()))))


def test_round_trip_and_a_damaged_entry_is_a_miss(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path, 10_000_000)
    cache.put("ab" + "0" * 62, answer("hello"))
    assert cache.get("ab" + "0" * 62) == answer("hello")
    damaged = tmp_path / "cd" / ("cd" + "0" * 62 + ".json")
    damaged.parent.mkdir()
    damaged.write_text('{"text": ')
    assert cache.get("cd" + "0" * 62) is None
    assert not damaged.exists(), "a damaged entry is removed"
    assert (cache.hits, cache.misses) == (1, 1)


def test_the_bound_evicts_the_least_recently_used(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path, 2_500)
    keys = [f"{i:02x}" + "0" * 62 for i in range(4)]
    for n, key in enumerate(keys[:3]):
        cache.put(key, answer("x" * 700))
        old = time.time() - 100 + n
        os.utime(cache._path(key), (old, old))
    assert cache.get(keys[0]) is not None  # touched: now the most recently used
    cache.put(keys[3], answer("x" * 700))  # over 2,500 bytes: the oldest unused entries go
    assert cache.stats().bytes <= 2_500
    assert cache.get(keys[0]) is not None and cache.get(keys[3]) is not None
    assert cache.get(keys[1]) is None


def test_a_zero_bound_stores_nothing(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path, 0)
    cache.put("ab" + "0" * 62, answer("hello"))
    assert cache.get("ab" + "0" * 62) is None and cache.stats().entries == 0


def test_clear_removes_only_cache_entries(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path, 10_000_000)
    cache.put("ab" + "0" * 62, answer("hello"))
    (tmp_path / "notes.txt").write_text("not ours")
    removed = cache.clear()
    assert removed.entries == 1
    assert (tmp_path / "notes.txt").read_text() == "not ours"
    assert cache.stats().entries == 0


def test_size_bound_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPECDRAFT_CACHE_MAX_MB", "1.5")
    assert default_max_bytes() == int(1.5 * 1024 * 1024)
    monkeypatch.setenv("SPECDRAFT_CACHE_MAX_MB", "-3")
    with pytest.raises(ConfigError, match="not a size in megabytes"):
        default_max_bytes()
