"""The release dirty check compares under the gate's own settings, in the gate's own folders.

1. The job's ``.git/config`` chose what git counted as a change: ``core.autocrlf`` (true or
   input) or ``core.eol=crlf`` made a CR/LF-only edit of a file with no ``text`` attribute
   compare equal to HEAD, ``core.filemode=false`` an executable bit set by hand, and
   ``core.symlinks=false`` a committed link replaced by a file holding its target: a clean
   release, bound by ``deploygate verdict``. HEAD's committed .gitattributes still choose
   each file's conversion, so an honest checkout (CRLF written by git under them) is clean.
2. The gate's private temporary folders followed TMPDIR, which the job sets, into the work
   tree: pointed at the checklist folder, the gate's own git home sat there as an uncommitted
   checklist folder and an honest release was refused as dirty.

The bundled example as a real multi-author release repository (tests/test_attack_rt12a.py),
``pytest --gate=12`` and ``deploygate verdict`` in subprocesses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from test_attack_rt12a import build, git

from conftest import INNER_ARGS

DIRTY = 'deploygate.dirty" value="true"'


def _app(source: Path) -> None:
    (source / "app.py").write_bytes(b"DEBUG = False\nLEVEL = 1\n")
    (source / "run.sh").write_bytes(b"echo release\n")
    os.symlink("app.py", source / "current.py")


def _crlf(root: Path) -> None:
    (root / "app.py").write_bytes(b"DEBUG = False\r\nLEVEL = 1\r\n")


def _executable(root: Path) -> None:
    (root / "run.sh").chmod(0o755)


def _link_made_a_file(root: Path) -> None:
    (root / "current.py").unlink()
    (root / "current.py").write_bytes(b"app.py")


def _gate(root: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", *INNER_ARGS, "--gate=12"],
                          cwd=root, capture_output=True, text=True, check=False,
                          env={**os.environ, **(env or {})})


def _verdict(root: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_deploygate", "verdict",
                           "gate-records/GATE-12.xml"], cwd=root, capture_output=True,
                          text=True, check=False, env={**os.environ, **(env or {})})


@pytest.mark.parametrize(("setting", "edit", "path"), [
    (("core.autocrlf", "true"), _crlf, "app.py"),
    (("core.autocrlf", "input"), _crlf, "app.py"),
    (("core.eol", "crlf"), _crlf, "app.py"),
    (("core.filemode", "false"), _executable, "run.sh"),
    (("core.symlinks", "false"), _link_made_a_file, "current.py"),
])
def test_a_change_the_jobs_git_configuration_hides_is_uncommitted(
        tmp_path: Path, setting: tuple[str, str], edit: Callable[[Path], None],
        path: str) -> None:
    root = build(tmp_path, _app)
    git(root, "config", *setting)
    edit(root)
    done = _gate(root)
    # Before: a clean release, bound by verdict (exit 0). The record says dirty now, and
    # verdict refuses it.
    assert DIRTY in (root / "gate-records" / "GATE-12.xml").read_text(), done.stdout[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
    judged = _verdict(root)
    assert judged.returncode != 0
    assert f"uncommitted changes to release content ({path}" in judged.stderr


def _windows_style(source: Path) -> None:
    # An honest repository kept for Windows: text=auto committed, and CRLF asked for on
    # checkout by the committed attributes (the blobs hold LF).
    (source / "app.py").write_bytes(b"DEBUG = False\r\nLEVEL = 1\r\n")
    (source / "notes.txt").write_bytes(b"line one\nline two\n")
    (source / ".gitattributes").write_text("* text=auto\n*.py text=auto eol=crlf\n"
                                           "*.txt text eol=crlf\n")


@pytest.mark.parametrize("autocrlf", [None, "true"])
def test_an_honest_checkout_under_committed_attributes_is_clean(
        tmp_path: Path, autocrlf: str | None) -> None:
    root = build(tmp_path, _windows_style)
    assert b"\r" not in git(root, "cat-file", "blob", "HEAD:app.py").encode()
    if autocrlf:
        git(root, "config", "core.autocrlf", autocrlf)
    for name in ("app.py", "notes.txt"):
        (root / name).unlink()
    git(root, "checkout", "--", "app.py", "notes.txt")  # what git writes
    assert (root / "app.py").read_bytes() == b"DEBUG = False\r\nLEVEL = 1\r\n"
    assert (root / "notes.txt").read_bytes() == b"line one\r\nline two\r\n"
    done = _gate(root)
    assert done.returncode == 0, done.stdout[-3000:]
    assert DIRTY not in (root / "gate-records" / "GATE-12.xml").read_text()
    assert _verdict(root).returncode == 0


@pytest.mark.parametrize("inside", [".isdlc/checklists", ".git/tmp", "tmp"])
def test_the_gates_temporary_folders_never_land_in_the_repository(
        tmp_path: Path, inside: str) -> None:
    root = build(tmp_path, lambda source: None)
    folder = root / inside
    folder.mkdir(parents=True, exist_ok=True)
    env = {"TMPDIR": str(folder)}
    done = _gate(root, env)
    # Before: the gate's git home (and its scratch index, its throwaway checkout repository)
    # sat in the work tree; in the checklist folder, an uncommitted checklist: refused.
    assert done.returncode == 0, done.stdout[-3000:]
    assert DIRTY not in (root / "gate-records" / "GATE-12.xml").read_text()
    assert _verdict(root, env).returncode == 0
    assert not [p for p in folder.iterdir() if p.name.startswith("deploygate-")]
