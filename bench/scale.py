"""Model-free commands at repository scale: lint, trace, eval and context indexing (prints figures).

    .venv/bin/python bench/scale.py                       # 1,000 specs, a 10,000-file repository
    .venv/bin/python bench/scale.py --specs 300 --files 2000 --no-cli

Generates, in a temporary directory, N drafted-looking specs (tech-spec template, front matter as
``specdraft draft`` writes it, 3 to 30 functional requirements, each spec with its recorded brief in
``briefs/`` beside ``specs/``) and a repository of F files (Python, TypeScript, Markdown, SQL, OpenAPI,
JSON, text; a .gitignore, ignored and generated folders). Then, in this one process (one core, no
threads), it does what the commands do for each spec:

  lint   load the spec, its template outline, its recorded brief's facts, every rule (goal >= 200 specs/s)
  trace  load the spec and build the requirement matrix                            (goal >= 200 specs/s)
  eval   load the spec, outline and brief facts and score it (no drafting)          (goal >= 50 specs/s)
  index  walk, chunk and BM25-index the repository as ``--context`` does            (goal < 5 s)
  select the context chosen for each section of the tech-spec template            (goal < 50 ms each)

and, unless --no-cli, runs ``specdraft lint DIR``, ``specdraft eval`` over every spec and one
``specdraft trace`` as subprocesses, so the start-up cost is visible. Rates are per CPU second
(process time), so other work on the machine slows them less than wall time; the figures measured
before the optimisation (BEFORE, with the commit) are printed beside the live ones.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.checks.lint import lint_document  # noqa: E402
from agent.cli.review import brief_facts  # noqa: E402
from agent.context.retrieval import index_context  # noqa: E402
from agent.signoff.eval import score  # noqa: E402
from agent.specdoc.document import load_spec  # noqa: E402
from agent.specdoc.template_resolver import load_template, spec_outline  # noqa: E402
from agent.specdoc.trace import trace_document  # noqa: E402

#: figures measured with this script on unchanged code (commit 7c93715, 2026-11-29, 1,000 specs and
#: 10,000 files, the machine's 2 cores shared with other work): specs per CPU second, CPU seconds, CPU ms.
BEFORE_COMMIT = "7c93715"
BEFORE: dict[str, float] = {
    "lint": 29.8,
    "lint (no brief)": 33.1,
    "trace": 225,
    "eval": 22.9,
    "cli lint DIR": 29.5,
    "cli eval FILES": 23.8,
    "cli trace 1 spec": 0.46,
    "index (s)": 3.74,
    "select median (ms)": 32.2,
    "select p95 (ms)": 42.9,
}

GOALS = {"lint": 200.0, "trace": 200.0, "eval": 50.0}

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
    "tenant",
    "quota",
    "session",
    "cache",
    "ledger",
    "refund",
    "schedule",
    "notify",
    "archive",
    "import",
    "filter",
    "badge",
    "comment",
]
UNITS = ("ms", "s", "requests per second", "MB", "%", "rows", "minutes")


# -- specs ------------------------------------------------------------------------------------------


def _front_matter(n: int, title: str, brief_sha: str, template_sha: str, rng: random.Random) -> str:
    prompt = rng.randint(20_000, 90_000)
    completion = rng.randint(5_000, 25_000)
    return (
        "---\n"
        f"description: Technical Specifications - {title}\n"
        "type: tech-specs\n"
        f"priority: {rng.choice(['high', 'medium', 'low'])}\n"
        "status: DRAFT\n"
        "language: en\n"  # every drafted spec records its language (lint then reads it, not the body)
        "specdraft:\n"
        "  model: smollm2-135m-instruct\n"
        "  provider: local\n"
        "  template: tech-spec\n"
        f"  template_sha256: {template_sha}\n"
        "  version: 0.1.0\n"
        f"  brief_sha256: {brief_sha}\n"
        "  usage:\n"
        f"    prompt_tokens: {prompt}\n"
        f"    cached_prompt_tokens: {prompt * 2 // 3}\n"
        f"    completion_tokens: {completion}\n"
        f"    total_tokens: {prompt + completion}\n"
        f"    calls: {rng.randint(16, 40)}\n"
        f"    retries: {rng.randint(0, 12)}\n"
        f"    seconds: {rng.randint(100, 600)}.{rng.randint(0, 9)}\n"
        f"  settings_sha256: {hashlib.sha256(str(n).encode()).hexdigest()}\n"
        f"  brief: ../briefs/brief-{n:04d}.md\n"
        "---\n"
    )


def _requirements(topic: list[str], count: int, rng: random.Random) -> str:
    lines = []
    for i in range(1, count + 1):
        a, b = rng.sample(WORDS, 2)
        verb = rng.choice(["create", "list", "revoke", "export"])
        lines.append(
            f"- [ ] **FR-{i:03d}**: The {topic[0]} service lets an admin {verb} "
            f"{a} records filtered by {b} within {rng.randint(2, 90)} {rng.choice(UNITS)}"
        )
    return "\n".join(lines) + "\n"


def generate_specs(directory: Path, count: int) -> list[Path]:
    """``count`` specs in ``directory/specs`` and their briefs in ``directory/briefs`` (a git tree)."""
    (directory / ".git").mkdir(parents=True)
    specs, briefs = directory / "specs", directory / "briefs"
    specs.mkdir()
    briefs.mkdir()
    template_sha = load_template("tech-spec").sha256
    sources = [
        ROOT / "tests" / "data" / "specs" / "clean.md",
        ROOT / "tests" / "data" / "specs" / "flawed.md",
    ]
    bodies = [p.read_text(encoding="utf-8").split("\n---\n", 1)[1] for p in sources]
    rng = random.Random(7)
    paths = []
    for n in range(count):
        topic = rng.sample(WORDS, 2)
        title = f"{topic[0].capitalize()} {topic[1]} {n}"
        brief = (
            f"# {title}\n\nAdmins need to {topic[0]} {topic[1]} records from the web app and the API. "
            f"Up to {rng.randint(2, 50)} million rows per tenant, "
            f"answered within {rng.randint(1, 9) * 100} ms; "
            f"built on PostgreSQL and FastAPI, with an audit trail kept {rng.randint(30, 400)} days.\n"
        )
        (briefs / f"brief-{n:04d}.md").write_text(brief, encoding="utf-8")
        body = bodies[n % len(bodies)]
        body = re.sub(r"^# (.+)$", f"# Technical Specifications: {title}", body, count=1, flags=re.M)
        frs = rng.choice((3, 5, 8, 12, 20, 30))
        body = re.sub(
            r"(### Functional Requirements\n)(?:- .*\n)+",
            lambda m, k=frs, t=topic: m.group(1) + _requirements(t, k, rng),
            body,
            count=1,
        )
        body = re.sub(
            r"(### Unit Testing\n)",
            lambda m, k=frs: m.group(1) + f"- Covers FR-001..{min(k, 6):03d} and FR-{k:03d}\n",
            body,
            count=1,
        )
        body = re.sub(r"\b(\d{2,4})\b(?! ?\*\*)", lambda m: str(int(m.group(1)) + rng.randint(0, 9)), body)
        sha = hashlib.sha256(brief.encode()).hexdigest()
        path = specs / f"spec-{n:04d}.md"
        path.write_text(_front_matter(n, title, sha, template_sha, rng) + body, encoding="utf-8")
        paths.append(path)
    return paths


# -- a repository -----------------------------------------------------------------------------------


def _size(rng: random.Random, mean: int) -> int:
    """A log-normal file size with the given mean (most files small, a few large), 60 B .. 60 KB."""
    sigma = 0.9
    mu = math.log(mean) - sigma * sigma / 2
    return max(60, min(60_000, int(rng.lognormvariate(mu, sigma))))


def _python(rng: random.Random, size: int) -> str:
    out = ['"""Module docstring."""', "from __future__ import annotations", "import os", ""]
    while sum(map(len, out)) < size:
        a, b = rng.sample(WORDS, 2)
        out += [
            f"def {a}_{b}_{rng.randint(0, 999)}(items: list[str], limit: int = 9) -> int:",
            f'    """Count the {a} entries of each {b}."""',
            f"    return sum(1 for item in items if '{a}' in item)[:limit]",
            "",
        ]
    return "\n".join(out) + "\n"


def _typescript(rng: random.Random, size: int) -> str:
    out = ["import { api } from './api';", ""]
    while sum(map(len, out)) < size:
        a, b = rng.sample(WORDS, 2)
        out += [
            f"export async function load{a.capitalize()}{b.capitalize()}(id: string): Promise<number> {{",
            f"  const res = await api.get(`/api/v1/{a}s/${{id}}/{b}`);",
            "  return res.data.count;",
            "}",
            "",
        ]
    return "\n".join(out) + "\n"


def _markdown(rng: random.Random, size: int) -> str:
    out = [f"# {rng.choice(WORDS).capitalize()} guide", ""]
    while sum(map(len, out)) < size:
        a, b, c = rng.sample(WORDS, 3)
        out += [
            f"## {a.capitalize()} and {b}",
            "",
            f"The {a} service stores each {b} with its {c}; a request over {rng.randint(1, 900)} ms is "
            f"logged, and {c} rows older than {rng.randint(7, 400)} days are archived nightly.",
            "",
        ]
    return "\n".join(out) + "\n"


def _sql(rng: random.Random, size: int) -> str:
    out = []
    while sum(map(len, out)) < size:
        a, b = rng.sample(WORDS, 2)
        out.append(
            f"CREATE TABLE {a}_{b}_{rng.randint(0, 99)} (\n  id bigserial PRIMARY KEY,\n"
            f"  {b}_id bigint NOT NULL,\n  created_at timestamptz NOT NULL DEFAULT now()\n);\n"
        )
    return "\n".join(out)


def _openapi(rng: random.Random, size: int) -> str:
    out = ["openapi: 3.0.0", "info:", "  title: API", "  version: 1.0.0", "paths:"]
    while sum(map(len, out)) < size:
        a, b = rng.sample(WORDS, 2)
        out += [
            f"  /api/v1/{a}s/{{id}}/{b}{rng.randint(0, 999)}:",
            "    get:",
            f"      summary: The {b} of one {a}",
            "      responses:",
            "        '200':",
            "          description: OK",
        ]
    return "\n".join(out) + "\n"


def _config(rng: random.Random, size: int) -> str:
    out = ["name: ci", "on:", "  push:", "    branches: [main]", "jobs:"]
    while sum(map(len, out)) < size:
        a, b = rng.sample(WORDS, 2)
        out += [
            f"  {a}-{b}-{len(out)}:",
            "    runs-on: ubuntu-latest",
            "    steps:",
            f"      - run: make {a}",
        ]
    return "\n".join(out) + "\n"


def _yaml(rng: random.Random, size: int) -> str:
    """One YAML file in six is an OpenAPI description, the rest CI and deployment configuration."""
    return _openapi(rng, size) if rng.random() < 1 / 6 else _config(rng, size)


def _json(rng: random.Random, size: int) -> str:
    data: dict[str, object] = {}
    while len(json.dumps(data)) < size:
        data[f"{rng.choice(WORDS)}_{len(data)}"] = {
            "enabled": rng.random() < 0.5,
            "limit": rng.randint(1, 9999),
        }
    return json.dumps(data, indent=2) + "\n"


def _text(rng: random.Random, size: int) -> str:
    out = []
    while sum(map(len, out)) < size:
        out.append(" ".join(rng.choices(WORDS, k=12)) + ".\n")
    return "\n".join(out)


KINDS: list[tuple[str, Callable[[random.Random, int], str], float]] = [
    (".py", _python, 0.34),
    (".ts", _typescript, 0.22),
    (".md", _markdown, 0.14),
    (".sql", _sql, 0.03),
    (".yaml", _yaml, 0.03),
    (".json", _json, 0.08),
    (".txt", _text, 0.06),
    (".log", _text, 0.05),  # ignored by the .gitignore
    (".png", _text, 0.05),  # binary, skipped
]


def generate_repository(root: Path, files: int, mean: int) -> int:
    """``files`` files under ``root`` in nested packages; returns the bytes written."""
    rng = random.Random(11)
    root.mkdir(parents=True)
    (root / ".gitignore").write_text("*.log\n/tmp/\ngenerated/\n!keep.log\n", encoding="utf-8")
    ignored_dirs = [root / "tmp", root / "node_modules" / "left-pad", root / "src" / "generated"]
    total = 0
    suffixes = [k[0] for k in KINDS]
    weights = [k[2] for k in KINDS]
    makers = {k[0]: k[1] for k in KINDS}
    for n in range(files):
        if n % 20 == 0:  # 5% in ignored or skipped folders
            folder = ignored_dirs[n // 20 % len(ignored_dirs)]
        else:
            folder = (
                root / rng.choice(("src", "web", "docs", "services", "db")) / f"pkg{n % 97}" / f"mod{n % 7}"
            )
        folder.mkdir(parents=True, exist_ok=True)
        suffix = rng.choices(suffixes, weights)[0]
        path = folder / f"{rng.choice(WORDS)}_{n}{suffix}"
        if suffix == ".png":
            data = b"\x89PNG\r\n\x1a\n\0" + rng.randbytes(_size(rng, mean))
        else:
            data = makers[suffix](rng, _size(rng, mean)).encode()
        path.write_bytes(data)
        total += len(data)
    return total


# -- measuring --------------------------------------------------------------------------------------


def _cpu(run: Callable[[], object]) -> tuple[float, float]:
    start, wall = time.process_time(), time.perf_counter()
    run()
    return time.process_time() - start, time.perf_counter() - wall


def lint_one(path: Path) -> None:
    """What ``specdraft lint DIR`` does per file (the recorded brief included)."""
    doc = load_spec(path)
    outline = spec_outline(None, doc, path)
    lint_document(doc, outline, brief=brief_facts(path, doc, None), base=path.parent)


def lint_no_brief(path: Path) -> None:
    """``specdraft lint`` on a spec that records no brief: every rule but off-topic and brief-uncovered."""
    doc = load_spec(path)
    outline = spec_outline(None, doc, path)
    lint_document(doc, outline, base=path.parent)


def trace_one(path: Path) -> None:
    trace_document(load_spec(path))


def eval_one(path: Path) -> None:
    doc = load_spec(path)
    outline = spec_outline(None, doc, path)
    score(doc, outline, brief_facts(path, doc, None), path=str(path))


def _row(label: str, now: float, unit: str, goal: str, ok: bool, extra: str = "") -> None:
    before = BEFORE.get(label)
    then = f"{before:.3g}" if before is not None else "-"
    print(f"{label:<22} {then:>10} {now:>10.3g} {unit:<9} {goal:<10} {'meets' if ok else 'BELOW'}  {extra}")


def _cli(args: list[str]) -> tuple[float, float]:
    exe = ROOT / ".venv" / "bin" / "specdraft"
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "agent"]
    before = os.times()
    wall = time.perf_counter()
    subprocess.run(
        [*command, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Goals: lint and trace >= 200 specs/s, eval >= 50 specs/s on one core; indexing the "
        "repository < 5 s, context selection per section < 50 ms (median and p95).",
    )
    parser.add_argument("--specs", type=int, default=1000, help="specs to generate and check (default 1000)")
    parser.add_argument(
        "--files", type=int, default=10_000, help="files in the generated repository (default 10000)"
    )
    parser.add_argument(
        "--file-bytes",
        type=int,
        default=760,
        help="mean file size in bytes (log-normal; default 760, so the indexed text stays under the "
        "8 MiB --context limit)",
    )
    parser.add_argument("--no-cli", action="store_true", help="skip the end-to-end `specdraft` runs")
    parser.add_argument("--skip-context", action="store_true", help="skip the repository part")
    parser.add_argument("--skip-specs", action="store_true", help="skip lint, trace and eval")
    args = parser.parse_args()

    print(f"before: commit {BEFORE_COMMIT} (measured on unchanged code); now: this checkout")
    print(f"{'figure':<22} {'before':>10} {'now':>10} {'unit':<9} {'goal':<10}")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        if not args.skip_specs:
            paths = generate_specs(base / "specs-tree", args.specs)
            for label, run in (
                ("lint", lint_one),
                ("lint (no brief)", lint_no_brief),
                ("trace", trace_one),
                ("eval", eval_one),
            ):
                cpu, wall = _cpu(lambda run=run: [run(p) for p in paths])
                rate = len(paths) / cpu if cpu else float("inf")
                goal = GOALS[label.split()[0]]
                _row(
                    label,
                    rate,
                    "specs/s",
                    f">= {goal:.0f}",
                    rate >= goal,
                    f"({len(paths)} specs, {wall:.2f} s wall)",
                )
            if not args.no_cli:
                folder = paths[0].parent
                for label, argv in (
                    ("cli lint DIR", ["lint", str(folder), "--json"]),
                    ("cli eval FILES", ["eval", *map(str, paths), "--json"]),
                ):
                    cpu, wall = _cli(argv)
                    rate = len(paths) / cpu if cpu else float("inf")
                    goal = GOALS[label.split()[1]]
                    _row(
                        label,
                        rate,
                        "specs/s",
                        f">= {goal:.0f}",
                        rate >= goal,
                        f"({cpu:.2f} s CPU, {wall:.2f} s wall)",
                    )
                cpu, wall = _cli(["trace", str(paths[0]), "--json"])
                _row("cli trace 1 spec", cpu, "s CPU", "start-up", True, f"({wall:.2f} s wall)")
        if not args.skip_context:
            repo = base / "repo"
            written = generate_repository(repo, args.files, args.file_bytes)
            cwd = Path.cwd()
            os.chdir(base)
            try:
                holder: list[object] = []
                cpu, wall = _cpu(lambda: holder.append(index_context([str(repo)])))
            finally:
                os.chdir(cwd)
            pack = holder[0]
            assert hasattr(pack, "for_brief")
            walked = pack.walk  # type: ignore[attr-defined]
            extra = (
                f"({args.files} files, {written / 2**20:.1f} MiB; {len(walked.files)} indexed, "
                f"{len(pack.chunks)} chunks; {wall:.2f} s wall)"  # type: ignore[attr-defined]
            )
            _row("index (s)", cpu, "s CPU", "< 5", cpu < 5, extra)
            template = load_template("tech-spec")
            brief = "Export invoices to CSV\nAdmins export invoice records filtered by tenant and date."
            pack = pack.for_brief(brief)  # type: ignore[attr-defined]
            times = []
            for section in template.sections:
                query = f"Export invoices to CSV\n{section.title}\n{section.source}"
                start = time.process_time()
                pack.section_chunks(query)
                times.append((time.process_time() - start) * 1000)
            times.sort()
            p95 = times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)]
            median = statistics.median(times)
            _row("select median (ms)", median, "ms CPU", "< 50", median < 50, f"({len(times)} sections)")
            _row("select p95 (ms)", p95, "ms CPU", "< 50", p95 < 50)


if __name__ == "__main__":
    main()
