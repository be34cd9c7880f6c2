"""A small SVG writer for the HTML record's charts: a value against its bound.

Why our own (about 200 lines) rather than a plotting library: matplotlib or plotly would add
tens of megabytes and seconds of import to a test plugin for two kinds of chart, and plotly's
output needs its script to draw. Plain SVG text is self-contained, prints, renders without
JavaScript and diffs well. Colour is never the only signal: breaches are drawn as crosses
(within-bound readings as dots), bounds as dashed lines with their value written beside them,
and the moment a trigger fired as a labelled vertical line.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from html import escape

from pytest_deploygate.core.measurements import Measurement, Point

WIDTH, HEIGHT = 640, 230
#: A single reading needs only a bar's height.
SINGLE_HEIGHT = 140
_LEFT, _RIGHT, _TOP, _BOTTOM = 70, 24, 30, 48


#: Drawing attributes per class, written on the elements themselves rather than in a
#: stylesheet: Jenkins' HTML publisher (and other viewers) serve pages under a
#: Content-Security-Policy that drops ``<style>``, and an SVG line without a stroke vanishes.
_LOOK = {
    "frame": 'fill="#ffffff" stroke="#d0d7de"',
    "axis": 'stroke="#57606a"',
    "threshold": 'stroke="#b3261e" stroke-width="2" stroke-dasharray="7 5"',
    "series": 'fill="none" stroke="#0b5cad" stroke-width="2"',
    "ok": 'fill="#0b5cad"',
    "breach": 'stroke="#b3261e" stroke-width="2.5" fill="none"',
    "fired": 'stroke="#8a1c00" stroke-width="2.5"',
    "bar ok": 'fill="#7fb3e6" stroke="#0b5cad"',
    "bar breach": 'fill="#f1a9a0" stroke="#b3261e"',
    "label": 'fill="#1b1f24"',
    "tick": 'fill="#1b1f24"',
    "legend": 'fill="#57606a"',
    "threshold-label": 'fill="#b3261e" font-weight="700"',
    "fired-label": 'fill="#8a1c00" font-weight="700"',
    "value-label": 'fill="#1b1f24" font-weight="700"',
    "value-label on-bar": 'fill="#1b1f24" font-weight="700"',
    "inconclusive": 'fill="#8a6100" font-weight="700"',
    "missing-label": 'fill="#8a6100" font-weight="700"',
}


def _look(css: str) -> str:
    return f'class="{css}" {_LOOK.get(css, "")}'.rstrip()


def number(value: float) -> str:
    """A short, readable number: ``0.05``, ``2000``, ``1.23e+06``."""
    return f"{value:.4g}"


def chart(measurement: Measurement, title: str, chart_id: str) -> str:
    """The SVG of one measurement: a series over time, or a single reading as a bar."""
    if measurement.windowed and measurement.points:
        body, height = _series(measurement), HEIGHT
    else:
        body, height = _single(measurement), SINGLE_HEIGHT
    label = f"{title}: {_summary(measurement)}"
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" role="img" '
            f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
            f'aria-labelledby="{chart_id}-t" font-family="sans-serif" font-size="12">'
            f'<title id="{chart_id}-t">{escape(label)}</title>'
            f'<rect {_look("frame")} x="0.5" y="0.5" width="{WIDTH - 1}" height="{height - 1}"/>'
            f'{body}{_legend(measurement)}</svg>')


def _summary(m: Measurement) -> str:
    values = [p.value for p in m.points if p.value is not None]
    bounds = _bounds_text(m)
    if not m.points:
        return f"no value measured; bound {bounds}"
    if not values:
        return f"every reading inconclusive; bound {bounds}"
    breaches = sum(1 for p in m.points if p.breached)
    text = (f"{len(m.points)} readings, {breaches} breaching {bounds}" if m.windowed
            else f"measured {number(values[0])} against {bounds}")
    if m.fired_at is not None:
        text += f"; the trigger fired at +{m.fired_at:.1f} s"
    return text


def _bounds_text(m: Measurement) -> str:
    parts = ([f"min {number(m.low)}"] if m.low is not None else []) + (
        [f"max {number(m.high)}"] if m.high is not None else [])
    return " and ".join(parts) or "none"


def _scale(lo: float, hi: float) -> tuple[float, float]:
    if hi - lo <= 0:
        pad = abs(hi) * 0.1 or 1.0
        return lo - pad, hi + pad
    pad = (hi - lo) * 0.12
    return lo - pad, hi + pad


def _series(m: Measurement) -> str:
    values = [p.value for p in m.points if p.value is not None]
    bounds = [b for b in (m.low, m.high) if b is not None]
    lowest = min(values + bounds, default=0.0)
    y0, y1 = _scale(lowest, max(values + bounds, default=1.0))
    y0 = 0.0 if lowest >= 0 else y0  # non-negative metrics are read from zero
    end = max([p.at for p in m.points] + [m.fired_at or 0.0]) or 1.0
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM

    def x(at: float) -> float:
        return _LEFT + plot_w * (at / end)

    def y(value: float) -> float:
        return _TOP + plot_h * (1 - (value - y0) / (y1 - y0))

    out = [_axes(plot_w, plot_h),
           _tick_y(y(y0), number(y0)), _tick_y(y(y1), number(y1)),
           _text(_LEFT, HEIGHT - 22, "+0 s", "start"),
           _text(WIDTH - _RIGHT, HEIGHT - 22, f"+{end:.1f} s", "end"),
           _text(_LEFT + plot_w / 2, HEIGHT - 6, "seconds since the first reading", "middle")]
    for name, bound in (("min", m.low), ("max", m.high)):
        if bound is not None:
            out.append(f'<line {_look("threshold")} x1="{_LEFT}" x2="{WIDTH - _RIGHT}" '
                       f'y1="{y(bound):.1f}" y2="{y(bound):.1f}"/>')
            out.append(_text(_LEFT - 4, y(bound) - 4, f"{name} {number(bound)}", "end",
                             "threshold-label"))
    segments: list[list[Point]] = [[]]
    for point in m.points:
        if point.value is None:
            segments.append([])
        else:
            segments[-1].append(point)
    for segment in segments:
        if len(segment) > 1:
            coords = " ".join(f"{x(p.at):.1f},{y(p.value):.1f}" for p in segment
                              if p.value is not None)
            out.append(f'<polyline {_look("series")} points="{coords}"/>')
    for point in m.points:
        out.append(_marker(point, x(point.at), y(point.value) if point.value is not None
                           else _TOP + plot_h))
    if m.fired_at is not None:
        fx = x(m.fired_at)
        out.append(f'<line {_look("fired")} x1="{fx:.1f}" x2="{fx:.1f}" y1="{_TOP}" '
                   f'y2="{_TOP + plot_h}"/>')
        out.append(_text(min(fx, WIDTH - _RIGHT - 4), _TOP - 8,
                         f"trigger fired at +{m.fired_at:.1f} s", "end", "fired-label"))
    return "".join(out)


def _single(m: Measurement) -> str:
    """One reading: a bar from zero to the value, each bound a dashed vertical line."""
    values = [p.value for p in m.points if p.value is not None]
    bounds = [b for b in (m.low, m.high) if b is not None]
    x0, x1 = _scale(min([0.0, *values, *bounds]), max([0.0, *values, *bounds]))
    x0 = min(x0, 0.0) if min([0.0, *values, *bounds]) >= 0 else x0
    plot_w = WIDTH - _LEFT - _RIGHT
    bar_y, bar_h = _TOP + 22, 36

    def x(value: float) -> float:
        return _LEFT + plot_w * (value - x0) / (x1 - x0)

    out = [f'<line {_look("axis")} x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{bar_y + bar_h + 16}" '
           f'y2="{bar_y + bar_h + 16}"/>',
           _text(x(max(x0, 0.0)), bar_y + bar_h + 32, number(max(x0, 0.0)), "middle"),
           _text(WIDTH - _RIGHT, bar_y + bar_h + 32, number(x1), "end")]
    for name, bound in (("min", m.low), ("max", m.high)):
        if bound is not None:
            out.append(f'<line {_look("threshold")} x1="{x(bound):.1f}" x2="{x(bound):.1f}" '
                       f'y1="{bar_y - 18}" y2="{bar_y + bar_h + 16}"/>')
            out.append(_text(x(bound), bar_y - 22, f"{name} {number(bound)}", "middle",
                             "threshold-label"))
    if not values:
        out.append(_text(WIDTH / 2, bar_y + bar_h / 2 + 5,
                         "no value measured (evidence missing)", "middle", "missing-label"))
        return "".join(out)
    value = values[0]
    breached = any(p.breached for p in m.points)
    start, stop = sorted((x(0.0) if x0 <= 0 else x(x0), x(value)))
    kind = "bar breach" if breached else "bar ok"
    out.append(f'<rect {_look(kind)} x="{start:.1f}" y="{bar_y}" '
               f'width="{max(stop - start, 1.5):.1f}" height="{bar_h}"/>')
    word = "✕ breaches the bound" if breached else "✓ within the bound"
    anchor = "start" if stop < WIDTH - 200 else "end"
    at = stop + 6 if anchor == "start" else stop - 6
    out.append(_text(at, bar_y + bar_h / 2 + 5, f"{number(value)} {word}", anchor,
                     "value-label" + (" on-bar" if anchor == "end" else "")))
    return "".join(out)


def _axes(plot_w: float, plot_h: float) -> str:
    return (f'<line {_look("axis")} x1="{_LEFT}" x2="{_LEFT}" y1="{_TOP}" y2="{_TOP + plot_h}"/>'
            f'<line {_look("axis")} x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{_TOP + plot_h}" '
            f'y2="{_TOP + plot_h}"/>')


def _tick_y(at: float, label: str) -> str:
    return _text(_LEFT - 6, at + 4, label, "end", "tick")


def _marker(point: Point, cx: float, cy: float) -> str:
    if point.value is None:
        return _text(cx, cy - 4, "?", "middle", "inconclusive")
    if point.breached:
        d = 5
        return (f'<path {_look("breach")} d="M{cx - d:.1f},{cy - d:.1f}L{cx + d:.1f},{cy + d:.1f}'
                f'M{cx - d:.1f},{cy + d:.1f}L{cx + d:.1f},{cy - d:.1f}"/>')
    return f'<circle {_look("ok")} cx="{cx:.1f}" cy="{cy:.1f}" r="3.5"/>'


def _legend(m: Measurement) -> str:
    y = 16
    parts = [_text(_LEFT, y, "● within bound   ✕ breach   - - - bound" +
                   ("   ? inconclusive" if any(p.value is None for p in m.points) else "") +
                   ("   │ trigger fired" if m.fired_at is not None else ""), "start", "legend")]
    return "".join(parts)


def _text(x: float, y: float, text: str, anchor: str, css: str = "label") -> str:
    return (f'<text {_look(css)} x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">'
            f'{escape(text)}</text>')
