"""One exception root for everything specdraft reports to a user.

The core raises these; only the CLI turns them into ``Error: ...`` on stderr and an exit code.
Messages are written for the person at the terminal: what was wrong, and what to do.
"""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_USAGE = 2
EXIT_ATTENTION = 3


class SpecdraftError(Exception):
    """Base class: a failure specdraft explains to the user."""

    exit_code = EXIT_RUNTIME

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        #: what the failed work had spent so far (an agent.llm.client.Usage), when there was model work
        self.usage: Any = None

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class InputError(SpecdraftError):
    """A file or option the user gave is wrong (exit 2, nothing written)."""

    exit_code = EXIT_USAGE


class OutsideRootError(InputError):
    """A path from an MCP argument, a spec's front matter or a project file leads outside its root."""


class NotRegularFileError(InputError):
    """A path to read is a directory, FIFO, socket or device: refused before it is opened for reading."""


class InputTooLargeError(InputError):
    """A file or stream to read is larger than the reader's limit (found after reading at most limit + 1)."""


class TemplateError(InputError):
    """A spec template cannot be used."""


class ConfigError(InputError):
    """A provider or configuration setting is missing or wrong."""


class ModelError(SpecdraftError):
    """The model server failed or could not be reached (exit 1)."""


class AnswerTooLargeError(ModelError):
    """A model server's answer grew past the client's cap (read no further: memory stays bounded)."""


class ModelTimeoutError(ModelError):
    """One model answer took longer than --timeout (the transport's retries included)."""


class ProbeError(ModelError):
    """A model server's ``GET /models`` got no answer, or an HTTP error (agent.llm.server_models)."""

    def __init__(
        self, message: str, *, reason: str, status: int | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        #: what happened, without the URL (doctor words its own line around it)
        self.reason = reason
        #: the HTTP status of a refusal; None when nothing answered
        self.status = status


class SectionFailedError(ModelError):
    """A section never passed validation within its attempts."""

    def __init__(self, section: str, attempts: int, errors: list[str], last_output: str) -> None:
        shown = last_output if len(last_output) <= 800 else last_output[:800] + " ..."
        listed = "\n".join(f"  - {e}" for e in errors[:8])
        super().__init__(
            f"Section '{section}' failed validation after {attempts} attempt(s):\n{listed}\n"
            f"Last model output:\n{shown}",
            hint="Allow more attempts or use a stronger model.",
        )
        self.section = section
        self.attempts = attempts
        self.errors = errors
        self.last_output = last_output


class CorruptModelError(ModelError):
    """A model file is missing, truncated or not a GGUF file."""


class HubUnreachableError(ModelError):
    """The Hub (or HF_ENDPOINT) could not be reached, or offline mode is on."""


class ChecksumError(ModelError):
    """A downloaded file's size or sha256 is not what it should be; the file was deleted."""


class DiskSpaceError(ModelError):
    """Not enough free disk space for a download."""


class CarrierError(ModelError):
    """A PyPI carrier could not deliver a model: pip failed or was stopped, a part is missing, or a wheel
    does not hold the chunk the catalogue describes."""


class LifecycleError(SpecdraftError):
    """A lifecycle step refused (review with lint errors, approve of a DRAFT, ...): exit 1."""


class ChangedOnDiskError(SpecdraftError):
    """The spec on disk is not the version the caller saw (someone edited or approved it since): refused,
    nothing written (exit 1; the review page answers 409)."""


class NotEditableError(InputError):
    """A writer was asked to change an APPROVED spec: refused until it is reopened (exit 2, no write)."""


class JournalCorrupt(SpecdraftError):
    """A line of a spec's change journal makes no sense (the journal is moved aside, not trusted)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(
            f"line {line}: {reason}",
            hint="The journal was moved aside; undo and redo start again from the spec as it is.",
        )
        self.line = line
        self.reason = reason


class InstallationError(SpecdraftError):
    """specdraft's own files (prompts, templates) are missing: a broken installation."""


class TerminationRequested(KeyboardInterrupt):
    """SIGTERM arrived: stop like Ctrl-C (clean-up runs), but unlike Ctrl-C in chat, end the session.

    A KeyboardInterrupt, so no ``except Exception`` swallows it and asyncio passes it on wherever it
    lands (asyncio's transports and callbacks log and swallow any other BaseException). Code that
    treats Ctrl-C as "cancel and go on" must let this one through.
    """


class YamlLimitError(InputError):
    """YAML front matter over the reader's limits (size, nesting, alias expansion): refused, not parsed."""


class ListItemError(SpecdraftError, ValueError):
    """One item of a list is wrong (a repeat), raised by a schema validator of the whole list.

    Pydantic places such an error at the list; ``index`` lets the message name the item
    (``agent.io.validation``), so a re-ask says which one and salvage can drop it alone.
    """

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


class ExportError(SpecdraftError):
    """The issue tracker refused or failed an export step."""
