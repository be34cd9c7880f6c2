"""What git says about who added a line, and whether a commit is signed.

A sign-off's signer is established by git, not by the name typed into the log: the commit
that added the line must be authored (and, where required, signed) by the person it names.
One ``git blame --porcelain`` per file answers every line at once.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

_UNCOMMITTED = "0" * 40


@dataclass(frozen=True)
class LineOrigin:
    """The commit that added one line, and its author."""

    commit: str
    author_email: str

    @property
    def committed(self) -> bool:
        """False for a line that is only in the work tree."""
        return self.commit != _UNCOMMITTED


class GitError(Exception):
    """git could not answer; the message says what to do."""


def _git(root: Path, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"git could not run: {exc}") from None


def blame(root: Path, relative: str) -> dict[int, LineOrigin]:
    """Line number -> origin for every line of a file (uncommitted lines included)."""
    if _git(root, "rev-parse", "--is-inside-work-tree").stdout.strip() != "true":
        raise GitError(f"{root} is not a git checkout: who added a line cannot be established")
    if _git(root, "rev-parse", "--is-shallow-repository").stdout.strip() == "true":
        raise GitError("the repository is a shallow clone, so git cannot show who added each "
                       "line: fetch the full history (git fetch --unshallow) before the gate")
    result = _git(root, "blame", "--porcelain", "--", relative)
    if result.returncode != 0:
        if "no such path" in result.stderr or "does not exist" in result.stderr:
            return {}
        raise GitError(f"git blame {relative}: {result.stderr.strip()[:300]}")
    return _parse_porcelain(result.stdout)


def _parse_porcelain(text: str) -> dict[int, LineOrigin]:
    authors: dict[str, str] = {}
    origins: dict[int, LineOrigin] = {}
    commit = ""
    final_line = 0
    for line in text.splitlines():
        if line.startswith("\t"):
            origins[final_line] = LineOrigin(commit, authors.get(commit, ""))
            continue
        parts = line.split(" ")
        if len(parts) >= 3 and len(parts[0]) == 40 and all(c in "0123456789abcdef"
                                                           for c in parts[0]):
            commit, final_line = parts[0], int(parts[2])
        elif line.startswith("author-mail "):
            authors[commit] = line[len("author-mail "):].strip().strip("<>").lower()
    return origins


def signature_ok(root: Path, commit: str) -> bool:
    """True when git verifies the commit's signature with a trusted key (status G)."""
    result = _git(root, "log", "-1", "--format=%G?", commit)
    return result.returncode == 0 and result.stdout.strip() == "G"


def release_authors(root: Path, record_dir: Path | None = None,
                    version: str | None = None) -> frozenset[str] | None:
    """Author e-mails of the release being gated: every commit that changes release content
    since the previous version tag (else in the whole history); never read from a file.
    None when the project is not in a git repository. ``version`` defaults to the project's
    own (deploygate.yaml, pyproject.toml, package.json)."""
    from pytest_deploygate.release import project_version, release_identity
    from pytest_deploygate.release import release_authors as authors

    identity = release_identity(root, record_dir=record_dir,
                                version=version or project_version(root))
    return authors(root, identity, record_dir=record_dir)
