"""``deploygate verdict``: read a gate record, check it, print the table, exit with the decision.

Exit codes: 0 PASS, 1 FAIL, 2 ROLLBACK, 3 SKIPPED, 5 INCOMPLETE, 4 when the file is not a
trustworthy gate record (unreadable, not a gate record, properties that disagree with the
testcases, criteria missing). A deploy job can depend on it: only 0 means deploy.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pytest_deploygate.cli.workspace import Refusal, Workspace, complain, say
from pytest_deploygate.decision import (
    EXIT_CODES,
    FAIL,
    INCOMPLETE,
    PASS,
    ROLLBACK,
    SKIPPED,
)
from pytest_deploygate.records.junit import DECISION_ID
from pytest_deploygate.records.reader import GateRecord, RecordError, RecordTestcase, read_record
from pytest_deploygate.signing.verdict_check import add_signing_arguments, signature_problem

NOT_TRUSTED = 4
_NAME_PREFIX = "deploygate.row."


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = sub.add_parser(
        "verdict", help="check a gate record and exit with its decision",
        description="Recompute the decision from the record's testcases, check it is complete "
                    "and consistent, print the Gate Decision table. Exit 0 PASS, 1 FAIL, "
                    "2 ROLLBACK, 3 SKIPPED, 5 INCOMPLETE, 4 not a trustworthy gate record.")
    parser.add_argument("record", type=Path)
    add_signing_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, workspace: Workspace) -> int:
    """Check the record and return its decision's exit code."""
    try:
        record = read_record(args.record)
    except RecordError as exc:
        complain(str(exc))
        return NOT_TRUSTED
    unsigned = signature_problem(args, record, workspace)
    if unsigned is not None:
        complain(f"{args.record}: {unsigned}")
        return NOT_TRUSTED
    problems = _problems(record, workspace)
    props = record.properties
    say(f"{props.get('deploygate.gate', '?')} {props.get('deploygate.title', '')} "
        f"(stage {props.get('deploygate.stage', '?')}): {props.get('deploygate.decision')}")
    for name, value in props.items():
        if name.startswith(_NAME_PREFIX):
            say(f"  {name.removeprefix(_NAME_PREFIX):<26} {value}")
    for key in ("deploygate.commit", "deploygate.version", "deploygate.evaluated_at"):
        if key in props:
            say(f"  {key.removeprefix('deploygate.')}: {props[key]}")
    if problems:
        for problem in problems:
            complain(f"{args.record}: {problem}")
        complain(f"{args.record}: not a trustworthy gate record")
        return NOT_TRUSTED
    return EXIT_CODES[props["deploygate.decision"]]


def _problems(record: GateRecord, workspace: Workspace) -> list[str]:
    props = record.properties
    problems = []
    claimed = props.get("deploygate.decision")
    if claimed not in EXIT_CODES:
        return [f"unknown decision {claimed!r}"]
    cases = record.testcases
    gate = props.get("deploygate.gate", "")
    if not cases or f"[{gate}][{DECISION_ID}]" not in cases[-1].name:
        return ["the last testcase is not the gate decision"]
    criteria = cases[:-1]
    try:
        expected = int(props.get("deploygate.expected_criteria", ""))
    except ValueError:
        return ["no expected criterion count"]
    if len(criteria) != expected:
        problems.append(f"{len(criteria)} criteria present, {expected} expected")
    names = [c.name for c in criteria]
    if len(set(names)) != len(names):
        problems.append("a criterion appears twice")
    recomputed = _decide(criteria)
    if recomputed != claimed:
        problems.append(f"the testcases make the decision {recomputed}, the record claims "
                        f"{claimed}")
    outcome = cases[-1].outcome
    wanted = {PASS: "passed", SKIPPED: "skipped"}.get(claimed, "failure")
    if outcome != wanted:
        problems.append(f"the decision testcase is {outcome}, not {wanted} for {claimed}")
    problems += _against_installed_spec(record, criteria, workspace)
    return problems


def _verdict(case: RecordTestcase) -> str:
    if case.outcome == "passed":
        return PASS
    kind = case.kind
    if case.outcome == "skipped":
        return {"not-applicable": PASS, "waived": PASS, "prerequisite-unmet": SKIPPED,
                "not-run": INCOMPLETE}.get(kind or "", INCOMPLETE)
    if case.outcome == "failure" and kind == "rollback-triggered":
        return ROLLBACK
    return FAIL


def _decide(criteria: list[RecordTestcase]) -> str:
    verdicts = {_verdict(c) for c in criteria}
    for status in (SKIPPED, ROLLBACK, INCOMPLETE, FAIL):
        if status in verdicts:
            return status
    return PASS


def _against_installed_spec(record: GateRecord, criteria: list[RecordTestcase],
                            workspace: Workspace) -> list[str]:
    props = record.properties
    gate = props.get("deploygate.gate", "")
    try:
        spec = workspace.gate(gate)
    except Refusal:
        return []  # no spec here to compare with: the record is judged on its own
    if spec.sha256 != props.get("deploygate.spec_sha256"):
        return []
    stage = props.get("deploygate.stage", "all")
    wanted = [i.id for i in spec.items if stage == "all" or i.stage == stage]
    present = {c.name.split("][", 1)[1].split("]", 1)[0] for c in criteria if "][" in c.name}
    lacking = [i for i in wanted if i not in present]
    if lacking:
        shown = ", ".join(lacking[:5]) + (f", +{len(lacking) - 5} more" if len(lacking) > 5
                                          else "")
        return [f"criteria of {gate}'s spec missing from the record: {shown}"]
    return []
