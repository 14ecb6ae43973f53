"""Who is signing or reopening: ``--by "Name <email>"``, else git's user.name and user.email."""

from __future__ import annotations

import getpass
import re
import subprocess
from pathlib import Path

from pydantic import ValidationError

from agent.errors import InputError
from agent.io.validation import indexed, validation_message
from agent.signoff.records import Person

_PERSON = re.compile(r"^\s*(?P<name>[^<>]*?)\s*<(?P<email>[^<>]+)>\s*$")


def parse_person(text: str) -> Person:
    """``"Ana Lima <ana@example.com>"`` -> Person (InputError otherwise)."""
    match = _PERSON.match(text)
    if not match or not match.group("name"):
        raise InputError(
            f"--by '{text}' is not 'Name <email>'.",
            hint='Write it like --by "Ana Lima <ana@example.com>".',
        )
    try:
        return Person(name=match.group("name"), email=match.group("email").strip())
    except ValidationError as exc:
        raise InputError(f"--by '{text}': {validation_message(exc, where=indexed())}.") from None


def git_identity(cwd: Path | None = None) -> Person | None:
    """git's user.name and user.email, when both are set (None otherwise, or without git)."""
    values = []
    for key in ("user.name", "user.email"):
        try:
            result = subprocess.run(
                ["git", "config", "--get", key],
                cwd=cwd,
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        if result.returncode != 0 or not result.stdout.strip():
            return None
        values.append(result.stdout.strip())
    try:
        return Person(name=values[0], email=values[1])
    except ValidationError:
        return None


def resolve_person(by: str | None, cwd: Path | None = None) -> Person:
    if by is not None:
        return parse_person(by)
    person = git_identity(cwd)
    if person is None:
        raise InputError(
            "Who is approving? Neither --by nor git's user.name and user.email are set.",
            hint='Pass --by "Name <email>".',
        )
    return person


def reopener(by: str | None, cwd: Path | None = None) -> str:
    """Who reopens a spec: ``--by``, else git's identity, else the login name (reopening signs nothing)."""
    if by:
        return str(parse_person(by))
    person = git_identity(cwd)
    return str(person) if person is not None else f"{getpass.getuser()} (local user)"
