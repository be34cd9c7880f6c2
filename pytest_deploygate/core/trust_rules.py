"""The trust rules of sign-off identity, in one place (issue 10 class A; docs/attestations.md).

Who signed, when, and with which key is established by git, never by what a log line says
about itself. Every rule here is a small pure function so that one table-driven test
(tests/test_trust_rules.py) can show each rule holding in both directions:

- lines are read exactly as git reads them: split on ``\\n`` only, and a line holding any
  other line separator or a control character is unreadable (never attributed);
- identities are e-mail addresses compared exactly: non-ASCII is refused (so the Kelvin sign
  or a fullwidth letter cannot fold onto an approver), case is folded in ASCII only;
- every time that matters is a git time: a commit dated after the evaluation clock is
  refused, and durations run from the earlier of the commit's times and the clock;
- a required signature must be made by a key listed for that approver;
- for a rollback trigger, any "present" for the release wins over any "absent".

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import unicodedata
from collections.abc import Iterable
from datetime import datetime

#: Code points that end a line for ``str.splitlines()`` (and some editors) but not for git.
#: Any of them inside a line would let a reader and ``git blame`` disagree about numbering.
FOREIGN_LINE_SEPARATORS = frozenset("\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
#: Invisible characters that reorder or hide text (Trojan Source): never in a trusted line.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                          "\u2066\u2067\u2068\u2069")


class UntrustedIdentity(ValueError):
    """An address that cannot be compared exactly; the message says why."""


# -- reading lines ---------------------------------------------------------------------------------

def split_git_lines(data: bytes) -> list[bytes]:
    """The lines of a file as git numbers them: split on ``\\n`` only (a final ``\\n`` ends
    the last line, it does not start another)."""
    if not data:
        return []
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return lines


def line_text_problem(text: str) -> str | None:
    """Why a decoded line cannot be trusted (None when it can).

    A line separator git does not split on, a control character (tab included: JSON Lines
    need none) or a bidirectional control makes the line unreadable, never attributed.
    """
    if text.isascii() and text.isprintable():  # (" " to "~" only: the usual sign-off line)
        return None
    for char in text:
        if char in FOREIGN_LINE_SEPARATORS:
            return (f"holds U+{ord(char):04X}, a line separator git does not split on; "
                    "only \\n ends a line")
        if unicodedata.category(char) == "Cc" or char in BIDI_CONTROLS:
            return f"holds the control character U+{ord(char):04X}"
    return None


def value_text_problem(value: object) -> str | None:
    """Why a parsed JSON value cannot be kept: a JSON escape (``\\ud800``) must not bring
    in a lone surrogate, which no encoder can write to a record or a terminal (None when it
    can be kept). Escaped controls are kept: records and terminals show them escaped."""
    if isinstance(value, str):
        if value.isascii():  # (no surrogate is ASCII)
            return None
        bad = next((c for c in value if unicodedata.category(c) == "Cs"), None)
        return (f"a value holds the lone surrogate U+{ord(bad):04X} (a JSON escape)"
                if bad else None)
    if isinstance(value, dict):
        items: list[object] = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        items = list(value)
    else:
        return None
    for item in items:
        found = value_text_problem(item)
        if found:
            return found
    return None


# -- identities ------------------------------------------------------------------------------------

def identity(raw: str) -> str:
    """The comparable form of an e-mail address: ASCII only, case folded in ASCII only.

    Raises UntrustedIdentity for anything that could compare equal to a different address
    under Unicode folding (Kelvin sign, fullwidth letters, dotless i) or that is not a plain
    ``local@domain`` address.
    """
    if not raw:
        raise UntrustedIdentity("the address is empty")
    if not raw.isascii():
        bad = next(c for c in raw if not c.isascii())
        raise UntrustedIdentity(f"{raw!r} holds the non-ASCII character U+{ord(bad):04X}; "
                                "addresses are compared exactly, in ASCII only")
    # Every character "!" to "~", none of <>"\\, : for ASCII text (checked above) that is
    # isprintable() (" " to "~") without a space, and no quoting character; the same test as
    # a walk over the characters, at C speed (every sign-off line and approver asks it).
    if not raw.isprintable() or any(c in raw for c in _REFUSED_IN_ADDRESS):
        raise UntrustedIdentity(f"{raw!r} holds a space, control or quoting character")
    local, at, domain = raw.partition("@")
    if not at or not local or not domain or "@" in domain:
        raise UntrustedIdentity(f"{raw!r} is not a local@domain address")
    return ascii_lower(raw)


#: What an address may not hold among the printable ASCII characters (see identity).
_REFUSED_IN_ADDRESS = ' <>"\\,'


def ascii_lower(text: str) -> str:
    """Lower-case A-Z only (``str.lower`` folds far more than ASCII)."""
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def same_identity(claimed: str, attributed: str) -> bool:
    """True only when both are trusted addresses and equal after ASCII case folding."""
    try:
        return identity(claimed) == identity(attributed)
    except UntrustedIdentity:
        return False


# -- times -----------------------------------------------------------------------------------------

def future_commit_problem(authored: datetime, committed: datetime,
                          clock: datetime) -> str | None:
    """A commit dated after the evaluation clock is refused: its times are claims too."""
    latest = max(authored, committed)
    if latest > clock:
        return (f"its commit is dated {latest.isoformat()}, after the evaluation time "
                f"{clock.isoformat()}")
    return None


def effective_time(authored: datetime, committed: datetime, clock: datetime) -> datetime:
    """When a line counts as made: the earliest of the commit's times and the clock, so a
    later claim never lengthens a waiver, keeps a sign-off young or dates it into a phase."""
    return min(authored, committed, clock)


# -- signatures ------------------------------------------------------------------------------------

#: SSH public key types git can verify signatures of.
SSH_KEY_TYPES = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                 "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com",
                 "sk-ecdsa-sha2-nistp256@openssh.com")
#: ``%G?`` statuses that mean "git verified the signature": the key is then compared with
#: the approver's own (a temporary keyring has no web of trust, so OpenPGP says U).
VERIFIED_STATUSES = frozenset("GU")


def ssh_key_fingerprint(public_key: str) -> str:
    """``SHA256:...`` of an OpenSSH public key line, as ssh-keygen and git's ``%GK`` print it.

    Raises ValueError for a line that is not a public key of a known type.
    """
    parts = public_key.split()
    if len(parts) < 2 or parts[0] not in SSH_KEY_TYPES:
        raise ValueError(f"not an SSH public key of a known type ({', '.join(SSH_KEY_TYPES)})")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the key's base64 part does not decode") from None
    if not blob.startswith(len(parts[0]).to_bytes(4, "big") + parts[0].encode()):
        raise ValueError("the key's type and its encoded type differ")
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def openpgp_fingerprint(text: str) -> str:
    """Upper-case hex without spaces; raises ValueError unless 40 or 64 hex digits."""
    value = "".join(text.split()).upper()
    if len(value) not in (40, 64) or any(c not in "0123456789ABCDEF" for c in value):
        raise ValueError(f"{text!r} is not an OpenPGP fingerprint (40 or 64 hex digits)")
    return value


def signature_problem(status: str, fingerprints: Iterable[str],
                      approver_keys: frozenset[str]) -> str | None:
    """Why a commit's signature does not bind it to the approver (None when it does).

    ``status`` is git's ``%G?``; ``fingerprints`` the signing key's fingerprints git reports
    (``%GK`` for SSH, ``%GF`` and ``%GP`` for OpenPGP); ``approver_keys`` the fingerprints
    listed for this approver. A good signature by anyone else's key is no signature.
    """
    if not approver_keys:
        return "cannot be checked: no signing key is listed for the signer in the approvers file"
    if status not in VERIFIED_STATUSES:
        return f"carries no signature git verifies with the approvers' keys (%G? = {status})"
    found = {f.strip().upper() for f in fingerprints if f.strip()}
    if not found & {k.upper() for k in approver_keys}:
        return "is signed by a key that is not listed for the signer in the approvers file"
    return None


# -- rollback triggers judged by people ------------------------------------------------------------

def trigger_present(reports: Iterable[bool]) -> bool | None:
    """True when any counting sign-off for the release reports the condition present (it
    wins over every "absent", whatever the dates); False when all say absent; None when
    there is none."""
    seen = False
    for present in reports:
        if present:
            return True
        seen = True
    return False if seen else None
