"""The attestation log and the approvers file.

Formats (both documented in docs/attestations.md, both with a shipped JSON Schema):

- the log, ``.deploygate/attestations.jsonl``: JSON Lines, one sign-off per line, appended and
  never rewritten (so ``git blame`` attributes every line to the commit that added it);
- the approvers, ``.deploygate/approvers.yaml``: who holds which roles; kept under review.

A malformed line is reported with file and line and does not count; it never stops the rest
of the log from being read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pytest_deploygate.config import ProjectConfig
from pytest_deploygate.documents import load_checked_yaml
from pytest_deploygate.errors import SpecError
from pytest_deploygate.paths import OutsideRoot, inside_root
from pytest_deploygate.timeutil import parse_instant

ATTESTATION_SCHEMA = "attestation.schema.json"
APPROVERS_SCHEMA = "approvers.schema.json"
MAX_LOG_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Attestation:
    """One parsed sign-off line."""

    gate: int | str
    criterion: str
    signer: str
    role: str
    at: datetime
    line: int
    expires: datetime | None = None
    evidence: str | None = None
    note: str | None = None
    present: bool = False

    def matches_gate(self, number: int, gate_id: str) -> bool:
        """True when the line names this gate by number or id."""
        return self.gate == number or self.gate == gate_id


@dataclass
class AttestationStore:
    """Parsed log, approvers and the problems met reading them."""

    log_name: str
    approvers_name: str
    entries: list[Attestation] = field(default_factory=list)
    roles_by_signer: dict[str, frozenset[str]] = field(default_factory=dict)
    log_problem: str | None = None
    approvers_problem: str | None = None
    line_problems: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, root: Path, config: ProjectConfig) -> AttestationStore:
        """Read both files; problems are kept, not raised, so each criterion can report them."""
        store = cls(config.attestation_log, config.approvers)
        store._read_approvers(root, config.approvers)
        store._read_log(root, config.attestation_log)
        return store

    def for_criterion(self, number: int, gate_id: str, criterion: str) -> list[Attestation]:
        """Sign-offs naming this gate and criterion, in log order."""
        return [e for e in self.entries
                if e.criterion == criterion and e.matches_gate(number, gate_id)]

    def _read_approvers(self, root: Path, relative: str) -> None:
        try:
            path = inside_root(root, relative)
        except OutsideRoot as exc:
            self.approvers_problem = f"approvers file {exc}"
            return
        if not path.is_file():
            self.approvers_problem = (f"no approvers file at {relative}; create it listing who "
                                      "holds which role (see docs/attestations.md)")
            return
        try:
            data: Mapping[str, Any] = load_checked_yaml(path, APPROVERS_SCHEMA).data
        except SpecError as exc:
            self.approvers_problem = str(exc).replace(str(path), relative)
            return
        for approver in data["approvers"]:
            email = approver["email"].lower()
            self.roles_by_signer[email] = self.roles_by_signer.get(email, frozenset()) | frozenset(
                approver["roles"])

    def _read_log(self, root: Path, relative: str) -> None:
        try:
            path = inside_root(root, relative)
        except OutsideRoot as exc:
            self.log_problem = f"attestation log {exc}"
            return
        if not path.is_file():
            self.log_problem = f"no attestation log at {relative}"
            return
        try:
            if path.stat().st_size > MAX_LOG_BYTES:
                self.log_problem = f"{relative} is over the {MAX_LOG_BYTES} byte limit"
                return
            text = path.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            self.log_problem = f"cannot read {relative}: {exc}"
            return
        import jsonschema

        validator = jsonschema.Draft202012Validator(_schema())
        seen: dict[str, int] = {}
        for number, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            entry = self._parse_line(relative, number, raw, validator)
            if entry is None:
                continue
            if raw.strip() in seen:
                self.line_problems.append(
                    f"{relative}:{number}: duplicate of line {seen[raw.strip()]}; ignored")
                continue
            seen[raw.strip()] = number
            self.entries.append(entry)

    def _parse_line(self, relative: str, number: int, raw: str, validator: Any
                    ) -> Attestation | None:
        where = f"{relative}:{number}"
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            self.line_problems.append(f"{where}: not a JSON object: {exc}")
            return None
        error = next(iter(validator.iter_errors(data)), None)
        if error is not None:
            path = ".".join(str(p) for p in error.absolute_path) or "(line)"
            self.line_problems.append(f"{where}: {path}: {error.message}")
            return None
        try:
            at = parse_instant(data["at"])
            expires = parse_instant(data["expires"]) if "expires" in data else None
        except ValueError as exc:
            self.line_problems.append(f"{where}: {exc}")
            return None
        return Attestation(
            gate=data["gate"], criterion=data["criterion"], signer=data["signer"].lower(),
            role=data["role"], at=at, line=number, expires=expires,
            evidence=data.get("evidence"), note=data.get("note"),
            present=bool(data.get("present", False)),
        )


def _schema() -> dict[str, Any]:
    from pytest_deploygate.documents import schema

    return schema(ATTESTATION_SCHEMA)

