"""Red team rt12a: release identity and sign-offs.

Each test builds the bundled example as a real multi-author release repository
(examples/release_repo.py) with something added to the release content before the sign-offs
are given, then does what an attacker with the work tree or a bookkeeping commit can do
afterwards, and runs the real command lines: ``pytest --gate=12`` and ``deploygate verdict``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from conftest import INNER_ARGS, release_repo_script

REPO = Path(__file__).resolve().parent.parent
EVE = "eve@evil.example"


def _release_repo() -> ModuleType:
    return release_repo_script("release_repo_rt12a")


def build(tmp_path: Path, prepare: Callable[[Path], None], *, deployed: bool = True) -> Path:
    """The release repository, with ``prepare`` applied to the example before its first
    commit (links kept as links)."""
    module = _release_repo()
    source = tmp_path / "example"
    shutil.copytree(module.EXAMPLE, source, symlinks=True,
                    ignore=shutil.ignore_patterns("gate-records", "__pycache__"))
    prepare(source)
    module.EXAMPLE = source
    copytree = shutil.copytree

    def keep_links(src: Any, dst: Any, **kwargs: Any) -> Any:
        return copytree(src, dst, symlinks=True, **kwargs)

    module.shutil = type("LinkKeepingShutil", (), {
        "copytree": staticmethod(keep_links), "copyfile": staticmethod(shutil.copyfile),
        "ignore_patterns": staticmethod(shutil.ignore_patterns)})
    target: Path = module.materialise(tmp_path / "acme-api", deployed=deployed)
    return target


def ci_reports(root: Path) -> None:
    """The CI's reports written again, after the last commit in the work tree: a commit moves
    HEAD, and the freshness floor is no earlier than HEAD's last move (rt16b A02)."""
    module = _release_repo()
    module.EXAMPLE = root.parent / "example"  # (the copy ``build`` made and prepared)
    module._write_reports(root)


def git(root: Path, *args: str, who: str = EVE) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Eve", "GIT_AUTHOR_EMAIL": who,
           "GIT_COMMITTER_NAME": "Eve", "GIT_COMMITTER_EMAIL": who}
    done = subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null",
                           *args], cwd=root, env=env, capture_output=True, text=True,
                          check=True)
    return done.stdout


def gate(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", *INNER_ARGS, "--gate=12", *args],
                          cwd=root, capture_output=True, text=True, check=False)


def verdict(root: Path, record: str = "gate-records/GATE-12.xml"
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_deploygate", "verdict", record],
                          cwd=root, capture_output=True, text=True, check=False)


def decision(root: Path, name: str = "GATE-12") -> str:
    text = (root / "gate-records" / f"{name}.xml").read_text()
    return text.split('name="deploygate.decision" value="', 1)[1].split('"', 1)[0]


# -- a release-content link to a file that is not release content --------------------------------

def _link_into_bookkeeping(source: Path) -> None:
    (source / "src").mkdir()
    (source / ".isdlc" / "settings.py").write_text("DEBUG = False\n")
    os.symlink("../.isdlc/settings.py", source / "src" / "settings.py")


def _link_out_of_the_project(source: Path) -> None:
    # The project's file names a file beside the checkout (another project of a monorepo, a
    # CI workspace): nothing the release identity holds.
    (source / "src").mkdir()
    os.symlink("../../shared/settings.py", source / "src" / "settings.py")


def _link_to_ci_output(source: Path) -> None:
    # reports/ is CI output, untracked (.gitignore): whoever writes reports writes the code.
    (source / "src").mkdir()
    os.symlink("../reports/settings.py", source / "src" / "settings.py")


def _link_to_the_root(source: Path) -> None:
    # A folder link that reaches bookkeeping through itself: src/cfg/.isdlc/settings.py.
    (source / "src").mkdir()
    os.symlink("..", source / "src" / "cfg")


