"""The attestation log and the approvers file.

Formats (documented in docs/attestations.md, each with a shipped JSON Schema):

- the log, ``.deploygate/attestations.jsonl``: JSON Lines, one sign-off per line, appended and
  never rewritten, so git attributes every line to the commit (and author) that added it;
- the approvers, ``.deploygate/approvers.yaml``: who holds which roles; kept under review.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pytest_deploygate.config import ProjectConfig
from pytest_deploygate.documents import load_checked_yaml
from pytest_deploygate.errors import SpecError
from pytest_deploygate.gitinfo import LineOrigin, release_authors, signature_ok
from pytest_deploygate.jsonl_log import read_jsonl
from pytest_deploygate.paths import OutsideRoot, inside_root
from pytest_deploygate.timeutil import parse_instant

ATTESTATION_SCHEMA = "attestation.schema.json"
APPROVERS_SCHEMA = "approvers.schema.json"
#: The sign-off that names the reviewer of a gate record (not a criterion of any spec).
REVIEW_CRITERION = "gate-review"


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
    origin: LineOrigin | None = None

    def matches_gate(self, number: int, gate_id: str) -> bool:
        """True when the line names this gate by number or id."""
        return self.gate == number or self.gate == gate_id


@dataclass
class AttestationStore:
    """Parsed log, approvers, git attribution, and the problems met reading them."""

    log_name: str
    approvers_name: str
    root: Path
    verify_authorship: bool = True
    require_signed: bool = False
    forbid_self_approval: bool = False
    entries: list[Attestation] = field(default_factory=list)
    roles_by_signer: dict[str, frozenset[str]] = field(default_factory=dict)
    log_problem: str | None = None
    approvers_problem: str | None = None
    line_problems: list[str] = field(default_factory=list)
    _signed: dict[str, bool] = field(default_factory=dict)
    _by_criterion: dict[str, list[Attestation]] | None = None
    _release_authors: frozenset[str] | bool | None = False

    @classmethod
    def load(cls, root: Path, config: ProjectConfig) -> AttestationStore:
        """Read both files; problems are kept, not raised, so each criterion can report them."""
        store = cls(config.attestation_log, config.approvers, root,
                    config.verify_authorship, config.require_signed_commits,
                    config.forbid_self_approval)
        store._read_approvers(root, config.approvers)
        store._read_log(root, config.attestation_log)
        return store

    def for_criterion(self, number: int, gate_id: str, criterion: str) -> list[Attestation]:
        """Sign-offs naming this gate and criterion, in log order."""
        if self._by_criterion is None:
            self._by_criterion = {}
            for entry in self.entries:
                self._by_criterion.setdefault(entry.criterion, []).append(entry)
        return [e for e in self._by_criterion.get(criterion, ())
                if e.matches_gate(number, gate_id)]

    def authorship_problem(self, entry: Attestation) -> str | None:
        """Why git does not show this signer adding this line (None when it does)."""
        if not self.verify_authorship:
            return None
        origin = entry.origin
        if origin is None or not origin.committed:
            return "line is not committed: commit it so git records who added it"
        if origin.author_email != entry.signer:
            return (f"line was added by {origin.author_email or 'unknown'} in "
                    f"{origin.commit[:12]}, not by the signer")
        if self.require_signed and not self._commit_signed(origin.commit):
            return f"commit {origin.commit[:12]} carries no signature git verifies"
        return None

    def self_approval(self, entry: Attestation) -> bool:
        """True when self-approval is forbidden and the signer authored any release-content
        commit since the previous release."""
        if not self.forbid_self_approval:
            return False
        if self._release_authors is False:
            self._release_authors = release_authors(self.root)
        return isinstance(self._release_authors, frozenset) and \
            entry.signer in self._release_authors

    def _commit_signed(self, commit: str) -> bool:
        if commit not in self._signed:
            self._signed[commit] = signature_ok(self.root, commit)
        return self._signed[commit]

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
        log = read_jsonl(root, relative, ATTESTATION_SCHEMA, self.verify_authorship)
        if log.problem:
            self.log_problem = f"attestation log {log.problem}"
            return
        if not log.exists:
            self.log_problem = f"no attestation log at {relative}"
            return
        if log.git_problem:
            self.log_problem = log.git_problem
            return
        self.line_problems = log.line_problems
        for line in log.lines:
            data = line.data
            try:
                at = parse_instant(data["at"])
                expires = parse_instant(data["expires"]) if "expires" in data else None
            except ValueError as exc:
                self.line_problems.append(f"{relative}:{line.number}: {exc}")
                continue
            self.entries.append(Attestation(
                gate=data["gate"], criterion=data["criterion"], signer=data["signer"].lower(),
                role=data["role"], at=at, line=line.number, expires=expires,
                evidence=data.get("evidence"), note=data.get("note"),
                present=bool(data.get("present", False)), origin=line.origin,
            ))

