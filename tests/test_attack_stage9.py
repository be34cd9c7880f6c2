"""Red team on the fixes of session 8 (attack-stage9): the phase start on today's layout, the
write-back of a stage's decision, --gate-threshold overrides and the monorepo post binding.
Each test is an attack by someone who wants the release shipped and controls the repository,
state.json, the evidence, the command line and the CI environment, but not the reviewed
config, the approvers file nor the signing keys."""

from __future__ import annotations

import json
import shutil
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_signing_attacks import make_monorepo
from test_signoffs_and_cli import run_cli
from test_writeback import GATE

from conftest import GateProject, custom_gate, write_config
from servers import ScriptedApi, Service

# -- write-back: no run that does not pass the gate leaves the phase looking passed --------------

def test_pre_stage_pass_withdraws_an_earlier_gate_passed(example: GateProject,
                                                         fixed_clock: object) -> None:
    # The pre stage alone is not the gate (its PASS is written "blocked"); the last release's
    # gate_passed: true must not survive it, or a pipeline that stops after the pre stage (the
    # deploy failed, the post stage never ran) leaves the phase passed for this release.
    example.edit_state("phases.12-production.gate_passed", True)
    example.git_init()
    assert example.run("--gate=12", "--gate-stage=pre", "--gate-update-state").ret == 0
    phase = example.state()["phases"]["12-production"]
    assert phase["gate_validation"]["status"] == "blocked"
    assert phase["gate_passed"] is None  # the framework's "not passed yet"


# -- the command line does not swap the reviewed gate for another and write it back -------------

#: A gate 12 of one criterion the example always meets.
WEAK_SPEC = GATE.format(n=12).replace("phase: 12-part", "phase: 12-production")


@pytest.mark.parametrize("route", ["-o", "PYTEST_ADDOPTS", "-c"])
def test_a_spec_directory_given_on_the_command_line_is_not_written_back(
        example: GateProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        route: str) -> None:
    # The reviewed gate is a ROLLBACK (p99_ms set to 1 by review). `-o deploygate_specs=DIR`
    # (on the command line, or in PYTEST_ADDOPTS of the CI job) puts a gate of the attacker's
    # own in its place: `deploygate verdict` refuses its record (another spec), but
    # --gate-update-state wrote gate_passed: true for it, as it once did for --gate-threshold.
    # So did an ini file of the caller's own (`-c /tmp/evil.ini --rootdir=.`).
    write_config(example, (example.root / "deploygate.yaml").read_text()
                 + "thresholds:\n  p99_ms: 1\n")
    example.git_init()
    assert example.run("--gate=12").ret != 0
    weak = tmp_path / "weak-specs"
    weak.mkdir()
    (weak / "12-production.yaml").write_text(WEAK_SPEC)
    before = example.state_path.read_bytes()
    option = f"deploygate_specs={weak}"
    if route == "-o":
        refused = example.run_subprocess("--gate=12", "-o", option, "--gate-update-state",
                                         "--gate-validation-record")
    elif route == "-c":
        ini = tmp_path / "evil.ini"
        ini.write_text(f"[pytest]\n{option.replace('=', ' = ', 1)}\n")
        refused = example.run_subprocess("--gate=12", "-c", str(ini), f"--rootdir={example.root}",
                                         "--gate-update-state", "--gate-validation-record")
    else:
        monkeypatch.setenv("PYTEST_ADDOPTS", f"-o {option}")
        refused = example.run_subprocess("--gate=12", "--gate-update-state",
                                         "--gate-validation-record")
    assert refused.ret == 4, refused.stdout.str()
    refused.stderr.fnmatch_lines(["*deploygate_specs*replaces the reviewed gate specs: it "
                                  "cannot be used with --gate-update-state, "
                                  "--gate-validation-record*"])
    assert example.state_path.read_bytes() == before
    assert not (example.root / "docs" / ".validations").exists()


# -- monorepo: state.json does not choose another project's reviewed config ----------------------

def _project_files(example: GateProject, folder: Path, *, config: bool = True) -> None:
    """The example's files (and its deploygate.yaml) in ``folder``."""
    names = [".deploygate", "docs", "reports", "CHANGELOG.md", "pyproject.toml"]
    for name in names + (["deploygate.yaml"] if config else []):
        source = example.root / name
        if source.is_dir():
            shutil.copytree(source, folder / name)
        else:
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, folder / name)


