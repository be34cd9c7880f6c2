"""The HTML gate record: one self-contained page a release manager reads at a glance.

A decision banner (word, symbol and colour, and the reason), the Gate Decision table, the
sign-offs with who and when, a chart for every metric criterion and rollback trigger of what
was measured against its bound, then every criterion with its outcome, reason and evidence in
collapsible details. No external asset and no script: styles are inline, charts are inline SVG
(:mod:`.svg`), and ``<details>`` folds without JavaScript. Colour is never the only signal:
every status is written as a word and carries a symbol.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from html import escape
from typing import Any

from pytest_deploygate.core.measurements import Measurement
from pytest_deploygate.core.results import Evidence, describe_evidence
from pytest_deploygate.core.timeutil import format_instant
from pytest_deploygate.decision.decide import PASS
from pytest_deploygate.records.content import RecordContent, RecordItem
from pytest_deploygate.records.markdown import UNENCODABLE_AS
from pytest_deploygate.records.svg import chart
from pytest_deploygate.records.wording import headline, item_message, outcome_word

#: Check kinds that compare a measured number with ``min``/``max``.
METRIC_KINDS = frozenset({"prometheus", "metrics_file"})
_SYMBOLS = {"PASS": "✔", "FAIL": "✖", "ROLLBACK": "↺", "SKIPPED": "⊘", "INCOMPLETE": "…",
            "N/A": "–", "WAIVED": "≈", "NOT IN STAGE": "·", "UNMAPPED": "·"}
_WORD_CLASS = {"MET": "ok", "N/A": "na", "WAIVED": "waived", "SKIPPED": "skipped",
               "NOT RUN": "skipped"}
_SIGNOFF = re.compile(r"signer=(?P<signer>\S+) role=(?P<role>\S+) at=(?P<at>\S+)")

_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
margin:0;color:#1b1f24;background:#fff}
main{max-width:1040px;margin:0 auto;padding:0 20px 40px}
.banner{padding:18px 24px;border-bottom:6px solid;margin-bottom:18px}
.banner h1{margin:0;font-size:30px;letter-spacing:.02em}
.banner .headline{margin:6px 0 0;font-size:17px;font-weight:600;word-break:break-word}
.banner .meta{margin:8px 0 0;font-size:13px}
.d-PASS{background:#e6f4ea;border-color:#1e7e34}.d-FAIL{background:#fde8e8;border-color:#b3261e}
.d-ROLLBACK{background:#fde2d0;border-color:#8a1c00}
.d-SKIPPED{background:#fff4d6;border-color:#9a6b00}
.d-INCOMPLETE{background:#ece8f7;border-color:#4b3a8c}
h2{font-size:20px;border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:28px}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{border:1px solid #d0d7de;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f3f5f7}td.when{white-space:nowrap}
.status{font-weight:700;white-space:nowrap}
.s-PASS{color:#1e7e34}.s-FAIL,.s-ROLLBACK,.s-INCOMPLETE{color:#b3261e}.s-SKIPPED{color:#8a6100}
details{border:1px solid #d0d7de;border-left:6px solid #8c959f;border-radius:4px;
margin:6px 0;padding:4px 10px}
details.o-ok{border-left-color:#1e7e34}details.o-bad{border-left-color:#b3261e}
details.o-na,details.o-waived{border-left-color:#8c959f}details.o-skipped{border-left-color:#9a6b00}
summary{cursor:pointer;word-break:break-word}
.word{font-weight:700;font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:13px;
padding:1px 5px;border:1px solid currentColor;border-radius:3px;margin-right:6px}
.o-ok .word{color:#1e7e34}.o-bad .word{color:#b3261e}.o-skipped .word{color:#8a6100}
.o-na .word,.o-waived .word{color:#57606a}
code{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:13px}
ul.evidence{margin:4px 0 8px 0;padding-left:20px;font-size:13px;word-break:break-all}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,1fr));gap:10px}
figure{margin:0;border:1px solid #d0d7de;border-radius:4px;padding:8px}
figcaption{font-size:14px;margin-bottom:6px}
.chart-svg{max-width:100%;height:auto}
"""


def render_html(content: RecordContent) -> bytes:
    """The record as a standalone HTML page."""
    return b"".join(html_chunks(content))


