"""A simulation report as one self-contained HTML page: the KPI table, the KPI bars and a
network map per strategy.

The page carries its own CSS and hand-written inline SVG: no scripts, no tile server, no
network access. It names the strategies by their keys in the report, the names typed with
``--strategy``, as the terminal table, the JSON and the PNG charts do.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from omniorder.sim.report import (
    COST,
    KPIS,
    TERM_COLOURS,
    Location,
    background,
    bound_per_order,
    colour_of,
    cost_terms,
    first_bound,
    map_data,
    map_frame,
    number,
    shown_kpis,
    strategy_kpis,
    strategy_names,
)

CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse}th,td{padding:4px 10px;border-bottom:1px solid #e3e3e3}
td{text-align:right;font-variant-numeric:tabular-nums}th{text-align:left}
thead th{text-align:right;border-bottom:2px solid #999}
.sw{display:inline-block;width:10px;height:10px;margin-right:5px}
.charts{display:flex;flex-wrap:wrap;gap:18px}
svg text{font:12px system-ui,sans-serif;fill:#222}svg .t{font-weight:600}
svg.map{max-width:100%;height:auto;border:1px solid #ddd}
details{margin:6px 0}summary{cursor:pointer;font-weight:600}
.legend{color:#555;font-size:13px}
"""


