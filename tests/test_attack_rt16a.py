"""rt16a: files and options that steered the gate or deploygate verdict from outside review.

Each test goes through the public surface (a real gate run in pytester, or the deploygate
command) with real git repositories and real ssh-keygen keys."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_attack_rt14c_records import _no_pass_left, _passing_record
from test_signing import one_line, signed_pre, ssh_key, verdict, write_allowed
from test_signoff_identity import cli

from conftest import GateProject, parse_record


def commit(repo: GateProject, *paths: str, message: str) -> None:
    repo.git("add", *paths)
    repo.git("commit", "-q", "-m", message)


# -- A05: an allowed-signers file in the repository counts only as committed ----------------

def test_verdict_allowed_signers_in_the_repository_must_be_as_committed(
        repo: GateProject, keys: Path) -> None:
    """A key appended in the work tree to the reviewed .deploygate/allowed_signers (bookkeeping,
    so the release stays clean) made a record the attacker signed pass (rt16a A05)."""
    ci = ssh_key(keys, "ed25519", "ci")
    eve = ssh_key(keys, "ed25519", "eve")
    allowed = write_allowed(repo, ci.allowed(), in_repository=True)
    commit(repo, ".deploygate/allowed_signers", message="the CI key may sign (reviewed)")
    assert signed_pre(repo, eve).ret == 0
    named = ".deploygate/allowed_signers"
    assert verdict(repo, "GATE-12-pre.xml", "--allowed-signers", named).returncode == 4
    with allowed.open("a") as handle:
        handle.write(eve.allowed() + "\n")
    done = verdict(repo, "GATE-12-pre.xml", "--allowed-signers", named)
    assert done.returncode == 4
    assert "allowed-signers file .deploygate/allowed_signers is in the repository, but its " \
           "content differs from the committed one" in one_line(done)
    # An untracked file, and an untracked link to a file committed elsewhere (bookkeeping,
    # past whatever review guards .deploygate/allowed_signers): the same.
    allowed.write_text(ci.allowed() + "\n")
    (repo.root / ".isdlc" / "signers").write_text(eve.allowed() + "\n")
    commit(repo, ".isdlc/signers", message="bookkeeping")
    assert signed_pre(repo, eve).ret == 0
    write_allowed(repo, eve.allowed(), name="new_signers", in_repository=True)
    done = verdict(repo, "GATE-12-pre.xml", "--allowed-signers", ".deploygate/new_signers")
    assert done.returncode == 4 and "is not committed" in one_line(done)
    os.symlink("../.isdlc/signers", repo.root / ".deploygate" / "linked")
    done = verdict(repo, "GATE-12-pre.xml", "--allowed-signers", ".deploygate/linked")
    assert done.returncode == 4 and "is not committed" in one_line(done)
    # Committed (the link as a link, its target as committed): it counts, as does a file
    # outside the checkout (the CI's secret store), which is the job's own.
    commit(repo, ".deploygate/linked", message="reviewed: the link")
    assert signed_pre(repo, eve).ret == 0
    done = verdict(repo, "GATE-12-pre.xml", "--allowed-signers", ".deploygate/linked")
    assert done.returncode == 0, done.stderr
    outside = write_allowed(repo, eve.allowed())
    assert verdict(repo, "GATE-12-pre.xml", "--allowed-signers", str(outside)).returncode == 0


def test_post_stage_allowed_signers_option_in_the_repository_must_be_as_committed(
        repo: GateProject, keys: Path) -> None:
    """--gate-allowed-signers reads the file as deploygate verdict does: the same rule."""
    ci = ssh_key(keys, "ed25519", "ci")
    eve = ssh_key(keys, "ed25519", "eve")
    allowed = write_allowed(repo, ci.allowed(), in_repository=True)
    commit(repo, ".deploygate/allowed_signers", message="the CI key may sign (reviewed)")
    assert signed_pre(repo, eve).ret == 0
    with allowed.open("a") as handle:
        handle.write(eve.allowed() + "\n")
    post = repo.run("--gate=12", "--gate-stage=post", f"--gate-allowed-signers={allowed}")
    assert post.ret == 1
    message = repo.record("GATE-12-post").case("pre-stage-record")["message"]
    assert "its content differs from the committed one" in message


# -- A01, A03: options hidden from the environment's checks in @FILE and -o addopts= --------

@pytest.mark.parametrize("addopts", [
    "@{args}",  # (the file holds --gate-stage=pre)
    "-p no:randomly @{args}",
    "-o addopts=--gate-stage=pre",
    "-o 'addopts=--co --gate-record-dir={elsewhere}'",
    "--markers -o addopts=--gate-record-dir={elsewhere}",
    "--version -o addopts=--gate-record-dir={elsewhere}",
    "-o addopts=@{args}",
    "-qoaddopts=--co",
    "--override-ini addopts=--co",
    "--override-ini=addopts=",
])
def test_the_environment_cannot_hide_options_in_an_argument_file_or_an_addopts_override(
        repo: GateProject, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        addopts: str) -> None:
    """The environment's options were checked by their words: ``@FILE`` and ``-o addopts=``
    carried --gate-stage=pre (the stage-all job became a passing pre run, the stage-all PASS
    stayed) and --gate-record-dir=ELSEWHERE with --co (exit 0, the PASS stayed)."""
    _passing_record(repo)
    args = tmp_path / "args"
    args.write_text("--gate-stage=pre\n")
    monkeypatch.setenv("PYTEST_ADDOPTS", addopts.format(args=args,
                                                        elsewhere=tmp_path / "elsewhere"))
    result = repo.run_subprocess("--gate=12")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = result.stderr.str()
    assert "PYTEST_ADDOPTS (the environment, not the command line)" in errors, errors
    assert "Traceback" not in errors
    _no_pass_left(repo)
    assert cli(repo.root, "verdict", "gate-records/GATE-12.xml").returncode != 0


# -- A04: a parse stop after the plugin loaded clears the job's own record folder ----------

@pytest.mark.parametrize("addopts", ["--gate-watch", "--gate-stage", "--gate-threshold",
                                     "-n bogus"])
def test_a_parse_stop_clears_the_record_folder_the_job_named(
        repo: GateProject, monkeypatch: pytest.MonkeyPatch, addopts: str) -> None:
    """pytest's parse stopped on a bad word of PYTEST_ADDOPTS; the clearing parsed the same
    words again, failed, and fell back to a namespace holding no plugin option, so the job's
    own --gate-record-dir kept its PASS while the message said every record was removed."""
    assert repo.run("--gate=12", "--gate-record-dir=out/rec").ret == 0
    record = repo.root / "out" / "rec" / "GATE-12.xml"
    assert parse_record(record).decision == "PASS"
    repo.drop_attestation("security-sign-off")
    repo.git("commit", "-qam", "the security sign-off is withdrawn")
    monkeypatch.setenv("PYTEST_ADDOPTS", addopts)
    result = repo.run_subprocess("--gate=12", "--gate-record-dir=out/rec")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = result.stderr.str()
    assert "Traceback" not in errors
    assert not record.exists(), errors
    assert f"every earlier gate record in {repo.root / 'out' / 'rec'}" in errors, errors
    done = cli(repo.root, "verdict", "out/rec/GATE-12.xml")
    assert done.returncode != 0


# -- A08: the configuration file pytest chose, not where it leads, must be committed -------

@pytest.mark.parametrize("name", ["pytest.ini", ".pytest.ini"])
def test_an_untracked_link_to_a_committed_ini_is_no_committed_configuration(
        repo: GateProject, tmp_path: Path, name: str) -> None:
    """An ini committed as bookkeeping (no new release) and an untracked pytest.ini linking
    to it: its addopts (--co --gate-record-dir=ELSEWHERE) kept the last PASS, exit 0."""
    _passing_record(repo)
    bookkept = repo.root / ".isdlc" / "ci.ini"
    bookkept.write_text(f"[pytest]\naddopts = --co --gate-record-dir={tmp_path / 'elsewhere'}\n")
    commit(repo, ".isdlc/ci.ini", message="bookkeeping")
    os.symlink(".isdlc/ci.ini", repo.root / name)
    result = repo.run_subprocess("--gate=12")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = result.stderr.str()
    assert f"pytest reads its configuration from {repo.root / name}, but it is not " \
           "committed" in errors, errors
    assert "Traceback" not in errors
    _no_pass_left(repo)
    assert cli(repo.root, "verdict", "gate-records/GATE-12.xml").returncode != 0


def test_verdict_public_key_in_the_repository_must_be_as_committed(repo: GateProject,
                                                                   keys: Path) -> None:
    """rt17a A04: ``--key PUBKEY`` in the repository was read as the work tree has it, so the
    reviewed .deploygate/ci-gate.pub swapped for the attacker's key (bookkeeping, the release
    stays clean) made their own signed record count. The same rule as --allowed-signers."""
    ci = ssh_key(keys, "ed25519", "ci")
    eve = ssh_key(keys, "ed25519", "eve")
    named = ".deploygate/ci-gate.pub"
    public = repo.root / named
    public.parent.mkdir(exist_ok=True)
    public.write_text(ci.private.with_name("ci.pub").read_text())
    commit(repo, named, message="the CI key signs (reviewed)")
    assert signed_pre(repo, eve).ret == 0
    assert verdict(repo, "GATE-12-pre.xml", "--key", named).returncode == 4
    public.write_text(eve.private.with_name("eve.pub").read_text())
    done = verdict(repo, "GATE-12-pre.xml", "--key", named)
    assert done.returncode == 4
    assert "public key .deploygate/ci-gate.pub is in the repository, but its content " \
           "differs from the committed one" in one_line(done)
    # Outside the checkout (the CI's own store), the key named is the job's own.
    outside = keys / "eve.pub"
    done = verdict(repo, "GATE-12-pre.xml", "--key", str(outside))
    assert done.returncode == 0, done.stderr
