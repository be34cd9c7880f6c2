"""The CI recipes (docs/ci) run as their CI systems run them: each job in a checkout of its
own, made from a real origin repository the way GitHub, GitLab and Jenkins really check out
(shallow where they are by default), its command lines read from the recipe, artifacts carried
as files. An honest release (examples/release_repo.py: several authors, a merged and tagged
release, sign-offs committed after the tag by their signers) must deploy; a tampered one must
stop before the deploy step. See tests/ci_pipelines.py for what each checkout does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from ci_pipelines import CI, RECIPE_LOADERS, git, github_checkout, run_pipeline

from conftest import REPO, need, release_repo_script


def _release_repo() -> ModuleType:
    return release_repo_script("release_repo_ci")


release_repo = _release_repo()
MARIA = release_repo.MARIA
JO = release_repo.DEVELOPERS["jo"][1]


class Origin:
    """The project's origin repository: the example release, tagged, every sign-off committed
    by its signer, and the allowed-signers file of the CI key committed under review."""

    def __init__(self, base: Path) -> None:
        self.root = release_repo.materialise(base / "origin")
        self.repo = release_repo.Repo(self.root)
        secrets = base / "ci-secrets"
        secrets.mkdir()
        self.key = secrets / "gate-signing-key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ci-gate",
                        "-f", str(self.key)], check=True, capture_output=True)
        public = " ".join(self.key.with_suffix(".pub").read_text().split()[:2])
        allowed = self.root / ".deploygate" / "allowed_signers"
        allowed.write_text(f'ci-gate@acme.example namespaces="deploygate" {public}\n')
        self.commit([".deploygate/allowed_signers"], "the CI key may sign gate decisions",
                    who=MARIA)

    def commit(self, paths: list[str], message: str, *, who: str, force: bool = False) -> str:
        self.repo.run("add", *(["-f"] if force else []), "--", *paths, who=who,
                      at="2026-02-03T15:31:00Z")
        self.repo.run("commit", "-q", "-m", message, who=who, at="2026-02-03T15:31:00Z")
        return self.head

    @property
    def head(self) -> str:
        return git(self.root, "rev-parse", "HEAD")


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    return Origin(tmp_path)


def ci_for(name: str, origin: Origin, base: Path) -> CI:
    base.mkdir(parents=True, exist_ok=True)
    return CI(RECIPE_LOADERS[name](), origin.root, base, origin.key, origin.root / "reports")


RECIPES = sorted(RECIPE_LOADERS)
GATE_JOB = {"github": "gate-pre", "gitlab": "gate-pre", "jenkins": "gate pre"}
DEPLOY_JOB = {"github": "deploy", "gitlab": "deploy-production", "jenkins": "deploy"}


@pytest.mark.parametrize("name", RECIPES)
def test_honest_release_deploys_in_the_real_checkouts(name: str, origin: Origin,
                                                       tmp_path: Path) -> None:
    """HEAD is a bookkeeping commit far from the release merge (the sign-offs after the tag):
    a shallow checkout (GitHub's depth 1, GitLab's 20) did not hold the release commit, and
    the verdict refused an honest PASS."""
    ci = ci_for(name, origin, tmp_path / name)
    if ci.recipe.shared_workspace:
        # Jenkins keeps the workspace: an earlier build (before the CI key was allowed, so
        # it stopped at its verdict) left its records and reports behind.
        earlier = run_pipeline(ci, git(origin.root, "rev-parse", "HEAD~1"))
        assert not earlier.deployed and earlier.exit_code == 4, earlier.output
    outcome = run_pipeline(ci, origin.head)
    assert outcome.failed is None, outcome.output
    assert outcome.deployed and not any(line.startswith("rollback.sh") for line in outcome.log)
    assert outcome.finished == [job.name for job in ci.recipe.jobs]


@pytest.mark.parametrize("name", RECIPES)
def test_content_commit_after_the_signed_pass_never_deploys(name: str, origin: Origin,
                                                            tmp_path: Path) -> None:
    """The PASS is signed, then a content commit lands and the later jobs check it out
    (a re-run, a later pipeline reusing the artifacts, a reused workspace): the deploy
    job's verdict binds the record to what it checked out and refuses."""
    ci = ci_for(name, origin, tmp_path / name)

    def change_content(job: str, work: Path) -> str | None:
        if job != GATE_JOB[name]:
            return None
        assert (work / "gate-records" / "GATE-12-pre.intoto.json").is_file()
        readme = origin.root / "CHANGELOG.md"
        readme.write_text(readme.read_text() + "\nOne more line after the sign-offs.\n")
        return origin.commit(["CHANGELOG.md"], "docs: after the gate", who=JO)

    outcome = run_pipeline(ci, origin.head, after=change_content)
    assert not outcome.deployed, outcome.output
    assert outcome.failed == DEPLOY_JOB[name]
    assert outcome.exit_code == 4
    assert "not a trustworthy gate record" in outcome.output or "release" in outcome.output


