"""A monorepo project's folder is committed content of the monorepo, or of a submodule chain
it pins exactly, checked out as pinned (rt18a A01-A03), and the two false refusals of the
committed-folder rules (rt18a F1, F2).

The repository a project is judged in is whatever git finds from its folder (its release,
dirty check and sign-off attribution), while which folders are projects' own is learnt
from the monorepo's HEAD and the commits it pins. A project submodule checked out at another
project's signed commit, a nested submodule below an outer one whose gitfile was moved away,
and an untracked clone named by a new state were each judged by another project's
sign-offs (PASS, verdict 0). Real repositories, the gate and ``deploygate verdict`` run as
the CI runs them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from test_monorepo_release_content import (
    ANA,
    APPROVERS,
    CONFIG,
    DEV,
    SAM,
    commit,
    gate,
    git,
    verdict,
)
from test_monorepo_submodule_paths import (
    PROJECTS,
    _reports,
    _sign,
    _submodule,
    _superproject,
    _svc_b_claims_svc_a_folder,
)


def _project_source(source: Path, pid: str) -> None:
    """A project's own repository: its code, config, approvers and empty sign-off log."""
    (source / "src").mkdir(parents=True)
    git(source, "init", "-q", "-b", "main")
    (source / "src" / "app.py").write_text(f"NAME = {pid!r}\n")
    (source / "deploygate.yaml").write_text(CONFIG.format(version="1.4.0"))
    (source / ".deploygate").mkdir()
    (source / ".deploygate" / "approvers.yaml").write_text(APPROVERS)
    (source / ".deploygate" / "attestations.jsonl").write_text("")
    (source / ".gitignore").write_text("reports/\n")
    commit(source, DEV, pid)


def _nested(tmp_path: Path) -> Path:
    """rt17d's monorepo: services/ one submodule, svc-a/ and svc-b/ submodules of it; svc-a
    signed by security and QA (gate 0), svc-b by security only (gate 1)."""
    sources = tmp_path / "sources"
    for pid in PROJECTS:
        _project_source(sources / pid, pid)
    services = sources / "services"
    services.mkdir()
    git(services, "init", "-q", "-b", "main")
    (services / "README").write_text("the services\n")
    for pid in PROJECTS:
        _submodule(services, sources / pid, pid)
    commit(services, DEV, "the services, each a submodule")
    root = tmp_path / "mono"
    folders = {pid: f"services/{pid}" for pid in PROJECTS}
    _superproject(root, CONFIG.format(version="3.0.0"), folders)
    _submodule(root, services, "services")
    git(root, "-c", "protocol.file.allow=always", "submodule", "update", "--init",
        "--recursive", "-q")
    commit(root, DEV, "the services as one submodule")
    module = root / "services"
    for pid in PROJECTS:
        _sign(module / pid / ".deploygate" / "attestations.jsonl", "security-sign-off", SAM,
              "security-officer")
    _sign(module / "svc-a" / ".deploygate" / "attestations.jsonl", "qa-sign-off", ANA,
          "qa-lead")
    commit(module, DEV, "the services' sign-offs")
    commit(root, DEV, "the services' sign-offs")
    _reports(root, folders)
    honest = gate(root, "svc-a")
    assert honest.returncode == 0, honest.stdout[-3000:]
    assert verdict(root, "svc-a").returncode == 0
    assert gate(root, "svc-b").returncode == 1  # (no QA sign-off for svc-b)
    return root


def test_a_project_submodule_checked_out_at_another_commit_is_refused(tmp_path: Path) -> None:
    """rt18a A03 (no state edit): svc-b's checkout moved to svc-a's signed commit was judged
    there, clean, by svc-a's sign-offs (PASS, verdict 0); the monorepo pins another one."""
    root = _nested(tmp_path)
    svc_b = root / "services" / "svc-b"
    git(svc_b, "fetch", "-q", "../svc-a", "HEAD")
    git(svc_b, "checkout", "-q", "FETCH_HEAD")
    moved = gate(root, "svc-b")
    assert moved.returncode not in (0, 1), moved.stdout[-3000:]
    assert "the submodule services/svc-b/ is checked out at " in moved.stdout and \
        "but services/ pins " in moved.stdout and \
        "git submodule update --init --recursive" in moved.stdout, moved.stdout[-3000:]
    assert verdict(root, "svc-b").returncode == 4
    # (svc-a, checked out as pinned, is still judged.)
    assert gate(root, "svc-a").returncode == 0


