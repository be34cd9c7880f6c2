# ruff: noqa: F811  (the fixtures come from test_signoff_identity)
"""Red-team attacks on sign-off identity (issue 10 class A) that once broke the gate.

Each builds a real git repository from the bundled example (every sign-off committed by its
signer, see test_signoff_identity) and tries to make someone else's line count.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import GateProject  # isort: skip
from test_signoff_identity import (  # noqa: F401  (fixtures)
    DEV,
    LEE,
    LOG,
    SAM,
    append,
    case,
    commit,
    git,
    keys,
    missing,
    sam_signs,
    set_config,
    signed,
    signed_commit,
)


def test_a_sign_off_renamed_in_from_another_log_is_not_this_logs(
        signed: GateProject, keys: dict[str, tuple[Path, str]]) -> None:
    root = signed.root
    # Sam signed security in another project's log, with their own key.
    other = "services/billing/.deploygate/attestations.jsonl"
    append(root, other, sam_signs())
    signed_commit(root, SAM, keys["sam"][0], "sam signs billing")
    # The attacker deletes this log, then moves the other one onto its path: git blame
    # follows the rename to sam's signed commit.
    kept = (root / LOG).read_bytes()
    (root / LOG).unlink()
    commit(root, DEV, "drop log")
    git(root, "mv", other, LOG)
    commit(root, DEV, "move billing log here")
    append(root, LOG, kept)
    commit(root, DEV, "restore the other sign-offs")
    missing(signed, "security-sign-off", "added to another file")


@pytest.mark.parametrize("hide", ["later commit by lee", "dev commits as lee's author"])
def test_a_later_commit_by_someone_else_does_not_hide_the_releases_author(
        signed: GateProject, hide: str) -> None:
    root = signed.root
    set_config(signed, "verify_authorship: true",
               "verify_authorship: true\n  forbid_self_approval: true")
    approvers = root / ".deploygate" / "approvers.yaml"
    approvers.write_text(approvers.read_text() + f"  - email: {DEV}\n"
                                                 "    roles: [security-officer]\n")
    commit(root, DEV, "dev is also a security officer")
    (root / "feature.txt").write_text("the change dev wrote\n")
    if hide == "later commit by lee":
        commit(root, DEV, "the release's change")
    else:  # dev commits it with lee named as the author
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "the release's change", email=DEV,
            extra_env={"GIT_AUTHOR_EMAIL": LEE, "GIT_AUTHOR_NAME": "lee"})
    log = root / LOG
    log.write_text("".join(t + "\n" for t in log.read_text().splitlines()
                           if "security-sign-off" not in t))
    append(root, LOG, sam_signs().replace(SAM.encode(), DEV.encode()))
    commit(root, DEV, "dev signs own release")
    (root / "README-typo.txt").write_text("typo\n")
    commit(root, LEE, "one-line fix by lee")
    missing(signed, "security-sign-off", "self-approval is forbidden")


def test_an_author_line_git_reads_differently_is_refused(signed: GateProject) -> None:
    root = signed.root
    log = root / LOG
    log.write_text("".join(t + "\n" for t in log.read_text().splitlines()
                           if "security-sign-off" not in t))
    commit(root, DEV, "security to be signed again")
    append(root, LOG, sam_signs())
    git(root, "add", "-A")
    tree = git(root, "write-tree")
    parent = git(root, "rev-parse", "HEAD")
    body = (f"tree {tree}\nparent {parent}\n"
            f"author Mallory <mallory@evil.example> <{SAM}> 1770123600 +0000\n"
            f"committer Mallory <mallory@evil.example> <{SAM}> 1770123600 +0000\n\nforged\n")
    made = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--literally",
                           "--stdin"], cwd=root, input=body, capture_output=True, text=True,
                          check=True).stdout.strip()
    git(root, "update-ref", "HEAD", made)
    assert git(root, "log", "-1", "--format=%ae") == "mallory@evil.example"
    missing(signed, "security-sign-off", "has an author address that is refused")


def test_escaped_control_characters_in_values_are_refused_without_a_traceback(
        signed: GateProject) -> None:
    root = signed.root
    log = root / LOG
    log.write_text("".join(t + "\n" for t in log.read_text().splitlines()
                           if "security-sign-off" not in t))
    append(root, LOG, sam_signs(evidence="https://x.example/\ud800"))
    append(root, LOG, sam_signs(note="a\x00b\u202e"))
    commit(root, SAM, "sam signs with escapes")
    result = signed.run("--gate=12")
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    found = case(signed, "security-sign-off")
    assert found["outcome"] == "passed"  # the line without a surrogate counts, record written
    drop_last = (root / LOG).read_bytes().rsplit(b"\n", 2)[0] + b"\n"
    (root / LOG).write_bytes(drop_last)
    commit(root, SAM, "only the surrogate line is left")
    missing(signed, "security-sign-off", "holds the lone surrogate U+D800")
