"""rt16a A06: a program named by the job's own git configuration (``.git/config``, a file it
includes, a submodule's configuration), left behind by an earlier run on a kept workspace,
ran from the gate's own git (``git describe --dirty``, ``git diff``) as the job user while the
signing key was in the gate's environment, and stole the key. No such program may run from
any git command of ``pytest --gate``, ``deploygate verdict`` or ``deploygate show``; an
honest release stays a PASS, and a file such a filter hides stays uncommitted.

Real release repositories (examples/release_repo.py), the gate via pytest, the CLI.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from test_attack_rt12a import build, decision, gate, git, verdict

#: Writes its name to the marker file, then passes its input through (a clean or smudge
#: filter, an external diff or textconv that still "works").
PROGRAM = """#!/bin/sh
echo "$0 $*" >> {marker}
exec cat
"""


def _program(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "ran"
    program = tmp_path / "evil.sh"
    program.write_text(PROGRAM.format(marker=marker))
    program.chmod(0o755)
    return program, marker


def _attribute(root: Path, line: str) -> None:
    with (root / ".git" / "info" / "attributes").open("a") as handle:
        handle.write(line + "\n")


def _clean_filter(root: Path, program: Path) -> None:
    git(root, "config", "filter.pass.clean", f"{program} clean %f")
    _attribute(root, "pyproject.toml filter=pass")


def _smudge_and_process(root: Path, program: Path) -> None:
    git(root, "config", "filter.pass.smudge", f"{program} smudge %f")
    git(root, "config", "filter.long.process", f"{program} process")
    _attribute(root, ".isdlc/** filter=pass")
    _attribute(root, "CHANGELOG.md filter=long")
    # Committed evidence the run writes anew (other bytes): the gate asks what checking the
    # committed file out writes, which is where a smudge filter would run.
    artifact = root / ".isdlc" / "phases" / "12-production" / "artifacts"
    evidence = artifact / "post-deployment-verification.md"
    evidence.write_bytes(evidence.read_bytes() + b"\n")


def _odd_driver_name(root: Path, program: Path) -> None:
    git(root, "config", "filter.a=b.c.clean", f"{program} clean %f")
    git(root, "config", "filter.a=b.c.required", "true")
    _attribute(root, "pyproject.toml filter=a=b.c")


def _included(root: Path, program: Path) -> None:
    included = program.parent / "included.conf"
    included.write_text(f'[filter "inc"]\n\tclean = {program} clean %f\n')
    git(root, "config", "include.path", str(included))
    _attribute(root, "pyproject.toml filter=inc")


def _fsmonitor(root: Path, program: Path) -> None:
    git(root, "config", "core.fsmonitor", str(program))


def _external_diff(root: Path, program: Path) -> None:
    git(root, "config", "diff.external", f"{program} external")
    git(root, "config", "diff.evil.command", f"{program} command")
    git(root, "config", "diff.evil.textconv", f"{program} textconv")
    _attribute(root, "* diff=evil")


MECHANISMS: dict[str, Callable[[Path, Path], None]] = {
    "clean filter": _clean_filter, "smudge and process filters": _smudge_and_process,
    "a driver named a=b.c": _odd_driver_name, "a filter from include.path": _included,
    "fsmonitor": _fsmonitor, "external diff and textconv": _external_diff}


def _rehash(root: Path) -> None:
    """Rewrite files with the same bytes: git must hash them again (through any filter).
    Then the run's reports, which an honest run writes after its checkout."""
    for name in ("pyproject.toml", "CHANGELOG.md", ".deploygate/approvers.yaml"):
        path = root / name
        if path.exists():
            path.write_bytes(path.read_bytes())
            os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    for report in sorted((root / "reports").rglob("*")):
        if report.is_file():
            report.write_bytes(report.read_bytes())


def _show(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_deploygate", "show", "12"], cwd=root,
                          capture_output=True, text=True, check=False)


@pytest.mark.parametrize("mechanism", list(MECHANISMS))
def test_no_program_of_the_job_git_configuration_runs(tmp_path: Path, mechanism: str) -> None:
    root = build(tmp_path, lambda source: None)
    program, marker = _program(tmp_path)
    MECHANISMS[mechanism](root, program)
    _rehash(root)
    done = gate(root)
    assert not marker.exists(), marker.read_text()
    # An honest release with such a configuration still passes: nothing was refused.
    assert done.returncode == 0, done.stdout
    assert decision(root) == "PASS"
    _rehash(root)
    assert verdict(root).returncode == 0
    _show(root)
    assert not marker.exists(), marker.read_text()


