"""The sourcing problem as a mixed-integer program, solved by HiGHS.

The engine's fallback for instances too big for its exact search within budget, and the
independent check its tests and ``omniorder bench sourcing`` compare it with.

Variables: ``y[i]`` ∈ {0, 1} (site i ships), ``x[i, j]`` ∈ [0, supply[i][j]] (units of SKU j
from site i), ``b[j]`` ∈ [0, demand[j]] (units of SKU j backordered).

    minimise  Σ fixed[i]·y[i] + Σ unit[i]·x[i, j] + penalty·Σ b[j]
    s.t.      Σ_i x[i, j] + b[j] = demand[j]          for every SKU j
              x[i, j] ≤ supply[i][j]·y[i]             for every site i holding SKU j
              Σ y[i] ≤ limit                          when the profile caps fulfillments

For a fixed set of sites the x part is a transportation problem whose optimum is integral, so
the sites HiGHS opens are re-evaluated exactly by the engine's own fill (never worse than the
MIP's objective).
"""

from __future__ import annotations

import math

import highspy
import numpy as np

from omniorder.domain.sourcing import Problem, Solution, evaluate


def solve_mip(
    problem: Problem,
    incumbent: Solution | None,
    seconds: float,
    rel_gap: float = 1e-9,
    max_nodes: int | None = None,
) -> tuple[Solution, float, str]:
    """Solve within ``max_nodes`` branch-and-bound nodes (the same answer on any machine) and
    ``seconds`` (a safety stop); returns (solution, proven relative gap, HiGHS status). A
    process calls ``omniorder.process.quiet_solver_banner`` once when it starts."""
    sites = problem.sites
    n, m = len(sites), len(problem.skus)
    if n == 0:
        return evaluate(problem, []), 0.0, "Optimal"
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(seconds))
    h.setOptionValue("mip_rel_gap", rel_gap)
    h.setOptionValue("mip_abs_gap", 1e-9)
    h.setOptionValue("threads", 1)
    if max_nodes is not None:
        h.setOptionValue("mip_max_nodes", int(max_nodes))
    inf = highspy.kHighsInf

    # columns: y (n), then x for each (i, j) with supply, then b (m)
    pairs = [(i, j) for i in range(n) for j in range(m) if sites[i].supply[j]]
    costs = [s.fixed for s in sites] + [sites[i].unit for i, _ in pairs] + [problem.penalty] * m
    upper = (
        [1.0] * n
        + [float(sites[i].supply[j]) for i, j in pairs]
        + [float(d) for d in problem.demand]
    )
    ncols = len(costs)
    h.addCols(
        ncols,
        np.array(costs, dtype=np.float64),
        np.zeros(ncols),
        np.array(upper, dtype=np.float64),
        0,
        np.array([], dtype=np.int32),
        np.array([], dtype=np.int32),
        np.array([], dtype=np.float64),
    )
    h.changeColsIntegrality(
        n, np.arange(n, dtype=np.int32), np.array([highspy.HighsVarType.kInteger] * n)
    )

    lower_r: list[float] = []
    upper_r: list[float] = []
    starts: list[int] = []
    index: list[int] = []
    value: list[float] = []

    def row(lo: float, hi: float, entries: list[tuple[int, float]]) -> None:
        lower_r.append(lo)
        upper_r.append(hi)
        starts.append(len(index))
        for col, coef in entries:
            index.append(col)
            value.append(coef)

    by_sku: list[list[int]] = [[] for _ in range(m)]
    for k, (_, j) in enumerate(pairs):
        by_sku[j].append(n + k)
    for j in range(m):
        d = float(problem.demand[j])
        row(d, d, [(c, 1.0) for c in by_sku[j]] + [(n + len(pairs) + j, 1.0)])
    for k, (i, j) in enumerate(pairs):
        row(-inf, 0.0, [(n + k, 1.0), (i, -float(sites[i].supply[j]))])
    if problem.limit is not None:
        row(-inf, float(problem.limit), [(i, 1.0) for i in range(n)])
    h.addRows(
        len(lower_r),
        np.array(lower_r, dtype=np.float64),
        np.array(upper_r, dtype=np.float64),
        len(index),
        np.array(starts, dtype=np.int32),
        np.array(index, dtype=np.int32),
        np.array(value, dtype=np.float64),
    )
    if incumbent is not None:
        _seed(h, problem, incumbent, pairs, ncols)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    values = h.getSolution().col_value
    if len(values) != ncols or info.primal_solution_status == 0:
        chosen: list[int] = [] if incumbent is None else list(incumbent.used)
    else:
        chosen = [i for i in range(n) if values[i] > 0.5]
    sol = evaluate(problem, chosen)
    if incumbent is not None and incumbent.better_than(sol):
        sol = incumbent
    gap = float(info.mip_gap)
    if not math.isfinite(gap):
        gap = 1.0
    return sol, max(0.0, gap), status


def _seed(
    h: highspy.Highs,
    problem: Problem,
    incumbent: Solution,
    pairs: list[tuple[int, int]],
    ncols: int,
) -> None:
    """Start HiGHS from the engine's best plan so its time limit can only improve on it."""
    from omniorder.domain.sourcing import fill

    n = len(problem.sites)
    taken, back = fill(problem, incumbent.used)
    given = {(i, problem.skus.index(sku)): q for i, lines in taken for sku, q in lines.items()}
    col = [0.0] * ncols
    for i in incumbent.used:
        col[i] = 1.0
    for k, pair in enumerate(pairs):
        col[n + k] = float(given.get(pair, 0))
    for j, sku in enumerate(problem.skus):
        col[n + len(pairs) + j] = float(back.get(sku, 0))
    seed = highspy.HighsSolution()
    seed.col_value = col
    seed.value_valid = True
    h.setSolution(seed)
