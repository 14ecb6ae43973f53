"""``specdraft serve``: what it refuses before listening (the page itself is tested in tests/web)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from helpers.cli import invoke

from agent.cli.serve import is_loopback, served_folders


def test_a_host_other_than_loopback_needs_allow_remote(tmp_path: Path) -> None:
    code, out, err = invoke("serve", tmp_path, "--host", "0.0.0.0", "--port", "0")
    assert code == 2 and "--host 0.0.0.0 would let others on the network reach" in err
    assert "--allow-remote" in err and "Traceback" not in err and out == ""


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.5", False),
        ("example.org", False),
    ],
)
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_missing_folder_and_a_busy_port_are_named(tmp_path: Path) -> None:
    code, _, err = invoke("serve", tmp_path / "nowhere", "--port", "0")
    assert code == 2 and "is not a folder" in err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = invoke("serve", tmp_path, "--port", str(port))
    assert code == 2 and f"Cannot listen on 127.0.0.1:{port}" in err and "another --port" in err


def test_the_configured_output_dir_is_served_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specdraft.toml").write_text('output_dir = "specs"\n')
    monkeypatch.chdir(tmp_path)
    assert served_folders([]) == [(tmp_path / "specs").resolve()] or served_folders([]) == [
        tmp_path / "specs"
    ]
    (tmp_path / "specdraft.toml").unlink()
    assert served_folders([]) == [tmp_path]


def test_the_host_headers_answered() -> None:
    from agent.cli.serve import served_hosts

    assert served_hosts("127.0.0.1", 8765) == {"127.0.0.1", "127.0.0.1:8765", "localhost", "localhost:8765"}
    assert "[::1]:9000" in served_hosts("::1", 9000)
    assert served_hosts("10.0.0.5", 80) == {"10.0.0.5", "10.0.0.5:80"}
