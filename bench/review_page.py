"""Benchmark: how long the review page (`specdraft serve`) takes to answer.

Serves a temporary folder through the ASGI app in-process (Starlette's test client: the server's work,
no network) and prints, in milliseconds:

* the page of one ~300-line spec with findings (tests/data/specs/flawed.md: 306 lines, 14 findings):
  lint, verify, trace and the Markdown rendering are redone on every load;
* the list of 200 specs (100 clean, 100 flawed, each with its own title): the first load lints all of
  them, later loads reuse each row until its file changes; and after one file changed.

Run: ``python bench/review_page.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from starlette.testclient import TestClient  # noqa: E402

from agent.web.app import ServeSettings, create_app  # noqa: E402

SPECS = ROOT / "tests" / "data" / "specs"
TOKEN = "bench"


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def get(client: TestClient, url: str) -> None:
    answer = client.get(url)
    assert answer.status_code == 200, (url, answer.status_code, answer.text[:200])


def make_specs(folder: Path, count: int) -> None:
    for n in range(count):
        source = SPECS / ("clean.md" if n % 2 == 0 else "flawed.md")
        text = source.read_text(encoding="utf-8")
        text = text.replace("# Technical Specifications:", f"# Technical Specifications {n:03d}:", 1)
        (folder / f"spec-{n:03d}.md").write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="loads per measurement (median shown)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        one, many = Path(tmp) / "one", Path(tmp) / "many"
        one.mkdir()
        many.mkdir()
        shutil.copyfile(SPECS / "flawed.md", one / "spec.md")
        make_specs(many, 200)
        lines = len((one / "spec.md").read_text(encoding="utf-8").splitlines())
        client = TestClient(create_app(ServeSettings([one, many], TOKEN, {"testserver"})))
        get(client, f"/spec/0/spec.md?token={TOKEN}")  # the cookie, imports, caches of lint
        spec = [timed(lambda: get(client, "/spec/0/spec.md")) for _ in range(args.runs)]
        history = [timed(lambda: get(client, "/history/0/spec.md")) for _ in range(args.runs)]
        # the list: one root of 200 specs (the other root holds the one spec)
        listing = TestClient(create_app(ServeSettings([many], TOKEN, {"testserver"})))
        cold = timed(lambda: get(listing, f"/?token={TOKEN}"))
        warm = [timed(lambda: get(listing, "/")) for _ in range(args.runs)]
        path = many / "spec-007.md"
        path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        one_changed = timed(lambda: get(listing, "/"))
    print(
        f"spec page, {lines}-line spec with findings: median {statistics.median(spec):.0f} ms "
        f"(min {min(spec):.0f}, max {max(spec):.0f}; {args.runs} loads)"
    )
    print(f"history page of that spec: median {statistics.median(history):.0f} ms")
    print(
        f"list of 200 specs: first load {cold:.0f} ms (lints all 200), then median "
        f"{statistics.median(warm):.0f} ms (rows reused), {one_changed:.0f} ms after one file changed"
    )


if __name__ == "__main__":
    main()
