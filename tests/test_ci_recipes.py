"""The CI recipes in docs/ci, tried for real: their shell steps run in order against a copy of
the example project (deploy and rollback are stub scripts), on real gate records."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest
import yaml
from ci_pipelines import gitlab_before_script, stand_in

from conftest import REPO, GateProject

RECIPES = REPO / "docs" / "ci"
STUB = "#!/bin/sh\necho \"$0 $*\" >> pipeline.log\n"


def gitlab_jobs() -> tuple[dict[str, str], list[list[str]]]:
    doc = yaml.safe_load((RECIPES / "gitlab-ci.yml").read_text())
    jobs = [[*gitlab_before_script(doc, doc[name]), *doc[name]["script"]]
            for name in ("gate-pre", "deploy-production", "gate-post")]
    # The settings the jobs assign in their before_script, read as the shell reads them.
    settings = dict(shlex.split(line)[0].split("=", 1)
                    for line in gitlab_before_script(doc, doc["gate-pre"]))
    return {**doc["variables"], **settings}, jobs


def github_jobs() -> tuple[dict[str, str], list[list[str]]]:
    doc = yaml.safe_load((RECIPES / "github-workflow.yml").read_text())
    jobs = [[step["run"] for step in doc["jobs"][name]["steps"] if "run" in step]
            for name in ("gate-pre", "deploy", "gate-post")]
    return doc["env"], jobs


def jenkins_jobs() -> tuple[dict[str, str], list[list[str]]]:
    text = (RECIPES / "Jenkinsfile").read_text()
    env = dict(re.findall(r"^\s+([A-Z_]+) = '([^']*)'", text, re.M))
    stages = re.split(r"stage\('", text)[1:]
    jobs = []
    for stage in stages:
        steps = re.findall(r"sh '''(.*?)'''|sh '([^']*)'", stage, re.S)
        jobs.append([block or line for block, line in steps])
    return env, jobs


def run_pipeline(project: GateProject, env: dict[str, str], jobs: list[list[str]]) -> int:
    for script in ("deploy.sh", "rollback.sh"):
        path = project.root / script
        path.write_text(STUB)
        path.chmod(0o755)
    key = project.root.parent / "ci-secrets" / "gate-signing-key"
    temp = project.root.parent / "runner-temp"
    temp.mkdir(exist_ok=True)
    # The CI secret store: GitLab and Jenkins hand the job a key file's path, GitHub the key's
    # text. The python and deploygate under test come first on PATH.
    job_bin = project.root.parent / "runner-bin"
    job_bin.mkdir(exist_ok=True)
    # The recipes' virtual environment holds the package under test (ci_pipelines.stand_in).
    environment = {**os.environ, **env, "GATE_WATCH": "0s", "DEPLOYGATE_SIGNING_KEY": str(key),
                   "GATE_SIGNING_KEY": key.read_text(), "RUNNER_TEMP": str(temp),
                   "WORKSPACE_TMP": str(temp)}
    for steps in jobs:
        script = stand_in("\n".join(steps), job_bin, temp)
        done = subprocess.run(["/bin/bash", "-e", "-c", script], cwd=project.root,
                              env=environment, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            return done.returncode  # later jobs need this one: the pipeline stops here
    return 0


def pipeline_log(project: GateProject) -> str:
    log = project.root / "pipeline.log"
    return log.read_text() if log.exists() else ""


RECIPE_LOADERS = [gitlab_jobs, github_jobs, jenkins_jobs]


def signing_key(project: GateProject, name: str = "gate-signing-key") -> str:
    """A key in the CI secret store beside the project; its OpenSSH public line."""
    secrets = project.root.parent / "ci-secrets"
    secrets.mkdir(exist_ok=True)
    for stale in secrets.glob(f"{name}*"):
        stale.unlink()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ci-gate",
                    "-f", str(secrets / name)], check=True, capture_output=True)
    return " ".join((secrets / f"{name}.pub").read_text().split()[:2])


@pytest.fixture
def repo(example: GateProject) -> GateProject:
    # The allowed-signers file is part of the reviewed repository, like the approvers file.
    allowed = example.root / ".deploygate" / "allowed_signers"
    allowed.write_text(f'ci-gate@acme.example namespaces="deploygate" {signing_key(example)}\n')
    example.git_init()
    return example


@pytest.mark.parametrize("load", RECIPE_LOADERS, ids=["gitlab", "github", "jenkins"])
def test_pass_deploys_and_keeps_it(repo: GateProject, load) -> None:
    assert run_pipeline(repo, *load()) == 0
    assert "deploy.sh production" in pipeline_log(repo)
    assert "rollback.sh" not in pipeline_log(repo)
    assert repo.record("GATE-12-pre").decision == "PASS"
    assert repo.record("GATE-12-post").decision == "PASS"


@pytest.mark.parametrize("load", RECIPE_LOADERS, ids=["gitlab", "github", "jenkins"])
def test_failing_pre_stage_never_deploys(repo: GateProject, load) -> None:
    repo.drop_attestation("security-sign-off")
    assert run_pipeline(repo, *load()) == 1
    assert pipeline_log(repo) == ""
    assert repo.record("GATE-12-pre").decision == "FAIL"


@pytest.mark.parametrize("load", RECIPE_LOADERS, ids=["gitlab", "github", "jenkins"])
def test_fired_trigger_rolls_back(repo: GateProject, load) -> None:
    repo.attest(gate=12, criterion="data-integrity-issue", signer="tom.berg@acme.example",
                role="dba", at="2026-02-05T10:00:00Z", present=True, note="orders lost")
    assert run_pipeline(repo, *load()) == 2
    log = pipeline_log(repo)
    assert "deploy.sh production" in log and "rollback.sh production" in log
    assert repo.record("GATE-12-post").decision == "ROLLBACK"


@pytest.mark.parametrize("load", RECIPE_LOADERS, ids=["gitlab", "github", "jenkins"])
def test_pipeline_signs_and_the_deploy_job_verifies(repo: GateProject, load) -> None:
    """The measured attack: a merge request commits a PASS pre record and moves the record
    directory, so the real, failing gate run writes elsewhere. The deploy job's verdict wants
    an attestation by an allowed signer for this release: no deploy."""
    assert run_pipeline(repo, *load()) == 0
    records = repo.root / "gate-records"
    assert (records / "GATE-12-pre.intoto.json").is_file()
    assert (records / "GATE-12-post.intoto.json").is_file()
    forged = records / "GATE-12-pre.xml"
    forged_text = forged.read_text()
    shutil.rmtree(records)
    (repo.root / "pipeline.log").unlink()
    forged.parent.mkdir()
    forged.write_text(forged_text)  # the record of a passing run, without its attestation
    (repo.root / "pytest.ini").write_text("[pytest]\ndeploygate_record_dir = elsewhere\n")
    log = repo.root / ".deploygate" / "attestations.jsonl"
    sign_offs = log.read_text()
    repo.drop_attestation("security-sign-off")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "forged PASS record")
    assert run_pipeline(repo, *load()) == 4
    assert "deploy.sh" not in pipeline_log(repo)

    # Signed, but by a key of the attacker's own (the CI key was replaced or leaked to a fork).
    shutil.rmtree(repo.root / "elsewhere")
    (repo.root / "pytest.ini").unlink()
    log.write_text(sign_offs)
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "the real gate passes again")
    signing_key(repo)
    assert run_pipeline(repo, *load()) == 4
    assert "deploy.sh" not in pipeline_log(repo)


@pytest.mark.parametrize("load", RECIPE_LOADERS, ids=["gitlab", "github", "jenkins"])
def test_a_gate_run_without_the_plugin_never_deploys_an_earlier_pass(
        repo: GateProject, load) -> None:
    """rt14d A2: pytest exits 0 on ``--help`` before it reports the unknown ``--gate``, and
    with the plugin not loaded (``-p no:deploygate``, autoload disabled) no code of ours runs
    to remove the last run's records: a workspace's PASS of the same release (a sign-off
    withdrawn since) was what the deploy job verified. The recipes remove the record folder
    (a post stage: its own records) themselves before the gate run."""
    env, jobs = load()
    assert run_pipeline(repo, env, jobs) == 0
    assert repo.record("GATE-12-pre").decision == "PASS"
    (repo.root / "pipeline.log").unlink()
    repo.drop_attestation("security-sign-off")
    repo.git("commit", "-qam", "the security sign-off is withdrawn")
    # (the gate command as the job's environment turned it: a help page, no plugin)
    unloaded = {**env, "GATE_PYTEST": "-I -m pytest -p no:cacheprovider --help"}
    assert run_pipeline(repo, unloaded, jobs) != 0
    assert "deploy.sh" not in pipeline_log(repo)


@pytest.mark.parametrize("load", RECIPE_LOADERS, ids=["gitlab", "github", "jenkins"])
def test_every_gate_run_removes_its_stage_records_first(load) -> None:
    """The removal stands in the recipes before every gate run (the post stage keeps the
    pre record, its input)."""
    _, jobs = load()
    runs = 0
    for steps in jobs:
        lines = [line.strip() for step in steps for line in step.splitlines()]
        for index, line in enumerate(lines):
            if "$GATE_PYTEST" not in line:
                continue
            runs += 1
            before = " ".join(lines[:index + 1])
            removal = ("rm -f gate-records/GATE-$GATE-post.*" if "--gate-stage=post" in line
                       else "rm -rf gate-records")
            assert removal in before, line
    assert runs == 2


def test_gitlab_pipeline_variables_choose_nothing(repo: GateProject) -> None:
    """GitLab lets project, group and pipeline variables (a developer's "Run pipeline" form)
    override the variables .gitlab-ci.yml defines. A pipeline run saying GATE=11, a signers
    file of its own, no GATE_ENV and a pytest without the plugin still gets gate 12, judged
    by the plugin, its verdict against the reviewed signers."""
    env, jobs = gitlab_jobs()
    (repo.root / "my_signers").write_text("")
    # A PATH variable naming a folder of the checkout (rt17a A02): its committed mktemp and rm
    # would run with the signing key's File variable in their environment.
    ran = repo.root.parent / "committed-program-ran"
    tools = repo.root / ".deploygate" / "bin"
    tools.mkdir(parents=True)
    for name in ("mktemp", "rm", "env", "python3", "bash", "sh"):
        (tools / name).write_text(f'#!/bin/sh\necho "{name} $DEPLOYGATE_SIGNING_KEY" >> "{ran}"\n'
                                  f'exec /usr/bin/{name} "$@"\n')
        (tools / name).chmod(0o755)
    repo.git("add", ".deploygate/bin")
    repo.git("commit", "-q", "-m", "bookkeeping tools")
    pipeline_variables = {**env, "GATE": "11", "ALLOWED_SIGNERS": "my_signers",
                          "GATE_ENV": "env", "GATE_PYTEST": "-I -m pytest -p no:deploygate",
                          "PIP_CLEAN": "env", "GATE_WATCH": "0s",
                          "PATH": f"{tools}{os.pathsep}/usr/bin{os.pathsep}/bin"}
    assert run_pipeline(repo, pipeline_variables, jobs) == 0
    assert not ran.exists(), ran.read_text()
    assert "deploy.sh production" in pipeline_log(repo)
    assert repo.record("GATE-12-pre").decision == "PASS"
    assert repo.record("GATE-12-post").decision == "PASS"
    assert not list((repo.root / "gate-records").glob("GATE-11*"))


def test_recipes_publish_the_records_the_plugin_writes() -> None:
    gitlab = yaml.safe_load((RECIPES / "gitlab-ci.yml").read_text())
    assert gitlab["gate-pre"]["artifacts"]["reports"]["junit"] == "gate-records/GATE-*-pre.xml"
    assert gitlab["gate-post"]["artifacts"]["reports"]["junit"] == (
        "gate-records/GATE-*-post.xml")
    jenkins = (RECIPES / "Jenkinsfile").read_text()
    assert "junit testResults: 'gate-records/GATE-*-post.xml', keepProperties: true" in jenkins
    assert 'reportFiles: "GATE-${env.GATE}-post.html"' in jenkins  # the HTML record
    for job in ("gate-pre", "gate-post"):
        assert gitlab[job]["artifacts"]["paths"] == ["gate-records/"]  # .md and .html too
    for recipe in RECIPES.iterdir():
        text = recipe.read_text()
        assert "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1" in text and "--noconftest" in text


@pytest.mark.parametrize("load", [gitlab_jobs, github_jobs, jenkins_jobs])
def test_recipes_run_no_module_of_the_checkout(load) -> None:
    """A deploy job runs in the checkout, and ``python -m NAME`` puts the current folder first
    on sys.path: a committed ``pytest/``, ``pip/`` or ``pytest_deploygate/`` package would run
    in place of the installed one, before any check of ours. An interpreter that honours the
    job's environment runs a ``sitecustomize.py`` or ``.pth`` that ``PYTHONPATH``,
    ``PYTHONUSERBASE`` or ``HOME`` point at in the checkout; the dynamic loader runs what
    ``LD_PRELOAD``, ``LD_LIBRARY_PATH`` or ``LD_AUDIT`` name; pip installs what ``PIP_*``
    variables and pip configuration files name; and ``python`` is whatever PATH finds first.
    So every Python of every recipe is ``-I``, named by its absolute path (the venv the job
    created outside the checkout); pip and venv run with an empty environment and no pip
    configuration; the gate run and every verdict without the loader's variables, and every
    verdict is ``-I -m pytest_deploygate verdict``, never the script."""
    env, jobs = load()
    pip_clean = env["PIP_CLEAN"].split()
    assert pip_clean[:2] == ["/usr/bin/env", "-i"] and "PIP_CONFIG_FILE=/dev/null" in pip_clean
    assert "--isolated" in env["PIP_INSTALL"].split() and \
        env["PIP_INSTALL"].startswith("-I -m pip install")
    for variable in ("LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "GCONV_PATH", "LOCPATH",
                     "GLIBC_TUNABLES", "OPENSSL_CONF", "OPENSSL_MODULES", "OPENSSL_ENGINES",
                     "SSL_CERT_FILE", "SSL_CERT_DIR", "HOSTALIASES", "LOCALDOMAIN",
                     "RES_OPTIONS"):
        assert f"-u {variable}" in env["GATE_ENV"].split("PYTEST_DISABLE")[0], variable
    assert env["GATE_PYTEST"].startswith("-I -m pytest ")
    lines = [line.strip() for steps in jobs for step in steps for line in step.splitlines()]
    # (GitLab's settings are assigned in the script: checked above, through env)
    lines = [line for line in lines if not re.match(r'[A-Z_]+="', line)]
    pythons = [line for line in lines if re.search(r"python3?\b", line)]
    assert pythons, "the recipes run no python at all?"
    for line in pythons:
        called = re.search(r'(\S*python3?"?) (\S+)', line)
        assert called is not None, line
        interpreter, first = called.groups()
        assert interpreter.strip('"').startswith(("/", "$")), \
            f"{line!r}: name the interpreter by its absolute path, never PATH's python"
        if "-m venv" in line or "$PIP_INSTALL" in line:
            assert line.startswith("$PIP_CLEAN "), f"{line!r}: pip in an empty environment"
        else:
            assert "$GATE_ENV " in line, f"{line!r}: start it without the loader's variables"
            assert first in ("-I", "$GATE_PYTEST"), f"{line!r}: run python -I -m"
    verdicts = [line for line in lines if "verdict" in line]
    assert verdicts
    for line in verdicts:
        assert re.search(r"(?<![\w/.-])deploygate verdict", line) is None, line
        assert "/bin/python\" -I -m pytest_deploygate verdict" in line, line


@pytest.mark.parametrize("load", [gitlab_jobs, github_jobs, jenkins_jobs])
def test_the_gate_run_imports_no_warning_category_the_repository_names(
        repo: GateProject, load, tmp_path_factory: pytest.TempPathFactory) -> None:
    """rt17c A05: pytest's warnings plugin imports the module of each category in the
    repository's ``filterwarnings`` by name, before any check of the plugin runs;
    ``antigravity`` (standard library) starts ``$BROWSER``, which ran beside the signing key.
    The recipes' gate command loads no warnings plugin and unsets BROWSER."""
    env, _ = load()
    outside = tmp_path_factory.mktemp("browser")
    ran = outside / "browser-ran"
    browser = outside / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$DEPLOYGATE_SIGNING_KEY" >> "{ran}"\n')
    browser.chmod(0o755)
    pyproject = repo.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(
        "[tool.pytest.ini_options]\n",
        '[tool.pytest.ini_options]\nfilterwarnings = ["ignore::antigravity.Nothing"]\n', 1))
    repo.git("commit", "-qam", "filter a warning")
    command = " ".join([env["GATE_ENV"], shlex.quote(sys.executable), env["GATE_PYTEST"],
                        "--gate=12"])
    subprocess.run(["/bin/sh", "-c", command], cwd=repo.root, capture_output=True, text=True,
                   env={**os.environ, "BROWSER": str(browser),
                        "DEPLOYGATE_SIGNING_KEY": str(outside / "no-key")}, timeout=300)
    assert not ran.exists(), "the repository's filterwarnings started $BROWSER"
