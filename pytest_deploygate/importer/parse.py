"""Reading a gate checklist with a real markdown parser (markdown-it-py, tables enabled).

The result is a plain outline: the tables it recognises (prerequisites, required artifacts,
Gate Decision), every checkbox list item with its headings, and the Next Phase lines, each
with the source line it came from. Checkboxes inside tables and bold lines are not criteria.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

_CHECKBOX = re.compile(r"^\[([ xX])\]\s+(.*)$", re.S)
_BOLD_LINE = re.compile(r"^\*\*(.+?)\*\*:?\s*$")
_TABLE_KINDS = {"artifact": "artifacts", "prerequisite": "prerequisites",
                "criteria": "decision", "criterion": "decision"}


@dataclass
class Row:
    """One table row: its cells (inline markdown) and line."""

    cells: list[str]
    line: int


@dataclass
class Item:
    """A checkbox criterion and the headings above it."""

    text: str
    line: int
    h2: str
    h3: str | None
    sub: str | None  # an H4 or a bold pseudo-heading under the H3
    h2_line: int
    h3_line: int | None


@dataclass
class Outline:
    """Everything the importer reads from one checklist."""

    title: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    tables: dict[str, list[Row]] = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)
    next_lines: list[str] = field(default_factory=list)
    h2_titles: list[tuple[str, int]] = field(default_factory=list)


def parse(text: str) -> Outline:
    """The outline of a checklist."""
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    outline = Outline()
    h2, h2_line = "", 0
    h3: str | None = None
    h3_line: int | None = None
    sub: str | None = None
    last_table: str | None = None
    index = 0
    while index < len(tokens):
        token = tokens[index]
        line = (token.map[0] + 1) if token.map else 0
        if token.type == "heading_open":
            title = _inline_text(tokens[index + 1])
            level = int(token.tag[1])
            if level == 1:
                outline.title = title
            elif level == 2:
                h2, h2_line, h3, h3_line, sub, last_table = title, line, None, None, None, None
                outline.h2_titles.append((title, line))
            elif level == 3:
                h3, h3_line, sub = title, line, None
            else:
                sub = title
            index += 3
            continue
        if token.type == "table_open":
            end = _matching(tokens, index, "table_close")
            kind, rows = _table(tokens[index:end + 1])
            if kind:
                outline.tables.setdefault(kind, []).extend(rows)
                last_table = kind
            index = end + 1
            continue
        if token.type == "paragraph_open" and token.level == 0:
            content = tokens[index + 1].content
            bold = _BOLD_LINE.match(content.strip())
            if content.lstrip().startswith("|") and last_table:
                # A table row cut off from its table by a blank line still belongs to it.
                outline.tables[last_table].extend(_loose_rows(content, line))
            elif bold and "\n" not in content.strip() and ":" not in bold.group(1)[-1:]:
                sub = bold.group(1).strip()
            elif h2.lower().startswith("next phase"):
                outline.next_lines += [ln.strip() for ln in content.splitlines()]
            else:
                _fields(content, outline)
            index = _matching(tokens, index, "paragraph_close") + 1
            continue
        if token.type == "list_item_open":
            inline = tokens[index + 2] if index + 2 < len(tokens) else None
            if inline is not None and inline.type == "inline":
                match = _CHECKBOX.match(inline.content.strip())
                if match:
                    outline.items.append(Item(" ".join(match.group(2).split()), line, h2, h3,
                                              sub, h2_line, h3_line))
                elif h2.lower().startswith("next phase"):
                    outline.next_lines.append(inline.content.strip())
        index += 1
    return outline


def _matching(tokens: list[Token], start: int, closing: str) -> int:
    depth_type = tokens[start].type
    depth = 0
    for position in range(start, len(tokens)):
        if tokens[position].type == depth_type:
            depth += 1
        elif tokens[position].type == closing:
            depth -= 1
            if depth == 0:
                return position
    return len(tokens) - 1


def _table(tokens: list[Token]) -> tuple[str | None, list[Row]]:
    rows: list[Row] = []
    current: list[str] | None = None
    line = 0
    header: list[str] = []
    in_head = False
    for token in tokens:
        if token.type == "thead_open":
            in_head = True
        elif token.type == "thead_close":
            in_head = False
        elif token.type == "tr_open":
            current, line = [], (token.map[0] + 1) if token.map else 0
        elif token.type == "inline" and current is not None:
            current.append(token.content.strip())
        elif token.type == "tr_close" and current is not None:
            if in_head:
                header = current
            else:
                rows.append(Row(current, line))
            current = None
    first = header[0].strip().lower().rstrip("s") if header else ""
    return _TABLE_KINDS.get(first), rows


def _loose_rows(content: str, line: int) -> list[Row]:
    rows = []
    for offset, raw in enumerate(content.splitlines()):
        raw = raw.strip()
        if raw.startswith("|") and not set(raw) <= set("|-: "):
            cells = [cell.strip() for cell in raw.strip("|").split("|")]
            rows.append(Row(cells, line + offset))
    return rows


def _fields(content: str, outline: Outline) -> None:
    for raw in content.splitlines():
        match = re.match(r"^\*\*([^*]+)\*\*:\s*(.+)$", raw.strip())
        if match and not match.group(2).strip().startswith("["):
            outline.fields.setdefault(match.group(1).strip().lower(), match.group(2).strip())


def _inline_text(token: Token) -> str:
    return " ".join(token.content.split())