@pytest.mark.parametrize("name", RECIPES)
def test_failing_gate_never_deploys(name: str, origin: Origin, tmp_path: Path) -> None:
    """A sign-off withdrawn by a bookkeeping commit: the gate records FAIL, nothing deploys."""
    log = origin.root / ".deploygate" / "attestations.jsonl"
    log.write_text("".join(line + "\n" for line in log.read_text().splitlines()
                           if json.loads(line)["criterion"] != "security-sign-off"))
    origin.commit([".deploygate/attestations.jsonl"], "withdraw the security sign-off",
                  who=MARIA)
    ci = ci_for(name, origin, tmp_path / name)
    outcome = run_pipeline(ci, origin.head)
    assert not outcome.deployed, outcome.output
    assert outcome.exit_code == 1
    assert outcome.failed in (GATE_JOB[name], DEPLOY_JOB[name])


#: A start-up module among the CI output that makes every exit of its process 0 (no check in
#: that process can undo it: only an interpreter that never runs it helps).
ALWAYS_ZERO = ("import os, sys\n_exit = os._exit\n"
               "sys.exit = os._exit = lambda code=0: _exit(0)\n")
#: The first job whose verdict runs in a checkout holding the CI output.
FIRST_VERDICT_WITH_OUTPUT = {"github": "gate-pre", "gitlab": "gate-pre", "jenkins": "deploy"}


@pytest.mark.parametrize("name", RECIPES)
def test_the_job_environment_cannot_steer_the_verdict(name: str, origin: Origin,
                                                      tmp_path: Path) -> None:
    """The project's CI settings point PYTHONPATH at the CI output, where a sitecustomize.py
    makes every exit 0, and set PYTHONINSPECT (the prompt after the command exits 0 at the
    end of an empty stdin). The recipes' verdict was the ``deploygate`` script, whose
    interpreter honours both: a FAIL deployed. ``python -I -m pytest_deploygate verdict``
    reads neither."""
    log = origin.root / ".deploygate" / "attestations.jsonl"
    log.write_text("".join(line + "\n" for line in log.read_text().splitlines()
                           if json.loads(line)["criterion"] != "security-sign-off"))
    origin.commit([".deploygate/attestations.jsonl"], "withdraw the security sign-off",
                  who=MARIA)
    (origin.root / "reports" / "sitecustomize.py").write_text(ALWAYS_ZERO)
    ci = ci_for(name, origin, tmp_path / name)
    ci.job_env.update({"PYTHONPATH": "reports", "PYTHONINSPECT": "1"})
    outcome = run_pipeline(ci, origin.head)
    assert not outcome.deployed, outcome.output
    assert outcome.failed == FIRST_VERDICT_WITH_OUTPUT[name], outcome.output
    assert outcome.exit_code == 1, outcome.output


#: A shared object whose constructor registers a libc exit handler ending the process with 0:
#: in the verdict's process (LD_PRELOAD) every exit code becomes 0, before Python starts.
EXIT_ZERO_SO = r"""
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
static void bye(void) { syscall(SYS_exit_group, 0); }
__attribute__((constructor)) static void init(void) { atexit(bye); }
"""


