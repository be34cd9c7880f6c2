"""The in-toto Statement v1 of a gate decision, and reading one back.

Subjects: the release (name = project id; digests ``gitCommit`` and ``gitTree`` of the release
content), then any deployed artefacts deploygate.yaml names (a wheel's sha256, an image
digest), so artefact-based verifiers match too. The predicate is documented by
``schemas/gate-decision-predicate.schema.json`` and checked against it when read.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pytest_deploygate.core.results import Evidence
from pytest_deploygate.core.timeutil import format_instant
from pytest_deploygate.core.value_class import value_class
from pytest_deploygate.core.version import __version__
from pytest_deploygate.evidence.release import ReleaseIdentity
from pytest_deploygate.records.content import RecordContent
from pytest_deploygate.records.reader import RecordTestcase
from pytest_deploygate.signing import SigningError
from pytest_deploygate.signing.dsse import load_json_strict

if TYPE_CHECKING:
    from pytest_deploygate.core.schema_check import Checker

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://pytest-deploygate.invalid/attestations/gate-decision/v1"
PREDICATE_SCHEMA = "gate-decision-predicate.schema.json"


@value_class(frozen=True)
class Subject:
    """One in-toto subject: a name and its digests."""

    name: str
    digest: Mapping[str, str]

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"name": self.name, "digest": dict(self.digest)}


def release_subject(project_id: str, release: ReleaseIdentity) -> Subject:
    """The release as a subject (commit and tree must be known)."""
    assert release.commit and release.tree
    return Subject(project_id, {"gitCommit": release.commit, "gitTree": release.tree})


def build_predicate(content: RecordContent, testcases: Sequence[RecordTestcase],
                    project_id: str, release: ReleaseIdentity, record_name: str,
                    record_sha256: str) -> dict[str, Any]:
    """The predicate of ``content``, whose rendered record parsed into ``testcases``."""
    props = content.properties
    decision = content.decision
    if len(testcases) != len(content.items) + 1:
        raise SigningError(f"{record_name}: the rendered record has {len(testcases)} testcases "
                           f"for {len(content.items)} criteria")
    criteria = []
    for item, case in zip(content.items, testcases, strict=False):
        outcome = item.outcome
        criteria.append({
            "id": item.criterion.id,
            "testcase": case.name,
            "role": item.criterion.role,
            "outcome": outcome.status if outcome else "not_run",
            "verdict": item.verdict,
            "junit": {"result": case.outcome, "type": case.kind},
            "evidence": _evidence_digests(outcome.evidence if outcome else []),
        })
    return {
        "gate": content.gate_id,
        "gate_number": int(props.get("deploygate.gate_number", "0") or 0),
        "title": content.title,
        "stage": content.stage,
        "decision": decision.status,
        "waivers": decision.waivers,
        "rows": [{"id": r.id, "title": r.title, "status": r.status, "failing": list(r.failing)}
                 for r in decision.rows],
        "expected_criteria": len(content.items),
        "criteria": criteria,
        "spec": {"source": props.get("deploygate.spec_source", ""),
                 "sha256": props.get("deploygate.spec_sha256")},
        "state": {"path": props.get("deploygate.state_path", ""),
                  "sha256": props.get("deploygate.state_sha256")},
        "release": {"project": project_id, "commit": release.commit, "tree": release.tree,
                    "version": release.version, "dirty": release.dirty},
        "evaluated_at": format_instant(content.evaluated_at),
        "plugin": {"name": "pytest-deploygate", "version": __version__},
        "record": {"name": record_name, "sha256": record_sha256},
    }


def _evidence_digests(evidence: Sequence[Mapping[str, str]]) -> list[dict[str, Any]]:
    # Only evidence with a digest: URLs and other references stay in the (hashed) record,
    # so nothing the record redacts can leak through the predicate.
    out = []
    for raw in evidence:
        item = Evidence.from_dict(dict(raw))
        if item.sha256:
            out.append({"kind": item.kind, "ref": item.ref, "digest": {"sha256": item.sha256}})
    return out


def statement_bytes(subjects: Sequence[Subject], predicate: Mapping[str, Any]) -> bytes:
    """The statement as canonical-enough JSON (sorted keys, no spaces): the signed payload."""
    doc = {"_type": STATEMENT_TYPE, "subject": [s.to_dict() for s in subjects],
           "predicateType": PREDICATE_TYPE, "predicate": predicate}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


@value_class(frozen=True)
class Statement:
    """A statement read back from a verified payload."""

    subjects: tuple[Subject, ...]
    predicate: Mapping[str, Any]


def parse_statement(payload: bytes, where: str) -> Statement:
    """Read and check a statement: type, subjects, predicate type and predicate schema."""
    doc = load_json_strict(payload, f"{where}: payload")
    if not isinstance(doc, dict) or doc.get("_type") != STATEMENT_TYPE:
        raise SigningError(f"{where}: the payload is not an in-toto Statement v1")
    if doc.get("predicateType") != PREDICATE_TYPE:
        raise SigningError(f"{where}: predicateType {doc.get('predicateType')!r} is not "
                           f"{PREDICATE_TYPE}")
    raw_subjects = doc.get("subject")
    if not isinstance(raw_subjects, list) or not raw_subjects:
        raise SigningError(f"{where}: the statement has no subject")
    subjects = []
    for entry in raw_subjects:
        digest = entry.get("digest") if isinstance(entry, dict) else None
        if not isinstance(digest, dict) or not all(isinstance(v, str) for v in digest.values()) \
                or not isinstance(entry.get("name", ""), str):
            raise SigningError(f"{where}: a subject is not {{name, digest}}")
        subjects.append(Subject(entry.get("name", ""), digest))
    predicate = doc.get("predicate")
    errors = sorted(_validator().iter_errors(predicate), key=lambda e: list(e.absolute_path))
    if errors:
        path = ".".join(str(p) for p in errors[0].absolute_path) or "(top level)"
        raise SigningError(f"{where}: the predicate does not match its schema at {path}: "
                           f"{errors[0].message[:200]}")
    if not isinstance(predicate, dict):  # the schema already asks for one; this names the type
        raise SigningError(f"{where}: the predicate is not an object")
    return Statement(tuple(subjects), predicate)


def _validator() -> Checker:
    from pytest_deploygate.core.documents import schema
    from pytest_deploygate.core.schema_check import checker_for

    return checker_for(schema(PREDICATE_SCHEMA))
