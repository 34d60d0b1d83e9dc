#!/usr/bin/env python3
"""The spopt side of the location-allocation benchmark: the identical cost matrices klynge-bench wrote,
solved with PySAL spopt (PuLP + CBC) for the same objectives; checks the optimal values agree and
prints the speed ratio. Skips when spopt is not installed."""
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
rows = json.load(open(os.path.join(folder, "optimize.json")))
bad = 0
for row in rows:
    name, m, n = row["instance"], row["m"], row["n"]
    weights = np.fromfile(os.path.join(folder, f"opt-{name}-weights.f64"), dtype="<f8")
    cost = np.fromfile(os.path.join(folder, f"opt-{name}-cost.f64"), dtype="<f8").reshape(m, n)
    solver = pulp.PULP_CBC_CMD(msg=False)
    t0 = time.perf_counter()
    if row["objective"] == "coverage":
        model = MCLP.from_cost_matrix(cost, weights, row["threshold"], p_facilities=row["p"]).solve(solver)
    elif row["objective"] == "minimum":
        model = LSCP.from_cost_matrix(cost, row["threshold"]).solve(solver)
    elif row["objective"] == "median":
        model = PMedian.from_cost_matrix(cost, weights, p_facilities=row["p"]).solve(solver)
    else:
        model = PCenter.from_cost_matrix(cost, p_facilities=row["p"]).solve(solver)
    seconds = time.perf_counter() - t0
    value = pulp.value(model.problem.objective)
    same = abs(value - row["value"]) <= 1e-6 * max(1, abs(value)) + 1e-6
    bad += 0 if same else 1
    print(f"{name} {row['objective']} ({m} × {n}): klynge {row['value']:.1f} in {row['seconds']:.3f} s, "
          f"spopt {value:.1f} in {seconds:.3f} s — {'same optimum' if same else 'DIFFERENT'}, "
          f"klynge {seconds / max(row['seconds'], 1e-6):.0f}× faster")
sys.exit(1 if bad else 0)
