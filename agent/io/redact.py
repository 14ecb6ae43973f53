"""The ONE redaction of secrets from text specdraft shows or stores (errors, tracebacks, reports).

A server's error message can repeat the request's ``Authorization`` header; an exception can quote a
configuration value. Before such text reaches the terminal or a file it goes through ``redact``:
the configured key values (``OPENAI_API_KEY`` and any other ``*_API_KEY``, ``*_TOKEN``,
``*_SECRET`` variable of the environment, plus values registered with ``remember_secret``) and
token-shaped strings (``sk-...``, ``Bearer ...``, ``AKIA...``, GitHub and Slack tokens, private-key
blocks) become ``[REDACTED]``. ``find_secrets`` is the same recognition, for lint and validation.
``display_url`` is the one way a server URL is shown: credentials in it are masked.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit, urlunsplit

REDACTED = "[REDACTED]"
#: shorter values are not treated as secrets (they would redact ordinary words)
MIN_SECRET_CHARS = 8
_SECRET_VARIABLE = re.compile(r"(API_?KEY|TOKEN|SECRET|PASSWORD)$", re.IGNORECASE)

#: text holding none of a pattern's literals cannot match it (spares the scan of a long text)
_LITERALS: dict[str, tuple[str, ...]] = {
    "an OpenAI-style API key": ("sk-",),
    "a bearer token": ("Bearer",),
    "an AWS access key id": ("AKIA", "ASIA"),
    "a GitHub token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "a Slack token": ("xox",),
    "a Google API key": ("AIza",),
    "a private key": ("-----BEGIN ",),
}

#: (name, pattern) of token-shaped strings
SECRET_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an OpenAI-style API key", re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{16,}")),
    ("a bearer token", re.compile(r"\bBearer\s+[A-Za-z0-9._~+/=\-]{8,}")),
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    (
        "a private key",
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?:.*?-----END [A-Z ]*PRIVATE KEY-----)?", re.DOTALL),
    ),
)

_remembered: set[str] = set()


def remember_secret(value: str) -> None:
    """Redact ``value`` from now on (a key read from somewhere other than the environment)."""
    if len(value.strip()) >= MIN_SECRET_CHARS:
        _remembered.add(value.strip())


def known_secrets() -> list[str]:
    """The configured secret values, longest first (so a key containing another is redacted whole)."""
    values = set(_remembered)
    for name, value in os.environ.items():
        if _SECRET_VARIABLE.search(name) and len(value.strip()) >= MIN_SECRET_CHARS:
            values.add(value.strip())
    return sorted(values, key=len, reverse=True)


def redact(text: str) -> str:
    """``text`` with every known secret value and token-shaped string replaced by ``[REDACTED]``."""
    for value in known_secrets():
        text = text.replace(value, REDACTED)
    for _name, pattern in SECRET_PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def find_secrets(text: str, known: list[str] | None = None) -> list[str]:
    """What kinds of secret ``text`` seems to contain (empty when none), for warnings.

    ``known``: the configured secret values (``known_secrets()``), when the caller checks many texts
    in a row (reading the environment for each line of a spec costs more than the check itself).
    """
    kinds = [
        name
        for name, pattern in SECRET_PATTERNS
        if any(literal in text for literal in _LITERALS.get(name, ("",))) and pattern.search(text)
    ]
    if any(value in text for value in (known_secrets() if known is None else known)):
        kinds.append("a configured API key")
    return kinds


def display_url(url: str) -> str:
    """``url`` safe to print or store: ``user:pass@`` becomes ``user:***@``, a bare ``token@`` ``***@``.

    Several comma-separated URLs are each masked. Used by config show, doctor, error messages and the
    batch report's server list.
    """
    if "," in url:  # several servers
        return ",".join(display_url(part) for part in url.split(","))
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, host = parts.netloc.rsplit("@", 1)
    # a user name alone may be a token (https://TOKEN@host): only a name beside a password is kept
    user = f"{userinfo.split(':', 1)[0]}:***@" if ":" in userinfo else "***@"
    return urlunsplit(parts._replace(netloc=f"{user}{host}"))
