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


def _with_vendored_deploygate_user(tmp_path: Path, root_config: str) -> Path:
    """svc-a in a plain folder of the monorepo (signed: gate 0), and services/ a submodule
    vendoring, as a nested submodule third_party/lib, a repository that itself uses
    deploygate: its examples/demo/ holds a deploygate.yaml and .deploygate/ (as
    pytest-deploygate's examples/acme-api/ does)."""
    lib = tmp_path / "lib"
    (lib / "examples" / "demo" / ".deploygate").mkdir(parents=True)
    git(lib, "init", "-q", "-b", "main")
    (lib / "lib.py").write_text("VALUE = 1\n")
    (lib / "examples" / "demo" / "deploygate.yaml").write_text(CONFIG.format(version="0.1.0"))
    (lib / "examples" / "demo" / ".deploygate" / "approvers.yaml").write_text(APPROVERS)
    commit(lib, DEV, "a library using deploygate itself")
    services = tmp_path / "services"
    services.mkdir()
    git(services, "init", "-q", "-b", "main")
    (services / "README").write_text("shared services\n")
    _submodule(services, lib, "third_party/lib")
    commit(services, DEV, "the services, vendoring the library")
    root = tmp_path / "mono"
    _superproject(root, root_config, {"svc-a": "svc-a"})
    (root / "svc-a" / "src").mkdir(parents=True)
    (root / "svc-a" / "src" / "app.py").write_text("NAME = 'svc-a'\n")
    (root / "svc-a" / "deploygate.yaml").write_text(CONFIG.format(version="1.4.0"))
    (root / "svc-a" / ".deploygate").mkdir()
    (root / "svc-a" / ".deploygate" / "approvers.yaml").write_text(APPROVERS)
    (root / "svc-a" / ".deploygate" / "attestations.jsonl").write_text("")
    _submodule(root, services, "services")
    git(root, "-c", "protocol.file.allow=always", "submodule", "update", "--init",
        "--recursive", "-q")
    commit(root, DEV, "svc-a and the services")
    log = root / "svc-a" / ".deploygate" / "attestations.jsonl"
    _sign(log, "security-sign-off", SAM, "security-officer")
    _sign(log, "qa-sign-off", ANA, "qa-lead")
    _reports(root, {"svc-a": "svc-a"})
    return root


def test_a_vendored_repository_using_deploygate_is_no_project_when_the_root_says_so(
        tmp_path: Path) -> None:
    """rt18a F1: a vendored repository's own deploygate.yaml and .deploygate/ marked a
    project folder no state names, and every project with a project.path was refused. The
    root's committed deploygate.yaml lists it under monorepo: not_projects:, and the refusal
    says so."""
    refused_root = _with_vendored_deploygate_user(tmp_path / "plain",
                                                  CONFIG.format(version="3.0.0"))
    refused = gate(refused_root, "svc-a")
    assert refused.returncode not in (0, 1), refused.stdout[-3000:]
    assert "services/third_party/lib/examples/demo/ holds its own" in refused.stdout and \
        "monorepo: not_projects: in the root's committed deploygate.yaml" in refused.stdout, \
        refused.stdout[-3000:]
    root = _with_vendored_deploygate_user(
        tmp_path / "listed", CONFIG.format(version="3.0.0") +
        "monorepo:\n  not_projects:\n    - services/third_party/lib\n")
    honest = gate(root, "svc-a")
    assert honest.returncode == 0, honest.stdout[-3000:]
    assert verdict(root, "svc-a").returncode == 0
    # A folder listed there is no project's: no state may name it (nor one inside it).
    state = root / ".isdlc" / "projects" / "demo" / "state.json"
    state.parent.mkdir()
    state.write_text(json.dumps({"project": {
        "name": "demo", "path": "services/third_party/lib/examples/demo"}, "phases": {}}))
    named = gate(root, "demo")
    assert named.returncode not in (0, 1), named.stdout[-3000:]
    assert "leads into services/third_party/lib/, which the root's committed " \
        "deploygate.yaml lists under monorepo.not_projects" in named.stdout, \
        named.stdout[-3000:]


