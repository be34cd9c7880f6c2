"""The post stage's binding to a passing pre-stage record of the same release.

Gate 12 cannot be passed before the deploy it gates: the post stage counts only when the pre
stage passed for exactly the release now being verified (release commit, release tree and
version, see :mod:`pytest_deploygate.evidence.release`): sign-offs committed after the pre
stage do not change the release, a content change does.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pytest_deploygate.checks.project import Project
from pytest_deploygate.core.results import CheckResult, Evidence
from pytest_deploygate.evidence.release import binding_problems
from pytest_deploygate.gate.settings import Settings

if TYPE_CHECKING:
    from pytest_deploygate.gate.plan import GatePlan


def pre_record_path(settings: Settings, plan: GatePlan) -> Path:
    """Where the pre-stage record is looked for."""
    return settings.pre_record or plan.record_dir / f"{plan.gate_id}-pre.xml"


def _project_problems(props: dict[str, str], expected: str) -> list[str]:
    # In a monorepo every project shares the commit, tree, version and (built-in) spec, so
    # only the project a record names tells one project's pre stage from another's: the
    # same rule as the signed binding (check_project), applied to the unsigned record.
    named = props.get("deploygate.project_id") or props.get("deploygate.project")
    if named != expected:
        return [f"it is a record of project {named!r}, this is {expected!r}"]
    return []


def check_pre_record(settings: Settings, plan: GatePlan, project: Project) -> CheckResult:
    """Met when a PASS pre-stage record exists for this gate and release (commit, tree and
    version of the release content, committed: no uncommitted changes on either side)."""
    path = pre_record_path(settings, plan)
    release = project.release
    if not release.known:
        return CheckResult.missing(f"the post stage is bound to the pre stage by the release "
                                   f"(commit, tree, version), and there is none: "
                                   f"{release.problem}")
    # Only a post stage reads a record back: a pre or whole-gate run does not load the reader.
    from pytest_deploygate.gate.stage_signature import check_signed_pre_record, signing_configured
    from pytest_deploygate.records.reader import RecordError, read_record
    from pytest_deploygate.records.verify import Expected, verify_record

    if signing_configured(settings, project):
        return check_signed_pre_record(settings, plan, project, path)
    try:
        record = read_record(path, settings.limits.evidence_bytes)
    except RecordError as exc:
        return CheckResult.missing(f"no pre-stage record: {exc}; run --gate-stage=pre first "
                                   "or pass --gate-pre-record=PATH")
    props = record.properties
    evidence = Evidence("record", str(path), detail=f"decision={props.get('deploygate.decision')}"
                        f" commit={props.get('deploygate.commit')}"
                        f" tree={props.get('deploygate.tree')}")
    problems = []
    if props.get("deploygate.gate") != plan.gate_id:
        problems.append(f"it is a record of {props.get('deploygate.gate')!r}, not {plan.gate_id}")
    if props.get("deploygate.stage") != "pre":
        problems.append(f"its stage is {props.get('deploygate.stage')!r}, not 'pre'")
    if props.get("deploygate.decision") != "PASS":
        problems.append(f"its decision is {props.get('deploygate.decision')!r}, not PASS")
    problems += _project_problems(props, plan.slot.id or project.name)
    problems += binding_problems(props, release)
    # The verification of `deploygate verdict`: a flipped or hand-written record does not bind.
    if plan.spec is None:  # no gate runs without its spec; were it so, nothing would bind
        problems.append("the gate's spec is not loaded, so the record cannot be checked")
    else:
        problems += verify_record(record, plan.spec, plan.spec_items,
                                  Expected(allow_replay=settings.replay),
                                  waivers_enabled=project.waivers.enabled,
                                  conditions=project.config.conditions).problems
    if problems:
        return CheckResult.not_met(f"pre-stage record {path} does not bind: "
                                   + "; ".join(problems), evidence)
    return CheckResult.met(f"pre stage passed for this release: {release.describe()}", evidence)
