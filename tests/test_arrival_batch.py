"""The freshness floor's arrival check asks git which reflog commits hold the release in a
constant number of processes (evidence/holding.py); these tests prove its answer is the
per-commit one it replaced, ``git log -1 --format=%H <commit> -- <release content>`` (kept
here as the oracle), for every commit of real repositories: merges of every resolution,
reverts, amended and rebased commits, bookkeeping-only commits (a bookkeeping-only root
among them), a project in a subdirectory, submodules, a shallow clone, commit dates out of
order, and reflogs that move back and forth. Then, end to end: a gate run asks git a
constant number of times however long the reflog, and an answer git cannot give refuses
the floor instead of falling back to the committer's date.
"""

from __future__ import annotations

import importlib
import random
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from pytest_deploygate.evidence import holding
from pytest_deploygate.evidence.holding import commits_holding
from pytest_deploygate.evidence.release import (
    BOOKKEEPING_DIRS,
    Git,
    bookkeeping_paths,
    release_content_pathspecs,
)

from conftest import GateProject, custom_gate
from runner_git import runner_env, runner_git

_AUTHORS = (("Dev", "dev@example.com"), ("Ops", "ops@example.com"),
            ("Maria Lopez", "maria@example.com"))
_BASE = 1_760_000_000  # commit dates, in seconds: 2025-10-09


class _Repo:
    """A real repository built commit by commit, with plumbing so that every tree (a merge's
    resolution, a revert) and every date (out of order too) is exactly the one asked for."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        runner_git(root, "init", "-q", "-b", "main")
        self.index = root / ".git" / "fx-index"
        self.count = 0

    def git(self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
            ) -> str:
        return subprocess.run(["git", *args], cwd=self.root, check=True, input=stdin,
                              env={**runner_env(), **(env or {})}, capture_output=True,
                              text=True).stdout.strip()

    def commit(self, parents: list[str], files: dict[str, str | None], *, base: int = 0,
               when: int | None = None, gitlinks: dict[str, str] | None = None) -> str:
        """A commit with ``parents`` whose tree is parent ``base``'s (empty for a root) with
        ``files`` written (None: removed) and ``gitlinks`` (submodule commits) set."""
        self.count += 1
        env = {"GIT_INDEX_FILE": str(self.index)}
        if parents:
            self.git("read-tree", parents[base], env=env)
        else:
            self.git("read-tree", "--empty", env=env)
        for path, text in files.items():
            if text is None:
                self.git("update-index", "--force-remove", "--", path, env=env)
                continue
            blob = self.git("hash-object", "-w", "--stdin", stdin=text)
            self.git("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
        for path, commit in (gitlinks or {}).items():
            self.git("update-index", "--add", "--cacheinfo", f"160000,{commit},{path}",
                     env=env)
        tree = self.git("write-tree", env=env)
        name, email = _AUTHORS[self.count % len(_AUTHORS)]
        at = f"@{when if when is not None else _BASE + 3600 * self.count} +0000"
        flags = [part for parent in parents for part in ("-p", parent)]
        return self.git("commit-tree", tree, *flags, "-m", f"commit {self.count}",
                        env={"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
                             "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email,
                             "GIT_AUTHOR_DATE": at, "GIT_COMMITTER_DATE": at})

    def checkout(self, commit: str) -> None:
        """HEAD moves there (a reflog entry), as a runner's checkout moves it."""
        self.git("checkout", "-q", "--force", "--detach", commit)


def _oracle(git: Git, commit: str, specs: list[str]) -> str:
    """The per-commit answer the batch replaced: the commit's newest release-content commit."""
    return git("log", "-1", "--format=%H", commit, *specs)[1].strip()


def _all_commits(root: Path) -> list[str]:
    """Every commit of the repository: its branches' and tags' history and its reflogs'
    (amended and rebased commits are only there)."""
    listed = runner_git(root, "rev-list", "--all", "--reflog")
    return sorted(set(listed.split()))


