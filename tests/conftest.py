"""Shared helpers: gated projects in temp dirs, gate runs through pytester, record parsing."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml  # noqa: F401

# Imported here, in the outer process, on purpose: pytester's in-process runs drop modules
# first imported during a run, and re-importing PyYAML beside its cached C extension (libyaml)
# mixes old and new node classes. Real gate runs import it once.

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "acme-api"
SHARED = REPO.parent / "shared"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# What a skip for want of ../shared tells a newcomer to do.
GET_SHARED = f"put the framework's shared/ directory beside this clone, at {SHARED}"
# Inner runs need no cache and no hypothesis plugin; pytester restores sys.modules after each
# in-process run, so hypothesis's plugin would be imported afresh every time (about 1 s).
INNER_ARGS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:benchmark")


#: What a signing gate run needs: no conftest.py, no test module of the repository imported
#: (signing refuses otherwise; see signing/options.py).
SIGNING_ARGS = ("--noconftest", "-p", "no:python")


def signing_args(args: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """:data:`SIGNING_ARGS` when the run signs (a key option or DEPLOYGATE_SIGNING_KEY)."""
    signs = any(str(a).startswith("--gate-sign-key") for a in args) or \
        bool(os.environ.get("DEPLOYGATE_SIGNING_KEY"))
    return SIGNING_ARGS if signs else ()


def need(condition: bool, reason: str) -> None:
    """Skip when a test input is absent on a laptop; in CI an absent input is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: required here)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _no_job_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner gate runs must not append to the real GitHub job summary of a CI run."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture
