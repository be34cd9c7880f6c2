"""Red team on the fast verdict (issue 15): the private cache of loaded specs, the release
tree hashed in Python, the exact ssh-ed25519 reader. Each test asserts the safe behaviour of
``deploygate verdict`` through its command line, on a real release (a git repository of the
bundled example and its record from a real gate run at a fixed clock)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from test_verdict_cache import (  # noqa: F401 (fixtures)
    NOW,
    entries,
    machine_tmp,
    project,
    released,
    verdict,
)

from conftest import INNER_ARGS, REPO

BUILTIN_SPEC = REPO / "gate_specs" / "12-production.yaml"


def gate_run(root: Path, *options: str) -> None:
    """A real gate run of ``root`` at the tests' fixed clock (its record replaces the one
    there)."""
    run = subprocess.run([sys.executable, "-m", "pytest", *INNER_ARGS, "-q", "--gate=12", NOW,
                          *options], cwd=root, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:]


def record_sha(root: Path) -> str:
    text = (root / "gate-records" / "GATE-12.xml").read_text()
    start = text.index('name="deploygate.spec_sha256" value="') + len(
        'name="deploygate.spec_sha256" value="')
    return text[start:start + 64]


# -- 1. the cache of loaded specs ----------------------------------------------------------------

def test_a_cache_entry_forged_by_the_same_user_does_not_decide_the_verdict(
        project: Path, machine_tmp: Path, tmp_path: Path) -> None:  # noqa: F811
    # A record of this very release, made by another spec (one the attacker chose).
    weak = tmp_path / "weak-specs"
    weak.mkdir()
    (weak / BUILTIN_SPEC.name).write_text(BUILTIN_SPEC.read_text() + "# another spec\n")
    gate_run(project, "-o", f"deploygate_specs={weak}")
    other = record_sha(project)
    refused = verdict(project, machine_tmp)
    assert refused.code == 4 and "it was made by a spec with sha256" in refused.stderr
    # The refused verdict loaded the project's (valid) spec; it once remembered it there, for
    # the same user to rewrite that entry to say the project's spec is the record's. Nothing
    # is remembered now: there is no entry to forge, and a planted one is never read.
    assert entries(machine_tmp) == []
    planted = machine_tmp / f"pytest-deploygate-{os.getuid()}" / "verdict-inputs"
    planted.mkdir(parents=True, mode=0o700)
    (planted / ("0" * 64)).write_text(json.dumps({"spec": {"sha256": other}}))
    again = verdict(project, machine_tmp)
    assert again.code == 4, again.stdout + again.stderr
    assert "it was made by a spec with sha256" in again.stderr



def forget(cache_tmp: Path) -> None:
    """Remove every remembered spec and settings entry."""
    folder = cache_tmp / f"pytest-deploygate-{os.getuid()}" / "verdict-inputs"
    for entry in folder.glob("*") if folder.is_dir() else ():
        entry.unlink()


#: The racing process watches the file's reads with inotify.
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify")


class SwapOnRead:
    """A same-user process racing the reads of one file: after its n-th read (each close of
    it as a reader, told by inotify) the file is atomically replaced by ``contents[n]``."""

    _IN_CLOSE_NOWRITE = 0x10

    def __init__(self, path: Path, contents: list[bytes]) -> None:
        import ctypes

        self.path, self.contents, self.reads = path, contents, 0
        if path.read_bytes() != contents[0]:  # (before the watch: this read is not counted)
            path.write_bytes(contents[0])
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init1(os.O_NONBLOCK)
        assert self.fd >= 0
        assert libc.inotify_add_watch(self.fd, str(path.parent).encode(),
                                      self._IN_CLOSE_NOWRITE) >= 0
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        import select
        import struct

        while not self.stop:
            if not select.select([self.fd], [], [], 0.05)[0]:
                continue
            data = os.read(self.fd, 65536)
            while data:
                _, _, _, size = struct.unpack_from("iIII", data)
                name = data[16:16 + size].rstrip(b"\0")
                data = data[16 + size:]
                if name == self.path.name.encode():
                    self.reads += 1
                    if self.reads < len(self.contents):
                        temp = self.path.with_name(".swap")
                        temp.write_bytes(self.contents[self.reads])
                        os.replace(temp, self.path)

    def close(self) -> None:
        self.stop = True
        self.thread.join(5)
        os.close(self.fd)


@linux_only
def test_a_spec_swapped_between_the_loaders_reads_does_not_vouch_for_a_weaker_spec(
        project: Path, machine_tmp: Path, tmp_path: Path) -> None:  # noqa: F811
    # The loader parsed one read of the spec and hashed another: a same-user process that
    # swaps the released spec in right after the weaker one was parsed made the weaker
    # spec's items pass for the released spec's (its sha256 is now of the bytes parsed).
    released_spec = BUILTIN_SPEC.read_bytes()
    runbooks = (b"      - id: runbooks-ready\n        text: Runbooks ready\n"
                b"        check: {kind: attestation, roles: [sre]}\n")
    weaker = released_spec.replace(runbooks, b"")
    assert weaker != released_spec
    spec = project / "gate_specs" / BUILTIN_SPEC.name
    spec.parent.mkdir()
    spec.write_bytes(released_spec)
    # (An old modification time: git's status then trusts the index, and never reads it.)
    os.utime(spec, (1_600_000_000, 1_600_000_000))
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    subprocess.run(["git", "-c", "user.name=dev", "-c", "user.email=dev@acme.example", "commit",
                    "-qm", "the project's own spec"], cwd=project, check=True)
    # A record of this release by the weaker spec, claiming the released spec's sha256.
    weak = tmp_path / "weak-specs"
    weak.mkdir()
    (weak / BUILTIN_SPEC.name).write_bytes(weaker)
    gate_run(project, "-o", f"deploygate_specs={weak}")
    record = project / "gate-records" / "GATE-12.xml"
    record.write_text(record.read_text().replace(
        record_sha(project), hashlib.sha256(released_spec).hexdigest()))
    elsewhere = tmp_path / "elsewhere"  # (a cache of its own: this one stays empty)
    elsewhere.mkdir()
    honest = verdict(project, elsewhere)
    assert honest.code == 4 and "runbooks-ready" in honest.stderr, honest.stderr
    for _ in range(5):
        spec.write_bytes(weaker)
        os.utime(spec, (1_600_000_000, 1_600_000_000))
        racer = SwapOnRead(spec, [weaker, released_spec])
        try:
            deploy = verdict(project, machine_tmp)
        finally:
            racer.close()
            spec.write_bytes(released_spec)
            os.utime(spec, (1_600_000_000, 1_600_000_000))
        assert deploy.code == 4, deploy.stdout + deploy.stderr


# -- 2. the release tree hashed here --------------------------------------------------------------

@pytest.mark.parametrize("object_format", ["sha1", "sha256"])
def test_the_release_tree_hashed_here_is_gits_own_for_odd_names_and_modes(
        tmp_path: Path, object_format: str) -> None:
    # Every mode (file, executable, symlink, directory, submodule) and names that sort
    # differently as trees, need no quoting with -z but would with core.quotePath, are not
    # UTF-8, or differ only in Unicode normalisation: with no bookkeeping entry at the top, the
    # release tree is the commit's own tree.
    from pytest_deploygate.evidence.release import release_identity

    root = tmp_path / "odd"
    root.mkdir()
    git = ["git", "-c", "user.name=dev", "-c", "user.email=dev@acme.example"]
    subprocess.run([*git, "init", "-q", f"--object-format={object_format}"], cwd=root,
                   check=True)
    names = [b"a.b", b"a-", b"a0", b"-n", b"x\ny", b"t\tab", b"\xff\xfe",
             "caf\u00e9".encode(), "cafe\u0301".encode(), b"sp ace", b"back\\slash", b'"q"']
    for name in names:
        (root / os.fsdecode(name)).write_bytes(b"content of " + name)
    for folder in ("a", "a.d", "ab"):
        (root / folder / "x").mkdir(parents=True)
        (root / folder / "x" / "f").write_text(folder)
    (root / "link").symlink_to("a.b")
    (root / "exe").write_text("#!/bin/sh\n")
    (root / "exe").chmod(0o755)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    gitlink = "1" * (40 if object_format == "sha1" else 64)
    subprocess.run([*git, "update-index", "--add", "--cacheinfo", f"160000,{gitlink},sub"],
                   cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "odd names"], cwd=root, check=True)
    identity = release_identity(root, record_dir=tmp_path / "records", version="1.0.0")
    own = subprocess.run(["git", "rev-parse", "HEAD^{tree}"], cwd=root, check=True,
                         capture_output=True, text=True).stdout.strip()
    assert identity.tree == own
    # ... hashed here, not left to git mktree.
    from pytest_deploygate.evidence.git_tree import tree_id

    listing = subprocess.run(["git", "ls-tree", "-z", "HEAD"], cwd=root, check=True,
                             capture_output=True).stdout.decode("utf-8", "surrogateescape")
    assert tree_id([entry for entry in listing.split("\0") if entry], object_format) == own


# -- 3. the exact ssh-ed25519 reader ---------------------------------------------------------------

def _ssh_string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


@pytest.mark.parametrize("variant", [
    "as is", "extra padding", "double padding", "padding inside", "line break inside",
    "trailing data", "short key", "long key", "length says 31", "other type inside",
    "type without length", "two keys"])
def test_an_ed25519_key_line_reads_as_cryptography_reads_it(variant: str) -> None:
    # The exact reader must never accept a line cryptography's OpenSSH parser refuses, nor
    # read a key other than the one it reads: an allowed-signers line means one key.
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from pytest_deploygate.signing import SigningError
    from pytest_deploygate.signing.keys import parse_openssh_public

    raw = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    other = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    name = _ssh_string(b"ssh-ed25519")
    blobs = {
        "short key": name + _ssh_string(raw[:31]), "long key": name + _ssh_string(raw + b"\0"),
        "length says 31": name + (31).to_bytes(4, "big") + raw,
        "other type inside": _ssh_string(b"ssh-ed25518") + _ssh_string(raw),
        "type without length": b"ssh-ed25519" + _ssh_string(raw),
        "two keys": name + _ssh_string(raw) + _ssh_string(other),
        "trailing data": name + _ssh_string(raw) + b"\0",
    }
    text = base64.b64encode(blobs.get(variant, name + _ssh_string(raw))).decode()
    text = {"extra padding": text + "=", "double padding": text + "==",
            "padding inside": text[:40] + "=" + text[40:],
            "line break inside": text[:40] + "\n" + text[40:]}.get(variant, text)
    try:
        theirs: bytes | None = serialization.load_ssh_public_key(
            f"ssh-ed25519 {text}".encode()).public_bytes_raw()  # type: ignore[union-attr]
    except Exception:
        theirs = None
    try:
        ours: bytes | None = parse_openssh_public("ssh-ed25519", text, "allowed_signers:1") \
            .key.public_bytes_raw()  # type: ignore[union-attr]
    except SigningError:
        ours = None
    # (Refusing a line cryptography would read is safe: "padding inside" is refused so.)
    assert ours is None or ours == theirs
    assert (ours is not None) == (variant in ("as is", "extra padding", "double padding"))