def _assert_batch_is_per_commit(root: Path, bookkeeping: tuple[str, ...],
                                releases: list[str] | None = None) -> int:
    """For every commit taken as the release, the batch's holders are the oracle's, among
    all commits and among the reflog's (in its order, repeats and all); the number of
    (release, commit) pairs compared."""
    git = Git(root)
    specs = release_content_pathspecs(bookkeeping)
    commits = _all_commits(root)
    answers = {commit: _oracle(git, commit, specs) for commit in commits}
    reflog = runner_git(root, "reflog", "--format=%H", "HEAD").split()
    compared = 0
    for release in releases or commits:
        expected = {c for c in commits if c == release or answers[c] == release}
        assert commits_holding(git, release, commits, specs) == expected, release
        in_reflog = commits_holding(git, release, reflog, specs)
        assert in_reflog == {c for c in reflog if c in expected}, release
        compared += len(commits)
    return compared


def _scenario(repo: _Repo) -> dict[str, str]:
    """Every shape the walk meets; the names of a few commits."""
    c: dict[str, str] = {}
    # A bookkeeping-only root (no release content: git's walk shows no commit for it).
    c["root"] = repo.commit([], {".deploygate/attestations.jsonl": "{}\n"})
    c["a"] = repo.commit([c["root"]], {"app.py": "v = 1\n", ".isdlc/checklists/12.yaml": "a\n"})
    c["sign1"] = repo.commit([c["a"]], {".deploygate/attestations.jsonl": "{s1}\n"})
    c["state"] = repo.commit([c["sign1"]], {".isdlc/state.json": "{}\n",
                                            "gate-records/GATE-12.xml": "<r/>\n"})
    # A record outside the record directory's names is release content.
    c["notes"] = repo.commit([c["state"]], {"gate-records/notes.md": "n\n"})
    c["checklist"] = repo.commit([c["notes"]], {".isdlc/checklists/12.yaml": "b\n"})
    # A feature branch merged into an unchanged main: the merge pulls the branch (TREESAME
    # to its second parent), and the walk follows the branch.
    c["feat"] = repo.commit([c["checklist"]], {"lib.py": "x = 1\n"})
    c["feat_sign"] = repo.commit([c["feat"]], {".deploygate/attestations.jsonl": "{f}\n"})
    c["pull"] = repo.commit([c["checklist"], c["feat_sign"]], {}, base=1)
    # A merge resolved as "ours" (TREESAME to its first parent), one that is neither parent's
    # content, one whose parents have the same content (TREESAME to both: the first wins).
    c["side"] = repo.commit([c["pull"]], {"side.py": "s\n"})
    c["ours"] = repo.commit([c["pull"], c["side"]], {})
    c["twin1"] = repo.commit([c["ours"]], {"twin.py": "t\n"}, when=_BASE)  # backdated
    c["twin2"] = repo.commit([c["ours"]], {"twin.py": "t\n"})
    c["both"] = repo.commit([c["twin1"], c["twin2"]], {})
    c["both_rev"] = repo.commit([c["twin2"], c["twin1"]], {})
    c["evil"] = repo.commit([c["both"], c["side"]], {"evil.py": "e\n"})
    c["bk_branch"] = repo.commit([c["evil"]], {".isdlc/state.json": "{b}\n"})
    c["bk_merge"] = repo.commit([c["evil"], c["bk_branch"]], {}, base=1)
    # A revert: release content back to an earlier release's, by a new commit.
    c["change"] = repo.commit([c["bk_merge"]], {"app.py": "v = 2\n"})
    c["revert"] = repo.commit([c["change"]], {"app.py": "v = 1\n"})
    c["revert_sign"] = repo.commit([c["revert"]], {".deploygate/attestations.jsonl": "{r}\n"})
    # An octopus merge with an uninteresting middle parent; a merge of a root-less side.
    c["o1"] = repo.commit([c["revert_sign"]], {"o1.py": "1\n"})
    c["o2"] = repo.commit([c["revert_sign"]], {".deploygate/o2": "2\n"})
    c["octopus"] = repo.commit([c["revert_sign"], c["o2"], c["o1"]], {}, base=2)
    c["orphan"] = repo.commit([], {"other.py": "o\n"}, when=_BASE - 86400)
    c["unrelated"] = repo.commit([c["octopus"], c["orphan"]], {})
    # A submodule whose .gitmodules says "ignore = all": its commit still changes the release.
    c["sub"] = repo.commit([c["unrelated"]], {".gitmodules": "[submodule \"lib\"]\n\tpath = "
                                              "vendor/lib\n\turl = ./lib\n\tignore = all\n"},
                           gitlinks={"vendor/lib": c["a"]})
    c["sub_move"] = repo.commit([c["sub"]], {}, gitlinks={"vendor/lib": c["sign1"]})
    c["sub_sign"] = repo.commit([c["sub_move"]], {".deploygate/attestations.jsonl": "{u}\n"})
    repo.git("update-ref", "refs/heads/main", c["sub_sign"])
    repo.git("tag", "v1", c["revert_sign"])
    # The runner's checkouts, back and forth.
    for name in ("a", "sign1", "state", "pull", "feat_sign", "ours", "both", "both_rev",
                 "evil", "bk_merge", "revert_sign", "change", "revert_sign", "octopus",
                 "sub_sign", "a", "unrelated", "sub_move", "sub_sign"):
        repo.checkout(c[name])
    return c


