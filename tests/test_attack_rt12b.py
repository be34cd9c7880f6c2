"""Red team rt12b on `deploygate verdict`: records, signatures and release binding attacked by
someone who can write files in the repository, the record directory and what the job's own
user can write (its temp folder, its environment). Each test runs the real command lines on a
real release (a git repository of the bundled example, keys made by ssh-keygen) and asserts
that only a faithful, signed PASS of this release exits 0."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLE, INNER_ARGS, SHARED, need, signing_args

DEPLOYGATE = str(Path(sys.executable).parent / "deploygate")
GIT_ENV = {"GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@acme.example",
           "GIT_COMMITTER_NAME": "dev", "GIT_COMMITTER_EMAIL": "dev@acme.example"}


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout.strip()


def release(root: Path) -> None:
    """Make ``root`` a git repository whose one commit is release 1.4.0."""
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "release 1.4.0")


def gate(root: Path, machine_tmp: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """A real gate run in ``root`` with this test's temp folder (one that signs as CI must
    run it: no code of the repository)."""
    return subprocess.run([sys.executable, "-P", "-m", "pytest", *INNER_ARGS, "-q",
                           *signing_args(options), *options],
                          cwd=root, capture_output=True, text=True,
                          env={**os.environ, "TMPDIR": str(machine_tmp)})


def verdict(root: Path, machine_tmp: Path, record: str, *options: str
            ) -> subprocess.CompletedProcess[str]:
    """``deploygate verdict RECORD OPTIONS`` in ``root`` with this test's temp folder."""
    return subprocess.run([DEPLOYGATE, "verdict", record, *options], cwd=root,
                          capture_output=True, text=True,
                          env={**os.environ, "TMPDIR": str(machine_tmp)})


def ssh_key(directory: Path, name: str) -> tuple[Path, str]:
    """An Ed25519 key made by ssh-keygen: its private file and its allowed-signers line."""
    path = directory / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)],
                   check=True, capture_output=True)
    public = " ".join(path.with_name(name + ".pub").read_text().split()[:2])
    return path, f"gate@ci {public}"


@pytest.fixture
def machine_tmp(tmp_path: Path) -> Path:
    """This test's temp folder (its private cache is its own), outside any checkout."""
    folder = tmp_path / "machine-tmp"
    folder.mkdir(mode=0o700)
    return folder


@pytest.fixture
def signer(tmp_path: Path) -> tuple[Path, Path]:
    """The CI gate key and a reviewed allowed-signers file naming it (outside the repo)."""
    keys = tmp_path / "keys"
    keys.mkdir()
    private, line = ssh_key(keys, "gate")
    allowed = keys / "allowed_signers"
    allowed.write_text(line + "\n")
    return private, allowed


# -- 1. the imported checklist remembered in the private cache --------------------------------

WEAK_SPEC = """\
spec_version: 1
gate: 12
id: GATE-12
title: Production Deployment
phase: 12-production
decision:
  - {id: checks, title: Checks passed}
sections:
  - id: checks
    title: Checks
    stage: pre
    decision: checks
    criteria:
      - {id: placeholder, text: Placeholder, check: {kind: state, path: phases}}
"""


