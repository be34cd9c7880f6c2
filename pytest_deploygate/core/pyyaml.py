"""PyYAML, imported without compiling its slowest regular expression.

Importing PyYAML compiles ``yaml.reader.Reader.NON_PRINTABLE``, a negated character class
that spans all of Unicode: 6-10 ms of CPU here, a quarter of PyYAML's whole import, paid by
every gate run and every ``deploygate verdict``. The same set of characters written as the
positive class of the few code points it excludes compiles about ten times faster. Before the
import, this module places that equivalent pattern in the regular-expression cache
under PyYAML's own source, so PyYAML's ``re.compile`` finds it already compiled.

Nothing else changes: the pattern matches exactly the same characters (the test checks every
code point), it is only consulted by PyYAML's pure-Python reader (libyaml's reader checks
printability itself), and when the cache is not the plain dict this expects, or PyYAML is
already imported, nothing is placed and PyYAML compiles its own pattern. Once PyYAML is
imported the entry leaves the cache again, so no other code compiling the same source gets it.

Every module of the package imports PyYAML from here: ``from pytest_deploygate.core.pyyaml
import yaml``.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import re
import sys

# (NON_PRINTABLE: the same characters, as the positive class of what PyYAML's leaves out.)
from pytest_deploygate.core.printable import NON_PRINTABLE

__all__ = ["NON_PRINTABLE", "PYYAML_NON_PRINTABLE", "yaml"]

#: ``yaml.reader.Reader.NON_PRINTABLE`` as PyYAML writes it (the cache key).
PYYAML_NON_PRINTABLE = ("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD"
                        "\U00010000-\U0010ffff]")


_KEY = (str, PYYAML_NON_PRINTABLE, 0)


def _place_equivalent_pattern() -> re.Pattern[str] | None:
    cache = getattr(re, "_cache", None)
    if "yaml" in sys.modules or type(cache) is not dict:  # too late, or another Python's re
        return None
    placed: re.Pattern[str] = cache.setdefault(_KEY, re.compile(NON_PRINTABLE))
    return placed


def _withdraw(placed: re.Pattern[str] | None) -> None:
    """Take the entry out of the cache once PyYAML holds its pattern: anyone else compiling
    PyYAML's source (a conftest, another plugin) gets a pattern of that source, whose
    ``.pattern`` reads as written, not ours."""
    for name in ("_cache", "_cache2"):  # (Python 3.12 keeps a second cache)
        cache = getattr(re, name, None)
        if placed is not None and type(cache) is dict and cache.get(_KEY) is placed:
            del cache[_KEY]


_placed = _place_equivalent_pattern()

import yaml  # noqa: E402  (after the pattern is in place)

_withdraw(_placed)
