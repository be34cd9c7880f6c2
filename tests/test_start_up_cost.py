"""What a gate run loads, and how: the plugin's own modules are imported by Python's ordinary
loader, never parsed and compiled again by pytest's assertion rewriter (issue 15)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, GateProject, custom_gate

#: A conftest that writes, at the end of the session, every module of the plugin loaded after
#: start-up (after the conftest itself) and the type of the loader that imported it.
LOADERS = '''
import subprocess
import sys
from pathlib import Path

EARLY = set(sys.modules)

def pytest_unconfigure(config):
    with open("loaders.txt", "w") as out:
        for name, module in sorted(sys.modules.items()):
            if name.startswith("pytest_deploygate.") and name not in EARLY:
                out.write(f"{name} {type(module.__loader__).__name__}\\n")
'''


def loaders(project: GateProject) -> dict[str, str]:
    lines = (project.root / "loaders.txt").read_text().splitlines()
    return dict(line.split(" ", 1) for line in lines)


def test_a_gate_run_imports_the_plugin_without_the_assertion_rewriter(
        example: GateProject) -> None:
    example.pytester.makeconftest(LOADERS)
    result = example.run_subprocess("--gate=12")
    result.assert_outcomes(passed=66, skipped=2)
    seen = loaders(example)
    # The run imported the machinery of a gate (specs, checks, records) ...
    assert {"pytest_deploygate.plugin.session", "pytest_deploygate.spec.loader",
            "pytest_deploygate.records.junit"} <= set(seen)
    # ... and every one came through the ordinary source loader.
    rewritten = sorted(name for name, loader in seen.items() if loader != "SourceFileLoader")
    assert rewritten == []


def test_the_finder_is_gone_after_the_session(example: GateProject) -> None:
    example.run("--gate=12", "--gate-stage=pre")
    leftover = [type(finder).__name__ for finder in sys.meta_path
                if type(finder).__name__ == "PlainImportFinder"]
    # The outer session (this test run) has its own finder; the inner run removed its own.
    assert len(leftover) <= 1


def test_a_module_named_like_a_test_file_is_not_rewritten(pytester: pytest.Pytester) -> None:
    # python_files matches test_*.py: a plugin module with such a name would be compiled as a
    # test file by pytest's hook; through the plain finder it is an ordinary module.
    pytester.makeconftest(LOADERS)
    pytester.makeini("[pytest]\npython_files = *.py\n")
    pytester.makepyfile(test_one="def test_one():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "AssertionRewritingHook" not in (pytester.path / "loaders.txt").read_text()


def big_criteria(count: int) -> str:
    return "\n".join(f"- {{id: c-{n}, text: Criterion number {n} of a very large gate, check: "
                     f"{{kind: state, path: phases}}}}" for n in range(count))


def test_a_spec_over_the_default_limit_is_refused_with_how_to_raise_it(
        example: GateProject) -> None:
    custom_gate(example, big_criteria(30_000))
    assert (example.root / "gate_specs" / "12-production.yaml").stat().st_size > 2 * 1024 * 1024
    result = example.run("--gate=12")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*12-production.yaml:1: file is * bytes, over the 2097152 byte "
                                 "limit; *deploygate_max_spec_size*"])


def test_the_limit_the_message_names_is_the_one_that_raises_it(example: GateProject) -> None:
    custom_gate(example, big_criteria(40))
    refused = example.run("--gate=12", "-o", "deploygate_max_spec_size=2000")
    refused.stdout.fnmatch_lines(["*over the 2000 byte limit; to allow a bigger file, raise the "
                                  "pytest ini setting deploygate_max_spec_size (bytes)*"])
    allowed = example.run("--gate=12", "-o", "deploygate_max_spec_size=16777216")
    allowed.assert_outcomes(passed=40)


def imported_by(command: list[str], cwd: Path) -> set[str]:
    """The top-level packages a command imports (``python -X importtime``)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "pytest_deploygate",
                           *command], cwd=cwd, capture_output=True, text=True)
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_verdict_imports_neither_pytest_nor_the_other_commands(example: GateProject) -> None:
    example.git_init()
    example.run("--gate=12").assert_outcomes(passed=66, skipped=2)
    record = str(example.root / "gate-records" / "GATE-12.xml")
    loaded = imported_by(["verdict", record], example.root)
    assert "pytest_deploygate" in loaded
    assert not {"pytest", "_pytest", "markdown_it"} & loaded
    # The global options still come first and are still parsed (here: --root).
    elsewhere = imported_by(["--root", str(example.root), "verdict", record], example.root.parent)
    assert not {"pytest", "_pytest"} & elsewhere