def write_html(report: Mapping[str, Any], path: Path) -> None:
    """Write one self-contained page: KPI table, KPI bar charts, a network map per strategy."""
    esc = html.escape
    strategies = strategy_kpis(report)
    names = strategy_names(report)
    title = str(report.get("title") or "omniorder simulate")
    bound = first_bound(report)
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f"<p>Country: {esc(str(report.get('country') or 'n/a'))}; "
        f"{len(names)} strategies on the same order stream.</p>",
        "<h2>KPIs</h2>",
        _html_table(report, strategies),
        '<h2>Charts</h2><div class="charts">',
    ]
    for kpi in shown_kpis(strategies):
        values = [number(s.get(kpi.key)) for s in strategies.values()]
        parts.append(
            _svg_bars(
                kpi.label + (" (%)" if kpi.kind == "pct" else ""),
                names,
                [kpi.scaled(v) if v is not None else None for v in values],
                [kpi.fmt(v) for v in values],
                bound if kpi is COST else None,
            )
        )
    parts.append(_svg_stacked(names, cost_terms(strategies), bound))
    parts.append("</div>")
    parts.append(_html_maps(report, names))
    parts.append("</body></html>\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(parts), encoding="utf-8")


def _html_table(report: Mapping[str, Any], strategies: Mapping[str, Mapping[str, Any]]) -> str:
    esc = html.escape
    names = strategy_names(report)
    head = "".join(
        f'<th><span class="sw" style="background:{colour_of(n, names)}"></span>{esc(n)}</th>'
        for n in names
    )
    rows = [f"<table><thead><tr><th>KPI</th>{head}</tr></thead><tbody>"]
    orders = [number(s.get("orders")) for s in strategies.values()]
    rows.append(_row("Orders", ["n/a" if o is None else f"{o:,.0f}" for o in orders]))
    for kpi in KPIS:
        values = [number(s.get(kpi.key)) for s in strategies.values()]
        known = [v for v in values if v is not None]
        best = (min(known) if kpi.better == "low" else max(known)) if known and kpi.better else None
        cells = [
            f"<strong>{kpi.fmt(v)}</strong>" if v is not None and v == best else kpi.fmt(v)
            for v in values
        ]
        rows.append(_row(kpi.label, cells))
    bounds = [bound_per_order(report, s) for s in strategies.values()]
    if any(b is not None for b in bounds):
        rows.append(_row("LP lower bound per order", [COST.fmt(b) for b in bounds]))
        gaps = []
        for s, b in zip(strategies.values(), bounds, strict=True):
            cost = number(s.get("cost_per_order"))
            gaps.append("n/a" if cost is None or not b else f"{(cost - b) / b * 100:+.1f}%")
        rows.append(_row("Gap to lower bound", gaps))
    rows.append("</tbody></table>")
    return "".join(rows)


def _row(label: str, cells: list[str]) -> str:
    return f"<tr><th>{html.escape(label)}</th>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _label_width(names: Sequence[str]) -> int:
    # room for the longest name typed with --strategy, ship_complete_else_nearest
    return min(200, 12 + 7 * max((len(n) for n in names), default=4))


def _svg_bars(
    title: str, names: list[str], values: list[float | None], texts: list[str], bound: float | None
) -> str:
    esc = html.escape
    width, row, top = 380, 22, 26
    lw = _label_width(names)
    span = width - lw - 62
    height = top + row * len(names) + (20 if bound is not None else 6)
    vmax = max([v for v in values if v is not None] + [bound or 0.0, 0.0]) or 1.0
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{esc(title)}"><text class="t" x="0" y="16">{esc(title)}</text>'
    ]
    for i, (name, v, text) in enumerate(zip(names, values, texts, strict=True)):
        y = top + i * row
        w = max(v or 0.0, 0.0) / vmax * span
        out.append(
            f'<text x="{lw - 6}" y="{y + 15}" text-anchor="end">{esc(name)}</text>'
            f'<rect x="{lw}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" '
            f'fill="{colour_of(name, names)}"/>'
            f'<text x="{lw + w + 4:.1f}" y="{y + 15}">{esc(text)}</text>'
        )
    if bound is not None:
        x = lw + bound / vmax * span
        bottom = top + row * len(names)
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 2}" y2="{bottom}" stroke="#333" '
            f'stroke-dasharray="4 3"/><text x="{x:.1f}" y="{bottom + 15}" text-anchor="middle">'
            f"LP bound {bound:,.2f}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def _svg_stacked(names: list[str], terms: dict[str, list[float]], bound: float | None) -> str:
    esc = html.escape
    width, row, top = 780, 22, 26
    lw = _label_width(names)
    span = width - lw - 70
    totals = [sum(vs) for vs in zip(*terms.values(), strict=True)] or [0.0] * len(names)
    vmax = max([*totals, bound or 0.0]) or 1.0
    bottom = top + row * len(names)
    height = bottom + (20 if bound is not None else 4) + 24
    title = "Cost per order by term"
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{title}"><text class="t" x="0" y="16">{title}</text>'
    ]
    for i, name in enumerate(names):
        y, x = top + i * row, float(lw)
        out.append(f'<text x="{lw - 6}" y="{y + 15}" text-anchor="end">{esc(name)}</text>')
        for j, (term, values) in enumerate(terms.items()):
            w = max(values[i], 0.0) / vmax * span
            out.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" '
                f'fill="{TERM_COLOURS[j % len(TERM_COLOURS)]}"><title>{esc(term)}: '
                f"{values[i]:,.2f}</title></rect>"
            )
            x += w
        out.append(f'<text x="{x + 4:.1f}" y="{y + 15}">{totals[i]:,.2f}</text>')
    if bound is not None:
        x = lw + bound / vmax * span
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 2}" y2="{bottom}" stroke="#333" '
            f'stroke-dasharray="4 3"/><text x="{x:.1f}" y="{bottom + 15}" text-anchor="middle">'
            f"LP bound {bound:,.2f}</text>"
        )
        bottom += 20
    x = float(lw)
    for j, term in enumerate(terms):
        out.append(
            f'<rect x="{x:.0f}" y="{bottom + 8}" width="10" height="10" '
            f'fill="{TERM_COLOURS[j % len(TERM_COLOURS)]}"/>'
            f'<text x="{x + 14:.0f}" y="{bottom + 18}">{esc(term)}</text>'
        )
        x += 30 + 7 * len(term)
    out.append("</svg>")
    return "".join(out)


