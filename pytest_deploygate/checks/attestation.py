"""``attestation``: a recorded, unexpired sign-off by someone holding a required role.

Parameters: ``roles`` (who may sign; any listed approver when omitted), ``criterion`` (the
sign-off key, default the item's own id), ``max_age_days``. A sign-off counts when the signer
is in the approvers file holding the role they signed in, that role is one the criterion
accepts, it was made after the gate's phase started and not after the evaluation time, and it
has not expired. Every time here is git's (trust_rules): a sign-off is dated by the commit that
added its line, never by its own ``at``. For a rollback trigger any counting ``present: true``
fires the trigger, whatever "absent" sign-offs say or when; otherwise they attest it absent.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pytest_deploygate.checks.context import EvalContext
from pytest_deploygate.checks.declared import builtin_kind
from pytest_deploygate.core.results import CheckResult, Evidence
from pytest_deploygate.core.timeutil import format_instant
from pytest_deploygate.core.trust_rules import trigger_present
from pytest_deploygate.isdlc.layout import layout_of
from pytest_deploygate.isdlc.phase_start import phase_start

if TYPE_CHECKING:  # the store comes from the run; loading a spec need not import it
    from pytest_deploygate.trust.signoffs import Attestation, AttestationStore


def evaluate(params: Mapping[str, Any], ctx: EvalContext) -> CheckResult:
    """Met on a counting sign-off; missing (never a pass) without one."""
    store = ctx.project.attestations
    key = params.get("criterion") or ctx.criterion.id
    roles = list(params.get("roles") or [])
    problems = [p for p in (store.approvers_problem, store.log_problem) if p]
    if problems:
        return CheckResult.missing("; ".join(problems))
    entries = store.for_criterion(ctx.spec, layout_of(ctx.project), key)
    started = _phase_start(ctx)
    if isinstance(started, CheckResult):
        return started
    # Each counting sign-off with the time it counts as made (see Attestation): kept beside
    # the entry rather than in a copy of it (``replace`` rebuilt every field per criterion,
    # and only ``at`` differed; what follows reads the entry's other fields as they are).
    counting: list[tuple[Attestation, datetime]] = []
    rejected: list[str] = []
    for entry in entries:
        reason = _why_not(entry, roles, store, ctx, started, params)
        if reason:
            rejected.append(f"line {entry.line} ({entry.signer}): {reason}")
        else:
            counting.append((entry, store.signed_at(entry, ctx.project.now)))
    trigger = ctx.criterion.role == "trigger"
    present = trigger_present(e.present for e, _ in counting)
    if trigger and present is not None:
        reports = [c for c in counting if c[0].present == present]
        latest = max(reports, key=_signed_time)
        if present:
            return CheckResult.not_met(
                f"TRIGGERED: reported present by {_who(*latest)}" + _note(latest[0]),
                *(_evidence(store, *c) for c in reports))
        return CheckResult.met(f"absent, attested by {_who(*latest)}", _evidence(store, *latest))
    signed = [c for c in counting if not c[0].present]
    if signed:
        latest = max(signed, key=_signed_time)
        return CheckResult.met(f"signed off by {_who(*latest)}", *(_evidence(store, *c)
                                                                   for c in signed))
    wanted = f"role {' or '.join(roles)}" if roles else "any listed approver"
    message = f"no counting sign-off for '{key}' in {store.log_name} ({wanted})"
    details = rejected + [p for p in store.line_problems]
    if details:
        message += "; " + "; ".join(details[:5])
        if len(details) > 5:
            message += f"; ... {len(details) - 5} more"
    return CheckResult.missing(message)


def _why_not(entry: Attestation, roles: list[str], store: AttestationStore, ctx: EvalContext,
             started: datetime | None, params: Mapping[str, Any]) -> str | None:
    held = store.roles_by_signer.get(entry.signer)
    if held is None:
        return f"signer is not in {store.approvers_name}"
    if roles and entry.role not in roles:
        return f"signed as '{entry.role}', this criterion needs {' or '.join(roles)}"
    if entry.role not in held:
        return f"does not hold role '{entry.role}' in {store.approvers_name}"
    if entry.present and ctx.criterion.role != "trigger":
        return "'present' applies to rollback triggers only"
    authorship = store.authorship_problem(entry)
    if authorship:
        return authorship
    now = ctx.project.now
    future = store.time_problem(entry, now)
    if future:
        return future
    if not store.verify_authorship and entry.at > now:
        return f"signed at {format_instant(entry.at)}, after the evaluation time"
    signed = store.signed_at(entry, now)
    if started is not None and signed < started:
        return (f"signed at {format_instant(signed)}, before phase {ctx.spec.phase} started "
                f"({format_instant(started)})")
    if entry.expires is not None and entry.expires <= now:
        return f"expired at {format_instant(entry.expires)}"
    max_age = params.get("max_age_days")
    if max_age is not None and (now - signed).total_seconds() > max_age * 86400:
        return f"older than {max_age:g} days"
    self_approved = store.self_approval(entry, started)
    if self_approved:
        return self_approved
    # Last: when the signer may not sign at all, signing again on this release is no remedy.
    if not store.binds_to_release:
        return None
    return store.release_problem(entry, ctx.project.release, ctx.project.bookkeeping)


def _phase_start(ctx: EvalContext) -> datetime | CheckResult | None:
    # A start that cannot be read would let last release's sign-offs count: fail closed.
    # (None, when the framework has not recorded a start at all, leaves age unchecked.)
    # Read once per run: every sign-off criterion of the gate asks for the same one (and
    # state.json is read once a run).
    key = ("phase-start", ctx.spec.phase)
    memo = ctx.project.memo
    if key in memo:
        known: datetime | CheckResult | None = memo[key]
        return known
    started: datetime | CheckResult | None
    try:
        started = phase_start(ctx.project.state, ctx.spec.phase, layout_of(ctx.project))
    except ValueError as exc:
        started = CheckResult.missing(f"{exc}, so a sign-off's age cannot be checked against "
                                      "the phase start")
    memo[key] = started
    return started


def _signed_time(counted: tuple[Attestation, datetime]) -> datetime:
    # (max() keeps the first of equal times, as it did over the copies' ``at``.)
    return counted[1]


def _who(entry: Attestation, at: datetime) -> str:
    return f"{entry.signer} ({entry.role}) at {format_instant(at)}"


def _note(entry: Attestation) -> str:
    return f": {entry.note}" if entry.note else ""


def _evidence(store: AttestationStore, entry: Attestation, at: datetime) -> Evidence:
    detail = f"signer={entry.signer} role={entry.role} at={format_instant(at)}"
    if entry.origin is not None and entry.origin.committed:
        detail += f" commit={entry.origin.commit[:12]}"
        if not store.bind_to_release:  # (said, as authorship=not-verified is)
            detail += " release=not-bound"
    elif not store.verify_authorship:
        detail += " authorship=not-verified"
    if entry.expires:
        detail += f" expires={format_instant(entry.expires)}"
    if entry.evidence:
        detail += f" evidence={entry.evidence}"
    return Evidence("attestation", f"{store.log_name}:{entry.line}", detail=detail)


KIND = builtin_kind("attestation", evaluate)