#: Runs ``python -m pytest_deploygate ARGS`` and prints every module loaded by its end on
#: stderr (``-X importtime`` misses what ``importlib.import_module`` loads).
MODULES_AT_EXIT = """
import atexit, runpy, sys
atexit.register(lambda: print("MODULES", *sorted(sys.modules), file=sys.stderr))
sys.argv[0] = "deploygate"
runpy.run_module("pytest_deploygate", run_name="__main__")
"""


def imported_modules(command: list[str], cwd: Path) -> set[str]:
    """Every module a ``deploygate`` command has loaded by its end, by full name."""
    done = subprocess.run([sys.executable, "-c", MODULES_AT_EXIT, *command], cwd=cwd,
                          capture_output=True, text=True)
    line = next(line for line in done.stderr.splitlines() if line.startswith("MODULES "))
    return set(line.split()[1:])


#: What reads evidence over the network, and the sign-off machinery: a verdict reads a record.
EVIDENCE_READERS = {"ssl", "http.client", "urllib.request", "concurrent.futures",
                    "pytest_deploygate.trust.signoffs", "pytest_deploygate.checks.project",
                    "pytest_deploygate.checks.services", "pytest_deploygate.evidence.network"}


#: What a verdict of a valid spec never needs either: jsonschema (the precompiled checks
#: accept valid documents), sockets, the record writer.
NOT_FOR_VERDICT = {"jsonschema", "socket", "pytest_deploygate.records.junit",
                   "pytest_deploygate.records.html"}


#: What reads evidence from files and captures, and does the arithmetic on it: a verdict
#: neither, and every built-in kind's module (its evaluation code) with them.
EVIDENCE_PARSERS = {"pytest_deploygate.evidence.exposition", "pytest_deploygate.evidence.windows",
                    "pytest_deploygate.evidence.promql", "pytest_deploygate.evidence.http",
                    "pytest_deploygate.checks.evidence_files",
                    "pytest_deploygate.core.measurements"}


def kind_modules() -> set[str]:
    from pytest_deploygate.checks import BUILTIN_MODULES

    return {f"pytest_deploygate.checks.{module}" for module in BUILTIN_MODULES.values()}


def test_verdict_loads_no_evidence_reader_nor_the_record_writer(example: GateProject) -> None:
    # Gate 12's spec names http, prometheus, sarif, junit, ... checks, and deploygate.yaml
    # overrides some with metrics_file: verdict checks every one's parameters (the spec is
    # read afresh) from the kinds' declared schemas, and loads neither their evaluation code
    # nor what that would read evidence with.
    example.git_init()
    example.run("--gate=12").assert_outcomes(passed=66, skipped=2)
    spec = (REPO / "gate_specs" / "12-production.yaml").read_text()  # (the bundled one)
    for kind in ("http", "prometheus", "sarif", "junit", "attestation"):
        assert f"kind: {kind}" in spec
    record = str(example.root / "gate-records" / "GATE-12.xml")
    loaded = imported_modules(["verdict", record], example.root)
    assert {"pytest_deploygate.spec.loader",  # the spec was checked ...
            "pytest_deploygate.checks.declared",  # ... against the kinds' schemas
            "pytest_deploygate.records.verify"} <= loaded  # and the record verified
    unwanted = EVIDENCE_READERS | EVIDENCE_PARSERS | NOT_FOR_VERDICT | kind_modules()
    assert not unwanted & loaded, sorted(unwanted & loaded)


