"""The review page in tests: an app over a folder of specs, and a client that passed the token."""

from __future__ import annotations

import shutil
from pathlib import Path

from starlette.testclient import TestClient

from agent.web.app import ServeSettings, create_app

DATA = Path(__file__).resolve().parents[1] / "data" / "specs"
TOKEN = "test-token-0123456789"
ORIGIN = {"Origin": "http://testserver"}


def spec_folder(tmp_path: Path) -> Path:
    """tmp_path/specs with clean.md (lints clean) and flawed.md (findings on known lines)."""
    folder = tmp_path / "specs"
    folder.mkdir()
    for name in ("clean.md", "flawed.md"):
        shutil.copyfile(DATA / name, folder / name)
    return folder


def client(
    folders: list[Path], *, ssh_keys: list[Path] | None = None, signers: Path | None = None
) -> TestClient:
    settings = ServeSettings(folders, TOKEN, {"testserver"}, ssh_keys=ssh_keys or [], allowed_signers=signers)
    test_client = TestClient(create_app(settings))
    assert test_client.get(f"/?token={TOKEN}").status_code == 200  # sets the cookie
    return test_client


def csrf(test_client: TestClient) -> str:
    guard = test_client.app.state.review.guard  # type: ignore[attr-defined]
    return str(guard.csrf)
