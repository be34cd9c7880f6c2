"""Reading a gate record back (the pre-stage record a post stage is bound to).

Parsed with defusedxml: a record is a file anyone with write access to the record directory
could have replaced, so entity expansion and external entities are refused.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pytest_deploygate.core.limits import DEFAULT_EVIDENCE_BYTES
from pytest_deploygate.core.regular_files import UnusableFile, read_regular_file
from pytest_deploygate.core.value_class import field, value_class


class RecordError(ValueError):
    """The file is not a readable gate record."""


@value_class
class RecordTestcase:
    """One testcase of a record."""

    name: str
    classname: str
    outcome: str  # passed, failure, error, skipped
    message: str = ""
    kind: str | None = None  # the type attribute of failure/error/skipped
    #: How many failure/error/skipped elements the testcase holds, at any depth: a record
    #: writer puts at most one, directly inside; the worst of them is the outcome.
    outcome_elements: int = 0


@value_class
class GateRecord:
    """Suite properties and testcases of a gate record."""

    path: Path
    properties: dict[str, str] = field(default_factory=dict)
    testcases: list[RecordTestcase] = field(default_factory=list)
    #: What a faithful record never has: a suite property named twice, testcases nested
    #: deeper than the suite.
    oddities: list[str] = field(default_factory=list)
    #: SHA-256 of the bytes parsed: what a signature is checked against, never a second
    #: read of the file, which may have changed in between.
    sha256: str = ""


def read_record(path: Path, max_bytes: int = DEFAULT_EVIDENCE_BYTES) -> GateRecord:
    """Parse a gate record; raise :class:`RecordError` with one clear line."""
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        data = read_regular_file(path, max_bytes)
        root = SafeET.fromstring(data)
    except UnusableFile as exc:
        raise RecordError(f"{path}: {exc.reason}") from None
    except FileNotFoundError:
        raise RecordError(f"{path}: not found") from None
    except OSError as exc:
        raise RecordError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except DefusedXmlException as exc:
        raise RecordError(f"{path}: refused unsafe XML: {type(exc).__name__}") from None
    except SafeET.ParseError as exc:
        raise RecordError(f"{path}: not well-formed XML: {exc}") from None
    if root is None:  # the parser refuses a document without one; the types cannot tell
        raise RecordError(f"{path}: not a gate record (no root element)")
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    if root.tag not in ("testsuite", "testsuites") or len(suites) != 1:
        raise RecordError(f"{path}: not a gate record (expected one <testsuite>)")
    suite = suites[0]
    record = GateRecord(path, sha256=hashlib.sha256(data).hexdigest())
    # Only the suite's own properties count: a <properties> inside a testcase is no property
    # of the gate, whatever it says.
    for props in suite.findall("properties"):
        for prop in props.findall("property"):
            name = prop.get("name", "")
            if name in record.properties:
                record.oddities.append(f"suite property {name} appears twice")
            record.properties[name] = prop.get("value", "")
    if "deploygate.decision" not in record.properties:
        raise RecordError(f"{path}: not a gate record (no deploygate.decision property)")
    cases = suite.findall("testcase")
    if len(list(suite.iter("testcase"))) != len(cases):
        record.oddities.append("testcases nested inside other elements")
    for case in cases:
        record.testcases.append(_testcase(case))
    return record


#: Worst first: a failure anywhere in a testcase counts, whatever else it holds.
_OUTCOME_TAGS = ("error", "failure", "skipped")


def _testcase(case: Any) -> RecordTestcase:
    found = [element for element in case.iter() if element.tag in _OUTCOME_TAGS]
    outcome, message, kind = "passed", "", None
    for tag in _OUTCOME_TAGS:
        child = next((element for element in found if element.tag == tag), None)
        if child is not None:
            outcome, message, kind = tag, child.get("message", ""), child.get("type")
            break
    return RecordTestcase(case.get("name", ""), case.get("classname", ""), outcome, message,
                          kind, len(found))
