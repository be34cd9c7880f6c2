"""Sign-off identity under attack (issue 10 class A), through the public surface.

The bundled example is made a real git repository in which every sign-off is committed by its
signer, so the gate PASSes; each test then lets someone else (dev@, mallory@) try to turn a
sign-off, a waiver or a rollback trigger their way, and checks what `pytest --gate` records and
what `deploygate verdict` / `deploygate validate` answer.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import GateProject

# The console script beside this interpreter: the code under test, not another install.
_BESIDE = Path(sys.executable).parent / "deploygate"
DEPLOYGATE = str(_BESIDE) if _BESIDE.is_file() else shutil.which("deploygate") or ""
LOG = ".deploygate/attestations.jsonl"
WAIVERS = ".deploygate/waivers.jsonl"
APPROVERS = ".deploygate/approvers.yaml"
SAM = "sam.okafor@acme.example"
LEE = "lee.kim@acme.example"
DEV = "dev@acme.example"
KELVIN = "\u212a"  # KELVIN SIGN: "\u212a".lower() == "k"
FULLWIDTH_K = "\uff4b"


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def git(root: Path, *args: str, email: str = DEV, date: str | None = None,
        extra_env: dict[str, str] | None = None) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": email.split("@")[0], "GIT_AUTHOR_EMAIL": email,
           "GIT_COMMITTER_NAME": email.split("@")[0], "GIT_COMMITTER_EMAIL": email,
           **(extra_env or {})}
    if date:
        env |= {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    return subprocess.run(["git", *args], cwd=root, check=True, env=env, capture_output=True,
                          text=True).stdout.strip()


def commit(root: Path, email: str, message: str, date: str | None = None,
           *options: str) -> None:
    git(root, "add", "-A", email=email)
    git(root, *options, "commit", "-q", "-m", message, email=email, date=date)


def append(root: Path, relative: str, data: bytes) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as handle:
        handle.write(data)


def line(**entry: object) -> bytes:
    return json.dumps(entry).encode() + b"\n"


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert DEPLOYGATE, "the deploygate console script is installed with the package"
    return subprocess.run([DEPLOYGATE, *args], cwd=root, capture_output=True, text=True)


def case(project: GateProject, criterion: str, *args: str) -> dict:
    project.run("--gate=12", *args)
    return project.record().case(criterion)


def set_config(project: GateProject, old: str, new: str) -> None:
    config = project.root / "deploygate.yaml"
    text = config.read_text()
    assert old in text
    config.write_text(text.replace(old, new, 1))


@pytest.fixture
def signed(example: GateProject) -> GateProject:
    """The example as a repository: dev@ committed the release, every signer their own lines."""
    root = example.root
    set_config(example, "verify_authorship: false", "verify_authorship: true")
    log = root / LOG
    entries = [json.loads(text) for text in log.read_text().splitlines()]
    log.write_text("")
    git(root, "init", "-q", "-b", "main")
    commit(root, DEV, "release 1.4.0")
    for signer in dict.fromkeys(e["signer"] for e in entries):
        for entry in entries:
            if entry["signer"] == signer:
                append(root, LOG, line(**entry))
        commit(root, signer, f"sign-offs by {signer}")
    assert example.run("--gate=12").ret == 0, "the baseline passes"
    return example


def drop(project: GateProject, criterion: str, email: str = DEV) -> None:
    log = project.root / LOG
    kept = [t for t in log.read_text().splitlines() if json.loads(t)["criterion"] != criterion]
    log.write_text("".join(t + "\n" for t in kept))
    commit(project.root, email, f"{criterion} to be signed again")


def sam_signs(**extra: object) -> bytes:
    return line(gate=12, criterion="security-sign-off", signer=SAM, role="security-officer",
                at="2026-02-03T12:00:00Z", **extra)


def enable_waivers(project: GateProject, settings: str = "") -> None:
    config = project.root / "deploygate.yaml"
    config.write_text(config.read_text() + "waivers:\n  enabled: true\n" + settings)


def waive_runbooks(root: Path, **entry: object) -> None:
    entry.setdefault("expires", iso(datetime.now(UTC) + timedelta(days=20)))
    entry.setdefault("justification", "runbook review scheduled after launch")
    append(root, WAIVERS, line(gate=12, criterion="runbooks-ready", run=False, **entry))


def missing(project: GateProject, criterion: str, said: str, *args: str) -> str:
    """Run the gate: the criterion must be evidence-missing, saying ``said``."""
    found = case(project, criterion, *args)
    assert found["type"] == "evidence-missing"
    assert said in found["message"]
    return found["message"]


def verdict_code(project: GateProject) -> int:
    return cli(project.root, "verdict", "gate-records/GATE-12.xml").returncode


# -- lines are read as git reads them --------------------------------------------------------------

@pytest.mark.parametrize("separator", ["\r", "\x85", "\u2028", "\x0b"])
def test_forged_line_behind_a_foreign_separator_is_not_attributed_to_the_victim(
        signed: GateProject, separator: str) -> None:
    root = signed.root
    drop(signed, "security-sign-off")
    # Sam's genuine commit: a sign-off of another gate's criterion.
    append(root, LOG, line(gate=11, criterion="security-sign-off", signer=SAM,
                           role="security-officer", at="2026-02-03T12:00:00Z"))
    commit(root, SAM, "sam signs gate 11")
    # dev@ inserts, before sam's line, a separator git does not split on and a forged line:
    # a reader numbering lines with str.splitlines() would blame the forged line on sam.
    lines = (root / LOG).read_bytes().split(b"\n")
    forged = separator.encode() + sam_signs().rstrip(b"\n")
    (root / LOG).write_bytes(b"\n".join([*lines[:-2], forged, *lines[-2:]]))
    commit(root, DEV, "tidy the log")
    number = len(lines) - 1
    missing(signed, "security-sign-off", f"{LOG}:{number}: holds U+{ord(separator):04X}")
    assert verdict_code(signed) == 1
    validated = cli(root, "validate", LOG)
    assert validated.returncode != 0
    assert f"{LOG}:{number}: holds U+{ord(separator):04X}" in validated.stdout + validated.stderr


def test_control_character_and_broken_utf8_lines_prove_nothing(signed: GateProject) -> None:
    root = signed.root
    drop(signed, "security-sign-off")
    append(root, LOG, sam_signs(note="ok\x1b[2K"))  # JSON-escaped: a valid, harmless line
    append(root, LOG, sam_signs(note="raw").replace(b'"raw"', b'"r\x00w"'))
    append(root, LOG, sam_signs(note="bad").replace(b'"bad"', b'"b\xffd"'))
    commit(root, DEV, "sign as sam")
    found = case(signed, "security-sign-off")
    assert found["type"] == "evidence-missing"
    message = found["message"]
    assert "not by the signer" in message  # the one readable line is dev's
    total = len((root / LOG).read_bytes().split(b"\n")) - 1
    assert f"{LOG}:{total - 1}: holds the control character U+0000" in message
    assert f"{LOG}:{total}: not UTF-8" in message


# -- attribution without .mailmap, ambient configuration or environment ----------------------------

def test_committed_mailmap_cannot_make_the_attacker_a_signer(signed: GateProject) -> None:
    root = signed.root
    drop(signed, "security-sign-off")
    (root / ".mailmap").write_text(f"Sam Okafor <{SAM}> <{DEV}>\n")
    commit(root, DEV, "mailmap")
    assert git(root, "log", "-1", "--format=%aE") == SAM  # git itself would rewrite dev@
    append(root, LOG, sam_signs())
    commit(root, DEV, "sign as sam")
    missing(signed, "security-sign-off", f"line was added by {DEV}")
    assert verdict_code(signed) == 1


def test_committed_mailmap_cannot_make_the_attacker_a_waiver_approver(
        signed: GateProject) -> None:
    root = signed.root
    enable_waivers(signed, "  approver_roles: [release-manager]\n")
    drop(signed, "runbooks-ready")
    (root / ".mailmap").write_text(f"Maria Lopez <maria.lopez@acme.example> <{DEV}>\n")
    waive_runbooks(root)
    commit(root, DEV, "waive runbooks")
    missing(signed, "runbooks-ready", f"its approver {DEV} holds none of the roles release-manager")
    assert verdict_code(signed) == 1


def test_ambient_git_configuration_and_environment_cannot_change_attribution(
        signed: GateProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = signed.root
    drop(signed, "security-sign-off")
    append(root, LOG, sam_signs())
    commit(root, DEV, "sign as sam")
    mailmap = tmp_path / "mailmap"
    mailmap.write_text(f"Sam Okafor <{SAM}> <{DEV}>\n")
    user_config = tmp_path / "gitconfig"
    user_config.write_text(f"[mailmap]\n\tfile = {mailmap}\n[log]\n\tmailmap = true\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(user_config))
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "mailmap.file")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", str(mailmap))
    # A replace ref pointing dev's commit at one authored by sam: git's view changes with it.
    head = git(root, "rev-parse", "HEAD")
    body = git(root, "cat-file", "commit", head).replace(f"<{DEV}>", f"<{SAM}>", 1)
    fake = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--stdin"], cwd=root,
                          input=body + "\n", capture_output=True, text=True,
                          check=True).stdout.strip()
    git(root, "replace", head, fake)
    assert git(root, "log", "-1", "--format=%ae") == SAM
    missing(signed, "security-sign-off", f"line was added by {DEV}")


def test_ignore_revs_in_repository_config_cannot_move_a_line(signed: GateProject) -> None:
    root = signed.root
    drop(signed, "security-sign-off")
    append(root, LOG, sam_signs())
    commit(root, DEV, "sign as sam")
    (root / ".git-blame-ignore-revs").write_text(git(root, "rev-parse", "HEAD") + "\n")
    git(root, "config", "blame.ignoreRevsFile", ".git-blame-ignore-revs")
    commit(root, DEV, "ignore my commit in blame")
    missing(signed, "security-sign-off", f"line was added by {DEV}")


# -- exact identities ------------------------------------------------------------------------------

@pytest.mark.parametrize("lookalike", [KELVIN, FULLWIDTH_K])
def test_lookalike_author_address_is_refused(signed: GateProject, lookalike: str) -> None:
    root = signed.root
    drop(signed, "change-management-approval")
    author = LEE.replace("k", lookalike)
    append(root, LOG, line(gate=12, criterion="change-management-approval", signer=LEE,
                           role="change-manager", at="2026-02-03T12:00:00Z"))
    commit(root, author, "sign as lee")
    missing(signed, "change-management-approval", f"U+{ord(lookalike):04X}")
    assert verdict_code(signed) == 1


def test_lookalike_signer_field_and_waiver_approver_are_refused(signed: GateProject) -> None:
    root = signed.root
    enable_waivers(signed, "  approver_roles: [change-manager]\n")
    drop(signed, "runbooks-ready")
    waive_runbooks(root)
    commit(root, LEE.replace("k", KELVIN), "waive as lee")
    assert "refused" in missing(signed, "runbooks-ready", "U+212A")
    # The signer field itself, committed by a fullwidth look-alike of lee.
    drop(signed, "change-management-approval")
    append(root, LOG, line(gate=12, criterion="change-management-approval",
                           signer=LEE.replace("k", FULLWIDTH_K), role="change-manager",
                           at="2026-02-03T12:00:00Z"))
    commit(root, LEE.replace("k", FULLWIDTH_K), "sign")
    assert case(signed, "change-management-approval")["type"] == "evidence-missing"


def test_lookalike_address_in_the_approvers_file_is_refused(signed: GateProject) -> None:
    root = signed.root
    approvers = root / APPROVERS
    approvers.write_text(approvers.read_text().replace(LEE, LEE.replace("k", KELVIN)))
    commit(root, DEV, "approvers")
    missing(signed, "change-management-approval", APPROVERS)
    validated = cli(root, "validate", APPROVERS)
    assert validated.returncode != 0 and APPROVERS in validated.stdout + validated.stderr


# -- signatures by keys listed per approver --------------------------------------------------------

def keypair(folder: Path, name: str) -> tuple[Path, str]:
    key = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)],
                   check=True)
    return key, (folder / f"{name}.pub").read_text().strip()


@pytest.fixture
def keys(signed: GateProject, tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """sam and chen have keys listed in the approvers file; dev has a key of their own."""
    if not shutil.which("ssh-keygen"):
        pytest.skip("ssh-keygen is not installed")
    made = {who: keypair(tmp_path, who) for who in ("sam", "chen", "dev")}
    approvers = signed.root / APPROVERS
    text = approvers.read_text()
    for who, email in (("sam", SAM), ("chen", "chen.wei@acme.example")):
        text = text.replace(f"  - email: {email}\n",
                            f"  - email: {email}\n    ssh_keys: ['{made[who][1]}']\n")
    approvers.write_text(text)
    set_config(signed, "verify_authorship: true",
               "verify_authorship: true\n  require_signed_commits: true")
    commit(signed.root, DEV, "require signed sign-offs")
    drop(signed, "security-sign-off")
    return made


def signed_commit(root: Path, author: str, key: Path, message: str) -> None:
    git(root, "add", "-A", email=author)
    git(root, "-c", "gpg.format=ssh", "-c", f"user.signingkey={key}", "commit", "-q", "-S",
        "-m", message, email=author)


def test_signed_by_the_attackers_own_key_is_no_signature(
        signed: GateProject, keys: dict[str, tuple[Path, str]], tmp_path: Path) -> None:
    root = signed.root
    # The ambient configuration trusts dev's key for sam's address: it must not matter.
    allowed = tmp_path / "ambient_allowed_signers"
    allowed.write_text(f"{SAM} {keys['dev'][1]}\n")
    git(root, "config", "gpg.ssh.allowedSignersFile", str(allowed))
    append(root, LOG, sam_signs())
    signed_commit(root, SAM, keys["dev"][0], "authored as sam, signed by dev")
    assert git(root, "log", "-1", "--format=%G?") == "G"  # ambient git would say good
    found = case(signed, "security-sign-off")
    assert found["type"] == "evidence-missing"
    # git verifies the signature itself (%G? = U: a key it does not know) but the key is not
    # sam's: refused.
    assert "is signed by a key that is not listed for the signer" in found["message"]


def test_signed_by_another_approvers_key_is_refused(
        signed: GateProject, keys: dict[str, tuple[Path, str]]) -> None:
    root = signed.root
    append(root, LOG, sam_signs())
    signed_commit(root, SAM, keys["chen"][0], "authored as sam, signed with chen's key")
    missing(signed, "security-sign-off", "signed by a key that is not listed for the signer")
    # Sam's own listed key counts.
    append(root, LOG, sam_signs(note="again"))
    signed_commit(root, SAM, keys["sam"][0], "sam signs")
    assert case(signed, "security-sign-off")["outcome"] == "passed"


def test_signer_without_a_listed_key_never_counts(
        signed: GateProject, keys: dict[str, tuple[Path, str]]) -> None:
    root = signed.root
    drop(signed, "backup-verified")
    append(root, LOG, line(gate=12, criterion="backup-verified", signer="tom.berg@acme.example",
                           role="dba", at="2026-02-03T12:00:00Z"))
    signed_commit(root, "tom.berg@acme.example", keys["dev"][0], "tom signs")
    found = case(signed, "backup-verified")
    assert "no signing key is listed for the signer" in found["message"]


# -- times come from git ---------------------------------------------------------------------------

@pytest.fixture
def waivable(signed: GateProject) -> GateProject:
    enable_waivers(signed, "  max_days: 30\n")
    drop(signed, "runbooks-ready")
    return signed


def test_waiver_max_days_runs_from_the_commit_not_the_lines_at(waivable: GateProject) -> None:
    root = waivable.root
    now = datetime.now(UTC)
    waive_runbooks(root, at=iso(now + timedelta(days=100)),
                   expires=iso(now + timedelta(days=120)))
    commit(root, "maria.lopez@acme.example", "waive")
    missing(waivable, "runbooks-ready", "expires more than 30 days after it was written")
    assert verdict_code(waivable) == 1


def test_waiver_committed_after_the_clock_waives_nothing(waivable: GateProject) -> None:
    root = waivable.root
    waive_runbooks(root, expires="2026-02-20T00:00:00Z")
    commit(root, "maria.lopez@acme.example", "waive", "2026-02-10T00:00:00Z")
    # Replayed at a time before the waiver's commit: it did not exist then.
    missing(waivable, "runbooks-ready", "after the evaluation time",
            "--gate-now=2026-02-05T00:00:00Z")
    # A commit dated far ahead (a claim as well) does not lengthen max_days either.
    waive_runbooks(root, justification="runbook review scheduled after launch again",
                   expires=iso(datetime.now(UTC) + timedelta(days=50)))
    commit(root, "maria.lopez@acme.example", "waive",
           iso(datetime.now(UTC) + timedelta(days=40)))
    missing(waivable, "runbooks-ready", "after the evaluation time")


def test_sign_off_dates_come_from_its_commit(signed: GateProject) -> None:
    root = signed.root
    drop(signed, "security-sign-off")
    # Signed before the phase started (commit date) although the line claims otherwise.
    append(root, LOG, sam_signs())
    commit(root, SAM, "old sign-off", "2026-01-20T00:00:00Z")
    found = case(signed, "security-sign-off")
    assert "signed at 2026-01-20T00:00:00Z, before phase 12-production started" in (
        found["message"])
    # A commit dated after the evaluation clock is refused.
    append(root, LOG, sam_signs(note="future"))
    commit(root, SAM, "future sign-off", iso(datetime.now(UTC) + timedelta(days=3)))
    missing(signed, "security-sign-off", "after the evaluation time")
    assert verdict_code(signed) == 1


# -- rollback triggers: present wins ---------------------------------------------------------------

def test_a_later_absent_never_masks_a_present(signed: GateProject) -> None:
    root = signed.root
    tom = "tom.berg@acme.example"
    append(root, LOG, line(gate=12, criterion="data-integrity-issue", signer=tom, role="dba",
                           at="2026-02-04T10:00:00Z", present=True))
    commit(root, tom, "data integrity issue seen", "2026-02-04T10:00:00Z")
    # A later "absent", dated later both in the line and in git, by a holder of the role.
    append(root, LOG, line(gate=12, criterion="data-integrity-issue", signer=tom, role="dba",
                           at="2099-01-01T00:00:00Z"))
    commit(root, tom, "all fine now")
    found = case(signed, "data-integrity-issue")
    assert found["outcome"] == "failure" and "TRIGGERED" in found["message"]
    assert signed.record().decision == "ROLLBACK"
    assert verdict_code(signed) == 2


def test_present_by_another_holder_wins_over_an_absent(signed: GateProject) -> None:
    root = signed.root
    ana = "ana.silva@acme.example"
    append(root, LOG, line(gate=12, criterion="critical-functionality-broken", signer=ana,
                           role="qa-lead", at="2026-02-01T00:00:00Z", present=True))
    commit(root, ana, "broken checkout")
    found = case(signed, "critical-functionality-broken")
    assert "TRIGGERED: reported present by ana.silva@acme.example" in found["message"]
    assert signed.record().decision == "ROLLBACK"


@pytest.fixture
def gnupg(tmp_path: Path) -> Any:
    """Make OpenPGP keys in a keyring of the test's own; its agent is stopped afterwards."""
    if not shutil.which("gpg"):
        pytest.skip("gpg is not installed")
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}

    def make(uid: str) -> tuple[str, str]:
        subprocess.run(["gpg", "--batch", "--quiet", "--pinentry-mode", "loopback",
                        "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never"],
                       env=env, check=True, capture_output=True)
        listed = subprocess.run(["gpg", "--with-colons", "--list-keys", uid], env=env,
                                check=True, capture_output=True, text=True).stdout
        fingerprint = next(f.split(":")[9] for f in listed.splitlines() if f.startswith("fpr"))
        armored = subprocess.run(["gpg", "--armor", "--export", fingerprint], env=env,
                                 check=True, capture_output=True, text=True).stdout
        return fingerprint, armored

    yield make, env
    subprocess.run(["gpgconf", "--kill", "all"], env=env, check=False, capture_output=True)


