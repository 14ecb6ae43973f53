"""A model's size: counted from a GGUF's tensor table, else its metadata, else its name; the size tiers
of the re-ask policy that follow from it."""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from helpers.hub_server import make_gguf
from pydantic import SecretStr

from agent.drafting.policy import TIERS, ReaskPolicy, describe_tiers, policy_for, tier_for, tier_named
from agent.errors import CorruptModelError
from agent.llm.providers import Endpoint, Provider
from agent.models.bundled import bundled_model_path
from agent.models.gguf import read_gguf_info
from agent.models.select import any_gguf
from agent.models.size import (
    FROM_NAME,
    FROM_PARAMETER_COUNT,
    FROM_SIZE_LABEL,
    FROM_TENSORS,
    UNKNOWN_SIZE,
    ModelSize,
    params_in_label,
    size_from_name,
)

QWEN_05B = Path("/tmp/q05.gguf")  # Qwen2.5-Coder-0.5B-Instruct Q4_K_M, where a developer downloaded it
#: a Qwen2.5-0.5B-shaped table: embeddings, one block's matrices, norms and a 3-D (experts) tensor
TENSORS = [
    ("token_embd.weight", (896, 151_936)),
    ("blk.0.attn_q.weight", (896, 896)),
    ("blk.0.attn_k.weight", (896, 128)),
    ("blk.0.ffn_up_exps.weight", (896, 4864, 8)),
    ("blk.0.attn_norm.weight", (896,)),
    ("output_norm.weight", (896,)),
]
TENSORS_PARAMS = 896 * 151_936 + 896 * 896 + 896 * 128 + 896 * 4864 * 8 + 896 + 896


def _gguf(tmp_path: Path, data: bytes, name: str = "m.gguf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_parameters_are_counted_from_the_tensor_table(tmp_path: Path) -> None:
    path = _gguf(
        tmp_path, make_gguf(tensors=TENSORS, payload_bytes=64, metadata={"general.size_label": "7B"})
    )
    info = read_gguf_info(path)
    # the table wins over a label that says otherwise; the other header facts are still read
    assert info.size == ModelSize(TENSORS_PARAMS, FROM_TENSORS)
    assert (info.architecture, info.context_length) == ("llama", 2048)


def test_a_file_without_tensors_falls_back_to_its_metadata(tmp_path: Path) -> None:
    counted = make_gguf(metadata={"general.parameter_count": 494_032_768, "general.size_label": "0.5B"})
    assert read_gguf_info(_gguf(tmp_path, counted)).size == ModelSize(494_032_768, FROM_PARAMETER_COUNT)
    labelled = make_gguf(metadata={"general.size_label": "0.5B"})
    assert read_gguf_info(_gguf(tmp_path, labelled)).size == ModelSize(500_000_000, FROM_SIZE_LABEL)
    worded = make_gguf(metadata={"general.size_label": "small"})  # some converters write words
    assert read_gguf_info(_gguf(tmp_path, worded)).size == UNKNOWN_SIZE
    assert read_gguf_info(_gguf(tmp_path, make_gguf())).size == UNKNOWN_SIZE


def _patched(data: bytes, tensor: str, field_offset: int, fmt: str, value: int) -> bytes:
    """``data`` with one field of ``tensor``'s table entry (counted from the end of its name) replaced."""
    at = data.index(tensor.encode()) + len(tensor) + field_offset
    return data[:at] + struct.pack(fmt, value) + data[at + struct.calcsize(fmt) :]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        # the table cut off in its third entry
        (lambda d: d[: d.index(b"blk.0.attn_k") + 4], r"tensor table \(unexpected end of file\)"),
        (
            lambda d: _patched(d, "blk.0.attn_q.weight", 0, "<I", 9),
            r"tensor table \(tensor 2 of 6, 'blk.0.attn_q.weight': 9 dimensions, at most 4\)",
        ),
        (
            lambda d: _patched(d, "output_norm.weight", 4 + 8, "<I", 123_456),
            r"tensor 6 of 6, 'output_norm.weight': unknown tensor type 123456",
        ),
        (
            lambda d: _patched(d, "token_embd.weight", 4, "<Q", 2**62),
            r"tensor 1 of 6, 'token_embd.weight': [\d,]+ elements",
        ),
    ],
)
def test_a_damaged_tensor_table_is_a_clear_error(
    tmp_path: Path, damage: Callable[[bytes], bytes], message: str
) -> None:
    path = _gguf(tmp_path, damage(make_gguf(tensors=TENSORS)))
    with pytest.raises(CorruptModelError, match=message) as info:
        read_gguf_info(path)
    assert "damaged GGUF tensor table" in info.value.message and "pull" in str(info.value)


def test_an_absurd_tensor_count_is_damage_not_a_long_read(tmp_path: Path) -> None:
    data = bytearray(make_gguf(tensors=TENSORS))
    struct.pack_into("<Q", data, 8, 2**40)  # the tensor count, right after magic and version
    with pytest.raises(CorruptModelError, match=r"tensor table \(1,099,511,627,776 tensors\)"):
        read_gguf_info(_gguf(tmp_path, bytes(data)))


