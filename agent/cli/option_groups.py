"""Option groups: several command-line options declared once, as a dataclass, and handed to a command as
one value.

typer reads a command's options from its parameters. A command that takes ``flags: DraftModelFlags`` and
is decorated with :func:`with_option_groups` shows typer, in that parameter's place, one parameter per
field of the dataclass (its name, ``Annotated`` option type and default); when typer calls it, the values
of those options are gathered into one ``DraftModelFlags`` again. So an option shared by several commands
is written once, with its name, help and default, and a command body reads ``flags.model``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import fields
from typing import Any, TypeVar, cast, get_type_hints

Result = TypeVar("Result")


class OptionGroup:
    """Base of the dataclasses whose fields are command-line options given to a command as one value."""


def with_option_groups(command: Callable[..., Result]) -> Callable[..., Result]:
    """``command`` with each parameter typed as an :class:`OptionGroup` dataclass replaced, for typer, by
    that group's options; called with them, it calls ``command`` with one group value built from them."""
    hints = get_type_hints(command, include_extras=True)
    #: parameter name -> (its group, the names of the group's options)
    groups: dict[str, tuple[type[OptionGroup], tuple[str, ...]]] = {}
    shown: list[inspect.Parameter] = []
    for param in inspect.signature(command).parameters.values():
        kind = hints.get(param.name, param.annotation)
        if isinstance(kind, type) and issubclass(kind, OptionGroup):
            options = _options_of(kind, param.kind)
            groups[param.name] = (kind, tuple(option.name for option in options))
            shown.extend(options)
        else:
            shown.append(param.replace(annotation=kind))
    names = [param.name for param in shown]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise TypeError(f"{command.__name__}: options declared twice: {', '.join(twice)}")

    @functools.wraps(command)
    def run(**given: Any) -> Result:
        for name, (group, options) in groups.items():
            given[name] = group(**{option: given.pop(option) for option in options})
        return command(**given)

    signature = inspect.Signature(shown, return_annotation=hints.get("return", inspect.Signature.empty))
    run.__signature__ = signature  # type: ignore[attr-defined]
    # typer also reads the type hints: the expanded parameters', as objects (nothing left to resolve)
    run.__annotations__ = {param.name: param.annotation for param in shown}
    return run


def _options_of(group: type[OptionGroup], kind: inspect._ParameterKind) -> list[inspect.Parameter]:
    """One parameter per field of the dataclass ``group``, with its ``Annotated`` option type and default,
    of the ``kind`` of the parameter it stands in for."""
    hints = get_type_hints(group, include_extras=True)
    return [
        inspect.Parameter(option.name, kind, default=option.default, annotation=hints[option.name])
        for option in fields(cast(Any, group))
    ]
