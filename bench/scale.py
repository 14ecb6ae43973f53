"""Model-free commands at repository scale (prints figures; not a test).

    .venv/bin/python bench/scale.py              # 1,000 generated specs
    .venv/bin/python bench/scale.py --specs 200

Generates N specs from the specs in tests/data/specs (each copy with its own title, IDs' texts and
figures, so no two files are identical), then times, on one core (one process, no threads):
``lint`` over every spec (goal: at least 200 specs/s).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.signoff.lint import lint_path  # noqa: E402

WORDS = [
    "invoice",
    "export",
    "audit",
    "search",
    "billing",
    "upload",
    "webhook",
    "retry",
    "invite",
    "token",
    "report",
    "role",
]


def generate(directory: Path, count: int) -> list[Path]:
    sources = sorted((ROOT / "tests" / "data" / "specs").glob("*.md"))
    texts = [p.read_text(encoding="utf-8") for p in sources]
    rng = random.Random(7)
    paths = []
    for n in range(count):
        text = texts[n % len(texts)]
        topic = " ".join(rng.sample(WORDS, 2))
        text = re.sub(r"^# (.+)$", f"# Technical Specifications: {topic} {n}", text, count=1, flags=re.M)
        text = re.sub(r"\b(\d{2,4})\b", lambda m: str(int(m.group(1)) + rng.randint(0, 9)), text)
        path = directory / f"spec-{n:04d}.md"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def timed(label: str, paths: list[Path], run: object, goal: float) -> None:
    assert callable(run)
    start = time.process_time()
    wall = time.perf_counter()
    for path in paths:
        run(path)
    cpu = time.process_time() - start
    elapsed = time.perf_counter() - wall
    rate = len(paths) / cpu if cpu else float("inf")
    verdict = "meets" if rate >= goal else "below"
    print(f"{label:<10} {len(paths):>6} {cpu:>8.2f} {elapsed:>8.2f} {rate:>10.0f} {goal:>6.0f}  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = generate(Path(tmp), args.specs)
        print(f"{'command':<10} {'specs':>6} {'cpu s':>8} {'wall s':>8} {'specs/s':>10} {'goal':>6}")
        timed("lint", paths, lint_path, 200)


if __name__ == "__main__":
    main()
