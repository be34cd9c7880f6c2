"""Which outcomes a faithful record may hold for each criterion, and which items a stage holds.

The spec decides this, not the record: a criterion may be N/A only where the spec gives a
reason (a ``when`` that can be false, an optional artifact), and waived only where waivers are
enabled and the criterion is waivable. ``deploygate verdict`` and the post stage use these rules
to refuse a record edited to hide an outcome.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pytest_deploygate.core.results import Status
from pytest_deploygate.spec.model import OTHER_ROW_ID, Check, Criterion, GateSpec

#: Outcomes any item may have: they all fail the gate (or make it SKIPPED / INCOMPLETE).
_ALWAYS = frozenset({Status.MET, Status.NOT_MET, Status.MISSING, Status.ERROR, Status.SKIPPED,
                     Status.SKIPPED_PREREQ, None})


#: Roles a waiver can never reach (the waiver store is not even asked for them).
_NEVER_WAIVED = frozenset({"prerequisite", "trigger", "binding", "user"})


def may_be_not_applicable(criterion: Criterion, spec: GateSpec,
                          conditions: Mapping[str, object] | None = None) -> bool:
    """N/A needs a reason in the spec: a ``when`` condition that can be false, an artifact
    that is optional or required only under a condition, or the one check whose subject may not
    exist (an escalation that did not happen). Anything else claiming N/A is hiding an outcome.

    ``conditions``: the project's named conditions (deploygate.yaml); a ``when`` on a condition
    that is true (or unset: then it is missing evidence) cannot make the criterion N/A.
    """
    if criterion.role in ("user", "binding", "prerequisite"):
        return False
    if criterion.when and (conditions is None or
                           any(_may_be_false(check, conditions) for check in criterion.when)):
        return True
    check = criterion.check
    if check is None:
        return False
    if check.kind == "artifact":
        artifact = spec.artifacts.get(str(check.params.get("artifact", "")))
        if artifact is None or artifact.required is True:
            return False
        required = artifact.required
        return not isinstance(required, Check) or conditions is None or \
            _may_be_false(required, conditions)
    # Constitutional validation and test iteration (today's layout) may both not have escalated.
    return check.kind in ("constitution", "test_iteration") and \
        check.params.get("criterion") == "escalation_documented"


def _may_be_false(check: Check, conditions: Mapping[str, object]) -> bool:
    if check.kind != "condition":
        return True  # read from evidence at run time: it may have been false then
    name = str(check.params.get("name", ""))
    return name in conditions and not conditions[name]


def may_be_waived(criterion: Criterion, waivers_enabled: bool) -> bool:
    """Waived only where the project enabled waivers and the criterion is waivable."""
    return waivers_enabled and criterion.waivable and criterion.role not in _NEVER_WAIVED


def allowed_statuses(criterion: Criterion, spec: GateSpec, waivers_enabled: bool,
                     conditions: Mapping[str, object] | None = None
                     ) -> frozenset[Status | None]:
    """Every outcome a faithful record can hold for this criterion (None: not run)."""
    allowed = set(_ALWAYS)
    if may_be_not_applicable(criterion, spec, conditions):
        allowed.add(Status.NOT_APPLICABLE)
    if may_be_waived(criterion, waivers_enabled):
        allowed.add(Status.WAIVED)
    return frozenset(allowed)


def stage_items(items: Sequence[Criterion], stage: str) -> list[Criterion]:
    """The items a record of this stage holds (before the post stage's binding item)."""
    return [item for item in items if stage == "all" or item.stage == stage]


BINDING_ID = "pre-stage-record"


def binding_item(spec: GateSpec) -> Criterion:
    """The post stage's item "the pre stage passed for this release"."""
    return Criterion(
        id=BINDING_ID,
        text="Pre stage passed for this release (commit, tree and version)",
        role="binding",
        section_id="stage-binding",
        section_title="Stage binding",
        stage="post",
        decision=OTHER_ROW_ID,
        check=Check("pre_record", {"kind": "pre_record"}),
        waivable=False,
    )
