"""Is a gate record a faithful account of a gate run of this spec and this release?

One verification serves ``deploygate verdict`` and the post stage's binding to its pre record:
the record's spec is the project's spec (same sha256), every criterion of that spec and stage
is present once with an outcome the spec allows for it, the decision, rows, waiver count and
reasons are what :func:`~pytest_deploygate.decision.decide` (the plugin's own decision
function) makes of the testcases, and the record is of the expected gate, stage and release.

The trust rules (which outcome a criterion may have) live here, and the plugin applies the
same ones while it runs, so a record it writes always passes this verification.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from pytest_deploygate.core.results import Status
from pytest_deploygate.core.value_class import field, value_class
from pytest_deploygate.decision.decide import EXIT_CODES, PASS, SKIPPED, Decision, decide
from pytest_deploygate.decision.outcomes import NoSuchForm, Outcome, status_from_junit
from pytest_deploygate.evidence.release import ReleaseIdentity, binding_problems
from pytest_deploygate.records.names import (
    DECISION_ID,
    REPLAY_PROPERTY,
    SOURCE_OVERRIDES_PROPERTY,
    THRESHOLD_OVERRIDES_PROPERTY,
    testcase_name,
)
from pytest_deploygate.records.reader import GateRecord, RecordTestcase
from pytest_deploygate.spec.model import OTHER_ROW_ID, Criterion, GateSpec
from pytest_deploygate.spec.record_rules import allowed_statuses, binding_item, stage_items

STAGES = ("pre", "post", "all")
_ROW_PREFIX = "deploygate.row."
_SHOWN = 5

#: What the plugin names records: ``GATE-12.xml``, ``GATE-12-pre.xml``, ``GATE-12-post.xml``
#: on the 13-phase layout, ``13-production-pre.xml`` (the phase key) on today's.
RECORD_NAME = re.compile(r"(?P<gate>GATE-[0-9]+|[0-9]{2}-[a-z][a-z0-9-]*?)"
                         r"(?:-(?P<stage>pre|post))?\.xml")


# -- trust rules: which outcomes the spec allows for a criterion -------------------------------











# -- the verification -------------------------------------------------------------------------

@value_class(frozen=True)
class Expected:
    """What the record must be about; None fields are not checked here (the caller does)."""

    gate_id: str | None = None
    stage: str | None = None
    release: ReleaseIdentity | None = None
    allow_replay: bool = False
    #: The oldest evaluation accepted, measured back from ``now`` (None: any age).
    max_age: timedelta | None = None
    now: datetime | None = None


@value_class
class Verification:
    """The problems found (empty: faithful) and the decision recomputed from the testcases."""

    problems: list[str] = field(default_factory=list)
    decision: Decision | None = None

    @property
    def faithful(self) -> bool:
        """True when nothing is wrong with the record."""
        return not self.problems


def verify_record(record: GateRecord, spec: GateSpec, items: Sequence[Criterion],
                  expected: Expected, *, waivers_enabled: bool,
                  conditions: Mapping[str, object] | None = None) -> Verification:
    """Check ``record`` against ``spec`` (``items``: its items with the project's evidence
    overrides, all stages; ``conditions``: the project's named conditions) and against
    ``expected``."""
    result = Verification(list(record.oddities))
    props = record.properties
    problems = result.problems
    gate = props.get("deploygate.gate", "")
    stage = props.get("deploygate.stage", "")
    if expected.gate_id is not None and gate != expected.gate_id:
        problems.append(f"it is a record of {gate!r}, not {expected.gate_id}")
    if expected.stage is not None and stage != expected.stage:
        problems.append(f"its stage is {stage!r}, not {expected.stage!r}")
    if gate != spec.id:
        problems.append(f"it is a record of {gate!r}, the spec is {spec.id}")
        return result
    if stage not in STAGES:
        problems.append(f"unknown stage {stage!r}")
        return result
    made_by = props.get("deploygate.spec_sha256")
    if made_by != spec.sha256:
        problems.append(f"it was made by a spec with sha256 {made_by or 'none'}, not by "
                        f"{spec.source.name} (sha256 {spec.sha256}): completeness cannot be "
                        "checked against an unknown spec")
        return result
    if props.get(REPLAY_PROPERTY) == "true" and not expected.allow_replay:
        problems.append("it is a replay (--gate-now "
                        f"{props.get('deploygate.evaluated_at', '?')}), not a gate of the "
                        "present")
    if expected.release is not None:
        problems += _release_problems(props, expected.release)
    if expected.max_age is not None and expected.now is not None:
        problems += _age_problems(props.get("deploygate.evaluated_at"), expected.max_age,
                                  expected.now)
    claimed = props.get("deploygate.decision", "")
    if claimed not in EXIT_CODES:
        problems.append(f"unknown decision {claimed!r}")
        return result
    cases = record.testcases
    if not cases or cases[-1].name != testcase_name(gate, DECISION_ID, "Gate decision"):
        problems.append("the last testcase is not the gate decision")
        return result
    rules = _Rules(spec, waivers_enabled, conditions)
    criteria, outcomes = _criteria(cases[:-1], spec, items, stage, rules, problems)
    _check_count(props, len(criteria), problems)
    result.decision = _recompute(criteria, outcomes, spec, props)
    problems += _claims(props, result.decision, cases[-1], spec)
    overrides = props.get(THRESHOLD_OVERRIDES_PROPERTY)
    if overrides and result.decision.status == "PASS":
        # The thresholds are the reviewed spec's and deploygate.yaml's: a PASS under looser
        # ones given on the command line (or PYTEST_ADDOPTS) is not a PASS of this gate. A
        # FAIL or ROLLBACK under an override is never a gain, and stays trusted.
        problems.append(f"it passed under thresholds overridden on the command line "
                        f"(--gate-threshold {overrides}), not the reviewed gate's")
    sources = props.get(SOURCE_OVERRIDES_PROPERTY)
    if sources and result.decision.status == "PASS":
        problems.append(f"it passed on evidence sources given on the command line ({sources}), "
                        "not the reviewed deploygate.yaml's")
    return result


#: How far ahead of this machine's clock an evaluation may be dated (clocks of CI runners
#: differ a little; a record from the future is otherwise a forgery or a broken clock).
CLOCK_SKEW = timedelta(minutes=5)


def _age_problems(evaluated_at: str | None, max_age: timedelta, now: datetime) -> list[str]:
    """Why the record's evaluation time is not within ``max_age`` before ``now``."""
    from pytest_deploygate.core.timeutil import format_instant, parse_instant

    try:
        evaluated = parse_instant(evaluated_at or "")
    except ValueError:
        return [f"its evaluation time {evaluated_at!r} cannot be read, so its age is unknown"]
    if evaluated > now + CLOCK_SKEW:
        return [f"it was evaluated at {format_instant(evaluated)}, after this machine's clock "
                f"({format_instant(now)})"]
    if now - evaluated > max_age:
        return [f"it was evaluated at {format_instant(evaluated)}, more than --max-age "
                f"{_duration(max_age)} ago: run the gate again"]
    return []


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _release_problems(props: dict[str, str], release: ReleaseIdentity) -> list[str]:
    # One binding rule for the post stage, verdict and signing. A release that is not known
    # (outside git, a shallow clone, a --commit git does not know) binds nothing: fail closed.
    problems = binding_problems(props, release)
    if not release.known:
        problems = [f"{problem}; pass --commit to name the release" for problem in problems]
    return problems


@value_class(frozen=True)
class _Rules:
    spec: GateSpec
    waivers_enabled: bool
    conditions: Mapping[str, object] | None

    def allowed(self, criterion: Criterion) -> frozenset[Status | None]:
        return allowed_statuses(criterion, self.spec, self.waivers_enabled, self.conditions)


def _criteria(cases: list[RecordTestcase], spec: GateSpec, items: Sequence[Criterion],
              stage: str, rules: _Rules, problems: list[str]
              ) -> tuple[list[Criterion], list[Outcome | None]]:
    """The record's criteria (the spec's of this stage, then users' own) and outcomes."""

    wanted = stage_items(items, stage) + ([binding_item(spec)] if stage == "post" else [])
    by_id = {item.id: item for item in wanted}
    others = {item.id for item in items} - set(by_id)
    gate = spec.id
    found: dict[str, tuple[RecordTestcase, Criterion]] = {}
    users: list[tuple[RecordTestcase, Criterion]] = []
    for case in cases:
        item_id = _spec_id(case.name, gate, set(by_id) | others)
        if item_id in others:
            problems.append(f"{item_id} is not a criterion of stage {stage}")
        elif item_id is not None:
            if item_id in found:
                problems.append(f"criterion {item_id} appears twice")
            found[item_id] = (case, by_id[item_id])
            if case.classname != f"{gate}.{by_id[item_id].section_id}":
                problems.append(f"{item_id} has classname {case.classname!r}")
        else:
            users.append((case, _user_criterion(case, spec, problems)))
    lacking = [item.id for item in wanted if item.id not in found]
    if lacking:
        shown = ", ".join(lacking[:_SHOWN]) + (f", +{len(lacking) - _SHOWN} more"
                                               if len(lacking) > _SHOWN else "")
        problems.append(f"criteria of {gate}'s spec missing from the record: {shown}")
    pairs = [found[item.id] for item in wanted if item.id in found] + users
    outcomes = [_outcome(case, criterion, rules, problems)
                for case, criterion in pairs]
    return [criterion for _, criterion in pairs], outcomes


def _spec_id(name: str, gate: str, ids: set[str]) -> str | None:
    """The spec item a testcase name stands for (the longest id whose prefix matches)."""
    head = f"[{gate}]["
    if not name.startswith(head):
        return None
    rest = name[len(head):]
    matches = [i for i in ids if rest.startswith(f"{i}] ") or rest == f"{i}]"]
    return max(matches, key=len) if matches else None


def _user_criterion(case: RecordTestcase, spec: GateSpec, problems: list[str]) -> Criterion:
    """A user's gate-marked test: its row is its section's (else "Other criteria")."""
    section_id = case.classname.removeprefix(f"{spec.id}.")
    if not case.name.startswith(f"[{spec.id}][") or section_id == case.classname:
        problems.append(f"testcase {case.name[:80]!r} is no criterion of {spec.id}")
    section = next((i for i in spec.items if i.section_id == section_id), None)
    return Criterion(id=case.name, text=case.name, role="user", section_id=section_id,
                     section_title=section.section_title if section else "Python criteria",
                     stage=section.stage if section else "pre",
                     decision=section.decision if section else OTHER_ROW_ID,
                     check=None, waivable=False)


def _outcome(case: RecordTestcase, criterion: Criterion, rules: _Rules, problems: list[str]
             ) -> Outcome | None:
    label = criterion.id if criterion.role != "user" else case.name[:80]
    if case.outcome_elements > 1:
        problems.append(f"{label} holds {case.outcome_elements} outcome elements")
    element = None if case.outcome == "passed" else case.outcome
    try:
        status = status_from_junit(element, case.kind, criterion.role)
    except NoSuchForm as exc:
        problems.append(f"{label}: {exc}")
        return Outcome(Status.ERROR, case.message)
    if status not in rules.allowed(criterion):
        why = {None: "",
               Status.NOT_APPLICABLE: "neither the spec nor the project's conditions let it "
                                      "be N/A",
               Status.WAIVED: "waivers are not enabled for it"}.get(status, "")
        problems.append(f"{label} is {status.value if status else 'not run'}, which its spec "
                        f"does not allow: {why}")
    return None if status is None else Outcome(status, case.message)


def _check_count(props: dict[str, str], present: int, problems: list[str]) -> None:
    try:
        expected = int(props.get("deploygate.expected_criteria", ""))
    except ValueError:
        problems.append("no expected criterion count")
        return
    if present != expected:
        problems.append(f"{present} criteria present, {expected} expected")


def _recompute(criteria: list[Criterion], outcomes: list[Outcome | None], spec: GateSpec,
               props: dict[str, str]) -> Decision:
    """The plugin's decision function applied to the record's outcomes."""
    skipped_reason = None
    if any(o is not None and o.status == Status.SKIPPED_PREREQ for o in outcomes):
        # The reason is the record's own words: what matters is that a prerequisite was unmet.
        skipped_reason = props.get("deploygate.reason", "") or "skipped"
    fed = {i.decision for i in spec.items} | {c.decision for c in criteria}
    return decide(criteria, outcomes, spec.rows_with_other(), skipped_reason, (), fed)


def _claims(props: dict[str, str], decision: Decision, case: RecordTestcase, spec: GateSpec
            ) -> list[str]:
    """What the record says about its decision, against what its testcases make."""
    problems = []
    claimed = props.get("deploygate.decision")
    if claimed != decision.status:
        problems.append(f"the testcases make the decision {decision.status}, the record "
                        f"claims {claimed}")
    rows = {name.removeprefix(_ROW_PREFIX): value for name, value in props.items()
            if name.startswith(_ROW_PREFIX)}
    made = {row.id: row.status for row in decision.rows}
    for row_id in sorted(set(rows) | set(made)):
        if rows.get(row_id) != made.get(row_id):
            problems.append(f"row {row_id} says {rows.get(row_id)!r}, the testcases make "
                            f"{made.get(row_id)!r}")
    if props.get("deploygate.waivers", "0") != str(decision.waivers):
        problems.append(f"it counts {props.get('deploygate.waivers')} waivers, the testcases "
                        f"{decision.waivers}")
    if props.get("deploygate.reason", "") != " | ".join(decision.reasons):
        problems.append("its reason is not the one the testcases make")
    if props.get("deploygate.title") != spec.title or \
            props.get("deploygate.gate_number") != str(spec.gate):
        problems.append(f"its title or gate number is not {spec.id}'s")
    form = {PASS: ("passed", None), SKIPPED: ("skipped", "gate-skipped")}.get(
        decision.status, ("failure", decision.status.lower()))
    if (case.outcome, case.kind) != form or case.outcome_elements > 1:
        problems.append(f"the decision testcase is <{case.outcome} type={case.kind!r}>, not "
                        f"<{form[0]} type={form[1]!r}> for {decision.status}")
    return problems