def test_a_filter_of_a_submodule_configuration_never_runs(tmp_path: Path) -> None:
    """git diff looks inside a checked-out submodule, with the submodule's configuration."""
    inner = tmp_path / "inner"
    inner.mkdir()
    git(inner, "init", "-q")
    (inner / "lib.txt").write_text("library\n")
    git(inner, "add", "lib.txt")
    git(inner, "commit", "-qm", "library")

    def with_submodule(source: Path) -> None:
        (source / "vendor").mkdir(exist_ok=True)

    root = build(tmp_path, with_submodule)
    git(root, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(inner),
        "vendor/inner")
    git(root, "commit", "-qm", "vendor the library")
    program, marker = _program(tmp_path)
    sub = root / "vendor" / "inner"
    git(sub, "config", "filter.sub.clean", f"{program} clean %f")
    git_dir = Path(git(sub, "rev-parse", "--absolute-git-dir").strip())
    (git_dir / "info").mkdir(exist_ok=True)
    (git_dir / "info" / "attributes").write_text("lib.txt filter=sub\n")
    (sub / "lib.txt").write_bytes((sub / "lib.txt").read_bytes())
    os.utime(sub / "lib.txt", ns=((sub / "lib.txt").stat().st_mtime_ns + 10**9,) * 2)
    gate(root)
    assert not marker.exists(), marker.read_text()
    verdict(root)
    assert not marker.exists(), marker.read_text()


def test_an_edit_hidden_by_a_clean_filter_is_still_uncommitted(tmp_path: Path) -> None:
    """The filter that would show git the committed bytes never runs, so git sees the edit."""
    root = build(tmp_path, lambda source: None)
    marker = tmp_path / "ran"
    committed = tmp_path / "committed.md"
    committed.write_bytes((root / "CHANGELOG.md").read_bytes())
    lying = tmp_path / "lying.sh"
    lying.write_text(f"#!/bin/sh\necho ran >> {marker}\ncat {committed}\n")
    lying.chmod(0o755)
    git(root, "config", "filter.pass.clean", str(lying))
    _attribute(root, "CHANGELOG.md filter=pass")
    with (root / "CHANGELOG.md").open("a") as handle:
        handle.write("an edit nobody reviewed\n")
    assert git(root, "diff", "--name-only", "HEAD") == ""  # (the job's own git is fooled)
    marker.unlink()
    done = gate(root)
    assert not marker.exists()
    assert done.returncode == 1, done.stdout + done.stderr
    assert 'deploygate.dirty" value="true"' in (root / "gate-records" / "GATE-12.xml").read_text()
    found = verdict(root)
    assert found.returncode == 4
    assert "uncommitted changes to release content (CHANGELOG.md" in found.stderr


def test_a_smudge_filter_on_committed_evidence_never_runs(tmp_path: Path) -> None:
    """Evidence committed and then written anew by the run: the gate asks whether the runner's
    own checkout wrote those bytes (its core.autocrlf, say), never through a filter program
    of the job's configuration (nor one the step's environment gives git)."""
    root = build(tmp_path, lambda source: None)
    program, marker = _program(tmp_path)
    report = root / "reports" / "smoke" / "production-smoke.xml"
    git(root, "add", "-f", str(report.relative_to(root)))
    git(root, "commit", "-qm", "keep the smoke report")
    git(root, "config", "filter.pass.smudge", f"{program} smudge %f")
    _attribute(root, "reports/** filter=pass")
    report.write_bytes(report.read_bytes() + b"\n")
    gate(root)
    assert not marker.exists(), marker.read_text()
    verdict(root)
    assert not marker.exists(), marker.read_text()


def test_a_filter_below_the_deepest_submodule_listed_never_runs(tmp_path: Path) -> None:
    """git goes down every level of submodules; the listing of their drivers stops at a
    depth. A chain deeper than that (each level staged only in its parent's index) had its
    innermost filter run: deeper than the listing goes is no run at all."""
    root = build(tmp_path, lambda _source: None)
    program, marker = _program(tmp_path)
    chain = [root]
    for level in range(10):
        inner = chain[-1] / f"n{level}"
        inner.mkdir()
        git(inner, "init", "-q")
        (inner / "lib.txt").write_text(f"level {level}\n")
        git(inner, "add", "lib.txt")
        git(inner, "commit", "-qm", f"level {level}")
        chain.append(inner)
    for parent, inner in reversed(list(itertools.pairwise(chain[1:]))):
        git(parent, "add", inner.name)
    git(root, "add", chain[1].name)
    deepest = chain[-1]
    git(deepest, "config", "filter.deep.clean", f"{program} clean %f")
    (deepest / ".git" / "info").mkdir(exist_ok=True)
    (deepest / ".git" / "info" / "attributes").write_text("lib.txt filter=deep\n")
    os.utime(deepest / "lib.txt", ns=((deepest / "lib.txt").stat().st_mtime_ns + 10**9,) * 2)
    ran = gate(root)
    assert not marker.exists(), marker.read_text()
    assert "Traceback" not in ran.stdout + ran.stderr
    if (root / "gate-records" / "GATE-12.xml").exists():
        assert decision(root) != "PASS"
    assert verdict(root).returncode != 0
    assert not marker.exists(), marker.read_text()


