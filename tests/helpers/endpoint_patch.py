"""Point every use of ``open_endpoint`` at a test's endpoint, and only for that test.

Patching ``agent.llm.providers.open_endpoint`` alone leaks: a module imported for the first time while
the patch is active (``from agent.llm.providers import open_endpoint`` at its top) binds the patched
function and keeps it after the test, so a later test's ``--base-url`` is ignored. So every agent module
is imported first, under the real function, and each one holding it is patched (and restored) too.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Callable
from typing import Any

import pytest

import agent
from agent.llm import providers


def _import_all_agent_modules() -> None:
    for module in pkgutil.walk_packages(agent.__path__, "agent."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)


def patch_open_endpoint(monkeypatch: pytest.MonkeyPatch, replacement: Callable[..., Any]) -> None:
    """``open_endpoint`` is ``replacement`` wherever agent code reaches it, until the test ends."""
    _import_all_agent_modules()
    original = providers.open_endpoint
    for name, module in list(sys.modules.items()):
        if name.startswith("agent.") and getattr(module, "open_endpoint", None) is original:
            monkeypatch.setattr(module, "open_endpoint", replacement)
