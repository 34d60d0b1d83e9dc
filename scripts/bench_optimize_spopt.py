#!/usr/bin/env python3
"""The spopt side of the location-allocation benchmark: the identical cost matrices klynge-bench wrote,
solved with PySAL spopt (PuLP + CBC) for the same objectives, capacities included (spopt's PMedian with
facility_capacities keeps villages whole, as Klynge's capacitated p-median does); prints both objective values
side by side, whether they agree, and the speed ratio. CBC gets KLYNGE_BENCH_CBC_SECONDS (default 1800) per
model; a model it does not finish is reported as such with the ratio as a lower bound. Skips when spopt is
not installed."""
import json
import os
import sys
import time

try:
    import numpy as np
    import pulp
    from spopt.locate import LSCP, MCLP, PCenter, PMedian
except ImportError as e:
    print(f"spopt comparison skipped: {e}")
    sys.exit(0)

folder = sys.argv[1]
limit = float(os.environ.get("KLYNGE_BENCH_CBC_SECONDS", "1800"))
rows = json.load(open(os.path.join(folder, "optimize.json")))
bad = 0
for row in rows:
    name, m, n = row["instance"], row["m"], row["n"]
    weights = np.fromfile(os.path.join(folder, f"opt-{name}-weights.f64"), dtype="<f8")
    cost = np.fromfile(os.path.join(folder, f"opt-{name}-cost.f64"), dtype="<f8").reshape(m, n)
    capacities = np.fromfile(os.path.join(folder, f"opt-{name}-capacity.f64"), dtype="<f8") if row.get("capacitated") else None
    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=limit)
    t0 = time.perf_counter()
    if row["objective"] == "coverage":
        model = MCLP.from_cost_matrix(cost, weights, row["threshold"], p_facilities=row["p"]).solve(solver)
    elif row["objective"] == "minimum":
        model = LSCP.from_cost_matrix(cost, row["threshold"]).solve(solver)
    elif row["objective"] == "median":
        model = PMedian.from_cost_matrix(cost, weights, p_facilities=row["p"], facility_capacities=capacities).solve(solver)
    else:
        model = PCenter.from_cost_matrix(cost, p_facilities=row["p"]).solve(solver)
    seconds = time.perf_counter() - t0
    value = pulp.value(model.problem.objective)
    # CBC stopped by its time limit still reports "Optimal" through PuLP when it has a solution: the clock decides.
    finished = seconds < limit * 0.98 and pulp.LpStatus[model.problem.status] == "Optimal"
    label = f"{name} {row['objective']}{' capacitated' if capacities is not None else ''} ({m} × {n}, p = {row['p']})"
    klynge = f"klynge {row['value']:.1f} ({'proven' if row['proven'] else 'not proven'}) in {row['seconds']:.3f} s"
    ratio = seconds / max(row["seconds"], 1e-6)
    if not finished:
        print(f"{label}: {klynge}, spopt+CBC {value if value is not None else float('nan'):.1f} unfinished after {seconds:.0f} s "
              f"— klynge more than {ratio:.0f}× faster")
        if value is not None and row["proven"] and value < row["value"] - 1e-6 * max(1, abs(value)) and row["objective"] != "coverage":
            bad += 1
            print("  CBC's unfinished answer is better than Klynge's proven optimum: DIFFERENT")
        continue
    same = abs(value - row["value"]) <= 1e-6 * max(1, abs(value)) + 1e-6
    bad += 0 if same else 1
    speed = f"klynge {ratio:.0f}× faster" if ratio >= 1 else f"klynge {1 / ratio:.1f}× slower"
    print(f"{label}: {klynge}, spopt+CBC {value:.1f} in {seconds:.3f} s — {'same optimum' if same else 'DIFFERENT'}, {speed}")
sys.exit(1 if bad else 0)
