"""A reviewed file (the approvers file, ...) is the bytes its commit holds, or what checking
them out writes under the repository's committed .gitattributes: never converted by what the
job itself sets (``.git/config``, ``.git/info/attributes``, an uncommitted .gitattributes).

The job's git configuration and attributes decided what "as checked out" meant for the
approvers file: with ``working-tree-encoding=ISO646-NO`` (a national ASCII variant, whose
Æ and Å are the bytes of ASCII [ and ]) set in ``.git/info/attributes``, a reviewed approvers
file with the odd line ``roles: Æsre, security-officerÅ`` (an unknown role) is checked out
as ``roles: [sre, security-officer]``: git status clean, the file "as committed", and the sre
signed the security sign-off (PASS). Line endings set by ``core.autocrlf``/``core.eol`` were
the job's to choose as well.

The bundled example as a real multi-author release repository (tests/test_attack_rt12a.py),
``pytest --gate=12`` and ``deploygate verdict`` in subprocesses.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from test_attack_rt12a import (
    _no_security_sign_off,
    _sign_as_security_officer,
    build,
    ci_reports,
    decision,
    gate,
    git,
    verdict,
)

MARIA = "maria.lopez@acme.example"
APPROVERS = ".deploygate/approvers.yaml"
NOT_AS_COMMITTED = f"approvers file {APPROVERS} is not as committed"


def _commit_approvers(root: Path, text: str) -> None:
    (root / APPROVERS).write_text(text, encoding="utf-8")
    git(root, "add", APPROVERS, who=MARIA)
    git(root, "commit", "-q", "-m", "approvers: tidy", who=MARIA)


def _granting(root: Path) -> str:
    """The approvers file as committed, with the sre Chen also a security officer."""
    text = (root / APPROVERS).read_text()
    return text.replace("roles: [sre]", "roles: [sre, security-officer]")


def _info_attributes(root: Path, line: str) -> None:
    (root / ".git" / "info").mkdir(exist_ok=True)
    (root / ".git" / "info" / "attributes").write_text(line + "\n")


def _untracked_attributes(root: Path, line: str) -> None:
    (root / ".deploygate" / ".gitattributes").write_text(line.split(" ", 1)[1]
                                                         .join(["approvers.yaml ", ""]) + "\n")


def _attributes_file(root: Path, line: str) -> None:
    (root / ".git" / "job-attributes").write_text(line + "\n")
    git(root, "config", "core.attributesFile", str(root / ".git" / "job-attributes"))


@pytest.mark.parametrize("setting", [_info_attributes, _untracked_attributes,
                                     _attributes_file])
def test_an_encoding_the_job_sets_grants_no_role(
        tmp_path: Path, setting: Callable[[Path, str], None]) -> None:
    root = build(tmp_path, _no_security_sign_off)
    granting = _granting(root)
    # Reviewed and committed: no bracket anywhere, Chen's roles an odd string (no role).
    reviewed = "".join(line + "\n" for line in granting.splitlines()
                       if not line.startswith("#"))
    reviewed = reviewed.replace("[", "Æ").replace("]", "Å")
    _commit_approvers(root, reviewed)
    setting(root, f"{APPROVERS} working-tree-encoding=ISO646-NO")
    (root / APPROVERS).unlink()
    git(root, "checkout", "--", APPROVERS)  # what the job's git writes
    assert "roles: [sre, security-officer]" in (root / APPROVERS).read_text()
    _sign_as_security_officer(root)
    done = gate(root)
    # Before: the work-tree file was "as checked out", Chen a security officer: PASS.
    assert done.returncode == 1, done.stdout[-3000:]
    assert decision(root) == "FAIL"
    assert NOT_AS_COMMITTED in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert verdict(root).returncode != 0


def _with_attributes(text: str) -> Callable[[Path], None]:
    """Prepare the example: no security sign-off, and ``text`` as its committed
    .gitattributes (release content, reviewed and signed with the rest)."""
    def prepare(source: Path) -> None:
        _no_security_sign_off(source)
        (source / ".gitattributes").write_text(text)
    return prepare


@pytest.mark.parametrize("config", [("core.autocrlf", "true"), ("core.eol", "crlf")])
def test_line_endings_the_job_sets_do_not_make_another_file_committed(
        tmp_path: Path, config: tuple[str, str]) -> None:
    root = build(tmp_path, _with_attributes("* text=auto\n"))
    _commit_approvers(root, _granting(root))
    git(root, "config", *config)
    (root / APPROVERS).unlink()
    git(root, "checkout", "--", APPROVERS)  # CRLF, by the job's configuration
    assert b"\r\n" in (root / APPROVERS).read_bytes()
    done = gate(root)
    # Before: "as checked out" by the job's own line-ending setting.
    assert NOT_AS_COMMITTED in done.stdout, done.stdout[-3000:]
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize("attributes", ["* text=auto\n", "*.yaml text eol=crlf\n",
                                        "*.yaml ident\n"])
def test_committed_attributes_still_decide_how_a_reviewed_file_is_checked_out(
        tmp_path: Path, attributes: str) -> None:
    # Honest: the repository commits its .gitattributes; the approvers file checked out under
    # them (LF on Linux for text=auto, CRLF for eol=crlf, $Id$ expanded) is the reviewed file.
    root = build(tmp_path, _with_attributes(attributes))
    _commit_approvers(root, _granting(root).replace("# Who may", "# $Id$ Who may"))
    (root / APPROVERS).unlink()
    git(root, "checkout", "--", APPROVERS)
    checked_out = (root / APPROVERS).read_bytes()
    assert (b"\r\n" in checked_out) == ("crlf" in attributes)
    assert (b"$Id: " in checked_out) == ("ident" in attributes)
    _sign_as_security_officer(root)
    ci_reports(root)  # (after the last commit, which moved HEAD: rt16b A02)
    done = gate(root)
    assert done.returncode == 0, done.stdout[-3000:]
    assert verdict(root).returncode == 0


def _app(source: Path) -> None:
    (source / "app.py").write_text('FLAGS = "Ædebug-offÅ"\n', encoding="utf-8")


def test_release_content_checked_out_by_an_encoding_the_job_sets_is_uncommitted(
        tmp_path: Path) -> None:
    # The same conversion on release content: the code in the work tree is not the code the
    # release commit holds (brackets where the commit has Æ and Å), yet git status is clean.
    root = build(tmp_path, _app)
    _info_attributes(root, "app.py working-tree-encoding=ISO646-NO")
    (root / "app.py").unlink()
    git(root, "checkout", "--", "app.py")
    assert (root / "app.py").read_text() == 'FLAGS = "[debug-off]"\n'
    gate(root)
    assert "deploygate.dirty\" value=\"true\"" in (root / "gate-records" / "GATE-12.xml"
                                                   ).read_text()
    done = verdict(root)
    assert done.returncode == 4
    assert "uncommitted changes to release content (app.py" in done.stderr
