"""Signed gate decisions: attestations written by real gate runs, checked by `deploygate verdict`
and by the post stage, with real keys from ssh-keygen and from cryptography, and the envelope
checked by an independent implementation (the openssl command line)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# Imported here, in the outer process, on purpose (as conftest does for PyYAML): pytester's
# in-process runs drop modules first imported during a run, and cryptography's Rust bindings
# must not be imported twice.
from cryptography.exceptions import InvalidSignature  # noqa: F401
from cryptography.hazmat.primitives import hashes, serialization  # noqa: F401
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from pytest_deploygate.evidence.release import release_identity

from conftest import INNER_ARGS, SIGNING_ARGS, GateProject, parse_record

DEPLOYGATE = str(Path(sys.executable).parent / "deploygate")
RECORDS = "gate-records"


@dataclass(frozen=True)
class Key:
    """A private key file, its OpenSSH public line and its kind."""

    private: Path
    public_line: str
    kind: str  # ed25519 or ecdsa

    @property
    def public_file(self) -> Path:
        path = self.private.with_name(self.private.name + ".pubkey")
        path.write_text(self.public_line + "\n")
        return path

    def allowed(self, principal: str = "gate@ci", options: str = "") -> str:
        return f"{principal} {options + ' ' if options else ''}{self.public_line}"


def ssh_key(directory: Path, kind: str, name: str) -> Key:
    """A key made by ssh-keygen (OpenSSH private key format)."""
    path = directory / name
    args = ["-t", "ed25519"] if kind == "ed25519" else ["-t", "ecdsa", "-b", "256"]
    subprocess.run(["ssh-keygen", "-q", *args, "-N", "", "-C", name, "-f", str(path)],
                   check=True, capture_output=True)
    line = " ".join(path.with_name(name + ".pub").read_text().split()[:2])
    return Key(path, line, kind)


def pem_key(directory: Path, kind: str, name: str) -> Key:
    """A key made by cryptography, written as PKCS#8 PEM."""
    key = (ed25519.Ed25519PrivateKey.generate() if kind == "ed25519"
           else ec.generate_private_key(ec.SECP256R1()))
    path = directory / name
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    line = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode()
    return Key(path, line, kind)


KEY_MAKERS = {"ssh-ed25519": (ssh_key, "ed25519"), "ssh-ecdsa": (ssh_key, "ecdsa"),
              "pem-ed25519": (pem_key, "ed25519"), "pem-ecdsa": (pem_key, "ecdsa")}


def write_allowed(project: GateProject, *lines: str, name: str = "allowed_signers",
                  in_repository: bool = False) -> Path:
    """An allowed-signers file: the CI's own, outside the checkout (a secret store), or one
    in the repository's .deploygate/ (which must then be committed to count)."""
    folder = project.root / ".deploygate" if in_repository else project.root.parent / "ci"
    path = folder / name
    path.parent.mkdir(exist_ok=True)
    path.write_text("# reviewed: keys of the CI gate job\n" + "\n".join(lines) + "\n")
    return path


