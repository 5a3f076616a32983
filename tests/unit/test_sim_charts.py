"""The simulator's charts: KPI and map PNGs, a self-contained HTML page, and the one name
each output gives a strategy."""

from __future__ import annotations

import copy
import json
import re
import struct
from pathlib import Path
from typing import Any

import pytest
from matplotlib.figure import Figure
from typer.testing import CliRunner

from omniorder.cli import app
from omniorder.sim import charts
from omniorder.sim.charts import kpi_figure, map_figure, write_png
from omniorder.sim.names import AS_ROUTED, column_head, unfolded
from omniorder.sim.page import write_html
from omniorder.sim.run import ALL_STRATEGIES

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def kpis(split: float, cost_per_order: float, km: float) -> dict[str, Any]:
    return {
        "orders": 2000,
        "split_rate": split,
        "fulfillments_per_order": 1 + split,
        "fill_rate": 0.99,
        "short_ship_rate": 0.012,
        "km_per_unit": km,
        "store_share": 0.55,
        "on_time_rate": 0.93,
        "co2_kg_per_order": None,
        "cost_per_order": cost_per_order,
        "cost": {
            "shipments": 20000.0,
            "handling": 10000.0,
            "units": 8000.0,
            "distance": cost_per_order * 2000 - 38000.0,
            "backorder": 0.0,
            "lateness": 0.0,
            "total": cost_per_order * 2000,
        },
    }


def location(id_: str, name: str, kind: str, lat: float, lon: float) -> dict[str, Any]:
    return {"id": id_, "name": name, "type": kind, "latitude": lat, "longitude": lon}


def sample_report() -> dict[str, Any]:
    return {
        "title": "omniorder simulate: 2000 orders, US, seed 7, profile default",
        "country": "US",
        "strategies": {
            "nearest_per_line": kpis(0.305, 33.0, 420.7),
            "optimal": kpis(0.12, 31.5, 388.0),
            "batch": kpis(0.2, 31.0, 401.2),
        },
        "lower_bound": {"total": 60000.0},  # 30.00 per order
        "map": {
            "locations": [
                location("wh-chi", "Chicago DC", "warehouse", 41.8781, -87.6298),
                location("st-nwk", "Newark <Main St> Store", "store", 40.7357, -74.1724),
                location("st-dal", "Dallas Store", "store", 32.7767, -96.797),
                location("hub-reno", "Reno Hub", "hub", 39.5296, -119.8138),
            ],
            "flows": {
                "optimal": [
                    {"location_id": "wh-chi", "latitude": 42.0, "longitude": -83.0, "units": 37},
                    {"location_id": "st-nwk", "latitude": 41.0, "longitude": -74.0, "units": 120},
                    {"location_id": "hub-reno", "latitude": 37.8, "longitude": -122.4, "units": 9},
                ],
                "nearest_per_line": [
                    {"location_id": "st-dal", "latitude": 30.3, "longitude": -97.7, "units": 64},
                    {"location_id": "wh-chi", "latitude": 39.1, "longitude": -94.6, "units": 5},
                ],
            },
        },
    }


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture
def page(tmp_path: Path) -> str:
    out = tmp_path / "report.html"
    write_html(sample_report(), out)
    return out.read_text(encoding="utf-8")


def test_png_writes_kpi_bars_and_a_map_beside_them(tmp_path: Path) -> None:
    out = tmp_path / "sim.png"
    write_png(sample_report(), out)
    bars_w, bars_h = png_size(out)
    map_w, map_h = png_size(tmp_path / "sim-map.png")
    assert 1000 <= bars_w <= 3000 and 600 <= bars_h <= 3000
    assert 800 <= map_w <= 3000 and 400 <= map_h <= 3000


def test_png_map_shows_the_chosen_strategys_flows(tmp_path: Path) -> None:
    write_png(sample_report(), tmp_path / "default.png")
    write_png(sample_report(), tmp_path / "nearest.png", strategy="nearest_per_line")
    default = (tmp_path / "default-map.png").read_bytes()
    assert default != (tmp_path / "nearest-map.png").read_bytes()
    # "optimal" is the default choice when it has flows.
    write_png(sample_report(), tmp_path / "optimal.png", strategy="optimal")
    assert default == (tmp_path / "optimal-map.png").read_bytes()


def test_html_needs_nothing_from_the_network(page: str) -> None:
    lowered = page.lower()
    for reference in ('src="http', "src='http", 'href="http', "<link", "<script src", "url("):
        assert reference not in lowered
    assert "<style>" in page and "<svg" in page


def test_html_table_formats_kpis_per_strategy(page: str) -> None:
    table = page[page.index("<table>") : page.index("</table>")]
    for name in ("nearest_per_line", "optimal", "batch"):
        assert f"{name}</th>" in table
    assert "30.5%" in table  # split rate of nearest_per_line
    assert "<td>421</td>" in table and "<td>401</td>" in table  # km per unit, no decimals
    assert "<strong>31.00</strong>" in table  # the cheapest cost per order is highlighted
    co2 = re.search(r"<tr><th>CO2 kg per order</th>(.*?)</tr>", table)
    assert co2 is not None and co2.group(1).count("n/a") == 3


