"""The post stage's binding to a passing pre-stage record of the same commit and version.

Gate 12 cannot be passed before the deploy it gates: the post stage counts only when the pre
stage passed for exactly the commit and version now being verified.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pytest_deploygate.checks.base import CheckResult, Evidence
from pytest_deploygate.options import Settings
from pytest_deploygate.project import Project
from pytest_deploygate.records.reader import RecordError, read_record

if TYPE_CHECKING:
    from pytest_deploygate.gate_run import GatePlan


def pre_record_path(settings: Settings, plan: GatePlan) -> Path:
    """Where the pre-stage record is looked for."""
    return settings.pre_record or plan.record_dir / f"{plan.gate_id}-pre.xml"


def check_pre_record(settings: Settings, plan: GatePlan, project: Project) -> CheckResult:
    """Met when a PASS pre-stage record exists for this gate, commit and version."""
    path = pre_record_path(settings, plan)
    from pytest_deploygate.signing.binding import check_signed_pre_record, signing_configured

    if signing_configured(settings, project):
        return check_signed_pre_record(settings, plan, project, path)
    if project.commit is None:
        return CheckResult.missing(f"{project.root} is not a git checkout: the post stage is "
                                   "bound to the pre stage by commit, and there is none")
    try:
        record = read_record(path)
    except RecordError as exc:
        return CheckResult.missing(f"no pre-stage record: {exc}; run --gate-stage=pre first "
                                   "or pass --gate-pre-record=PATH")
    props = record.properties
    evidence = Evidence("record", str(path), detail=f"decision={props.get('deploygate.decision')}"
                        f" commit={props.get('deploygate.commit')}")
    problems = []
    if props.get("deploygate.gate") != plan.gate_id:
        problems.append(f"it is a record of {props.get('deploygate.gate')!r}, not {plan.gate_id}")
    if props.get("deploygate.stage") != "pre":
        problems.append(f"its stage is {props.get('deploygate.stage')!r}, not 'pre'")
    if props.get("deploygate.decision") != "PASS":
        problems.append(f"its decision is {props.get('deploygate.decision')!r}, not PASS")
    if props.get("deploygate.commit") != project.commit:
        problems.append(f"it is for commit {props.get('deploygate.commit')!r}, this is "
                        f"{project.commit}")
    if props.get("deploygate.version", "") != (project.version or ""):
        problems.append(f"it is for version {props.get('deploygate.version')!r}, this is "
                        f"{project.version!r}")
    if problems:
        return CheckResult.not_met(f"pre-stage record {path} does not bind: "
                                   + "; ".join(problems), evidence)
    return CheckResult.met(f"pre stage passed for commit {project.commit[:12]} version "
                           f"{project.version}", evidence)
