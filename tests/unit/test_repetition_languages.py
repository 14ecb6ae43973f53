"""The repetition checks read words of any script: a Chinese answer that loops or repeats an item, a
German phrase with umlauts, are caught and quoted as written (English is judged as before: the
corpus figures of tests/unit/test_checks_corpus.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.drafting.quality import check_section
from agent.drafting.repetition import looping_phrase, repeated_items, same_value_everywhere
from agent.drafting.values import normalise, tokens
from agent.specdoc.template_resolver import load_template

LANG = Path(__file__).resolve().parents[1] / "data" / "languages"

# --- loops ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("系统将会系统将会系统将会系统将会处理邀请。", "系统将会"),
        ("邀请服务负责创建邀请。邀请服务负责创建邀请。邀请服务负责创建邀请。", "邀请服务负责创建邀请"),
        ("ユーザーを招待します。ユーザーを招待します。ユーザーを招待します。", "ユーザーを招待します"),
        ("Für alle Änderungen gilt: für alle Änderungen gilt, für alle Änderungen gilt das Gleiche.",
         "für alle änderungen gilt"),
        ("El envío de invitaciones según el envío de invitaciones según el envío de invitaciones según "
         "el plan.", "el envío de invitaciones"),
    ],
)  # fmt: skip
def test_a_loop_in_any_script_is_found_and_quoted_as_written(text: str, phrase: str) -> None:
    assert looping_phrase(text) == phrase


@pytest.mark.parametrize(
    "text",
    [
        # a word used often is no loop: 邀请链接 four times in one good sentence
        "管理员可以重新发送邀请链接，旧的邀请链接随即失效，新的邀请链接有效期为7天，每个邀请链接只能使用一次。",
        "邀请服务使用FastAPI，把邀请保存在PostgreSQL中，并通过SMTP中继发送邮件；过期的邀请每小时清理一次。",
        "Die Einladung läuft nach 7 Tagen ab; eine abgelaufene Einladung kann erneut gesendet werden.",
    ],
)
def test_good_prose_in_other_scripts_is_no_loop(text: str) -> None:
    assert looping_phrase(text) is None


def test_a_chinese_loop_in_a_section_answer_is_re_asked() -> None:
    template = load_template(str(LANG / "template-zh.md"))
    section = template.sections[0]
    key = next(iter(section.model.model_fields))
    problems = check_section({key: "该功能" + "系统将会系统将会" * 4 + "。"}, section, language="zh")
    assert f"{key}: the phrase '系统将会' repeats; say it once" in problems


# --- repeated items and one value everywhere ---------------------------------------------------------


def test_repeated_chinese_items_are_found() -> None:
    items = {"风险": ["邮件被识别为垃圾邮件。", "邮件被识别为垃圾邮件！", "邀请链接泄露。"]}
    assert repeated_items(items) == ["风险[1]: repeats item 0; every item must be different"]


def test_chinese_items_sharing_only_a_latin_word_are_different() -> None:
    """Only the Latin words were compared: both items read as 'postgresql'."""
    items = {"决策": ["使用 PostgreSQL 存储邀请", "使用 PostgreSQL 存储审计日志"]}
    assert repeated_items(items) == []


def test_one_chinese_value_in_every_field_is_found() -> None:
    data = {"前端": "使用缓存提高性能", "后端": "使用缓存提高性能。", "数据库": "使用缓存提高性能"}
    (problem,) = same_value_everywhere(data, frozenset())
    assert problem.startswith("前端: the same value '使用缓存提高性能' fills 3 fields")


def test_chinese_values_sharing_only_a_latin_word_are_not_one_value() -> None:
    data = {"会话": "Redis 缓存会话", "队列": "Redis 任务队列", "限流": "Redis 计数限流"}
    assert same_value_everywhere(data, frozenset()) == []


def test_words_are_compared_in_any_script_and_ascii_as_before() -> None:
    assert normalise("Use Postgres, NOW!") == "use postgres now"
    assert normalise("Größe der Anhänge") == "größe der anhänge"
    assert normalise("ＡＰＩ 网关") == "api 网关"
    assert tokens("Redis 缓存") == ["redis", "缓", "存"]


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("Über das SMTP-Relay für alle Empfänger.", "über das smtp relay für alle empfänger"),
        ("Envío por el relé SMTP según la política.", "envío por el relé smtp según la política"),
    ],
)
def test_one_german_or_spanish_value_everywhere_is_quoted_as_written(value: str, quoted: str) -> None:
    """The re-ask quotes the value the model pasted: its letters beyond ASCII were dropped from the quote."""
    data = {"a": value, "b": value.upper(), "c": value + "!"}
    (problem,) = same_value_everywhere(data, frozenset())
    assert problem.startswith(f"a: the same value {quoted!r} fills 3 fields")
