"""Users' own Python criteria: the gate marker, the fixtures, and the plugin's cost without
--gate."""

from __future__ import annotations

from conftest import GateProject

USER_TESTS = '''
import pytest

@pytest.mark.gate(12, section="backup-and-recovery", id="restore-drill")
def test_restore_drill(gate_state, gate_artifacts, rollback_thresholds, gate_spec):
    """Restore drill finished within the hour"""
    assert gate_state["phases.12-production.status"] == "in_progress"
    assert gate_artifacts["release-notes"].read_text().startswith("# acme-api 1.4.0")
    assert rollback_thresholds["p99_ms"] == 1500.0
    assert rollback_thresholds["error_rate"] == 0.05
    assert gate_spec.id == "GATE-12"

@pytest.mark.gate(12, section="monitoring-verification")
def test_dashboard_has_panels(gate_state):
    assert "phases.99-nothing" not in gate_state
    assert gate_state.get("phases.99-nothing", "absent") == "absent"

def test_ordinary():
    assert True
'''


def test_marked_tests_join_the_gate_record(example: GateProject) -> None:
    (example.root / "deploygate.yaml").write_text(
        (example.root / "deploygate.yaml").read_text() + "thresholds:\n  p99_ms: 1500\n")
    example.pytester.makepyfile(test_release=USER_TESTS)
    result = example.run("--gate=12")
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=66 + 3, skipped=2)
    record = example.record()
    assert len(record.cases) == 68 + 2 + 1
    drill = record.case("restore-drill")
    assert drill["name"] == "[GATE-12][restore-drill] Restore drill finished within the hour"
    assert drill["classname"] == "GATE-12.backup-and-recovery"
    panels = record.case("test_release.py::test_dashboard_has_panels")
    assert panels["classname"] == "GATE-12.monitoring-verification"
    assert record.properties["deploygate.expected_criteria"] == "70"


def test_failing_marked_test_fails_its_row(example: GateProject) -> None:
    example.pytester.makepyfile(test_release='''
import pytest

@pytest.mark.gate(12, section="backup-and-recovery", id="restore-drill")
def test_restore_drill():
    assert 1 + 1 == 3, "restore took 3 hours"
''')
    result = example.run("--gate=12")
    assert result.ret == 1
    record = example.record()
    assert record.decision == "FAIL"
    assert record.properties["deploygate.row.pre-deployment-checks"] == "FAIL"
    assert "restore took 3 hours" in record.case("restore-drill")["message"]


def test_marked_test_skips_with_unmet_prerequisites(example: GateProject) -> None:
    example.edit_state("cloud_configuration.provider", "undecided")
    example.pytester.makepyfile(test_release='''
import pytest

@pytest.mark.gate(12, section="backup-and-recovery", id="restore-drill")
def test_restore_drill():
    raise AssertionError("must not run")
''')
    result = example.run("--gate=12", "-rs")
    assert result.ret == 0
    result.assert_outcomes(skipped=69)
    assert example.record().case("restore-drill")["type"] == "prerequisite-unmet"


def test_marked_test_of_unknown_section_fails_clearly(example: GateProject) -> None:
    example.pytester.makepyfile(test_release='''
import pytest

@pytest.mark.gate(12, section="backups")
def test_restore_drill():
    pass
''')
    result = example.run("--gate=12")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*GATE-12 has no such section; sections: prerequisites*"])


def test_marked_test_outside_the_stage_is_deselected(example: GateProject) -> None:
    example.git_init()
    example.pytester.makepyfile(test_release='''
import pytest

@pytest.mark.gate(12, section="monitoring-verification")
def test_dashboards():
    raise AssertionError("post-deploy check run before the deploy")
''')
    result = example.run("--gate=12", "--gate-stage=pre")
    assert result.ret == 0, result.stdout.str()
    assert "1 deselected" in result.stdout.str()


