"""Red team on the value objects (core/value_class.py) through `pytest --gate` with a plugin
check kind: a result's secrets must be redacted whichever field carries them, and parameters
shared by checks written alike must stay read-only however deep the write goes."""

from __future__ import annotations

import pytest
from test_python_criteria import ticket_gate

from conftest import GateProject

SECRET = "s3cr3t-pw"
URL = f"https://deploy:{SECRET}@metrics.internal/x?token={SECRET}"


def plugin_gate(example: GateProject, plugin: str, criteria: str) -> pytest.RunResult:
    """Gate 12 of ``criteria`` (YAML list items) with ``plugin`` as the project's conftest."""
    ticket_gate(example, "Plugin kinds", criteria)
    example.pytester.makeconftest(plugin)
    return example.run("--gate=12")


def test_every_evidence_field_is_redacted(example: GateProject) -> None:
    # Evidence.__post_init__ redacted ref and detail only: a kind that names its evidence by
    # its URL (kind, modified, sha256) or charts it (measurement label) showed the password.
    result = plugin_gate(example, f'''
from pytest_deploygate import CheckKind, CheckResult, Evidence, params_schema
from pytest_deploygate.core.measurements import single

URL = {URL!r}

def _probe(params, ctx):
    evidence = Evidence(kind=URL, ref="probe", sha256=URL, modified=URL)
    return CheckResult.met("reachable", evidence).measured(single(URL, 1.0, None, 2.0))

def pytest_deploygate_check_kinds(config):
    return [CheckKind("probe", "a probe", params_schema({{}}), _probe)]
''', "      - {id: probe, text: Probe, check: {kind: probe}}")
    shown = [result.stdout.str(), result.stderr.str()]
    for name in ("GATE-12.xml", "GATE-12.md", "GATE-12.html"):
        shown.append((example.root / "gate-records" / name).read_text())
    assert example.record().case("probe")["outcome"] == "passed"
    for text in shown:
        assert SECRET not in text, text[-2000:]


def test_nested_parameters_shared_by_checks_written_alike_are_read_only(
        example: GateProject) -> None:
    # The shared mapping is read-only, its lists were not: the first criterion's kind rewrote
    # the ticket list the second criterion is judged by, and INC-7 passed as CHG-1.
    result = plugin_gate(example, '''
from pytest_deploygate import CheckKind, CheckResult, params_schema

def _tickets(params, ctx):
    if ctx.criterion.id == "first":
        params["tickets"][0] = "CHG-1"
    if all(t.startswith("CHG-") for t in params["tickets"]):
        return CheckResult.met("approved")
    return CheckResult.not_met(f"{list(params['tickets'])} are not all change tickets")

def pytest_deploygate_check_kinds(config):
    return [CheckKind("tickets", "change tickets", params_schema(
        {"tickets": {"type": "array", "items": {"type": "string"}}}, required=["tickets"]),
        _tickets)]
''', """\
      - {id: first, text: First, check: {kind: tickets, tickets: [INC-7]}}
      - {id: second, text: Second, check: {kind: tickets, tickets: [INC-7]}}""")
    assert result.ret == 1
    record = example.record()
    assert record.case("first")["outcome"] != "passed"
    assert record.case("second")["outcome"] != "passed", record.case("second")


#: The URL glued to what stands before it: a digit, "_" or a letter before the scheme, an
#: escaped slash, a scheme no grammar allows, none at all.
GLUED = {"digit": f"1{URL}", "underscore": f"_{URL}", "letter-e-acute": f"é{URL}",
         "escaped-slash": f"%2F{URL}", "bad-scheme-char": URL.replace("https", "x_", 1),
         "no-scheme": URL.removeprefix("https")}


@pytest.mark.parametrize("glued", GLUED.values(), ids=GLUED.keys())
def test_a_url_glued_to_a_word_is_redacted(example: GateProject, glued: str) -> None:
    # The URL pattern wanted a word boundary before the scheme: "see 1https://user:pw@host"
    # in a sign-off's evidence or a report's message reached all three records whole.
    result = plugin_gate(example, f'''
from pytest_deploygate import CheckKind, CheckResult, Evidence, params_schema

GLUED = {glued!r}

def _probe(params, ctx):
    return CheckResult.not_met("see " + GLUED, Evidence("probe", "r", detail="at " + GLUED))

def pytest_deploygate_check_kinds(config):
    return [CheckKind("probe", "a probe", params_schema({{}}), _probe)]
''', "      - {id: probe, text: Probe, check: {kind: probe}}")
    shown = [result.stdout.str(), result.stderr.str()]
    for name in ("GATE-12.xml", "GATE-12.md", "GATE-12.html"):
        shown.append((example.root / "gate-records" / name).read_text())
    assert example.record().case("probe")["outcome"] == "failure"
    for text in shown:
        assert SECRET not in text, text[-2000:]
