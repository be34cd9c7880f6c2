"""Reading a gate checklist with a real markdown parser (markdown-it-py, tables enabled).

The result is a plain outline: the tables it recognises (prerequisites, required artifacts,
Gate Decision), every checkbox list item with its headings, and the Next Phase lines, each
with the source line it came from. Checkboxes inside tables and bold lines are not criteria.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

from pytest_deploygate.core.value_class import field, value_class

_CHECKBOX = re.compile(r"^\[([ xX])\]\s+(.*)$", re.S)
#: A line a reader takes for a checkbox criterion wherever it stands: in a paragraph, under
#: a list item's first line, in an HTML block (GitHub shows ``<details>`` content as it is).
_BOX_LINE = re.compile(r"^\s*(?:(?:[-*+]|\d+[.)])\s+)?\[[ xX]\]\s+\S")
#: A box in a table cell (a table of checks the importer has no kind for).
_BOX = re.compile(r"\[[ xX]\]")
_BOLD_LINE = re.compile(r"^\*\*(.+?)\*\*:?\s*$")
_TABLE_KINDS = {"artifact": "artifacts", "prerequisite": "prerequisites",
                "criteria": "decision", "criterion": "decision"}


@value_class
class Row:
    """One table row: its cells (inline markdown) and line."""

    cells: list[str]
    line: int


@value_class
class Item:
    """A checkbox criterion and the headings above it."""

    text: str
    line: int
    h2: str
    h3: str | None
    sub: str | None  # an H4 or a bold pseudo-heading under the H3
    h2_line: int
    h3_line: int | None


@value_class
class Outline:
    """Everything the importer reads from one checklist."""

    title: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    tables: dict[str, list[Row]] = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)
    next_lines: list[str] = field(default_factory=list)
    h2_titles: list[tuple[str, int]] = field(default_factory=list)
    #: Checkboxes that are no criterion (outside a list item's head, in a table of no known
    #: kind, in an HTML block), with their lines: the importer refuses them, since a reviewer
    #: of the markdown reads each as a criterion the gate would never judge.
    stray_boxes: list[int] = field(default_factory=list)


def parse(text: str) -> Outline:
    """The outline of a checklist."""
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    return _Reader(tokens).read()


class _Reader:
    """One walk over a checklist's tokens, keeping the headings the current token is under."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.outline = Outline()
        self.h2, self.h2_line = "", 0
        self.h3: str | None = None
        self.h3_line: int | None = None
        self.sub: str | None = None  # an H4 or a bold pseudo-heading
        self.last_table: str | None = None

    def read(self) -> Outline:
        """Walk every token; each step returns where the next one starts."""
        steps = {"heading_open": self._heading, "table_open": self._table,
                 "paragraph_open": self._paragraph, "list_item_open": self._list_item}
        index = 0
        while index < len(self.tokens):
            step = steps.get(self.tokens[index].type)
            index = step(index) if step is not None else index + 1
        self._find_stray_boxes()
        return self.outline

    def _find_stray_boxes(self) -> None:
        heads = {item.line for item in self.outline.items}
        strays = self.outline.stray_boxes
        known_table, row_line = True, 0
        for index, token in enumerate(self.tokens):
            if token.type == "table_open":
                end = _matching(self.tokens, index, "table_close")
                known_table = _table(self.tokens[index:end + 1])[0] is not None
            elif token.type == "tr_open":
                row_line = _line(token)
            elif token.type == "html_block":
                strays += [_line(token) + offset
                           for offset, text in enumerate(token.content.splitlines())
                           if _BOX_LINE.match(text)]
            elif token.type == "inline" and token.level > 0 and _in_table(self.tokens, index):
                if not known_table and _BOX.search(token.content):
                    strays.append(row_line)
            elif token.type == "inline":
                # The first line of a list item's first paragraph is the item's head.
                opener = self.tokens[index - 2] if index >= 2 else None
                head = opener is not None and opener.type == "list_item_open" and \
                    _line(opener) in heads
                strays += [_line(token) + offset
                           for offset, text in enumerate(token.content.splitlines())
                           if _BOX_LINE.match(text) and not (head and offset == 0)]

    @property
    def _in_next_phase(self) -> bool:
        return self.h2.lower().startswith("next phase")

    def _heading(self, index: int) -> int:
        token = self.tokens[index]
        line = _line(token)
        title = _inline_text(self.tokens[index + 1])
        level = int(token.tag[1])
        if level == 1:
            self.outline.title = title
        elif level == 2:
            self.h2, self.h2_line, self.h3, self.h3_line = title, line, None, None
            self.sub, self.last_table = None, None
            self.outline.h2_titles.append((title, line))
        elif level == 3:
            self.h3, self.h3_line, self.sub = title, line, None
        else:
            self.sub = title
        return index + 3

    def _table(self, index: int) -> int:
        end = _matching(self.tokens, index, "table_close")
        kind, rows = _table(self.tokens[index:end + 1])
        if kind:
            self.outline.tables.setdefault(kind, []).extend(rows)
            self.last_table = kind
        return end + 1

    def _paragraph(self, index: int) -> int:
        token = self.tokens[index]
        if token.level != 0:
            return index + 1
        content = self.tokens[index + 1].content
        bold = _BOLD_LINE.match(content.strip())
        if content.lstrip().startswith("|") and self.last_table:
            # A table row cut off from its table by a blank line still belongs to it.
            self.outline.tables[self.last_table].extend(_loose_rows(content, _line(token)))
        elif bold and "\n" not in content.strip() and ":" not in bold.group(1)[-1:]:
            self.sub = bold.group(1).strip()
        elif self._in_next_phase:
            self.outline.next_lines += [ln.strip() for ln in content.splitlines()]
        else:
            _fields(content, self.outline)
        return _matching(self.tokens, index, "paragraph_close") + 1

    def _list_item(self, index: int) -> int:
        inline = self.tokens[index + 2] if index + 2 < len(self.tokens) else None
        if inline is not None and inline.type == "inline":
            match = _CHECKBOX.match(inline.content.strip())
            if match:
                self.outline.items.append(Item(" ".join(match.group(2).split()),
                                               _line(self.tokens[index]), self.h2, self.h3,
                                               self.sub, self.h2_line, self.h3_line))
            elif self._in_next_phase:
                self.outline.next_lines.append(inline.content.strip())
        return index + 1


def _in_table(tokens: list[Token], index: int) -> bool:
    """True for a table cell's inline token (its opener is a th or td)."""
    return index >= 1 and tokens[index - 1].type in ("th_open", "td_open")


def _line(token: Token) -> int:
    """The 1-based source line a token starts on (0 when markdown-it gives none)."""
    return (token.map[0] + 1) if token.map else 0


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
