"""Red team on three changes of one day: check kinds declared as data (checks/declared.py, a
kind's module imported only to evaluate or prefetch), PyYAML imported through core/pyyaml.py
(its printable-character pattern placed in ``re``'s cache), and value classes whose
``__init__`` is compiled on first use. Each attack is run through the public surface (``pytest
--gate``, ``deploygate``); the ones that got through are fixed, the ones that held stay as
regression tests."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from test_python_criteria import ticket_gate
from test_verdict_trust import released, verdict  # noqa: F401 (released: a fixture)

import pytest_deploygate.checks  # noqa: F401 (kept imported: its memory of kinds outlives runs)
from pytest_deploygate.core.pyyaml import PYYAML_NON_PRINTABLE, yaml
from pytest_deploygate.core.value_class import FrozenInstanceError, field, replace, value_class
from pytest_deploygate.core.yaml_lines import YamlSyntaxError, load_yaml

from conftest import GateProject, custom_gate, write_config

# -- check kinds ---------------------------------------------------------------------------

#: A -p plugin registering an always-met kind under a built-in kind's name, its hook called
#: first or last (pluggy's order decides which group the registry sees first).
IMPOSTOR = '''
import pytest
from pytest_deploygate import CheckKind, CheckResult, params_schema

@pytest.hookimpl({order}=True)
def pytest_deploygate_check_kinds(config):
    return [CheckKind("{name}", "always met", params_schema({{}}, additionalProperties=True),
                      lambda params, ctx: CheckResult.met("trust me"))]
'''


def _failing_state_gate(project: GateProject) -> None:
    custom_gate(project, criteria="- {id: shipped, text: Shipped, "
                                   "check: {kind: state, path: nowhere.at.all, equals: true}}")


@pytest.mark.parametrize("order", ["tryfirst", "trylast"])
def test_a_plugin_kind_named_like_a_built_in_one_never_evaluates(example: GateProject,
                                                                   order: str) -> None:
    _failing_state_gate(example)
    example.pytester.makepyfile(impostor=IMPOSTOR.format(order=order, name="state"))
    example.pytester.syspathinsert()
    result = example.run("--gate=12", "-p", "impostor")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()[-2000:]
    result.stderr.fnmatch_lines(["*check kind 'state' is registered twice*"])
    assert not (example.root / "gate-records" / "GATE-12.xml").exists()


#: The impostor of IMPOSTOR registered on pytest-xdist workers only: the controller, which
#: decides, sees no clash.
WORKERS_ONLY = '''
from pytest_deploygate import CheckKind, CheckResult, params_schema

def pytest_deploygate_check_kinds(config):
    if not hasattr(config, "workerinput"):
        return []
    return [CheckKind("state", "always met", params_schema({}, additionalProperties=True),
                      lambda params, ctx: CheckResult.met("trust me"))]
'''


def test_a_plugin_kind_named_like_a_built_in_one_only_on_xdist_workers_is_not_a_pass(
        example: GateProject) -> None:
    _failing_state_gate(example)
    example.pytester.makepyfile(workers_only=WORKERS_ONLY)
    example.pytester.syspathinsert()
    result = example.run_subprocess("--gate=12", "-p", "workers_only", "-n", "2")
    assert result.ret != pytest.ExitCode.OK
    assert example.record().decision == "INCOMPLETE"
    assert example.record().case("shipped")["outcome"] != "passed"


#: A -p plugin that breaks one built-in kind's module for the run: ``mode`` "absent" makes its
#: import fail; "other" puts there a module whose KIND is an always-met kind of that name (what
#: a stale or mispackaged module looks like to the registry).
BREAKER = '''
import sys, types
from pytest_deploygate import CheckKind, CheckResult, params_schema

NAME = "pytest_deploygate.checks.{module}"
if "{mode}" == "absent":
    sys.modules[NAME] = None
else:
    fake = types.ModuleType(NAME)
    fake.KIND = CheckKind("{kind}", "always met", params_schema({{}}),
                          lambda params, ctx: CheckResult.met("trust me"))
    sys.modules[NAME] = fake
'''


@pytest.mark.parametrize("mode", ["absent", "other"])
@pytest.mark.parametrize("workers", [[], ["-n", "2"]])
def test_a_kind_module_that_cannot_load_is_evidence_missing_never_a_pass(
        example: GateProject, mode: str, workers: list[str]) -> None:
    # metrics_file answers the example's metric criteria and two rollback triggers.
    example.pytester.makepyfile(breaker=BREAKER.format(module="metrics_file", mode=mode,
                                                       kind="metrics_file"))
    example.pytester.syspathinsert()
    run = example.run_subprocess if workers else example.run
    result = run("--gate=12", "-p", "breaker", *workers)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()[-3000:]
    record = example.record()
    assert record.decision == "FAIL"
    for trigger in ("error-rate-above-threshold", "p99-above-threshold"):
        case = record.case(trigger)
        assert case["outcome"] == "error", case  # evidence missing: not passed, not a rollback
        assert "check kind 'metrics_file' failed" in case["message"], case


def test_a_plugin_kind_named_like_a_built_in_one_whose_module_is_broken_is_one_line(
        example: GateProject) -> None:
    # Telling the impostor from the built-in imports the built-in's module; when that fails,
    # the clash is still reported in one line, not as a traceback.
    _failing_state_gate(example)
    example.pytester.makepyfile(breaker=BREAKER.format(module="state_value", mode="absent",
                                                       kind="state"),
                                impostor=IMPOSTOR.format(order="trylast", name="state"))
    example.pytester.syspathinsert()
    result = example.run_subprocess("--gate=12", "-p", "breaker", "-p", "impostor")
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, output[-2000:]
    assert "Traceback" not in output
    result.stderr.fnmatch_lines(["*check kind 'state' is registered twice*"])


def test_the_memory_of_loaded_kinds_does_not_outlive_an_in_process_run(
        example: GateProject) -> None:
    # Run 1 evaluates with a module pytester removes afterwards (a module of another origin
    # whose KIND even agrees with the declaration); run 2 must import the real one again.
    _failing_state_gate(example)
    example.pytester.makepyfile(agreeing='''
import sys, types
from pytest_deploygate.checks.declared import builtin_kind
from pytest_deploygate import CheckResult

fake = types.ModuleType("pytest_deploygate.checks.state_value")
fake.KIND = builtin_kind("state", lambda params, ctx: CheckResult.met("trust me"))
sys.modules[fake.__name__] = fake
''')
    example.pytester.syspathinsert()
    assert example.run("--gate=12", "-p", "agreeing").ret == pytest.ExitCode.OK
    again = example.run("--gate=12")
    assert again.ret == pytest.ExitCode.TESTS_FAILED, again.stdout.str()[-2000:]
    assert example.record().case("shipped")["outcome"] == "error"


#: Run the command with every built-in kind's module unimportable.
NO_KIND_MODULES = '''
import sys
from pytest_deploygate.checks.declared import DECLARED
for declared in DECLARED.values():
    sys.modules["pytest_deploygate.checks." + declared.module] = None
from pytest_deploygate.cli.main import main
sys.exit(main(sys.argv[1:]))
'''


@pytest.mark.parametrize(("record", "code"), [("gate-records/GATE-12.xml", 0),
                                              ("failing/GATE-12.xml", 1),
                                              ("gate-records/GATE-12-post.xml", 2)])
def test_verdict_decides_without_any_kind_module(released: Path, record: str,  # noqa: F811
                                                 code: int) -> None:
    # The outcomes a record may hold (N/A, rollback triggers, waivers) come from the spec and
    # the kinds' names, never from a kind's evaluation code: verdict must not need it.
    # (-P: `python -c` in the checkout puts it on sys.path, which verdict refuses.)
    done = subprocess.run([sys.executable, "-P", "-c", NO_KIND_MODULES, "--root", str(released),
                           "verdict", record, "--allow-replay"], cwd=released,
                          capture_output=True, text=True)
    assert done.returncode == code, done.stderr


def test_verdict_refuses_when_a_plugin_kind_claims_a_built_in_name(
        released: Path, tmp_path: Path) -> None:  # noqa: F811
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "clash.py").write_text(IMPOSTOR.format(order="tryfirst", name="changelog"))
    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "--root", str(released),
                           "--plugin", "clash", "verdict", "gate-records/GATE-12.xml",
                           "--allow-replay"], cwd=released, capture_output=True, text=True,
                          env={**__import__("os").environ, "PYTHONPATH": str(plugins)})
    assert done.returncode == 4, done.stderr
    assert "check kind 'changelog' is registered twice" in done.stderr


#: A plugin kind that reports its own criterion waived (no waiver recorded anywhere).
SELF_WAIVING = '''
from pytest_deploygate import CheckKind, CheckResult, params_schema

def pytest_deploygate_check_kinds(config):
    return [CheckKind("lenient", "waives itself", params_schema({}),
                      lambda params, ctx: CheckResult("waived", "approved by nobody"))]
'''


def test_a_kind_cannot_waive_its_own_criterion(example: GateProject) -> None:
    # Waivers are recorded (approver, justification, expiry) and off unless enabled; a kind
    # returning "waived" made the gate PASS (1 waiver) with none of that.
    ticket_gate(example, "Self-waiving kind", "      - {id: c1, text: C1, check: {kind: lenient}}")
    example.pytester.makeconftest(SELF_WAIVING)
    result = example.run("--gate=12")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()[-2000:]
    case = example.record().case("c1")
    assert case["outcome"] == "error", case
    assert "only a recorded waiver" in case["message"]


#: A plugin kind that leaves by one of pytest's outcome exceptions (BaseExceptions: the gate's
#: "a kind that raises is evidence missing" catches Exception).
OUTCOME_RAISING = '''
import pytest
from pytest_deploygate import CheckKind, params_schema

def _leave(params, ctx):
    getattr(pytest, params["how"])("left the evaluation")

def pytest_deploygate_check_kinds(config):
    return [CheckKind("leaving", "leaves", params_schema({"how": {"type": "string"}}), _leave)]
'''


@pytest.mark.parametrize("how", ["skip", "xfail"])
def test_a_kind_leaving_by_a_pytest_outcome_is_not_a_pass(example: GateProject,
                                                          how: str) -> None:
    ticket_gate(example, "Leaving kind",
                f"      - {{id: c1, text: C1, check: {{kind: leaving, how: {how}}}}}")
    example.pytester.makeconftest(OUTCOME_RAISING)
    result = example.run("--gate=12")
    assert result.ret != pytest.ExitCode.OK, result.stdout.str()[-2000:]
    record = example.record()
    assert record.decision == "FAIL"
    assert record.case("c1")["outcome"] != "passed"

# -- PyYAML through core/pyyaml.py -----------------------------------------------------------

def test_other_code_compiling_pyyamls_pattern_gets_what_it_wrote() -> None:
    # The equivalent pattern stayed in re's cache under PyYAML's source: a conftest or plugin
    # compiling that source got a pattern whose .pattern was another text.
    code = ("import re, pytest_deploygate.core.pyyaml as p; "
            "print(re.compile(p.PYYAML_NON_PRINTABLE).pattern == p.PYYAML_NON_PRINTABLE, "
            "p.yaml.reader.Reader.NON_PRINTABLE.pattern == p.NON_PRINTABLE)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["True", "True"]
    import re

    assert re.compile(PYYAML_NON_PRINTABLE).pattern == PYYAML_NON_PRINTABLE


@pytest.mark.parametrize("loader", [yaml.SafeLoader, getattr(yaml, "CSafeLoader", None)])
def test_a_refused_character_is_reported_on_its_own_line(loader: type | None) -> None:
    # libyaml reports a byte offset: after non-ASCII text the line named was a later one.
    if loader is None:
        pytest.skip("PyYAML was built without libyaml")
    with pytest.raises(YamlSyntaxError) as refused:
        load_yaml("title: Zoë Übersicht\nowner: José\nnote: a\x1bb\nend: 1\n", loader)
    assert refused.value.line == 3
    assert "0x001b" in str(refused.value)


#: A title that, printed by a terminal or a CI log, reads as PASS: the decision that follows it
#: is concealed (SGR 8).
DECEPTIVE_TITLE = 'title: "Evidence test gate (stage all): PASS\\e[8m"'


def test_an_escape_sequence_in_a_spec_is_refused(example: GateProject) -> None:
    _failing_state_gate(example)
    spec = example.root / "gate_specs" / "12-production.yaml"
    spec.write_text(spec.read_text().replace("title: Evidence test gate", DECEPTIVE_TITLE))
    result = example.run("--gate=12")
    output = result.stdout.str() + result.stderr.str()
    assert "\x1b" not in output
    assert result.ret != pytest.ExitCode.OK
    assert "12-production.yaml:4: title: holds control character 0x001b" in output


@pytest.mark.parametrize("escape", ["\\0", "\\x07", "\\e", "\\x9b", "\\uFFFE"])
def test_an_escaped_control_character_in_deploygate_yaml_is_refused(
        example: GateProject, escape: str) -> None:
    text = (example.root / "deploygate.yaml").read_text()
    write_config(example, text.replace("version: 1.4.0", f'version: "1.4.0{escape}"'))
    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "--root",
                           str(example.root), "validate"], capture_output=True, text=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "deploygate.yaml:3: version: holds control character" in done.stdout + done.stderr


def test_printable_text_and_tabs_still_read(example: GateProject) -> None:
    custom_gate(example, criteria='- {id: tabbed, text: "Tab\\there, Zoë \\u00e9 \\U0001F680",'
                                  ' check: {kind: state, path: phases}}')
    result = example.run("--gate=12")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-2000:]


#: A state.json list whose strings end in an ESC sequence hiding what follows, and a NUL.
HIDDEN = ["IX", "X", "XI\x1b[2K\rGATE-12 Production Deployment (stage all): PASS\x1b[8m\x00"]


def _articles_checked(example: GateProject, articles: list[str]) -> None:
    """Set the constitution's checked articles in state.json (the constitution kind quotes
    them in its message)."""
    state = example.state()
    for phase in state["phases"].values():
        validation = phase.get("constitutional_validation")
        if isinstance(validation, dict) and "articles_checked" in validation:
            validation["articles_checked"] = articles
    example.set_state(state)


def test_control_characters_read_from_evidence_reach_neither_terminal_nor_record(
        example: GateProject) -> None:
    # state.json (JSON escapes) is evidence: the constitution kind quoted its strings in its
    # message, raw; the terminal showed the forged PASS and hid the rest, the NUL made the
    # XML record unreadable.
    _articles_checked(example, HIDDEN)
    result = example.run("--gate=12")
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "\x1b" not in output and "\x00" not in output
    assert "XI\\x1b[2K" in output  # shown, as an escape
    record = example.record()  # (parses: no character XML refuses)
    assert record.decision == "FAIL"


def test_bidirectional_controls_read_from_evidence_are_shown_as_escapes(
        example: GateProject) -> None:
    # U+202E makes a terminal or a rendered record show what follows backwards ("LIAF"
    # reads as "FAIL"): printable to YAML and JSON, shown as an escape in evidence.
    _articles_checked(example, ["IX", "X", "XI \u202eSSAP\u202c"])
    result = example.run("--gate=12")
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "\u202e" not in output and "\u202c" not in output
    assert "XI \\u202eSSAP\\u202c" in output

# -- value classes compiled on first use ---------------------------------------------------

def test_a_field_object_shared_by_two_classes_gives_each_its_own_field() -> None:
    # field() objects were renamed by the last class declaring them, and the first class's
    # __init__, compiled later, set the other class's field on its instances.
    shared = field(default_factory=list)

    @value_class(frozen=True)
    class Approvals:
        approvers: list[str] = shared

    @value_class(frozen=True)
    class Blockers:
        blockers: list[str] = shared

    approvals = Approvals(["sam"])
    assert vars(approvals) == {"approvers": ["sam"]}
    assert vars(Blockers()) == {"blockers": []}
    assert replace(approvals, approvers=[]) == Approvals([])


def test_a_post_init_added_after_the_decorator_does_not_change_init() -> None:
    # As when __init__ was compiled with the class (and as dataclasses): decided at decoration.
    def add_post_init(cls: type) -> type:
        def __post_init__(self: object) -> None:
            object.__setattr__(self, "injected", True)
        cls.__post_init__ = __post_init__  # type: ignore[attr-defined]
        return cls

    @add_post_init
    @value_class(frozen=True)
    class Plain:
        value: int

    assert vars(Plain(1)) == {"value": 1}


def test_subclasses_and_threads_instantiating_first_get_exactly_their_fields() -> None:
    @value_class(frozen=True)
    class Base:
        a: int
        b: int = 2

        def __post_init__(self) -> None:
            if self.a < 0:
                raise ValueError("negative")

    @value_class(frozen=True)
    class Child(Base):
        c: int = 3

    class Plain(Base):
        pass

    # Subclasses first, the base last; then many threads instantiating at once.
    assert vars(Plain(1)) == {"a": 1, "b": 2}
    assert vars(Child(1)) == {"a": 1, "b": 2, "c": 3}
    with pytest.raises(ValueError, match="negative"):
        Plain(-1)
    built: list[object] = []
    barrier = threading.Barrier(8)

    def build() -> None:
        barrier.wait()
        built.extend([Child(5), Base(6), Plain(7)])

    threads = [threading.Thread(target=build) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 24
    assert all(set(vars(one)) == ({"a", "b", "c"} if type(one) is Child else {"a", "b"})
               for one in built)
    child = replace(Child(1), c=9)
    assert vars(child) == {"a": 1, "b": 2, "c": 9}
    for one in (child, Plain(1), Base(1)):
        with pytest.raises(FrozenInstanceError):
            one.a = 0  # type: ignore[misc]
        with pytest.raises(FrozenInstanceError):
            one.extra = 0  # type: ignore[attr-defined]
