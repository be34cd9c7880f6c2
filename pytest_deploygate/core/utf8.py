"""Decoding a file's bytes as UTF-8 and, when they are not, saying where.

"byte 2822" on line 1 sent a reader to the wrong place: the line and column of the first
byte that is not UTF-8 are what an editor goes to.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import codecs


class NotUtf8(ValueError):
    """The bytes are not UTF-8: ``line`` and ``detail`` say where and what to do."""

    def __init__(self, line: int, column: int, byte: int) -> None:
        self.line = line
        self.column = column
        self.detail = (f"not UTF-8 text (byte 0x{byte:02x} at column {column}); save the "
                       "file as UTF-8")
        super().__init__(f"line {line}: {self.detail}")


def decode_utf8(data: bytes, *, bom: bool = True) -> str:
    """``data`` as text; a leading byte order mark is dropped when ``bom`` allows it (as the
    ``utf-8-sig`` codec does). Raise :class:`NotUtf8` naming the first bad byte's place."""
    skipped = len(codecs.BOM_UTF8) if bom and data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[skipped:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = skipped + exc.start
        line_start = data.rfind(b"\n", 0, offset) + 1
        raise NotUtf8(data.count(b"\n", 0, offset) + 1, offset - line_start + 1,
                      data[offset]) from None
