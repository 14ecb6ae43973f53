"""Messages that quote spec text quote it intact: umlauts and CJK in lint's table and --json, trace's
table and --json (the CLI's own words stay English; advice names the spec language's keywords)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from helpers.cli import invoke

DATA = Path(__file__).resolve().parents[1] / "data"
SMELLY = "Ein Administrator sollte eine offene Einladung gegebenenfalls widerrufen können."


def _german_spec(tmp_path: Path) -> Path:
    spec = tmp_path / "spec.md"
    text = (DATA / "specs" / "clean-de.md").read_text(encoding="utf-8")
    spec.write_text(text.replace("Ein Administrator muss eine offene Einladung widerrufen können.", SMELLY))
    return spec


def test_lint_quotes_german_text_intact_and_advises_in_german_keywords(tmp_path: Path) -> None:
    spec = _german_spec(tmp_path)
    code, out, _ = invoke("lint", spec, "--json")
    assert code == 0
    assert "gegebenenfalls" in out and "\\u00" not in out, "umlauts as they are, not escaped"
    messages = [f["message"] for f in json.loads(out)["files"][0]["findings"]]
    weak = next(m for m in messages if "weak modal" in m)
    assert "'sollte'" in weak and "use 'muss'" in weak
    code, out, _ = invoke("lint", spec)
    assert "'gegebenenfalls'" in out and "Technische Anforderungen" in out


def test_chinese_text_is_quoted_intact_in_trace_and_eval(tmp_path: Path) -> None:
    spec = tmp_path / "spec-zh.md"
    shutil.copyfile(DATA / "languages" / "spec-zh.md", spec)
    code, out, _ = invoke("trace", spec, "--json")
    assert code == 0
    texts = [r["text"] for r in json.loads(out)["requirements"]]
    assert texts[0] == "管理员可以通过电子邮件地址邀请一名或多名同事加入工作区，并为每位受邀者选择角色。"
    assert "\\u" not in out
    code, out, _ = invoke("trace", spec)
    assert "集成测试覆盖邀请的创" in out, "the table shows CJK by its display width, not mangled"
    assert "\ufffd" not in out
    brief = tmp_path / "brief.md"
    shutil.copyfile(DATA / "languages" / "brief-zh-export.md", brief)
    code, out, _ = invoke("lint", spec, "--brief", brief, "--json")
    uncovered = [f for f in json.loads(out)["files"][0]["findings"] if f["rule"] == "brief-uncovered"]
    assert "'发票导出'" in uncovered[0]["message"] and "\\u" not in out
