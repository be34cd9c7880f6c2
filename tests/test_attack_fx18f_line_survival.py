"""fx18f: a sign-off line counts as its signer's only if it LIVED ON from the signer's commit
to HEAD, shown by objects whose ids prove them (rt18b A05, A05b, A02).

The DBA signs a line in commit C, the line is withdrawn in R, Eve puts the identical line
back in E (Eve is no signer): the honest gate refuses, as blame names E. In a kept CI
workspace the job user can then write ``.git/objects``:

* A05: ``.git/objects/info/commit-graph`` saying E's parent is C, not R (no object forged:
  built with git itself). git blame takes parents from the graph and names C.
* A05b: the same graph pointing E at an unmerged branch's commit P where the DBA signed.
* A02: one forged loose blob (R's log blob holding the line again): blame walks past R.

fx18d proved only that the named commit adds the line. Now the gate switches git's
commit-graph off, and proves from hashed objects a chain of commits from HEAD back to the
named commit (parents read from the commit objects) whose log holds the line at each step.

A real release repository (examples/release_repo.py) with sign-offs by several signers; the
gate via pytest, ``deploygate verdict`` via the CLI.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest
from test_attack_rt12a import gate, git, verdict

from conftest import release_repo_script

LOG = ".deploygate/attestations.jsonl"
#: The DBA's post-deployment sign-off, which the honest history does not give.
WITHHELD = "data-integrity-issue"
#: Another signer's sign-off, put before the DBA's after it (so the withdrawal's log is new
#: bytes, not an earlier commit's).
OTHER = "critical-functionality-broken"


def _release(tmp_path: Path, *withheld: str) -> tuple[Path, object, list[str]]:
    """The example release without the sign-offs of the ``withheld`` criteria; the module
    and those lines."""
    module = release_repo_script("release_repo_fx18f_line_survival")
    honest = module._signoffs
    lines = [next(line for line in honest() if json.loads(line)["criterion"] == criterion)
             for criterion in withheld]
    module._signoffs = lambda: [line for line in honest() if line not in lines]
    root: Path = module.materialise(tmp_path / "acme-api")
    return root, module, lines


def _commit_log(root: Path, text: str, message: str, who: str) -> str:
    (root / LOG).write_text(text, encoding="utf-8")
    git(root, "add", LOG)
    git(root, "commit", "-qm", message, who=who)
    return git(root, "rev-parse", "HEAD").strip()


def _withdrawn_and_readded(tmp_path: Path) -> tuple[Path, dict[str, str], str]:
    """C (the DBA signs), S (another signer signs after it), R (the DBA withdraws hers), E
    (Eve re-adds the same line at the same place: S's log again), P (the DBA signs again on
    an unmerged branch off R), H (an unrelated commit, HEAD). The commits by name and the
    DBA's line."""
    root, module, (line, other) = _release(tmp_path, WITHHELD, OTHER)
    before = (root / LOG).read_text(encoding="utf-8")
    commits = {"C": _commit_log(root, before + line + "\n", "sign-off: data integrity",
                                json.loads(line)["signer"])}
    commits["S"] = _commit_log(root, before + other + "\n" + line + "\n", "sign-off",
                               json.loads(other)["signer"])
    commits["R"] = _commit_log(root, before + other + "\n", "sign-off withdrawn",
                               json.loads(line)["signer"])
    commits["E"] = _commit_log(root, before + other + "\n" + line + "\n", "tidy the log",
                               "eve@acme.example")
    # P: an unmerged branch off R where the DBA signed again (a rejected merge request).
    head = git(root, "rev-parse", "--abbrev-ref", "HEAD").strip()
    git(root, "checkout", "-q", "-b", "rejected", commits["R"])
    commits["P"] = _commit_log(root, before + other + "\n" + line + "\n", "sign-off (rejected)",
                               json.loads(line)["signer"])
    git(root, "checkout", "-q", head)
    (root / ".deploygate" / "notes.md").write_text("unrelated\n", encoding="utf-8")
    git(root, "add", ".deploygate/notes.md")
    git(root, "commit", "-qm", "notes")
    module._write_reports(root)  # type: ignore[attr-defined]
    return root, commits, line


def _loose(root: Path, object_id: str) -> Path:
    loose = root / ".git" / "objects" / object_id[:2] / object_id[2:]
    assert loose.is_file(), "the test needs the object loose"
    return loose