def _declare_path(example: GateProject, pid: str, path: str) -> None:
    state = example.root / ".isdlc" / "projects" / pid / "state.json"
    data = json.loads(state.read_text())
    data["project"]["path"] = path
    state.write_text(json.dumps(data))


@pytest.mark.parametrize("declared", ["svc-a", "svc-a/app", "svc-b/app", "link"])
def test_state_json_does_not_move_a_project_under_another_config(example: GateProject,
                                                                  declared: str) -> None:
    # svc-b's reviewed deploygate.yaml sets p99_ms to 1 ms: its gate is a ROLLBACK. Its
    # state.json (which the release's author writes) declared project.path: svc-a (or a
    # folder in it), so the gate read svc-a's files under svc-a's reviewed config (its
    # thresholds, its approvers) and recorded a PASS of svc-b; a committed link svc-b -> svc-a
    # did the same; a folder of svc-b's own without a config had the root's deploygate.yaml,
    # not svc-b's, judge it.
    make_monorepo(example, ("svc-a", "svc-b"))
    for pid in ("svc-a", "svc-b"):
        _project_files(example, example.root / pid)
    strict = example.root / "svc-b" / "deploygate.yaml"
    strict.write_text(strict.read_text() + "thresholds:\n  p99_ms: 1\n")
    example.git_init()
    assert example.run("--gate=12", "--gate-project=svc-b").ret != 0
    assert example.record("svc-b/GATE-12").decision == "ROLLBACK"
    if declared == "link":
        shutil.rmtree(example.root / "svc-b")
        (example.root / "svc-b").symlink_to("svc-a")
    else:
        if declared.endswith("/app"):
            _project_files(example, example.root / declared, config=False)
        _declare_path(example, "svc-b", declared)
    example.git("add", "-A")
    example.git("commit", "-qm", f"svc-b lives at {declared}")
    result = example.run("--gate=12", "--gate-project=svc-b")
    assert result.ret != 0
    if declared == "svc-b/app":  # its own config judges it
        assert example.record("svc-b/GATE-12").decision == "ROLLBACK"
        return
    where = "its directory svc-b/" if declared == "link" else f"project.path {declared!r}"
    result.stdout.fnmatch_lines([f"*{where} leads into project svc-a's directory svc-a/*"])
    assert example.record("svc-b/GATE-12").decision != "PASS"


# -- the command line does not choose where the reviewed gate's evidence is measured -------------

@pytest.mark.parametrize("route", ["prometheus", "health"])
def test_an_evidence_source_given_on_the_command_line_is_not_a_deployable_pass(
        project: GateProject, route: str) -> None:
    # The reviewed deploygate.yaml names the Prometheus of production (its answer is NaN here:
    # evidence missing, FAIL) and no health endpoint (FAIL: none configured). Like
    # --gate-threshold, `--gate-prometheus=URL` / `--gate-health-url=URL` (on the command line
    # or in PYTEST_ADDOPTS) measured the gate against a server the caller chose, which answers
    # as the caller likes: a PASS that `deploygate verdict` exited 0 on, written back and signed.
    with Service() as service, closing(ScriptedApi()) as api:
        now = datetime.now(UTC).timestamp()
        api.answers["prod"] = (200, b'{"status":"success","data":{"resultType":"vector",'
                                    b'"result":[{"metric":{},"value":[%.3f,"NaN"]}]}}' % now)
        api.answers["mine"] = (200, b'{"status":"success","data":{"resultType":"vector",'
                                    b'"result":[{"metric":{},"value":[%.3f,"1"]}]}}' % now)
        project.set_state({"phases": {"12-production": {"status": "in_progress"}}})
        write_config(project, f"prometheus: {{url: '{api.url}/prod'}}\n")
        # An expression, not the named up: this API answers every query alike, so it would
        # answer up's check of its series (promql.GUARDS) with a series too.
        check = ("{kind: prometheus, query: 'min(up)', min: 1}" if route == "prometheus"
                 else "{kind: http}")
        custom_gate(project, f"- {{id: live, text: Live, check: {check}}}")
        project.git_init()
        assert project.run("--gate=12").ret == 1
        option = (f"--gate-prometheus={api.url}/mine" if route == "prometheus"
                  else f"--gate-health-url={service.url}/healthz")
        assert project.run("--gate=12", option).ret == 0
        name = option.split("=")[0]
        assert project.record().properties["deploygate.source_overrides"].startswith(name)
        done = run_cli(project, "verdict", "gate-records/GATE-12.xml")
        assert done.returncode == 4, done.stdout + done.stderr
        assert f"passed on evidence sources given on the command line ({name}=" in done.stderr
        before = project.state_path.read_bytes()
        refused = project.run_subprocess("--gate=12", option, "--gate-update-state")
        assert refused.ret == 4
        refused.stderr.fnmatch_lines([f"*{name}=*replaces the evidence source of "
                                      "*deploygate.yaml: it cannot be used with "
                                      "--gate-update-state; name it in deploygate.yaml*"])
        assert project.state_path.read_bytes() == before


