"""Every exception specdraft defines sits under SpecdraftError, in agent/errors.py."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import agent
from agent import errors
from agent.errors import SpecdraftError, TerminationRequested


def _modules() -> list[str]:
    return [m.name for m in pkgutil.walk_packages(agent.__path__, "agent.") if ".__main__" not in m.name]


@pytest.mark.parametrize("name", _modules())
def test_exceptions_live_in_the_one_tree(name: str) -> None:
    module = importlib.import_module(name)
    for _, obj in inspect.getmembers(module, inspect.isclass):
        if obj.__module__ != name or not issubclass(obj, BaseException):
            continue
        assert name == "agent.errors", f"{obj.__name__} is defined in {name}, not agent/errors.py"


def test_every_error_is_a_specdraft_error() -> None:
    for _, obj in inspect.getmembers(errors, inspect.isclass):
        if issubclass(obj, BaseException) and obj is not TerminationRequested:
            assert issubclass(obj, SpecdraftError), obj.__name__


def test_core_hint_names_no_flag() -> None:
    exc = errors.SectionFailedError("Goals", 3, ["too short"], "{}")
    assert exc.hint is not None and "--" not in exc.hint