def test_a_planted_checklist_import_is_neither_the_gate_nor_the_verdicts_spec(
        tmp_path: Path, machine_tmp: Path, signer: tuple[Path, Path]) -> None:
    # The project's gate 12 is its framework checklist; it fails on this project (no evidence).
    checklist = SHARED / "isdlc" / "checklists" / "12-production-gate.md"
    need(checklist.is_file(), f"{checklist} is absent (it sits beside the clone in CI)")
    root = tmp_path / "acme-api"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("gate-records"))
    (root / ".isdlc" / "checklists").mkdir()
    shutil.copy(checklist, root / ".isdlc" / "checklists" / checklist.name)
    (root / "deploygate.yaml").write_text("version: 1.4.0\n"
                                          "attestations: {verify_authorship: false}\n")
    release(root)
    key, allowed = signer
    honest = gate(root, machine_tmp, "--gate=12", f"--gate-sign-key={key}")
    assert honest.returncode == 1, honest.stdout[-3000:]
    # An earlier step of the job, as the job's own user (a pull request's tests on a
    # persistent runner), rewrites the remembered import of that checklist with a spec of its
    # choosing: one criterion that always holds.
    folder = machine_tmp / f"pytest-deploygate-{os.getuid()}"
    (remembered,) = folder.glob("12-production-gate-*.yaml")
    remembered.write_text(WEAK_SPEC)
    again = gate(root, machine_tmp, "--gate=12", f"--gate-sign-key={key}")
    assert again.returncode == 1, "the gate ran a planted spec:\n" + again.stdout[-3000:]
    done = verdict(root, machine_tmp, "gate-records/GATE-12.xml", "--allowed-signers",
                   str(allowed))
    assert done.returncode == 1, done.stdout + done.stderr
    # A PASS record made by that spec (an unsigned run may name any spec folder) is no record
    # of the project's gate, whatever the cache says.
    weak = tmp_path / "weak"
    weak.mkdir()
    (weak / "12-production.yaml").write_text(WEAK_SPEC)
    made = gate(root, machine_tmp, "--gate=12", "-o", f"deploygate_specs={weak}")
    assert made.returncode == 0, made.stdout[-3000:]
    remembered.write_text(WEAK_SPEC)
    done = verdict(root, machine_tmp, "gate-records/GATE-12.xml")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "it was made by a spec with sha256" in done.stderr
    assert "Traceback" not in done.stderr


# -- 2. --commit given as an abbreviation ------------------------------------------------------

@pytest.fixture
def signed_release(tmp_path: Path, machine_tmp: Path, signer: tuple[Path, Path]) -> Path:
    """The example as release 1.4.0 with its signed PASS pre record (gate-records/)."""
    root = tmp_path / "acme-api"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("gate-records"))
    release(root)
    done = gate(root, machine_tmp, "--gate=12", "--gate-stage=pre", f"--gate-sign-key={signer[0]}")
    assert done.returncode == 0, done.stdout[-3000:]
    return root


def test_a_tag_named_like_the_abbreviated_commit_does_not_choose_the_release(
        signed_release: Path, machine_tmp: Path, signer: tuple[Path, Path]) -> None:
    root, allowed = signed_release, signer[1]
    old = git(root, "rev-parse", "HEAD")
    kept = {p.name: p.read_bytes() for p in (root / "gate-records").glob("GATE-12-pre.*")}
    # A new release (content changed, never gated), deployed by its abbreviated commit id as
    # CI variables give it ($CI_COMMIT_SHORT_SHA); the old release's signed PASS is put back.
    with (root / "CHANGELOG.md").open("a") as changelog:
        changelog.write("\n- an unreviewed change\n")
    git(root, "commit", "-q", "-am", "change")
    new = git(root, "rev-parse", "HEAD")
    for name, data in kept.items():
        (root / "gate-records" / name).write_bytes(data)
    record = "gate-records/GATE-12-pre.xml"
    for short in (new[:8], new[:12].upper()):
        done = verdict(root, machine_tmp, record, "--allowed-signers", str(allowed),
                       "--commit", short)
        assert done.returncode == 4, done.stdout + done.stderr
        # A tag named like that abbreviation, pointing at the old release: git prefers a ref
        # to an abbreviated object id, so the old release was the one bound.
        git(root, "tag", "-f", short, old)
        for verifier in (("--allowed-signers", str(allowed)), ()):
            done = verdict(root, machine_tmp, record, *verifier, "--commit", short)
            assert done.returncode == 4, done.stdout + done.stderr
            assert f"--commit {short}" in done.stderr and "full commit id" in done.stderr
            assert "Traceback" not in done.stderr
    # The old release named by its own abbreviation (no ref in the way) still verifies.
    done = verdict(root, machine_tmp, record, "--allowed-signers", str(allowed),
                   "--commit", old[:10])
    assert done.returncode == 0, done.stdout + done.stderr


# -- 3. repository code in the process that holds the signing key --------------------------

PATCHING_MODULE = """\
from pytest_deploygate.core.results import CheckResult
from pytest_deploygate.gate import run

_evaluate = run.GateRun.evaluate


def _always_met(self, plan, item):
    result = _evaluate(self, plan, item)
    return result if result.status in ("met", "not_applicable") else CheckResult("met", "ok")


run.GateRun.evaluate = _always_met


def test_helpers():
    pass
"""

