"""The attestation log and the approvers file.

Formats (documented in docs/attestations.md, each with a shipped JSON Schema):

- the log, ``.deploygate/attestations.jsonl``: JSON Lines, one sign-off per line, appended and
  never rewritten, so git attributes every line to the commit (and author) that added it;
- the approvers, ``.deploygate/approvers.yaml``: who holds which roles; kept under review.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_deploygate.core.documents import load_checked_yaml
from pytest_deploygate.core.errors import SpecError
from pytest_deploygate.core.paths import OutsideRoot, inside_root
from pytest_deploygate.core.run_scope import RunScope
from pytest_deploygate.core.timeutil import parse_instant
from pytest_deploygate.core.trust_rules import (
    UntrustedIdentity,
    effective_time,
    future_commit_problem,
    identity,
    openpgp_fingerprint,
    same_identity,
    signature_problem,
    ssh_key_fingerprint,
)
from pytest_deploygate.core.value_class import field, value_class
from pytest_deploygate.evidence.config import ProjectConfig
from pytest_deploygate.evidence.git import LineOrigin, commit_signature
from pytest_deploygate.evidence.release import (
    ReleaseIdentity,
    gated_release_authors,
    uncommitted_file_problem,
)
from pytest_deploygate.isdlc.gate_names import names_gate
from pytest_deploygate.trust.jsonl_log import read_jsonl
from pytest_deploygate.trust.release_binding import SIGN_OFF, ReleaseBinding

if TYPE_CHECKING:
    from pytest_deploygate.isdlc.layout import Layout
    from pytest_deploygate.spec.model import GateSpec

ATTESTATION_SCHEMA = "attestation.schema.json"
APPROVERS_SCHEMA = "approvers.schema.json"
#: The sign-off that names the reviewer of a gate record (not a criterion of any spec).
REVIEW_CRITERION = "gate-review"


@value_class(frozen=True)
class Attestation:
    """One parsed sign-off line.

    ``at`` is when the line counts as made: with authorship verified, the earliest of its
    commit's times and the clock (git's answer, never the line's own ``at``); without, the
    line's claim, and the evidence says authorship=not-verified.
    """

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
    claimed_at: datetime | None = None

    def matches_gate(self, spec: GateSpec, layout: Layout) -> bool:
        """True when the line names this gate (by number or id on the 13-phase layout, by
        phase key, or by a number only one phase of today's layout has: see gate_names)."""
        return names_gate(self.gate, layout, number=spec.gate, gate_id=spec.id,
                          phase=spec.phase)


@value_class
class AttestationStore:
    """Parsed log, approvers, git attribution, and the problems met reading them."""

    log_name: str
    approvers_name: str
    root: Path
    verify_authorship: bool = True
    require_signed: bool = False
    forbid_self_approval: bool = False
    bind_to_release: bool = True
    entries: list[Attestation] = field(default_factory=list)
    roles_by_signer: dict[str, frozenset[str]] = field(default_factory=dict)
    keys_by_signer: dict[str, ApproverKeys] = field(default_factory=dict)
    log_problem: str | None = None
    approvers_problem: str | None = None
    line_problems: list[str] = field(default_factory=list)
    _signed: dict[tuple[str, str], str | None] = field(default_factory=dict)
    _by_criterion: dict[str, list[Attestation]] | None = None
    _release_authors: dict[datetime | None, frozenset[str] | None] = field(default_factory=dict)
    #: The release tree at each sign-off commit, asked once (built with the store).
    _binding: ReleaseBinding = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._binding = ReleaseBinding(self.root)

    @classmethod
    def load(cls, root: Path, config: ProjectConfig, scope: RunScope | None = None
             ) -> AttestationStore:
        """Read both files; problems are kept, not raised, so each criterion can report them."""
        store = cls(config.attestation_log, config.approvers, root,
                    config.verify_authorship, config.require_signed_commits,
                    config.forbid_self_approval, config.bind_to_release)
        scope = scope or RunScope()
        store._read_approvers(root, config.approvers, scope)
        store._read_log(root, config.attestation_log, scope)
        return store

    @classmethod
    def approvers_only(cls, root: Path, config: ProjectConfig, scope: RunScope | None = None
                       ) -> AttestationStore:
        """Only the approvers file (roles and signing keys), for approvals outside the log."""
        store = cls(config.attestation_log, config.approvers, root,
                    require_signed=config.require_signed_commits)
        store._read_approvers(root, config.approvers, scope or RunScope())
        return store

    def for_criterion(self, spec: GateSpec, layout: Layout, criterion: str
                      ) -> list[Attestation]:
        """Sign-offs naming this gate and criterion, in log order."""
        if self._by_criterion is None:
            self._by_criterion = {}
            for entry in self.entries:
                self._by_criterion.setdefault(entry.criterion, []).append(entry)
        return [e for e in self._by_criterion.get(criterion, ())
                if e.matches_gate(spec, layout)]

    def authorship_problem(self, entry: Attestation) -> str | None:
        """Why git does not show this signer adding this line (None when it does)."""
        if not self.verify_authorship:
            return None
        origin = entry.origin
        if origin is None or not origin.committed:
            return "line is not committed: commit it so git records who added it"
        try:
            identity(origin.author_email)
        except UntrustedIdentity as exc:
            return f"commit {origin.commit[:12]} has an author address that is refused: {exc}"
        if not same_identity(entry.signer, origin.author_email):
            return (f"line was added by {origin.author_email or 'unknown'} in "
                    f"{origin.commit[:12]}, not by the signer")
        if self.require_signed:
            unsigned = self.signature_problem(entry.signer, origin.commit)
            if unsigned:
                return f"commit {origin.commit[:12]} {unsigned}"
        return None

    @property
    def binds_to_release(self) -> bool:
        """Whether sign-offs must be made on the gated release content (it takes the
        line's commit, so authorship must be verified)."""
        return self.verify_authorship and self.bind_to_release

    def release_problem(self, entry: Attestation, release: ReleaseIdentity,
                        bookkeeping: tuple[str, ...]) -> str | None:
        """Why this sign-off was not made on the release being gated (None when it was, or
        when sign-offs are not bound: ``bind_to_release: false`` or authorship unverified).

        The commit that added the line must hold the gated release content: an approval
        given before a content change approved other content (the release is the unit,
        as for the tag and the post stage), and a sign-off of the last release cannot be
        carried over by moving the phase start in state.json."""
        origin = entry.origin
        if not self.binds_to_release or origin is None or not origin.committed:
            return None
        return self._binding.problem(origin, release, bookkeeping, SIGN_OFF)

    def time_problem(self, entry: Attestation, clock: datetime) -> str | None:
        """A sign-off whose commit is dated after the evaluation clock is refused."""
        origin = entry.origin
        if not self.verify_authorship or origin is None or not origin.committed:
            return None
        if origin.authored is None or origin.committed_at is None:
            return f"git shows no date for commit {origin.commit[:12]}"
        return future_commit_problem(origin.authored, origin.committed_at, clock)

    def signed_at(self, entry: Attestation, clock: datetime) -> datetime:
        """When the sign-off counts as made (see Attestation)."""
        origin = entry.origin
        if (self.verify_authorship and origin is not None and origin.committed
                and origin.authored is not None and origin.committed_at is not None):
            return effective_time(origin.authored, origin.committed_at, clock)
        return min(entry.at, clock)

    def self_approval(self, entry: Attestation, started: datetime | None = None) -> str | None:
        """Why the signer may not approve this release (None when they may, or when
        self-approval is allowed). ``started`` is the phase start: every author and committer
        of the release's commits since then (``gated_release_authors``) is its author."""
        return self.release_author_problem(entry.signer, started, "the signer")

    def release_author_problem(self, person: str, started: datetime | None, who: str
                               ) -> str | None:
        """Why ``person`` (named ``who`` in the answer) may not approve this release, when
        self-approval is forbidden: a sign-off's signer and a waiver's approver alike."""
        if not self.forbid_self_approval:
            return None
        if started not in self._release_authors:
            self._release_authors[started] = gated_release_authors(self.root, started)
        authors = self._release_authors[started]
        if authors is None:  # fail closed: nobody can be shown not to be an author
            return ("git cannot show who authored the release, so self-approval cannot be "
                    "ruled out (self-approval is forbidden)")
        if any(same_identity(person, author) for author in authors):
            return f"{who} authored the release being gated (self-approval is forbidden)"
        return None

    def signature_problem(self, signer: str, commit: str) -> str | None:
        """Why ``commit`` is not signed by a key listed for ``signer`` (None when it is)."""
        cache_key = (signer, commit)
        if cache_key not in self._signed:
            keys = self.keys_by_signer.get(signer, ApproverKeys())
            if keys.fingerprints:
                signature = commit_signature(self.root, commit, self.allowed_signers(),
                                             self.openpgp_keys())
                status, found = signature.status, signature.fingerprints
                if signature.problem:  # a verifier is missing: say which, not "%G? = E"
                    self._signed[cache_key] = signature.problem
                    return signature.problem
            else:
                status, found = "N", ()
            self._signed[cache_key] = signature_problem(status, found, keys.fingerprints)
        return self._signed[cache_key]

    def allowed_signers(self) -> str:
        """An allowed-signers file of every approver's SSH keys, for this run only."""
        return "".join(f'{email} namespaces="git" {key}\n'
                       for email, keys in sorted(self.keys_by_signer.items())
                       for key in keys.ssh_keys)

    def openpgp_keys(self) -> str:
        """Every approver's armored OpenPGP public keys, for a keyring of this run only."""
        return "\n".join(keys.openpgp_armored for keys in self.keys_by_signer.values()
                         if keys.openpgp_armored)

    def _read_approvers(self, root: Path, relative: str, scope: RunScope) -> None:
        try:
            path = inside_root(root, relative)
        except OutsideRoot as exc:
            self.approvers_problem = f"approvers file {exc}"
            return
        if not path.is_file():
            self.approvers_problem = (f"no approvers file at {relative}; create it listing who "
                                      "holds which role (see docs/attestations.md)")
            return
        if self.verify_authorship:
            # Who may sign is what was reviewed and committed, never a local edit.
            unreviewed = uncommitted_file_problem(root, path)
            if unreviewed:
                self.approvers_problem = (
                    f"approvers file {relative} is not as committed ({unreviewed}): only the "
                    "committed, reviewed file says who may sign; commit it or discard the "
                    "changes")
                return
        try:
            data: Mapping[str, Any] = load_checked_yaml(path, APPROVERS_SCHEMA, scope).data
        except SpecError as exc:
            self.approvers_problem = str(exc).replace(str(path), relative)
            return
        for index, approver in enumerate(data["approvers"]):
            where = f"{relative}: approvers[{index}]"
            try:
                email = identity(approver["email"])
                keys = ApproverKeys.from_entry(approver)
            except (UntrustedIdentity, ValueError) as exc:
                self.approvers_problem = f"{where}: {exc}"
                self.roles_by_signer.clear()
                return
            self.roles_by_signer[email] = self.roles_by_signer.get(email, frozenset()) | frozenset(
                approver["roles"])
            self.keys_by_signer[email] = self.keys_by_signer.get(email, ApproverKeys()) | keys

    def _read_log(self, root: Path, relative: str, scope: RunScope) -> None:
        # Not kept in the run's cache: the store is, with an entry per line (one store serves
        # every project reading this log the same way), and a big log held twice as lines
        # and as entries was a megabyte at 1,667 sign-offs.
        log = read_jsonl(root, relative, ATTESTATION_SCHEMA, self.verify_authorship, scope,
                         keep=False)
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
            self._add_entry(relative, line.number, line.data, line.origin)
        if self.binds_to_release:
            self._binding.expect(e.origin.commit for e in self.entries
                                 if e.origin is not None and e.origin.committed)
        if self.verify_authorship:
            self._add_withdrawn_reports(root, relative, scope, log.lines)

    def _add_entry(self, relative: str, number: int, data: dict[str, Any],
                   origin: LineOrigin | None, note: str | None = None) -> None:
        try:
            at = parse_instant(data["at"])
            expires = parse_instant(data["expires"]) if "expires" in data else None
            signer = identity(data["signer"])
        except ValueError as exc:  # UntrustedIdentity included
            self.line_problems.append(f"{relative}:{number}: {exc}")
            return
        self.entries.append(Attestation(
            gate=data["gate"], criterion=data["criterion"], signer=signer,
            role=data["role"], at=at, line=number, expires=expires,
            evidence=data.get("evidence"), note=note or data.get("note"),
            present=bool(data.get("present", False)), origin=origin, claimed_at=at,
        ))

    def _add_withdrawn_reports(self, root: Path, relative: str, scope: RunScope,
                               kept: list[Any]) -> None:
        """Count a rollback-trigger report (``present: true``) that was committed and later
        removed from the log, as if it were still there.

        The log is append-only: a report that the condition is present wins over any
        "absent", so deleting the line (in a commit, or in the work tree) withdrew a
        rollback without anyone saying so. The removed line is dated and attributed by the
        commit that added it, and judged as every other line (signer, role, release)."""
        import json

        from pytest_deploygate.core.documents import schema
        from pytest_deploygate.core.schema_check import checker_for
        from pytest_deploygate.evidence.git import GitError, commit_origins, lines_ever_added
        from pytest_deploygate.trust.log_paths import log_paths_ever

        try:
            # Every path the log had (renamed, or another file configured): a report in the
            # log's earlier file is as much a report as one in today's.
            added = lines_ever_added(root, *log_paths_ever(root, relative))
        except GitError as exc:
            self.log_problem = str(exc)
            return
        if added is None:
            self.log_problem = (f"git cannot show the history of {relative}, so a removed "
                                "rollback report cannot be ruled out")
            return
        # Still there means the same line, attributed to the commit that added it: a report
        # rewritten (a space added, keys reordered) is attributed to whoever rewrote it, so
        # it no longer counts as the reporter's, and the reporter's line is missing.
        present_now = {(json.dumps(line.data, sort_keys=True),
                        line.origin.commit if line.origin is not None else None)
                       for line in kept}
        validator = checker_for(schema(ATTESTATION_SCHEMA))
        withdrawn: list[tuple[dict[str, Any], str]] = []
        for raw, commit in added.items():
            if b"present" not in raw and b"\\u" not in raw:
                continue  # (only a report of a trigger matters here)
            try:
                data = json.loads(raw.decode("utf-8").strip(" "))
            except (ValueError, RecursionError):
                continue
            if (not isinstance(data, dict) or data.get("present") is not True
                    or next(iter(validator.iter_errors(data)), None) is not None
                    or (json.dumps(data, sort_keys=True), commit) in present_now):
                continue
            withdrawn.append((data, commit))
        if not withdrawn:
            return
        try:
            origins = commit_origins(root, {commit for _, commit in withdrawn})
        except GitError as exc:
            self.log_problem = str(exc)
            return
        for data, commit in withdrawn:
            self._add_entry(relative, 0, data, origins[commit],
                            note=f"reported in commit {commit[:12]} and later removed from "
                                 f"{relative} (or an earlier path of the log); a report is "
                                 "never withdrawn by deleting it")


@value_class(frozen=True)
class ApproverKeys:
    """The signing keys the approvers file lists for one approver."""

    ssh_keys: tuple[str, ...] = ()
    openpgp_armored: str = ""
    fingerprints: frozenset[str] = frozenset()

    @classmethod
    def from_entry(cls, approver: Mapping[str, Any]) -> ApproverKeys:
        """Read ``ssh_keys``, ``openpgp_fingerprints`` and ``openpgp_public_keys``; raises
        ValueError naming the bad key."""
        ssh_keys: list[str] = []
        fingerprints: set[str] = set()
        for index, key in enumerate(approver.get("ssh_keys", ())):
            try:
                fingerprints.add(ssh_key_fingerprint(key))
            except ValueError as exc:
                raise ValueError(f"ssh_keys[{index}]: {exc}") from None
            ssh_keys.append(" ".join(key.split()[:2]))  # type and key: no comment, no options
        for index, text in enumerate(approver.get("openpgp_fingerprints", ())):
            try:
                fingerprints.add(openpgp_fingerprint(text))
            except ValueError as exc:
                raise ValueError(f"openpgp_fingerprints[{index}]: {exc}") from None
        return cls(tuple(ssh_keys), approver.get("openpgp_public_keys", ""),
                   frozenset(fingerprints))

    def __or__(self, other: ApproverKeys) -> ApproverKeys:
        armored = "\n".join(a for a in (self.openpgp_armored, other.openpgp_armored) if a)
        return ApproverKeys(self.ssh_keys + other.ssh_keys, armored,
                            self.fingerprints | other.fingerprints)