@pytest.mark.parametrize("prepare", [_link_into_bookkeeping, _link_out_of_the_project,
                                     _link_to_ci_output, _link_to_the_root])
def test_a_link_out_of_the_release_content_gives_no_release(tmp_path: Path, prepare: Callable[
        [Path], None]) -> None:
    root = build(tmp_path, prepare)
    # The attacker's later change: a bookkeeping commit (or an untracked file) that the link
    # makes the deployed code. Before the fix the gate said PASS and verdict exited 0.
    (root / ".isdlc" / "settings.py").write_text("DEBUG = True\nBACKDOOR = True\n")
    git(root, "add", "-A", ".isdlc")
    git(root, "commit", "-q", "-m", "framework state")
    done = gate(root)
    assert done.returncode != 0, done.stdout
    assert decision(root) != "PASS"
    assert "is a symbolic link to" in done.stdout
    assert "commit the file itself in place of the link" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert verdict(root).returncode == 4


def _links_inside_the_release(source: Path) -> None:
    (source / "src" / "conf").mkdir(parents=True)
    (source / "src" / "conf" / "base.py").write_text("DEBUG = False\n")
    os.symlink("conf/base.py", source / "src" / "settings.py")
    os.symlink("conf", source / "src" / "config")
    os.symlink("../src/config/base.py", source / "docs" / "settings.py")


def test_links_within_the_release_content_still_pass(tmp_path: Path) -> None:
    root = build(tmp_path, _links_inside_the_release)
    done = gate(root)
    assert done.returncode == 0, done.stdout
    assert decision(root) == "PASS"
    assert verdict(root).returncode == 0


# -- a work tree that differs from the release where git diff does not look --------------------

def _submodule_ignored(source: Path) -> None:
    library = source / "vendor" / "lib"
    library.mkdir(parents=True)
    (library / "core.py").write_text("SAFE = True\n")
    git(library, "init", "-q")
    git(library, "add", ".")
    git(library, "commit", "-q", "-m", "library")
    (source / ".gitmodules").write_text('[submodule "vendor/lib"]\n\tpath = vendor/lib\n'
                                        "\turl = ./vendor/lib\n\tignore = all\n")


@pytest.mark.parametrize("commit_inside", [True, False])
def test_a_submodule_changed_behind_ignore_all_is_uncommitted(tmp_path: Path,
                                                             commit_inside: bool) -> None:
    root = build(tmp_path, _submodule_ignored)
    library = root / "vendor" / "lib"
    (library / "core.py").write_text("SAFE = False\n")
    if commit_inside:  # the submodule checked out at another commit
        git(library, "commit", "-q", "-a", "-m", "unreviewed")
    gate(root)
    assert "deploygate.dirty\" value=\"true\"" in (root / "gate-records" / "GATE-12.xml"
                                                   ).read_text()
    done = verdict(root)
    assert done.returncode == 4
    assert "uncommitted changes to release content (vendor/lib)" in done.stderr


def _ident_attribute(source: Path) -> None:
    (source / "app.py").write_text('VERSION = "$Id$"\n')
    (source / ".gitattributes").write_text("*.py ident\n")


def _text_attribute(source: Path) -> None:
    (source / "app.py").write_text("DEBUG = False\n")


@pytest.mark.parametrize(("prepare", "edit"), [
    # ident collapses "$Id: anything $" to "$Id$" before comparing: code hides in the dollars.
    (_ident_attribute, b'VERSION = "$Id: "; __import__("os").system("id") #$"\n'),
    # An untracked .gitattributes left in the work tree is read too: text drops the CRs.
    (_text_attribute, b"DEBUG = False\r\n"),
])
def test_a_change_hidden_by_an_attribute_conversion_is_uncommitted(
        tmp_path: Path, prepare: Callable[[Path], None], edit: bytes) -> None:
    root = build(tmp_path, prepare)
    if prepare is _text_attribute:
        (root / ".gitattributes").write_text("*.py text\n")
    (root / "app.py").write_bytes(edit)
    gate(root)
    assert "deploygate.dirty\" value=\"true\"" in (root / "gate-records" / "GATE-12.xml"
                                                   ).read_text()
    done = verdict(root)
    assert done.returncode == 4
    assert "uncommitted changes to release content (app.py" in done.stderr


