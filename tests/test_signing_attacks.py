"""Attacks on signed gate decisions: envelopes, allowed-signers files and records crafted by
someone who can write files in the repository and the record directory but does not hold the
CI signing key. Each must end in exit 4 (or an unbound post stage) with one clear line."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from test_signing import (
    RECORDS,
    Key,
    one_line,
    signed_pre,
    ssh_key,
    verdict,
    write_allowed,
)

from conftest import GateProject, parse_record


def make_monorepo(project: GateProject, ids: tuple[str, ...]) -> None:
    base = project.state()
    for pid in ids:
        state = json.loads(json.dumps(base))
        state["project"]["name"] = pid
        path = project.root / ".isdlc" / "projects" / pid / "state.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(state))
    project.state_path.unlink()


def test_monorepo_record_of_another_project_exits_4(example: GateProject, keys: Path) -> None:
    make_monorepo(example, ("api", "billing"))
    example.git_init()
    key = ssh_key(keys, "ed25519", "gate")
    assert signed_pre(example, key, "--gate-project=billing").ret == 0
    example.drop_attestation("security-sign-off")
    assert signed_pre(example, key, "--gate-project=api").ret == 1
    allowed = write_allowed(example, key.allowed())
    records = example.root / RECORDS
    assert verdict(example, "api/GATE-12-pre.xml", "--allowed-signers",
                   str(allowed)).returncode == 1
    assert verdict(example, "billing/GATE-12-pre.xml", "--allowed-signers",
                   str(allowed)).returncode == 0
    for suffix in (".xml", ".intoto.json"):
        shutil.copy(records / "billing" / f"GATE-12-pre{suffix}",
                    records / "api" / f"GATE-12-pre{suffix}")
    done = verdict(example, "api/GATE-12-pre.xml", "--allowed-signers", str(allowed))
    assert done.returncode == 4, done.stdout + done.stderr
    assert "the attestation is for project 'billing', this is 'api'" in one_line(done)
    # Nor does it bind api's post stage.
    result = example.run("--gate=12", "--gate-stage=post", "--gate-project=api",
                         f"--gate-sign-key={key.private}")
    assert result.ret == 1
    message = parse_record(records / "api" / "GATE-12-post.xml").case(
        "pre-stage-record")["message"]
    assert "for project 'billing', this is 'api'" in message
    # Copied out of the project directories, a project's record needs --project to count.
    for suffix in (".xml", ".intoto.json"):
        shutil.copy(records / "billing" / f"GATE-12-pre{suffix}", records / f"GATE-12-pre{suffix}")
    done = verdict(example, "GATE-12-pre.xml", "--allowed-signers", str(allowed))
    assert done.returncode == 4 and "pass --project billing" in one_line(done)
    assert verdict(example, "GATE-12-pre.xml", "--allowed-signers", str(allowed),
                   "--project", "billing").returncode == 0
    done = verdict(example, "GATE-12-pre.xml", "--allowed-signers", str(allowed),
                   "--project", "api")
    assert done.returncode == 4 and "this is 'api'" in one_line(done)


def test_hostile_envelope_files_exit_4_in_one_line(repo: GateProject, keys: Path) -> None:
    key = ssh_key(keys, "ed25519", "gate")
    assert signed_pre(repo, key).ret == 0
    allowed = write_allowed(repo, key.allowed())
    target = repo.root / RECORDS / "GATE-12-pre.intoto.json"
    cases = [(b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
             (b'{"payloadType": ' + b'{"a": ' * 100_000, "nested too deeply"),
             (b'{"payload": "' + b"A" * 4_000_000 + b'"', "not JSON"),
             (json.dumps({"payloadType": "application/vnd.in-toto+json", "payload": "e30",
                          "signatures": [{"keyid": "", "sig": "AAAA"}] * 100_000}).encode(),
              "100000 signatures")]
    for data, message in cases:
        target.write_bytes(data)
        done = verdict(repo, "GATE-12-pre.xml", "--allowed-signers", str(allowed))
        assert done.returncode == 4 and message in one_line(done), done.stderr[-500:]
    # Not a regular file: a device that never ends, a pipe nobody writes to.
    target.unlink()
    target.symlink_to("/dev/zero")
    done = verdict(repo, "GATE-12-pre.xml", "--allowed-signers", str(allowed), timeout=60)
    assert done.returncode == 4 and "not a regular file" in one_line(done)
    target.unlink()
    os.mkfifo(target)
    done = verdict(repo, "GATE-12-pre.xml", "--allowed-signers", str(allowed), timeout=60)
    assert done.returncode == 4 and "not a regular file" in one_line(done)


@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo", "America/Los_Angeles"])
def test_allowed_signers_times_at_the_calendar_edges(repo: GateProject, keys: Path,
                                                     zone: str) -> None:
    key = ssh_key(keys, "ed25519", "gate")
    assert signed_pre(repo, key).ret == 0
    env = {**os.environ, "TZ": zone}
    for value, code in [("00010101", 4), ("99991231235959", 0), ("00010101000000Z", 4),
                        ("99991231", 0), ("20260230", 4), ("000001010000", 4)]:
        allowed = write_allowed(repo, key.allowed(options=f'valid-before="{value}"'))
        done = verdict(repo, "GATE-12-pre.xml", "--allowed-signers", str(allowed), env=env)
        assert done.returncode == code, (value, done.stderr)
        if code:
            one_line(done)


def test_a_record_name_that_says_no_gate_exits_4(repo: GateProject, keys: Path) -> None:
    """Under a name that says no gate or stage, any signed record of this release would do."""
    key = ssh_key(keys, "ed25519", "gate")
    assert signed_pre(repo, key).ret == 0
    allowed = write_allowed(repo, key.allowed())
    records = repo.root / RECORDS
    shutil.copy(records / "GATE-12-pre.xml", records / "release-gate.xml")
    done = verdict(repo, "release-gate.xml", "--allowed-signers", str(allowed),
                   "--attestation", str(records / "GATE-12-pre.intoto.json"))
    assert done.returncode == 4
    assert "does not say which gate and stage" in one_line(done)


def test_namespace_patterns_match_as_ssh_keygen_does(repo: GateProject, keys: Path) -> None:
    key = ssh_key(keys, "ecdsa", "gate")
    assert signed_pre(repo, key).ret == 0
    for namespaces, code in [("[d]eploygate", 4), ("deploy[a-z]ate", 4), ("deploy?ate", 0),
                             ("*gate,!git", 0), ("deploygat", 4), ("DEPLOYGATE", 4)]:
        allowed = write_allowed(repo, key.allowed(options=f'namespaces="{namespaces}"'))
        done = verdict(repo, "GATE-12-pre.xml", "--allowed-signers", str(allowed))
        assert done.returncode == code, (namespaces, done.stderr)


def ci_and_attacker_signers(repo: GateProject, keys: Path) -> tuple[Key, Key, Path]:
    """The CI key, the attacker's key, and the reviewed allowed-signers file (the CI key
    only); deploygate.yaml names a file of the attacker's that allows theirs too."""
    ci = ssh_key(keys, "ed25519", "ci")
    attacker = ssh_key(keys, "ed25519", "attacker")
    reviewed = write_allowed(repo, ci.allowed(options='namespaces="deploygate"'))
    write_allowed(repo, attacker.allowed(), name="more_signers", in_repository=True)
    with (repo.root / "deploygate.yaml").open("a") as config:
        config.write("signing:\n  allowed_signers: .deploygate/more_signers\n")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "more signers")
    return ci, attacker, reviewed


def test_post_stage_bound_to_a_pre_stage_signed_by_another_key_does_not_verify(
        repo: GateProject, keys: Path) -> None:
    """deploygate.yaml names an allowed-signers file of the attacker's: the post stage (signed
    with the CI key) binds to the attacker's pre attestation, so verdict follows the chain."""
    ci, attacker, reviewed = ci_and_attacker_signers(repo, keys)
    assert signed_pre(repo, attacker).ret == 0  # the attacker's own PASS, own key
    post = repo.run("--gate=12", "--gate-stage=post", f"--gate-sign-key={ci.private}")
    assert post.ret == 0  # the project config chooses the post stage's signers (by design)
    done = verdict(repo, "GATE-12-post.xml", "--allowed-signers", str(reviewed))
    assert done.returncode == 4, done.stdout
    assert "pre-stage attestation" in one_line(done) and "does not verify" in one_line(done)
    # Nor can the chain be cut: the pre attestation swapped for one the CI key signed.
    assert signed_pre(repo, ci).ret == 0
    done = verdict(repo, "GATE-12-post.xml", "--allowed-signers", str(reviewed))
    assert done.returncode == 4 and "pre-stage attestation" in one_line(done)
