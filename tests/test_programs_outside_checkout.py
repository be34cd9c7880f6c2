"""The job's PATH never chooses the git, ssh-keygen or gpg the gate runs (rt15a attack 4).

A committed ``tools/bin/git`` first on the job's PATH rewrote git's answers: a sign-off
committed by a look-alike address was credited to the approver, and the recipes' hardened,
signed run said PASS. A committed ``ssh-keygen`` told git that any SSH signature was good.
Each test commits such a wrapper in a real repository, puts it on PATH (absolute, relative,
or through a link outside the checkout) and runs ``pytest --gate=12`` and the
``deploygate`` CLI, as a CI job would.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import GateProject

_BESIDE = Path(sys.executable).parent / "deploygate"
DEPLOYGATE = str(_BESIDE) if _BESIDE.is_file() else shutil.which("deploygate") or ""
LOG = ".deploygate/attestations.jsonl"
APPROVERS = ".deploygate/approvers.yaml"
SAM = "sam.okafor@acme.example"
#: The attacker's address: as long as sam's, so a rewrite keeps git's byte counts right.
LOOKALIKE = "sam.okafox@acme.example"
DEV = "dev@acme.example"
REAL_GIT = shutil.which("git") or "git"


def git(root: Path, *args: str, email: str = DEV) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": email.split("@")[0], "GIT_AUTHOR_EMAIL": email,
           "GIT_COMMITTER_NAME": email.split("@")[0], "GIT_COMMITTER_EMAIL": email}
    return subprocess.run([REAL_GIT, "-c", "core.hooksPath=/dev/null", *args], cwd=root,
                          check=True, env=env, capture_output=True, text=True).stdout.strip()


def commit(root: Path, email: str, message: str, *options: str) -> None:
    git(root, "add", "-A", email=email)
    git(root, *options, "commit", "-q", "-m", message, email=email)


def sam_signs(root: Path, note: str = "") -> None:
    entry = {"gate": 12, "criterion": "security-sign-off", "signer": SAM,
             "role": "security-officer", "at": "2026-02-03T12:00:00Z"}
    with (root / LOG).open("a") as handle:
        handle.write(json.dumps({**entry, "note": note} if note else entry) + "\n")


def drop_security_sign_off(root: Path) -> None:
    log = root / LOG
    kept = [t for t in log.read_text().splitlines()
            if json.loads(t)["criterion"] != "security-sign-off"]
    log.write_text("".join(t + "\n" for t in kept))
    commit(root, DEV, "security sign-off to be given again")


def committed_program(root: Path, name: str, script: str) -> Path:
    """``tools/bin/NAME``, executable and committed (by dev, as release content)."""
    folder = root / "tools" / "bin"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(script)
    (folder / name).chmod(0o755)
    commit(root, DEV, f"tools: {name}")
    return folder


def path_entry(root: Path, folder: Path, how: str, tmp_path: Path) -> str:
    """The job's PATH entry naming ``folder``: absolute, relative to the checkout (the job
    starts there), or a link outside the checkout that leads into it."""
    if how == "relative":
        return os.path.relpath(folder, root)
    if how == "link":
        link = tmp_path / "job-tools"
        link.symlink_to(folder)
        return str(link)
    return str(folder)


def cli(root: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    assert DEPLOYGATE, "the deploygate console script is installed with the package"
    env = dict(os.environ)
    if path is not None:
        env["PATH"] = path
    return subprocess.run([DEPLOYGATE, *args], cwd=root, capture_output=True, text=True,
                          env=env)


@pytest.fixture
def signed(example: GateProject) -> GateProject:
    """The example as a repository: dev committed the release, every signer their lines."""
    return signed_release(example, {})


def signed_release(example: GateProject, tools: dict[str, str]) -> GateProject:
    """:func:`signed`, with executables ``tools/bin/NAME`` committed in the release."""
    root = example.root
    for name, script in tools.items():
        (root / "tools" / "bin").mkdir(parents=True, exist_ok=True)
        (root / "tools" / "bin" / name).write_text(script)
        (root / "tools" / "bin" / name).chmod(0o755)
    config = root / "deploygate.yaml"
    config.write_text(config.read_text().replace("verify_authorship: false",
                                                 "verify_authorship: true", 1))
    log = root / LOG
    entries = [json.loads(text) for text in log.read_text().splitlines()]
    log.write_text("")
    git(root, "init", "-q", "-b", "main")
    commit(root, DEV, "release 1.4.0")
    for signer in dict.fromkeys(e["signer"] for e in entries):
        with log.open("a") as handle:
            handle.writelines(json.dumps(e) + "\n" for e in entries if e["signer"] == signer)
        commit(root, signer, f"sign-offs by {signer}")
    assert example.run("--gate=12").ret == 0, "the baseline passes"
    return example


_REWRITING_GIT = f"""#!/bin/sh
# git with the team's identity fix-ups
{REAL_GIT} "$@" > "${{TMPDIR:-/tmp}}/.git-out.$$"; code=$?
sed 's/{LOOKALIKE.split("@")[0]}@/{SAM.split("@")[0]}@/g' "${{TMPDIR:-/tmp}}/.git-out.$$"
rm -f "${{TMPDIR:-/tmp}}/.git-out.$$"; exit $code
"""


@pytest.mark.parametrize("how", ["absolute", "relative", "link"])
def test_a_committed_git_on_path_cannot_credit_a_sign_off_to_the_approver(
        signed: GateProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        how: str) -> None:
    root = signed.root
    drop_security_sign_off(root)
    folder = committed_program(root, "git", _REWRITING_GIT)
    sam_signs(root)
    commit(root, LOOKALIKE, "security sign-off")
    # The wrapper works: git run through it names sam as the author.
    entry = path_entry(root, folder, how, tmp_path)
    job_path = f"{entry}{os.pathsep}{os.environ['PATH']}"
    wrapped = subprocess.run(["git", "log", "-1", "--format=%ae"], cwd=root, text=True,
                             capture_output=True, env={**os.environ, "PATH": job_path})
    assert wrapped.stdout.strip() == SAM
    monkeypatch.setenv("PATH", job_path)
    signed.run("--gate=12")
    found = signed.record().case("security-sign-off")
    assert found["type"] == "evidence-missing", found
    assert f"line was added by {LOOKALIKE}" in found["message"]
    assert cli(root, "verdict", "gate-records/GATE-12.xml").returncode == 1
    assert cli(root, "verdict", "gate-records/GATE-12.xml", path=job_path).returncode == 1


def test_neither_the_gate_nor_the_verdict_ever_starts_a_committed_git(
        example: GateProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A committed git that passes everything on to the real one (so every answer is right)
    and notes that it ran: whatever it could have answered, it must never run at all."""
    ran = tmp_path / "committed-git-ran"
    signed = signed_release(example, {"git": f"""#!/bin/sh
echo "$*" >> "{ran}"
exec {REAL_GIT} "$@"
"""})
    root = signed.root
    job_path = f"{root / 'tools' / 'bin'}{os.pathsep}{os.environ['PATH']}"
    monkeypatch.setenv("PATH", job_path)
    assert signed.run("--gate=12").ret == 0
    assert signed.record().decision == "PASS"
    done = cli(root, "verdict", "gate-records/GATE-12.xml", path=job_path)
    assert done.returncode == 0, done.stdout + done.stderr
    # deploygate attest runs git as the user (their identity, their signing): not this one.
    git(root, "config", "user.email", SAM)
    git(root, "config", "user.name", "Sam Okafor")
    done = cli(root, "attest", "12", "security-sign-off", "--role", "security-officer",
               "--commit", path=job_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not ran.exists(), ran.read_text()[:500]


def test_a_committed_ssh_keygen_on_path_cannot_make_a_signature_good(
        signed: GateProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not shutil.which("ssh-keygen"):
        pytest.skip("ssh-keygen is not installed")
    root = signed.root
    keys = {}
    for who in ("sam", "eve"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", who, "-f",
                        str(tmp_path / who)], check=True)
        keys[who] = (tmp_path / f"{who}.pub").read_text().strip()
    sam_fingerprint = subprocess.run(["ssh-keygen", "-lf", str(tmp_path / "sam.pub")],
                                     check=True, capture_output=True,
                                     text=True).stdout.split()[1]
    approvers = root / APPROVERS
    approvers.write_text(approvers.read_text().replace(
        f"  - email: {SAM}\n", f"  - email: {SAM}\n    ssh_keys: ['{keys['sam']}']\n"))
    config = root / "deploygate.yaml"
    config.write_text(config.read_text().replace(
        "verify_authorship: true", "verify_authorship: true\n  require_signed_commits: true"))
    commit(root, DEV, "require signed sign-offs")
    drop_security_sign_off(root)
    # ssh-keygen "with the team's allowed signers": every signature good, by sam's key.
    folder = committed_program(root, "ssh-keygen", f"""#!/bin/sh
case "$*" in
  *find-principals*) echo "{SAM}"; exit 0 ;;
  *"-Y verify"*|*check-novalidate*) cat > /dev/null
    echo 'Good "git" signature for {SAM} with ED25519 key {sam_fingerprint}'; exit 0 ;;
esac
exec {shutil.which("ssh-keygen")} "$@"
""")
    sam_signs(root)
    # Authored as sam (the attacker can name anyone), signed with eve's own key.
    commit(root, SAM, "security sign-off", "-c", "gpg.format=ssh", "-c",
           f"user.signingkey={tmp_path / 'eve'}", "-c", "commit.gpgsign=true")
    job_path = f"{folder}{os.pathsep}{os.environ['PATH']}"
    monkeypatch.setenv("PATH", job_path)
    signed.run("--gate=12")
    found = signed.record().case("security-sign-off")
    assert found["type"] == "evidence-missing", found
    assert "signed by a key that is not listed for the signer" in found["message"]
    assert cli(root, "verdict", "gate-records/GATE-12.xml", path=job_path).returncode == 1


def test_git_found_nowhere_but_the_checkout_is_refused_in_one_line(
        signed: GateProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a machine whose only git is the checkout's (here: no system folder holds git and
    the job's PATH names only the checkout), the gate never runs it: the release cannot be
    identified, which is no pass, and the reason names git and what to do."""
    root = signed.root
    folder = committed_program(root, "git", f'#!/bin/sh\nexec {REAL_GIT} "$@"\n')
    programs = importlib.import_module("pytest_deploygate.core.programs")
    monkeypatch.setattr(programs, "SYSTEM_FOLDERS", ("/nonexistent-system-folder",))
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{Path(sys.executable).parent}")
    result = signed.run("--gate=12")
    assert result.ret != 0
    text = result.stdout.str() + result.stderr.str()
    assert "git was not found in the system folders" in text
    assert "Traceback" not in text


def test_attest_commits_without_any_program_of_the_job_git_configuration(
        signed: GateProject, tmp_path: Path) -> None:
    """``deploygate attest --commit`` runs the user's git (their identity and signing), but
    no filter, diff driver or fsmonitor of the configuration: on a kept workspace those are
    the job user's files (rt16a A06). A clean filter would also have committed other bytes
    than the sign-off line written."""
    root = signed.root
    ran = tmp_path / "configured-program-ran"
    program = tmp_path / "program.sh"
    program.write_text(f'#!/bin/sh\necho "$0 $*" >> "{ran}"\nsed s/security/insecurity/\n')
    program.chmod(0o755)
    for name, value in (("filter.steal.clean", str(program)),
                        ("filter.steal.smudge", str(program)),
                        ("filter.steal.process", str(program)),
                        ("diff.steal.command", str(program)),
                        ("diff.steal.textconv", str(program)),
                        ("diff.external", str(program)),
                        ("core.fsmonitor", str(program))):
        git(root, "config", name, value)
    (root / ".git" / "info" / "attributes").write_text("*.jsonl filter=steal diff=steal\n")
    git(root, "config", "user.email", SAM)
    git(root, "config", "user.name", "Sam Okafor")
    done = cli(root, "attest", "12", "security-sign-off", "--role", "security-officer",
               "--commit")
    assert done.returncode == 0, done.stdout + done.stderr
    assert not ran.exists(), ran.read_text()[:500]
    committed = subprocess.run(["git", "-c", "core.fsmonitor=false", "cat-file", "-p",
                                f"HEAD:{LOG}"], cwd=root, check=True, capture_output=True,
                               text=True).stdout
    assert committed == (root / LOG).read_text()
    assert '"role": "security-officer"' in committed.splitlines()[-1]