def withdraw_security_sign_off(origin: Origin) -> None:
    """The release's gate FAILs from now on."""
    log = origin.root / ".deploygate" / "attestations.jsonl"
    log.write_text("".join(line + "\n" for line in log.read_text().splitlines()
                           if json.loads(line)["criterion"] != "security-sign-off"))
    origin.commit([".deploygate/attestations.jsonl"], "withdraw the security sign-off",
                  who=MARIA)


@pytest.mark.parametrize("name", RECIPES)
def test_a_job_wide_ld_preload_of_committed_code_never_deploys_a_fail(
        name: str, origin: Origin, tmp_path: Path) -> None:
    """The project's CI settings set LD_PRELOAD to a shared object committed in the release
    (relative: the checkout is every job's folder). ``python -I`` reads no PYTHON* variable,
    but the dynamic loader ran the library in the verdict's process, and its exit handler
    made the FAIL's exit 1 a 0: the deploy ran. The recipes start the gate run and the
    verdict without the loader's variables. (The CI's own shell loads the library too, so a
    step's exit code is not to be trusted; what must hold is that nothing deploys.)"""
    cc = shutil.which("cc") or shutil.which("gcc")
    need(cc is not None, "no C compiler (cc, gcc) to build the preloaded library")
    assert cc is not None
    withdraw_security_sign_off(origin)
    source = tmp_path / "exit_zero.c"
    source.write_text(EXIT_ZERO_SO)
    (origin.root / "ci" / "lib").mkdir(parents=True)
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(origin.root / "ci" / "lib" / "libci.so"),
                    str(source)], check=True, capture_output=True)
    origin.commit(["ci/lib/libci.so"], "ci: tooling", who=JO)
    ci = ci_for(name, origin, tmp_path / name)
    ci.job_env.update({"LD_PRELOAD": "ci/lib/libci.so", "LD_LIBRARY_PATH": "ci/lib"})
    outcome = run_pipeline(ci, origin.head)
    assert not outcome.deployed, outcome.output


PIP_CONF = "[global]\nno-index = true\nfind-links = ci/wheels\n"


@pytest.mark.parametrize("steering", ["PIP_CONFIG_FILE", "XDG_CONFIG_DIRS", "PIP_FIND_LINKS",
                                      "HOME"])
@pytest.mark.parametrize("name", RECIPES)
def test_pip_steered_by_the_job_environment_never_deploys_a_fail(
        name: str, steering: str, origin: Origin, tmp_path: Path) -> None:
    """The project's CI settings point pip at a pip.conf committed in the release (or at its
    wheels by PIP_FIND_LINKS, or HOME at a folder with a user pip.conf): ``python -I -m pip``
    read it (-I is Python's, not pip's; ``--isolated`` still reads PIP_CONFIG_FILE and the
    global files) and installed a committed pytest-deploygate that says PASS. The recipes
    run pip with an empty environment and PIP_CONFIG_FILE=/dev/null."""
    withdraw_security_sign_off(origin)
    for folder in ("ci/pip", "ci/.config/pip"):
        (origin.root / folder).mkdir(parents=True, exist_ok=True)
        (origin.root / folder / "pip.conf").write_text(PIP_CONF)
    (origin.root / "ci" / "pip.conf").write_text(PIP_CONF)
    origin.commit(["ci"], "ci: pip settings", who=JO)
    ci = ci_for(name, origin, tmp_path / name)
    ci.job_env[steering] = {"PIP_CONFIG_FILE": "ci/pip.conf", "XDG_CONFIG_DIRS": "ci",
                            "PIP_FIND_LINKS": "ci/wheels", "HOME": "ci"}[steering]
    outcome = run_pipeline(ci, origin.head)
    assert not outcome.deployed, outcome.output
    assert outcome.exit_code == 1, outcome.output
    assert "forged" not in outcome.output, outcome.output