def _porcelain_history(root: Path) -> None:
    """Amended and rebased commits, by git's own porcelain (the reflog keeps the old ones)."""
    env = {**runner_env(), "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com"}

    def run(*args: str) -> None:
        subprocess.run(["git", *args], cwd=root, check=True, env=env, capture_output=True)

    run("checkout", "-q", "-B", "topic", "main")
    (root / "topic.py").write_text("t = 1\n")
    run("add", "topic.py")
    run("commit", "-q", "-m", "topic")
    (root / ".deploygate").mkdir(exist_ok=True)
    (root / ".deploygate" / "attestations.jsonl").write_text("{amended}\n")
    run("add", "-A")
    run("commit", "-q", "--amend", "-m", "topic, signed")
    (root / "topic.py").write_text("t = 2\n")
    run("commit", "-q", "-am", "topic 2")
    run("checkout", "-q", "main")
    (root / "main.py").write_text("m = 1\n")
    run("add", "main.py")
    run("commit", "-q", "-m", "main moves on")
    run("checkout", "-q", "topic")
    run("rebase", "-q", "main")
    run("checkout", "-q", "main")
    run("merge", "-q", "--no-edit", "--no-ff", "topic")
    run("revert", "--no-edit", "HEAD~1")
    run("checkout", "-q", "--detach", "HEAD~2")
    run("checkout", "-q", "main")