def html_chunks(content: RecordContent) -> Iterator[bytes]:
    """The page in encoded pieces, a criterion each (written as they come)."""
    decision = content.decision
    status = decision.status
    title = f"{content.gate_id}: {content.title} — {decision.label}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f'<header class="banner d-{status}" id="decision-banner">',
        f'<h1><span aria-hidden="true">{_SYMBOLS.get(status, "")}</span> '
        f'{escape(content.gate_id)} {escape(content.title)}: '
        f'<span class="decision">{escape(decision.label)}</span></h1>',
        f'<p class="headline">{escape(headline(content))}</p>',
        f'<p class="meta">{_meta(content)}</p>',
        "</header><main>",
        _decision_table(content),
        _charts(content),
    ]
    # The sign-offs and the criteria are encoded one by one and written as they come: the page
    # whole, as text or as bytes, was the peak of a 5,000-criterion run, and so was then a
    # table of its 1,667 sign-offs made at once.
    yield ("\n".join(parts) + "\n").encode("utf-8", UNENCODABLE_AS)
    yield from (piece.encode("utf-8", UNENCODABLE_AS) for piece in _signoffs(content))
    yield b"\n"
    yield from _criteria(content)
    yield b"\n</main></body></html>\n"


def _meta(content: RecordContent) -> str:
    props = content.properties
    fields = [("Stage", content.stage), ("Project", props.get("deploygate.project", "")),
              ("Commit", props.get("deploygate.commit", "unknown")),
              ("Version", props.get("deploygate.version", "unknown")),
              ("Evaluated at", format_instant(content.evaluated_at)),
              ("Spec", props.get("deploygate.spec_source", ""))]
    return " · ".join(f"<b>{escape(k)}</b> {escape(v)}" for k, v in fields if v)


def _decision_table(content: RecordContent) -> str:
    decision = content.decision
    rows = "".join(
        f"<tr><td>{escape(row.title)}</td>{_status_cell(row.status)}"
        f"<td>{escape(', '.join(row.failing))}</td></tr>" for row in decision.rows)
    extra = [f"<p><b>Gate Status</b>: {_status_span(decision.label, decision.status)}</p>",
             f"<p><b>Reviewer</b>: {escape(content.reviewer or 'not recorded')}</p>",
             f"<p><b>Date</b>: {escape(format_instant(content.evaluated_at))}</p>"]
    extra += [f"<p>{escape(reason)}</p>" for reason in decision.reasons]
    if content.error:
        extra.append(f"<p>{escape(content.error)}</p>")
    if decision.status == PASS and content.next_phase:
        nxt = "<br>".join(escape(line.lstrip("- ")) for line in content.next_phase.splitlines())
        extra.append(f"<p><b>Next phase</b>: {nxt}</p>")
    return ('<section id="gate-decision"><h2>Gate Decision</h2><table><thead><tr>'
            "<th>Criteria</th><th>Status</th><th>Notes</th></tr></thead><tbody>"
            f"{rows}</tbody></table>{''.join(extra)}</section>")


def _status_cell(status: str) -> str:
    return f"<td>{_status_span(status, status.split(' ')[0])}</td>"


def _status_span(text: str, status: str) -> str:
    symbol = _SYMBOLS.get(status, "")
    return (f'<span class="status s-{escape(status)}"><span aria-hidden="true">{symbol}'
            f"</span> {escape(text)}</span>")


def _signoffs(content: RecordContent) -> Iterator[str]:
    """The sign-offs section, a row at a time."""
    rows = _signoff_rows(content)
    first = next(rows, None)
    if first is None:
        yield ('<section id="sign-offs"><h2>Sign-offs</h2><p>No sign-off was read for '
               "this gate.</p></section>")
        return
    yield ('<section id="sign-offs"><h2>Sign-offs</h2><table><thead><tr><th>Criterion</th>'
           "<th>Who</th><th>Role</th><th>When</th><th>Outcome</th></tr></thead><tbody>")
    yield first
    yield from rows
    yield "</tbody></table></section>"


