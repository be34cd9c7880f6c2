"""Reading a gate record back (the pre-stage record a post stage is bound to).

Parsed with defusedxml: a record is a file anyone with write access to the record directory
could have replaced, so entity expansion and external entities are refused.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pytest_deploygate import limits


class RecordError(ValueError):
    """The file is not a readable gate record."""


@dataclass
class RecordTestcase:
    """One testcase of a record."""

    name: str
    classname: str
    outcome: str  # passed, failure, error, skipped
    message: str = ""
    kind: str | None = None  # the type attribute of failure/error/skipped


@dataclass
class GateRecord:
    """Suite properties and testcases of a gate record."""

    path: Path
    properties: dict[str, str] = field(default_factory=dict)
    testcases: list[RecordTestcase] = field(default_factory=list)


def read_record(path: Path) -> GateRecord:
    """Parse a gate record; raise :class:`RecordError` with one clear line."""
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        if path.stat().st_size > limits.MAX_EVIDENCE_BYTES:
            raise RecordError(f"{path}: over the {limits.MAX_EVIDENCE_BYTES} byte limit")
        root = SafeET.parse(path).getroot()
    except FileNotFoundError:
        raise RecordError(f"{path}: not found") from None
    except OSError as exc:
        raise RecordError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except DefusedXmlException as exc:
        raise RecordError(f"{path}: refused unsafe XML: {type(exc).__name__}") from None
    except SafeET.ParseError as exc:
        raise RecordError(f"{path}: not well-formed XML: {exc}") from None
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    if root.tag not in ("testsuite", "testsuites") or len(suites) != 1:
        raise RecordError(f"{path}: not a gate record (expected one <testsuite>)")
    suite = suites[0]
    record = GateRecord(path)
    for prop in suite.iter("property"):
        record.properties[prop.get("name", "")] = prop.get("value", "")
    if "deploygate.decision" not in record.properties:
        raise RecordError(f"{path}: not a gate record (no deploygate.decision property)")
    for case in suite.findall("testcase"):
        outcome, message, kind = "passed", "", None
        for tag in ("failure", "error", "skipped"):
            child = case.find(tag)
            if child is not None:
                outcome, message, kind = tag, child.get("message", ""), child.get("type")
                break
        record.testcases.append(RecordTestcase(case.get("name", ""), case.get("classname", ""),
                                               outcome, message, kind))
    return record