def test_show_and_validate_load_no_kind_module(example: GateProject) -> None:
    # Showing and validating a spec needs each kind's schema and ``reads`` text, never its
    # evaluation code. (validate also checks the sign-off logs: trust.signoffs is its own.)
    for command in (["show", "12"], ["validate"]):
        loaded = imported_modules(command, example.root)
        assert "pytest_deploygate.checks.declared" in loaded, command
        unwanted = EVIDENCE_PARSERS | kind_modules() | {"ssl", "http.client", "urllib.request"}
        assert not unwanted & loaded, (command, sorted(unwanted & loaded))


def test_a_gate_loads_only_the_check_kinds_its_spec_names(example: GateProject) -> None:
    custom_gate(example, "- {id: only-state, text: Phases recorded, "
                         "check: {kind: state, path: phases}}")
    (example.root / "deploygate.yaml").write_text("attestations: {verify_authorship: false}\n")
    example.pytester.makeconftest(LOADERS)
    example.run_subprocess("--gate=12").assert_outcomes(passed=1)
    seen = set(loaders(example))
    assert "pytest_deploygate.checks.state_value" in seen
    kinds = {name for name in seen if name.startswith("pytest_deploygate.checks.")}
    # (attestation is loaded too: every gate looks for its release manager's review)
    assert not {"pytest_deploygate.checks.http_check", "pytest_deploygate.checks.prometheus",
                "pytest_deploygate.checks.sarif", "pytest_deploygate.checks.command",
                "pytest_deploygate.checks.metrics_file"} & kinds, kinds
    assert "pytest_deploygate.evidence.http" not in seen


#: A conftest that writes every module loaded by the end of the session.
MODULES_AT_UNCONFIGURE = '''
import sys

def pytest_unconfigure(config):
    with open("modules.txt", "w") as out:
        out.write("\\n".join(sorted(sys.modules)))
'''


def test_a_gate_loads_no_reader_its_evidence_does_not_need(example: GateProject) -> None:
    # The example reads a metrics capture (its own parser, not prometheus_client's package
    # with its HTTP server) and has no network evidence configured (no thread pool).
    example.pytester.makeconftest(MODULES_AT_UNCONFIGURE)
    example.run_subprocess("--gate=12").assert_outcomes(passed=66, skipped=2)
    assert example.record().case("monitoring-configured")["outcome"] == "passed"
    loaded = set((example.root / "modules.txt").read_text().split())
    assert "pytest_deploygate.evidence.exposition" in loaded  # the capture was read
    assert not {name for name in loaded if name.startswith("prometheus_client")}
    assert "concurrent.futures" not in loaded


def test_the_help_still_lists_every_command(example: GateProject) -> None:
    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "--help"],
                          capture_output=True, text=True, check=True)
    for command in ("attest", "waive", "show", "validate", "verdict", "import", "hook"):
        assert command in done.stdout
    wrong = subprocess.run([sys.executable, "-m", "pytest_deploygate", "verdcit"],
                           capture_output=True, text=True)
    assert wrong.returncode == 2 and "invalid choice: 'verdcit'" in wrong.stderr


def test_a_schema_mark_is_trusted_only_in_a_folder_no_one_else_can_write(
        example: GateProject, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import tempfile

    from pytest_deploygate.core.documents import read_yaml_document
    from pytest_deploygate.spec.loader import _valid_mark

    custom_gate(example)
    spec = example.root / "gate_specs" / "12-production.yaml"
    spec.write_text(spec.read_text() + "bogus_key: 1\n")  # a schema error the builder ignores
    tmp = example.root / "machine-tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    cache = tmp / f"pytest-deploygate-{os.getuid()}"  # this user's folder, outside the checkout
    args = ("-p", "no:hypothesispytest", "-p", "no:benchmark", "--gate=12")
    example.pytester.runpytest(*args).stdout.fnmatch_lines(["*unknown key 'bogus_key'*"])
    mark = _valid_mark(read_yaml_document(spec), cache)
    assert mark is not None
    mark.touch()  # what someone who can write the folder could plant
    # The folder is this user's alone: a mark in it was written by one of this user's runs.
    assert "bogus_key" not in example.pytester.runpytest(*args).stdout.str()
    cache.chmod(0o777)
    refused = example.pytester.runpytest(*args)
    refused.stdout.fnmatch_lines(["*unknown key 'bogus_key'*"])