def test_an_ident_file_as_checked_out_is_clean(tmp_path: Path) -> None:
    root = build(tmp_path, _ident_attribute)
    (root / "app.py").unlink()
    git(root, "checkout", "--", "app.py")  # git writes "$Id: <blob> $"
    assert b"$Id: " in (root / "app.py").read_bytes()
    assert gate(root).returncode == 0
    assert verdict(root).returncode == 0


# -- reviewed bookkeeping edited in the work tree --------------------------------------------------

CHEN = "chen.wei@acme.example"


def _no_security_sign_off(source: Path) -> None:
    log = source / ".deploygate" / "attestations.jsonl"
    log.write_text("".join(line + "\n" for line in log.read_text().splitlines()
                           if line.strip() and '"security-sign-off"' not in line))


def _sign_as_security_officer(root: Path) -> None:
    """Chen (an sre) signs the security sign-off, committed as himself."""
    line = json.dumps({"gate": 12, "criterion": "security-sign-off", "signer": CHEN,
                       "role": "security-officer", "at": "2026-02-03T10:00:00Z"}) + "\n"
    with (root / ".deploygate" / "attestations.jsonl").open("a") as handle:
        handle.write(line)
    git(root, "add", ".deploygate/attestations.jsonl", who=CHEN)
    git(root, "commit", "-q", "-m", "sign-off: security", who=CHEN)


@pytest.mark.parametrize("how", ["edited", "replaced by a link"])
def test_an_approvers_file_not_as_committed_grants_no_role(tmp_path: Path, how: str) -> None:
    root = build(tmp_path, _no_security_sign_off)
    approvers = root / ".deploygate" / "approvers.yaml"
    granted = approvers.read_text().replace("roles: [sre]", "roles: [sre, security-officer]")
    if how == "edited":  # never committed, so never reviewed
        approvers.write_text(granted)
    else:  # a link to a file of the attacker's (untracked CI output)
        (root / "reports" / "approvers.yaml").write_text(granted)
        approvers.unlink()
        approvers.symlink_to("../reports/approvers.yaml")
    _sign_as_security_officer(root)
    ci_reports(root)
    done = gate(root)
    assert done.returncode == 1, done.stdout
    assert decision(root) == "FAIL"
    assert ("approvers file .deploygate/approvers.yaml is not as committed" in done.stdout)
    assert "Traceback" not in done.stdout + done.stderr
    assert verdict(root).returncode != 0


def test_an_approvers_file_as_committed_still_counts(tmp_path: Path) -> None:
    root = build(tmp_path, _no_security_sign_off)
    approvers = root / ".deploygate" / "approvers.yaml"
    approvers.write_text(approvers.read_text().replace("roles: [sre]",
                                                       "roles: [sre, security-officer]"))
    git(root, "add", ".deploygate/approvers.yaml", who="maria.lopez@acme.example")
    git(root, "commit", "-q", "-m", "chen covers security", who="maria.lopez@acme.example")
    _sign_as_security_officer(root)
    ci_reports(root)
    done = gate(root)
    assert done.returncode == 0, done.stdout
    assert verdict(root).returncode == 0


SHARED_CHECKLISTS = REPO.parent / "shared" / "isdlc" / "checklists"


def _project_checklist(source: Path) -> None:
    need_checklists()
    (source / ".isdlc" / "checklists").mkdir()
    shutil.copy(SHARED_CHECKLISTS / "12-production-gate.md", source / ".isdlc" / "checklists")
    config = source / "deploygate.yaml"
    config.write_text(config.read_text().replace("{threshold: p99_ms}", "800")
                      .replace("{threshold: error_rate}", "0.01"))


