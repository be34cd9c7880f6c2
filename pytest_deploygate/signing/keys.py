"""Signing and verification keys: Ed25519 or ECDSA P-256, from OpenSSH or PEM files.

A key's id is its OpenSSH fingerprint (``SHA256:`` and the unpadded base64 of the SHA-256 of
the public key blob), the string ``ssh-keygen -lf`` prints, so people can match an envelope's
keyid with the key they know. The keyid is only a hint: verification never trusts it.

Signatures: Ed25519 as its 64 raw bytes; ECDSA P-256 over SHA-256 as DER, the encoding DSSE
tools (securesystemslib, sigstore) use.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_deploygate.core.regular_files import UnusableFile, read_regular_file
from pytest_deploygate.core.value_class import value_class
from pytest_deploygate.signing import SigningError

if TYPE_CHECKING:  # cryptography is imported only when a run signs or a verdict verifies
    from cryptography.hazmat.primitives.asymmetric.ec import (
        EllipticCurvePrivateKey,
        EllipticCurvePublicKey,
    )
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )
    from cryptography.hazmat.primitives.asymmetric.types import (
        PrivateKeyTypes,
        PublicKeyTypes,
    )

#: OpenSSH key type names this module can verify.
SUPPORTED_SSH_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256")
_MAX_KEY_BYTES = 64 * 1024
_WHAT_TO_USE = "use an Ed25519 or ECDSA P-256 key (ssh-keygen -t ed25519)"


@value_class(frozen=True)
class PublicKey:
    """A public key that can check signatures."""

    key: Ed25519PublicKey | EllipticCurvePublicKey  # a P-256 one when ECDSA
    ssh_type: str

    @property
    def openssh(self) -> str:
        """``ssh-ed25519 AAAA...``: the form of allowed-signers files and .pub files."""
        if self.ssh_type == "ssh-ed25519":  # (without cryptography's OpenSSH serializer:
            # importing it costs a deploy job's verdict more than the rest of the check)
            from cryptography.hazmat.primitives.asymmetric import ed25519

            assert isinstance(self.key, ed25519.Ed25519PublicKey)
            blob = _ssh_string(b"ssh-ed25519") + _ssh_string(self.key.public_bytes_raw())
            return "ssh-ed25519 " + base64.b64encode(blob).decode("ascii")
        from cryptography.hazmat.primitives import serialization

        return self.key.public_bytes(serialization.Encoding.OpenSSH,
                                     serialization.PublicFormat.OpenSSH).decode("ascii")

    @property
    def keyid(self) -> str:
        """The OpenSSH SHA-256 fingerprint."""
        blob = base64.b64decode(self.openssh.split()[1])
        digest = base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")
        return f"SHA256:{digest}"

    def verifies(self, signature: bytes, message: bytes) -> bool:
        """True when ``signature`` is this key's signature of ``message``."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric import ed25519

        try:
            if isinstance(self.key, ed25519.Ed25519PublicKey):
                self.key.verify(signature, message)
            else:
                # (ECDSA's modules only for an ECDSA key: a deploy job's verdict of an
                # Ed25519 signature does not pay for their import.)
                from cryptography.hazmat.primitives import hashes
                from cryptography.hazmat.primitives.asymmetric import ec

                self.key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            return False
        return True


