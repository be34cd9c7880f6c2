"""Red team on the metrics capture reader (evidence/exposition.py and checks/metrics_file.py),
through `pytest --gate`: a release engineer controls the captured ``/metrics`` text and wants a
``metrics_file`` criterion met although the capture, read the way Prometheus reads it (or the
way a reviewer sees it), shows an unhealthy service. Each attack starts from an honest capture
that is *not met* and edits it; the safe outcome is evidence missing, never met."""

from __future__ import annotations

import os

import pytest
from test_evidence_files import EXPOSITION, write

from conftest import GateProject, custom_gate, write_config

NOW = "2026-02-05T10:00:00Z"
NOW_S = 1770285600
#: 7% of requests are 5xx (the 503 line): above this bound.
ERROR_RATIO = "{kind: metrics_file, metric: error_ratio, max: 0.05}"
#: p99 is 2000 ms in the honest capture: above this bound.
P99 = "{kind: metrics_file, metric: p99_ms, max: 1000}"
ERRORS = 'http_requests_total{code="503"} 70\n'


@pytest.fixture
def files(project: GateProject) -> GateProject:
    project.set_state({"phases": {"12-production": {"status": "in_progress"}}})
    write_config(project, "version: 1.4.0\nmetrics_file: metrics.prom\n")
    return project


def judge(project: GateProject, capture: str | bytes, check: str) -> dict:
    """The record's case for one metrics_file criterion over this capture, taken an hour
    before the evaluation time."""
    path = project.root / "metrics.prom"
    if isinstance(capture, bytes):
        path.write_bytes(capture)
    else:
        write(project, "metrics.prom", capture)
    os.utime(path, (NOW_S - 3600, NOW_S - 3600))
    custom_gate(project, f"- {{id: c, text: C, check: {check}}}")
    result = project.run("--gate=12", f"--gate-now={NOW}")
    assert "Traceback" not in result.stdout.str()
    return project.record().case("c")


def refused(project: GateProject, capture: str | bytes, check: str) -> dict:
    case = judge(project, capture, check)
    assert case["type"] == "evidence-missing", case
    return case


@pytest.mark.parametrize("check", [ERROR_RATIO, P99])
def test_the_honest_capture_is_not_met(files: GateProject, check: str) -> None:
    # The baseline every attack below starts from: a fooled reader turns it into a pass.
    assert judge(files, EXPOSITION, check)["type"] == "not-met"


# -- the data model: a label with an empty value is no label -------------------------------------

def test_empty_label_value_does_not_hide_a_duplicate_series(files: GateProject) -> None:
    # To Prometheus {code="200",instance=""} IS {code="200"}: the same series twice, which
    # the reader refuses; read as a new series it dilutes the 7% of errors to 0.07%.
    case = refused(files, EXPOSITION + 'http_requests_total{code="200",instance=""} 100000\n',
                   ERROR_RATIO)
    assert "appears twice" in case["message"]


def test_empty_code_label_is_no_code_label(files: GateProject) -> None:
    # code="" is no code at all (the rule for series without one), not a success.
    case = refused(files, EXPOSITION + 'http_requests_total{code=""} 100000\n', ERROR_RATIO)
    assert "no 'code' label" in case["message"]


# -- numbers past float's range -----------------------------------------------------------------

def test_request_total_overflowing_to_infinity_is_not_zero_errors(files: GateProject) -> None:
    # Each counter is finite, their sum is +Inf: 70 / inf = 0 errors.
    huge = 'http_requests_total{code="201"} 1e308\nhttp_requests_total{code="202"} 1e308\n'
    refused(files, EXPOSITION + huge, ERROR_RATIO)


def test_histogram_overflowing_to_infinity_is_refused(files: GateProject) -> None:
    # Two pods of 1e308 requests each: the merged buckets are +Inf, the quantile inf/inf = NaN,
    # and NaN breaches no bound ("NaN > 1000" is false): met.
    buckets = "".join(f'http_request_duration_seconds_bucket{{le="{le}",pod="b"}} {n}\n'
                      for le, n in (("0.1", "1e308"), ("+Inf", "1e308")))
    refused(files, EXPOSITION + buckets.replace('pod="b"', 'pod="c"') + buckets, P99)


@pytest.mark.parametrize("line", [
    'http_requests_total{code="201"} ' + "9" * 400,  # an integer float() cannot hold
    'http_requests_total{code="201"} ' + "9" * 5000,  # past int()'s digit limit
    'http_requests_total{code="201"} 1 ' + "9" * 400,  # a timestamp in ms past float's range
])
def test_numbers_out_of_range_are_named_with_their_line(files: GateProject, line: str) -> None:
    # Formerly "not a Prometheus text exposition"; the new reader let OverflowError /
    # ValueError escape: "check kind 'metrics_file' failed", naming neither file nor line.
    case = refused(files, EXPOSITION + line + "\n", ERROR_RATIO)
    assert "metrics.prom" in case["message"] and "line 12" in case["message"], case


