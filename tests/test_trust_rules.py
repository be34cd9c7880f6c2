"""The trust rules of sign-off identity, table-driven (each rule, each attack, both directions),
and the property that the line attributed to each sign-off is the line git blames."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_deploygate.core import trust_rules as rules
from pytest_deploygate.trust.jsonl_log import read_jsonl

T0 = datetime(2026, 2, 3, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
ED25519 = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl")
RSA_LABELLED_ED25519 = "ssh-rsa " + ED25519.split()[1]


def refused(raw: str) -> bool:
    try:
        rules.identity(raw)
    except rules.UntrustedIdentity:
        return True
    return False


def raises_value_error(function: Callable[[str], Any], argument: str) -> bool:
    try:
        function(argument)
    except ValueError:
        return True
    return False


# (attack class, rule, call, expected): each rule appears with an attack it stops and with
# the honest case it lets through.
TABLE: list[tuple[str, str, Callable[[], Any], Any]] = [
    ("line separator", "lone CR", lambda: rules.line_text_problem('{"a":1}\r') is None, False),
    ("line separator", "NEL", lambda: rules.line_text_problem("x\x85y") is None, False),
    ("line separator", "U+2028", lambda: rules.line_text_problem("x\u2028y") is None, False),
    ("line separator", "VT, FF, FS, GS, RS", lambda: [rules.line_text_problem(f"x{c}") is None
                                                      for c in "\x0b\x0c\x1c\x1d\x1e"],
     [False] * 5),
    ("control", "NUL, ESC, TAB, DEL, C1",
     lambda: [rules.line_text_problem(f"x{c}") is None for c in "\x00\x1b\t\x7f\x9b"],
     [False] * 5),
    ("control", "bidi override", lambda: rules.line_text_problem("a\u202eb") is None, False),
    ("line separator", "honest JSON with non-ASCII text",
     lambda: rules.line_text_problem('{"note": "café ✓ 東京"}'), None),
    ("escaped value", "lone surrogate in a nested value",
     lambda: rules.value_text_problem({"a": ["x", {"b": "\ud800"}]}) is None, False),
    ("escaped value", "lone surrogate in a key",
     lambda: rules.value_text_problem({"\udc80": 1}) is None, False),
    ("escaped value", "honest values, paired astral characters",
     lambda: rules.value_text_problem({"note": "caf\u00e9 \U0001f680", "n": [1, None]}), None),
    ("line separator", "split on \\n only",
     lambda: rules.split_git_lines(b"a\rb\nc\x85\n\nd"), [b"a\rb", b"c\x85", b"", b"d"]),
    ("line separator", "final newline ends the last line",
     lambda: rules.split_git_lines(b"a\n"), [b"a"]),
    ("identity", "Kelvin sign", lambda: refused("lee.\u212aim@acme.example"), True),
    ("identity", "fullwidth letter", lambda: refused("lee.\uff4bim@acme.example"), True),
    ("identity", "dotless i", lambda: refused("\u0131an@acme.example"), True),
    ("identity", "space or angle brackets", lambda: [refused("a b@c"), refused("<a@c>")],
     [True, True]),
    ("identity", "two @", lambda: refused("a@b@c"), True),
    ("identity", "empty", lambda: refused(""), True),
    ("identity", "honest address, ASCII case folded",
     lambda: rules.identity("Sam.Okafor@ACME.example"), "sam.okafor@acme.example"),
    ("identity", "apostrophe and plus are addresses",
     lambda: rules.identity("o'neil+ops@acme.example"), "o'neil+ops@acme.example"),
    ("identity", "Kelvin never equals k",
     lambda: rules.same_identity("lee.kim@acme.example", "lee.\u212aim@acme.example"), False),
    ("identity", "same address, other case",
     lambda: rules.same_identity("lee.kim@acme.example", "Lee.Kim@acme.example"), True),
    ("time", "future commit refused",
     lambda: rules.future_commit_problem(T0, T0 + HOUR, T0) is None, False),
    ("time", "future author date refused",
     lambda: rules.future_commit_problem(T0 + HOUR, T0, T0) is None, False),
    ("time", "commit at the clock accepted",
     lambda: rules.future_commit_problem(T0 - HOUR, T0, T0), None),
    ("time", "duration starts at the earliest of the commit's times",
     lambda: rules.effective_time(T0 - HOUR, T0, T0 + HOUR), T0 - HOUR),
    ("time", "never later than the clock",
     lambda: rules.effective_time(T0 + HOUR, T0 + HOUR, T0), T0),
    ("signature", "attacker's key",
     lambda: rules.signature_problem("U", ["SHA256:attacker"], frozenset({"SHA256:sam"}))
     is None, False),
    ("signature", "no verified signature",
     lambda: rules.signature_problem("N", [], frozenset({"SHA256:sam"})) is None, False),
    ("signature", "bad or revoked signature by the right key",
     lambda: [rules.signature_problem(s, ["SHA256:sam"], frozenset({"SHA256:sam"})) is None
              for s in "BRXYE"], [False] * 5),
    ("signature", "approver without a listed key",
     lambda: rules.signature_problem("G", ["SHA256:sam"], frozenset()) is None, False),
    ("signature", "approver's own key",
     lambda: rules.signature_problem("G", ["SHA256:sam"], frozenset({"SHA256:sam"})), None),
    ("signature", "OpenPGP subkey or primary fingerprint of the approver",
     lambda: rules.signature_problem("U", ["", "AB" * 20], frozenset({"AB" * 20})), None),
    ("signature", "SSH fingerprint as ssh-keygen prints it",
     lambda: rules.ssh_key_fingerprint(ED25519 + " sam@laptop").startswith("SHA256:"), True),
    ("signature", "key type must match its encoding",
     lambda: raises_value_error(rules.ssh_key_fingerprint, RSA_LABELLED_ED25519), True),
    ("signature", "OpenPGP fingerprint normalised",
     lambda: rules.openpgp_fingerprint("ab" * 10 + " " + "cd" * 10), "AB" * 10 + "CD" * 10),
    ("trigger", "present wins over a later absent",
     lambda: rules.trigger_present([True, False, False]), True),
    ("trigger", "present wins whatever the order",
     lambda: rules.trigger_present([False, False, True]), True),
    ("trigger", "all absent", lambda: rules.trigger_present([False, False]), False),
    ("trigger", "none", lambda: rules.trigger_present([]), None),
]


@pytest.mark.parametrize(("attack", "rule", "call", "expected"), TABLE,
                         ids=[f"{a}: {r}" for a, r, _, _ in TABLE])
def test_trust_rule(attack: str, rule: str, call: Callable[[], Any], expected: Any) -> None:
    assert call() == expected


def test_ssh_fingerprint_agrees_with_ssh_keygen(tmp_path: Path) -> None:
    key = tmp_path / "k"
    try:
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                       check=True)
    except FileNotFoundError:
        pytest.skip("ssh-keygen is not installed")
    printed = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", f"{key}.pub"],
                             capture_output=True, text=True, check=True).stdout.split()[1]
    assert rules.ssh_key_fingerprint((tmp_path / "k.pub").read_text()) == printed
    assert base64.b64decode((tmp_path / "k.pub").read_text().split()[1])  # a real key


# -- the line attributed to each sign-off is the line git blames -----------------------------------

AUTHORS = ["sam.okafor@acme.example", "chen.wei@acme.example", "dev@acme.example"]


def _git(root: Path, *args: str, author: str = AUTHORS[0], data: bytes | None = None) -> bytes:
    env = {**os.environ, "GIT_AUTHOR_NAME": "x", "GIT_AUTHOR_EMAIL": author,
           "GIT_COMMITTER_NAME": "x", "GIT_COMMITTER_EMAIL": author,
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", *args], cwd=root, env=env, input=data, check=True,
                          capture_output=True).stdout


def sign_off(signer: str) -> bytes:
    return json.dumps({"gate": 12, "criterion": "c", "signer": signer, "role": "r",
                       "at": "2026-02-03T12:00:00Z"}).encode()


# A chunk is what one author appends in one commit: sign-offs, arbitrary bytes, or
# sign-offs glued to arbitrary bytes (a separator before or after them, no \n between).
_noise = st.binary(max_size=12)
_piece = st.one_of(
    st.sampled_from(AUTHORS).map(sign_off),
    _noise,
    st.tuples(_noise, st.sampled_from(AUTHORS)).map(lambda t: t[0] + sign_off(t[1])),
    st.tuples(st.sampled_from([b"\r", b"\x0b", b"\x0c", b"\x1c", b"\xc2\x85",
                               "\u2028".encode(), b"\x00"]),
              st.sampled_from(AUTHORS)).map(lambda t: t[0] + sign_off(t[1])),
)
_chunks = st.lists(st.tuples(st.sampled_from(AUTHORS), st.lists(_piece, min_size=1, max_size=4)),
                   min_size=1, max_size=4)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(chunks=_chunks)
def test_attributed_line_agrees_with_git_blame(tmp_path_factory: pytest.TempPathFactory,
                                               chunks: list[tuple[str, list[bytes]]]) -> None:
    root = tmp_path_factory.mktemp("blame")
    _git(root, "init", "-q", "-b", "main")
    log = root / "log.jsonl"
    log.write_bytes(b"")
    for author, pieces in chunks:
        with log.open("ab") as handle:
            handle.write(b"".join(piece + b"\n" for piece in pieces))
        _git(root, "add", "-A", author=author)
        _git(root, "commit", "-q", "--allow-empty", "-m", "append", author=author)
    read = read_jsonl(root, "log.jsonl", "attestation.schema.json", with_origins=True)
    assert read.git_problem is None
    # Every whole sign-off line is read (first occurrences; repeats are ignored) and
    # attributed to the author whose commit appended it.
    expected: dict[int, str] = {}
    seen: set[bytes] = set()
    number = 0
    for author, pieces in chunks:
        for text in rules.split_git_lines(b"".join(piece + b"\n" for piece in pieces)):
            number += 1
            if number == 1 and text.startswith(b"\xef\xbb\xbf"):
                text = text[3:]  # a byte-order mark opening the file is not content
            text = text.strip(b" ")  # JSON whitespace around the object
            if text in {sign_off(a) for a in AUTHORS} and text not in seen:
                expected[number] = author
            seen.add(text)
    assert {line.number: line.origin.author_email for line in read.lines
            if line.origin is not None} == expected
    git_lines = log.read_bytes().split(b"\n")
    for line in read.lines:
        assert line.origin is not None and line.origin.committed
        blamed = _git(root, "blame", "--root", "-l", "-s", "-L",
                      f"{line.number},{line.number}", "--", "log.jsonl")
        commit = blamed[:40].decode()
        assert line.origin.commit == commit
        author = _git(root, "cat-file", "commit", commit).split(b"\nauthor ")[1].split(b"<")[1]
        assert line.origin.author_email == author.split(b">")[0].decode()
        # The bytes read are the bytes git blames, and hold no foreign separator.
        raw = git_lines[line.number - 1]
        assert blamed.rstrip(b"\n").endswith(b") " + raw)
        assert not any(sep.encode() in raw for sep in rules.FOREIGN_LINE_SEPARATORS)
        assert json.loads(raw)["signer"] == line.data["signer"]