def _write_loose(loose: Path, kind: bytes, body: bytes) -> None:
    loose.chmod(0o644)
    loose.write_bytes(zlib.compress(kind + b" %d\0" % len(body) + body))


def _graph_with_parent(root: Path, commit: str, parent: str, real_parent: str) -> None:
    """.git/objects/info/commit-graph saying ``commit``'s parent is ``parent``: written by
    git from a briefly swapped copy of the commit object, the real object put back."""
    loose = _loose(root, commit)
    real = loose.read_bytes()
    body = git(root, "cat-file", "commit", commit).replace(f"parent {real_parent}",
                                                           f"parent {parent}")
    _write_loose(loose, b"commit", body.encode())
    git(root, "commit-graph", "write", "--reachable")
    loose.write_bytes(real)
    assert (root / ".git" / "objects" / "info" / "commit-graph").is_file()


@pytest.mark.parametrize("graph_parent", ["before the withdrawal", "unmerged branch"])
def test_a_commit_graph_that_skips_the_withdrawal_does_not_move_the_line(
        tmp_path: Path, graph_parent: str) -> None:
    root, commits, line = _withdrawn_and_readded(tmp_path)
    assert gate(root).returncode != 0  # blame names Eve's E: refused
    parent = commits["S" if graph_parent == "before the withdrawal" else "P"]
    _graph_with_parent(root, commits["E"], parent, commits["R"])
    # (The graph works on git: blame names the DBA's commit for Eve's line.)
    assert f"<{json.loads(line)['signer']}>" in git(root, "blame", "-e", "--",
                                                      LOG).splitlines()[-1]
    done = gate(root)
    assert done.returncode != 0, done.stdout + done.stderr
    assert verdict(root).returncode != 0


def test_a_forged_blob_of_the_withdrawal_does_not_move_the_line(tmp_path: Path) -> None:
    root, commits, line = _withdrawn_and_readded(tmp_path)
    assert gate(root).returncode != 0
    blob = git(root, "rev-parse", f"{commits['R']}:{LOG}").strip()
    _write_loose(_loose(root, blob), b"blob",
                 git(root, "cat-file", "blob", f"{commits['E']}:{LOG}").encode())
    dba = json.loads(line)["signer"]
    # (The forgery works on git: blame names the DBA's commit for Eve's line.)
    assert f"<{dba}>" in git(root, "blame", "-e", "--", LOG).splitlines()[-1]
    done = gate(root)
    assert done.returncode != 0, done.stdout + done.stderr
    assert "run git fsck" in done.stdout, done.stdout
    assert verdict(root).returncode != 0


