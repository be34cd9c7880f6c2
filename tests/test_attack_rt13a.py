"""rt13a: attacks on release identity and what decides the gate (session 13's changes).

Real release repositories (examples/release_repo.py: several authors, a merged feature branch,
a tag, sign-offs committed by their signers), then what an attacker who commits under any name
or writes files in the checkout does, judged by the real command lines: ``pytest --gate=12``
and ``deploygate verdict``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_attack_rt12a import (
    CHEN,
    WEAKENED,
    _project_checklist,
    build,
    decision,
    gate,
    git,
    verdict,
)


def _weak_spec(root: Path, folder: Path) -> Path:
    """The one-criterion checklist imported as a spec into ``folder`` (what ``deploygate
    import`` writes): a gate the release passes."""
    checklist = root.parent / "weak" / "12-production-gate.md"
    checklist.parent.mkdir()
    checklist.write_text(WEAKENED)
    done = subprocess.run([sys.executable, "-P", "-m", "pytest_deploygate", "import", "-o",
                           str(folder), "--layout", "13-phase", str(checklist)], cwd=root,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return folder / "12-production.yaml"


# -- a spec the gate reads that no commit holds -------------------------------------------------

@pytest.mark.parametrize("how", ["untracked", "edited", "ini folder", "project root"])
def test_a_spec_file_not_as_committed_binds_no_record(tmp_path: Path, how: str) -> None:
    """An untracked ``gate_specs/12-production.yaml`` (one criterion) takes the gate's place
    for the gate and for verdict alike, and git diff never shows an untracked file: the
    release that fails its committed checklist passed, and verdict exited 0."""
    root = build(tmp_path, _project_checklist)
    assert gate(root).returncode == 1  # the project's own checklist: this release fails it
    folder = root / {"ini folder": "release-checks", "project root": "."}.get(how, "gate_specs")
    if how == "project root":
        (root / "pytest.ini").write_text("[pytest]\ndeploygate_specs = .\n")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "our own gate specs at the top")
    if how == "ini folder":
        (root / "pytest.ini").write_text("[pytest]\ndeploygate_specs = release-checks\n")
        folder.mkdir()
        (folder / "README.md").write_text("our gate specs\n")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "a folder for our own gate specs")
    elif how == "edited":
        spec = _weak_spec(root, folder)
        spec.write_text(spec.read_text().replace("Security sign-off", "Security sign-off!"))
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "our own gate spec")
    spec = _weak_spec(root, folder) if how != "edited" else folder / "12-production.yaml"
    if how == "edited":
        spec.write_text(spec.read_text().replace("Security sign-off!", "Security sign-off"))
    gate(root)
    assert 'deploygate.dirty" value="true"' in (root / "gate-records" / "GATE-12.xml"
                                                ).read_text()
    done = verdict(root)
    assert done.returncode == 4, done.stdout + done.stderr
    assert f"{folder.name}/12-production.yaml" in done.stderr or (
        how == "project root" and "(12-production.yaml)" in done.stderr)
    assert "Traceback" not in done.stderr
    if how == "untracked":  # committed, it is a new release like any change of the gate
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "our own gate spec")
        gate(root)
        assert decision(root) != "PASS"


# -- a spec folder of the repository, outside the project ---------------------------------------

def _in_a_folder_of_its_repository(root: Path) -> Path:
    """The release repository rewritten so the project is its folder ``svc/`` (authors,
    committers, times and the tag kept, as in a repository of several projects)."""
    move = ('git ls-files -s | sed "s-\t\\"*-&svc/-" | GIT_INDEX_FILE=$GIT_INDEX_FILE.new '
            'git update-index --index-info && mv "$GIT_INDEX_FILE.new" "$GIT_INDEX_FILE"')
    subprocess.run(["git", "filter-branch", "-f", "--tag-name-filter", "cat", "--index-filter",
                    move, "--", "--all"], cwd=root, capture_output=True, check=True,
                   env={**os.environ, "FILTER_BRANCH_SQUELCH_WARNING": "1"})
    git(root, "reset", "-q", "--hard")
    git(root, "clean", "-qfdx", "-e", "reports")
    svc = root / "svc"
    shutil.move(root / "reports", svc / "reports")
    return svc


def test_a_spec_folder_outside_the_project_is_refused(tmp_path: Path) -> None:
    """A project in a folder of its repository whose committed ini reads the specs from
    ``../gate_specs``: a commit there is no release of the project, so a criterion removed
    kept the release and its sign-offs, and the weaker gate said PASS, which verdict (reading
    the same folder) confirmed with exit 0."""
    root = build(tmp_path, _project_checklist)
    svc = _in_a_folder_of_its_repository(root)
    spec = _weak_spec(root, root / "gate_specs")
    pyproject = svc / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(
        "[tool.pytest.ini_options]\n",
        "[tool.pytest.ini_options]\ndeploygate_specs = \"../gate_specs\"\n"))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the specs every project of the repository shares")
    done = gate(svc)
    assert done.returncode == 4, done.stdout
    assert "is outside the project" in done.stderr and "gate_specs" in done.stderr
    assert "Traceback" not in done.stderr
    refused = verdict(svc)
    assert refused.returncode != 0
    assert "is outside the project" in refused.stderr
    assert spec.is_file()


# -- the sign-off log's earlier file, past the bound on deploygate.yaml's versions ---------------

def _commit_as_signers(root: Path, log: Path, lines: list[str]) -> None:
    # (The attacker commits under any name: each line as its signer's own commit.)
    for line in lines:
        with log.open("a") as handle:
            handle.write(line + "\n")
        signer = json.loads(line)["signer"]
        git(root, "add", "-A", who=signer)
        git(root, "commit", "-q", "-m", "sign-off", who=signer)


def _config_commits(root: Path, count: int) -> None:
    """``count`` commits each changing a comment of deploygate.yaml (one git fast-import)."""
    config = (root / "deploygate.yaml").read_text()
    stream = []
    for index in range(count):
        data = f"{config}# tidy {index}\n".encode()
        stream.append(b"commit refs/heads/main\ncommitter Eve <eve@evil.example> %d +0000\n"
                      b"data 4\ntidy\n%sM 100644 inline deploygate.yaml\ndata %d\n%s\n"
                      % (1770000000 + index, b"from refs/heads/main^0\n" if index == 0 else b"",
                         len(data), data))
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=b"".join(stream),
                   check=True, capture_output=True)
    git(root, "reset", "-q", "--hard")


def test_a_report_in_a_log_file_named_past_the_bound_still_counts(tmp_path: Path) -> None:
    """The report is in ``.deploygate/a.jsonl`` (the configured log), the log is moved to a
    new file and 2,000 commits touch deploygate.yaml: the version that named a.jsonl was past
    the 2,000 read, so the report removed from a.jsonl vanished and the gate said PASS."""
    from test_gate_definition_rt13 import _unbind

    root = build(tmp_path, lambda source: None)
    _unbind(root)
    config, folder = root / "deploygate.yaml", root / ".deploygate"
    signed = (folder / "attestations.jsonl").read_text().splitlines()
    shutil.copy(folder / "attestations.jsonl", folder / "a.jsonl")
    config.write_text(config.read_text().replace(
        "attestations:\n", "attestations:\n  log: .deploygate/a.jsonl\n", 1))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the sign-off log's own file")
    report = json.dumps({"gate": 12, "criterion": "health-checks-failing", "signer": CHEN,
                         "role": "sre", "at": "2026-02-03T15:20:00Z", "present": True,
                         "note": "health checks failing since the deploy"})
    _commit_as_signers(root, folder / "a.jsonl", [report])
    assert gate(root).returncode == 1 and decision(root) == "ROLLBACK"
    (folder / "b.jsonl").write_text("")
    _commit_as_signers(root, folder / "b.jsonl", signed)
    (folder / "a.jsonl").write_text("".join(line + "\n" for line in signed))
    config.write_text(config.read_text().replace("a.jsonl", "b.jsonl"))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the sign-off log's new file")
    assert decision(root) == "ROLLBACK"
    _config_commits(root, 2000)
    git(root, "tag", "-f", "-a", "v1.4.0", "-m", "acme-api 1.4.0")
    done = gate(root)
    assert decision(root) != "PASS", done.stdout
    assert "more than 2000 committed versions" in done.stdout
    assert verdict(root).returncode != 0


# -- the framework's folder as a link: one release tree, however it is computed ----------------

def _tree(record: Path) -> str:
    found = re.search(r'name="deploygate\.tree" value="([^"]*)"', record.read_text())
    assert found is not None
    return found.group(1)


def test_a_link_in_the_framework_folders_place_is_release_content(tmp_path: Path) -> None:
    """``.isdlc`` committed as a link to a folder of release content: git log's pathspecs and
    the index builder counted the link as release content, the fast tree builder (records at
    the top level) left it out, so repointing it at another folder (another set of checklists)
    kept the tree, and the tree depended on the record folder's depth."""
    root = build(tmp_path, _project_checklist)
    git(root, "mv", ".isdlc", "framework")
    (root / ".isdlc").symlink_to("framework")
    shutil.copytree(root / "framework", root / "framework-next", symlinks=True)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the framework's folder, linked")
    gate(root)
    gate(root, "--gate-record-dir=out/records")
    first = _tree(root / "gate-records" / "GATE-12.xml")
    assert _tree(root / "out" / "records" / "GATE-12.xml") == first
    (root / ".isdlc").unlink()
    (root / ".isdlc").symlink_to("framework-next")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the framework's next folder")
    gate(root)
    assert _tree(root / "gate-records" / "GATE-12.xml") != first
