"""What a decided gate's records say: the content every record format renders.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Sequence

from pytest_deploygate.core.printable import shown
from pytest_deploygate.core.timeutil import format_instant
from pytest_deploygate.decision.decide import Decision, item_verdict
from pytest_deploygate.decision.outcomes import Outcome
from pytest_deploygate.gate.plan import GatePlan
from pytest_deploygate.gate.run import GateRun
from pytest_deploygate.gate.settings import command_line_sources
from pytest_deploygate.gate.sign_records import RecordSigner
from pytest_deploygate.records.content import REPLAY_PROPERTY, RecordContent, RecordItem
from pytest_deploygate.records.names import (
    SOURCE_OVERRIDES_PROPERTY,
    THRESHOLD_OVERRIDES_PROPERTY,
    threshold_overrides,
)
from pytest_deploygate.spec.model import Criterion


def record_content(run: GateRun, plan: GatePlan, criteria: Sequence[Criterion],
                   outcomes: Sequence[Outcome | None], decision: Decision,
                   signer: RecordSigner) -> RecordContent:
    """What the records of one decided gate say (the signature property is prepared here)."""
    items = tuple(RecordItem(c, c.render_text(plan.thresholds), o, item_verdict(c, o))
                  for c, o in zip(criteria, outcomes, strict=True))
    return RecordContent(
        name=plan.record_name,
        gate_id=plan.gate_id,
        title=plan.spec.title if plan.spec else plan.spec_file.slug,
        stage=plan.stage,
        decision=decision,
        items=items,
        properties=record_properties(run, plan, decision, len(criteria), signer),
        evaluated_at=run.settings.now,
        next_phase=_next_phase(plan, run.continuation(plan)),
        error=plan.error,
        thresholds=dict(plan.thresholds),
        spec_file=_spec_in_project(plan),
        reviewer=run.reviewer(plan),
    )


def record_properties(run: GateRun, plan: GatePlan, decision: Decision, expected: int,
                      signer: RecordSigner) -> dict[str, str]:
    """The record's ``deploygate.*`` properties."""
    project = plan.project
    sources = command_line_sources(run.settings, project.config) if project else []
    props = {
        "deploygate.gate": plan.gate_id,
        "deploygate.gate_number": str(plan.spec_file.gate),
        "deploygate.title": plan.spec.title if plan.spec else plan.spec_file.slug,
        "deploygate.stage": plan.stage,
        "deploygate.decision": decision.status,
        "deploygate.expected_criteria": str(expected),
        "deploygate.waivers": str(decision.waivers),
        "deploygate.evaluated_at": format_instant(run.settings.now),
        **({REPLAY_PROPERTY: "true"} if run.settings.replay else {}),
        **({THRESHOLD_OVERRIDES_PROPERTY: threshold_overrides(run.settings.thresholds)}
           if run.settings.thresholds else {}),
        **({SOURCE_OVERRIDES_PROPERTY: " ".join(sources)} if sources else {}),
        "deploygate.spec_source": plan.spec_file.describe(),
        "deploygate.state_path": str(plan.slot.state_path),
    }
    for row in decision.rows:
        props[f"deploygate.row.{row.id}"] = row.status
    if decision.reasons:
        props["deploygate.reason"] = " | ".join(decision.reasons)
    if decision.status == "PASS":
        continuation = run.continuation(plan)
        if continuation:
            props["deploygate.next"] = continuation
    if plan.spec:
        props["deploygate.spec_sha256"] = plan.spec.sha256
    props["deploygate.signature"] = signer.prepare(plan)
    if plan.slot.id:
        props["deploygate.project_id"] = plan.slot.id
    if project is not None:
        # (state.json's words: a bidirectional control in them displayed the header
        # backwards, as evidence text once did.)
        props["deploygate.project"] = shown(project.name)
        props["deploygate.state_sha256"] = project.state.sha256
        props.update(project.release.properties())
    return props


def _spec_in_project(plan: GatePlan) -> str | None:
    """The spec file relative to the project root, when it is one of the project's files."""
    if plan.spec is None or plan.spec_file.origin != "user" or plan.project is None:
        return None
    try:
        return plan.spec.source.resolve().relative_to(plan.project.root.resolve()).as_posix()
    except (ValueError, OSError):
        return None



def _next_phase(plan: GatePlan, continuation: str | None) -> str | None:
    if plan.spec is None:
        return None
    if plan.spec.branches:
        return f"- {continuation}" if continuation else None
    if plan.spec.next is None:
        return None
    nxt = plan.spec.next
    parts = [f"Advance to Phase {nxt.gate}: {nxt.title}"]
    if nxt.agent:
        parts.append(f"Primary Agent: {nxt.agent}")
    if nxt.handler:
        parts.append(f"Next Phase Handler: {nxt.handler}")
    return "\n".join(f"- {p}" for p in parts)
