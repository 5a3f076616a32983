"""The charts of a simulation report as PNG: KPI bars per strategy and a network map.

The report is read by :mod:`omniorder.sim.report`; the bars are labelled with the strategies'
keys, the names typed with ``--strategy``, as the terminal table, the JSON and the HTML page
(:mod:`omniorder.sim.page`) name them. Nothing here needs a display or the network: the
figures are drawn with matplotlib's Agg canvas (no pyplot, so it is safe in threads).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from omniorder.sim.report import (
    COST,
    TERM_COLOURS,
    Flow,
    background,
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

LOCATION_STYLE = {  # type -> (matplotlib marker, size, colour)
    "warehouse": ("s", 70.0, "#1b1b1b"),
    "store": ("o", 22.0, "#17636b"),
}
OTHER_STYLE = ("^", 40.0, "#7a3e9d")


def _pick(flows: Mapping[str, list[Flow]], strategy: str | None) -> str | None:
    if strategy is not None:
        return strategy
    if flows.get("optimal"):
        return "optimal"
    return next((s for s, f in flows.items() if f), None)


def write_png(report: Mapping[str, Any], path: Path, *, strategy: str | None = None) -> None:
    """Write the KPI bars to ``path`` and the network map to ``<stem>-map.png`` beside it.

    The map shows the flows of ``strategy``; by default "optimal" if it has flows, else the
    first strategy that has some.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    kpi_figure(report).savefig(path, format="png")
    map_figure(report, strategy).savefig(path.with_name(path.stem + "-map.png"), format="png")


def kpi_figure(report: Mapping[str, Any]) -> Figure:
    """The KPI bars: a panel per KPI measured and the cost per order by term, each with a bar
    per strategy labelled with its name (:func:`~omniorder.sim.report.strategy_names`)."""
    strategies = strategy_kpis(report)
    names = strategy_names(report)
    colours = [colour_of(n, names) for n in names]
    panels = shown_kpis(strategies)
    terms = cost_terms(strategies)
    bound = first_bound(report)
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
        values = [number(s.get(kpi.key)) for s in strategies.values()]
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
    return fig


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


def map_figure(report: Mapping[str, Any], strategy: str | None = None) -> Figure:
    """The network map with the flows of ``strategy`` (see :func:`write_png`)."""
    locs, flows = map_data(report)
    frame = map_frame(report, locs, flows)
    shown = _pick(flows, strategy)
    lanes = flows.get(shown, []) if shown else []
    colour = colour_of(shown or "", strategy_names(report))
    aspect = (frame.y1 - frame.y0) / (frame.x1 - frame.x0)
    fig = Figure(
        figsize=(12, min(max(12 * aspect, 3.0), 12.0) + 1.0), dpi=110, layout="constrained"
    )
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    cities = background(report, frame)
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
    return fig
