"""The HTML gate record for every decision: parsed (self-contained, every criterion, a chart
per metric criterion and trigger with its bound drawn) and rendered by headless Chromium to a
non-blank PNG. ROLLBACK comes from a watched trigger firing against a real Prometheus."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_evidence_network import (  # noqa: F401  (module fixtures: a real Prometheus)
    SHORT_TICKS,
    alertmanager,
    metrics_project,
    prometheus,
    service,
)
from test_records import decide

from conftest import GateProject, custom_gate, need

NOW = "--gate-now=2026-02-10T00:00:00Z"
CHROMIUM = "/usr/bin/chromium"
#: The example's metric triggers and criteria (metrics_file overrides in its deploygate.yaml).
METRIC_TRIGGERS = {"error-rate-above-threshold": "max 0.05", "p99-above-threshold": "max 2000"}
METRIC_CRITERIA = {"monitoring-configured": "min 1", "metrics-collected": "min 1",
                   "no-error-spike": "max 0.05", "response-times-normal": "max 2000"}
#: Banner background per decision (the page's CSS), to find in the rendered pixels.
BANNER = {"PASS": (0xE6, 0xF4, 0xEA), "FAIL": (0xFD, 0xE8, 0xE8),
          "ROLLBACK": (0xFD, 0xE2, 0xD0), "SKIPPED": (0xFF, 0xF4, 0xD6),
          "INCOMPLETE": (0xEC, 0xE8, 0xF7)}
_REFERENCING = {"src", "href", "srcset", "action", "poster", "data", "xlink:href", "background",
                "formaction", "manifest", "ping"}


@dataclass
class Chart:
    criterion: str
    role: str
    classes: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


class Page(HTMLParser):
    """What the tests need of an HTML record: tags, references, charts, details, text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.references: list[str] = []
        self.styles: list[str] = []
        self.charts: list[Chart] = []
        self.details: list[str] = []
        self.banner = ""
        self.text: list[str] = []
        self._stack: list[str] = []
        self._in_banner = 0
        self._chart: Chart | None = None
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.append(tag)
        self.references += [f"{tag}@{k}={v}" for k, v in attrs if k in _REFERENCING]
        if values.get("style"):
            self.styles.append(values["style"] or "")
        if tag == "style":
            self._in_style = True
        if tag == "header" and values.get("id") == "decision-banner":
            self._in_banner = 1
        elif self._in_banner:
            self._in_banner += 1
        if tag == "figure" and "chart" in (values.get("class") or "").split():
            self._chart = Chart(values.get("data-criterion") or "", values.get("data-role") or "")
            self.charts.append(self._chart)
        if self._chart is not None and values.get("class"):
            self._chart.classes += (values["class"] or "").split()
        if tag == "details":
            self.details.append(values.get("id") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False
        if self._in_banner:
            self._in_banner -= 1
        if tag == "figure":
            self._chart = None

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)
            return
        self.text.append(data)
        if self._in_banner:
            self.banner += data
        if self._chart is not None:
            self._chart.texts.append(data)


def parse_page(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def check_self_contained(page: Page) -> None:
    assert "script" not in page.tags
    assert "link" not in page.tags and "img" not in page.tags and "iframe" not in page.tags
    assert all(ref.split("=", 1)[1].startswith("#") for ref in page.references), page.references
    css = "".join(page.styles)
    assert "url(" not in css and "@import" not in css


def check_charts(page: Page, expected: dict[str, str], role: str) -> None:
    charts = {c.criterion: c for c in page.charts if c.role == role}
    assert set(charts) == set(expected), (sorted(charts), sorted(expected))
    for criterion, bound in expected.items():
        chart = charts[criterion]
        assert chart.classes.count("chart-svg") == 1, criterion  # one chart each
        assert "threshold" in chart.classes, f"{criterion}: no threshold line"
        assert bound in chart.texts, f"{criterion}: the bound is not written beside its line"


def decode_png(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and the unfiltered rows of an 8-bit RGB/RGBA PNG (what Chromium writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = chunk
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6), (depth, colour)
    channels = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) *
                                                          (stride + 1)])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up, corner = previous[x], previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[x] = (line[x] + pred) & 0xFF
        rows.append(bytes(pixel for i in range(0, stride, channels)
                          for pixel in line[i:i + 3]))
        previous = line
    return width, height, rows


