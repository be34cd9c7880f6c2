"""``deploygate verdict --allowed-signers FILE | --key PUBKEY``: the signature checks.

With a verifier, a record counts only when its attestation (``GATE-NN[-stage].intoto.json``
beside it, or ``--attestation``) is signed by an allowed signer, its XML is byte for byte the
one signed, the signed gate and stage are the ones the file name (or ``--stage``) says, and
its release subject is the release being deployed (the project ``deploygate`` runs in, or
``--commit``). Each failure is one line and exit 4.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_deploygate.signing import SigningError

if TYPE_CHECKING:
    from pytest_deploygate.cli.workspace import Workspace
    from pytest_deploygate.evidence.release import ReleaseIdentity
    from pytest_deploygate.records.reader import GateRecord
    from pytest_deploygate.signing.verify import Verified, Verifier



def add_signing_arguments(parser: argparse.ArgumentParser) -> None:
    """The verifier options of ``deploygate verdict``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--allowed-signers", type=Path, metavar="FILE",
                       help="require an attestation signed by a key of this git "
                            "allowed-signers file (namespaces=\"deploygate\")")
    group.add_argument("--key", type=Path, metavar="PUBKEY",
                       help="require an attestation signed by this public key (OpenSSH or PEM)")
    parser.add_argument("--project", metavar="ID",
                        help="monorepo: the project the record is for (default: the record's "
                             "directory name when it is a project of .isdlc/projects)")
    parser.add_argument("--attestation", type=Path, metavar="FILE",
                        help="the record's attestation (default: GATE-NN[-stage].intoto.json "
                             "beside the record)")


def signature_problem(args: argparse.Namespace, record: GateRecord, workspace: Workspace,
                      release: ReleaseIdentity) -> str | None:
    """None when no verifier is asked for or the attestation checks out; else one line."""
    allowed: Path | None = getattr(args, "allowed_signers", None)
    key: Path | None = getattr(args, "key", None)
    if allowed is None and key is None:
        return None
    from pytest_deploygate.core.timeutil import now_utc
    from pytest_deploygate.evidence.committed_path import verifier_file_problem
    from pytest_deploygate.signing.verify import (
        Verifier,
        check_record,
        check_release,
        envelope_path,
        verify_attestation,
    )

    path: Path = args.record
    attestation = args.attestation or envelope_path(path)
    unreviewed = verifier_file_problem(workspace.root, allowed, "allowed-signers file",
                                       workspace.top) if allowed is not None else \
        verifier_file_problem(workspace.root, key, "public key", workspace.top) \
        if key is not None else None
    if unreviewed:
        return f"cannot verify: {unreviewed}"
    try:
        if allowed is not None:
            verifier = Verifier.from_allowed_signers(allowed)
        else:
            assert key is not None  # one of the two was given (checked above)
            verifier = Verifier.from_public_key(key)
    except SigningError as exc:
        return f"cannot verify: {exc}"
    try:
        verified = verify_attestation(attestation, verifier, now_utc())
    except SigningError as exc:
        if str(exc).startswith("unsigned"):
            said = record.properties.get("deploygate.signature", "no signature property")
            return f"{exc} (the record says: {said})"
        return str(exc)
    predicate = verified.predicate
    try:
        check_record(verified, path, record)
        _check_name(predicate, path, args, workspace)
        _check_project(verified, path, workspace.root, getattr(args, "project", None))
        check_release(verified, release)
        _check_pre_stage_chain(verified, path, verifier)
    except SigningError as exc:
        return str(exc)
    return None


