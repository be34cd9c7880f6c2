"""The metrics capture reader: the grammar Prometheus reads ``/metrics`` with, never laxer than
prometheus_client's parser (which it replaced). That a gate reading a capture does not import
prometheus_client is in test_start_up_cost.py."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from pytest_deploygate.evidence.exposition import ExpositionError, parse_exposition

Row = tuple[str, tuple[tuple[str, str], ...], float, float | None]


def ours(text: str) -> list[Row]:
    return [(s.name, tuple(sorted(s.labels)), float(s.value), s.timestamp)
            for s in parse_exposition(text)]


def theirs(text: str) -> list[Row]:
    return [(s.name, tuple(sorted(s.labels.items())), float(s.value),
             None if s.timestamp is None else float(s.timestamp))
            for family in text_string_to_metric_families(text) for s in family.samples]


def same(a: list[Row], b: list[Row]) -> bool:
    def key(row: Row) -> tuple[object, ...]:
        name, labels, value, stamp = row
        return (name, labels, "nan" if math.isnan(value) else value, stamp)
    return sorted(map(key, a), key=repr) == sorted(map(key, b), key=repr)


# -- generated expositions: both parsers read the same samples -------------------------------------

names = st.from_regex(r"[a-zA-Z_:][a-zA-Z0-9_:]{0,12}", fullmatch=True)
label_names = st.from_regex(r"[a-zA-Z][a-zA-Z0-9_]{0,8}", fullmatch=True)
label_values = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
numbers = st.one_of(
    st.integers(-10**12, 10**12).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["NaN", "+Inf", "-Inf", "1e3", "1.5E-3", ".5", "0.0"]))
timestamps = st.integers(0, 4 * 10**12).map(str)


def escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@st.composite
def sample_lines(draw: st.DrawFn) -> str:
    name = draw(names)
    labels = draw(st.dictionaries(label_names, label_values, max_size=3))
    inner = ",".join(f'{k}="{escaped(v)}"' for k, v in labels.items())
    braces = f"{{{inner}}}" if labels or draw(st.booleans()) else ""
    stamp = draw(st.one_of(st.none(), timestamps))
    return f"{name}{braces} {draw(numbers)}" + (f" {stamp}" if stamp else "")


@st.composite
def expositions(draw: st.DrawFn) -> str:
    lines = []
    for line in draw(st.lists(sample_lines(), max_size=8)):
        extra = draw(st.sampled_from(["", "# a comment", "", "# HELP x some help"]))
        lines += [extra, line] if extra else [line]
    if lines and draw(st.booleans()):
        first = lines[-1].split("{")[0].split(" ")[0]
        kind = draw(st.sampled_from(["gauge", "untyped"]))
        lines.insert(len(lines) - 1, f"# TYPE {first} {kind}")
    return "\n".join(lines) + "\n"


BUDGET = settings(max_examples=300, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@BUDGET
@given(expositions())
def test_both_parsers_read_the_same_samples(text: str) -> None:
    assert same(ours(text), theirs(text))


@BUDGET
@given(expositions(), st.data())
def test_never_laxer_than_prometheus_client(text: str, data: st.DataObject) -> None:
    # Break the text anywhere: whatever this parser still accepts, prometheus_client accepts
    # too and reads alike. (The other way round is allowed: refusing is failing closed.)
    if text:
        at = data.draw(st.integers(0, len(text) - 1))
        junk = data.draw(st.sampled_from(['"', "{", "}", ",", "=", " ", "\\", "#", "x", "\n",
                                          "1", "_", "\t", "e", "\\q"]))
        text = text[:at] + junk + text[at + data.draw(st.integers(0, 2)):]
    agree_or_stricter(text)


def agree_or_stricter(text: str) -> None:
    try:
        mine = ours(text)
    except ExpositionError:
        return
    assert same(mine, theirs(text)), text


@BUDGET
@given(st.text("0123456789_.eE+-xInfNa", min_size=1, max_size=8),
       st.one_of(st.none(), st.text("0123456789_.eE+-", min_size=1, max_size=6)))
def test_numbers_never_laxer(value: str, stamp: str | None) -> None:
    agree_or_stricter(f"x {value}" + (f" {stamp}" if stamp else "") + "\n")


@BUDGET
@given(st.text('\\"nq{},= a\t', max_size=10))
def test_labels_never_laxer(inner: str) -> None:
    agree_or_stricter(f"x{{{inner}}} 1\n")
    agree_or_stricter(f'x{{a="{inner}"}} 1\n')


# -- the grammar's refusals, each naming its line ------------------------------------------------

@pytest.mark.parametrize(("text", "line", "said"), [
    ('ok 1\nx{a="1",a="2"} 1\n', 2, "the label 'a' is given twice"),
    ("x 1_000\n", 1, "'1_000' is not a number"),
    ("x 0x10\n", 1, "is not a number"),
    ('x{a=1} 2\n', 1, "the value of the label 'a' is not quoted"),
    ('x{a="1"\n', 1, "',' or '}' is expected"),
    ('x{a="1} 2\n', 1, "malformed quoted string"),
    ("x 1 2 3\n", 1, "unexpected text '3'"),
    ("x 1 1.5\n", 1, "not a timestamp in milliseconds"),
    ("x\n", 1, "a value is expected"),
    ("# TYPE x histo\n", 1, "unknown metric type 'histo'"),
    ("# TYPE x\n", 1, "names a metric and one type"),
    ("# TYPE x gauge\n# TYPE x counter\n", 2, "a second TYPE line for x"),
    ('x{a="\\q"} 1\n', 1, "unknown escape"),
    ('x{__name__="y"} 1\n', 1, "metric name is given as a label"),
    ('{a="b"} 1\n', 1, "a sample without a metric name"),
    ("9x 1\n", 1, "a sample without a metric name"),
    ("x 1 # {trace=\"a\"} 1\n", 1, "outside an OpenMetrics text"),
    ("x 1\n# EOF\nx 2\n", 3, "text after # EOF"),
])
def test_what_the_grammar_refuses(text: str, line: int, said: str) -> None:
    with pytest.raises(ExpositionError) as refused:
        parse_exposition(text)
    assert refused.value.line == line
    assert said in refused.value.detail


def test_types_reach_the_samples_of_their_family() -> None:
    text = ("# TYPE req_total counter\nreq_total{code=\"200\"} 3\n"
            "# TYPE lat histogram\nlat_bucket{le=\"+Inf\"} 4\nlat_sum 1.5\nlat_count 4\n"
            "# TYPE temp gauge\ntemp -3\nloose 1\n")
    typed = {(s.name, s.family_type) for s in parse_exposition(text)}
    assert typed == {("req_total", "counter"), ("lat_bucket", "histogram"),
                     ("lat_sum", "histogram"), ("lat_count", "histogram"),
                     ("temp", "gauge"), ("loose", "untyped")}


def test_openmetrics_timestamps_are_seconds_and_exemplars_are_read_past() -> None:
    text = ('# TYPE req counter\nreq_total{code="200"} 3 1770285600.5 '
            '# {trace_id="abc"} 1 1770285600\nreq_created 1770280000\n# EOF\n')
    samples = parse_exposition(text)
    assert [(s.name, s.value, s.timestamp, s.family_type) for s in samples] == [
        ("req_total", 3, 1770285600.5, "counter"), ("req_created", 1770280000, None, "counter")]
    classic = parse_exposition('req_total{code="200"} 3 1770285600500\n')
    assert classic[0].timestamp == 1770285600.5


def test_quoted_names_and_blanks_as_prometheus_allows() -> None:
    text = '{"service.up", zone="eu"} 1\nx {a="b" , } 2\n\n  y\t3  \n'
    assert [(s.name, s.labels, s.value) for s in parse_exposition(text)] == [
        ("service.up", (("zone", "eu"),), 1), ("x", (("a", "b"),), 2), ("y", (), 3)]


# -- packaging -----------------------------------------------------------------------------------

def test_prometheus_client_is_not_a_dependency_of_the_package() -> None:
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    runtime = project["project"]["dependencies"]
    assert runtime and not [r for r in runtime if "prometheus" in r.lower()]
