"""The JUnit XML gate record: one flat testsuite, a testcase per item, the decision last.

Valid against the Jenkins junit-10.xsd: reasons in both ``message`` and element text, evidence
in the text, no per-testcase properties, suite properties for the gate's metadata. Dashboards
that ignore properties still see the decision as the last testcase.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET

from pytest_deploygate.checks.base import Evidence
from pytest_deploygate.decision import INCOMPLETE, PASS, SKIPPED
from pytest_deploygate.outcomes import NOT_RUN_FORM, junit_form
from pytest_deploygate.records.content import RecordContent, RecordItem
from pytest_deploygate.timeutil import format_instant

DECISION_ID = "gate-decision"
_MESSAGE_LIMIT = 2000
# Characters XML 1.0 cannot carry; evidence may contain anything a file or server sent.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

def testcase_name(gate_id: str, item_id: str, text: str) -> str:
    """``[GATE-12][security-sign-off] Security sign-off obtained``."""
    return f"[{gate_id}][{item_id}] {text}"


def render_junit(content: RecordContent) -> bytes:
    """The record as XML bytes."""
    suite = ET.Element("testsuite", {
        "name": content.name,
        "timestamp": format_instant(content.evaluated_at),
        "hostname": socket.gethostname(),
    })
    props = ET.SubElement(suite, "properties")
    for name, value in content.properties.items():
        ET.SubElement(props, "property", {"name": name, "value": _clean(value)})
    counts = {"failure": 0, "error": 0, "skipped": 0}
    total_time = 0.0
    for item in content.items:
        element = _testcase(suite, content.gate_id, item)
        total_time += item.outcome.duration if item.outcome else 0.0
        if element:
            counts[element] += 1
    decision_element = _decision_case(suite, content)
    if decision_element in counts:
        counts[decision_element] += 1
    suite.set("tests", str(len(content.items) + 1))
    suite.set("failures", str(counts["failure"]))
    suite.set("errors", str(counts["error"]))
    suite.set("skipped", str(counts["skipped"]))
    suite.set("time", f"{total_time:.3f}")
    root = ET.Element("testsuites", {"name": "deploygate"})
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _testcase(suite: ET.Element, gate_id: str, item: RecordItem) -> str | None:
    criterion = item.criterion
    case = ET.SubElement(suite, "testcase", {
        "classname": f"{gate_id}.{criterion.section_id}",
        "name": testcase_name(gate_id, criterion.id, item.text),
        "time": f"{item.outcome.duration:.3f}" if item.outcome else "0.000",
    })
    outcome = item.outcome
    if outcome is None:
        _child(case, *NOT_RUN_FORM,
               f"not run (deselected, stopped early or interrupted): the gate is {INCOMPLETE}", [])
        return "skipped"
    element, kind = junit_form(outcome.status, criterion.role)
    evidence = [Evidence.from_dict(e).describe() for e in outcome.evidence]
    if element is None:
        out = ET.SubElement(case, "system-out")
        out.text = _clean("\n".join([outcome.message, *_evidence_block(evidence)]))
        return None
    _child(case, element, kind, outcome.message, evidence)
    return element


def _decision_case(suite: ET.Element, content: RecordContent) -> str:
    decision = content.decision
    case = ET.SubElement(suite, "testcase", {
        "classname": f"{content.gate_id}.decision",
        "name": testcase_name(content.gate_id, DECISION_ID, "Gate decision"),
        "time": "0.000",
    })
    table = [f"{row.title}: {row.status}" + (f" ({', '.join(row.failing)})" if row.failing
                                             else "") for row in decision.rows]
    lines = [f"Gate Status: {decision.label}", *table, *decision.reasons]
    if content.error:
        lines.append(content.error)
    if decision.status == PASS:
        out = ET.SubElement(case, "system-out")
        out.text = _clean("\n".join(lines))
        element = "passed"
    elif decision.status == SKIPPED:
        _child(case, "skipped", "gate-skipped", decision.summary(), lines[1:], "decision")
        element = "skipped"
    else:
        message = content.error or decision.summary()
        _child(case, "failure", decision.status.lower(), message, lines, "decision")
        element = "failure"
    return element


def _child(case: ET.Element, tag: str, kind: str, message: str, details: list[str],
           heading: str = "evidence") -> None:
    child = ET.SubElement(case, tag, {"type": kind, "message": _clean(message)[:_MESSAGE_LIMIT]})
    child.text = _clean("\n".join([message, *_evidence_block(details, heading)]))


def _evidence_block(lines: list[str], heading: str = "evidence") -> list[str]:
    return ["", f"{heading}:", *(f"- {line}" for line in lines)] if lines else []


def _clean(text: str) -> str:
    return _ILLEGAL_XML.sub("\ufffd", text)
