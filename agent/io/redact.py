"""The ONE redaction of secrets from text specdraft shows or stores (errors, tracebacks, reports).

A server's error message can repeat the request's ``Authorization`` header; an exception can quote a
configuration value. Before such text reaches the terminal or a file it goes through ``redact``:
the configured key values (``OPENAI_API_KEY`` and any other ``*_API_KEY``, ``*_TOKEN``,
``*_SECRET`` variable of the environment, plus values registered with ``remember_secret``) and
token-shaped strings (``sk-...``, ``Bearer ...``, ``AKIA...``, GitHub and Slack tokens, private-key
blocks) become ``[REDACTED]``. ``find_secrets`` is the same recognition, for lint and validation.
``redact_known`` replaces the known values only: model answers go through it before they are stored.

``display_url`` is the ONE way a URL is shown (errors, doctor, config show, reports, MCP answers):
``user:password@`` and every query value are masked, since gateways take keys both ways. Code that
formats a URL into text calls it; ``redact`` also runs it over any URL in free text that carries
credentials (an SDK's exception, a traceback), as a second line of defence.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit, urlunsplit

REDACTED = "[REDACTED]"
#: what ``redact_known`` writes: a spec reads ``[...]`` as a template placeholder (a section re-asked)
REDACTED_IN_ANSWER = "(redacted)"
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
    """``text`` with every known secret value and token-shaped string replaced by ``[REDACTED]``, and
    any URL in it that carries credentials masked (``display_url``)."""
    for value in known_secrets():
        text = text.replace(value, REDACTED)
    for _name, pattern in SECRET_PATTERNS:
        text = pattern.sub(REDACTED, text)
    if "://" in text:
        text = _URL_IN_TEXT.sub(_mask_url_match, text)
    return text


def redact_known(text: str, extra: tuple[str, ...] = ()) -> str:
    """``text`` with every known secret value (``known_secrets()``: the configured key, tokens in the
    environment such as GITHUB_TOKEN, OPENAI_API_KEY, HF_TOKEN; plus ``extra``) replaced by
    ``(redacted)``: what a model answer goes through where it enters (the client), before anything
    stores it. Token-shaped strings stay: an answer may show an example key, and lint's
    ``secret-like`` reports them."""
    values = set(known_secrets()) | {v.strip() for v in extra if len(v.strip()) >= MIN_SECRET_CHARS}
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, REDACTED_IN_ANSWER)
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


MASK = "***"
#: a URL in free text (up to white space, a quote or an angle bracket)
_URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>`]+")
#: a query parameter whose name says it carries a secret
_SECRET_QUERY = re.compile(r"[?&][^=&#]*(?:key|token|secret|pass|sig|auth|cred)[^=&#]*=", re.IGNORECASE)


def display_url(url: str) -> str:
    """``url`` safe to print or store: ``user:pass@`` becomes ``user:***@``, a bare ``token@`` ``***@``,
    each query value ``***`` (``?api_key=***``) and a fragment ``#***``; host, port and path are kept.

    Several comma-separated URLs are each masked. Never raises: a URL ``urlsplit`` refuses is masked by
    position.
    """
    if "," in url:  # several servers
        return ",".join(display_url(part) for part in url.split(","))
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return _mask_by_position(url)
    netloc = _masked_authority(parts.netloc)
    query = "&".join(_masked_pair(pair) for pair in parts.query.split("&")) if parts.query else ""
    fragment = MASK if parts.fragment else ""
    if (netloc, query, fragment) == (parts.netloc, parts.query, parts.fragment):
        return url
    return urlunsplit(parts._replace(netloc=netloc, query=query, fragment=fragment))


def _masked_authority(netloc: str) -> str:
    if "@" not in netloc:
        return netloc
    userinfo, host = netloc.rsplit("@", 1)
    # a user name alone may be a token (https://TOKEN@host): only a name beside a password is kept
    return (f"{userinfo.split(':', 1)[0]}:{MASK}@" if ":" in userinfo else f"{MASK}@") + host


def _masked_pair(pair: str) -> str:
    name, equals, value = pair.partition("=")
    if not equals:
        return MASK if name else ""
    return f"{name}={MASK}" if value else pair


def _mask_by_position(url: str) -> str:
    """The masking of ``display_url`` for text that only looks like a URL: split on ://, /, ? and #."""
    scheme, sep, rest = url.partition("://")
    end = min((i for i in (rest.find(mark) for mark in "/?#") if i >= 0), default=len(rest))
    authority, tail = _masked_authority(rest[:end]), rest[end:]
    cut = min((i for i in (tail.find(mark) for mark in "?#") if i >= 0), default=-1)
    if cut >= 0:
        tail = tail[: cut + 1] + MASK
    return scheme + sep + authority + tail


def _mask_url_match(match: re.Match[str]) -> str:
    """A URL found in free text: masked when it carries credentials (ordinary links are left alone)."""
    url = match.group(0)
    authority = url.split("://", 1)[1].split("/", 1)[0]
    return display_url(url) if "@" in authority or _SECRET_QUERY.search(url) else url