def shared() -> Path:
    """The shared/ directory beside the clone (checklists, states, the JUnit XSD)."""
    need(SHARED.is_dir(), f"{SHARED} is absent: {GET_SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def shared_checklists() -> list[Path]:
    """The framework's gate checklists, ../shared/isdlc/checklists/*-gate.md."""
    where = SHARED / "isdlc" / "checklists"
    found = sorted(where.glob("*-gate.md"))
    need(bool(found), f"no checklists in {where}: {GET_SHARED}")
    return found


@dataclass
class Record:
    """A parsed gate record."""

    properties: dict[str, str]
    cases: list[dict[str, Any]] = field(default_factory=list)
    path: Path | None = None

    def case(self, item_id: str) -> dict[str, Any]:
        """The testcase of an item id."""
        for case in self.cases:
            if f"][{item_id}]" in case["name"]:
                return case
        raise KeyError(item_id)

    @property
    def decision(self) -> str:
        """The decision property."""
        return self.properties["deploygate.decision"]

    def outcomes(self) -> dict[str, str]:
        """Item id -> outcome element (passed, failure, error, skipped)."""
        return {c["name"].split("][", 1)[1].split("]", 1)[0]: c["outcome"] for c in self.cases}


def parse_record(path: Path) -> Record:
    """Parse a JUnit gate record written by the plugin."""
    root = ET.parse(path).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    assert suite is not None
    props = {p.get("name", ""): p.get("value", "") for p in suite.iter("property")}
    record = Record(props, path=path)
    for case in suite.findall("testcase"):
        entry: dict[str, Any] = {"name": case.get("name"), "classname": case.get("classname"),
                                 "outcome": "passed", "type": None, "message": None,
                                 "text": ""}
        for tag in ("failure", "error", "skipped"):
            child = case.find(tag)
            if child is not None:
                entry.update(outcome=tag, type=child.get("type"), message=child.get("message"),
                             text=child.text or "")
        out = case.find("system-out")
        if out is not None:
            entry["text"] = out.text or ""
        record.cases.append(entry)
    return record


class GateProject:
    """A gated project in a pytester temp dir, built from the bundled example."""

    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester
        self.root = pytester.path

    def from_example(self) -> GateProject:
        """Copy examples/acme-api (state, config, sign-offs, artifacts) into the temp dir."""
        shutil.copytree(EXAMPLE, self.root, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("gate-records"))
        return self

    @property
    def state_path(self) -> Path:
        """.isdlc/state.json of the project."""
        return self.root / ".isdlc" / "state.json"

    def state(self) -> dict[str, Any]:
        """The current state.json."""
        state: dict[str, Any] = json.loads(self.state_path.read_text())
        return state

    def set_state(self, data: dict[str, Any]) -> None:
        """Replace state.json."""
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        self.state_path.write_text(json.dumps(data, indent=2))

    def edit_state(self, path: str, value: Any) -> None:
        """Set one dotted path in state.json."""
        data = self.state()
        node = data
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
        self.set_state(data)

    def attest(self, **entry: Any) -> None:
        """Append a sign-off line to the attestation log."""
        log = self.root / ".deploygate" / "attestations.jsonl"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as handle:
            handle.write(json.dumps(entry) + "\n")

    def drop_attestation(self, criterion: str) -> None:
        """Remove the sign-offs of one criterion."""
        log = self.root / ".deploygate" / "attestations.jsonl"
        lines = [line for line in log.read_text().splitlines()
                 if json.loads(line)["criterion"] != criterion]
        log.write_text("\n".join(lines) + "\n")

    def run(self, *args: str) -> pytest.RunResult:
        """Run pytest with the plugin in the project, in-process (a signing run as CI runs
        it: no code of the repository, see :data:`SIGNING_ARGS`)."""
        return self.pytester.runpytest(*INNER_ARGS, *signing_args(args), *args)

    def run_subprocess(self, *args: str) -> pytest.RunResult:
        """Run pytest with the plugin in a fresh interpreter (never a signing one: pytester
        puts the project on PYTHONPATH, which signing refuses)."""
        return self.pytester.runpytest_subprocess(*INNER_ARGS, *args)

    def record(self, name: str = "GATE-12") -> Record:
        """The JUnit record written by the last run."""
        return parse_record(self.root / "gate-records" / f"{name}.xml")

    def git_init(self) -> str:
        """Make the project a git repository with one commit; return the commit. Its
        ``reports/`` (the example's CI output: test reports, scans, the metrics capture) stay
        untracked, as in a real project (``examples/release_repo.py`` does the same): a
        report or capture committed with the release is no evidence of it."""
        ignore = self.root / ".gitignore"
        if (self.root / "reports").is_dir() and not ignore.exists():
            ignore.write_text("# CI output: evidence, never release content\nreports/\n")
        env = {**os.environ, "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "t@example.com",
               "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "t@example.com"}
        for command in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"],
                        ["git", "commit", "-q", "-m", "release 1.4.0"]):
            subprocess.run(command, cwd=self.root, check=True, env=env, capture_output=True)
        return self.git("rev-parse", "HEAD")

    def git(self, *args: str) -> str:
        """Run git in the project."""
        env = {**os.environ, "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "t@example.com",
               "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "t@example.com"}
        return subprocess.run(["git", *args], cwd=self.root, check=True, env=env,
                              capture_output=True, text=True).stdout.strip()


@pytest.fixture
def project(pytester: pytest.Pytester) -> GateProject:
    """An empty gated project."""
    return GateProject(pytester)


@pytest.fixture
def example(pytester: pytest.Pytester) -> GateProject:
    """A copy of the bundled example project (gate 12 passes on it)."""
    return GateProject(pytester).from_example()


@pytest.fixture
def repo(example: GateProject) -> GateProject:
    """The bundled example as a git repository (its release is a commit). Modules with a
    repository of their own (more files committed) define their own ``repo``."""
    example.git_init()
    return example


@pytest.fixture
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory for signing keys, outside the gated repository."""
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="session")
def junit_schema() -> Any:
    """The Jenkins JUnit schema, compiled. Only schema-validity tests ask for it: every other
    test of a record runs on a fresh clone without ../shared."""
    xmlschema = pytest.importorskip("xmlschema", reason="pip install -e '.[test]' installs it")
    xsd = SHARED / "junit" / "junit-10.xsd"
    need(xsd.is_file(), f"the Jenkins JUnit schema {xsd} is absent: {GET_SHARED}")
    return xmlschema.XMLSchema(str(xsd))


CUSTOM_SPEC = """\
spec_version: 1
gate: 12
id: GATE-12
title: Evidence test gate
phase: 12-production
thresholds: {{error_rate: 0.05, p99_ms: 2000}}
decision:
  - {{id: checks, title: Checks passed}}
  - {{id: no-rollback, title: No rollback triggered}}
sections:
  - id: checks
    title: Checks
    stage: post
    decision: checks
    criteria:
{criteria}
{rollback}"""


def custom_gate(project: GateProject, criteria: str = "", triggers: str = "") -> None:
    """Replace gate 12 with a spec of the given criteria and triggers (YAML list items)."""
    def indent(text: str, spaces: int) -> str:
        return "\n".join(" " * spaces + line if line.strip() else line
                         for line in text.strip("\n").splitlines())

    if not criteria.strip():
        criteria = "- {id: placeholder, text: Placeholder, check: {kind: state, path: phases}}"
    rollback = ""
    if triggers.strip():
        rollback = ("rollback:\n  stage: post\n  decision: no-rollback\n  triggers:\n"
                    + indent(triggers, 4) + "\n")
    spec_dir = project.root / "gate_specs"
    spec_dir.mkdir(exist_ok=True)
    (spec_dir / "12-production.yaml").write_text(
        CUSTOM_SPEC.format(criteria=indent(criteria, 6), rollback=rollback))


def write_config(project: GateProject, text: str) -> None:
    """Replace deploygate.yaml."""
    (project.root / "deploygate.yaml").write_text(text)


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Gate runs in this process evaluate at 2026-02-10T00:00:00Z without --gate-now (which
    is a replay: it never writes back or signs). Patched on the module in sys.modules: an
    in-process run re-imports modules it first imported, so a stale package attribute may
    point at an older copy."""
    import importlib

    now = datetime(2026, 2, 10, tzinfo=UTC)
    monkeypatch.setattr(importlib.import_module("pytest_deploygate.core.timeutil"), "now_utc",
                        lambda: now)
    return now


# -- today's iSDLC framework (snapshot 0689df91) and its Node code ------------------------------

FRAMEWORK_TARBALL = SHARED / "isdlc" / "framework-0689df91.tar.gz"
TODAY_CHECKLISTS = SHARED / "isdlc" / "checklists-0689df91"


@pytest.fixture(scope="session")
def framework(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Today's framework extracted from ../shared, with Node to run its own code."""
    import tarfile

    need(FRAMEWORK_TARBALL.is_file(), f"{FRAMEWORK_TARBALL} is absent (it sits beside the "
                                      "clone in CI)")
    need(shutil.which("node") is not None, "node is not installed (Debian package nodejs)")
    out = tmp_path_factory.mktemp("framework")
    with tarfile.open(FRAMEWORK_TARBALL) as archive:
        archive.extractall(out, filter="data")
    (root,) = out.iterdir()
    return root


def run_node(framework: Path, script: str, *args: str, project: Path | None = None,
             stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run one of the framework's own scripts under Node (as its hooks run: the project is
    CLAUDE_PROJECT_DIR)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ISDLC_", "CLAUDE_"))}
    if project is not None:
        env["CLAUDE_PROJECT_DIR"] = str(project)
    return subprocess.run(["node", str(framework / script), *args], capture_output=True,
                          text=True, env=env, cwd=project or framework, input=stdin,
                          timeout=300)


@pytest.fixture(scope="session")
def template_state(framework: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The state.json today's installer writes (its own generateState, run under Node)."""
    import re

    source = (framework / "src" / "core" / "installer" / "index.js").read_text()
    start = source.index("function generateState(")
    depth, end = 0, start
    for end in range(source.index("{", start), len(source)):
        depth += {"{": 1, "}": -1}.get(source[end], 0)
        if depth == 0:
            break
    script = tmp_path_factory.mktemp("template") / "generate-state.cjs"
    script.write_text(source[start:end + 1] + "\nconsole.log(JSON.stringify(generateState("
                      "'demo', false, '2026-05-01T00:00:00.000Z', 'claude-code')));\n")
    done = subprocess.run(["node", str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert re.search(r"active_workflow", done.stdout)
    state: dict[str, Any] = json.loads(done.stdout)
    return state


#: The evaluation clock of gate runs on today's layout.
NOW = "--gate-now=2026-06-01T12:00:00Z"


def today_state(template: dict[str, Any], phase: str, *, workflow: str = "build",
                phases: list[str] | None = None, folder: str = "REQ-0001-demo"
                ) -> dict[str, Any]:
    """The template state with an active workflow standing at ``phase``."""
    state: dict[str, Any] = json.loads(json.dumps(template))  # a deep copy
    order = phases or [phase]
    at = order.index(phase)
    state["active_workflow"] = {
        "type": workflow, "description": "demo", "slug": folder, "phases": order,
        "current_phase": phase, "current_phase_index": at,
        "phase_status": {p: "completed" if i < at else "in_progress" if i == at else "pending"
                         for i, p in enumerate(order)},
        "started_at": "2026-05-01T00:00:00.000Z", "flags": {"light": False,
                                                           "supervised": False},
        "artifact_folder": folder,
    }
    state["state_version"] = 7
    return state


def install_checklists(project: GateProject) -> Path:
    need(TODAY_CHECKLISTS.is_dir(), f"{TODAY_CHECKLISTS} is absent (it sits beside the clone "
                                    "in CI)")
    target = project.root / ".isdlc" / "checklists"
    target.mkdir(parents=True, exist_ok=True)
    for checklist in TODAY_CHECKLISTS.glob("*-gate.md"):
        shutil.copy(checklist, target / checklist.name)
    return target


def release_repo_script(name: str) -> ModuleType:
    """examples/release_repo.py loaded as module ``name`` (it is a script, not a package):
    the bundled example's release repository, built as the README's first command builds it."""
    spec = importlib.util.spec_from_file_location(name, REPO / "examples" / "release_repo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
