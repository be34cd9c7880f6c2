"""The CI recipes of docs/ci as their CI systems really run them, for the tests.

Each recipe is read from its file (never retyped here, so a test breaks when the docs drift)
into jobs: the checkout the CI system does for that job, the job's command lines, and the
artifacts it carries to the next job as files. A job runs in a directory of its own, checked
out from a real origin repository the way that CI system does it:

- GitHub (actions/checkout@v4): ``git init``; with the default ``fetch-depth: 1``
  ``git fetch --no-tags --depth=1 origin +<sha>:refs/remotes/origin/main``, with
  ``fetch-depth: 0`` every branch and tag; then ``git checkout --force -B main
  refs/remotes/origin/main``. Every job of a workflow run checks out the same commit.
- GitLab (fetch strategy, fresh project directory): ``git init``, ``git fetch`` of the branch
  with ``--depth $GIT_DEPTH`` (20 for new projects unless the recipe sets it; 0 means the
  whole history) and tags followed as git does, ``git checkout -f <CI_COMMIT_SHA>``
  (detached), ``git clean -ffdx``. Artifacts come from the jobs the job ``needs``.
- Jenkins (declarative ``checkout scm``): a workspace kept from earlier builds, ``git fetch
  --tags --force -- <url> +refs/heads/*:refs/remotes/origin/*`` (the whole history),
  ``git checkout -f <sha>`` (detached), nothing cleaned; every stage runs in that workspace.

The recipes' virtual environment (``/usr/bin/python3 -I -m venv --clear DIR``) is the only
command replaced: DIR gets a ``bin/python`` of the package under test, whose ``-m pip install``
is pip's decision modelled (:data:`VENV_PYTHON`): the package under test, or, when pip's
configuration or ``PIP_*`` variables would steer pip to another index, a forged package that
says PASS to everything. Until installed, ``-m pytest_deploygate`` and ``-m pytest`` fail (as
on a fresh runner). ``deploy.sh`` and ``rollback.sh`` are stubs that log their call.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from conftest import REPO

RECIPES = REPO / "docs" / "ci"
#: The runner's python on PATH: the package under test is only in the recipes' venv.
PYTHON = """#!/bin/sh
case " $* " in
  *" -m pytest_deploygate "*|*" -m pytest "*) echo "python: No module named $*" >&2; exit 1 ;;
esac
exec /usr/bin/python3 "$@"
"""
#: How every recipe creates its virtual environment, outside the checkout.
MAKE_VENV = "/usr/bin/python3 -I -m venv --clear"
#: The virtual environment's python: pip's decision modelled on pip's configuration code
#: (pip/_internal/configuration.py): ``--isolated`` ignores ``PIP_*`` variables and the user's
#: pip.conf, never ``PIP_CONFIG_FILE`` nor the global ones (``XDG_CONFIG_DIRS``);
#: ``PIP_CONFIG_FILE=/dev/null`` loads no file at all. A steered pip installs what the
#: configuration names: here a forged package that passes everything.
VENV_PYTHON = f"""#!/bin/sh
here=$(dirname "$0")
case " $* " in
  *" -m pip install "*)
    isolated=; case " $* " in *" --isolated "*) isolated=1 ;; esac
    steered=
    if [ -z "$isolated" ] && env | grep '^PIP_[A-Z_]*=' | grep -qv '^PIP_CONFIG_FILE='; then
      steered=variables
    fi
    if [ "${{PIP_CONFIG_FILE:-}}" != /dev/null ]; then
      [ -n "${{PIP_CONFIG_FILE:-}}" ] && [ -f "$PIP_CONFIG_FILE" ] && steered=PIP_CONFIG_FILE
      for dir in $(echo "${{XDG_CONFIG_DIRS:-/etc/xdg}}" | tr : ' '); do
        [ -f "$dir/pip/pip.conf" ] && steered=XDG_CONFIG_DIRS
      done
      user="${{XDG_CONFIG_HOME:-${{HOME:-/nonexistent}}/.config}}/pip/pip.conf"
      [ -z "$isolated" ] && [ -f "$user" ] && steered=user
    fi
    if [ -n "$steered" ]; then touch "$here/forged"; else touch "$here/installed"; fi
    exit 0 ;;
  *" -m pytest_deploygate "*|*" -m pytest "*)
    if [ -e "$here/forged" ]; then echo "forged pytest-deploygate: PASS"; exit 0; fi
    [ -e "$here/installed" ] || {{ echo "python: No module named $*" >&2; exit 1; }} ;;
