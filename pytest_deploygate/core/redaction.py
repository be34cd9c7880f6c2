"""Redaction of secrets from everything shown: URLs, headers and command lines.

One module, used wherever a URL, a header or a command line can reach a record, the terminal,
an error or a summary. The rule is structural, not a deny-list of "credential-like" names
(a list of names always misses one):

- URLs: the userinfo (``user:password@``) becomes ``***@``; every query value and every
  ``name=value`` value of the fragment becomes ``***`` (names are kept, so
  ``?access_token=***&page=***``, ``#access_token=***``); scheme, host, port, path and a
  plain fragment anchor (``#section``) are kept.
- Headers: every value becomes ``***``; names are kept.
- Command lines: the program and plain positional words (letters, digits, ``_./,+-``) are
  kept; the value of every option (``--opt=VALUE``, ``-oVALUE``, and the word after an
  option, ``--opt VALUE``), every environment assignment (``NAME=VALUE``), the word after a
  redirection, and every other word (one holding ``:``, ``@``, ``=``, quotes, spaces...) is
  replaced by ``***``; URLs in a word are redacted as URLs. Conservative on purpose: the word
  after any option is hidden even when that option is a flag, since we cannot know which
  options take values.
- Free text (exception messages, third-party messages): every URL found in it is redacted as
  above, and the secret parts of the URL a request was made for are scrubbed from its error
  text (urllib's messages quote pieces of a URL, not always the whole of it).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence

MASK = "***"

# A URL in free text: a scheme, "://", then anything up to whitespace, a quote or a bracket.
# A URL in text is found by its "://", whatever stands before its scheme: a word boundary
# before the scheme let "1https://u:pw@h", "_https://..." and "éhttps://..." through whole,
# and a text with no scheme ("://u:pw@h") or one no scheme grammar allows ("x_://u:pw@h")
# showed its userinfo too. The scheme is taken when there is one, and is optional.
_URL_IN_TEXT = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.\-]{0,30})?://[^\s'\"<>`]+")
_USERINFO_IN_TEXT = re.compile(r"((?:[A-Za-z][A-Za-z0-9+.\-]{0,30})?://)[^/@\n]{1,256}@")
_ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# Shorter secret fragments are not scrubbed from error text: they would mangle the message
# and are not worth hiding ("1", "on").
_MIN_SCRUB = 3


def redact_url(url: str) -> str:
    """``https://***@host/path?token=***#t=***``: no userinfo, query or fragment value shown."""
    hidden = ambiguous_userinfo(url)
    if hidden is not None:
        # A password holding "/", "?" or "#" unencoded: the parser ends the host early and
        # would show the userinfo as a host. Hide everything up to the last "@".
        scheme, _, rest = url.partition("://")
        return f"{scheme}://{MASK}@" + redact_url(f"{scheme}://{rest.rpartition('@')[2]}"
                                                  ).partition("://")[2]
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return _opaque(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path,
                                    _mask_pairs(parts.query),
                                    _mask_pairs(parts.fragment, keep_bare=True)))


def ambiguous_userinfo(url: str) -> str | None:
    """What may be userinfo when an "@" lies beyond where the parser ends the authority."""
    _, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return None
    try:
        if "@" in urllib.parse.urlsplit(url).netloc:
            return None
    except ValueError:
        pass
    return rest.rpartition("@")[0]


def _opaque(url: str) -> str:
    # Not parseable as a URL: keep only the scheme.
    scheme, sep, _ = url.partition("://")
    return f"{scheme}://{MASK}" if sep else MASK


def _mask_pairs(text: str, keep_bare: bool = False) -> str:
    if not text:
        return ""
    out = []
    for pair in text.split("&"):
        name, sep, _ = pair.partition("=")
        # A bare query word (``?s3cret``) is a value without a name: hidden too. A bare
        # fragment is a page anchor (``#security-sign-off``): kept.
        out.append(f"{name}={MASK}" if sep else (pair if keep_bare else MASK))
    return "&".join(out)


