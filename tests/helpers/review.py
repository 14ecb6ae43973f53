"""The review page in tests: an app over a folder of specs, and a client that passed the token."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    folders: list[Path],
    *,
    model_url: str | None = None,
    ssh_keys: list[Path] | None = None,
    signers: Path | None = None,
) -> TestClient:
    """A client of the page over ``folders`` (refine asks the fake model at ``model_url``, when given)."""
    settings = ServeSettings(folders, TOKEN, {"testserver"}, ssh_keys=ssh_keys or [], allowed_signers=signers)
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


@dataclass
class Served:
    folder: Path
    url: str  # http://127.0.0.1:PORT

    def page(self, path: str = "/", *, token: bool = True) -> str:
        return f"{self.url}{path}" + (f"{'&' if '?' in path else '?'}token={TOKEN}" if token else "")


def ssh_key(folder: Path, email: str) -> Path:
    """A fresh ed25519 key in ``folder`` and ``folder/allowed_signers`` naming ``email`` for it."""
    folder.mkdir(parents=True, exist_ok=True)
    key = folder / "ana"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, timeout=60)
    public = key.with_suffix(".pub").read_text(encoding="utf-8")
    (folder / "allowed_signers").write_text(f"{email} {public}", encoding="utf-8")
    return key


def screenshot(driver: Any, name: str) -> None:
    """Save a screenshot to $SPECDRAFT_SCREENSHOTS (docs/images/ is filled this way), when it is set."""
    folder = os.environ.get("SPECDRAFT_SCREENSHOTS")
    if folder:
        driver.save_screenshot(str(Path(folder) / name))


def copy_spec(served: Served, source: str, name: str) -> Path:
    path = served.folder / name
    shutil.copyfile(served.folder / source, path)
    return path