def _library(tmp_path: Path) -> Path:
    inner = tmp_path / "library"
    inner.mkdir()
    git(inner, "init", "-q")
    (inner / "lib.txt").write_text("library\n")
    git(inner, "add", "lib.txt")
    git(inner, "commit", "-qm", "library")
    return inner


def _filter_in(repository: Path, program: Path, attributes: str) -> None:
    """A clean filter in a repository's own configuration, chosen for ``attributes``."""
    git(repository, "config", "filter.deep.clean", f"{program} clean %f")
    git_dir = Path(git(repository, "rev-parse", "--absolute-git-dir").strip())
    (git_dir / "info").mkdir(exist_ok=True)
    (git_dir / "info" / "attributes").write_text(f"{attributes} filter=deep\n")


def _touch(path: Path) -> None:
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)


def test_a_submodule_of_head_is_listed_when_the_project_is_a_subfolder(tmp_path: Path
                                                                         ) -> None:
    """rt17a A01: HEAD's submodules were looked for below the gate's root, their paths being
    from the repository's top. The project in app/, its submodule app/vendor/lib removed from
    the job's index only: the dirty check (HEAD read into a scratch index) looked into it, and
    its filter ran."""
    root = build(tmp_path, lambda _source: None)
    tracked = [path for path in git(root, "ls-files", "-z").split("\0") if path]
    for path in tracked:
        (root / "app" / path).parent.mkdir(parents=True, exist_ok=True)
        git(root, "mv", path, f"app/{path}")
    (root / "reports").rename(root / "app" / "reports")
    git(root, "commit", "-qm", "the project moves into app/")
    git(root, "-c", "protocol.file.allow=always", "submodule", "add", "-q",
        str(_library(tmp_path)), "app/vendor/lib")
    git(root, "commit", "-qm", "vendor the library")
    program, marker = _program(tmp_path)
    library = root / "app" / "vendor" / "lib"
    _filter_in(library, program, "lib.txt")
    git(root, "update-index", "--force-remove", "app/vendor/lib")
    _touch(library / "lib.txt")
    ran = gate(root / "app")
    assert not marker.exists(), marker.read_text()
    assert "Traceback" not in ran.stdout + ran.stderr
    verdict(root / "app")
    assert not marker.exists(), marker.read_text()


def test_a_submodule_working_elsewhere_is_refused_not_followed(tmp_path: Path) -> None:
    """rt17a A03: a submodule's own configuration (the job user's file on a kept workspace)
    set core.worktree to a folder elsewhere, holding a repository staged in the submodule's
    index with a filter of its own. git followed it there; the listing looked below the
    checked-out folder and found nothing. Now such a submodule stops the run, named."""
    root = build(tmp_path, lambda _source: None)
    git(root, "-c", "protocol.file.allow=always", "submodule", "add", "-q",
        str(_library(tmp_path)), "vendor/lib")
    git(root, "commit", "-qm", "vendor the library")
    program, marker = _program(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "lib.txt").write_bytes((root / "vendor" / "lib" / "lib.txt").read_bytes())
    nested = elsewhere / "n"
    nested.mkdir()
    git(nested, "init", "-q")
    (nested / "f.txt").write_text("x\n")
    git(nested, "add", "f.txt")
    git(nested, "commit", "-qm", "nested")
    _filter_in(nested, program, "f.txt")
    sub_git = git(root / "vendor" / "lib", "rev-parse", "--absolute-git-dir").strip()
    git(root, "--git-dir", sub_git, "config", "core.worktree", str(elsewhere))
    git(root, "--git-dir", sub_git, "--work-tree", str(elsewhere), "add", "n")
    _touch(nested / "f.txt")
    ran = gate(root)
    assert not marker.exists(), marker.read_text()
    assert "Traceback" not in ran.stdout + ran.stderr
    assert decision(root) != "PASS"
    said = verdict(root)
    assert not marker.exists(), marker.read_text()
    assert said.returncode == 4
    assert f"works on {elsewhere}" in said.stderr and "core.worktree" in said.stderr, said.stderr