def test_a_sign_off_merged_from_a_branch_still_counts(tmp_path: Path) -> None:
    """No false refusal: the DBA signs on a branch that is merged after other commits; the
    line lives on through the merge (one parent's chain holds it)."""
    root, module, (line,) = _release(tmp_path, WITHHELD)
    dba = json.loads(line)["signer"]
    head = git(root, "rev-parse", "--abbrev-ref", "HEAD").strip()
    git(root, "checkout", "-q", "-b", "dba")
    text = (root / LOG).read_text(encoding="utf-8")
    _commit_log(root, text + line + "\n", "sign-off: data integrity", dba)
    git(root, "checkout", "-q", head)
    (root / ".deploygate" / "notes.md").write_text("meanwhile\n", encoding="utf-8")
    git(root, "add", ".deploygate/notes.md")
    git(root, "commit", "-qm", "notes")
    git(root, "merge", "-q", "--no-ff", "-m", "merge the DBA's sign-off", "dba")
    git(root, "commit-graph", "write", "--reachable")  # (an honest graph changes nothing)
    module._write_reports(root)  # type: ignore[attr-defined]
    done = gate(root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert verdict(root).returncode == 0


@pytest.mark.parametrize("how", ["merge of a branch off the signing", "commit-tree -p R -p C"])
def test_a_merge_that_puts_a_withdrawn_line_back_does_not_count(tmp_path: Path,
                                                                how: str) -> None:
    """rt18c A01/A01c (no object forged, a fresh clone would do): the DBA signs (C) and
    withdraws (R); Eve merges a branch holding C's line (her own harmless commit off C, or C
    itself as the second parent) and keeps the line in the merge, which a three-way merge
    drops (R's withdrawal wins). Blame passes the line to the parent holding it and names C;
    the chain merge -> that parent -> C holds it. A merge holding a line that a parent
    withdrew after the claimed commit gives no signer that line."""
    root, module, (line,) = _release(tmp_path, WITHHELD)
    dba = json.loads(line)["signer"]
    eve = "eve@acme.example"
    before = (root / LOG).read_text(encoding="utf-8")
    signed = _commit_log(root, before + line + "\n", "sign-off: data integrity", dba)
    withdrawn = _commit_log(root, before, "sign-off withdrawn", dba)
    head = git(root, "rev-parse", "--abbrev-ref", "HEAD").strip()
    if how.startswith("merge"):
        git(root, "checkout", "-q", "-b", "side", signed)
        (root / ".deploygate" / "notes.md").write_text("harmless\n", encoding="utf-8")
        git(root, "add", ".deploygate/notes.md")
        git(root, "commit", "-qm", "notes", who=eve)
        git(root, "checkout", "-q", head)
        git(root, "merge", "-q", "--no-ff", "--no-commit", "side", who=eve)
        (root / LOG).write_text(before + line + "\n", encoding="utf-8")
        git(root, "add", LOG)
        git(root, "commit", "-qm", "merge side", who=eve)
    else:
        (root / LOG).write_text(before + line + "\n", encoding="utf-8")
        git(root, "add", LOG)
        tree = git(root, "write-tree").strip()
        merge = git(root, "commit-tree", tree, "-p", withdrawn, "-p", signed, "-m", "merge",
                    who=eve).strip()
        git(root, "reset", "-q", "--hard", merge)
    assert f"<{dba}>" in git(root, "blame", "-e", "--", LOG).splitlines()[-1]
    module._write_reports(root)  # type: ignore[attr-defined]
    done = gate(root)
    assert done.returncode != 0, done.stdout + done.stderr
    assert "withdrawn it: the signer signs again" in done.stdout, done.stdout[-3000:]
    assert verdict(root).returncode != 0


def test_a_parent_header_git_does_not_read_leads_the_walk_nowhere(tmp_path: Path) -> None:
    """rt18c A02: Eve's commit E re-adding the DBA's withdrawn line carries a second
    ``parent`` header after its committer line (``git hash-object`` takes it; git reads
    parents only right after ``tree``), naming her commit X off S (after the DBA's C); R's
    log blob is
    forged (kept workspace) so that blame walks past the withdrawal to C. The survival walk
    took the hidden header as a parent and reached C through X. A commit object whose
    parents git would not read as such proves nothing. (The merge rule, reading R's forged
    blob as E's other parent, stops it too: either layer alone.)"""
    root, module, (line, other) = _release(tmp_path, WITHHELD, OTHER)
    dba, eve = json.loads(line)["signer"], "eve@acme.example"
    before = (root / LOG).read_text(encoding="utf-8")
    head = git(root, "rev-parse", "--abbrev-ref", "HEAD").strip()
    _commit_log(root, before + line + "\n", "sign-off: data integrity", dba)
    both = _commit_log(root, before + other + "\n" + line + "\n", "sign-off",
                       json.loads(other)["signer"])
    withdrawn = _commit_log(root, before + other + "\n", "sign-off withdrawn", dba)
    git(root, "checkout", "-q", "-b", "x", both)
    (root / ".deploygate" / "notes.md").write_text("harmless\n", encoding="utf-8")
    git(root, "add", ".deploygate/notes.md")
    git(root, "commit", "-qm", "notes", who=eve)
    side = git(root, "rev-parse", "HEAD").strip()
    git(root, "checkout", "-q", head)
    readded = before + other + "\n" + line + "\n"
    (root / LOG).write_text(readded, encoding="utf-8")
    git(root, "add", LOG)
    tree = git(root, "write-tree").strip()
    who = f"Eve <{eve}> 1760000000 +0000"
    body = (f"tree {tree}\nparent {withdrawn}\nauthor {who}\ncommitter {who}\n"
            f"parent {side}\n\ntidy the log\n")
    written = tmp_path / "commit-body"
    written.write_text(body, encoding="utf-8")
    hidden = git(root, "hash-object", "-t", "commit", "-w", str(written)).strip()
    git(root, "reset", "-q", "--hard", hidden)
    blob = git(root, "rev-parse", f"{withdrawn}:{LOG}").strip()
    _write_loose(_loose(root, blob), b"blob", readded.encode())
    assert f"<{dba}>" in git(root, "blame", "-e", "--", LOG).splitlines()[-1]
    module._write_reports(root)  # type: ignore[attr-defined]
    done = gate(root)
    assert done.returncode != 0, done.stdout + done.stderr
    assert verdict(root).returncode != 0
