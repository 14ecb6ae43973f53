"""The Batch API's request and result lines (agent.llm.batch_api): custom_ids, file limits, parsing."""

from __future__ import annotations

import json

import pytest

from agent.errors import ModelError
from agent.llm.batch_api import RequestId, brief_key, parse_results, request_line, split_lines


def test_a_custom_id_names_brief_section_and_attempt_and_reads_back() -> None:
    key = brief_key("rfcs/../team invites")
    assert len(key) == 12 and "/" not in key and key != brief_key("rfcs/team invites")
    request = RequestId(key, "technical_requirements", 2)
    assert request.encode() == f"{key}.technical_requirements.2"
    assert RequestId.decode(request.encode()) == request
    assert RequestId.decode("someone-else's-id") is None and RequestId.decode(f"{key}.overview.0") is None


def test_a_wave_is_split_at_the_file_limits_in_order() -> None:
    lines = [request_line(f"id-{n}", {"n": n}) for n in range(7)]
    assert [len(f) for f in split_lines(lines, max_requests=3)] == [3, 3, 1]
    size = len(lines[0].encode()) + 1
    files = split_lines(lines, max_bytes=size * 2)
    assert [len(f) for f in files] == [2, 2, 2, 1] and [line for f in files for line in f] == lines
    with pytest.raises(ModelError, match="over the"):
        split_lines(lines, max_bytes=size - 1)


def test_results_are_matched_by_custom_id_whatever_their_order() -> None:
    def answered(custom_id: str, content: str, finish: str = "stop") -> str:
        body = {
            "choices": [{"message": {"content": content}, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": 7,
                "completion_tokens": 3,
                "prompt_tokens_details": {"cached_tokens": 4},
            },
        }
        return json.dumps({"id": "r", "custom_id": custom_id, "response": {"status_code": 200, "body": body}})

    failed = {"custom_id": "c", "response": {"status_code": 500, "body": {"error": {"message": "boom"}}}}
    expired = {"custom_id": "d", "response": None, "error": {"code": "batch_expired", "message": "too late"}}
    text = "\n".join(
        [answered("b", '{"x": 2}', "length"), answered("a", '{"x": 1}'), json.dumps(failed), "{not json",
         json.dumps(expired), ""]
    )  # fmt: skip
    results, problems = parse_results(text, "results.jsonl")
    assert results["a"].completion is not None and results["a"].completion.text == '{"x": 1}'
    assert results["b"].completion is not None and results["b"].completion.finish_reason == "length"
    usage = results["a"].completion.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens, usage.calls) == (7, 3, 4, 1)
    assert results["c"].completion is None and results["c"].error == "HTTP 500: boom"
    assert results["d"].error == "batch_expired: too late"
    assert problems == ["results.jsonl:4: not a result line (JSON with a custom_id)"]
