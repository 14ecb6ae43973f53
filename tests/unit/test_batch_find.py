"""Finding the batch a crashed run submitted, on an account with many newer batches (the list is paged)."""

from __future__ import annotations

import json

from helpers.batch_server import BatchServer
from pydantic import SecretStr

from agent.llm.batch_api import BatchApi
from agent.llm.providers import Endpoint, Provider

LINE = {"custom_id": "x", "method": "POST", "url": "/v1/chat/completions", "body": {}}


def _submit(server: BatchServer, name: str) -> str:
    file_id = server.upload((json.dumps(LINE) + "\n").encode(), name)["id"]
    request = {"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}
    server.create(request)
    return str(file_id)


def _api(server: BatchServer) -> BatchApi:
    endpoint = Endpoint(Provider.openai, server.base_url, "gpt-4o-mini", SecretStr("sk-test"))
    return BatchApi(endpoint, timeout=10)


def test_a_batch_behind_two_pages_of_newer_ones_is_found(batch_server: BatchServer) -> None:
    ours = _submit(batch_server, "ours.jsonl")
    for number in range(230):  # other runs on the same account since
        _submit(batch_server, f"other-{number}.jsonl")
    found = _api(batch_server).find(ours)
    assert found is not None and found.id == "batch_1"
    listed = [path for method, path in batch_server.requests if method == "GET" and "/v1/batches" in path]
    assert len(listed) == 3  # 100 + 100 + 31: every page read until ours


def test_a_file_never_submitted_stops_at_the_first_older_batch(batch_server: BatchServer) -> None:
    for number in range(150):
        _submit(batch_server, f"older-{number}.jsonl")
    for record in batch_server.batches.values():
        record["created_at"] -= 10
    unsubmitted = batch_server.upload(b"{}\n", "ours.jsonl")["id"]
    assert _api(batch_server).find(unsubmitted) is None
    listed = [path for method, path in batch_server.requests if method == "GET" and "/v1/batches" in path]
    assert len(listed) == 1  # the first batch listed is older than the file: no need to page on
