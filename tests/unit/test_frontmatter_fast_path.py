"""The front-matter fast path gives exactly what the full, bounded YAML loader gives, or steps aside."""

from __future__ import annotations

import random

import pytest
import yaml

from agent.errors import InputError, YamlLimitError
from agent.specdoc.frontmatter import MAX_YAML_NODES, _simple_mapping, load_yaml, split_front_matter

VALUES = [
    "plain text", "Technical Specifications - Team invitations, by email", "0.1.0", "1.0", "1e3", "1.5e3",
    "1_000", "0x1F", "0o17", "012", "190:20:30", "1:30", "2026-11-29", "2026-11-29 10:00:00", ".inf",
    ".NaN", "-1", "+1", "+.5", "yes", "No", "on", "OFF", "true", "True", "null", "Null", "~", "=", "<<",
    "'quoted ''x'''", "''", "'a: b'", "a: b", "text # comment", "text#tag", "it's", 'say "hi"',
    "C:\\path", "http://x.y/z?q=1", "a,b", "[list]", "{map: 1}", "(x)", "$HOME", "^x", "&anchor",
    "*alias", "!tag x", "%x", "@x", "`x`", "|", ">", "? x", "a  b", "abc:", "a:b", "ünïcode", "x\ty",
    "06061d652cc295ada6d36e44b4ca1042f6c501c85c71c86bb03df96fc216b74c", "123456", "0000", "- item",
    "0", "7", "72175", "424.6", "0.50", "00.5", "10.", "1_0.5", "3.0e2", "08", "0.0",
]  # fmt: skip
KEYS = ["model", "usage", "brief", "a-b", "_x", "yes", "on", "null", "true", "Key", "x1", "template"]


def _random_yaml(rng: random.Random) -> str:
    lines = []
    indent = 0
    for _ in range(rng.randint(1, 12)):
        roll = rng.random()
        if roll < 0.08:
            lines.append("")
            continue
        if roll < 0.12:
            indent = max(0, indent + rng.choice((-2, 1, 2, 4)))
        key = rng.choice(KEYS)
        if rng.random() < 0.3:
            lines.append(" " * indent + f"{key}:")
            indent += rng.choice((2, 2, 4, 0))
        else:
            lines.append(" " * indent + f"{key}: {rng.choice(VALUES)}")
            if rng.random() < 0.3:
                indent = max(0, indent - 2)
    return "\n".join(lines) + "\n"


def _full(raw: str) -> object:
    try:
        return repr(yaml.safe_load(raw))
    except yaml.YAMLError:
        return "error"


def test_fast_path_agrees_with_pyyaml_or_steps_aside() -> None:
    rng = random.Random(20261129)
    taken = 0
    for _ in range(4000):
        raw = _random_yaml(rng)
        fast = _simple_mapping(raw)
        if fast is None:
            continue
        taken += 1
        assert repr(fast) == _full(raw), raw
    assert taken > 200  # the fast path is really exercised


def test_front_matter_specdraft_writes_takes_the_fast_path() -> None:
    raw = (
        "description: Technical Specifications - Team invitations\ntype: tech-specs\npriority: high\n"
        "status: DRAFT\nspecdraft:\n  model: smollm2-135m-instruct\n  template: tech-spec\n"
        "  template_sha256: '0000000000000000000000000000000000000000000000000000000000000000'\n"
        "  version: 0.1.0\n  usage:\n    prompt_tokens: 10\n    seconds: 12.5\n  brief: ../briefs/a.md\n"
    )
    fast = _simple_mapping(raw)
    assert fast is not None
    assert fast == yaml.safe_load(raw)
    assert fast["specdraft"]["usage"] == {"prompt_tokens": 10, "seconds": 12.5}
    assert fast["specdraft"]["template_sha256"] == "0" * 64


@pytest.mark.parametrize(
    "raw",
    [
        "a: &x [1, 2]\nb: *x\n",  # anchors and aliases
        "reviewers:\n  - alice\n  - bob\n",  # lists
        "a: 1  # comment\n",
        'a: "double"\n',
        "a: |\n  block\n",
        "a: value\n  continued\n",  # a plain scalar over two lines
        "a:\tb\n",
    ],
)
def test_anything_else_takes_the_full_loader(raw: str) -> None:
    assert _simple_mapping(raw) is None
    try:
        loaded: object = repr(load_yaml(raw))
    except yaml.YAMLError:
        loaded = "error"
    assert loaded == _full(raw)


def test_the_node_limit_holds_on_the_fast_path() -> None:
    raw = "".join(f"k{n}: v\n" for n in range(MAX_YAML_NODES // 2 + 1))
    assert len(raw) < 256_000
    with pytest.raises(YamlLimitError):
        load_yaml(raw)


def test_split_front_matter_still_names_malformed_lines() -> None:
    from agent.errors import InputError

    with pytest.raises(InputError, match="malformed front matter on line"):
        split_front_matter("---\na: 1\nb: [\n---\nbody\n", source="spec.md")


def test_secret_lookup_in_lint_still_reads_the_configured_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lint looks the configured secrets up once per spec, not once per line: still the current ones."""
    from agent.checks.lint import lint_text

    spec = "# T\n\n## Overview\nThe key is abcdefgh12345678 here.\n"
    assert not [f for f in lint_text(spec) if f.rule == "secret-like"]
    monkeypatch.setenv("EXAMPLE_API_KEY", "abcdefgh12345678")
    found = [f for f in lint_text(spec) if f.rule == "secret-like"]
    assert [f.line for f in found] == [4]
    assert "a configured API key" in found[0].message


@pytest.mark.parametrize(
    ("front", "line"),
    [
        ("title: x\napprovals_required: 2\napprovals_required: 1\n", 4),
        ("title: x\nsignoff:\n  approvals_required: 2\n  approvals_required: 1\n", 5),
        ("title: x\napprovals_required: 2\napprovals_required: [1]\n", 4),  # not the fast path
    ],
)
def test_a_key_given_twice_is_refused_naming_it(front: str, line: int) -> None:
    """YAML kept the last of two equal keys: a second approvals_required silently lowered the count."""
    with pytest.raises(InputError) as caught:
        split_front_matter(f"---\n{front}---\n# X\n", source="spec.md")
    assert f"line {line}: the key 'approvals_required' is given twice" in str(caught.value)
