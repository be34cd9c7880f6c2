"""A subtree object rewritten in a kept workspace is no listing of the commit (rt18b A06).

git hashes a commit and the root tree it names, never a subtree it descends into: the job
user overwrote the loose object of HEAD's ``services`` tree with a copy holding one more
entry, a gitlink ``svc-c`` pinning svc-a's signed commit, cloned svc-a's repository into
services/svc-c at that commit and wrote a state svc-c. ``ls-tree`` (the committed listing,
the pinned chain) and ``<commit>:<path>`` (the committed configs) read that subtree as the
commit's: svc-c PASS, verdict 0, judged by svc-a's sign-offs. The trees are walked from the
hashed commit now, each hashed: a forged one is a refusal naming the object store. Real
repositories, the gate and ``deploygate verdict`` as the CI runs them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import zlib
from pathlib import Path

from test_monorepo_release_content import gate, git, verdict
from test_monorepo_submodule_projects import _monorepo

_REFUSAL = "the object store does not hold the tree the commit names"


def _forge_tree_with_gitlink(root: Path, folder: str, name: str, pinned: str,
                             mode: bytes = b"160000") -> None:
    """Overwrite the loose object of HEAD's tree ``folder`` (in the repository at ``root``)
    with that tree plus an entry ``name`` (a gitlink, or ``mode``) naming ``pinned`` (the
    bytes change, the id does not: a forged object)."""
    tree = git(root, "rev-parse", f"HEAD:{folder}").strip()
    raw = subprocess.run(["git", "cat-file", "tree", tree], cwd=root, capture_output=True,
                         check=True).stdout
    entries, at = [], 0
    while at < len(raw):
        space = raw.index(b" ", at)
        nul = raw.index(b"\0", space)
        entries.append((raw[at:space], raw[space + 1:nul], raw[nul + 1:nul + 21]))
        at = nul + 21
    entries.append((mode, name.encode(), bytes.fromhex(pinned)))
    entries.sort(key=lambda entry: entry[1] + (b"/" if entry[0] == b"40000" else b""))
    data = b"".join(mode + b" " + entry + b"\0" + oid for mode, entry, oid in entries)
    objects = Path(git(root, "rev-parse", "--git-path", "objects").strip())
    loose = (objects if objects.is_absolute() else root / objects) / tree[:2] / tree[2:]
    assert loose.is_file()  # (a fresh repository: its objects are loose)
    loose.chmod(0o644)
    loose.write_bytes(zlib.compress(b"tree %d\0" % len(data) + data))


def test_a_forged_subtree_pinning_an_untracked_clone_is_refused(tmp_path: Path) -> None:
    root = _monorepo(tmp_path)
    pinned = git(root, "rev-parse", "HEAD:services/svc-a").strip()
    clone = root / "services" / "svc-c"
    git(root, "clone", "-q", str(root / "services" / "svc-a"), str(clone))
    git(clone, "checkout", "-q", pinned)
    shutil.copytree(root / "services" / "svc-a" / "reports", clone / "reports")
    state = root / ".isdlc" / "projects" / "svc-c" / "state.json"
    state.parent.mkdir()
    state.write_text(json.dumps({"project": {"name": "svc-c", "path": "services/svc-c"},
                                 "phases": {}}))
    # (The untracked clone alone is refused: rt18a A02.)
    assert gate(root, "svc-c").returncode not in (0, 1)
    _forge_tree_with_gitlink(root, "services", "svc-c", pinned)
    forged = gate(root, "svc-c")
    # Before: gate 0, verdict 0 (svc-c judged in svc-a's repository by svc-a's sign-offs).
    assert forged.returncode not in (0, 1), forged.stdout[-3000:]
    assert _REFUSAL in forged.stdout and "git fsck" in forged.stdout, forged.stdout[-3000:]
    refused = verdict(root, "svc-c")
    assert refused.returncode == 4, refused.stderr
    assert _REFUSAL in refused.stderr, refused.stderr


def test_a_forged_subtree_in_a_submodules_store_is_refused(tmp_path: Path) -> None:
    """The same one level down: a subtree of the commit the monorepo pins for svc-a,
    rewritten in svc-a's own store (one more file in its .deploygate/), was listed by
    ``ls-tree -r <pinned>`` as committed there. It is a refusal naming the submodule."""
    root = _monorepo(tmp_path)
    module = root / "services" / "svc-a"
    blob = git(module, "rev-parse", "HEAD:deploygate.yaml").strip()
    _forge_tree_with_gitlink(module, ".deploygate", "extra.jsonl", blob, b"100644")
    forged = gate(root, "svc-a")
    assert forged.returncode not in (0, 1), forged.stdout[-3000:]
    assert "the submodule services/svc-a/ holds at its pinned commit" in forged.stdout and \
        _REFUSAL in forged.stdout, forged.stdout[-3000:]
    assert verdict(root, "svc-a").returncode == 4
