"""The markdown decision record: the checklist's Gate Decision table, filled in.

Beside the JUnit record, for people: the rows with their status and the failing criteria,
Gate Status, Reviewer and Date, the next phase on PASS, then every criterion with its outcome
and evidence, grouped by section in checklist order.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator

from pytest_deploygate.core.results import describe_evidence
from pytest_deploygate.core.timeutil import format_instant
from pytest_deploygate.decision.decide import PASS
from pytest_deploygate.records.content import RecordContent, RecordItem
from pytest_deploygate.records.wording import headline, item_message

_MARK = {"PASS": "[x]", "N/A": "[-]", "SKIPPED": "[-]", "WAIVED": "[~]"}


def render_markdown(content: RecordContent, reviewer: str | None = None) -> bytes:
    """The record as markdown bytes."""
    return b"".join(markdown_chunks(content, reviewer))


def markdown_chunks(content: RecordContent, reviewer: str | None = None) -> Iterator[bytes]:
    """The record as markdown, encoded line by line (written as it comes: a big gate's
    page whole, as text and as bytes, was the peak of a 5,000-criterion run)."""
    props = content.properties
    decision = content.decision
    # Every value on one line and no markup: the project's name is state.json's, the
    # version the release's manifest's; a name of "demo\n\n**Gate Status**: PASS\n\n<!--"
    # showed a FAIL record as PASS and hid the rest of the page.
    lines = [
        f"# {cell(content.gate_id)}: {cell(content.title)} — gate record",
        "",
        f"- Stage: {cell(content.stage)}",
        f"- Project: {cell(props.get('deploygate.project', ''))}",
        f"- Commit: {cell(props.get('deploygate.commit', 'unknown'))}",
        f"- Version: {cell(props.get('deploygate.version', 'unknown'))}",
        f"- Evaluated at: {format_instant(content.evaluated_at)}",
        f"- State: {cell(props.get('deploygate.state_path', ''))} "
        f"(sha256 {cell(props.get('deploygate.state_sha256', ''))})",
        f"- Spec: {cell(props.get('deploygate.spec_source', ''))} "
        f"(sha256 {cell(props.get('deploygate.spec_sha256', ''))})",
        "",
        "## Gate Decision",
        "",
        "| Criteria | Status | Notes |",
        "|----------|--------|-------|",
    ]
    for row in decision.rows:
        notes = ", ".join(row.failing)
        lines.append(f"| {cell(row.title)} | {row.status} | {cell(notes)} |")
    lines += [
        "",
        f"**Gate Status**: {decision.label}",
        "",
        f"> {cell(headline(content))}",
        "",
        # Separate paragraphs: consecutive lines would run together in rendered markdown.
        f"**Reviewer**: {cell(reviewer or content.reviewer or 'not recorded')}",
        "",
        f"**Date**: {format_instant(content.evaluated_at)}",
        "",
    ]
    if content.error:
        lines += [f"> {cell(content.error)}", ""]
    for reason in decision.reasons:  # (a reason may quote evidence: no markup either)
        lines += [f"> {cell(reason)}", ""]
    if decision.status == PASS and content.next_phase:
        lines += ["## Next Phase", "", content.next_phase, ""]
    yield from _trimmed(itertools.chain(lines, _criteria(content.items, content.gate_id)))


def _trimmed(lines: Iterable[str]) -> Iterator[bytes]:
    """Each line and its newline, encoded; the text's trailing whitespace removed (blank
    lines at the end dropped, the last line right-stripped), and one newline for no text."""
    held: list[str] = []  # the last non-blank line and the blank ones after it: not yet sure
    for line in lines:
        if line.strip():
            for one in held:  # (a loop, not a generator made for every line)
                yield f"{one}\n".encode("utf-8", UNENCODABLE_AS)
            held = [line]
        else:
            held.append(line)
    last = f"{held[0].rstrip()}\n" if held and held[0].strip() else "\n"
    yield last.encode("utf-8", UNENCODABLE_AS)


#: How a character utf-8 cannot carry is written: a lone surrogate, which a user's test may
#: name its criterion by (a docstring), as the escape evidence shows it as (it stopped the
#: record half-way, leaving the earlier run's pages).
UNENCODABLE_AS = "backslashreplace"


def _criteria(items: tuple[RecordItem, ...], gate_id: str) -> Iterator[str]:
    yield from ("## Criteria", "")
    section = None
    for item in items:
        if item.criterion.section_title != section:
            section = item.criterion.section_title
            yield from ("", f"### {cell(section)}", "")
        mark = _MARK.get(item.verdict, "[ ]")
        # The outcome word once (a check's own "N/A: ..." is not repeated).
        yield (f"- {mark} **{cell(item.criterion.id)}** {cell(item.text)} — "
               f"{cell(item_message(item, gate_id))}")
        for evidence in item.outcome.evidence if item.outcome else []:
            yield f"  - evidence: {cell(describe_evidence(evidence))}"


def cell(text: str) -> str:
    """Text fit for one markdown table cell or list line: no markup either. GitHub renders
    the HTML in a record (and the job summary): a ``<!--`` in a check's words hid the rest of
    the page, an ``<h2>`` showed a decision not taken. ``&lt;`` renders as the ``<`` it was.

    Markdown's own markup is escaped too: a value quoted from evidence showed
    ``![PASS](https://img.shields.io/...)`` as a green PASS badge fetched from another host in
    a failing record and the job summary, and ``\\|`` (an escaped backslash, then a cell
    delimiter) cut a table row short. A backslash before ASCII punctuation renders as the
    character it escapes; ``&amp;`` as the ``&`` it was."""
    escaped = _MARKUP.sub(r"\\\g<0>", text).replace("&", "&amp;").replace("<", "&lt;")
    return " ".join(escaped.split())


#: What markdown reads as markup inside a line: a backslash (it would escape what follows),
#: links and images, code, emphasis and strikethrough, and a table's cell delimiter. An
#: underscore inside a word (``status_page_used``) is no emphasis and stays as it is.
_MARKUP = re.compile(r"[\\`*\[\]~|]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