def render(html: Path, out: Path) -> Path | None:
    """Headless Chromium's screenshot of the page, or None when Chromium is absent."""
    if not os.access(CHROMIUM, os.X_OK):
        return None
    profile = tempfile.mkdtemp(prefix="deploygate-chromium-")
    try:
        subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-quic", "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={profile}", f"--screenshot={out}",
                        "--window-size=1000,900", html.resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return out


def check_rendered(html: Path, tmp_path: Path, decision: str) -> None:
    """Rendered to a PNG that is not blank and shows the decision's banner."""
    png = render(html, tmp_path / "record.png")
    need(png is not None, f"{CHROMIUM} is not installed (apt-get install chromium)")
    assert png is not None
    width, height, rows = decode_png(png)
    assert (width, height) == (1000, 900)
    colours = {row[i:i + 3] for row in rows[::7] for i in range(0, len(row), 21)}
    assert len(colours) > 20, "the screenshot is blank"
    banner = bytes(BANNER[decision])
    assert rows[10][30:33] == banner, (rows[10][30:33], banner)


@pytest.mark.parametrize("decision", ["PASS", "FAIL", "SKIPPED", "INCOMPLETE"])
def test_html_record_for_each_decision(example: GateProject, tmp_path: Path,
                                       decision: str) -> None:
    decide(example, decision)
    args = ("-k", "approval") if decision == "INCOMPLETE" else ()
    example.run("--gate=12", NOW, *args)
    path = example.root / "gate-records" / "GATE-12.html"
    page = parse_page(path)
    check_self_contained(page)
    banner = " ".join(page.banner.split())
    assert f"GATE-12 Production Deployment: {decision}" in banner
    assert f" {decision}: " in banner  # the headline: word and reason
    text = "".join(page.text)
    assert "Gate Decision" in text and "Reviewer" in text and "Date" in text
    assert len(page.details) == 68  # every criterion, folded
    if decision == "FAIL":
        assert "security-sign-off" in page.banner
    if decision != "SKIPPED":  # (a skipped gate reads no sign-off)
        # Sign-offs with who and when.
        assert "maria.lopez@acme.example" in text and "2026-02-03T09:51:00Z" in text
    check_charts(page, METRIC_TRIGGERS, "rollback trigger")
    check_charts(page, METRIC_CRITERIA, "criterion")
    if decision in ("PASS", "FAIL"):
        # A single reading is drawn as a value against its bound.
        assert any("within the bound" in t for c in page.charts for t in c.texts)
    check_rendered(path, tmp_path, decision)


def test_html_record_of_a_watched_rollback(metrics_project: GateProject,  # noqa: F811
                                           tmp_path: Path) -> None:
    metrics_project.git_init()
    custom_gate(metrics_project, triggers=SHORT_TICKS)
    # A fresh interpreter: this run's watch threads never share one with earlier in-process
    # runs (CPython 3.11's parser is not safe against that when pytest imports the plugin).
    result = metrics_project.run_subprocess("--gate=12", "--gate-stage=post", "--gate-watch=2s",
                                            "--gate-now=2026-02-05T10:00:00.05Z")
    assert metrics_project.record("GATE-12-post").decision == "ROLLBACK", result.stdout.str()
    path = metrics_project.root / "gate-records" / "GATE-12-post.html"
    page = parse_page(path)
    check_self_contained(page)
    assert "ROLLBACK: ticks triggered" in page.banner
    check_charts(page, {"ticks": "max 0.5"}, "rollback trigger")
    chart = page.charts[0]
    # Over the watch: one mark per reading (10 before it fired), breaches as crosses, and
    # the moment it fired as a labelled line.
    assert chart.classes.count("ok") + chart.classes.count("breach") == 10
    assert chart.classes.count("breach") == 2
    assert "fired" in chart.classes
    assert any(re.fullmatch(r"trigger fired at \+\d+\.\d s", t) for t in chart.texts), \
        chart.texts
    assert "series" in chart.classes
    check_rendered(path, tmp_path, "ROLLBACK")