@pytest.mark.parametrize("link", ["directory", "file"])
def test_one_projects_run_does_not_write_back_into_anothers_state(example: GateProject,
                                                                  link: str) -> None:
    # svc-a's own gate fails (a sign-off missing from its files); svc-b's passes. A committed
    # link .isdlc/projects/svc-b -> svc-a (or of its state.json) had svc-b's run read and
    # write svc-a's state.json: svc-b's PASS became svc-a's gate_passed.
    make_monorepo(example, ("svc-a", "svc-b"))
    for pid in ("svc-a", "svc-b"):
        _project_files(example, example.root / pid)
    log = example.root / "svc-a" / ".deploygate" / "attestations.jsonl"
    log.write_text("".join(line + "\n" for line in log.read_text().splitlines()
                           if json.loads(line)["criterion"] != "security-sign-off"))
    example.git_init()
    assert example.run("--gate=12", "--gate-project=svc-a").ret == 1
    projects = example.root / ".isdlc" / "projects"
    if link == "directory":
        shutil.rmtree(projects / "svc-b")
        (projects / "svc-b").symlink_to("svc-a")
    else:
        (projects / "svc-b" / "state.json").unlink()
        (projects / "svc-b" / "state.json").symlink_to("../svc-a/state.json")
    example.git("add", "-A")
    example.git("commit", "-qm", "svc-b shares svc-a's state")
    before = (projects / "svc-a" / "state.json").read_bytes()
    result = example.run("--gate=12", "--gate-project=svc-b", "--gate-update-state")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*svc-b/state.json*is project svc-a's state*"])
    assert (projects / "svc-a" / "state.json").read_bytes() == before
    # svc-a's own gate still reads its own state (the link is svc-b's problem, not svc-a's).
    assert example.run("--gate=12", "--gate-project=svc-a").ret == 1
    assert example.record("svc-a/GATE-12").decision == "FAIL"


def test_a_version_given_on_the_command_line_is_not_written_back(example: GateProject) -> None:
    # The release is 1.5.0 (deploygate.yaml and pyproject.toml say so) and its changelog has no
    # entry for it: FAIL. `--gate-version=1.4.0` gated it as the last release, whose entry
    # exists: a PASS that verdict refuses (another version), but --gate-update-state wrote
    # gate_passed: true for this release.
    for name in ("deploygate.yaml", "pyproject.toml"):
        path = example.root / name
        path.write_text(path.read_text().replace("1.4.0", "1.5.0"))
    example.git_init()
    assert example.run("--gate=12").ret == 1
    assert example.run("--gate=12", "--gate-version=1.4.0").ret == 0
    before = example.state_path.read_bytes()
    refused = example.run_subprocess("--gate=12", "--gate-version=1.4.0", "--gate-update-state")
    assert refused.ret == 4
    refused.stderr.fnmatch_lines(["*--gate-version=1.4.0 is not the version 1.5.0 of *"
                                  "deploygate.yaml*cannot be used with --gate-update-state*"])
    assert example.state_path.read_bytes() == before
    # The version the project's files name is no override.
    assert example.run("--gate=12", "--gate-version=1.5.0", "--gate-update-state").ret == 1
