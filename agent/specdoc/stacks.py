"""The backend stack a brief fixes, and an answer that picks another one.

A brief that says *"We run a Python/FastAPI backend with PostgreSQL"* has decided the language and the
database; a drafted stack of *Rust, Axum, MongoDB* describes another system. Only well-known names are
known here: a language, the frameworks that imply it, and the main databases. What the brief does not
name is free, and a name this table does not know never conflicts.
"""

from __future__ import annotations

import re

from agent.specdoc.grounding import technologies

#: name (lower case) -> language family; frameworks map to the language they are written in
_LANGUAGES = {
    "python": "Python",
    "django": "Python",
    "fastapi": "Python",
    "flask": "Python",
    "rust": "Rust",
    "axum": "Rust",
    "actix": "Rust",
    "go": "Go",
    "golang": "Go",
    "gin": "Go",
    "java": "JVM",
    "kotlin": "JVM",
    "scala": "JVM",
    "spring": "JVM",
    "typescript": "JavaScript",
    "javascript": "JavaScript",
    "node.js": "JavaScript",
    "nodejs": "JavaScript",
    "express": "JavaScript",
    "nestjs": "JavaScript",
    "ruby": "Ruby",
    "rails": "Ruby",
    "php": "PHP",
    "laravel": "PHP",
    "symfony": "PHP",
    "c#": "C#",
    ".net": "C#",
    "asp.net": "C#",
    "elixir": "Elixir",
    "phoenix": "Elixir",
}
#: name (lower case) -> database family
_DATABASES = {
    "postgresql": "PostgreSQL",
    "postgres": "PostgreSQL",
    "mysql": "MySQL",
    "mariadb": "MySQL",
    "mongodb": "MongoDB",
    "sqlite": "SQLite",
    "dynamodb": "DynamoDB",
    "cassandra": "Cassandra",
    "oracle": "Oracle",
}
_TOKEN = re.compile(r"[A-Za-z#.][A-Za-z0-9#.+]*")


def _families(names: list[str], table: dict[str, str]) -> set[str]:
    return {table[name.lower().strip(".")] for name in names if name.lower().strip(".") in table}


def brief_stack(brief: str) -> tuple[set[str], set[str]]:
    """The language and database families the brief names (as technologies: ``Python``, ``PostgreSQL``)."""
    named = technologies(brief)
    return _families(named, _LANGUAGES), _families(named, _DATABASES)


def stack_conflict(value: str, brief: str) -> str | None:
    """Why a backend stack ``value`` contradicts the brief (another language or database), or None."""
    languages, databases = brief_stack(brief)
    words = _TOKEN.findall(value)
    for chosen, fixed, what in (
        (_families(words, _LANGUAGES), languages, "language"),
        (_families(words, _DATABASES), databases, "database"),
    ):
        if fixed and chosen and not chosen & fixed:
            named, wanted = ", ".join(sorted(chosen)), ", ".join(sorted(fixed))
            return f"it names the {what} {named}, but the brief's is {wanted}"
    return None