def test_html_compares_each_strategy_with_the_lower_bound(page: str) -> None:
    bound = re.search(r"<tr><th>LP lower bound per order</th>(.*?)</tr>", page)
    gap = re.search(r"<tr><th>Gap to lower bound</th>(.*?)</tr>", page)
    assert bound is not None and bound.group(1).count("30.00") == 3
    assert gap is not None
    assert re.findall(r"<td>(.*?)</td>", gap.group(1)) == ["+10.0%", "+5.0%", "+3.3%"]


def test_html_charts_skip_kpis_never_measured(page: str) -> None:
    assert 'aria-label="Split rate (%)"' in page
    assert 'aria-label="Cost per order by term"' in page
    assert 'aria-label="CO2 kg per order"' not in page
    assert "LP bound 30.00" in page


def test_html_has_one_map_per_strategy_first_open(page: str) -> None:
    assert page.count('<svg class="map"') == 3
    assert page.count("<details") == 3 and page.count("<details open>") == 1
    assert page.index("<details open><summary>nearest_per_line") > 0
    assert "optimal: 166 units on 3 lanes" in page
    assert "batch: no flows" in page
    dots = re.search(r'<path id="om-cities" d="([^"]*)"', page)
    assert dots is not None and 200 <= dots.group(1).count("h0") <= 3000  # the country's shape


def test_html_escapes_names(page: str) -> None:
    assert "Newark &lt;Main St&gt; Store" in page
    assert "<Main St>" not in page


def test_report_without_flows_or_bound_still_renders(tmp_path: Path) -> None:
    report = copy.deepcopy(sample_report())
    report["map"]["flows"] = {}
    report["lower_bound"] = None
    write_png(report, tmp_path / "bare.png")
    write_html(report, tmp_path / "bare.html")
    assert png_size(tmp_path / "bare.png")[0] > 0
    assert png_size(tmp_path / "bare-map.png")[0] > 0
    page = (tmp_path / "bare.html").read_text(encoding="utf-8")
    assert page.count('<svg class="map"') == 3
    assert page.count(": no flows</summary>") == 3
    assert "Gap to lower bound" not in page and "LP bound" not in page


def test_png_bars_and_map_name_the_strategies_as_the_report_does() -> None:
    report = sample_report()
    fig = kpi_figure(report)
    # a panel per KPI measured (CO2 is not) and the cost by term, each labelled per strategy
    assert len(fig.axes) == 9
    for ax in fig.axes:
        assert [t.get_text() for t in ax.get_yticklabels()] == list(report["strategies"])
    title = map_figure(report, "nearest_per_line").axes[0].get_title()
    assert "flows of strategy 'nearest_per_line'" in title


def test_terminal_heads_fold_a_long_name_after_its_underscores() -> None:
    assert column_head("ship_complete_else_nearest") == "ship_\ncomplete_\nelse_\nnearest"
    assert column_head("nearest_per_line") == "nearest_\nper_line"
    assert column_head("high_stock") == "high_\nstock"
    for name in (*ALL_STRATEGIES, AS_ROUTED):
        head = column_head(name)
        assert unfolded(head) == name and max(map(len, head.split("\n"))) <= 9


def _terminal_heads(output: str) -> list[str]:
    """The column heads of the KPI table in ``output``: the header lines before its rule."""
    lines = output.splitlines()
    rule = next(i for i, line in enumerate(lines) if "╇" in line)
    header = [line.split("┃") for line in lines[:rule] if "┃" in line]
    return ["".join(cell.strip() for cell in column) for column in zip(*header, strict=True)]


def test_a_strategy_has_one_name_in_the_terminal_json_png_and_html(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    figures: list[Figure] = []
    real = charts.write_png

    def drawn(report: dict[str, Any], path: Path, **kwargs: Any) -> None:
        figures.append(kpi_figure(report))
        real(report, path, **kwargs)

    monkeypatch.setattr(charts, "write_png", drawn)
    out, where = tmp_path / "report.json", tmp_path / "charts"
    args = ["simulate", "--orders", "60", "--stores", "10", "--no-bound"]
    result = CliRunner().invoke(
        app, [*args, "--output", str(out), "--charts", str(where)], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0, result.output
    typed = list(ALL_STRATEGIES)  # what --strategy accepts, in the order the run shows them

    # the terminal: whole names in an 80-column table (long ones folded after underscores)
    assert _terminal_heads(result.output) == ["KPI", *typed]
    # the JSON report's keys
    assert set(json.loads(out.read_text())["strategies"]) == set(typed)
    # the PNG: every panel's bars
    assert figures and all(
        [t.get_text() for t in ax.get_yticklabels()] == typed for ax in figures[0].axes
    )
    assert (where / "simulate.png").exists() and (where / "simulate-map.png").exists()
    # the HTML: the table's heads, the bars' labels and the maps' summaries
    page = (where / "simulate.html").read_text(encoding="utf-8")
    thead = page[page.index("<thead>") : page.index("</thead>")]
    assert re.findall(r"</span>([^<]*)</th>", thead) == typed
    charts_html = page[page.index('<div class="charts">') : page.index("Network map")]
    labels = re.findall(r'text-anchor="end">([^<]*)</text>', charts_html)
    assert labels and set(labels) == set(typed) and labels[: len(typed)] == typed
    assert re.findall(r"<summary>([^:<]*):", page) == typed