def test_a_folder_inside_the_projects_own_committed_folder_is_its_own(
        tmp_path: Path) -> None:
    """rt18a F2: project.path services/svc-a/src, a folder inside svc-a's own committed
    folder (its deploygate.yaml and .deploygate/ at services/svc-a/), was refused as if no
    state named services/svc-a/, for svc-a and for svc-b alike."""
    root = _nested(tmp_path)
    state = root / ".isdlc" / "projects" / "svc-a" / "state.json"
    state.write_text(json.dumps({"project": {"name": "svc-a", "path": "services/svc-a/src"},
                                 "phases": {}}))
    shutil.copytree(root / "services" / "svc-a" / "reports",
                    root / "services" / "svc-a" / "src" / "reports")
    inside = gate(root, "svc-a")
    assert "no project's state names it" not in inside.stdout, inside.stdout[-3000:]
    # (Judged, not refused: its sign-offs are looked for from the folder chosen, as before.)
    assert inside.returncode in (0, 1), inside.stdout[-3000:]
    beside = gate(root, "svc-b")
    assert beside.returncode == 1, beside.stdout[-3000:]


def test_a_one_level_project_submodule_checked_out_at_another_commit_is_refused(
        tmp_path: Path) -> None:
    """rt18a A03 in the one-level layout (services/svc-a and services/svc-b each a
    submodule of the monorepo, services/ a plain folder): the monorepo's HEAD pins svc-b."""
    from test_monorepo_submodule_projects import _monorepo

    root = _monorepo(tmp_path)
    assert gate(root, "svc-a").returncode == 0
    assert gate(root, "svc-b").returncode == 1  # (no QA sign-off for svc-b)
    svc_b = root / "services" / "svc-b"
    git(svc_b, "fetch", "-q", "../svc-a", "HEAD")
    git(svc_b, "checkout", "-q", "FETCH_HEAD")
    moved = gate(root, "svc-b")
    assert moved.returncode not in (0, 1), moved.stdout[-3000:]
    assert "the submodule services/svc-b/ is checked out at " in moved.stdout and \
        "but the monorepo pins " in moved.stdout, moved.stdout[-3000:]
    assert verdict(root, "svc-b").returncode == 4


def test_a_not_projects_entry_outside_the_root_is_refused_in_one_line(tmp_path: Path) -> None:
    """monorepo.not_projects names folders from the root: one leaving it (``../``) cannot
    say which folders are no project's, so the run stops with the setting named."""
    root = _with_vendored_deploygate_user(
        tmp_path, CONFIG.format(version="3.0.0") + "monorepo:\n  not_projects: [../elsewhere]\n")
    ran = gate(root, "svc-a")
    said = ran.stdout + ran.stderr
    assert ran.returncode not in (0, 1), said[-3000:]
    assert "monorepo.not_projects[0] '../elsewhere' is no folder inside the monorepo root" in \
        said and "Traceback" not in said, said[-3000:]


def test_a_not_projects_folder_is_no_projects_by_its_id_either(tmp_path: Path) -> None:
    """rt18b A01: a state without project.path lands in ``<root>/<id>`` by its id; a folder
    the root's committed config lists under monorepo.not_projects was refused only when a
    project.path named it, so a new state named like the listed folder was judged there, by
    that folder's config and sign-offs (PASS, verdict 0)."""
    root = _with_vendored_deploygate_user(
        tmp_path, CONFIG.format(version="3.0.0") + "monorepo:\n  not_projects: [svc-a]\n")
    (root / ".isdlc" / "projects" / "svc-a" / "state.json").write_text(json.dumps(
        {"project": {"name": "svc-a"}, "phases": {}}))
    refused = gate(root, "svc-a")
    assert refused.returncode not in (0, 1), refused.stdout[-3000:]
    assert "lists under monorepo.not_projects" in refused.stdout, refused.stdout[-3000:]
    assert verdict(root, "svc-a").returncode != 0
