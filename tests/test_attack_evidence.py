"""Red team of the evidence readers' meaning (not their robustness): evidence a real tool
writes, or a release's author commits, that a reader took as showing a criterion holds when
it does not. The author controls the evidence files and deploygate.yaml; never conftest.py.
"""

from __future__ import annotations

import json

import pytest

from conftest import GateProject, custom_gate


def _judged(project: GateProject, criterion: str, *args: str) -> dict[str, str]:
    """Run gate 12 in-process and return the record's testcase of ``criterion``."""
    project.run("--gate=12", *args)
    return project.record().case(criterion)


# -- coverage: nothing measured is not 100 % covered -------------------------------------------

def _coverage_gate(project: GateProject, name: str, text: str) -> None:
    project.set_state({"phases": {}})
    (project.root / name).write_text(text)
    custom_gate(project, "- {id: cov, text: Coverage, check: {kind: coverage, "
                         f"paths: [{name}], min: 80}}}}")


_COBERTURA = ('<?xml version="1.0" ?>\n<coverage version="7.4.0" timestamp="1700000000000" '
              'lines-valid="{valid}" lines-covered="{covered}" line-rate="{rate}" '
              'branches-covered="0" branches-valid="0" branch-rate="0" complexity="0">'
              '<sources><source>/src</source></sources><packages>{packages}</packages>'
              '</coverage>\n')


@pytest.mark.parametrize("name, text", [
    # coverage.py measured no file (``--cov`` of a package that was never imported, a wrong
    # ``source``): its JSON says 100 % of 0 statements, its XML line-rate="1" of 0 lines.
    ("coverage.json", json.dumps({"meta": {"version": "7.4.0"}, "files": {}, "totals": {
        "covered_lines": 0, "num_statements": 0, "percent_covered": 100.0,
        "percent_covered_display": "100", "missing_lines": 0, "excluded_lines": 0}})),
    ("coverage.xml", _COBERTURA.format(valid=0, covered=0, rate=1, packages="")),
    # A total that the report's own counts contradict (10 of 100 lines is not 95 %).
    ("coverage.json", json.dumps({"files": {}, "totals": {
        "covered_lines": 10, "num_statements": 100, "percent_covered": 95.0}})),
    ("coverage.xml", _COBERTURA.format(valid=100, covered=10, rate="0.95", packages="")),
    # A percentage that is not a number of the report (a string, a boolean).
    ("coverage.json", json.dumps({"files": {}, "totals": {
        "covered_lines": 95, "num_statements": 100, "percent_covered": "95"}})),
    # A Cobertura report without counts and without a single measured line.
    ("coverage.xml", '<coverage line-rate="1"><packages/></coverage>'),
], ids=["json-no-statements", "xml-no-lines", "json-total-contradicted",
        "xml-rate-contradicted", "json-percent-a-string", "xml-no-counts-no-lines"])
def test_coverage_that_measured_nothing_or_contradicts_itself_is_not_met(
        project: GateProject, name: str, text: str) -> None:
    _coverage_gate(project, name, text)
    case = _judged(project, "cov")
    assert case["outcome"] == "error", case
    assert name in case["message"], case


@pytest.mark.parametrize("name, text", [
    ("coverage.json", json.dumps({"files": {}, "totals": {
        "covered_lines": 87, "num_statements": 100, "percent_covered": 87.0}})),
    # Branch coverage on: the total counts lines and branches together, as coverage.py does.
    ("coverage.json", json.dumps({"files": {}, "totals": {
        "covered_lines": 90, "num_statements": 100, "num_branches": 20, "covered_branches": 12,
        "percent_covered": 85.0}})),
    ("coverage.xml", _COBERTURA.format(valid=7, covered=6, rate="0.8571", packages="")),
    ('coverage.xml', '<coverage line-rate="0.8"><packages><package><classes><class name="a">'
                     '<lines>' + '<line number="1" hits="1"/>' * 4 + '<line number="5" hits="0"/>'
                     '</lines></class></classes></package></packages></coverage>'),
], ids=["json", "json-branches", "xml-rounded-rate", "xml-lines-only"])
def test_coverage_whose_counts_agree_is_judged_on_its_total(
        project: GateProject, name: str, text: str) -> None:
    # (Held by the fix: real reports, rounded as coverage.py rounds line-rate, still pass.)
    _coverage_gate(project, name, text)
    case = _judged(project, "cov")
    assert case["outcome"] == "passed", case