def need_checklists() -> None:
    from conftest import need

    need((SHARED_CHECKLISTS / "12-production-gate.md").is_file(),
         "the framework's checklists (../shared/isdlc/checklists)")


WEAKENED = "# Gate 12: Production Gate\n\n## Approvals\n\n- [ ] Security sign-off\n"


@pytest.mark.parametrize("how", ["edited", "added", "link"])
def test_a_project_checklist_not_as_committed_binds_no_record(tmp_path: Path, how: str) -> None:
    root = build(tmp_path, _project_checklist)
    checklist = root / ".isdlc" / "checklists" / "12-production-gate.md"
    assert gate(root).returncode == 1  # the project's own checklist: this release fails it
    if how == "edited":  # a gate spec nobody reviewed: only a criterion that passes
        checklist.write_text(WEAKENED)
    elif how == "added":  # a new, untracked checklist taking the gate's place
        git(root, "rm", "-q", "--cached", str(checklist.relative_to(root)))
        git(root, "commit", "-q", "-m", "framework state")
        checklist.write_text(WEAKENED)
    else:
        (root / "reports" / "gate.md").write_text(WEAKENED)
        checklist.unlink()
        checklist.symlink_to("../../reports/gate.md")
    gate(root)
    # (A dirty release's own run says so in its record. Taking the checklist out of git is a
    # commit of release content, a new release: its sign-offs are gone, so it fails anyway.)
    assert decision(root) == ("FAIL" if how == "added" else "PASS")
    assert 'deploygate.dirty" value="true"' in (root / "gate-records" / "GATE-12.xml"
                                                ).read_text()
    done = verdict(root)
    assert done.returncode == 4
    assert ".isdlc/checklists/12-production-gate.md" in done.stderr
    assert "the project's checklists" in done.stderr  # (not called release content alone)


# -- a rollback report withdrawn by deleting its line --------------------------------------------

@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("deployed"), lambda source: None)


def _report_health_checks_failing(root: Path) -> None:
    line = json.dumps({"gate": 12, "criterion": "health-checks-failing", "signer": CHEN,
                       "role": "sre", "at": "2026-02-03T15:20:00Z", "present": True,
                       "note": "health checks failing since the deploy"})
    with (root / ".deploygate" / "attestations.jsonl").open("a") as handle:
        handle.write(line + "\n")
    git(root, "add", ".deploygate/attestations.jsonl", who=CHEN)
    git(root, "commit", "-q", "-m", "trigger: health checks failing", who=CHEN)


@pytest.mark.parametrize("how", ["committed", "work tree", "reverted", "rewritten"])
def test_a_removed_rollback_report_still_rolls_back(tmp_path: Path, deployed: Path,
                                                   how: str) -> None:
    root = tmp_path / "acme-api"
    shutil.copytree(deployed, root, symlinks=True)
    _report_health_checks_failing(root)
    assert gate(root).returncode == 1
    assert decision(root) == "ROLLBACK"
    log = root / ".deploygate" / "attestations.jsonl"
    if how == "reverted":
        git(root, "revert", "--no-edit", "HEAD")
    elif how == "rewritten":  # the same report, one space more: now the rewriter's line
        lines = log.read_text().splitlines()
        log.write_text("".join(line + "\n" for line in lines[:-1]) + lines[-1].replace(
            '"present": true', '"present":  true') + "\n")
        git(root, "commit", "-q", "-a", "-m", "tidy the sign-off log")
    else:
        log.write_text("".join(line + "\n" for line in log.read_text().splitlines()[:-1]))
        if how == "committed":
            git(root, "commit", "-q", "-a", "-m", "tidy the sign-off log")
    done = gate(root)
    assert done.returncode == 1, done.stdout
    assert decision(root) == "ROLLBACK"
    assert "a report is never withdrawn by deleting it" in done.stdout
    assert verdict(root).returncode == 2
