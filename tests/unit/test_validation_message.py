"""One way to put a pydantic ValidationError into words (agent.io.validation), as every site uses it."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, ValidationError, field_validator

from agent.errors import ListItemError
from agent.io.validation import indexed, shown, validation_message, validation_problems


class Item(BaseModel):
    name: str = Field(max_length=5)


class Row(BaseModel):
    title: str
    items: list[Item] = []
    count: int = 0

    @field_validator("title")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value:
            raise ValueError("must be one line")
        return value


def _error(data: object) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        Row.model_validate(data)
    return info.value


def test_each_error_says_where_what_and_the_value() -> None:
    message = validation_message(_error({"title": "a\nb", "count": "many"}))
    assert message == (
        "title: must be one line (got 'a\\nb'); "
        "count: Input should be a valid integer, unable to parse string as an integer (got 'many')"
    )


def test_locations_read_like_the_data_and_the_first_errors_only() -> None:
    exc = _error({"title": "t", "items": [{"name": "ok"}, {"name": "far too long"}, {"nam": "x"}]})
    problems = validation_problems(exc, where=indexed("rows[3]"), first=2)
    assert problems[0].startswith("rows[3].items[1].name: String should have at most 5 characters")
    assert problems[1].startswith("rows[3].items[2].name: Field required")
    assert len(problems) == 2
    assert validation_problems(exc, where=indexed())[0].startswith("items[1].name:")


def test_a_whole_value_error_and_no_value_quoted() -> None:
    exc = _error("not an object")
    assert validation_message(exc, got=None, whole="answer") == (
        "answer: Input should be a valid dictionary or instance of Row"
    )


def test_long_values_are_shortened() -> None:
    assert shown("x" * 10_000).endswith("... (10,002 characters)")
    assert len(shown("x" * 10_000)) < 110
    assert shown("short") == "'short'"


class Tags(BaseModel):
    tags: list[str]

    @field_validator("tags")
    @classmethod
    def _distinct(cls, values: list[str]) -> list[str]:
        if len(set(values)) < len(values):
            raise ListItemError(len(values) - 1, "the last tag repeats one before it")
        return values


def test_a_list_item_error_is_placed_at_its_item() -> None:
    with pytest.raises(ValidationError) as info:
        Tags.model_validate({"tags": ["a", "b", "a"]})
    assert validation_problems(info.value, got=None) == ["tags.2: the last tag repeats one before it"]
    assert validation_problems(info.value, where=indexed(), got=None) == [
        "tags[2]: the last tag repeats one before it"
    ]