esac
exec "{sys.executable}" "$@"
"""
#: The stand-in for MAKE_VENV: a fresh folder with VENV_PYTHON as its python.
VENV_MAKER = """#!/bin/sh
rm -rf "$1" && mkdir -p "$1/bin" && cp "$(dirname "$0")/venv-python" "$1/bin/python"
"""


def stand_in(script: str, job_bin: Path, temp: Path) -> str:
    """A recipe's command block with the virtual environment made by the stand-ins in
    ``job_bin`` (written here) and GitLab's ``mktemp -d /tmp/...`` in the job's ``temp``."""
    for name, text in (("venv-python", VENV_PYTHON), ("make-venv", VENV_MAKER)):
        (job_bin / name).write_text(text)
        (job_bin / name).chmod(0o755)
    # (and the post stage watches for 0 s, not the recipe's 15 minutes, where the recipe sets
    # it in the script rather than as a variable the test could override)
    return (script.replace(MAKE_VENV, str(job_bin / "make-venv"))
            .replace("mktemp -d /tmp/", f"mktemp -d {temp}/")
            .replace("GATE_WATCH=15m", "GATE_WATCH=0s"))


STUB = '#!/bin/sh\necho "$(basename "$0") $*" >> "$PIPELINE_LOG"\n'
#: GitLab's default GIT_DEPTH for new projects.
GITLAB_DEFAULT_DEPTH = 20
GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}


def git(cwd: Path, *args: str) -> str:
    """git in ``cwd`` (no user or system configuration)."""
    env = {**os.environ, **GIT_ENV, "HOME": str(cwd.parent)}
    for name in [n for n in env if n.startswith("GIT_") and n not in GIT_ENV]:
        del env[name]
    done = subprocess.run(["git", "-c", "advice.detachedHead=false", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} in {cwd}: {done.stderr.strip()}")
    return done.stdout.strip()


# -- checkouts ------------------------------------------------------------------------------

def github_checkout(origin: Path, sha: str, work: Path, depth: int) -> None:
    """What actions/checkout@v4 does for a push to main."""
    work.mkdir(parents=True)
    git(work, "init", "-q")
    git(work, "remote", "add", "origin", origin.as_uri())
    if depth > 0:
        git(work, "fetch", "-q", "--no-tags", "--prune", "--no-recurse-submodules",
            f"--depth={depth}", "origin", f"+{sha}:refs/remotes/origin/main")
    else:
        git(work, "fetch", "-q", "--prune", "--no-recurse-submodules", "origin",
            "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*")
        if git(work, "rev-parse", "refs/remotes/origin/main") != sha:
            # main moved since the push: actions/checkout fetches the run's commit into the ref
            git(work, "fetch", "-q", "--no-tags", "origin", f"+{sha}:refs/remotes/origin/main")
    git(work, "checkout", "-q", "--force", "-B", "main", "refs/remotes/origin/main")


def gitlab_checkout(origin: Path, sha: str, work: Path, depth: int) -> None:
    """What the GitLab runner does with GIT_STRATEGY fetch in a new project directory."""
    work.mkdir(parents=True)
    git(work, "init", "-q")
    git(work, "remote", "add", "origin", origin.as_uri())
    shallow = [f"--depth={depth}"] if depth > 0 else []
    git(work, "fetch", "-q", "--prune", "origin", "+refs/heads/main:refs/remotes/origin/main",
        *shallow)
    git(work, "checkout", "-f", "-q", sha)
    git(work, "clean", "-ffdx", "-q")


def jenkins_checkout(origin: Path, sha: str, work: Path, depth: int) -> None:
    """What the Jenkins git plugin does (default options) in a workspace kept from earlier
    builds (``depth`` is always 0: no shallow clone unless the job says so)."""
    assert depth == 0
    if not (work / ".git").is_dir():
        work.mkdir(parents=True, exist_ok=True)
        git(work, "init", "-q")
    git(work, "config", "remote.origin.url", origin.as_uri())
    git(work, "fetch", "-q", "--tags", "--force", "--", origin.as_uri(),
        "+refs/heads/*:refs/remotes/origin/*")
    git(work, "checkout", "-f", "-q", sha)


# -- recipes --------------------------------------------------------------------------------

@dataclass
class Step:
    """One command block, or an artifact moved as files."""

    run: str = ""
    env: dict[str, str] = field(default_factory=dict)
    always: bool = False
    upload: tuple[str, str] | None = None      # (artifact name, path)
    download: tuple[str, str] | None = None    # (artifact name, path)


@dataclass
class Job:
    """One job: its checkout, its steps, the jobs it needs."""

    name: str
    depth: int
    steps: list[Step]
    needs: list[str]
    shell: tuple[str, ...] = ("bash", "-e", "-c")


@dataclass
class Recipe:
    """A pipeline as its CI system runs it."""

    name: str
    env: dict[str, str]
    jobs: list[Job]
    checkout: Callable[[Path, str, Path, int], None]
    shared_workspace: bool = False


def github_recipe() -> Recipe:
    doc = yaml.safe_load((RECIPES / "github-workflow.yml").read_text())
    jobs = []
    for name, job in doc["jobs"].items():
        steps, depth = [], None
        for step in job["steps"]:
            uses = step.get("uses", "")
            with_ = step.get("with") or {}
            always = str(step.get("if", "")).strip() == "always()"
            if uses.startswith("actions/checkout@"):
                depth = int(with_.get("fetch-depth", 1))  # actions/checkout's default: 1
            elif uses.startswith("actions/upload-artifact@"):
                steps.append(Step(always=always, upload=(with_["name"], with_["path"])))
            elif uses.startswith("actions/download-artifact@"):
                steps.append(Step(always=always, download=(with_["name"], with_["path"])))
            elif "run" in step:
                steps.append(Step(run=step["run"], env=dict(step.get("env") or {}),
                                  always=always))
        assert depth is not None, f"job {name} checks nothing out"
        needs = job.get("needs", [])
        jobs.append(Job(name, depth, steps, [needs] if isinstance(needs, str) else needs))
    return Recipe("github", dict(doc["env"]), jobs, github_checkout)


def gitlab_recipe() -> Recipe:
    doc = yaml.safe_load((RECIPES / "gitlab-ci.yml").read_text())
    variables = dict(doc.get("variables") or {})
    jobs = []
    for stage in doc["stages"]:
        for name, job in doc.items():
            if not isinstance(job, dict) or job.get("stage") != stage:
                continue
            local = {**variables, **(job.get("variables") or {})}
            depth = int(local.get("GIT_DEPTH", GITLAB_DEFAULT_DEPTH))
            steps = [Step(download=(need, "")) for need in job.get("needs", [])]
            steps.append(Step(run="\n".join([*gitlab_before_script(doc, job),
                                             *job["script"]])))
            artifacts = job.get("artifacts") or {}
            for path in artifacts.get("paths", []):
                steps.append(Step(upload=(name, path),
                                  always=artifacts.get("when") in ("always", "on_failure")))
            jobs.append(Job(name, depth, steps, list(job.get("needs", []))))
    # The settings each job assigns in its before_script, as the shell reads them.
    settings = dict(shlex.split(line)[0].split("=", 1)
                    for line in gitlab_before_script(doc, doc["gate-pre"]))
    return Recipe("gitlab", {**variables, **settings}, jobs, gitlab_checkout)


def gitlab_before_script(doc: dict[str, Any], job: dict[str, Any]) -> list[str]:
    """A GitLab job's ``before_script``, its own or the one it ``extends`` (GitLab runs it in
    the same shell as the script)."""
    if "before_script" in job:
        return list(job["before_script"])
    parent = doc.get(job.get("extends") or "") or {}
    return gitlab_before_script(doc, parent) if parent else []


def jenkins_recipe() -> Recipe:
    text = (RECIPES / "Jenkinsfile").read_text()
    env = dict(re.findall(r"^\s+([A-Z_]+) = '([^']*)'", text, re.M))
    jobs, previous = [], []
    for match in re.finditer(r"stage\('([^']*)'\)", text):
        body = text[match.end():]
        nxt = re.search(r"stage\('", body)
        body = body[:nxt.start()] if nxt else body
        steps = []
        for sh in re.finditer(r"sh '''(.*?)'''|sh '([^']*)'", body, re.S):
            credentials = _in_credentials(body, sh.start())
            steps.append(Step(run=sh.group(1) or sh.group(2),
                              env={"DEPLOYGATE_SIGNING_KEY": "@keyfile"} if credentials else {}))
        jobs.append(Job(match.group(1), 0, steps, previous, shell=("sh", "-e", "-c")))
        previous = [match.group(1)]
    return Recipe("jenkins", env, jobs, jenkins_checkout, shared_workspace=True)


def _in_credentials(body: str, at: int) -> bool:
    """Whether position ``at`` lies inside a ``withCredentials(...) { }`` block."""
    for block in re.finditer(r"withCredentials\(", body[:at]):
        opened = body.index("{", block.end())
        depth = 0
        for index in range(opened, len(body)):
            depth += {"{": 1, "}": -1}.get(body[index], 0)
            if depth == 0:
                break
        if opened < at < index:
            return True
    return False


RECIPE_LOADERS = {"github": github_recipe, "gitlab": gitlab_recipe, "jenkins": jenkins_recipe}


# -- running --------------------------------------------------------------------------------

@dataclass
class Outcome:
    """How far a pipeline got."""

    finished: list[str]           # jobs that succeeded, in order
    failed: str | None            # the job that failed (the pipeline stops there)
    exit_code: int
    log: list[str]                # deploy.sh / rollback.sh calls
    output: str                   # every job's stdout and stderr

    @property
    def deployed(self) -> bool:
        return any(line.startswith("deploy.sh production") for line in self.log)


@dataclass
class CI:
    """One CI system with its secret store, runner and artifact store."""

    recipe: Recipe
    origin: Path
    base: Path
    key: Path
    #: Untracked files an earlier CI step wrote (the reports): copied into every checkout.
    ci_output: Path
    artifacts: dict[str, Path] = field(default_factory=dict)
    #: Variables the job's own user sets for every job (the project's CI settings).
    job_env: dict[str, str] = field(default_factory=dict)
    runs: int = 0
    pipelines: int = 0

    def checkout(self, job: Job, sha: str) -> Path:
        if self.recipe.shared_workspace:
            work = self.base / "workspace"
        else:
            self.runs += 1
            work = self.base / f"{self.runs:02d}-{job.name}"
        self.recipe.checkout(self.origin, sha, work, job.depth)
        if self.recipe.shared_workspace or any("$GATE_PYTEST" in s.run for s in job.steps):
            # What the team's build and test steps write before a gate job (a deploy job
            # has none: the verdict reads only the record and the repository).
            target = work / self.ci_output.name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(self.ci_output, target)  # (copy2: the reports keep their times)
        for script in ("deploy.sh", "rollback.sh"):
            (work / script).write_text(STUB)
            (work / script).chmod(0o755)
        return work

    def run_job(self, job: Job, sha: str, log: Path, work: Path | None = None
                ) -> tuple[int, str, Path]:
        """Check out (unless a shared workspace is given) and run the job's steps."""
        if work is None:
            work = self.checkout(job, sha)
        # A fresh runner per job, except a Jenkins agent: what a stage installed stays.
        job_bin = self.base / ("bin-agent" if self.recipe.shared_workspace
                               else f"bin-{self.runs:02d}-{job.name}")
        job_bin.mkdir(parents=True, exist_ok=True)
        # The runner's python (with the package under test importable: the image's), and no
        # deploygate command until the job installs it.
        (job_bin / "python").write_text(PYTHON)
        (job_bin / "python").chmod(0o755)
        temp = self.base / f"temp-{job.name}"
        temp.mkdir(exist_ok=True)
        environment = {name: value for name, value in os.environ.items()
                       if not name.startswith(("GIT_", "PYTEST_", "DEPLOYGATE_"))
                       and name not in ("PYTHONPATH", "CI")}
        environment.update(self.recipe.env)
        environment.update({"GATE_WATCH": "0s", "RUNNER_TEMP": str(temp),
                            "JOB_BIN": str(job_bin), "PIPELINE_LOG": str(log),
                            "WORKSPACE_TMP": str(self.base / "workspace@tmp"),
                            "PATH": f"{job_bin}{os.pathsep}/usr/bin{os.pathsep}/bin"})
        environment.update(self.job_env)
        if self.recipe.name == "gitlab":
            environment["DEPLOYGATE_SIGNING_KEY"] = str(self.key)  # a "File" variable
        output, failed = [], 0
        for step in job.steps:
            if failed and not step.always:
                continue
            if step.upload:
                name, path = step.upload
                if (work / path).exists():
                    store = self.base / "artifacts" / name
                    store.mkdir(parents=True, exist_ok=True)
                    shutil.copytree(work / path, store / path.rstrip("/") if
                                    self.recipe.name == "gitlab" else store, dirs_exist_ok=True)
                    self.artifacts[name] = store
                continue
            if step.download:
                name, path = step.download
                if name in self.artifacts:
                    shutil.copytree(self.artifacts[name], work / path, dirs_exist_ok=True)
                elif self.recipe.name == "github":
                    failed = 1  # download-artifact fails on an artifact that is not there
                continue
            env = dict(environment)
            for name, value in step.env.items():
                if "secrets.DEPLOYGATE_SIGNING_KEY" in value:
                    value = self.key.read_text()
                elif value == "@keyfile":
                    value = str(self.key)
                env[name] = value
            script = stand_in(step.run, job_bin, temp)
            # (no stdin, as on a CI runner)
            done = subprocess.run([*job.shell, script], cwd=work, env=env,
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  timeout=600, check=False)
            output.append(f"$ {job.name}: {step.run.strip()}\n{done.stdout}{done.stderr}")
            failed = failed or done.returncode
        return failed, "\n".join(output), work


def run_pipeline(ci: CI, sha: str,
                 after: Callable[[str, Path], str | None] | None = None) -> Outcome:
    """Run the recipe's jobs in order on commit ``sha``; a job whose needs failed does not
    run. ``after(job, workdir)`` runs after each successful job (to tamper between jobs); a
    commit it returns is what the later jobs check out."""
    ci.pipelines += 1
    log = ci.base / f"pipeline-{ci.pipelines:02d}.log"
    log.write_text("")
    finished: list[str] = []
    outputs = []
    shared = ci.checkout(ci.recipe.jobs[0], sha) if ci.recipe.shared_workspace else None
    for job in ci.recipe.jobs:
        if any(need not in finished for need in job.needs):
            break
        code, output, work = ci.run_job(job, sha, log, shared)
        outputs.append(output)
        if code:
            return Outcome(finished, job.name, code, log.read_text().splitlines(),
                           "\n".join(outputs))
        finished.append(job.name)
        moved = after(job.name, work) if after is not None else None
        if moved is not None:
            sha = moved
            if shared is not None:
                ci.recipe.checkout(ci.origin, sha, shared, job.depth)
    return Outcome(finished, None, 0, log.read_text().splitlines(), "\n".join(outputs))
