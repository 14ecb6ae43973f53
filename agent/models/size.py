"""A model's size in parameters and where that figure comes from: the fact the re-ask policy follows.

A GGUF file says how many parameters it holds (agent.models.gguf reads them from its tensor table);
a remote model has no file, so its name is all there is ('qwen2.5-7b-instruct' -> 7B). The source is
kept with the figure so a spec can say what its policy was chosen from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: where a size came from (written into the spec's front matter as ``model_params_from``)
FROM_TENSORS = "gguf tensors"
FROM_PARAMETER_COUNT = "gguf general.parameter_count"
FROM_SIZE_LABEL = "gguf general.size_label"
FROM_NAME = "model name"
UNKNOWN = "unknown"

_SCALES = {"m": 1_000_000, "b": 1_000_000_000}
#: '135M', '0.5B', '8x7B' (experts x size): not preceded by a digit or a dot (the '2.5' of 'qwen2.5'),
#: not followed by a letter (the 'b' of '7bit' is no size); M and B only ('4k' is a context length)
_LABEL = re.compile(r"(?<![\d.])(?:(\d+)\s*x\s*)?(\d+(?:\.\d+)?)\s*([mb])(?![a-z])")


@dataclass(frozen=True)
class ModelSize:
    """Parameters of a model (None when nothing says) and where the figure was read."""

    params: int | None
    #: FROM_TENSORS, FROM_PARAMETER_COUNT, FROM_SIZE_LABEL, FROM_NAME or UNKNOWN
    source: str = UNKNOWN

    def label(self) -> str:
        """'630M', '1.8B' or 'unknown size': for notices and people, not for decisions."""
        if self.params is None:
            return "unknown size"
        if self.params >= 1_000_000_000:
            return f"{self.params / 1e9:.1f}B"
        return f"{round(self.params / 1e6)}M"


UNKNOWN_SIZE = ModelSize(None, UNKNOWN)


def params_in_label(text: str) -> int | None:
    """Parameters named in a size label or a model name ('135M', 'qwen2.5-0.5b', '8x7B'); None if none."""
    match = _LABEL.search(text.lower())
    if match is None:
        return None
    experts = int(match.group(1) or 1)
    return int(experts * float(match.group(2)) * _SCALES[match.group(3)])


def size_from_name(name: str) -> ModelSize:
    """The size a model's name gives (a remote model has no file to read), else UNKNOWN_SIZE."""
    params = params_in_label(name)
    return ModelSize(params, FROM_NAME) if params is not None else UNKNOWN_SIZE