def test_the_real_files_parameter_counts() -> None:
    """llama.cpp's "model params" figures: every tensor of the file, as stored."""
    assert read_gguf_info(bundled_model_path()).size == ModelSize(134_515_008, FROM_TENSORS)
    if not QWEN_05B.exists():
        pytest.skip(f"{QWEN_05B} is not downloaded here")
    # 494,032,768 as published, plus the output matrix the file stores apart (151,936 x 896)
    assert read_gguf_info(QWEN_05B).size == ModelSize(494_032_768 + 151_936 * 896, FROM_TENSORS)


def test_a_model_path_gguf_carries_its_size(tmp_path: Path) -> None:
    resolved = any_gguf(_gguf(tmp_path, make_gguf(tensors=TENSORS), "anything.gguf"))
    assert resolved.size == ModelSize(TENSORS_PARAMS, FROM_TENSORS)
    # a header that cannot be read: the size is unknown, the embedded server reports the damage
    assert any_gguf(_gguf(tmp_path, make_gguf(tensors=TENSORS)[:300], "cut.gguf")).size == UNKNOWN_SIZE


@pytest.mark.parametrize(
    ("text", "params"),
    [
        ("SmolLM2-135M-Instruct", 135_000_000),
        ("qwen2.5-0.5b-instruct", 500_000_000),
        ("Qwen2.5-Coder-1.5B-Instruct-Q4_K_M", 1_500_000_000),
        ("llama-3.1-8b", 8_000_000_000),
        ("mixtral-8x7b-instruct", 56_000_000_000),
        ("630M", 630_000_000),
        ("gpt-4o-mini", None),
        ("phi-3-mini-4k-instruct", None),  # 4k is a context length
        ("q4_k_m", None),
        ("small", None),
    ],
)
def test_params_in_a_name_or_label(text: str, params: int | None) -> None:
    assert params_in_label(text) == params


def test_remote_models_are_sized_by_their_name() -> None:
    def endpoint(model: str, size: ModelSize | None = None) -> Endpoint:
        return Endpoint(Provider.compatible, "http://127.0.0.1:9/v1", model, SecretStr("x"), size=size)

    assert endpoint("qwen2.5-7b-instruct").model_size == ModelSize(7_000_000_000, FROM_NAME)
    assert endpoint("gpt-4o-mini").model_size == UNKNOWN_SIZE
    # a GGUF's count (the embedded engine) wins over whatever the name says
    counted = ModelSize(630_167_424, FROM_TENSORS)
    assert endpoint("qwen2.5-7b", counted).model_size == counted
    assert size_from_name("my-finetune").source == "unknown"


def test_size_tiers() -> None:
    assert [tier.name for tier in TIERS] == ["tiny", "small", "medium", "large"]
    assert tier_for(134_515_008).name == "tiny"
    assert tier_for(200_000_000).name == "tiny"  # bounds are inclusive
    assert tier_for(200_000_001).name == "small"
    assert tier_for(630_167_424).name == "small"  # Qwen2.5-0.5B as its file counts it
    assert tier_for(1_777_088_000).name == "medium"  # Qwen2.5-1.5B as its file counts it
    assert tier_for(7_000_000_000).name == "large"
    assert tier_for(None).name == "large"  # unknown: large


def test_tier_policies_as_shipped() -> None:
    """As measured (bench/spec_quality.py, docs/performance.md): tiny as on the 135M model, small the
    same first request with one re-ask; medium (the Qwen2.5-Coder 1.5B) the light first request too, lists
    capped at 6 and no repeat penalty; large the classic request with one re-ask."""
    tiny, small, medium, large = (tier_named(name).policy for name in ("tiny", "small", "medium", "large"))
    assert (tiny.attempts, tiny.repeat_penalty, tiny.example_first, tiny.show_template, tiny.max_items) == (
        1,
        1.1,
        False,
        False,
        5,
    )
    assert small == replace(tiny, attempts=2, name="small")
    assert (medium.attempts, medium.repeat_penalty, medium.example_first, medium.show_template) == (
        2,
        1.0,
        False,
        False,
    )
    assert medium.max_items == 6
    assert (large.attempts, large.example_first, large.show_template, large.max_items) == (
        2,
        True,
        True,
        None,
    )
    assert all(tier.policy.max_tokens is None for tier in TIERS)
    with pytest.raises(KeyError):
        tier_named("huge")


def test_policy_for_a_size_and_the_users_overrides() -> None:
    small = ModelSize(630_167_424, FROM_TENSORS)
    assert policy_for(small).name == "small"
    assert policy_for(UNKNOWN_SIZE).name == "large"
    assert policy_for(small, max_retries=4).attempts == 5
    assert policy_for(small, max_retries=0).attempts == 1
    assert policy_for(small, temperature=0.5).temperature == 0.5
    assert describe_tiers() == (
        "0 up to 200M parameters, 1 up to 1B parameters, 1 up to 4B parameters, "
        "1 above or when the size is unknown"
    )


def test_a_policy_caps_the_completion_budget() -> None:
    capped = ReaskPolicy(max_tokens=400)
    assert capped.budget_for(1536) == 400 and capped.budget_for(300) == 300
    assert tier_named("large").policy.budget_for(1536) == 1536
