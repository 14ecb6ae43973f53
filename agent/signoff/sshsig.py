"""SSH signatures of sign-off records through ``ssh-keygen -Y`` (the mechanism git uses for SSH signing).

Namespace ``specdraft``, so a signature made for specdraft cannot be replayed as a git or file signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.errors import ConfigError, InputError

NAMESPACE = "specdraft"
_ARMOUR_BEGIN = "-----BEGIN SSH SIGNATURE-----"
_ARMOUR_END = "-----END SSH SIGNATURE-----"
_FINGERPRINT = re.compile(r"key (SHA256:[A-Za-z0-9+/=]+)")

VerifyState = Literal["valid", "invalid", "unknown-key", "wrong-signer"]


class SshSignature(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: the signing key's fingerprint, e.g. SHA256:xwy12aSnTf...
    key: str = Field(pattern=r"^SHA256:[A-Za-z0-9+/=]+$")
    #: the SSH signature (``ssh-keygen -Y sign``) as one line of base64, without the armour lines
    value: str = Field(min_length=16, pattern=r"^[A-Za-z0-9+/=]+$")


def ssh_keygen() -> str:
    found = shutil.which("ssh-keygen")
    if found is None:
        raise ConfigError(
            "ssh-keygen is not installed, so SSH signatures cannot be made or checked.",
            hint="Install the OpenSSH client (e.g. apt-get install openssh-client), "
            "or approve without --ssh-key.",
        )
    return found


def _run(args: list[str], data: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([ssh_keygen(), *args], input=data, capture_output=True, timeout=60, check=False)


def _armour(value: str) -> str:
    body = "\n".join(value[i : i + 70] for i in range(0, len(value), 70))
    return f"{_ARMOUR_BEGIN}\n{body}\n{_ARMOUR_END}\n"


def _unarmour(text: str) -> str:
    return "".join(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("-----")
    )


def _message(result: subprocess.CompletedProcess[bytes]) -> str:
    text = (result.stderr or b"").decode("utf-8", "replace").strip()
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("Signing data")]
    return " ".join(lines) or f"ssh-keygen exited with {result.returncode}"


def sign(payload: bytes, key: Path) -> SshSignature:
    """Sign ``payload`` with the private key file (or a public key whose private half is in ssh-agent)."""
    key = key.expanduser()
    if not key.is_file():
        raise InputError(
            f"SSH key '{key}' does not exist.", hint="Give the private key, e.g. ~/.ssh/id_ed25519."
        )
    result = _run(["-Y", "sign", "-f", str(key), "-n", NAMESPACE], payload)
    if result.returncode != 0 or _ARMOUR_BEGIN.encode() not in result.stdout:
        raise InputError(
            f"Signing with SSH key '{key}' failed: {_message(result)}.",
            hint="Check that it is an SSH private key "
            "(a passphrase-protected key must be loaded in ssh-agent).",
        )
    armoured = result.stdout.decode("ascii", "replace")
    fingerprint = _fingerprint(payload, armoured)
    return SshSignature(key=fingerprint, value=_unarmour(armoured))


def _fingerprint(payload: bytes, armoured: str) -> str:
    with tempfile.TemporaryDirectory(prefix="specdraft-sig-") as tmp:
        sig = Path(tmp) / "payload.sig"
        sig.write_text(armoured, encoding="ascii")
        result = _run(["-Y", "check-novalidate", "-n", NAMESPACE, "-s", str(sig)], payload)
    match = _FINGERPRINT.search((result.stdout + result.stderr).decode("utf-8", "replace"))
    if result.returncode != 0 or match is None:
        raise InputError(f"ssh-keygen made a signature it cannot check itself: {_message(result)}.")
    return match.group(1)


def embedded_fingerprint(signature: SshSignature) -> str | None:
    """The fingerprint (``SHA256:...``, as ssh-keygen prints it) of the public key inside the SSHSIG
    blob, or None when the value is not an SSHSIG blob. The record's ``key`` is not covered by the
    signature, so it is only believed when it names this key."""
    try:
        blob = base64.b64decode(signature.value, validate=True)
    except (binascii.Error, ValueError):
        return None
    # "SSHSIG", uint32 version, then the public key as an SSH string (uint32 length, bytes)
    if len(blob) < 14 or not blob.startswith(b"SSHSIG"):
        return None
    (length,) = struct.unpack(">I", blob[10:14])
    public_key = blob[14 : 14 + length]
    if length == 0 or len(public_key) != length:
        return None
    digest = base64.b64encode(hashlib.sha256(public_key).digest()).decode("ascii").rstrip("=")
    return f"SHA256:{digest}"


def check_allowed_signers(path: Path) -> None:
    if not path.is_file():
        raise InputError(
            f"Allowed signers file '{path}' does not exist.",
            hint="One line per signer: '<email> <key type> <base64 key>', "
            "as for git's gpg.ssh.allowedSignersFile.",
        )


def verify(
    payload: bytes, signature: SshSignature, allowed_signers: Path, email: str
) -> tuple[VerifyState, str]:
    """Check a stored signature: made over ``payload``, by a key allowed_signers lists for ``email``,
    the key the record names."""
    inside = embedded_fingerprint(signature)
    if inside != signature.key:
        return "invalid", (
            f"the record names key {signature.key}, but the signature was made with "
            f"{inside or 'no readable key'}"
        )
    with tempfile.TemporaryDirectory(prefix="specdraft-sig-") as tmp:
        sig = Path(tmp) / "payload.sig"
        sig.write_text(_armour(signature.value), encoding="ascii")
        intact = _run(["-Y", "check-novalidate", "-n", NAMESPACE, "-s", str(sig)], payload)
        if intact.returncode != 0:
            return "invalid", f"SSH signature does not match the record ({_message(intact)})"
        found = _run(["-Y", "find-principals", "-s", str(sig), "-f", str(allowed_signers)], b"")
        principals = found.stdout.decode("utf-8", "replace").split()
        if found.returncode != 0 or not principals:
            return "unknown-key", f"signed with key {signature.key}, which '{allowed_signers}' does not list"
        checked = _run(
            ["-Y", "verify", "-f", str(allowed_signers), "-I", email, "-n", NAMESPACE, "-s", str(sig)],
            payload,
        )
    if checked.returncode != 0:
        return "wrong-signer", (
            f"signed with key {signature.key}, which '{allowed_signers}' lists for "
            f"{', '.join(principals)}, not for {email}"
        )
    return "valid", "signature valid"
