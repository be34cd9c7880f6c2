"""The JUnit XML gate record: one flat testsuite, a testcase per item, the decision last.

Valid against the Jenkins junit-10.xsd: reasons in both ``message`` and element text, evidence
in the text, no per-testcase properties, suite properties for the gate's metadata. Dashboards
that ignore properties still see the decision as the last testcase, its message led by the
decision word; every other message is led by its outcome word (see :mod:`.wording`).

Names are stable across runs (dashboards keep failure history by name): the checklist text as
written, ``{threshold}`` placeholders unsubstituted, the values in the message. The suite name
is the gate (and stage), never the decision, for the same reason.

``file``: the schema allows it on the testsuite only (no ``file``/``line`` on a testcase), so
the suite names the spec file when it is a file of the project, and each testcase's text says
``criterion: <spec>:<line>``, where consumers that look for ``<file>:<line>`` find the line.
Nothing names a path that does not exist in the project.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

from pytest_deploygate.core.results import describe_evidence
from pytest_deploygate.core.timeutil import format_instant
from pytest_deploygate.decision.decide import PASS, SKIPPED
from pytest_deploygate.decision.outcomes import NOT_RUN_FORM, junit_form
from pytest_deploygate.records.content import RecordContent, RecordItem
from pytest_deploygate.records.names import DECISION_ID as DECISION_ID  # re-exported
from pytest_deploygate.records.names import testcase_name as testcase_name  # re-exported
from pytest_deploygate.records.wording import breakdown, headline, item_message

_MESSAGE_LIMIT = 2000
# Characters XML 1.0 cannot carry; evidence may contain anything a file or server sent.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

def render_junit(content: RecordContent) -> bytes:
    """The record as XML bytes."""
    return b"".join(junit_chunks(content))


def junit_chunks(content: RecordContent) -> Iterator[bytes]:
    """The record as XML, in encoded pieces: the suite around them, then a testcase each.

    Exactly what ``ElementTree`` writes for the whole tree, indented: the suite is written
    with a placeholder where the items go, and each item's testcase is indented at its depth
    and written alone, so that a big gate's element tree is never whole in memory.
    """
    import socket  # here, not at the top: deploygate verdict reads records, never writes one

    suite = ET.Element("testsuite", {
        "name": content.name,
        "timestamp": format_instant(content.evaluated_at),
        "hostname": socket.gethostname(),
    })
    if content.spec_file:
        suite.set("file", content.spec_file)
    props = ET.SubElement(suite, "properties")
    for name, value in content.properties.items():
        ET.SubElement(props, "property", {"name": name, "value": _clean(value)})
    counts = {"failure": 0, "error": 0, "skipped": 0}
    total_time = 0.0
    for item in content.items:  # the suite's counts come first in the file
        element = _element_of(item)
        total_time += item.outcome.duration if item.outcome else 0.0
        if element:
            counts[element] += 1
    placeholder = ET.SubElement(suite, _PLACEHOLDER) if content.items else None
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
    stream = io.BytesIO()
    ET.ElementTree(root).write(stream, encoding="utf-8", xml_declaration=True)
    stream.write(b"\n")
    if placeholder is None:
        yield stream.getvalue()
        return
    # The placeholder has no text or attributes and is followed by the decision: written as
    # ``<name />`` and indented like the testcases (its tail is theirs).
    head, _, tail = stream.getvalue().partition(f"<{_PLACEHOLDER} />".encode())
    yield head
    last = len(content.items) - 1
    classnames: dict[str, str] = {}  # each section's, escaped once for the record
    for index, item in enumerate(content.items):
        yield _testcase(content, item, "" if index == last else _CASE_TAIL, classnames)
    yield tail


#: Where the items' testcases go in the written suite (a name no record ever contains: text
#: and attributes are escaped, so ``<`` never appears in them).
_PLACEHOLDER = "deploygate-items"


def _element_of(item: RecordItem) -> str | None:
    """The element an item's testcase holds (None for a passing one), as :func:`_testcase`
    writes it."""
    if item.outcome is None:
        return "skipped"
    return junit_form(item.outcome.status, item.criterion.role)[0]


def _escape_cdata(text: str) -> str:
    """Element text escaped by ElementTree's rules (a testcase is written as text, exactly as
    ElementTree writes its element: building 10,000 elements to serialise them was most of
    the record's cost; tests/test_record_streaming.py holds the two to the same output)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _escape_attrib(text: str) -> str:
    """An attribute value escaped by ElementTree's rules (line breaks and tabs as character
    references, so that a reader's attribute normalisation keeps them)."""
    text = _escape_cdata(text)
    # (Unrolled: twice per testcase.)
    if '"' in text:
        text = text.replace('"', "&quot;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    if "\n" in text:
        text = text.replace("\n", "&#10;")
    if "\t" in text:
        text = text.replace("\t", "&#09;")
    return text


#: What ``ET.indent`` puts around a testcase's one child and after a testcase (depth 2).
_CHILD_INDENT = "\n      "
_CASE_TAIL = "\n    "


def _testcase(content: RecordContent, item: RecordItem, tail: str,
              classnames: dict[str, str]) -> bytes:
    """One testcase element, indented at its depth in the suite, then ``tail``
    (``classnames``: the record's escaped class names by section, filled as they come)."""
    criterion = item.criterion
    gate_id = content.gate_id
    classname = classnames.get(criterion.section_id)
    if classname is None:
        classname = classnames[criterion.section_id] = _escape_attrib(
            f"{gate_id}.{criterion.section_id}")
    opening = (f'<testcase classname="{classname}" '
               f'name="{_escape_attrib(testcase_name(gate_id, criterion.id, criterion.text))}" '
               f'time="{f"{item.outcome.duration:.3f}" if item.outcome else "0.000"}">')
    outcome = item.outcome
    message = item_message(item, gate_id)
    where = _where(content, item)
    if outcome is None:
        child = _child_xml(*NOT_RUN_FORM, message, [], trailer=where)
    else:
        form = junit_form(outcome.status, criterion.role)
        evidence = [describe_evidence(e) for e in outcome.evidence]
        if form[0] is None:
            # GitLab shows nothing of a passing case but its name; others show system-out.
            text = _clean("\n".join([message, *_evidence_block(evidence), *where]))
            child = _element_xml("system-out", "", text)
        else:
            child = _child_xml(form[0], form[1], message, evidence, trailer=where)
    # As ElementTree's utf-8 writer: a character utf-8 cannot carry becomes a reference.
    return (f"{opening}{_CHILD_INDENT}{child}{_CASE_TAIL}</testcase>{tail}"
            .encode("utf-8", "xmlcharrefreplace"))


def _child_xml(tag: str, kind: str, message: str, details: list[str],
               trailer: list[str]) -> str:
    """:func:`_child`'s element, as text."""
    attributes = (f' type="{_escape_attrib(kind)}" '
                  f'message="{_escape_attrib(_clean(message)[:_MESSAGE_LIMIT])}"')
    return _element_xml(tag, attributes, _clean("\n".join(
        [message, *_evidence_block(details), *trailer])))


def _element_xml(tag: str, attributes: str, text: str) -> str:
    """A childless element as ElementTree writes it (``<tag ... />`` when it has no text)."""
    if not text:
        return f"<{tag}{attributes} />"
    return f"<{tag}{attributes}>{_escape_cdata(text)}</{tag}>"


def _where(content: RecordContent, item: RecordItem) -> list[str]:
    """``criterion: gate_specs/12-production.yaml:57`` when the spec is a project file."""
    if not content.spec_file or item.criterion.line <= 0:
        return []
    return ["", f"criterion: {content.spec_file}:{item.criterion.line}"]


def _decision_case(suite: ET.Element, content: RecordContent) -> str:
    decision = content.decision
    case = ET.SubElement(suite, "testcase", {
        "classname": f"{content.gate_id}.decision",
        "name": testcase_name(content.gate_id, DECISION_ID, "Gate decision"),
        "time": "0.000",
    })
    lines = breakdown(content)
    if content.error:
        lines.append(content.error)
    first = headline(content)
    if decision.status == PASS:
        out = ET.SubElement(case, "system-out")
        out.text = _clean("\n".join([first, *_evidence_block(lines, "decision")]))
        element = "passed"
    elif decision.status == SKIPPED:
        _child(case, "skipped", "gate-skipped", first, lines, "decision")
        element = "skipped"
    else:
        _child(case, "failure", decision.status.lower(), first, lines, "decision")
        element = "failure"
    return element


def _child(case: ET.Element, tag: str, kind: str, message: str, details: list[str],
           heading: str = "evidence", trailer: list[str] | None = None) -> None:
    child = ET.SubElement(case, tag, {"type": kind, "message": _clean(message)[:_MESSAGE_LIMIT]})
    child.text = _clean("\n".join([message, *_evidence_block(details, heading),
                                   *(trailer or [])]))


def _evidence_block(lines: list[str], heading: str = "evidence") -> list[str]:
    return ["", f"{heading}:", *(f"- {line}" for line in lines)] if lines else []


def _clean(text: str) -> str:
    return _ILLEGAL_XML.sub("\ufffd", text)