def test_skip_inside_a_marked_test_is_not_a_pass(example: GateProject) -> None:
    example.pytester.makepyfile(test_release='''
import pytest

@pytest.mark.gate(12, section="backup-and-recovery", id="restore-drill")
def test_restore_drill():
    pytest.skip("no time today")
''')
    assert example.run("--gate=12").ret == 1
    case = example.record().case("restore-drill")
    assert case["type"] == "not-evaluated"
    assert "no time today" in case["message"]


def test_fixtures_without_gate_fail_clearly(pytester) -> None:
    pytester.makepyfile('''
def test_state(gate_state):
    pass
''')
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*fixture 'gate_state' needs a gate run: pytest --gate=N*"])


def test_without_gate_the_plugin_imports_nothing_heavy(pytester) -> None:
    pytester.makepyfile('''
import sys

def test_modules():
    heavy = [m for m in ("yaml", "jsonschema", "defusedxml", "pytest_deploygate.plugin.session",
                         "pytest_deploygate.spec.loader", "urllib.request", "http.client")
             if m in sys.modules]
    assert heavy == []
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:hypothesispytest",
                                           "-p", "no:benchmark")
    result.assert_outcomes(passed=1)
    assert "deploygate" in result.stdout.str()  # the plugin was loaded


def test_disabling_the_plugin(pytester) -> None:
    pytester.makepyfile("def test_a():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:deploygate", "--gate=12")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*unrecognized arguments: --gate=12*"])


def test_options_are_grouped_in_help(pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines([
        "deployment gates (pytest-deploygate):",
        "*--gate=SPEC*",
        "*--gate-stage=*",
        "*--gate-now=ISO-8601*",
    ])


#: A plugin kind: a change ticket is approved when its name starts with CHG- (``{extra}``: a
#: line of the kind's function before it judges).
TICKET_PLUGIN = '''
from pytest_deploygate import CheckKind, CheckResult, params_schema

def _ticket(params, ctx):
    {extra}
    if params["ticket"].startswith("CHG-"):
        return CheckResult.met(f"change ticket {{params['ticket']}} approved")
    return CheckResult.not_met(f"{{params['ticket']}} is not a change ticket")

def pytest_deploygate_check_kinds(config):
    return [CheckKind("ticket", "a change ticket", params_schema(
        {{"ticket": {{"type": "string"}}}}, required=["ticket"]), _ticket)]
'''


def ticket_gate(example: GateProject, title: str, criteria: str, extra: str = "pass") -> None:
    """Gate 12 as one section of ``criteria`` (YAML list items) checked by the ticket kind."""
    example.pytester.makeconftest(TICKET_PLUGIN.format(extra=extra))
    spec_dir = example.root / "gate_specs"
    spec_dir.mkdir()
    (spec_dir / "12-production.yaml").write_text(f'''
spec_version: 1
gate: 12
id: GATE-12
title: {title}
phase: 12-production
decision: [{{id: approvals, title: Approvals obtained}}]
sections:
  - id: approvals
    title: Approvals
    stage: pre
    decision: approvals
    criteria:
{criteria}
''')


def test_plugin_registers_check_kinds(example: GateProject) -> None:
    ticket_gate(example, "With a plugin kind", """\
      - {id: change-ticket, text: Change ticket approved, check: {kind: ticket, ticket: CHG-7}}
      - {id: bad-ticket, text: Bad ticket, check: {kind: ticket, ticket: INC-7}}""")
    result = example.run("--gate=12")
    assert result.ret == 1
    record = example.record()
    assert record.case("change-ticket")["outcome"] == "passed"
    assert record.case("bad-ticket")["message"] == "NOT MET: INC-7 is not a change ticket"


def test_a_plugin_kind_named_like_a_built_in_one_is_refused(example: GateProject) -> None:
    # Built-in kinds are imported only when a spec names them; a plugin's kind of the same
    # name is still a clash, whether or not the built-in one was loaded.
    example.pytester.makeconftest('''
from pytest_deploygate import CheckKind, CheckResult, params_schema

def pytest_deploygate_check_kinds(config):
    return [CheckKind("sarif", "always met", params_schema({}),
                      lambda params, ctx: CheckResult.met("trust me"))]
''')
    result = example.run("--gate=12")
    assert result.ret == 4  # pytest's usage error
    assert "check kind 'sarif' is registered twice" in result.stderr.str()


def test_the_built_in_kind_objects_may_be_registered_again(example: GateProject) -> None:
    example.pytester.makeconftest('''
from pytest_deploygate.checks.state_value import KIND

def pytest_deploygate_check_kinds(config):
    return [KIND]
''')
    example.run("--gate=12").assert_outcomes(passed=66, skipped=2)


def test_a_kind_cannot_write_into_parameters_shared_by_checks_written_alike(
        example: GateProject) -> None:
    # Checks written alike share one parameter mapping: a kind that wrote into its parameters
    # would change the other criteria's checks. The mapping is read-only; the write is an
    # error of that criterion (never a pass), and the other criterion is judged as written.
    ticket_gate(example, "Shared parameters", """\
      - {id: first, text: First ticket, check: {kind: ticket, ticket: INC-7}}
      - {id: second, text: Second ticket, check: {kind: ticket, ticket: INC-7}}""",
                extra='if ctx.criterion.id == "first": params["ticket"] = "CHG-1"')
    result = example.run("--gate=12")
    assert result.ret == 1
    record = example.record()
    assert record.case("first")["outcome"] != "passed"
    assert "does not support item assignment" in record.case("first")["message"]
    assert record.case("second")["message"] == "NOT MET: INC-7 is not a change ticket"


def test_installed_plugin_module_registers_a_kind(example: GateProject) -> None:
    example.pytester.makepyfile(acme_gates='''
from pytest_deploygate import CheckKind, CheckResult, Evidence, params_schema

def _jira(params, ctx):
    ticket = params["ticket"]
    return CheckResult.met(f"{ticket} approved", Evidence("url", f"https://jira/{ticket}"))

def pytest_deploygate_check_kinds(config):
    return [CheckKind("jira_ticket", "a Jira ticket",
                      params_schema({"ticket": {"type": "string"}}, required=["ticket"]),
                      _jira)]
''')
    config = example.root / "deploygate.yaml"
    config.write_text(config.read_text() + "  change-management-approval: "
                                           "{kind: jira_ticket, ticket: CHG-1042}\n")
    example.pytester.syspathinsert()
    result = example.run("-p", "acme_gates", "--gate=12")
    assert result.ret == 0, result.stdout.str()
    case = example.record().case("change-management-approval")
    assert "CHG-1042 approved" in case["text"]
    assert "url https://jira/CHG-1042" in case["text"]
    # Without the plugin the override names an unknown kind: a clear error, not a pass.
    assert example.run_subprocess("--gate=12").ret == 2


def test_cli_finds_kinds_of_installed_plugins(example: GateProject, tmp_path) -> None:
    import os
    import subprocess

    site = tmp_path / "site"
    (site / "acme_kinds").mkdir(parents=True)
    (site / "acme_kinds" / "__init__.py").write_text('''
from pytest_deploygate.checks.base import CheckKind, CheckResult, params_schema

def pytest_deploygate_check_kinds(config):
    return [CheckKind("ticket", "a change ticket", params_schema({"ticket": {"type": "string"}}),
                      lambda params, ctx: CheckResult.met("ok"))]
''')
    dist = site / "acme_kinds-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-kinds\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[pytest11]\nacme = acme_kinds\n")
    config = example.root / "deploygate.yaml"
    config.write_text(config.read_text() + "  runbooks-ready: {kind: ticket, ticket: CHG-1}\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    shown = subprocess.run(["deploygate", "show", "12"], cwd=example.root, env=env,
                           capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert "runbooks-ready: Runbooks ready\n        ticket: a change ticket" in shown.stdout
    alone = subprocess.run(["deploygate", "show", "12"], cwd=example.root, capture_output=True,
                           text=True)
    assert alone.returncode == 2 and "unknown kind 'ticket'" in alone.stderr
