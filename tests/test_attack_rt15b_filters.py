"""rt15b A08: a filter driver of the job's own git configuration (``.git/config``, with the
attribute in ``.git/info/attributes`` or ``core.attributesFile``) made the gate's "what
checking the blob out writes" print the attacker's file, so a never-reviewed local edit of the
approvers file, or of release content, was "as committed". Git LFS release content, whose
committed pointer names the content by SHA-256, still counts as committed.

Real release repositories (examples/release_repo.py), the gate via pytest, deploygate verdict.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest
from test_attack_rt12a import (
    _no_security_sign_off,
    _sign_as_security_officer,
    build,
    decision,
    gate,
    git,
    verdict,
)

CLEAN_AS_LFS = """import hashlib, sys
data = sys.stdin.buffer.read()
sys.stdout.write("version https://git-lfs.github.com/spec/v1\\noid sha256:%s\\nsize %d\\n"
                 % (hashlib.sha256(data).hexdigest(), len(data)))
"""


def _smudge_to(root: Path, path: str, driver: str, shown: Path, how: str) -> None:
    """A driver ``driver`` in .git/config printing ``shown`` for ``path``, its attribute set
    where ``how`` says (both the job user's files, never committed)."""
    line = f"{path} filter={driver}\n"
    if how == "info/attributes":
        with (root / ".git" / "info" / "attributes").open("a") as handle:
            handle.write(line)
    else:
        elsewhere = shown.parent / "attributes"
        elsewhere.write_text(line)
        git(root, "config", "core.attributesFile", str(elsewhere))
    git(root, "config", f"filter.{driver}.smudge", f"cat {shown}")


@pytest.mark.parametrize(("how", "driver"), [("info/attributes", "ev"),
                                             ("core.attributesFile", "e=v")])
def test_an_approvers_edit_behind_a_smudge_filter_grants_no_role(
        tmp_path: Path, how: str, driver: str) -> None:
    root = build(tmp_path, _no_security_sign_off)
    approvers = root / ".deploygate" / "approvers.yaml"
    approvers.write_text(approvers.read_text().replace("roles: [sre]",
                                                       "roles: [sre, security-officer]"))
    shown = tmp_path / "evil" / "approvers.yaml"
    shown.parent.mkdir()
    shown.write_bytes(approvers.read_bytes())
    _smudge_to(root, ".deploygate/approvers.yaml", driver, shown, how)
    _sign_as_security_officer(root)
    done = gate(root)
    assert done.returncode == 1, done.stdout
    assert decision(root) == "FAIL"
    assert "approvers file .deploygate/approvers.yaml is not as committed" in done.stdout
    assert verdict(root).returncode != 0


def test_a_release_edit_behind_clean_and_smudge_filters_is_uncommitted(tmp_path: Path) -> None:
    root = build(tmp_path, lambda source: (source / "app.py").write_text("DEBUG = False\n"))
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "committed.py").write_text("DEBUG = False\n")
    (keep / "edited.py").write_text("DEBUG = True\n")
    (root / "app.py").write_text("DEBUG = True\n")
    # clean: git diff sees the committed file; smudge: "checking out" writes the edit.
    git(root, "config", "filter.ev.clean", f"cat {keep / 'committed.py'}")
    _smudge_to(root, "app.py", "ev", keep / "edited.py", "info/attributes")
    assert git(root, "diff", "--name-only", "HEAD") == ""
    gate(root)
    assert 'deploygate.dirty" value="true"' in (root / "gate-records" / "GATE-12.xml").read_text()
    done = verdict(root)
    assert done.returncode == 4
    assert "uncommitted changes to release content (app.py" in done.stderr


def _lfs_tracked(source: Path) -> None:
    data = b"\x00model weights\xff" * 64
    (source / ".gitattributes").write_text("*.bin filter=lfs diff=lfs merge=lfs -text\n")
    (source / "model.bin").write_text(
        "version https://git-lfs.github.com/spec/v1\n"
        f"oid sha256:{hashlib.sha256(data).hexdigest()}\nsize {len(data)}\n")
    (source.parent / "model.object").write_bytes(data)


@pytest.mark.parametrize("config", ["local", "user"])
@pytest.mark.parametrize("content", ["the pointer's object", "another object"])
def test_release_content_tracked_by_git_lfs(tmp_path: Path, content: str, config: str) -> None:
    """As a checkout leaves it, git-lfs installed in the repository (``git lfs install
    --local``, actions/checkout's ``lfs: true``) or for the runner's user only, whose
    configuration the gate's git never reads. (git-lfs itself is not needed: the gate never
    runs a smudge filter, and the clean one here is the LFS pointer format.)"""
    root = build(tmp_path, _lfs_tracked)
    data = (tmp_path / "model.object").read_bytes()
    (root / "model.bin").write_bytes(data if content == "the pointer's object" else data + b"!")
    if config == "local":
        clean = tmp_path / "lfs_clean.py"
        clean.write_text(CLEAN_AS_LFS)
        if content == "the pointer's object":
            git(root, "config", "filter.lfs.clean", f"{sys.executable} {clean}")
        else:  # a clean filter that lies: git diff sees the committed pointer
            (tmp_path / "pointer").write_bytes(git(root, "show", "HEAD:model.bin").encode())
            git(root, "config", "filter.lfs.clean", f"cat {tmp_path / 'pointer'}")
        git(root, "config", "filter.lfs.smudge", "git-lfs smudge -- %f")
        git(root, "config", "filter.lfs.required", "true")
        assert git(root, "diff", "--name-only", "HEAD") == ""
    done = gate(root)
    record = (root / "gate-records" / "GATE-12.xml").read_text()
    if content == "the pointer's object":
        assert done.returncode == 0, done.stdout
        assert verdict(root).returncode == 0
    else:
        assert 'deploygate.dirty" value="true"' in record
        found = verdict(root)
        assert found.returncode == 4
        assert "uncommitted changes to release content (model.bin" in found.stderr