#: The hardened gate command of docs/ci-recipes.md, before this red team.
HARDENED = ("-p", "pytest_deploygate.plugin", "-p", "no:cacheprovider", "-o", "addopts=",
            "-q", "--gate=12", "--gate-stage=pre")
SAFE = ("--noconftest", "-p", "no:python")


def hardened_gate(root: Path, machine_tmp: Path, python: tuple[str, ...], *options: str
                  ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TMPDIR": str(machine_tmp), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    env.pop("PYTHONSAFEPATH", None)
    return subprocess.run([*python, *HARDENED, *options], cwd=root, capture_output=True,
                          text=True, env=env)


def test_repository_python_never_runs_in_a_signing_gate(
        tmp_path: Path, machine_tmp: Path, signer: tuple[Path, Path]) -> None:
    key, allowed = signer
    root = tmp_path / "acme-api"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("gate-records"))
    signoffs = root / ".deploygate" / "attestations.jsonl"
    signoffs.write_text("".join(line for line in signoffs.read_text().splitlines(True)
                                if "security-sign-off" not in line))
    # The release commits a test module (any name pytest collects) that rewrites the gate's
    # evaluation when imported: a missing sign-off becomes "met", the record PASS, and the
    # gate signed it, so verdict exited 0.
    (root / "test_helpers_util.py").write_text(PATCHING_MODULE)
    # A committed folder merely named like an installed one is the repository's code too.
    (root / "vendor" / "site-packages").mkdir(parents=True)
    (root / "vendor" / "site-packages" / "yaml_shim.py").write_text("")
    release(root)
    sign = f"--gate-sign-key={key}"
    script = (str(Path(sys.executable).parent / "pytest"),)
    for python, extra in [(script, ("--noconftest",)), ((sys.executable, "-m", "pytest"), SAFE),
                          (script, (*SAFE, "-o", "pythonpath=.")),
                          (script, (*SAFE, "-o", "pythonpath=vendor/site-packages")),
                          (script, ("-p", "no:python")),
                          (script, (*SAFE, "--doctest-modules"))]:
        shutil.rmtree(root / "gate-records", ignore_errors=True)
        done = hardened_gate(root, machine_tmp, python, sign, *extra)
        assert done.returncode == 4, (python, extra, done.stdout[-3000:] + done.stderr)
        assert "--gate-sign-key" in done.stdout + done.stderr
        assert not (root / "gate-records" / "GATE-12-pre.intoto.json").exists()
        judged = verdict(root, machine_tmp, "gate-records/GATE-12-pre.xml",
                         "--allowed-signers", str(allowed))
        assert judged.returncode == 4, judged.stdout + judged.stderr
    # Hardened as docs/ci-recipes.md now says: the gate is the reviewed one, and it fails.
    for python in (script, (sys.executable, "-P", "-m", "pytest")):
        done = hardened_gate(root, machine_tmp, python, sign, *SAFE)
        assert done.returncode == 1, done.stdout[-3000:] + done.stderr
        judged = verdict(root, machine_tmp, "gate-records/GATE-12-pre.xml",
                         "--allowed-signers", str(allowed))
        assert judged.returncode == 1, judged.stdout + judged.stderr


def test_verdict_takes_the_gate_as_a_run_names_it_with_a_verifier(
        signed_release: Path, machine_tmp: Path, signer: tuple[Path, Path]) -> None:
    """``--gate 12`` (as ``pytest --gate=12`` takes it) was refused with a verifier: "the
    attestation is for GATE-12, the file name says 12". A gate it does not name still is."""
    record, allowed = "gate-records/GATE-12-pre.xml", str(signer[1])
    for gate in ("12", "GATE-12", "12-production"):
        done = verdict(signed_release, machine_tmp, record, "--allowed-signers", allowed,
                       "--gate", gate)
        assert done.returncode == 0, (gate, done.stdout + done.stderr)
    done = verdict(signed_release, machine_tmp, record, "--allowed-signers", allowed,
                   "--gate", "11")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "the attestation is for GATE-12, --gate says 11" in done.stderr