def verdict(project: GateProject, record: str, *args: str, timeout: float | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([DEPLOYGATE, "verdict", f"{RECORDS}/{record}", *args],
                          cwd=project.root, capture_output=True, text=True, timeout=timeout,
                          env=env)


def envelope(project: GateProject, stem: str) -> dict:
    return json.loads((project.root / RECORDS / f"{stem}.intoto.json").read_text())


def statement(project: GateProject, stem: str) -> dict:
    return json.loads(base64.b64decode(envelope(project, stem)["payload"]))


def signed_pre(project: GateProject, key: Key, *extra: str) -> pytest.RunResult:
    return project.run("--gate=12", "--gate-stage=pre", f"--gate-sign-key={key.private}",
                       *extra)


def one_line(done: subprocess.CompletedProcess) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


# -- signing and verifying -------------------------------------------------------------------

@pytest.mark.parametrize("maker", sorted(KEY_MAKERS))
def test_signed_pass_verifies(repo: GateProject, keys: Path, maker: str) -> None:
    make, kind = KEY_MAKERS[maker]
    key = make(keys, kind, "gate")
    result = signed_pre(repo, key)
    assert result.ret == 0, result.stdout.str()
    record = repo.record("GATE-12-pre")
    assert record.properties["deploygate.signature"].startswith(
        "in-toto DSSE GATE-12-pre.intoto.json key SHA256:")
    result.stdout.fnmatch_lines(["*record: gate-records/GATE-12-pre.intoto.json"])
    allowed = write_allowed(repo, key.allowed(options='namespaces="deploygate"'))
    done = verdict(repo, "GATE-12-pre.xml", "--allowed-signers", str(allowed))
    assert done.returncode == 0, done.stderr
    assert verdict(repo, "GATE-12-pre.xml", "--key", str(key.public_file)).returncode == 0

    doc = envelope(repo, "GATE-12-pre")
    assert doc["payloadType"] == "application/vnd.in-toto+json"
    fingerprint = subprocess.run(["ssh-keygen", "-lf", str(key.public_file)], check=True,
                                 capture_output=True, text=True).stdout.split()[1]
    assert doc["signatures"][0]["keyid"] == fingerprint
    body = statement(repo, "GATE-12-pre")
    assert body["_type"] == "https://in-toto.io/Statement/v1"
    assert body["predicateType"].endswith("/gate-decision/v1")
    assert body["subject"] == [{"name": "acme-api", "digest": {
        "gitCommit": repo.git("rev-parse", "HEAD"),
        # The tree of the release content: bookkeeping (.deploygate/, .isdlc/, records) out.
        "gitTree": release_identity(repo.root, record_dir=repo.root / RECORDS,
                                    version="1.4.0").tree}}]
    predicate = body["predicate"]
    assert (predicate["gate"], predicate["stage"], predicate["decision"]) == (
        "GATE-12", "pre", "PASS")
    assert len(predicate["criteria"]) == int(record.properties["deploygate.expected_criteria"])
    assert predicate["spec"]["sha256"] == record.properties["deploygate.spec_sha256"]
    assert predicate["state"]["sha256"] == record.properties["deploygate.state_sha256"]
    import hashlib

    assert predicate["record"]["sha256"] == hashlib.sha256(
        (repo.root / RECORDS / "GATE-12-pre.xml").read_bytes()).hexdigest()
    artifact = next(c for c in predicate["criteria"] if c["id"] == "pre-deployment-checklist")
    assert artifact["outcome"] == "met" and artifact["evidence"][0]["digest"]["sha256"]


def test_predicate_matches_the_shipped_schema(repo: GateProject, keys: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from importlib import resources

    key = ssh_key(keys, "ed25519", "gate")
    repo.drop_attestation("security-sign-off")
    assert signed_pre(repo, key).ret == 1
    schema = json.loads(resources.files("pytest_deploygate").joinpath(
        "schemas", "gate-decision-predicate.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    predicate = statement(repo, "GATE-12-pre")["predicate"]
    jsonschema.validate(predicate, schema)
    failing = next(c for c in predicate["criteria"] if c["id"] == "security-sign-off")
    assert failing["outcome"] in ("not_met", "missing")
    assert failing["junit"]["result"] in ("failure", "error")
    assert predicate["decision"] == "FAIL"
    del predicate["record"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(predicate, schema)


def test_unsigned_record_with_a_verifier_exits_4(repo: GateProject, keys: Path) -> None:
    key = ssh_key(keys, "ed25519", "gate")
    assert repo.run("--gate=12", "--gate-stage=pre").ret == 0
    assert repo.record("GATE-12-pre").properties["deploygate.signature"] == "unsigned"
    assert not (repo.root / RECORDS / "GATE-12-pre.intoto.json").exists()
    allowed = write_allowed(repo, key.allowed())
    done = verdict(repo, "GATE-12-pre.xml", "--allowed-signers", str(allowed))
    assert done.returncode == 4
    line = one_line(done)
    assert "unsigned: no attestation" in line and "GATE-12-pre.intoto.json" in line
    assert "(the record says: unsigned)" in line
    assert verdict(repo, "GATE-12-pre.xml", "--key", str(key.public_file)).returncode == 4
    # Without a verifier the exit codes for valid records stay as they were.
    assert verdict(repo, "GATE-12-pre.xml").returncode == 0


def test_an_unsigned_run_removes_a_stale_attestation(repo: GateProject, keys: Path) -> None:
    key = ssh_key(keys, "ed25519", "gate")
    assert signed_pre(repo, key).ret == 0
    assert repo.run("--gate=12", "--gate-stage=pre").ret == 0
    assert not (repo.root / RECORDS / "GATE-12-pre.intoto.json").exists()


def test_xml_edited_after_signing_exits_4(repo: GateProject, keys: Path) -> None:
    key = ssh_key(keys, "ecdsa", "gate")
    repo.drop_attestation("security-sign-off")
    assert signed_pre(repo, key).ret == 1
    allowed = write_allowed(repo, key.allowed())
    path = repo.root / RECORDS / "GATE-12-pre.xml"
    original = path.read_text()
    assert verdict(repo, "GATE-12-pre.xml", "--allowed-signers", str(allowed)).returncode == 1

    # The failing testcase made to pass (its failure element removed).
    record = parse_record(path)
    case = record.case("security-sign-off")
    start = original.index(f'name="{case["name"]}"')
    end = original.index("</testcase>", start)
    edited = original[:start] + original[start:end].split(">", 1)[0] + " />" + \
        original[end + len("</testcase>"):]
    path.write_text(edited)
    done = verdict(repo, "GATE-12-pre.xml", "--allowed-signers", str(allowed))
    assert done.returncode == 4
    line = one_line(done)
    assert "disagrees with its signed attestation" in line
    assert "[GATE-12][security-sign-off]" in line and "is passed, signed as" in line

    # Only an evidence line changed: the digest still tells.
    path.write_text(original.replace("sha256=", "sha256=0", 1))
    line = one_line(verdict(repo, "GATE-12-pre.xml", "--allowed-signers", str(allowed)))
    assert "disagrees with its signed attestation" in line and "sha256" in line

    # A decision flipped in the properties.
    path.write_text(original.replace('name="deploygate.decision" value="FAIL"',
                                     'name="deploygate.decision" value="PASS"'))
    line = one_line(verdict(repo, "GATE-12-pre.xml", "--allowed-signers", str(allowed)))
    assert "decision is 'PASS', signed 'FAIL'" in line


def test_envelope_payload_edited_exits_4(repo: GateProject, keys: Path) -> None:
    key = pem_key(keys, "ed25519", "gate")
    repo.drop_attestation("security-sign-off")
    assert signed_pre(repo, key).ret == 1
    allowed = write_allowed(repo, key.allowed())
    target = repo.root / RECORDS / "GATE-12-pre.intoto.json"
    doc = envelope(repo, "GATE-12-pre")
    payload = base64.b64decode(doc["payload"]).replace(b'"decision":"FAIL"',
                                                       b'"decision":"PASS"')
    assert b'"decision":"PASS"' in payload
    doc["payload"] = base64.b64encode(payload).decode()
    target.write_text(json.dumps(doc))
    done = verdict(repo, "GATE-12-pre.xml", "--allowed-signers", str(allowed))
    assert done.returncode == 4
    assert "the envelope does not verify" in one_line(done)

    for broken, message in [("{}", "no payloadType"), ("[1]", "not a DSSE envelope"),
                            ('{"payloadType": "x", "payloadType": "y"}', "appears twice"),
                            ("not json", "not JSON")]:
        target.write_text(broken)
        done = verdict(repo, "GATE-12-pre.xml", "--allowed-signers", str(allowed))
        assert done.returncode == 4 and message in one_line(done), (broken, done.stderr)


def test_signers_not_allowed_exit_4(repo: GateProject, keys: Path) -> None:
    key = ssh_key(keys, "ed25519", "gate")
    other = ssh_key(keys, "ed25519", "other")
    assert signed_pre(repo, key).ret == 0
    cases = [
        (other.allowed(), 4, "does not verify: no signature by a signer"),
        (key.allowed(options='namespaces="git"'), 4, "no signer is allowed for the"),
        (key.allowed(options='namespaces="git,deploy*"'), 0, ""),
        (key.allowed(options='namespaces="*,!deploygate"'), 4, "no signer is allowed"),
        (key.allowed(options='valid-before="20000101"'), 4, "valid-after/valid-before"),
        (key.allowed(options='valid-after="29990101Z"'), 4, "valid-after/valid-before"),
        (key.allowed(options='valid-after="20000101",valid-before="29990101"'), 0, ""),
        ("\n".join([other.allowed(), key.allowed('"release bot"')]), 0, ""),
        (key.allowed(options="cert-authority"), 4, "option 'cert-authority' is not supported"),
        (key.allowed(options='verify-required'), 4, "option 'verify-required' is not supported"),
        (key.allowed(options='valid-after="yesterday"'), 4, "expected YYYYMMDD"),
        ("gate@ci ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7", 4, "ssh-rsa is not supported"),
        ("gate@ci ssh-ed25519 AAAA!!!", 4, "not a valid ssh-ed25519 public key"),
    ]
    for line, code, message in cases:
        allowed = write_allowed(repo, line)
        done = verdict(repo, "GATE-12-pre.xml", "--allowed-signers", str(allowed))
        assert done.returncode == code, (line, done.stderr)
        if message:
            assert message in one_line(done), (line, done.stderr)
    allowed_path = write_allowed(repo, "x", key.allowed(options="cert-authority"))
    line = one_line(verdict(repo, "GATE-12-pre.xml", "--allowed-signers", str(allowed_path)))
    assert f"{allowed_path}:2:" in line  # an allowed-signers problem names the file and line
    assert verdict(repo, "GATE-12-pre.xml", "--key", str(other.public_file)).returncode == 4


def test_keyid_is_only_a_hint(repo: GateProject, keys: Path) -> None:
    """An attacker's envelope that names the allowed key's id still needs its signature."""
    from pytest_deploygate.signing.dsse import pae

    key = pem_key(keys, "ed25519", "gate")
    attacker = pem_key(keys, "ed25519", "attacker")
    assert signed_pre(repo, key).ret == 0
    allowed = write_allowed(repo, key.allowed())
    doc = envelope(repo, "GATE-12-pre")
    real_keyid = doc["signatures"][0]["keyid"]
    forger = serialization.load_pem_private_key(attacker.private.read_bytes(), None)
    payload = base64.b64decode(doc["payload"])
    doc["signatures"] = [{"keyid": real_keyid, "sig": base64.b64encode(
        forger.sign(pae(doc["payloadType"], payload))).decode()}]
    target = repo.root / RECORDS / "GATE-12-pre.intoto.json"
    target.write_text(json.dumps(doc))
    done = verdict(repo, "GATE-12-pre.xml", "--allowed-signers", str(allowed))
    assert done.returncode == 4 and "does not verify" in one_line(done)
    # The real signature under a wrong keyid verifies: the key is found by trying it.
    assert signed_pre(repo, key).ret == 0
    doc = envelope(repo, "GATE-12-pre")
    doc["signatures"][0]["keyid"] = "SHA256:not-this-one"
    target.write_text(json.dumps(doc))
    assert verdict(repo, "GATE-12-pre.xml", "--allowed-signers", str(allowed)).returncode == 0


def test_signed_record_of_another_release_exits_4(repo: GateProject, keys: Path) -> None:
    key = ssh_key(keys, "ecdsa", "gate")
    assert signed_pre(repo, key).ret == 0
    allowed = write_allowed(repo, key.allowed())
    # Sign-off bookkeeping does not move the release...
    repo.attest(gate=12, criterion="team-notified", signer="tom.berg@acme.example",
                role="dba", at="2026-02-05T10:00:00Z", note="again")
    repo.git("add", ".deploygate")
    repo.git("commit", "-q", "-m", "sign-off")
    assert verdict(repo, "GATE-12-pre.xml", "--allowed-signers", str(allowed)).returncode == 0
    # ...a content change does.
    (repo.root / "CHANGES.txt").write_text("a later change\n")
    repo.git("add", "CHANGES.txt")
    repo.git("commit", "-q", "-m", "later")
    done = verdict(repo, "GATE-12-pre.xml", "--allowed-signers", str(allowed))
    assert done.returncode == 4
    assert "the attestation is for another release" in one_line(done)


def test_pre_record_copied_over_post_record_exits_4(repo: GateProject, keys: Path) -> None:
    key = ssh_key(keys, "ed25519", "gate")
    assert signed_pre(repo, key).ret == 0
    assert repo.run("--gate=12", "--gate-stage=post", f"--gate-sign-key={key.private}").ret == 0
    allowed = write_allowed(repo, key.allowed())
    records = repo.root / RECORDS
    assert verdict(repo, "GATE-12-post.xml", "--allowed-signers", str(allowed)).returncode == 0
    saved = {name: (records / name).read_bytes()
             for name in ("GATE-12-post.xml", "GATE-12-post.intoto.json")}
    shutil.copy(records / "GATE-12-pre.xml", records / "GATE-12-post.xml")
    done = verdict(repo, "GATE-12-post.xml", "--allowed-signers", str(allowed))
    assert done.returncode == 4 and "disagrees with its signed attestation" in one_line(done)
    shutil.copy(records / "GATE-12-pre.intoto.json", records / "GATE-12-post.intoto.json")
    done = verdict(repo, "GATE-12-post.xml", "--allowed-signers", str(allowed))
    assert done.returncode == 4
    assert "for stage 'pre', this record is for stage 'post'" in one_line(done)
    for name, data in saved.items():
        (records / name).write_bytes(data)
    shutil.copy(records / "GATE-12-post.xml", records / "GATE-12.xml")
    shutil.copy(records / "GATE-12-post.intoto.json", records / "GATE-12.intoto.json")
    done = verdict(repo, "GATE-12.xml", "--allowed-signers", str(allowed))
    assert done.returncode == 4 and "this record is for stage 'all'" in one_line(done)


# -- the post stage binds by signature ---------------------------------------------------------

def test_post_stage_binds_only_through_a_verified_attestation(repo: GateProject,
                                                              keys: Path) -> None:
    key = ssh_key(keys, "ed25519", "gate")
    attacker = ssh_key(keys, "ed25519", "attacker")
    post = ("--gate=12", "--gate-stage=post", f"--gate-sign-key={key.private}")
    records = repo.root / RECORDS

    # A failing pre stage, signed; its record flipped to PASS does not bind.
    log = repo.root / ".deploygate" / "attestations.jsonl"
    sign_offs = log.read_text()
    repo.drop_attestation("security-sign-off")
    assert signed_pre(repo, key).ret == 1
    pre = records / "GATE-12-pre.xml"
    pre.write_text(pre.read_text().replace('name="deploygate.decision" value="FAIL"',
                                           'name="deploygate.decision" value="PASS"'))
    assert repo.run(*post).ret == 1
    message = repo.record("GATE-12-post").case("pre-stage-record")["message"]
    assert "does not bind" in message and "the decision FAIL, not PASS" in message
    assert "disagrees with its signed attestation" in message

    # Re-signed by the attacker's own key: not an allowed signer.
    assert signed_pre(repo, attacker).ret == 1
    pre.write_text(pre.read_text().replace('name="deploygate.decision" value="FAIL"',
                                           'name="deploygate.decision" value="PASS"'))
    assert repo.run(*post).ret == 1
    message = repo.record("GATE-12-post").case("pre-stage-record")["message"]
    assert "not bound" in message and "does not verify" in message

    # Unsigned pre record, however it reads: no binding while signing is configured.
    log.write_text(sign_offs)
    assert repo.run("--gate=12", "--gate-stage=pre").ret == 0
    assert repo.run(*post).ret == 1
    message = repo.record("GATE-12-post").case("pre-stage-record")["message"]
    assert "unsigned: no attestation" in message

    # The real thing binds, and the post record attests the pre attestation's digest.
    assert signed_pre(repo, key).ret == 0
    result = repo.run(*post)
    assert result.ret == 0, result.stdout.str()
    binding = next(c for c in statement(repo, "GATE-12-post")["predicate"]["criteria"]
                   if c["id"] == "pre-stage-record")
    assert binding["evidence"][0]["kind"] == "attestation"
    import hashlib

    assert binding["evidence"][0]["digest"]["sha256"] == hashlib.sha256(
        (records / "GATE-12-pre.intoto.json").read_bytes()).hexdigest()


def test_post_stage_allowed_signers_from_option_and_config(repo: GateProject,
                                                           keys: Path) -> None:
    key = ssh_key(keys, "ecdsa", "gate")
    other = ssh_key(keys, "ecdsa", "other")
    assert signed_pre(repo, key).ret == 0
    # Allowed signers of the option: the key must be listed (no key needed to verify).
    listed = write_allowed(repo, other.allowed(), name="others")
    assert repo.run("--gate=12", "--gate-stage=post", f"--gate-allowed-signers={listed}").ret == 1
    message = repo.record("GATE-12-post").case("pre-stage-record")["message"]
    assert "does not verify" in message
    write_allowed(repo, key.allowed(options='namespaces="deploygate"'), in_repository=True)
    with (repo.root / "deploygate.yaml").open("a") as config:
        config.write("signing:\n  allowed_signers: .deploygate/allowed_signers\n")
    result = repo.run("--gate=12", "--gate-stage=post")
    assert result.ret == 1  # an allowed-signers file in the repository counts once committed
    assert "is not committed" in repo.record("GATE-12-post").case("pre-stage-record")["message"]
    repo.git("add", ".deploygate/allowed_signers", "deploygate.yaml")
    repo.git("commit", "-q", "-m", "signing: the CI key")
    assert signed_pre(repo, key).ret == 0  # (deploygate.yaml is release content: a new release)
    result = repo.run("--gate=12", "--gate-stage=post")
    assert result.ret == 0, result.stdout.str()
    assert "signed by gate@ci" in repo.record("GATE-12-post").case("pre-stage-record")["text"]
    # With signing configured in deploygate.yaml, the unsigned pre record no longer binds.
    assert repo.run("--gate=12", "--gate-stage=pre").ret == 0
    assert repo.run("--gate=12", "--gate-stage=post").ret == 1


# -- keys and configuration --------------------------------------------------------------------

def test_unusable_keys_are_usage_errors(repo: GateProject, keys: Path) -> None:
    encrypted = keys / "encrypted"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret", "-f", str(encrypted)],
                   check=True, capture_output=True)
    rsa = keys / "rsa"
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(rsa)],
                   check=True, capture_output=True)
    p384 = keys / "p384"
    subprocess.run(["ssh-keygen", "-q", "-t", "ecdsa", "-b", "384", "-N", "", "-f", str(p384)],
                   check=True, capture_output=True)
    garbage = keys / "garbage"
    garbage.write_text("not a key\n")
    cases = [(keys / "absent", "signing key not found"), (encrypted, "is encrypted"),
             (rsa, "RSA key is not supported"), (p384, "secp384r1 key is not supported"),
             (garbage, "not an OpenSSH or PEM private key"), (keys, "is a directory")]
    for path, message in cases:
        result = repo.run("--gate=12", "--gate-stage=pre", f"--gate-sign-key={path}")
        assert result.ret == pytest.ExitCode.USAGE_ERROR, (path, result.stdout.str())
        result.stderr.fnmatch_lines([f"*deploygate: {path}*{message}*"])
        assert "Traceback" not in result.stderr.str()
    assert not (repo.root / RECORDS).exists()


def test_key_from_environment_and_no_signed_replay(repo: GateProject, keys: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    key = ssh_key(keys, "ed25519", "gate")
    monkeypatch.setenv("DEPLOYGATE_SIGNING_KEY", str(key.private))
    result = repo.run("--gate=12", "--gate-stage=pre", "--gate-now=2026-02-06T12:00:00Z")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--gate-now replays the past*DEPLOYGATE_SIGNING_KEY*"])
    result = repo.run("--gate=12", "--gate-stage=pre", f"--gate-sign-key={key.private}",
                      "--gate-now=2026-02-06T12:00:00Z")
    result.stderr.fnmatch_lines(["*--gate-now replays the past*--gate-sign-key*"])
    assert repo.run("--gate=12", "--gate-stage=pre").ret == 0
    assert (repo.root / RECORDS / "GATE-12-pre.intoto.json").is_file()
    allowed = write_allowed(repo, key.allowed())
    assert verdict(repo, "GATE-12-pre.xml", "--allowed-signers", str(allowed)).returncode == 0


def test_deployed_artefacts_are_subjects(repo: GateProject, keys: Path) -> None:
    key = ssh_key(keys, "ed25519", "gate")
    dist = repo.root / "dist"
    dist.mkdir()
    wheel = dist / "acme_api-1.4.0-py3-none-any.whl"
    wheel.write_bytes(b"PK\x03\x04 a wheel")
    (dist / "image-digest.txt").write_text("sha256:" + "ab" * 32 + "\n")
    with (repo.root / "deploygate.yaml").open("a") as config:
        config.write("signing:\n  subjects:\n"
                     "    - {name: acme_api-1.4.0-py3-none-any.whl, "
                     "file: dist/acme_api-1.4.0-py3-none-any.whl}\n"
                     "    - {name: registry.acme.example/acme/api, "
                     "digest_file: dist/image-digest.txt}\n")
    assert signed_pre(repo, key).ret == 0
    import hashlib

    subjects = statement(repo, "GATE-12-pre")["subject"]
    assert subjects[1:] == [
        {"name": "acme_api-1.4.0-py3-none-any.whl",
         "digest": {"sha256": hashlib.sha256(wheel.read_bytes()).hexdigest()}},
        {"name": "registry.acme.example/acme/api", "digest": {"sha256": "ab" * 32}}]
    # A named artefact that is not there: the record says why it is unsigned and the run fails.
    wheel.unlink()
    result = signed_pre(repo, key)
    assert result.ret == 1
    signature = repo.record("GATE-12-pre").properties["deploygate.signature"]
    assert signature.startswith("unsigned: deploygate.yaml signing.subjects")
    result.stdout.fnmatch_lines(["*cannot sign gate record*acme_api-1.4.0-py3-none-any.whl*"])
    assert not (repo.root / RECORDS / "GATE-12-pre.intoto.json").exists()


def test_a_subject_that_is_no_regular_file_is_not_signed(repo: GateProject, keys: Path) -> None:
    # A named pipe as the deployed artefact: hashing it would wait for a writer for ever.
    key = ssh_key(keys, "ed25519", "gate")
    (repo.root / "dist").mkdir()
    os.mkfifo(repo.root / "dist" / "app.whl")
    with (repo.root / "deploygate.yaml").open("a") as config:
        config.write("signing:\n  subjects:\n    - {name: app.whl, file: dist/app.whl}\n")
    # (A fresh interpreter without pytester's, which puts the project on PYTHONPATH: a
    # signing run refuses that.)
    result = subprocess.run([sys.executable, "-P", "-m", "pytest", *INNER_ARGS, *SIGNING_ARGS,
                             "--gate=12", "--gate-stage=pre", f"--gate-sign-key={key.private}"],
                            cwd=repo.root, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr
    signature = repo.record("GATE-12-pre").properties["deploygate.signature"]
    assert "dist/app.whl: not a regular file" in signature, signature
    assert not (repo.root / RECORDS / "GATE-12-pre.intoto.json").exists()


def test_signing_needs_a_release(example: GateProject, keys: Path) -> None:
    key = ssh_key(keys, "ed25519", "gate")
    result = signed_pre(example, key)  # not a git checkout
    assert result.ret == 1
    signature = example.record("GATE-12-pre").properties["deploygate.signature"]
    assert signature.startswith("unsigned: cannot sign GATE-12-pre: the release is unknown")
    result.stdout.fnmatch_lines(["*cannot sign gate record*"])


# -- a second, independent implementation ------------------------------------------------------

def independent_pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding, written from the spec, not the plugin's code."""
    return b" ".join([b"DSSEv1", str(len(payload_type)).encode(), payload_type.encode(),
                      str(len(payload)).encode(), payload])


def openssh_to_pem(line: str, directory: Path, kind: str) -> Path:
    """The public key as PEM: ssh-keygen converts ECDSA; Ed25519's SPKI is a fixed prefix."""
    path = directory / f"independent-{kind}.pem"
    if kind == "ecdsa":
        source = directory / "independent.pub"
        source.write_text(line + "\n")
        path.write_text(subprocess.run(["ssh-keygen", "-e", "-m", "PKCS8", "-f", str(source)],
                                       check=True, capture_output=True, text=True).stdout)
        return path
    blob = base64.b64decode(line.split()[1])
    type_length = int.from_bytes(blob[:4], "big")
    raw = blob[4 + type_length + 4:]
    assert len(raw) == 32
    der = bytes.fromhex("302a300506032b6570032100") + raw
    path.write_text("-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(der).decode()
                    + "\n-----END PUBLIC KEY-----\n")
    return path


def openssl_verifies(pem: Path, kind: str, message: bytes, signature: bytes,
                     directory: Path) -> bool:
    data, sig = directory / "pae.bin", directory / "sig.bin"
    data.write_bytes(message)
    sig.write_bytes(signature)
    if kind == "ed25519":
        command = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(pem), "-rawin",
                   "-in", str(data), "-sigfile", str(sig)]
    else:
        command = ["openssl", "dgst", "-sha256", "-verify", str(pem), "-signature", str(sig),
                   str(data)]
    return subprocess.run(command, capture_output=True).returncode == 0


@pytest.mark.parametrize("maker", ["ssh-ed25519", "ssh-ecdsa"])
def test_openssl_verifies_the_envelope(repo: GateProject, keys: Path, maker: str) -> None:
    need_openssl()
    make, kind = KEY_MAKERS[maker]
    key = make(keys, kind, "gate")
    assert signed_pre(repo, key).ret == 0
    doc = envelope(repo, "GATE-12-pre")
    message = independent_pae(doc["payloadType"], base64.b64decode(doc["payload"]))
    signature = base64.b64decode(doc["signatures"][0]["sig"])
    pem = openssh_to_pem(key.public_line, keys, kind)
    assert openssl_verifies(pem, kind, message, signature, keys)
    assert not openssl_verifies(pem, kind, message.replace(b"PASS", b"FAIL"), signature, keys)


@pytest.mark.parametrize("kind", ["ed25519", "ecdsa"])
def test_verdict_accepts_a_signature_made_by_openssl(repo: GateProject, keys: Path,
                                                     kind: str) -> None:
    need_openssl()
    key = pem_key(keys, kind, "gate")
    assert signed_pre(repo, key).ret == 0
    doc = envelope(repo, "GATE-12-pre")
    message = keys / "pae.bin"
    message.write_bytes(independent_pae(doc["payloadType"], base64.b64decode(doc["payload"])))
    signature = keys / "sig.bin"
    if kind == "ed25519":
        command = ["openssl", "pkeyutl", "-sign", "-inkey", str(key.private), "-rawin",
                   "-in", str(message), "-out", str(signature)]
    else:
        command = ["openssl", "dgst", "-sha256", "-sign", str(key.private), "-out",
                   str(signature), str(message)]
    subprocess.run(command, check=True, capture_output=True)
    doc["signatures"] = [{"keyid": "", "sig": base64.b64encode(signature.read_bytes()).decode()}]
    (repo.root / RECORDS / "GATE-12-pre.intoto.json").write_text(json.dumps(doc))
    allowed = write_allowed(repo, key.allowed())
    done = verdict(repo, "GATE-12-pre.xml", "--allowed-signers", str(allowed))
    assert done.returncode == 0, done.stderr


def need_openssl() -> None:
    from conftest import need

    need(shutil.which("openssl") is not None, "the openssl command is not installed")
