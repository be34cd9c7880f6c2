"""No signature verifier named by the repository's own git configuration answers for a commit.

git picks the verifier by the signature's armour: ``-----BEGIN SIGNED MESSAGE-----`` is x509,
run as ``gpg.x509.program``. The gpg, OpenPGP and SSH verifiers were given to git by absolute
path, but not the x509 one: a program the job's ``.git/config`` named "verified" a forged
commit as signed by an approver's listed fingerprint (rt15b A07).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from pytest_deploygate.evidence.git import commit_signature
from pytest_deploygate.trust.signoffs import signature_problem

FINGERPRINT = "0123456789ABCDEF0123456789ABCDEF01234567"
OPENPGP_KEY = "-----BEGIN PGP PUBLIC KEY BLOCK-----\nx\n-----END PGP PUBLIC KEY BLOCK-----\n"


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                          text=True).stdout.strip()


def test_an_x509_verifier_of_the_repositorys_config_does_not_answer(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    (root / "f").write_text("a\n")
    _git(root, "add", "f")
    _git(root, "-c", "user.name=A", "-c", "user.email=a@x", "commit", "-qm", "base")
    forged = (f"tree {_git(root, 'rev-parse', 'HEAD^{tree}')}\n"
              f"parent {_git(root, 'rev-parse', 'HEAD')}\n"
              "author Sam <sam@acme.example> 1764300000 +0000\n"
              "committer Sam <sam@acme.example> 1764300000 +0000\n"
              "gpgsig -----BEGIN SIGNED MESSAGE-----\n MIAGCSqGSIb3DQEHAqCAMIACAQEx\n"
              " -----END SIGNED MESSAGE-----\n\nsign-off\n")
    (tmp_path / "c.txt").write_text(forged)
    commit = _git(root, "hash-object", "-t", "commit", "-w", str(tmp_path / "c.txt"))
    fake = tmp_path / "fake-gpgsm"
    fake.write_text("#!/bin/sh\ncat >/dev/null\n"
                    'echo "[GNUPG:] NEWSIG"\n'
                    f'echo "[GNUPG:] GOODSIG {FINGERPRINT} Sam"\n'
                    f'echo "[GNUPG:] VALIDSIG {FINGERPRINT} 2026-01-01 1764300000 0 4 0 1 8 00 '
                    f'{FINGERPRINT}"\n'
                    'echo "[GNUPG:] TRUST_FULLY 0 shell"\n')
    fake.chmod(0o755)
    _git(root, "config", "gpg.x509.program", str(fake))  # (the job's .git/config)
    signature = commit_signature(root, commit, "", OPENPGP_KEY)
    assert not (signature.status == "G" and
                signature_problem(signature.status, signature.fingerprints,
                                  (FINGERPRINT,)) is None), signature