def test_a_submodule_holding_files_without_its_git_is_refused(tmp_path: Path) -> None:
    """rt18a A01: rt17d A01's state edits plus services/.git moved out of the work tree:
    services/ was skipped as "not checked out", so services/svc-a/ was no project's folder,
    while svc-a's own gitfile still found its repository (svc-b PASS, verdict 0)."""
    root = _nested(tmp_path)
    _svc_b_claims_svc_a_folder(root)
    (root / "services" / ".git").rename(tmp_path / "services.gitfile")
    claimed = gate(root, "svc-b")
    assert claimed.returncode not in (0, 1), claimed.stdout[-3000:]
    assert "the submodule services/ holds files but is no checkout of the commit " in \
        claimed.stdout, claimed.stdout[-3000:]
    assert verdict(root, "svc-b").returncode == 4


def test_a_never_initialised_submodule_is_still_no_projects(tmp_path: Path) -> None:
    """The other side of A01's fix: a submodule never initialised (its folder empty) holds
    no file the gate reads; an honest project beside it is judged."""
    lib = tmp_path / "lib"
    lib.mkdir()
    git(lib, "init", "-q", "-b", "main")
    (lib / "lib.py").write_text("VALUE = 1\n")
    commit(lib, DEV, "lib")
    source = tmp_path / "svc-a-source"
    _project_source(source, "svc-a")
    root = tmp_path / "mono"
    _superproject(root, CONFIG.format(version="3.0.0"), {"svc-a": "svc-a"})
    _submodule(root, source, "svc-a")
    _submodule(root, lib, "vendor/lib")
    commit(root, DEV, "svc-a and a vendored library")
    _sign(root / "svc-a" / ".deploygate" / "attestations.jsonl", "security-sign-off", SAM,
          "security-officer")
    _sign(root / "svc-a" / ".deploygate" / "attestations.jsonl", "qa-sign-off", ANA,
          "qa-lead")
    commit(root, DEV, "svc-a's sign-offs")
    git(root, "submodule", "deinit", "-q", "vendor/lib")
    assert not any((root / "vendor" / "lib").iterdir())
    _reports(root, {"svc-a": "svc-a"})
    honest = gate(root, "svc-a")
    assert honest.returncode == 0, honest.stdout[-3000:]
    assert verdict(root, "svc-a").returncode == 0


def test_an_untracked_clone_named_by_a_new_state_is_refused(tmp_path: Path) -> None:
    """rt18a A02: an untracked clone of svc-a's repository in the work tree, named by a new
    project's state, was judged by svc-a's approvers and sign-offs (PASS, verdict 0)."""
    root = _nested(tmp_path)
    git(root, "clone", "-q", str(root / "services" / "svc-a"), "copy-a")
    (root / "copy-a" / "reports").mkdir()
    shutil.copy(root / "services" / "svc-a" / "reports" / "unit.xml",
                root / "copy-a" / "reports" / "unit.xml")
    state = root / ".isdlc" / "projects" / "svc-c" / "state.json"
    state.parent.mkdir()
    state.write_text(json.dumps({"project": {"name": "svc-c", "path": "copy-a"},
                                 "phases": {}}))
    cloned = gate(root, "svc-c")
    assert cloned.returncode not in (0, 1), cloned.stdout[-3000:]
    assert "copy-a/ is in the repository copy-a/, which the monorepo does not commit" in \
        cloned.stdout, cloned.stdout[-3000:]
    assert verdict(root, "svc-c").returncode == 4