def _check_pre_stage_chain(verified: Verified, path: Path, verifier: Verifier) -> None:
    """A post stage counts only when the pre attestation it was bound to verifies here too.

    The post stage chose its signers from its own options or deploygate.yaml; a deploy job
    trusts only its allowed signers, so the pre attestation named (by digest) in the signed
    post predicate must be beside the record, unchanged, and signed by one of them.
    """
    import hashlib

    from pytest_deploygate.core.limits import DEFAULT_EVIDENCE_BYTES
    from pytest_deploygate.core.regular_files import UnusableFile, read_regular_file
    from pytest_deploygate.core.timeutil import now_utc
    from pytest_deploygate.signing import envelope_path
    from pytest_deploygate.signing.verify import verify_envelope

    predicate = verified.predicate
    binding = next((c for c in predicate["criteria"] if c["id"] == "pre-stage-record"), None)
    if predicate["stage"] != "post" or binding is None or binding["outcome"] != "met":
        return
    wanted = {e["digest"].get("sha256") for e in binding["evidence"]
              if e["kind"] == "attestation"}
    pre = envelope_path(path.with_name(f"{predicate['gate']}-pre.xml"))
    # Read once: the digest compared and the signature checked are of the same bytes (with
    # two reads, the bound envelope and an older one the CI key signed could be swapped in
    # between, and the chain passed).
    try:
        data = read_regular_file(pre, DEFAULT_EVIDENCE_BYTES) if pre.is_file() else None
    except UnusableFile as exc:
        raise SigningError(f"{pre}: {exc.reason}") from None
    except OSError as exc:
        raise SigningError(f"{pre}: cannot read: {exc.strerror or exc}") from None
    if data is None or hashlib.sha256(data).hexdigest() not in wanted:
        raise SigningError(f"the pre-stage attestation the post stage was bound to is not "
                           f"{pre} (missing or another one): cannot check who signed it")
    try:
        verify_envelope(data, pre, verifier, now_utc())
    except SigningError as exc:
        raise SigningError(f"the pre-stage attestation the post stage was bound to: {exc}") \
            from None


def _check_name(predicate: Mapping[str, Any], path: Path, args: argparse.Namespace,
                workspace: Workspace) -> None:
    from pytest_deploygate.records.verify import RECORD_NAME

    match = RECORD_NAME.fullmatch(path.name)
    if match is None and getattr(args, "stage", None) is None:
        # Any signed record of this release would do for a name that says no gate: refuse.
        raise SigningError(f"the file name does not say which gate and stage it must be "
                           f"(GATE-NN[-pre|-post].xml as the gate wrote it); attested "
                           f"{predicate['gate']} stage {predicate['stage']!r}")
    given = getattr(args, "gate", None)
    gate = given or (match.group("gate") if match else None)
    stage = getattr(args, "stage", None) or (match.group("stage") or "all" if match else None)
    if gate is not None and predicate["gate"] != gate and \
            not (given and predicate["gate"] == _gate_id(workspace, given)):
        # (--gate takes what --gate=N of a run takes, 12 or 12-production: it names the
        # spec whose id the attestation carries.)
        raise SigningError(f"the attestation is for {predicate['gate']}, "
                           f"{'--gate' if given else 'the file name'} says {gate}")
    if stage is not None and predicate["stage"] != stage:
        raise SigningError(f"the attestation is for stage {predicate['stage']!r}, this record is "
                           f"for stage {stage!r}")


def _gate_id(workspace: Workspace, expression: str) -> str | None:
    """The id of the spec ``expression`` selects (None when it selects none: the mismatch is
    then reported as it is)."""
    from pytest_deploygate.cli.workspace import Refusal

    try:
        return workspace.gate(expression).id
    except Refusal:
        return None


def expected_project(path: Path, root: Path, explicit: str | None) -> tuple[str | None, set[str]]:
    """The monorepo project a record must be of (``--project``, else the record's directory
    when it is named after a project of ``.isdlc/projects``; None: no project's), and the
    monorepo's projects."""
    base = root / ".isdlc" / "projects"
    projects = {p.parent.name for p in base.glob("*/state.json")} if base.is_dir() else set()
    return explicit or (path.parent.name if path.parent.name in projects else None), projects


def _check_project(verified: Verified, path: Path, root: Path, explicit: str | None) -> None:
    """A monorepo's projects share commit and tree: the signed project must be this one.

    The project is ``--project``, else the record's directory when it is named after a project
    of ``.isdlc/projects`` (where a monorepo run writes its records); any other record must not
    be a monorepo project's, so one project's PASS cannot stand in for another's.
    """
    from pytest_deploygate.signing.verify import check_project

    expected, projects = expected_project(path, root, explicit)
    if expected is not None:
        check_project(verified, expected)
        return
    signed = verified.predicate["release"]["project"]
    if signed in projects:
        raise SigningError(f"the attestation is for monorepo project {signed!r}, and this record "
                           f"is not in a directory of that name: pass --project {signed} if it "
                           "is the one to deploy")
