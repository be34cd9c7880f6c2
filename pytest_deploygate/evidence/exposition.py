"""Captured ``/metrics`` text, read by the rules Prometheus reads it with.

Two formats share one grammar: Prometheus's text format 0.0.4 and OpenMetrics 1.0 text (which
ends with ``# EOF``, may carry exemplars, and gives timestamps in seconds where 0.0.4 gives
milliseconds). prometheus_client's parser read them before; importing it loads the whole
client (its HTTP exposition server, metric classes and collectors: about a quarter of a gate
run's own cost) for a hundred lines of parsing, and its classic parser is, in its own words,
laxer than Prometheus's. This one refuses whatever the grammar does not allow, naming the line:
a capture it cannot read is missing evidence, never a pass.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import re

from pytest_deploygate.core.value_class import value_class

__all__ = ["ExposedSample", "ExpositionError", "parse_exposition"]

#: The metric types each format declares with ``# TYPE``.
TYPES = frozenset({"counter", "gauge", "histogram", "summary", "untyped",
                   "unknown", "gaugehistogram", "stateset", "info"})
#: The sample names a family of each type owns besides its own name.
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "summary": ("_sum", "_count", "_created"),
    "info": ("_info",),
}
_EOF = "# EOF"
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
# A quoted string: no raw line break, escapes checked separately.
_QUOTED = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
_ESCAPES = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}
_ESCAPE = re.compile(r"\\.")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
                     r"|[+-]?(?:[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)|[nN][aA][nN]")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_BLANK = re.compile(r"[ \t]+")


class ExpositionError(ValueError):
    """The text is not a metrics exposition: ``line`` (1-based) and ``detail`` say why."""

    def __init__(self, line: int, detail: str) -> None:
        self.line = line
        self.detail = detail
        super().__init__(f"line {line}: {detail}")


@value_class(frozen=True)
class ExposedSample:
    """One sample: its name, labels in file order, value, timestamp in seconds (None when the
    line gives none) and the type ``# TYPE`` declared for its family (``untyped`` if none)."""

    name: str
    labels: tuple[tuple[str, str], ...]
    value: int | float
    timestamp: float | None
    family_type: str


def parse_exposition(text: str) -> list[ExposedSample]:
    """Every sample of ``text``; :class:`ExpositionError` for the first line that breaks the
    grammar."""
    lines = text.split("\n")
    stripped = [line.strip() for line in lines]
    openmetrics = _EOF in stripped
    if openmetrics and any(stripped[stripped.index(_EOF) + 1:]):
        raise ExpositionError(stripped.index(_EOF) + 2, "text after # EOF")
    types: dict[str, str] = {}
    parsed: list[tuple[int, str, tuple[tuple[str, str], ...], int | float, float | None]] = []
    for number, line in enumerate(stripped, start=1):
        if not line or line == _EOF:
            continue
        if line.startswith("#"):
            _comment(line, number, types)
            continue
        name, labels, value, stamp = _SampleLine(line, number).parse(openmetrics)
        parsed.append((number, name, labels, value, stamp))
    return [ExposedSample(name, labels, value, stamp, _family_type(name, types))
            for _, name, labels, value, stamp in parsed]


def _comment(line: str, number: int, types: dict[str, str]) -> None:
    words = line[1:].split(None, 3)
    if len(words) < 2 or words[0] not in ("TYPE", "HELP", "UNIT"):
        return  # a plain comment
    if words[0] != "TYPE":
        _metric_name(words[1], number)
        return
    if len(words) != 3:
        raise ExpositionError(number, "a TYPE line names a metric and one type")
    name, kind = _metric_name(words[1], number), words[2]
    if kind not in TYPES:
        raise ExpositionError(number, f"unknown metric type {kind!r}")
    if name in types:
        raise ExpositionError(number, f"a second TYPE line for {name}")
    types[name] = kind


def _metric_name(word: str, number: int) -> str:
    if _NAME.fullmatch(word):
        return word
    quoted = _QUOTED.fullmatch(word)
    if quoted:
        return _unescape(quoted.group(1), number)
    raise ExpositionError(number, f"{word!r} is not a metric name")


def _family_type(name: str, types: dict[str, str]) -> str:
    if name in types:
        return types[name]
    for kind, suffixes in _SUFFIXES.items():
        for suffix in suffixes:
            if name.endswith(suffix) and types.get(name[:-len(suffix)]) == kind:
                return kind
    return "untyped"


def _unescape(raw: str, number: int) -> str:
    def one(match: re.Match[str]) -> str:
        escape = match.group(0)
        if escape not in _ESCAPES:
            raise ExpositionError(number, f"unknown escape {escape!r} in a quoted string")
        return _ESCAPES[escape]
    return _ESCAPE.sub(one, raw) if "\\" in raw else raw


