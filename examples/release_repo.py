"""Materialise the bundled example as a real release repository, then gate it.

    python examples/release_repo.py DIR [--run]

copies ``examples/acme-api`` (a plain directory) into ``DIR`` and makes it what a real
project is: a git repository with the release built by its developers (a feature branch merged
into ``main``), the tag ``v1.4.0``, and every sign-off committed by its own signer, some
through a merged branch. Its ``deploygate.yaml`` is the trustworthy configuration: sign-off
authorship verified by git (the default), ``version-tagged`` answered by the tag and the smoke
report required to be newer than the release commit. Everything happens offline and with fixed
dates, so the gate passes on any day. ``--run`` then runs ``python -m pytest --gate=12`` there.

Sign-offs and post-deployment documents are bookkeeping (``.deploygate/``, ``.isdlc/`` but
its ``checklists/``, which define the gate and are release content), and reports are CI
output (untracked), so none of them moves the release being gated: the gate
binds to the merge's release content, not to the last sign-off commit (see
docs/release-identity.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent / "acme-api"
VERSION = "1.4.0"
MARIA = "maria.lopez@acme.example"  # the release manager: merges, tags
DEVELOPERS = {"jo": ("Jo Dev", "jo.dev@acme.example"),
              "ravi": ("Ravi Patel", "ravi.patel@acme.example")}
#: Post-deployment documents move to the framework's artifact directory (bookkeeping): they are
#: written after the deploy, so committing them must not make a new release.
POST_DEPLOY_DOCS = ("deployment-log-production.md", "post-deployment-verification.md")
#: The example's story is told in fixed dates (the release on 2 February 2026, its deploy
#: the next day) and built as if it ended a few minutes ago: evidence has a maximum age (a
#: metrics capture counts for a day), so the gate passes on any date without replaying a clock.
STORY_END = datetime(2026, 2, 3, 15, 30, tzinfo=UTC)
STORY_END_AT = "2026-02-03T15:30:00Z"
SHIFT = datetime.now(UTC).replace(microsecond=0) - STORY_END - timedelta(minutes=5)


def story_time(at: str) -> str:
    """A date of the story, moved to the time the repository is built."""
    return (datetime.fromisoformat(at.replace("Z", "+00:00")) + SHIFT).isoformat()


#: When the CI reports were written (after the release commit, before the gate runs).
REPORTS_WRITTEN = datetime(2026, 2, 3, 12, 30, tzinfo=UTC) + SHIFT
#: Overrides that the plain example needs only because it has no repository of its own.
PLAIN_ONLY = (
    ("# This example lives inside the pytest-deploygate repository, whose history does not "
     "hold the\n# example's signers, so authorship cannot be verified here; a real project "
     "keeps the default\n# (true) and this switch is recorded in every evidence line "
     "(\"authorship=not-verified\").\nattestations:\n  verify_authorship: false\n", ""),
    ("  # The smoke report of a real pipeline is written after the commit it tests "
     "(not_before:\n  # commit in the built-in spec); the example's files are only as new as "
     "your checkout.\n  smoke-tests-passing: {kind: junit, report: smoke}\n", ""),
    ("  # The example lives inside another repository, so there is no tag of its own to "
     "find.\n  version-tagged: {kind: attestation, roles: [release-manager]}\n", ""),
)


class Repo:
    """git in the target directory, as one person at one time."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.names = {email: name for name, email in DEVELOPERS.values()}

    def run(self, *args: str, who: str, at: str) -> str:
        name = self.names.get(who, who.split("@")[0].replace(".", " ").title())
        env = {**os.environ, "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": who,
               "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": who,
               "GIT_AUTHOR_DATE": story_time(at), "GIT_COMMITTER_DATE": story_time(at)}
        done = subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false",
                               "-c", "core.hooksPath=/dev/null", *args], cwd=self.root, env=env,
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"git {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def commit(self, paths: list[str], message: str, *, who: str, at: str) -> None:
        self.run("add", "--", *paths, who=who, at=at)
        self.run("commit", "-q", "-m", message, who=who, at=at)

    def runner_checkout(self) -> None:
        """The CI runner checks the release out (actions/checkout's ``checkout --force``) by
        its own clock, not the story's. It rewrites no file that is as committed, so the
        arrival at the release stays the merge that wrote its files (the gate dates it by
        those files' change time, never by the reflog's dates, which the story sets)."""
        branch = self.run("rev-parse", "--abbrev-ref", "HEAD", who=MARIA, at=STORY_END_AT)
        env = {key: value for key, value in os.environ.items()
               if key not in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE")}
        env.update(GIT_COMMITTER_NAME="CI Runner", GIT_COMMITTER_EMAIL="runner@acme.example")
        done = subprocess.run(["git", "checkout", "-q", "--force", branch], cwd=self.root,
                              env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"git checkout {branch} failed: {done.stderr.strip()}")


#: The first sign-off given after the deploy: the ones before it are the pre stage's.
FIRST_POST_DEPLOY_SIGNOFF = "deployment-started-on-schedule"


def materialise(target: Path, *, deployed: bool = True) -> Path:
    """Build the release repository in ``target`` (which must not exist or be empty).

    With ``deployed=False`` it stops where a pre stage runs: the release tagged and the
    pre-deployment sign-offs committed; :func:`sign_post_deploy` adds the rest.
    """
    if target.exists() and any(target.iterdir()):
        raise SystemExit(f"{target} exists and is not empty; name a new directory")
    # The reports are CI output, written after the runner's checkout: they are copied in
    # once the history is made (the gate refuses a report put in the work tree before
    # HEAD last moved to another commit, docs/release-identity.md).
    shutil.copytree(EXAMPLE, target, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("gate-records", "__pycache__", "reports"))
    _trustworthy_config(target / "deploygate.yaml")
    (target / ".deploygate" / "attestations.jsonl").write_text("", encoding="utf-8")
    documents = target / "docs" / "deployment" / "production"
    for name in POST_DEPLOY_DOCS:
        (documents / name).unlink()
    (target / ".gitignore").write_text("# CI output: evidence, never release content\n"
                                       "reports/\ngate-records/\n")
    repo = Repo(target)
    jo, ravi = DEVELOPERS["jo"][1], DEVELOPERS["ravi"][1]
    repo.run("init", "-q", "-b", "main", who=jo, at="2026-01-05T09:00:00Z")
    repo.commit(["."], "acme-api: service, state and approvers", who=jo,
                at="2026-01-05T09:30:00Z")
    # The release's last change comes from a feature branch, merged by the release manager.
    repo.run("checkout", "-q", "-b", "feature/changelog-1.4.0", who=ravi,
             at="2026-02-02T15:00:00Z")
    changelog = target / "CHANGELOG.md"
    changelog.write_text(changelog.read_text() + "\n")
    repo.commit(["CHANGELOG.md"], "changelog for 1.4.0", who=ravi, at="2026-02-02T15:30:00Z")
    repo.run("checkout", "-q", "main", who=MARIA, at="2026-02-02T16:00:00Z")
    repo.run("merge", "-q", "--no-ff", "-m", "Merge feature/changelog-1.4.0: release 1.4.0",
             "feature/changelog-1.4.0", who=MARIA, at="2026-02-02T16:00:00Z")
    repo.run("tag", "-a", f"v{VERSION}", "-m", f"acme-api {VERSION}", who=MARIA,
             at="2026-02-02T16:05:00Z")
    signoffs = _signoffs()
    cut = next(i for i, line in enumerate(signoffs)
               if json.loads(line)["criterion"] == FIRST_POST_DEPLOY_SIGNOFF)
    # The security officer's sign-off comes in through a branch of its own and a merge, which
    # changes no release content.
    _commit_signoffs(repo, signoffs[:1], branch="sign/security")
    _commit_signoffs(repo, signoffs[1:cut])
    if deployed:
        sign_post_deploy(target)
    else:
        _write_reports(target)
    return target


def _write_reports(target: Path) -> None:
    """The CI's reports, written after its last checkout or commit (again, when there are
    some: a later job's run writes its own)."""
    shutil.copytree(EXAMPLE / "reports", target / "reports", dirs_exist_ok=True)
    stamp = REPORTS_WRITTEN.timestamp()
    for path in (target / "reports").rglob("*"):
        os.utime(path, (stamp, stamp))


def sign_post_deploy(target: Path) -> None:
    """After the deploy: the post-deployment sign-offs, each committed by its signer, and the
    post-deployment documents in the framework's artifact directory (bookkeeping)."""
    repo = Repo(target)
    signoffs = _signoffs()
    cut = next(i for i, line in enumerate(signoffs)
               if json.loads(line)["criterion"] == FIRST_POST_DEPLOY_SIGNOFF)
    _commit_signoffs(repo, signoffs[cut:])
    artifacts = target / ".isdlc" / "phases" / "12-production" / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    for name in POST_DEPLOY_DOCS:
        shutil.copyfile(EXAMPLE / "docs" / "deployment" / "production" / name, artifacts / name)
    repo.commit([str(artifacts.relative_to(target))], "post-deployment records", who=MARIA,
                at="2026-02-03T15:30:00Z")
    repo.runner_checkout()
    # The post job's checkout moved HEAD to the sign-offs: its smoke tests run after it.
    _write_reports(target)


def _commit_signoffs(repo: Repo, lines: list[str], branch: str | None = None) -> None:
    """Append each line and commit it as its signer at its time (on ``branch``, merged)."""
    log = repo.root / ".deploygate" / "attestations.jsonl"
    if branch:
        first = json.loads(lines[0])
        repo.run("checkout", "-q", "-b", branch, who=first["signer"], at=first["at"])
    for line in lines:
        entry = json.loads(line)
        with log.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
        repo.commit([".deploygate/attestations.jsonl"], f"sign-off: {entry['criterion']}",
                    who=entry["signer"], at=entry["at"])
    if branch:
        last = json.loads(lines[-1])
        repo.run("checkout", "-q", "main", who=MARIA, at=last["at"])
        repo.run("merge", "-q", "--no-ff", "-m", f"Merge {branch}", branch, who=MARIA,
                 at=last["at"])


def _trustworthy_config(config: Path) -> None:
    text = config.read_text(encoding="utf-8")
    for old, new in PLAIN_ONLY:
        if old not in text:
            raise SystemExit(f"{config}: expected {old.strip()!r}; the example changed, update "
                             f"{Path(__file__).name}")
        text = text.replace(old, new)
    config.write_text(text, encoding="utf-8")


def _signoffs() -> list[str]:
    """The example's sign-off lines, without the one the tag answers in a real repository."""
    log = EXAMPLE / ".deploygate" / "attestations.jsonl"
    return [line for line in log.read_text(encoding="utf-8").splitlines()
            if line.strip() and json.loads(line)["criterion"] != "version-tagged"]


def main(argv: list[str] | None = None) -> int:
    """Materialise, and with ``--run`` gate it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", type=Path, help="a new directory for the repository")
    parser.add_argument("--run", action="store_true",
                        help="then run `python -m pytest --gate=12` there")
    args = parser.parse_args(argv)
    target = materialise(args.target.resolve())
    print(f"release repository ready: {target} (tag v{VERSION}, sign-offs by their signers)")
    if not args.run:
        print(f"gate it: cd {target} && python -m pytest --gate=12")
        return 0
    return subprocess.run([sys.executable, "-m", "pytest", "--gate=12", "-p", "no:cacheprovider"],
                          cwd=target, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
