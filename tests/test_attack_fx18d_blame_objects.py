"""fx18d: a sign-off's signer is the author of the commit git blame names for its line, and
blame reads history objects from the store without hashing them.

In a kept CI workspace the job user can write ``.git/objects``: Eve commits a sign-off line
naming the DBA in her own commit (blame names her: refused), then overwrites the loose blobs
of the log at the DBA's earlier commit, and every commit since, with their own bytes plus her
line. git blame then hands the line back to the DBA's commit, and the gate passed. Each line
blame attributes is now proven with hashed objects (the commit, its trees down to the log,
the blob holding the line, each parent's blob not holding it), or it is not attributed.

A real release repository (examples/release_repo.py) with sign-offs by several signers;
objects forged as git writes them (zlib, ``.git/objects/xx/yyyy``); the gate via pytest,
``deploygate verdict`` via the CLI.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

from test_attack_rt12a import gate, git, verdict

from conftest import release_repo_script

LOG = ".deploygate/attestations.jsonl"
#: The DBA's post-deployment sign-off, which the honest history does not give.
WITHHELD = "data-integrity-issue"


def _release(tmp_path: Path) -> tuple[Path, object, str]:
    """The example release without the DBA's last sign-off; that line and the module."""
    module = release_repo_script("release_repo_fx18d_blame_objects")
    honest = module._signoffs
    withheld = next(line for line in honest() if json.loads(line)["criterion"] == WITHHELD)
    module._signoffs = lambda: [line for line in honest() if line != withheld]
    root: Path = module.materialise(tmp_path / "acme-api")
    return root, module, withheld


def _eve_commits(root: Path, module: object, line: str) -> None:
    """Eve appends the line in a commit of her own; the CI's reports are written after it."""
    with (root / LOG).open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    git(root, "add", LOG)
    git(root, "commit", "-qm", "sign-off: data integrity")
    module._write_reports(root)  # type: ignore[attr-defined]


def _forge_history(root: Path, line: str) -> None:
    """Every loose blob of the log from the DBA's last commit up to Eve's parent rewritten
    to hold the line too (same ids), so blame walks it back to the DBA's commit."""
    signer = json.loads(line)["signer"]
    dba = git(root, "log", "-1", "--format=%H", f"--author={signer}", "HEAD~1").strip()
    commits = [*git(root, "rev-list", "--ancestry-path", f"{dba}..HEAD~1").split(), dba]
    for blob in {git(root, "rev-parse", f"{commit}:{LOG}").strip() for commit in commits}:
        body = git(root, "cat-file", "blob", blob).encode() + line.encode() + b"\n"
        loose = root / ".git" / "objects" / blob[:2] / blob[2:]
        assert loose.is_file(), "the test needs the log's blobs as loose objects"
        loose.chmod(0o644)
        loose.write_bytes(zlib.compress(b"blob %d\0" % len(body) + body))
    # (The forgery works: git blame now names the DBA's commit for Eve's line.)
    assert f"<{signer}>" in git(root, "blame", "-e", "--", LOG).splitlines()[-1]


def test_a_sign_off_moved_to_an_earlier_commit_by_forged_blobs_is_not_attributed(
        tmp_path: Path) -> None:
    root, module, line = _release(tmp_path)
    _eve_commits(root, module, line)
    assert gate(root).returncode != 0  # blame names Eve: refused, as always
    _forge_history(root, line)
    done = gate(root)
    assert done.returncode != 0, done.stdout + done.stderr
    assert "run git fsck" in done.stdout, done.stdout
    assert verdict(root).returncode != 0


def test_an_honest_release_signed_by_several_people_passes(tmp_path: Path) -> None:
    """No false refusal: the same history with the DBA's own commit of the line passes."""
    root, module, line = _release(tmp_path)
    with (root / LOG).open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    git(root, "add", LOG)
    git(root, "commit", "-qm", "sign-off: data integrity", who=json.loads(line)["signer"])
    module._write_reports(root)  # type: ignore[attr-defined]
    done = gate(root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert verdict(root).returncode == 0
