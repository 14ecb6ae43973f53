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


def client(folders: list[Path], *, model_url: str | None = None) -> TestClient:
    """A client of the page over ``folders`` (refine asks the fake model at ``model_url``, when given)."""
    settings = ServeSettings(folders, TOKEN, {"testserver"})
    if model_url is not None:
        from agent.cli.chat import refine_setup
        from agent.cli.options import ModelFlags

        setup = refine_setup(ModelFlags(base_url=[model_url], timeout=20.0), use_cache=False)
        settings.model, settings.refine_options = setup.settings, setup.options
    test_client = TestClient(create_app(settings))
    assert test_client.get(f"/?token={TOKEN}").status_code == 200  # sets the cookie
    return test_client


def csrf(test_client: TestClient) -> str:
    guard = test_client.app.state.review.guard  # type: ignore[attr-defined]
    return str(guard.csrf)
