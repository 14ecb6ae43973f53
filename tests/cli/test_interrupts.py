"""Interrupts and concurrent writers: never a partial or corrupt spec, never a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers.fault_server import FaultServer

from agent.io.atomic import atomic_write_text
from agent.specdoc.document import parse_spec

ROOT = Path(__file__).resolve().parents[2]
SPECDRAFT = ROOT / ".venv" / "bin" / "specdraft"
TEMPLATE = "# [FEATURE_NAME]\n\n## Summary\n[What the feature does and for whom]\n\n## Risks\n- [A risk]\n"
BRIEF = "# Invoice export\n\nUsers export their invoices as CSV files from the billing page.\n"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "brief.md").write_text(BRIEF)
    (tmp_path / "small.md").write_text(TEMPLATE)
    return tmp_path


def _start(server: FaultServer, workdir: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    args = [str(SPECDRAFT), "draft", str(workdir / "brief.md"), "-o", str(out), "--template",
            str(workdir / "small.md"), "--base-url", server.base_url, "--model", "fault-model",
            "--timeout", "60",
            *extra]  # fmt: skip
    env = {**os.environ, "COLUMNS": "120"}
    env.pop("SPECDRAFT_DEBUG", None)
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_requests(server: FaultServer, count: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while len(server.chat_requests()) < count:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the draft never reached the model"
        time.sleep(0.05)


def _leftovers(directory: Path, name: str) -> list[Path]:
    return [p for p in directory.iterdir() if p.name == name or p.name.startswith(f".{name}.")]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("existing", [False, True], ids=["new", "overwrite"])
def test_signal_during_draft_leaves_no_partial_file(
    fault_server: FaultServer, workdir: Path, sig: signal.Signals, existing: bool
) -> None:
    fault_server.slow_seconds = 120
    fault_server.plan("valid", default="slow")  # the first section answers, the next one hangs
    out = workdir / "spec.md"
    if existing:
        out.write_text("the previous spec\n")
    proc = _start(fault_server, workdir, out, "--parallel", "1", *(["--force"] if existing else []))
    try:
        _wait_for_requests(fault_server, 2, proc)  # mid-draft: one section done, one in flight
        started = time.monotonic()
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert time.monotonic() - started < 10, "the interrupt is acted on at once"
    assert proc.returncode == 130, (proc.returncode, stderr)
    assert "Interrupted" in stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    if existing:
        assert out.read_text() == "the previous spec\n", "an interrupted --force leaves the old spec intact"
        assert _leftovers(workdir, "spec.md") == [out]
    else:
        assert _leftovers(workdir, "spec.md") == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_while_waiting_for_the_server_list(workdir: Path, sig: signal.Signals) -> None:
    """Interrupted before any section: while asking a hanging server which model it serves."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections, never answers
    try:
        port = listener.getsockname()[1]
        env = {**os.environ, "COLUMNS": "120"}
        proc = subprocess.Popen(
            [str(SPECDRAFT), "draft", str(workdir / "brief.md"), "-o", str(workdir / "spec.md"),
             "--base-url", f"http://127.0.0.1:{port}/v1"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(2.0)
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=30)
    finally:
        listener.close()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert _leftovers(workdir, "spec.md") == []


def test_interrupt_during_the_write_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "spec.md"
    out.write_text("old\n")

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(out, "new " * 100_000)
    assert out.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["spec.md"]


def test_two_processes_writing_the_same_output_never_corrupt_it(
    fault_server: FaultServer, workdir: Path
) -> None:
    out = workdir / "spec.md"
    procs = [_start(fault_server, workdir, out, "--force", "--parallel", "2") for _ in range(3)]
    results = [proc.communicate(timeout=120) for proc in procs]
    codes = [proc.returncode for proc in procs]
    assert codes == [0, 0, 0], [r[1] for r in results]
    text = out.read_text()
    doc = parse_spec(text)  # a whole spec from one of the writers, not an interleaving
    assert [s.title for s in doc.sections] == ["Summary", "Risks"]
    assert text.count("## Summary") == 1 and text.endswith("\n")
    assert _leftovers(workdir, "spec.md") == [out]


def test_concurrent_atomic_writes_leave_one_whole_version(tmp_path: Path) -> None:
    """Many writers, big payloads: a reader only ever sees one writer's complete text."""
    import threading

    out = tmp_path / "spec.md"
    payloads = [f"writer {i}\n" + (f"{i}" * 200_000) + "\nend\n" for i in range(8)]
    seen: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            if out.exists():
                seen.append(out.read_text())

    watcher = threading.Thread(target=reader)
    watcher.start()
    writers = [
        threading.Thread(target=atomic_write_text, args=(out, text)) for text in payloads for _ in range(3)
    ]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    watcher.join()
    assert out.read_text() in payloads
    assert seen and all(text in payloads for text in seen)
    assert [p.name for p in tmp_path.iterdir()] == ["spec.md"]
