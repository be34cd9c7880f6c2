"""Checking an attestation: who signed it, what it says, and whether it fits what is in hand.

Each check raises :class:`SigningError` with one line saying which check failed, so
``deploygate verdict`` and the post stage report the same reasons the same way.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from pytest_deploygate.core.limits import DEFAULT_EVIDENCE_BYTES
from pytest_deploygate.core.regular_files import UnusableFile, read_regular_file
from pytest_deploygate.core.timeutil import parse_instant
from pytest_deploygate.core.value_class import value_class
from pytest_deploygate.evidence.release import ReleaseIdentity
from pytest_deploygate.records.reader import GateRecord
from pytest_deploygate.signing import ENVELOPE_SUFFIX as ENVELOPE_SUFFIX  # re-exported
from pytest_deploygate.signing import SigningError
from pytest_deploygate.signing import envelope_path as envelope_path  # re-exported
from pytest_deploygate.signing.allowed_signers import (
    NAMESPACE,
    AllowedSigner,
    load_allowed_signers,
)
from pytest_deploygate.signing.dsse import IN_TOTO_PAYLOAD_TYPE, parse_envelope
from pytest_deploygate.signing.keys import PublicKey, load_public_key
from pytest_deploygate.signing.statement import Statement, parse_statement


@value_class(frozen=True)
class Verifier:
    """The keys whose signatures are accepted, and where they were listed."""

    signers: tuple[AllowedSigner, ...]
    source: str

    @classmethod
    def from_allowed_signers(cls, path: Path) -> Verifier:
        """Every signer of a git allowed-signers file."""
        return cls(tuple(load_allowed_signers(path)), str(path))

    @classmethod
    def from_public_key(cls, path: Path) -> Verifier:
        """A single public key file (OpenSSH or PEM)."""
        return cls.of_key(load_public_key(path), str(path))

    @classmethod
    def of_key(cls, key: PublicKey, source: str) -> Verifier:
        """A single key, e.g. the public half of the signing key in use."""
        return cls((AllowedSigner(source, key, None, None, None, source),), source)


@value_class(frozen=True)
class Verified:
    """An attestation whose signature and statement checked out."""

    signer: AllowedSigner
    statement: Statement
    envelope_sha256: str

    @property
    def predicate(self) -> dict[str, Any]:
        """The signed predicate."""
        return dict(self.statement.predicate)

    def describe(self) -> str:
        """``signed by ci-gate@acme (SHA256:...)``."""
        return f"signed by {self.signer.principals} ({self.signer.key.keyid})"


def verify_attestation(path: Path, verifier: Verifier, now: datetime,
                       max_bytes: int = DEFAULT_EVIDENCE_BYTES) -> Verified:
    """Read the envelope at ``path`` and check its signature, statement and signer validity."""
    try:
        data = read_regular_file(path, max_bytes)
    except UnusableFile as exc:
        raise SigningError(f"{path}: {exc.reason}") from None
    except FileNotFoundError:
        raise SigningError(f"unsigned: no attestation {path}") from None
    except OSError as exc:
        raise SigningError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return verify_envelope(data, path, verifier, now)


def verify_envelope(data: bytes, path: Path, verifier: Verifier, now: datetime) -> Verified:
    """Check the envelope ``data`` read from ``path`` (for a caller that must judge the very
    bytes it read for something else too: a second read may see another file)."""
    envelope = parse_envelope(data, str(path))
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE:
        raise SigningError(f"{path}: payloadType {envelope.payload_type!r} is not "
                           f"{IN_TOTO_PAYLOAD_TYPE}")
    usable = [s for s in verifier.signers if s.allows_namespace()]
    if not usable:
        raise SigningError(f"{verifier.source}: no signer is allowed for the {NAMESPACE!r} "
                           "namespace (namespaces=)")
    found = envelope.signed_by([s.key for s in usable])
    if found is None:
        hints = ", ".join(sorted({s.keyid for s in envelope.signatures if s.keyid})) or "none"
        raise SigningError(f"{path}: the envelope does not verify: no signature by a signer "
                           f"of {verifier.source} (keyid hint {hints}, not trusted)")
    key, _ = found
    statement = parse_statement(envelope.payload, str(path))
    evaluated_at = parse_instant(str(statement.predicate["evaluated_at"]))
    candidates = [s for s in usable if s.key.openssh == key.openssh]
    for signer in candidates:
        if signer.valid_at(now) and signer.valid_at(evaluated_at):
            return Verified(signer, statement, hashlib.sha256(data).hexdigest())
    where = candidates[0].where
    raise SigningError(f"{path}: signed by {key.keyid}, but {where} does not allow that key "
                       "now or at the signed evaluation time (valid-after/valid-before)")


def check_record(verified: Verified, record_path: Path, record: GateRecord) -> None:
    """The record's XML is byte for byte the one signed; if not, say where it differs.
    (The bytes ``record`` was parsed from, not the file read again.)"""
    predicate = verified.predicate
    if record.sha256 and record.sha256 == predicate["record"]["sha256"]:
        props = record.properties
        for key, signed in (("gate", predicate["gate"]), ("stage", predicate["stage"]),
                            ("decision", predicate["decision"])):
            if props.get(f"deploygate.{key}") != signed:
                raise SigningError(f"{record_path}: the record's {key} "
                                   f"{props.get(f'deploygate.{key}')!r} disagrees with the "
                                   f"signed {signed!r}")
        return
    raise SigningError(f"{record_path}: the record's XML disagrees with its signed attestation: "
                       f"{_difference(predicate, record)}")


def _difference(predicate: Mapping[str, Any], record: GateRecord) -> str:
    props = record.properties
    for key in ("gate", "stage", "decision"):
        if props.get(f"deploygate.{key}") != predicate[key]:
            return (f"{key} is {props.get(f'deploygate.{key}')!r}, signed "
                    f"{predicate[key]!r}")
    cases = {c.name: c for c in record.testcases}
    for signed in predicate["criteria"]:
        case = cases.pop(signed["testcase"], None)
        if case is None:
            return f"testcase {signed['testcase']!r} is missing"
        junit = signed["junit"]
        if (case.outcome, case.kind) != (junit["result"], junit["type"]):
            shown = case.outcome + (f" ({case.kind})" if case.kind else "")
            wanted = junit["result"] + (f" ({junit['type']})" if junit["type"] else "")
            return f"testcase {signed['testcase']!r} is {shown}, signed as {wanted}"
    extra = [name for name in cases if "[gate-decision]" not in name]
    if extra:
        return f"testcase {extra[0]!r} was not signed"
    return (f"its sha256 is not the signed {predicate['record']['sha256'][:16]}... (a message, "
            "evidence line or property was changed)")


def check_project(verified: Verified, expected: str) -> None:
    """The attestation is for project ``expected``: in a monorepo every project shares the
    commit and tree, so only the signed project id tells one project's decision from another's."""
    signed = verified.predicate["release"]["project"]
    named = {s.name for s in verified.statement.subjects
             if s.digest.get("gitCommit") == verified.predicate["release"]["commit"]}
    if signed != expected or expected not in named:
        raise SigningError(f"the attestation is for project {signed!r}, this is {expected!r}")


def check_release(verified: Verified, release: ReleaseIdentity) -> None:
    """The attestation's release subject is the release being deployed."""
    if release.commit is None:
        raise SigningError(f"cannot tell which release is being deployed: {release.problem}")
    predicate = verified.predicate
    signed = predicate["release"]
    subjects = verified.statement.subjects
    matching = [s for s in subjects if s.digest.get("gitCommit") == signed["commit"]
                and s.digest.get("gitTree") == signed["tree"]]
    if not matching:
        raise SigningError("the statement has no release subject (gitCommit and gitTree)")
    if signed.get("dirty") is not False:
        raise SigningError("the attestation was made from uncommitted changes to release "
                           "content: it names a commit that is not what was gated")
    if signed["commit"] != release.commit:
        raise SigningError(f"the attestation is for another release: commit "
                           f"{signed['commit'][:12]}, this is {release.commit[:12]}")
    if release.tree is not None and signed["tree"] != release.tree:
        raise SigningError(f"the attestation is for another release: tree {signed['tree'][:12]}, "
                           f"this is {release.tree[:12]}")
    if release.version is not None and signed["version"] != release.version:
        raise SigningError(f"the attestation is for version {signed['version']!r}, this is "
                           f"{release.version!r}")
