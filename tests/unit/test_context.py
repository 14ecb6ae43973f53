"""--context mechanics without a model: walking, chunking, ranking, the lint rules, drift."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from agent.checks.lint import lint_document
from agent.context.chunking import Facts, chunk_file
from agent.context.retrieval import build_context
from agent.context.walk import walk_context
from agent.errors import InputError
from agent.signoff.drift import check_drift
from agent.specdoc.document import parse_spec
from agent.specdoc.template_resolver import read_template_outline, resolve_template_path

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "context" / "repo"
BRIEF = (
    "Refunds for delivered orders. Customers request a refund of an order from the orders page; "
    "support approves it and the refund is sent to the payment provider."
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The fixture repository plus what a real checkout also holds: ignored, generated and binary files."""
    root = tmp_path / "repo"
    shutil.copytree(FIXTURE, root)
    (root / ".gitignore").write_text("secret.txt\n*.log\n!keep.log\n", encoding="utf-8")
    (root / "secret.txt").write_text("refund orders secret\n", encoding="utf-8")
    (root / "debug.log").write_text("refund orders debug\n", encoding="utf-8")
    (root / "keep.log").write_text("kept by negation\n", encoding="utf-8")
    (root / "node_modules" / "left-pad").mkdir(parents=True)
    (root / "node_modules" / "left-pad" / "index.js").write_text("refund orders\n", encoding="utf-8")
    (root / "package-lock.json").write_text('{"lockfileVersion": 3}\n', encoding="utf-8")
    (root / "app" / "bundle.min.js").write_text("var refund=1;\n", encoding="utf-8")
    (root / "app" / "logo.png").write_bytes(b"\x89PNG\x00\x01\x02refund")
    (root / "big.txt").write_text("orders " * 200_000, encoding="utf-8")
    return root


def test_walk_honours_gitignore_and_skips_generated_binary_oversized(repo: Path) -> None:
    walked = walk_context([str(repo)])
    names = sorted(f.path.relative_to(repo.resolve()).as_posix() for f in walked.files)
    assert names == [
        ".gitignore",
        "api/openapi.yaml",
        "app/orders.py",
        "db/schema.sql",
        "docs/gardening-handbook.md",
        "keep.log",
    ]
    assert walked.skipped["binary"] == 1
    assert walked.skipped["oversized"] == 1
    assert walked.skipped["generated"] == 3  # node_modules, the lockfile, the minified bundle
    assert "skipped:" in walked.summary()