class _SampleLine:
    """A cursor over one sample line: ``name{labels} value [timestamp] [# exemplar]``."""

    def __init__(self, line: str, number: int) -> None:
        self.line = line
        self.number = number
        self.at = 0

    def fail(self, detail: str) -> ExpositionError:
        return ExpositionError(self.number, detail)

    def parse(self, openmetrics: bool
              ) -> tuple[str, tuple[tuple[str, str], ...], int | float, float | None]:
        name = self._name()
        labels: list[tuple[str, str]] = []
        after_name = self.at
        if not (self._blank() and self._peek() == "{"):
            self.at = after_name  # blanks between a name and its labels are allowed
        if self._peek() == "{":
            labels, braced_name = self._labels(name_allowed=not name)
            name = name or braced_name
        if not name:
            raise self.fail("a sample without a metric name")
        value = self._number("value")
        stamp: float | None = None
        if self._blank() and self._peek() not in ("", "#"):
            stamp = self._timestamp(openmetrics)
            self._blank()
        if self._peek() == "#":
            self._exemplar(openmetrics)
        if self.at != len(self.line):
            raise self.fail(f"unexpected text {self.line[self.at:]!r} after the sample")
        return name, tuple(labels), value, stamp

    def _peek(self) -> str:
        return self.line[self.at:self.at + 1]

    def _blank(self) -> bool:
        match = _BLANK.match(self.line, self.at)
        if match:
            self.at = match.end()
        return bool(match)

    def _name(self) -> str:
        match = _NAME.match(self.line, self.at)
        if not match:
            return ""
        self.at = match.end()
        return match.group(0)

    def _quoted(self) -> str:
        match = _QUOTED.match(self.line, self.at)
        if not match:
            raise self.fail(f"an unterminated or malformed quoted string at column {self.at + 1}")
        self.at = match.end()
        return _unescape(match.group(1), self.number)

    def _labels(self, name_allowed: bool) -> tuple[list[tuple[str, str]], str]:
        self.at += 1  # "{"
        labels: list[tuple[str, str]] = []
        seen: set[str] = set()
        name = ""
        while True:
            self._blank()
            if self._peek() == "}":
                self.at += 1
                return labels, name
            if self._peek() == '"':
                label = self._quoted()
                self._blank()
                if self._peek() != "=":  # a bare quoted string is the metric's name
                    if not name_allowed or name or labels:
                        raise self.fail("a quoted metric name must come first, once")
                    name = label
                    self._separator()
                    continue
            else:
                match = _LABEL_NAME.match(self.line, self.at)
                if not match:
                    raise self.fail(f"a label name is expected at column {self.at + 1}")
                label = match.group(0)
                self.at = match.end()
                self._blank()
            if self._peek() != "=":
                raise self.fail(f"'=' is expected after the label {label!r}")
            self.at += 1
            self._blank()
            if self._peek() != '"':
                raise self.fail(f"the value of the label {label!r} is not quoted")
            value = self._quoted()
            if label == "__name__":
                raise self.fail("the metric name is given as a label (__name__)")
            if label in seen:
                raise self.fail(f"the label {label!r} is given twice")
            seen.add(label)
            labels.append((label, value))
            self._separator()

    def _separator(self) -> None:
        self._blank()
        if self._peek() == ",":
            self.at += 1
        elif self._peek() != "}":
            raise self.fail(f"',' or '}}' is expected at column {self.at + 1}")

    def _token(self) -> str:
        start = self.at
        while self.at < len(self.line) and self.line[self.at] not in " \t":
            self.at += 1
        return self.line[start:self.at]

    def _number(self, what: str) -> int | float:
        if not self._blank():
            raise self.fail(f"a {what} is expected after the metric name and labels")
        token = self._token()
        if not _NUMBER.fullmatch(token):
            raise self.fail(f"{token!r} is not a number")
        return int(token) if _INTEGER.fullmatch(token) else float(token)

    def _timestamp(self, openmetrics: bool) -> float:
        token = self._token()
        if openmetrics:
            if not _NUMBER.fullmatch(token):
                raise self.fail(f"{token!r} is not a timestamp in seconds")
            return float(token)
        if not _INTEGER.fullmatch(token):
            raise self.fail(f"{token!r} is not a timestamp in milliseconds")
        return int(token) / 1000

    def _exemplar(self, openmetrics: bool) -> None:
        # OpenMetrics only: "# {trace_id="..."} value [timestamp]", which says nothing about
        # the series itself.
        if not openmetrics:
            raise self.fail("an exemplar ('# {...}') outside an OpenMetrics text (# EOF)")
        self.at += 1
        self._blank()
        if self._peek() != "{":
            raise self.fail("an exemplar's labels are expected after '#'")
        self._labels(name_allowed=False)
        self._number("exemplar value")
        if self._blank() and self.at < len(self.line):
            self._timestamp(openmetrics)