def url_secrets(url: str) -> set[str]:
    """The parts of ``url`` that must never be shown (userinfo, query and fragment values)."""
    found: set[str] = set()
    hidden = ambiguous_userinfo(url)
    if hidden is not None:
        found.add(hidden)
        found.update(re.split(r"[:/?#]", hidden))
        found.update(urllib.parse.unquote(p) for p in re.split(r"[:/?#]", hidden))
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return ({url.partition("://")[2]} | found) - {""}
    if "@" in parts.netloc:
        userinfo = parts.netloc.rpartition("@")[0]
        found.add(userinfo)
        found.update(userinfo.split(":"))
        found.update(urllib.parse.unquote(p) for p in userinfo.split(":"))
    for text, keep_bare in ((parts.query, False), (parts.fragment, True)):
        for pair in text.split("&") if text else ():
            name, sep, value = pair.partition("=")
            if not sep and keep_bare:
                continue
            raw = value if sep else name
            found.update((raw, urllib.parse.unquote_plus(raw)))
    return {s for s in found if len(s) >= _MIN_SCRUB}


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Free text with every URL redacted and every given secret replaced by ``***``."""
    if not text:
        return text
    if not secrets and "://" not in text:
        return text  # the common case (every evidence field of a big gate): nothing to do
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= _MIN_SCRUB:
            text = text.replace(secret, MASK)
    if "://" not in text:
        return text
    # Userinfo may hold a space or a quote, which end a URL in text: whatever lies between
    # "://" and an "@" on the same line, before any "/", is taken for userinfo and hidden.
    text = _USERINFO_IN_TEXT.sub(lambda match: f"{match.group(1)}{MASK}@", text)
    return _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names with every value replaced by ``***``."""
    return {name: MASK for name in headers}


def redact_command(command: str | Sequence[str]) -> str:
    """A command line to show: program and plain words kept, option and env values hidden."""
    return _redact_command(command)[0]


def command_secrets(command: str | Sequence[str]) -> set[str]:
    """What :func:`redact_command` hides, to scrub from the command's own output (a tool
    that fails often echoes its arguments: ``unknown option --token=S3cret``)."""
    return {s for s in _redact_command(command)[1] if len(s) >= _MIN_SCRUB}


def _redact_command(command: str | Sequence[str]) -> tuple[str, set[str]]:
    import shlex  # only commands need it (deploygate verdict redacts none)

    hidden: set[str] = set()
    if isinstance(command, str):
        try:
            words = shlex.split(command)
        except ValueError:
            # Unbalanced quotes: we cannot tell words apart, so show the program only.
            head = command.strip().split(" ", 1)
            program = head[0] if _plain(head[0]) else MASK
            hidden.update(head[1:] + ([] if _plain(head[0]) else [head[0]]))
            hidden.update(head[1].split() if len(head) > 1 else [])
            return program + (f" {MASK}" if len(head) > 1 else ""), hidden
    else:
        words = [str(word) for word in command]
    out: list[str] = []
    hide_next = False
    for index, word in enumerate(words):
        if hide_next:
            out.append(MASK)
            hidden.add(word)
            hide_next = False
            continue
        if word in ("<", ">", ">>", "2>", "<<", "<<<", "|&"):
            out.append(word)
            hide_next = True
        elif word.startswith("--") and len(word) > 2:
            name, sep, value = word.partition("=")
            out.append(f"{name}={MASK}" if sep else word)
            hidden.add(value)
            hide_next = not sep
        elif word.startswith("-") and len(word) > 1 and word != "--":
            # ``-pSECRET``: keep the letter, hide what is glued to it.
            out.append(word[:2] + (MASK if len(word) > 2 else ""))
            hidden.add(word[2:])
            hide_next = len(word) == 2
        elif _ENV_ASSIGNMENT.match(word):
            out.append(word.split("=", 1)[0] + "=" + MASK)
            hidden.add(word.split("=", 1)[1])
        elif "://" in word:
            out.append(redact_text(word))
            hidden |= {s for found in _URL_IN_TEXT.findall(word) for s in url_secrets(found)}
        elif index == 0 or _plain(word):
            out.append(word)
        else:
            out.append(MASK)
            hidden.add(word)
    # A hidden word that holds other words (``sh -c "curl -u a:PW h"``) hides its parts too
    # (each part is shorter than the word: this ends).
    for word in list(hidden):
        if " " in word.strip():
            hidden |= _redact_command(word.strip())[1]
    hidden.discard("")
    shown = " ".join(word if MASK in word else shlex.quote(word) for word in out)
    return shown, hidden


def _plain(word: str) -> bool:
    # Positional words shown as they are: subcommands, paths, file names. A word that carries
    # an "=" or ":" pair or an "@" may be a credential in some tool's syntax: hidden.
    return bool(re.fullmatch(r"[A-Za-z0-9_./,+\-]+", word))