def test_openpgp_signature_must_be_by_the_approvers_listed_key(
        signed: GateProject, gnupg: Any) -> None:
    make, env = gnupg
    root = signed.root
    sam_fpr, sam_key = make(f"Sam <{SAM}>")
    dev_fpr, _ = make(f"Dev <{DEV}>")
    indented = "".join(f"      {text}\n" for text in sam_key.strip().splitlines())
    approvers = root / APPROVERS
    approvers.write_text(approvers.read_text().replace(
        f"  - email: {SAM}\n", f"  - email: {SAM}\n    openpgp_fingerprints: ['{sam_fpr}']\n"
                               f"    openpgp_public_keys: |\n{indented}"))
    set_config(signed, "verify_authorship: true",
               "verify_authorship: true\n  require_signed_commits: true")
    commit(root, DEV, "require signed sign-offs")
    drop(signed, "security-sign-off")
    append(root, LOG, sam_signs())
    git(root, "add", "-A", email=SAM)
    git(root, "-c", f"user.signingkey={dev_fpr}", "commit", "-q", "-S", "-m", "as sam, dev's key",
        email=SAM, extra_env=env)
    missing(signed, "security-sign-off",
            "carries no signature git verifies with the approvers' keys")
    append(root, LOG, sam_signs(note="signed"))
    git(root, "add", "-A", email=SAM)
    git(root, "-c", f"user.signingkey={sam_fpr}", "commit", "-q", "-S", "-m", "sam signs",
        email=SAM, extra_env=env)
    assert case(signed, "security-sign-off")["outcome"] == "passed"


def test_attest_refuses_a_lookalike_git_identity(signed: GateProject) -> None:
    root = signed.root
    before = (root / LOG).read_bytes()
    git(root, "config", "user.email", LEE.replace("k", KELVIN))
    done = cli(root, "attest", "12", "change-management-approval", "--role", "change-manager")
    assert done.returncode == 2
    assert "U+212A" in done.stderr and "the gate would refuse this sign-off" in done.stderr
    assert (root / LOG).read_bytes() == before


def test_waiver_approval_needs_the_approvers_signature_where_required(
        signed: GateProject, keys: dict[str, tuple[Path, str]]) -> None:
    root = signed.root
    enable_waivers(signed)
    drop(signed, "runbooks-ready")
    waive_runbooks(root)
    signed_commit(root, SAM, keys["dev"][0], "waive as sam with dev's key")
    missing(signed, "runbooks-ready", "is signed by a key that is not listed for the signer")
