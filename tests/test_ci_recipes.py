"""The CI recipes in docs/ci, tried for real: their shell steps run in order against a copy of
the example project (deploy and rollback are stub scripts), on real gate records."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
import yaml

from conftest import REPO, GateProject

RECIPES = REPO / "docs" / "ci"
STUB = "#!/bin/sh\necho \"$0 $*\" >> pipeline.log\n"


def gitlab_jobs() -> tuple[dict[str, str], list[list[str]]]:
    doc = yaml.safe_load((RECIPES / "gitlab-ci.yml").read_text())
    jobs = [doc[name]["script"] for name in ("gate-pre", "deploy-production", "gate-post")]
    return doc["variables"], jobs


def github_jobs() -> tuple[dict[str, str], list[list[str]]]:
    doc = yaml.safe_load((RECIPES / "github-workflow.yml").read_text())
    jobs = [[step["run"] for step in doc["jobs"][name]["steps"] if "run" in step]
            for name in ("gate-pre", "deploy", "gate-post")]
    return doc["env"], jobs


def jenkins_jobs() -> tuple[dict[str, str], list[list[str]]]:
    text = (RECIPES / "Jenkinsfile").read_text()
    env = dict(re.findall(r"^\s+(GATE\w*) = '([^']*)'", text, re.M))
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
    environment = {**os.environ, **env, "GATE_WATCH": "0s"}
    for steps in jobs:
        lines = [s for s in steps if not s.startswith("python -m pip install")]
        done = subprocess.run(["bash", "-e", "-c", "\n".join(lines)], cwd=project.root,
                              env=environment, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            return done.returncode  # later jobs need this one: the pipeline stops here
    return 0


def pipeline_log(project: GateProject) -> str:
    log = project.root / "pipeline.log"
    return log.read_text() if log.exists() else ""


RECIPE_LOADERS = [gitlab_jobs, github_jobs, jenkins_jobs]


@pytest.fixture
def repo(example: GateProject) -> GateProject:
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


def test_recipes_publish_the_records_the_plugin_writes() -> None:
    gitlab = yaml.safe_load((RECIPES / "gitlab-ci.yml").read_text())
    assert gitlab["gate-pre"]["artifacts"]["reports"]["junit"] == "gate-records/GATE-$GATE-pre.xml"
    assert gitlab["gate-post"]["artifacts"]["reports"]["junit"] == (
        "gate-records/GATE-$GATE-post.xml")
    jenkins = (RECIPES / "Jenkinsfile").read_text()
    assert "junit testResults: 'gate-records/GATE-*-post.xml', keepProperties: true" in jenkins
    assert 'reportFiles: "GATE-${env.GATE}-post.html"' in jenkins  # the HTML record
    for job in ("gate-pre", "gate-post"):
        assert gitlab[job]["artifacts"]["paths"] == ["gate-records/"]  # .md and .html too
    for recipe in RECIPES.iterdir():
        text = recipe.read_text()
        assert "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1" in text and "--noconftest" in text