def _html_maps(report: Mapping[str, Any], names: list[str]) -> str:
    locs, flows = map_data(report)
    frame = map_frame(report, locs, flows)
    scale = min(900 / (frame.x1 - frame.x0), 640 / (frame.y1 - frame.y0))
    width, height = round((frame.x1 - frame.x0) * scale), round((frame.y1 - frame.y0) * scale)

    def pt(x: float, y: float) -> tuple[float, float]:
        return (x - frame.x0) * scale, (frame.y1 - y) * scale

    def px(lat: float, lon: float) -> str:
        x, y = pt(*frame.xy(lat, lon))
        return f"{x:.1f} {y:.1f}"

    dots = "".join("M{:.1f} {:.1f}h0".format(*pt(x, y)) for x, y in background(report, frame))
    markers = "".join(_svg_marker(loc, *pt(*frame.xy(loc.lat, loc.lon))) for loc in locs)
    out = [
        "<h2>Network map</h2>",
        '<p class="legend"><span style="color:#1b1b1b">&#9632;</span> warehouse '
        '<span style="color:#17636b">&#9679;</span> store '
        '<span style="color:#7a3e9d">&#9650;</span> other location; lines: units shipped '
        "from a location to a destination area (width and opacity grow with units); "
        "grey dots: towns of 15,000+ people.</p>",
        # The city dots are the same on every map: defined once, reused with <use>.
        '<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
        f'<path id="om-cities" d="{dots}" fill="none" stroke="#c4c4c4" stroke-width="3" '
        'stroke-linecap="round"/></defs></svg>',
    ]
    order = names + [s for s in flows if s not in names]
    for i, name in enumerate(order):
        lanes = flows.get(name, [])
        colour = colour_of(name, names)
        units = sum(f.units for f in lanes)
        summary = (
            f"{name}: {units:,.0f} units on {len(lanes)} lanes" if lanes else f"{name}: no flows"
        )
        out.append(f"<details{' open' if i == 0 else ''}><summary>{html.escape(summary)}</summary>")
        out.append(
            f'<svg class="map" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'role="img" aria-label="{html.escape(summary, quote=True)}">'
            f'<rect width="{width}" height="{height}" fill="#fbfbfa"/><use href="#om-cities"/>'
        )
        if lanes:
            top = max(f.units for f in lanes)
            out.append(f'<g stroke="{colour}" stroke-linecap="round" fill="none">')
            for f in lanes:
                share = math.sqrt(f.units / top)
                out.append(
                    f'<path d="M{px(f.lat0, f.lon0)}L{px(f.lat1, f.lon1)}" '
                    f'stroke-width="{0.5 + 3.5 * share:.2f}" '
                    f'stroke-opacity="{0.25 + 0.6 * share:.2f}">'
                    f"<title>from {html.escape(f.source)}: {f.units:,.0f} units</title></path>"
                )
            ends = "".join(f"M{px(f.lat1, f.lon1)}h0" for f in lanes)
            out.append(
                f'</g><path d="{ends}" stroke="{colour}" stroke-width="3" stroke-linecap="round"/>'
            )
        out.append(f"{markers}</svg></details>")
    return "".join(out)


def _svg_marker(loc: Location, x: float, y: float) -> str:
    tip = f"<title>{html.escape(loc.name)} ({html.escape(loc.type or 'other')})</title>"
    if loc.type == "warehouse":
        return (
            f'<rect x="{x - 4.5:.1f}" y="{y - 4.5:.1f}" width="9" height="9" fill="#1b1b1b" '
            f'stroke="#fff">{tip}</rect>'
        )
    if loc.type == "store":
        return (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#17636b" stroke="#fff">{tip}</circle>'
        )
    return f'<path d="M{x:.1f} {y - 5:.1f}l4.5 8h-9z" fill="#7a3e9d" stroke="#fff">{tip}</path>'
