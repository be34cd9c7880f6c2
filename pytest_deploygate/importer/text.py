"""Text rules of the importer: slugs, condition suffixes, numbers that become thresholds.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import re
import unicodedata

# Every pattern here is searched in a checklist line a pull request may write (up to the 2 MiB
# document limit): none may scan the rest of the line from each of many starting points.
# "(if " repeated 20,000 times took 30 s, "[" 80,000 times 230 s (the time grows with the
# square of the line). So no pattern starts with a run of spaces (the spaces are joined after),
# and a "[" or "(" ends a bracket's content.
_SUFFIX = re.compile(r"\((NEW|MANDATORY[^()]*)\)", re.I)
_CONDITION = re.compile(r"\((if [^()]+)\)\s*$", re.I)
_LINK = re.compile(r"\[([^\[\]]*)\]\([^()]*\)")
_NUMBERED = re.compile(r"^(\d+)\.\s+(.*)$")
_COMPARATOR = re.compile(r"(>=|≥|<=|≤|>|<)\s*([0-9]+(?:\.[0-9]+)?)\s*(%|ms\b|s\b)?")
_TIERS = re.compile(r"\(Quick:\s*(\d+),\s*Standard:\s*(\d+),\s*Enterprise:\s*(\d+)\)", re.I)
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_STOP = {"the", "a", "an", "and", "or", "of", "in", "for", "to", "all", "no", "not", "is",
         "are", "be", "with", "on", "by", "if", "at", "any", "as", "its"}


def plain(text: str) -> str:
    """Markdown inline text without backticks, bold or links."""
    text = _LINK.sub(r"\1", text)
    text = text.replace("`", "").replace("**", "")
    # Single * and _ only where they mark emphasis, not inside names like production_enabled.
    return re.sub(r"(?<![A-Za-z0-9])[*_]+|[*_]+(?![A-Za-z0-9])", "", text).strip()


def slug(text: str, limit: int = 60) -> str:
    """``Change approval (if required)`` -> ``change-approval-if-required``."""
    ascii_text = unicodedata.normalize("NFKD", plain(text)).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    out = "-".join(words)[:limit].strip("-")
    return out or "item"


def split_title(title: str) -> tuple[int | None, str, str | None]:
    """``9. Containerization (if applicable) (NEW)`` -> (9, "Containerization", "if applicable")."""
    title = " ".join(_SUFFIX.sub(" ", title).split())
    number = None
    match = _NUMBERED.match(title)
    if match:
        number, title = int(match.group(1)), match.group(2)
    condition = None
    conditional = _CONDITION.search(title)
    if conditional:
        condition = conditional.group(1)
        title = title[:conditional.start()].strip()
    return number, title.strip(), condition


def identifier(text: str, fallback: str, limit: int = 50) -> str:
    """A config-style name (``^[a-z][a-z0-9_]*$``) from free text."""
    words = re.findall(r"[a-z0-9]+", unicodedata.normalize("NFKD", text).encode(
        "ascii", "ignore").decode().lower())
    name = "_".join(words)[:limit].strip("_").lstrip("0123456789_")
    return name or fallback


def condition_name(base: str, condition: str) -> str:
    """The config condition for ``(if applicable)`` on ``base``: ``cross_browser_applicable``."""
    words = re.findall(r"[a-z0-9]+", condition.lower())[1:]  # drop the "if"
    if words in (["applicable"], ["required"], ["needed"]):
        return identifier(f"{slug(base, 40)} {words[0]}", "condition")
    return identifier(" ".join(words), "condition")


def strip_condition(text: str) -> tuple[str, str | None]:
    """Text and its trailing ``(if ...)`` condition, if any."""
    match = _CONDITION.search(text)
    return (text[:match.start()].strip(), match.group(1)) if match else (text, None)


def stem_words(text: str) -> set[str]:
    """Crude word roots for matching Gate Decision rows to headings (first five letters)."""
    words = re.findall(r"[a-z0-9]+", plain(text).lower().replace("-", " "))
    return {w[:5] for w in words if w not in _STOP}


def thresholds_in(text: str, taken: set[str]) -> tuple[str, dict[str, float | None]]:
    """Replace numbers with comparators, tier limits and ``{placeholders}`` by named
    thresholds; return the new text and the thresholds (None: must be filled in)."""
    found: dict[str, float | None] = {}

    def unique(name: str) -> str:
        candidate, counter = name, 2
        while candidate in taken or candidate in found:
            candidate, counter = f"{name}_{counter}", counter + 1
        return candidate

    def tiers(match: re.Match[str]) -> str:
        names = [unique(f"iterations_{tier}") for tier in ("quick", "standard", "enterprise")]
        for name, value in zip(names, match.groups(), strict=True):
            found[name] = _number(value)
        quick, standard, enterprise = names
        return f"(Quick: {{{quick}}}, Standard: {{{standard}}}, Enterprise: {{{enterprise}}})"

    text = _TIERS.sub(tiers, text)

    def compared(match: re.Match[str]) -> str:
        unit = (match.group(3) or "").strip()
        before = _words_before(text[:match.start()])
        suffix = {"%": "_pct", "ms": "_ms", "s": "_s"}.get(unit, "")
        name = unique(f"{before}{suffix}" if before else f"threshold{suffix}")
        found[name] = _number(match.group(2))
        return f"{match.group(1)} {{{name}}}{unit}"

    text = _COMPARATOR.sub(compared, text)

    def placeholder(match: re.Match[str]) -> str:
        if match.group(1) in found:
            return match.group(0)
        after = text[match.end():match.end() + 3]
        unit = "_ms" if after.startswith("ms") else ""
        before = _words_before(text[:match.start()])
        name = unique(f"{before}{unit}" if before else match.group(1).lower())
        found[name] = None
        return "{" + name + "}"

    text = _PLACEHOLDER.sub(placeholder, text)
    return text, found


def _number(text: str) -> float | int:
    value = float(text)
    return int(value) if value.is_integer() else value


def _words_before(text: str) -> str:
    words = [w for w in re.findall(r"[a-z0-9]+", plain(text).lower()) if w not in _STOP]
    return identifier(" ".join(words[-4:]), "")

