#!/usr/bin/env python3
"""Independent check of `klynge optimize --capacity` against PuLP (CBC) models built here from `klynge matrix`.

For a category with several facilities (candidates: the existing ones), at capacities that bind:
- capacitated p-median, each village whole, and split between sites;
- capacitated maximal covering (the most people assigned within the threshold);
the optimum PuLP proves must equal Klynge's, and Klynge's loads must fit the capacities and add up to the
people it assigned. An impossible request (more people than any p sites hold) must exit non-zero, say so, and
print nothing on stdout. Prints 'N passed, N failed'; exits 1 on a failure; skips without PuLP.

Usage: check_capacitated.py KLYNGE STUDY
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

from oracle import Checks

try:
    import pulp
except ImportError:
    print("skipped: PuLP is not installed (pip install pulp)")
    sys.exit(0)

klynge, study = sys.argv[1], sys.argv[2]
checks = Checks()
check = checks.check
report = json.loads(subprocess.run([klynge, "coverage", study, "--json"], check=True, capture_output=True, text=True).stdout)
weights = {p["demandId"]: p["population"] for p in report["points"]}
summary = max(report["categories"], key=lambda c: c["openFacilities"])
cat, threshold = summary["category"], summary["threshold"]
mode = summary["mode"]
total = sum(weights.values())

with tempfile.TemporaryDirectory() as tmp:
    m = os.path.join(tmp, "m.csv")
    subprocess.run([klynge, "matrix", study, "--mode", mode, "--category", cat, "-o", m], check=True, capture_output=True)
    col = "duration_s" if summary["metric"] == "duration" else "distance_m"
    cost = {}
    with open(m, newline="") as f:
        for row in csv.DictReader(f):
            if row[col]:
                cost[(row["from_id"], row["to_id"])] = float(row[col])
sites = sorted({j for _, j in cost})
villages = sorted(weights)
p = max(1, len(sites) - 1)


def klynge_answer(objective, capacity, split):
    args = [klynge, "optimize", study, "--category", cat, "--objective", objective, "--facilities", str(p), "--candidates", "existing",
            "--capacity", str(capacity), "--json"] + (["--split"] if split else [])
    r = subprocess.run(args, capture_output=True, text=True)
    return r, (json.loads(r.stdout) if r.returncode == 0 else None)


def pulp_answer(objective, capacity, split):
    model = pulp.LpProblem("k", pulp.LpMaximize if objective == "coverage" else pulp.LpMinimize)
    x = {j: pulp.LpVariable(f"x_{k}", cat="Binary") for k, j in enumerate(sites)}
    kind = "Continuous" if split else "Binary"
    pairs = [(i, j) for (i, j) in cost if weights.get(i, 0) > 0 and (objective == "median" or cost[(i, j)] <= threshold)]
    z = {pr: pulp.LpVariable(f"z_{k}", lowBound=0, upBound=1, cat=kind) for k, pr in enumerate(pairs)}
    if objective == "median":
        model += pulp.lpSum(weights[i] * cost[(i, j)] * z[(i, j)] for (i, j) in pairs)
    else:
        model += pulp.lpSum(weights[i] * z[(i, j)] for (i, j) in pairs)
    for i in villages:
        if weights[i] <= 0:
            continue
        row = [z[(i, j)] for j in sites if (i, j) in z]
        if objective == "median":
            model += pulp.lpSum(row) == 1
        elif row:
            model += pulp.lpSum(row) <= 1
    for (i, j) in pairs:
        model += z[(i, j)] <= x[j]
    for j in sites:
        model += pulp.lpSum(weights[i] * z[(i, jj)] for (i, jj) in pairs if jj == j) <= capacity * x[j]
    model += pulp.lpSum(x.values()) == p
    status = model.solve(pulp.PULP_CBC_CMD(msg=False))
    return pulp.LpStatus[status], pulp.value(model.objective)


# A capacity that binds: the people shared by p sites, with a little room, and room for the largest village whole.
capacity = round(max(total / p * 1.05, max(weights.values()) * 1.05))
for objective in ("median", "coverage"):
    for split in (False, True):
        name = f"{objective} {'split' if split else 'whole'} (p = {p}, {capacity} places each)"
        r, answer = klynge_answer(objective, capacity, split)
        status, value = pulp_answer(objective, capacity, split)
        if status != "Optimal":
            check(f"{name}: both find no answer", answer is None, (status, r.stderr[-200:]))
            continue
        check(f"{name}: Klynge answers", answer is not None, r.stderr[-300:])
        if answer is None:
            continue
        s = answer["solution"]
        check(f"{name}: same optimum as PuLP/CBC", abs(s["value"] - value) <= 1e-6 * max(1.0, abs(value)), f"klynge {s['value']}, PuLP {value}")
        check(f"{name}: proven", s["proven"])
        loads = s["loads"]
        check(f"{name}: loads within capacity", all(v <= capacity + 1e-6 for v in loads), loads)
        assigned = total - s["unassignedWeight"]
        check(f"{name}: loads add up to the people assigned", abs(sum(loads) - assigned) <= 1e-6 * max(1.0, assigned), (loads, assigned))
        if objective == "coverage":
            check(f"{name}: covered = assigned", abs(s["value"] - assigned) <= 1e-6 * max(1.0, assigned), (s["value"], assigned))
        print(f"{name}: {s['value']:.2f} (PuLP {value:.2f}); loads {', '.join(f'{v:.0f}' for v in loads)}")

# More people than p sites can hold: refused in words, nothing on stdout.
r, answer = klynge_answer("median", max(1, int(total / p / 2)), False)
check("an impossible capacity exits non-zero", r.returncode != 0 and not r.stdout.strip(), (r.returncode, r.stdout[:100]))
check("… and says total demand exceeds total capacity", "exceeds total capacity" in r.stderr, r.stderr[-200:])
checks.finish()