def _signoff_rows(content: RecordContent) -> Iterator[str]:
    for item in content.items:
        for raw in item.outcome.evidence if item.outcome else []:
            if raw.get("kind") != "attestation":
                continue  # (redaction never turns another kind into this one)
            evidence = Evidence.from_dict(raw)
            found = _SIGNOFF.search(evidence.detail or "")
            if evidence.kind != "attestation" or not found:
                continue
            yield (f"<tr><td><code>{escape(item.criterion.id)}</code> "
                   f"{escape(item.text)}</td><td>{escape(found['signer'])}</td>"
                   f"<td>{escape(found['role'])}</td>"
                   f"<td class='when'>{escape(found['at'])}</td>"
                   f"<td>{_word(item)}</td></tr>")
    if content.reviewer:
        yield (f"<tr><td>Gate review</td><td colspan=\"3\">{escape(content.reviewer)}"
               "</td><td>reviewer</td></tr>")


def metric_items(content: RecordContent) -> list[tuple[RecordItem, Measurement]]:
    """Every metric criterion and trigger, with what was measured (or only its bounds)."""
    found = []
    for item in content.items:
        data = item.outcome.measurement if item.outcome else None
        measured = Measurement.from_dict(data) if data else None
        if measured is None:
            check = item.criterion.check
            if check is None or check.kind not in METRIC_KINDS or not (
                    {"min", "max"} & set(check.params)):
                continue
            measured = Measurement(
                check.params.get("query") or check.params.get("metric") or check.kind, (),
                _bound(check.params.get("min"), content.thresholds),
                _bound(check.params.get("max"), content.thresholds))
        found.append((item, measured))
    return found


def _bound(value: Any, thresholds: Mapping[str, float]) -> float | None:
    if isinstance(value, dict):
        value = thresholds.get(str(value.get("threshold")))
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _charts(content: RecordContent) -> str:
    figures = []
    # Fired triggers first, then the other triggers, then criteria: what decided comes first.
    ordered = sorted(metric_items(content), key=lambda pair: (
        pair[0].verdict != "ROLLBACK", pair[0].criterion.role != "trigger"))
    for item, measured in ordered:
        chart_id = f"chart-{item.criterion.id}"
        role = "rollback trigger" if item.criterion.role == "trigger" else "criterion"
        figures.append(
            f'<figure class="chart" id="{escape(chart_id)}" '
            f'data-criterion="{escape(item.criterion.id)}" data-role="{role}">'
            f"<figcaption>{_word(item)} <code>{escape(item.criterion.id)}</code> "
            f"{escape(item.text)} <small>({role}; {escape(measured.label)})</small>"
            f"</figcaption>{chart(measured, item.text, escape(chart_id))}</figure>")
    if not figures:
        return ""
    return ('<section id="measurements"><h2>Measurements</h2><div class="grid">'
            f"{''.join(figures)}</div></section>")


def _criteria(content: RecordContent) -> Iterator[bytes]:
    yield b'<section id="criteria"><h2>Criteria</h2>'
    section = None
    # The same for every item of the record: escaped once.
    spec_file = escape(content.spec_file) if content.spec_file else ""
    for item in content.items:
        if item.criterion.section_title != section:
            section = item.criterion.section_title
            yield f"<h3>{escape(section)}</h3>".encode("utf-8", UNENCODABLE_AS)
        word = outcome_word(item)
        css = _WORD_CLASS.get(word, "bad")
        message = item_message(item, content.gate_id)
        reason = message.split(": ", 1)[1] if ": " in message else ""
        evidence = [describe_evidence(e) for e in
                    (item.outcome.evidence if item.outcome else [])]
        body = [f"<p>{escape(message)}</p>"]
        if evidence:
            body.append('<ul class="evidence">' + "".join(
                [f"<li>{escape(line)}</li>" for line in evidence]) + "</ul>")
        if spec_file and item.criterion.line > 0:
            body.append(f"<p><small>criterion: <code>{spec_file}:"
                        f"{item.criterion.line}</code></small></p>")
        opened = " open" if css == "bad" else ""
        criterion_id = escape(item.criterion.id)
        yield (f'<details class="o-{css}" id="c-{criterion_id}"{opened}>'
               f'<summary><span class="word">{escape(word)}</span>'
               f"<code>{criterion_id}</code> {escape(item.text)}"
               f"{' — ' + escape(reason) if reason else ''}</summary>"
               f"{''.join(body)}</details>").encode("utf-8", UNENCODABLE_AS)
    yield b"</section>"


def _word(item: RecordItem) -> str:
    word = outcome_word(item)
    return f'<span class="word">{escape(word)}</span>'