@pytest.fixture(params=["direct", "content first"])
def limit(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of asking: every commit between compared with its parents, and (past the
    limit, here 0) only those with the release's content first."""
    if request.param == "content first":
        monkeypatch.setattr(holding, "_DIRECT_LIMIT", 0)
    return str(request.param)


@pytest.fixture
def scenario_repo(tmp_path: Path, limit: str) -> _Repo:
    repo = _Repo(tmp_path / "repo")
    _scenario(repo)
    _porcelain_history(repo.root)
    return repo


def test_the_batch_answers_as_git_log_per_commit(scenario_repo: _Repo) -> None:
    bookkeeping = bookkeeping_paths(scenario_repo.root, scenario_repo.root / "gate-records")
    assert bookkeeping == (*BOOKKEEPING_DIRS, "gate-records/*")
    assert _assert_batch_is_per_commit(scenario_repo.root, bookkeeping) > 1000


def test_the_batch_answers_as_git_log_per_commit_in_a_subdirectory_project(
        tmp_path: Path, limit: str) -> None:
    # The project is a folder of the repository: release content is that folder's, so a
    # commit elsewhere in the repository is bookkeeping to it.
    repo = _Repo(tmp_path / "mono")
    one = repo.commit([], {"svc/app.py": "1\n", "other/app.py": "1\n"})
    two = repo.commit([one], {"other/app.py": "2\n"})
    three = repo.commit([two], {"svc/.deploygate/attestations.jsonl": "{}\n"})
    four = repo.commit([three], {"svc/app.py": "2\n"})
    merge = repo.commit([four, two], {"other/app.py": "3\n"})
    for commit in (one, three, two, merge, three):
        repo.checkout(commit)
    _assert_batch_is_per_commit(repo.root / "svc", bookkeeping_paths(repo.root / "svc", None))


def test_the_batch_answers_as_git_log_per_commit_in_a_shallow_clone(scenario_repo: _Repo,
                                                                   tmp_path: Path) -> None:
    # The shallow boundary is a root to both (its release content, not its history).
    clone = tmp_path / "shallow"
    runner_git(tmp_path, "clone", "-q", "--depth=6", "--no-single-branch",
               f"file://{scenario_repo.root}", str(clone))
    runner_git(clone, "checkout", "-q", "--detach", "HEAD~3")
    runner_git(clone, "checkout", "-q", "main")
    assert runner_git(clone, "rev-parse", "--is-shallow-repository") == "true"
    _assert_batch_is_per_commit(clone, bookkeeping_paths(clone, None))


def test_the_batch_answers_as_git_log_per_commit_on_a_reused_shallow_runner(
        tmp_path: Path, limit: str) -> None:
    # actions/checkout's default (fetch-depth 1) run after run in one reused work tree: each
    # run's commit is a shallow root, and its reflog names every earlier run's.
    source = _Repo(tmp_path / "source")
    tip = source.commit([], {"app.py": "1\n"})
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    runner_git(workspace, "init", "-q", "-b", "main")
    for run, files in enumerate([{}, {".deploygate/a": "1\n"}, {"app.py": "2\n"},
                                 {".deploygate/a": "2\n"}, {"app.py": "1\n"}]):
        if run:
            tip = source.commit([tip], files)
        source.git("update-ref", "refs/heads/main", tip)
        runner_git(workspace, "fetch", "-q", "--depth=1", f"file://{source.root}",
                   "+refs/heads/main:refs/remotes/origin/main")
        runner_git(workspace, "checkout", "-q", "--force", "-B", "main",
                   "refs/remotes/origin/main")
    assert runner_git(workspace, "rev-parse", "--is-shallow-repository") == "true"
    _assert_batch_is_per_commit(workspace, bookkeeping_paths(workspace, None))


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_batch_answers_as_git_log_per_commit_in_random_histories(
        tmp_path: Path, seed: int, limit: str) -> None:
    # Random histories: content and bookkeeping commits, returns to earlier content,
    # merges resolved every way, amended (replaced) commits, commit dates in any order,
    # and checkouts all over them.
    rng = random.Random(seed)
    repo = _Repo(tmp_path / "random")
    heads = [repo.commit([], {"app.py": "0\n"} if seed % 2 else {".isdlc/state.json": "0\n"})]
    contents = ["0\n", "1\n", "2\n"]
    for _ in range(36):
        op = rng.choice(["content", "content", "bookkeeping", "bookkeeping", "merge",
                         "merge", "amend", "checkout"])
        tip = rng.choice(heads)
        when = _BASE + rng.randrange(-30, 30) * 86400
        if op == "content":
            path = rng.choice(["app.py", "lib/x.py", ".isdlc/checklists/12.yaml"])
            heads.append(repo.commit([tip], {path: rng.choice(contents)}, when=when))
        elif op == "bookkeeping":
            path = rng.choice([".deploygate/attestations.jsonl", ".isdlc/state.json"])
            heads.append(repo.commit([tip], {path: str(rng.random())}, when=when))
        elif op == "merge":
            other = rng.choice([h for h in heads if h != tip] or heads)
            files = rng.choice([{}, {}, {"app.py": rng.choice(contents)},
                                {".deploygate/m": str(rng.random())}])
            heads.append(repo.commit([tip, other], files, base=rng.randrange(2), when=when))
        elif op == "amend":
            # A replaced commit: the same parents, other content; the old stays in the reflog.
            repo.checkout(tip)
            parents = repo.git("rev-list", "--parents", "-1", tip).split()[1:]
            heads.append(repo.commit(parents, {"app.py": rng.choice(contents)}, when=when))
        repo.checkout(rng.choice(heads))
    repo.checkout(heads[-1])
    _assert_batch_is_per_commit(repo.root, bookkeeping_paths(repo.root, None))


def test_commits_git_cannot_read_are_not_held_and_garbage_is_refused(
        scenario_repo: _Repo) -> None:
    git = Git(scenario_repo.root)
    specs = release_content_pathspecs(BOOKKEEPING_DIRS)
    release = _oracle(git, "HEAD", specs)
    missing = "0123456789abcdef" * 2 + "01234567"
    # A reflog commit whose objects are gone holds nothing (git log failed on it too).
    assert commits_holding(git, release, [missing, release], specs) == {release}
    # Anything but a commit id is never handed to git (an option, a revision expression).
    for garbage in ("--output=/tmp/x", "HEAD~1", release[:12], release.upper()):
        assert commits_holding(git, release, [garbage], specs) is None


# -- end to end -------------------------------------------------------------------------------

_JUNIT_PASS = ('<testsuite name="s" tests="2"><testcase classname="a" name="t1"/>'
               '<testcase classname="a" name="t2"/></testsuite>\n')


def _signed_off_release(project: GateProject, sign_offs: int) -> tuple[str, list[str]]:
    """The project committed (the release), then ``sign_offs`` bookkeeping commits on top,
    each checked out in turn by the runner (a reflog entry each); the release commit and the
    sign-off commits."""
    project.set_state({"phases": {}})
    (project.root / "deploygate.yaml").write_text(
        "version: 1.4.0\nreports:\n  junit: [reports/*.xml]\n")
    (project.root / ".gitignore").write_text("reports/\n")
    custom_gate(project, "- {id: fresh, text: Fresh tests, check: {kind: junit, "
                         "report: junit, not_before: commit}}")
    runner_git(project.root, "init", "-q", "-b", "main")
    runner_git(project.root, "add", "-A")
    runner_git(project.root, "commit", "-q", "-m", "release 1.4.0",
               when=time.time() - 3 * 3600)
    release = runner_git(project.root, "rev-parse", "HEAD")
    signed = []
    for number in range(sign_offs):
        (project.root / ".deploygate").mkdir(exist_ok=True)
        (project.root / ".deploygate" / "attestations.jsonl").write_text(f"{number}\n")
        runner_git(project.root, "add", "-A")
        runner_git(project.root, "commit", "-q", "-m", f"sign-off {number}",
                   when=time.time() - 3 * 3600)
        signed.append(runner_git(project.root, "rev-parse", "HEAD"))
    return release, signed


def _counting_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``git`` that logs each command line, then runs the real git. The gate takes git from
    the system folders before the job's PATH (core.programs), so the shim's folder is put
    first among them, on the module the inner run uses."""
    real = shutil.which("git")
    assert real is not None
    shim = tmp_path / "counting-bin"
    shim.mkdir()
    log = tmp_path / "git-commands.log"
    (shim / "git").write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\n'
                              f'exec "{real}" "$@"\n')
    (shim / "git").chmod(0o755)
    programs = importlib.import_module("pytest_deploygate.core.programs")
    monkeypatch.setattr(programs, "SYSTEM_FOLDERS", (str(shim), *programs.SYSTEM_FOLDERS))
    return log


def test_a_gate_run_asks_git_a_constant_number_of_times_however_long_the_reflog(
        project: GateProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 40 sign-offs committed on top of the release, the runner at each in turn: 41 reflog
    # entries, each holding the release. One git process per entry made the floor cost a
    # process per sign-off; now the floor asks git twice (rev-list, diff-tree), however many.
    _, signed = _signed_off_release(project, 40)
    for commit in signed[::-1][:12]:
        runner_git(project.root, "checkout", "-q", "--detach", commit)
    runner_git(project.root, "checkout", "-q", "main")
    report = project.root / "reports" / "unit.xml"
    report.parent.mkdir()
    report.write_text(_JUNIT_PASS)
    log = _counting_git(tmp_path, monkeypatch)
    project.run("--gate=12")
    case = project.record().case("fresh")
    assert case["outcome"] == "passed", case
    commands = log.read_text().splitlines()
    walks = [c for c in commands if re.search(r" log -1 --format=%H [0-9a-f]{40} --", c)
             or " diff-tree --stdin " in c or " rev-list --parents --boundary " in c]
    assert len(walks) <= 2, walks
    # And once more for the files the arriving checkout wrote (their change time dates it).
    written = [c for c in commands if " diff-tree -r -z --raw " in c]
    assert len(written) == 1, written


def test_an_answer_git_cannot_give_refuses_the_floor(project: GateProject) -> None:
    # The runner was at a sign-off whose parent's objects are gone (a corrupted repository),
    # then checked out the release. Which entries hold the release cannot be known: the
    # floor is not the committer's own date, the evidence's age is unknown.
    release, signed = _signed_off_release(project, 3)
    runner_git(project.root, "checkout", "-q", "--detach", signed[-1])
    runner_git(project.root, "checkout", "-q", "--detach", release)
    report = project.root / "reports" / "unit.xml"
    report.parent.mkdir()
    report.write_text(_JUNIT_PASS)
    middle = signed[1]
    (project.root / ".git" / "objects" / middle[:2] / middle[2:]).unlink()
    project.run("--gate=12")
    case = project.record().case("fresh")
    assert case["outcome"] in ("failure", "error"), case
    assert "could not be read" in case["message"], case
    assert "git fsck" in case["message"], case