@pytest.mark.parametrize("name", RECIPES)
def test_signed_pass_of_another_release_never_deploys(name: str, origin: Origin,
                                                      tmp_path: Path) -> None:
    """The signed PASS of this release, committed into the next release (content changed)
    together with a pytest.ini that stops the gate run before it writes a record: whatever
    the checkout depth, the record is of another release and nothing deploys."""
    ci = ci_for(name, origin, tmp_path / name)
    first = run_pipeline(ci, origin.head)
    assert first.deployed, first.output
    signed = next(path for path in sorted(ci.base.glob("*/gate-records"))
                  if (path / "GATE-12-pre.intoto.json").is_file()) \
        if name != "jenkins" else ci.base / "workspace" / "gate-records"
    records = origin.root / "gate-records"
    records.mkdir(exist_ok=True)
    for suffix in ("xml", "intoto.json"):
        shutil.copyfile(signed / f"GATE-12-pre.{suffix}", records / f"GATE-12-pre.{suffix}")
    (origin.root / "pytest.ini").write_text("[pytest]\nminversion = 99\n")
    origin.commit(["gate-records", "pytest.ini"], "ship it", who=JO, force=True)
    second = run_pipeline(ci, origin.head)
    assert not second.deployed, second.output
    assert second.exit_code == 4


@pytest.mark.parametrize(("ci_variable", "option"), [
    ("GITHUB_ACTIONS", "fetch-depth: 0"), ("GITLAB_CI", 'GIT_DEPTH: "0"'),
    ("JENKINS_URL", "CloneOption shallow: false"), (None, "git fetch --tags --unshallow")])
def test_shallow_checkout_refuses_naming_the_ci_option(ci_variable: str | None, option: str,
                                                       origin: Origin, tmp_path: Path) -> None:
    """A checkout without the release commit never passes a signed PASS of that very
    release: one line says to fetch the history, in the terms of the CI at hand. A shallow
    checkout deep enough to hold the release commit binds as a full one does."""
    ci = ci_for("github", origin, tmp_path / "ci")
    outcome = run_pipeline(ci, origin.head, after=None)
    assert outcome.deployed, outcome.output
    signed = next(p for p in sorted(ci.base.glob("*/gate-records"))
                  if (p / "GATE-12-pre.intoto.json").is_file())
    release = git(origin.root, "log", "-1", "--format=%H", "HEAD", "--", ".",
                  ":(exclude).deploygate", ":(exclude).isdlc")
    below = int(git(origin.root, "rev-list", "--count", f"{release}..HEAD"))
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL")}
    if ci_variable:
        environment[ci_variable] = "true"
    deploygate = Path(sys.executable).parent / "deploygate"
    for depth, expected in ((1, 4), (below, 4), (below + 1, 0)):
        work = tmp_path / f"depth-{depth}"
        github_checkout(origin.root, origin.head, work, depth)
        shutil.copytree(signed, work / "gate-records")
        done = subprocess.run([str(deploygate), "verdict", "gate-records/GATE-12-pre.xml",
                               "--allowed-signers", ".deploygate/allowed_signers"], cwd=work,
                              env=environment, capture_output=True, text=True, check=False)
        assert done.returncode == expected, (depth, done.stdout + done.stderr)
        if expected == 4:
            refusal = [line for line in done.stderr.splitlines() if "shallow clone" in line]
            assert len(refusal) == 1 and option in refusal[0], done.stderr
            assert "Traceback" not in done.stderr


def test_recipes_run_the_documented_hardened_command() -> None:
    """Every word of the hardened gate run of docs/ci-recipes.md is in each recipe's
    GATE_ENV and GATE_PYTEST (the recipes had lost ``-E``, the unset PYTEST_ADDOPTS/
    PYTEST_PLUGINS, and had no unset loader variables)."""
    text = (REPO / "docs" / "ci-recipes.md").read_text()
    # The section's first indented (code) block, wherever prose sits before it.
    section = text.split("## Hardened gate runs", 1)[1].split("\n## ", 1)[0]
    block = next(part for part in section.split("\n\n") if part.startswith("    "))
    documented = [word for word in block.split()
                  if word not in ("\\", "--gate=12", "/opt/deploygate/bin/python")]
    for name, load in RECIPE_LOADERS.items():
        env = load().env
        command = [*env["GATE_ENV"].split(), *env["GATE_PYTEST"].split()]
        missing = [word for word in documented if word not in command]
        assert not missing, f"{name}: GATE_ENV and GATE_PYTEST lack {missing}"
        assert " ".join(command).startswith(" ".join(documented[:12])), name