def test_symlink_leaving_the_tree_is_not_followed(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwords.md").write_text("# Orders\nrefund\n", encoding="utf-8")
    os.symlink(outside, repo / "escape")
    os.symlink(outside / "passwords.md", repo / "link.md")
    walked = walk_context([str(repo)])
    assert not [f for f in walked.files if "passwords" in f.path.name]
    assert walked.skipped["symlink outside the tree"] == 2


def test_unreadable_file_is_skipped_and_counted(repo: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    target = repo / "app" / "orders.py"
    target.chmod(0)
    try:
        walked = walk_context([str(repo)])
    finally:
        target.chmod(0o644)
    assert walked.skipped["unreadable"] == 1


def test_bad_context_paths_are_named(repo: Path) -> None:
    with pytest.raises(InputError, match=r"'nowhere/api\.yaml' does not exist"):
        walk_context(["nowhere/api.yaml"])
    with pytest.raises(InputError, match="matches no file"):
        walk_context([str(repo / "*.nothing")])
    with pytest.raises(InputError, match="limit of 64 KiB"):
        walk_context([str(repo)], max_total_bytes=64 * 1024)


def test_globs_select_files(repo: Path) -> None:
    walked = walk_context([str(repo / "**" / "*.sql"), str(repo / "api" / "*.yaml")])
    assert sorted(f.path.name for f in walked.files) == ["openapi.yaml", "schema.sql"]


def test_chunks_follow_the_files_structure() -> None:
    facts = Facts()
    api = chunk_file("api/openapi.yaml", (FIXTURE / "api" / "openapi.yaml").read_text(), facts)
    assert [c.label for c in api] == [
        "info",
        "GET /api/v1/orders",
        "POST /api/v1/orders",
        "GET /api/v1/orders/{id}",
        "GET /api/v1/invoices/{id}",
    ]
    sql = chunk_file("db/schema.sql", (FIXTURE / "db" / "schema.sql").read_text(), facts)
    assert [c.label for c in sql] == ["TABLE customers", "TABLE orders", "TABLE order_items"]
    code = chunk_file("app/orders.py", (FIXTURE / "app" / "orders.py").read_text(), facts)
    assert [c.label for c in code] == ["orders.py", "class Order", "def place_order", "def refund_order"]
    assert code[1].text.startswith("@dataclass")  # a decorator stays with its definition
    docs = chunk_file("docs/g.md", "# A\n\ntext\n\n## B\n\n```\n# not a heading\n```\n", facts)
    assert [c.label for c in docs] == ["A", "B"]
    assert facts.endpoints == {
        "GET /api/v1/orders",
        "POST /api/v1/orders",
        "GET /api/v1/orders/{id}",
        "GET /api/v1/invoices/{id}",
    }
    assert facts.tables == {"customers", "orders", "order_items"}


def test_ranking_keeps_the_relevant_chunks_and_not_the_large_unrelated_file() -> None:
    pack = build_context([str(FIXTURE)], BRIEF, budget=300)
    assert len(pack.chunks) > 300  # the handbook alone has hundreds of chunks
    shared = {(c.source.rsplit("/", 1)[-1], c.label) for c in pack.shared}
    assert ("orders.py", "def refund_order") in shared
    assert not [c for c in pack.shared if "gardening" in c.source]
    assert sum(c.tokens() for c in pack.shared) <= 200
    section = pack.section_chunks("Database Design: tables, columns, customer email created_at")
    assert section and not set(map(id, section)) & set(map(id, pack.shared))
    assert ("schema.sql", "TABLE customers") in {(c.source.rsplit("/", 1)[-1], c.label) for c in section}
    assert not [c for c in section if "gardening" in c.source]
    assert sum(c.tokens() for c in [*pack.shared, *section]) <= 300


SPEC = """---
status: DRAFT
specdraft:
  context:
    files:
    - path: repo/api/openapi.yaml
      sha256: x
    - path: repo/db/schema.sql
      sha256: x
---
# Technical Specifications: Refunds

## API Specifications

### Endpoints
```
GET    /api/v1/orders/:id            # (new) Get one order
POST   /api/v1/orders/{id}/refunds   # (new) Request a refund
PUT    /api/v1/orders/{id}           # (changed) Add the refund status
```

## Database Design

- **Table Name**: refunds
  - **Relationships**: order_id REFERENCES orders(id); approver_id REFERENCES support_agents(id)

ALTER TABLE order_items ADD COLUMN refunded BOOLEAN;
ALTER TABLE shipments ADD COLUMN refund_id UUID;
"""


def _lint(tmp_path: Path, text: str) -> list[tuple[str, str]]:
    shutil.copytree(FIXTURE, tmp_path / "repo", dirs_exist_ok=True)
    doc = parse_spec(text)
    outline = read_template_outline(resolve_template_path("tech-spec"))
    return [(f.rule, f.message) for f in lint_document(doc, outline, base=tmp_path) if "-" in f.rule]


def test_endpoint_conflict_and_table_unknown(tmp_path: Path) -> None:
    found = _lint(tmp_path, SPEC)
    conflicts = [m for r, m in found if r == "endpoint-conflict"]
    assert len(conflicts) == 1
    assert conflicts[0].startswith("GET /api/v1/orders/{} is marked new but already exists in the context")
    unknown = sorted(m.split("'")[1] for r, m in found if r == "table-unknown")
    assert unknown == ["shipments", "support_agents"]  # orders, order_items exist; refunds is created


def test_context_rules_need_the_provenance(tmp_path: Path) -> None:
    without = SPEC.replace("  context:\n", "  other:\n")
    found = _lint(tmp_path, without)
    assert not [r for r, _ in found if r in {"endpoint-conflict", "table-unknown"}]


def _drift_spec(tmp_path: Path) -> Path:
    pack = build_context([str(tmp_path / "repo")], BRIEF)
    from agent.context.provenance import context_provenance

    used = os.path.relpath(tmp_path / "repo" / "db" / "schema.sql")  # chunk sources are cwd-relative
    data = context_provenance(pack, tmp_path, {"database_design": [used]})
    import yaml

    text = (
        "---\n"
        + yaml.safe_dump({"status": "DRAFT", "specdraft": {"context": data}})
        + "---\n# T\n\n## A\n\nx\n"
    )
    spec = tmp_path / "spec.md"
    spec.write_text(text, encoding="utf-8")
    return spec


def test_drift_before_and_after_an_edit(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "repo")
    spec = _drift_spec(tmp_path)
    report = check_drift(parse_spec(spec.read_text(), source=str(spec)), spec)
    assert not report.drifted
    (tmp_path / "repo" / "db" / "schema.sql").write_text(
        "CREATE TABLE refunds (id UUID);\n", encoding="utf-8"
    )
    (tmp_path / "repo" / "api" / "openapi.yaml").unlink()
    (tmp_path / "repo" / "db" / "seed.sql").write_text("INSERT INTO orders VALUES (1);\n", encoding="utf-8")
    report = check_drift(parse_spec(spec.read_text(), source=str(spec)), spec)
    assert report.drifted
    assert report.changed == ["repo/db/schema.sql"]
    assert report.sections["repo/db/schema.sql"] == ["database_design"]
    assert report.missing == ["repo/api/openapi.yaml"]
    assert report.new == ["repo/db/seed.sql"]


def test_drift_needs_a_context_record(tmp_path: Path) -> None:
    spec = tmp_path / "spec.md"
    spec.write_text("---\nstatus: DRAFT\n---\n# T\n\n## A\n\nx\n", encoding="utf-8")
    with pytest.raises(InputError, match="records no context files"):
        check_drift(parse_spec(spec.read_text(), source=str(spec)), spec)
