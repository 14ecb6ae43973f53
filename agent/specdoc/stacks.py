"""The backend stack a brief fixes, and an answer that picks another one.

A brief that says *"We run a Python/FastAPI backend with PostgreSQL"* has decided the language and the
database; a drafted stack of *Rust, Axum, MongoDB* describes another system. Only well-known names are
known here: a language, the frameworks that imply it, and the main databases. What the brief does not
name is free, and a name this table does not know never conflicts.
"""

from __future__ import annotations

import re

from agent.specdoc.grounding import technologies
from agent.specdoc.language import title_pattern

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


#: a list of names as templates give examples: "Axum, Express, FastAPI, Gin" (two or more, by commas)
_NAME = r"[A-Za-z#.][A-Za-z0-9#.+-]*"
_NAME_LIST = re.compile(rf"{_NAME}(?:\s*,\s*(?:or\s+|and\s+)?{_NAME})+")
#: where a block starts: a Markdown heading, or a prompt's field line ("- backend_technologies: ...")
_BLOCK_START = re.compile(r"^(?:#+\s+(?P<heading>.*)|- (?P<field>[a-z0-9_]+): )")
_BACKEND_BLOCK = re.compile(title_pattern("backend").pattern + r"|back_?end", re.IGNORECASE)


def fit_examples_to_brief(text: str, brief: str) -> str:
    """``text`` (a prompt's field list or a template section) with the backend examples that contradict
    the brief's stack left out.

    A template offers "Framework: [e.g., Axum, Express, FastAPI, Gin]" for any project; a model asked for
    a Go service took the first name (Axum, a Rust framework) and was marked for contradicting the brief
    twice in a row. Only the backend's blocks are touched (a frontend's TypeScript is no conflict for a
    Python backend), only names this module knows, and a list whose every name conflicts keeps them.
    """
    languages, databases = brief_stack(brief)
    if not (languages or databases):
        return text
    lines = []
    in_backend = False
    for line in text.splitlines(keepends=True):
        if start := _BLOCK_START.match(line):
            in_backend = bool(_BACKEND_BLOCK.search(start.group("heading") or start.group("field")))
        if in_backend:
            line = _NAME_LIST.sub(lambda names: _keep_fitting(names.group(0), languages, databases), line)
        lines.append(line)
    return "".join(lines)


def _keep_fitting(names: str, languages: set[str], databases: set[str]) -> str:
    """The comma list ``names`` without the names whose language or database the brief rules out."""
    items = [item.strip() for item in names.split(",")]

    def fits(item: str) -> bool | None:
        """False: the brief rules it out; True: a known name the brief allows; None: not a name known here."""
        name = re.sub(r"^(?:or|and)\s+", "", item).lower().strip(".")
        for table, fixed in ((_LANGUAGES, languages), (_DATABASES, databases)):
            if name in table:
                return not fixed or table[name] in fixed
        return None

    kept = [item for item in items if fits(item) is not False]
    if len(kept) == len(items) or not any(fits(item) for item in kept):
        return names
    return ", ".join(
        re.sub(r"^(?:or|and)\s+", "", item) if index == 0 else item for index, item in enumerate(kept)
    )
