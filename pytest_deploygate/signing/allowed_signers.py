"""git's allowed-signers file (``ssh-keygen(1)``, ALLOWED SIGNERS), read for gate attestations.

One key per line: ``principals [options] keytype base64-key [comment]``; ``#`` comments and
blank lines are skipped. Honoured options: ``namespaces="..."`` (a key is allowed for gate
attestations only when the ``deploygate`` namespace matches one of its patterns),
``valid-after=`` and ``valid-before=`` (``YYYYMMDD[HHMM[SS]][Z]``; without ``Z`` in local
time, as ssh-keygen reads them). Any other option, ``cert-authority`` included, is refused
with the file and line: silently ignoring an option could widen what a key is trusted for.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from pytest_deploygate.core.value_class import value_class
from pytest_deploygate.signing import SigningError
from pytest_deploygate.signing.keys import PublicKey, parse_openssh_public, read_limited

#: The namespace of gate attestations, as ``ssh-keygen -Y sign -n`` names a signature's use.
NAMESPACE = "deploygate"
_MAX_BYTES = 1024 * 1024
_KEY_TYPES = ("ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-", "rsa-sha2-")


@value_class(frozen=True)
class AllowedSigner:
    """One line of the file."""

    principals: str
    key: PublicKey
    namespaces: tuple[str, ...] | None
    valid_after: datetime | None
    valid_before: datetime | None
    where: str  # file:line

    def allows_namespace(self, namespace: str = NAMESPACE) -> bool:
        """ssh's pattern-list match: any positive pattern matches and no negated one does."""
        if self.namespaces is None:
            return True
        matched = False
        for pattern in self.namespaces:
            negated = pattern.startswith("!")
            if _ssh_match(namespace, pattern.removeprefix("!")):
                if negated:
                    return False
                matched = True
        return matched

    def valid_at(self, instant: datetime) -> bool:
        """Within valid-after and valid-before (each bound inclusive where ssh is)."""
        if self.valid_after is not None and instant < self.valid_after:
            return False
        return not (self.valid_before is not None and instant > self.valid_before)


def _ssh_match(text: str, pattern: str) -> bool:
    """ssh's match_pattern: only ``*`` and ``?`` are special (``[...]`` is literal, unlike
    fnmatch, so a pattern never matches more here than in ssh-keygen)."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


def load_allowed_signers(path: Path) -> list[AllowedSigner]:
    """Every line of the file; raise :class:`SigningError` naming file and line."""
    try:
        text = read_limited(path, "allowed-signers file", _MAX_BYTES).decode("utf-8")
    except UnicodeDecodeError:
        raise SigningError(f"{path}: not UTF-8 text") from None
    signers = []
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        signers.append(_parse_line(stripped, f"{path}:{number}"))
    if not signers:
        raise SigningError(f"{path}: no signer listed: add a line "
                           "'principal namespaces=\"deploygate\" ssh-ed25519 AAAA...'")
    return signers


def _parse_line(line: str, where: str) -> AllowedSigner:
    principals, rest = _token(line, where)
    if not rest:
        raise SigningError(f"{where}: expected 'principals [options] keytype base64-key'")
    first, after = _token(rest, where)
    options: dict[str, str | None] = {}
    if not first.startswith(_KEY_TYPES):
        options = _options(first, where)
        if not after:
            raise SigningError(f"{where}: no key after the options")
        first, after = _token(after, where)
    blob, _comment = _token(after, where) if after else ("", "")
    if not blob:
        raise SigningError(f"{where}: no base64 key after {first}")
    key = parse_openssh_public(first, blob, where)
    namespaces = None
    if "namespaces" in options:
        value = options["namespaces"] or ""
        namespaces = tuple(p.strip() for p in value.split(",") if p.strip())
    return AllowedSigner(principals, key, namespaces,
                         _time(options.get("valid-after"), "valid-after", where),
                         _time(options.get("valid-before"), "valid-before", where), where)


def _token(text: str, where: str) -> tuple[str, str]:
    """The first whitespace-separated token (double quotes group), and the rest."""
    out: list[str] = []
    quoted = False
    for position, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char in " \t" and not quoted:
            return "".join(out), text[position:].strip()
        out.append(char)
    if quoted:
        raise SigningError(f"{where}: unterminated quote")
    return "".join(out), ""


def _options(text: str, where: str) -> dict[str, str | None]:
    options: dict[str, str | None] = {}
    for raw in _split_outside_quotes(text):
        name, eq, value = raw.partition("=")
        name = name.strip().lower()
        if name not in ("namespaces", "valid-after", "valid-before"):
            raise SigningError(f"{where}: option {name!r} is not supported for gate "
                               "attestations (only namespaces=, valid-after=, valid-before=); "
                               "list the key without it")
        if not eq:
            raise SigningError(f"{where}: option {name} needs a value")
        if name in options:
            raise SigningError(f"{where}: option {name} given twice")
        options[name] = value.strip().strip('"')
    return options


def _split_outside_quotes(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p]


def _time(value: str | None, name: str, where: str) -> datetime | None:
    if value is None:
        return None
    text = value.strip()
    utc = text.endswith(("Z", "z"))
    digits = text[:-1] if utc else text
    formats = {8: "%Y%m%d", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}
    if not digits.isdigit() or len(digits) not in formats:
        raise SigningError(f"{where}: {name}={value!r}: expected YYYYMMDD[HHMM[SS]][Z]")
    try:
        parsed = datetime.strptime(digits, formats[len(digits)])
    except ValueError:
        raise SigningError(f"{where}: {name}={value!r}: not a date") from None
    # ssh-keygen reads a time without Z as local time; keep its meaning.
    if utc:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):  # local year 1 or 9999 falls off the calendar in UTC
        edge = datetime.min if parsed.year <= 1 else datetime.max
        return edge.replace(tzinfo=UTC)
