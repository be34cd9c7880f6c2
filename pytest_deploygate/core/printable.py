"""The characters no reviewed document may hold, and no text a person or a record is shown.

The set is the one YAML refuses in a document's text (PyYAML's ``Reader.NON_PRINTABLE``,
libyaml's reader alike): the C0 and C1 controls except tab, line feed, carriage return and
NEL, the surrogates, U+FFFE and U+FFFF. Among them ESC, whose sequences rewrite what a
terminal or a CI log shows (``\\e[8m`` hides everything printed after it), and NUL and the other
controls, which XML 1.0 does not allow in a record.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import functools
import re

__all__ = ["NON_PRINTABLE", "non_printable", "shown"]

#: The characters, written as the positive class of the code points YAML leaves out.
NON_PRINTABLE = "[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F\uD800-\uDFFF\uFFFE\uFFFF]"
#: What evidence text shows as escapes: those, and the bidirectional-text controls, which a
#: document may hold but which reorder what a terminal or a rendered record shows (a message
#: could be made to read "PASS" backwards over a failure).
_SHOWN_AS_ESCAPES = NON_PRINTABLE[:-1] + "\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]"


@functools.cache
def non_printable() -> re.Pattern[str]:
    """:data:`NON_PRINTABLE` compiled (on first use: most runs never need it)."""
    return re.compile(NON_PRINTABLE)


@functools.cache
def _escaped() -> re.Pattern[str]:
    return re.compile(_SHOWN_AS_ESCAPES)


def shown(text: str) -> str:
    """``text`` with each such character, and each bidirectional-text control, written as an
    escape (``\\x1b``, ``\\u202e``), for text read from evidence (state.json, scans, sign-off
    logs, a third-party kind's words)."""
    if text.isprintable():  # (the common case: one line of printable text)
        return text
    return _escaped().sub(lambda found: f"\\x{ord(found.group()):02x}"
                               if ord(found.group()) < 0x100
                               else f"\\u{ord(found.group()):04x}", text)
