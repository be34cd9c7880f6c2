"""Waivers: governed, expiring, explicit exceptions to a criterion (InSpec's model, with its
known traps fixed).

Off unless the project enables them (the framework's Article IX: gate failures are fixed, not
waived). A waiver names its criterion, a justification, an expiry with a timezone and an
explicit ``run`` (no default): ``run: false`` does not evaluate the criterion, ``run: true``
evaluates and reports it but a failure does not fail the gate. An expired waiver evaluates the
criterion normally and says so. The approver is the author of the commit that added the line,
as git records it with any .mailmap disabled; an uncommitted line waives nothing. ``max_days``
runs from the earlier of that commit's times and the clock, never from the line's own ``at``,
and a commit dated after the clock waives nothing (trust_rules). Prerequisites, rollback
triggers and anything the spec marks ``waivable: false`` can never be waived. A waiver is
bound to the release content its commit holds, as a sign-off is (release_binding): one
approved before a content change waives nothing for the changed release.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_deploygate.core.results import Evidence
from pytest_deploygate.core.run_scope import RunScope
from pytest_deploygate.core.timeutil import format_instant, parse_instant
from pytest_deploygate.core.trust_rules import (
    UntrustedIdentity,
    effective_time,
    future_commit_problem,
    identity,
)
from pytest_deploygate.core.value_class import field, value_class
from pytest_deploygate.evidence.config import ProjectConfig
from pytest_deploygate.evidence.git import LineOrigin
from pytest_deploygate.evidence.release import ReleaseIdentity
from pytest_deploygate.isdlc.gate_names import names_gate
from pytest_deploygate.isdlc.layout import Layout
from pytest_deploygate.spec.model import Criterion, GateSpec
from pytest_deploygate.trust.jsonl_log import read_jsonl
from pytest_deploygate.trust.release_binding import WAIVER, ReleaseBinding

if TYPE_CHECKING:
    from pytest_deploygate.isdlc.state import StateDoc

WAIVER_SCHEMA = "waiver.schema.json"
EXPIRY_WARNING = timedelta(days=7)


@value_class(frozen=True)
class Waiver:
    """One parsed waiver line."""

    gate: int | str
    criterion: str
    justification: str
    expires: datetime
    run: bool
    line: int
    approver: str | None
    at: datetime | None = None
    origin: LineOrigin | None = None
    approver_problem: str | None = None

    def describe(self) -> str:
        """``WAIVED: <justification>; approved by <who>; expires <when>``."""
        return (f"WAIVED: {self.justification}; approved by {self.approver}; expires "
                f"{format_instant(self.expires)}")


@value_class(frozen=True)
class WaiverDecision:
    """What a waiver means for one item at the evaluation time."""

    waiver: Waiver | None
    applies: bool
    note: str = ""


@value_class
class WaiverStore:
    """The waivers of a project, and what was wrong reading them."""

    name: str
    enabled: bool
    entries: list[Waiver] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    max_days: int = 90
    approver_roles: tuple[str, ...] = ()
    roles_by_approver: dict[str, frozenset[str]] = field(default_factory=dict)
    #: With require_signed_commits, why a commit is not signed by its approver's listed key.
    signature_problem: Callable[[str, str], str | None] | None = None
    #: With forbid_self_approval, why the approver (an author of the release since the phase
    #: start given) may not approve it: a waiver approves the criterion's failure, so its
    #: approver is held to the rule a sign-off's signer is.
    author_problem: Callable[[str, datetime | None, str], str | None] | None = None
    #: Whether a waiver counts only for the release content its commit holds: the sign-offs'
    #: switch (``attestations.bind_to_release``, on where ``verify_authorship`` is).
    bind_to_release: bool = True
    _binding: ReleaseBinding | None = None

    @classmethod
    def load(cls, root: Path, config: ProjectConfig, disabled: bool,
             roles_by_approver: dict[str, frozenset[str]] | None = None,
             scope: RunScope | None = None,
             author_problem: Callable[[str, datetime | None, str], str | None] | None = None
             ) -> WaiverStore:
        """Read the waivers file when waivers are enabled and not switched off."""
        store = cls(config.waivers_file, config.waivers_enabled and not disabled,
                    max_days=config.waiver_max_days,
                    approver_roles=config.waiver_approver_roles,
                    roles_by_approver=dict(roles_by_approver or {}),
                    author_problem=author_problem if config.forbid_self_approval else None,
                    bind_to_release=config.verify_authorship and config.bind_to_release,
                    _binding=ReleaseBinding(root))
        if not store.enabled:
            return store
        if config.require_signed_commits:
            store.signature_problem = _signature_checker(root, config, scope)
        log = read_jsonl(root, config.waivers_file, WAIVER_SCHEMA, with_origins=True,
                         scope=scope)
        if log.problem:
            store.problems.append(log.problem)
            return store
        if log.git_problem:  # every waiver then lacks an approver and waives nothing
            store.problems.append(f"{config.waivers_file}: {log.git_problem}")
        store.problems += log.line_problems
        for line in log.lines:
            data = line.data
            try:
                expires = parse_instant(data["expires"])
                at = parse_instant(data["at"]) if "at" in data else None
            except ValueError as exc:
                store.problems.append(f"{config.waivers_file}:{line.number}: {exc}")
                continue
            origin = line.origin if line.origin and line.origin.committed else None
            approver, problem = _approver(origin)
            store.entries.append(Waiver(data["gate"], data["criterion"], data["justification"],
                                        expires, data["run"], line.number, approver, at,
                                        origin, problem))
        if store.bind_to_release and store._binding is not None:
            store._binding.expect(w.origin.commit for w in store.entries if w.origin)
        return store

    def decide(self, spec: GateSpec, layout: Layout, item: Criterion, now: datetime,
               started: datetime | None = None, release: ReleaseIdentity | None = None,
               bookkeeping: tuple[str, ...] = ()) -> WaiverDecision:
        """The waiver that governs ``item`` of gate ``spec`` now, if any, and how. A waiver
        names its gate as a sign-off does (see gate_names). ``started``: the phase start
        (see :func:`phase_start`), which bounds who authored the release; ``release`` and
        its ``bookkeeping`` paths: what a bound waiver must have been approved on (None:
        unknown, so a bound waiver waives nothing).

        The first waiver that applies, latest expiry first, governs: an older one (of other
        content, say) that expires later does not hide it. When none applies, the latest
        expiring one says why."""
        if not self.enabled:
            return WaiverDecision(None, False)
        mine = [w for w in self.entries
                if w.criterion == item.id and names_gate(w.gate, layout, number=spec.gate,
                                                         gate_id=spec.id, phase=spec.phase)]
        if not mine:
            return WaiverDecision(None, False)
        mine.sort(key=lambda w: w.expires, reverse=True)
        first: WaiverDecision | None = None
        for waiver in mine:
            ruling = self._rule(waiver, item, now, started, release, bookkeeping)
            if ruling.applies:
                return ruling
            first = first or ruling
        assert first is not None
        return first

    def _rule(self, waiver: Waiver, item: Criterion, now: datetime, started: datetime | None,
              release: ReleaseIdentity | None, bookkeeping: tuple[str, ...]) -> WaiverDecision:
        """What one waiver means for ``item`` now."""
        where = f"{self.name}:{waiver.line}"
        if not item.waivable:
            return WaiverDecision(waiver, False, f"waiver at {where} ignored: {item.id} is not "
                                                 "waivable")
        if waiver.approver_problem:
            return WaiverDecision(waiver, False, f"waiver at {where} ignored: "
                                                 f"{waiver.approver_problem}")
        if waiver.approver is None or waiver.origin is None:
            return WaiverDecision(waiver, False, f"waiver at {where} ignored: the line is not "
                                                 "committed, so it has no approver")
        authored, committed = waiver.origin.authored, waiver.origin.committed_at
        if authored is None or committed is None:
            return WaiverDecision(waiver, False, f"waiver at {where} ignored: git shows no date "
                                                 "for the commit that added it")
        future = future_commit_problem(authored, committed, now)
        if future:
            return WaiverDecision(waiver, False, f"waiver at {where} ignored: {future}")
        unsigned = (self.signature_problem(waiver.approver, waiver.origin.commit)
                    if self.signature_problem else None)
        if unsigned:
            return WaiverDecision(waiver, False, f"waiver at {where} ignored: its commit "
                                                 f"{waiver.origin.commit[:12]} {unsigned}")
        held = self.roles_by_approver.get(waiver.approver, frozenset())
        if self.approver_roles and not held & set(self.approver_roles):
            return WaiverDecision(waiver, False, f"waiver at {where} ignored: its approver "
                                                 f"{waiver.approver} holds none of the roles "
                                                 f"{', '.join(self.approver_roles)}")
        own = (self.author_problem(waiver.approver, started, f"its approver {waiver.approver}")
               if self.author_problem else None)
        if own:
            return WaiverDecision(waiver, False, f"waiver at {where} ignored: {own}")
        start = effective_time(authored, committed, now)
        if waiver.expires - start > timedelta(days=self.max_days):
            return WaiverDecision(waiver, False, f"waiver at {where} ignored: expires more than "
                                                 f"{self.max_days} days after it was written")
        if waiver.expires <= now:
            return WaiverDecision(waiver, False, f"waiver at {where} expired at "
                                                 f"{format_instant(waiver.expires)}; evaluated "
                                                 "normally")
        # Last, as for a sign-off: when the approver may not approve at all, approving again
        # on this release is no remedy.
        unbound = self._release_problem(waiver.origin, release, bookkeeping)
        if unbound:
            return WaiverDecision(waiver, False, f"waiver at {where} ignored: {unbound}")
        return WaiverDecision(waiver, True)

    def _release_problem(self, origin: LineOrigin, release: ReleaseIdentity | None,
                         bookkeeping: tuple[str, ...]) -> str | None:
        if not self.bind_to_release:
            return None
        if release is None or self._binding is None:  # (fail closed: nothing to bind to)
            return "the release being gated is unknown, so the waiver cannot be bound to it"
        return self._binding.problem(origin, release, bookkeeping, WAIVER)

    def evidence(self, waiver: Waiver) -> Evidence:
        """The waiver as evidence of a waived item: its line, approver and commit, and
        ``release=not-bound`` when waivers are not bound to the release (as a sign-off's)."""
        detail = f"approver={waiver.approver} expires={format_instant(waiver.expires)}"
        if waiver.origin is not None:
            detail += f" commit={waiver.origin.commit[:12]}"
        if not self.bind_to_release:
            detail += " release=not-bound"
        return Evidence("waiver", f"{self.name}:{waiver.line}", detail=detail)


    def expiring_soon(self, now: datetime) -> list[Waiver]:
        """Waivers still in force that expire within a week."""
        return [w for w in self.entries if now < w.expires <= now + EXPIRY_WARNING]


def phase_start(state: StateDoc, phase: str, layout: Layout | None = None) -> datetime | None:
    """The phase start that bounds who authored the release; None when none is recorded or
    one is unreadable, which makes every commit of the recent history count (the wider, safer
    answer)."""
    from pytest_deploygate.isdlc.phase_start import phase_start as recorded_start

    try:
        return recorded_start(state, phase, layout)
    except ValueError:
        return None


def _approver(origin: LineOrigin | None) -> tuple[str | None, str | None]:
    """The approver git records for a line, or why there is none that can be trusted."""
    if origin is None:
        return None, None
    try:
        return identity(origin.author_email), None
    except UntrustedIdentity as exc:
        return None, f"its commit {origin.commit[:12]} has an author address that is refused: {exc}"


def _signature_checker(root: Path, config: ProjectConfig, scope: RunScope | None
                       ) -> Callable[[str, str], str | None]:
    """An approval needs the same signature as a sign-off: by a key listed for the approver."""
    from pytest_deploygate.trust.signoffs import AttestationStore

    keys = AttestationStore.approvers_only(root, config, scope)

    def check(approver: str, commit: str) -> str | None:
        if keys.approvers_problem:
            return f"cannot be checked: {keys.approvers_problem}"
        return keys.signature_problem(approver, commit)

    return check
