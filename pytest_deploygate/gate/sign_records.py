"""Signing a gate run's records: thin calls from the record writer.

Per plan: before the record is rendered, :meth:`RecordSigner.prepare` finds the release and
the deployed artefacts and says what the record's ``deploygate.signature`` property is; after
the record is written, :meth:`RecordSigner.sign` hashes it, signs the statement and writes
``GATE-NN[-stage].intoto.json`` beside it. Without a key every record says ``unsigned`` (and
a stale attestation from an earlier run is removed, so it can never sit beside a new record).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_deploygate.signing import SigningError, envelope_path

if TYPE_CHECKING:
    from pytest_deploygate.gate.plan import GatePlan
    from pytest_deploygate.records.content import RecordContent
    from pytest_deploygate.signing.keys import PrivateKey
    from pytest_deploygate.signing.statement import Subject

UNSIGNED = "unsigned"
_DIGEST = re.compile(r"(?:sha256:)?([0-9a-f]{64})")


class RecordSigner:
    """Signs every record of a run with one key (or says each is unsigned)."""

    def __init__(self, key: PrivateKey | None) -> None:
        self.key = key
        self._prepared: dict[str, tuple[list[Subject], Any] | SigningError] = {}

    @classmethod
    def load(cls, key_path: Path | None) -> RecordSigner:
        """Load the key; raise :class:`SigningError` when it cannot be used."""
        if key_path is None:
            return cls(None)
        from pytest_deploygate.signing.keys import load_private_key

        return cls(load_private_key(key_path))

    def prepare(self, plan: GatePlan) -> str:
        """The record's ``deploygate.signature`` property (subjects are computed now)."""
        if self.key is None:
            return UNSIGNED
        try:
            self._prepared[plan.record_name] = _subjects(plan)
        except SigningError as exc:
            self._prepared[plan.record_name] = exc
            return f"{UNSIGNED}: {exc}"
        name = envelope_path(plan.record_dir / f"{plan.file_stem}.xml").name
        return f"in-toto DSSE {name} key {self.key.public.keyid}"

    def sign(self, plan: GatePlan, content: RecordContent, record_path: Path) -> Path | None:
        """Write the attestation of the record at ``record_path``; None when unsigned."""
        target = envelope_path(record_path)
        if self.key is None:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            return None
        prepared = self._prepared.get(plan.record_name)
        if not isinstance(prepared, tuple):
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            raise prepared or SigningError(f"{plan.record_name}: not prepared for signing")
        subjects, release = prepared
        try:
            payload = _statement(plan, content, record_path, subjects, release)
        except SigningError:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            raise
        from pytest_deploygate.core.atomic import write_atomic
        from pytest_deploygate.signing.dsse import IN_TOTO_PAYLOAD_TYPE, sign

        write_atomic(target, sign(IN_TOTO_PAYLOAD_TYPE, payload, self.key).to_json())
        return target


def _statement(plan: GatePlan, content: RecordContent, record_path: Path,
               subjects: list[Subject], release: Any) -> bytes:
    from pytest_deploygate.records.reader import RecordError, read_record
    from pytest_deploygate.signing.statement import build_predicate, statement_bytes

    try:
        record = read_record(record_path)  # (its sha256 is of the very bytes parsed)
    except RecordError as exc:
        raise SigningError(f"cannot sign {plan.record_name}: {exc}") from None
    predicate = build_predicate(content, record.testcases, subjects[0].name, release,
                                record_path.name, record.sha256)
    return statement_bytes(subjects, predicate)


def _subjects(plan: GatePlan) -> tuple[list[Subject], Any]:
    """The release subject, then the artefacts deploygate.yaml names; fail closed."""
    from pytest_deploygate.evidence.release import release_identity
    from pytest_deploygate.signing.statement import Subject, release_subject

    project = plan.project
    if project is None:
        raise SigningError(f"cannot sign {plan.record_name}: {plan.slot.error}")
    release = release_identity(project.root, record_dir=plan.record_dir,
                               version=project.version)
    if release.commit is None or release.tree is None:
        raise SigningError(f"cannot sign {plan.record_name}: the release is unknown "
                           f"({release.problem})")
    subjects = [release_subject(plan.slot.id or project.name, release)]
    for entry in project.config.signing_subjects:
        subjects.append(Subject(str(entry["name"]), _artefact_digest(project.root, entry)))
    return subjects, release


def _artefact_digest(root: Path, entry: Mapping[str, Any]) -> dict[str, str]:
    from pytest_deploygate.core.limits import DEFAULT_DOCUMENT_BYTES
    from pytest_deploygate.core.paths import OutsideRoot, inside_root
    from pytest_deploygate.core.regular_files import (
        UnusableFile,
        read_regular_file,
        sha256_of_regular_file,
    )

    relative = str(entry.get("file") or entry.get("digest_file"))
    where = f"deploygate.yaml signing.subjects {entry.get('name')!r}"
    try:
        path = inside_root(root, relative)
        # A release artifact is hashed in pieces, whatever its size; a digest file is a line.
        # Neither may be a pipe or a link to a device (it would hang the signing).
        if entry.get("file"):
            return {"sha256": sha256_of_regular_file(path)}
        data = read_regular_file(path, DEFAULT_DOCUMENT_BYTES)
    except OutsideRoot as exc:
        raise SigningError(f"{where}: {exc}") from None
    except UnusableFile as exc:
        raise SigningError(f"{where}: {relative}: {exc.reason}") from None
    except OSError as exc:
        raise SigningError(f"{where}: {relative}: {exc.strerror or exc}") from None
    match = _DIGEST.fullmatch(data.decode("ascii", "replace").strip())
    if match is None:
        raise SigningError(f"{where}: {relative} does not hold a sha256 digest "
                           "('sha256:' and 64 hex digits)")
    return {"sha256": match.group(1)}