# -- histogram buckets: one bound, spelled twice -----------------------------------------------

@pytest.mark.parametrize("spelling", ["0.10", "1e-1", "0.1000"])
def test_one_bucket_bound_spelled_twice_is_refused(files: GateProject, spelling: str) -> None:
    # le="0.1" and le="0.10" are two series to the grammar but one bucket: added together,
    # 1400 of 1000 requests fall under 100 ms and the p99 drops from 2000 ms to 71 ms.
    capture = EXPOSITION.replace(
        'http_request_duration_seconds_bucket{le="0.5"}',
        f'http_request_duration_seconds_bucket{{le="{spelling}"}} 900\n'
        'http_request_duration_seconds_bucket{le="0.5"}')
    refused(files, capture, P99)


@pytest.mark.parametrize("bound", [" 1.1", "1.1 ", "1_1e-1", "\u0661.\u0661"])
def test_a_bound_prometheus_cannot_read_is_not_a_bucket(files: GateProject, bound: str) -> None:
    # histogram_quantile skips a bucket whose le ParseFloat refuses; Python's float() read
    # these as 1.1 and added a bucket that pulls the p99 from 2000 ms to 1100 ms.
    capture = EXPOSITION.replace(
        'http_request_duration_seconds_bucket{le="2.5"}',
        f'http_request_duration_seconds_bucket{{le="{bound}"}} 990\n'
        'http_request_duration_seconds_bucket{le="2.5"}')
    case = refused(files, capture, "{kind: metrics_file, metric: p99_ms, max: 1500}")
    assert "is not a number" in case["message"]


# -- what other readers and a reviewer see as a line of its own -------------------------------

HIDDEN = [
    # `cat` shows the 503 line whole (the carriage return rewinds over the comment); Python's
    # text-mode open() and str.splitlines() read it as a line; this reader as a comment.
    pytest.param("# HELP http_requests_total Requests.\r", id="CR"),
    pytest.param("# \u2028", id="U+2028"),
    pytest.param("# \u2029", id="U+2029"),
    pytest.param("# \x85", id="U+0085"),
    pytest.param("# \x0b", id="VT"),
    pytest.param("# \x0c", id="FF"),
    pytest.param("# \x1e", id="RS"),
]


@pytest.mark.parametrize("prefix", HIDDEN)
def test_a_line_break_other_readers_see_does_not_hide_errors(files: GateProject,
                                                             prefix: str) -> None:
    case = refused(files, EXPOSITION.replace(ERRORS, prefix + ERRORS), ERROR_RATIO)
    assert "metrics.prom" in case["message"] and "line 3" in case["message"], case


def test_crlf_captures_still_read(files: GateProject) -> None:
    # A capture saved on Windows: CRLF is one line end, not a hidden line.
    case = judge(files, EXPOSITION.replace("\n", "\r\n"), ERROR_RATIO)
    assert case["type"] == "not-met"


@pytest.mark.parametrize("code", [
    pytest.param("\u200b503", id="zero-width-space"),
    pytest.param("\u2060503", id="word-joiner"),
    pytest.param("\u202e305", id="right-to-left-override"),  # shown as 503
])
def test_invisible_characters_do_not_turn_errors_into_successes(files: GateProject,
                                                                 code: str) -> None:
    capture = EXPOSITION.replace('code="503"', f'code="{code}"')
    refused(files, capture, ERROR_RATIO)


@pytest.mark.parametrize("name", [
    pytest.param('{"http_requests_total\u200b",code="503"}', id="zero-width-in-quoted-name"),
    pytest.param('{"http_requests_total\u00ad",code="503"}', id="soft-hyphen-in-quoted-name"),
])
def test_a_lookalike_quoted_name_does_not_hide_errors(files: GateProject, name: str) -> None:
    capture = EXPOSITION.replace('http_requests_total{code="503"}', name)
    refused(files, capture, ERROR_RATIO)


@pytest.mark.parametrize("code", [
    pytest.param("\uff15\uff10\uff13", id="fullwidth-503"),
    pytest.param(" 503", id="leading-space"),
    pytest.param("\u0665\u0660\u0663", id="arabic-indic-503"),
])
def test_a_code_that_is_not_an_http_status_is_not_a_success(files: GateProject,
                                                             code: str) -> None:
    # Shown as 503, counted as a success: a code the reader cannot classify is missing
    # evidence ("cannot tell errors from successes"), like a series without one.
    capture = EXPOSITION.replace('code="503"', f'code="{code}"')
    refused(files, capture, ERROR_RATIO)