@value_class(frozen=True)
class PrivateKey:
    """A key that signs, and its public half."""

    key: Ed25519PrivateKey | EllipticCurvePrivateKey
    public: PublicKey
    source: Path

    def sign(self, message: bytes) -> bytes:
        """The signature of ``message`` (raw Ed25519, DER ECDSA over SHA-256)."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519

        if isinstance(self.key, ed25519.Ed25519PrivateKey):
            return self.key.sign(message)
        return self.key.sign(message, ec.ECDSA(hashes.SHA256()))


def load_private_key(path: Path) -> PrivateKey:
    """Read an unencrypted OpenSSH or PEM private key; raise :class:`SigningError`."""
    from cryptography.hazmat.primitives import serialization

    data = read_limited(path, "signing key")
    key: PrivateKeyTypes
    try:
        if b"-----BEGIN OPENSSH PRIVATE KEY-----" in data:
            key = serialization.load_ssh_private_key(data, password=None)
        else:
            key = serialization.load_pem_private_key(data, password=None)
    except TypeError as exc:  # cryptography says "encrypted" this way
        if "encrypted" in str(exc).lower() or "password" in str(exc).lower():
            raise SigningError(f"{path}: the signing key is encrypted; give the gate an "
                               "unencrypted key from the CI secret store") from None
        raise SigningError(f"{path}: not a usable private key: {exc}") from None
    except (ValueError, IndexError) as exc:
        raise SigningError(f"{path}: not an OpenSSH or PEM private key ({_reason(exc)}); "
                           f"{_WHAT_TO_USE}") from None
    except Exception as exc:  # UnsupportedAlgorithm and friends
        raise SigningError(f"{path}: unsupported private key: {_reason(exc)}; "
                           f"{_WHAT_TO_USE}") from None
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    public = _public_of(key.public_key(), path)  # refuses the kinds gates do not sign with
    assert isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey)
    return PrivateKey(key, public, path)


def load_public_key(path: Path) -> PublicKey:
    """Read a public key: an OpenSSH line (``ssh-ed25519 AAAA... comment``) or PEM."""
    from cryptography.hazmat.primitives import serialization

    data = read_limited(path, "public key")
    if b"-----BEGIN" in data:
        try:
            return _public_of(serialization.load_pem_public_key(data), path)
        except SigningError:
            raise
        except Exception as exc:
            raise SigningError(f"{path}: not a PEM public key ({_reason(exc)})") from None
    fields = data.decode("utf-8", "replace").split()
    if len(fields) < 2:
        raise SigningError(f"{path}: not a public key (expected 'ssh-ed25519 AAAA...' or PEM)")
    return parse_openssh_public(fields[0], fields[1], str(path))


def parse_openssh_public(ssh_type: str, blob: str, where: str) -> PublicKey:
    """The public key of an OpenSSH ``type base64`` pair; ``where`` names it in errors."""
    if ssh_type not in SUPPORTED_SSH_TYPES:
        raise SigningError(f"{where}: key type {ssh_type} is not supported for gate "
                           f"attestations; {_WHAT_TO_USE}")
    ed25519_key = _exact_ed25519(ssh_type, blob)
    if ed25519_key is not None:
        return ed25519_key
    from cryptography.hazmat.primitives import serialization

    try:
        inner = base64.b64decode(blob, validate=True)
        declared = inner[4:4 + int.from_bytes(inner[:4], "big")].decode("ascii")
        key = serialization.load_ssh_public_key(f"{ssh_type} {blob}".encode("ascii"))
    except Exception as exc:
        raise SigningError(f"{where}: not a valid {ssh_type} public key "
                           f"({_reason(exc)})") from None
    if declared != ssh_type:
        raise SigningError(f"{where}: the key says {ssh_type} but its data is a {declared} key")
    return _public_of(key, where)


def _ssh_string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _exact_ed25519(ssh_type: str, blob: str) -> PublicKey | None:
    """An ``ssh-ed25519`` key whose data is exactly the two strings of RFC 8709 (its type
    and 32 key bytes), read without cryptography's OpenSSH parser; None for anything else,
    which that parser then reads (and refuses in its words)."""
    if ssh_type != "ssh-ed25519":
        return None
    try:
        inner = base64.b64decode(blob, validate=True)
    except ValueError:
        return None
    name = _ssh_string(b"ssh-ed25519")
    key_bytes = inner[len(name):]
    if not inner.startswith(name) or key_bytes[:4] != (32).to_bytes(4, "big") or \
            len(key_bytes) != 36:
        return None
    from cryptography.hazmat.primitives.asymmetric import ed25519

    try:
        key = ed25519.Ed25519PublicKey.from_public_bytes(key_bytes[4:])
    except ValueError:
        return None
    return PublicKey(key, "ssh-ed25519")


def _public_of(key: PublicKeyTypes, where: Path | str) -> PublicKey:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    if isinstance(key, ed25519.Ed25519PublicKey):
        return PublicKey(key, "ssh-ed25519")
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return PublicKey(key, "ecdsa-sha2-nistp256")
    curve = getattr(getattr(key, "curve", None), "name", None)
    kind = f"ECDSA {curve}" if curve else type(key).__name__.removesuffix("PublicKey")
    raise SigningError(f"{where}: a {kind} key is not supported for gate attestations; "
                       f"{_WHAT_TO_USE}")


def read_limited(path: Path, what: str, limit: int = _MAX_KEY_BYTES) -> bytes:
    """A small file's bytes, or :class:`SigningError` naming the file and what it should be."""
    try:
        return read_regular_file(path, limit)
    except UnusableFile as exc:
        kind = f"too large to be a {what}" if exc.over_limit else f"{exc.reason}, so not a {what}"
        raise SigningError(f"{path}: {kind}") from None
    except FileNotFoundError:
        raise SigningError(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise SigningError(f"{path}: is a directory, not a {what}") from None
    except OSError as exc:
        raise SigningError(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
