#!/usr/bin/env python3
"""Independent check of `klynge coverage` against the `klynge matrix` output of the same study.

Usage: check_coverage.py KLYNGE_BINARY STUDY.yaml

For every category with open facilities: the nearest facility per village, the covered flag, and the
population-weighted figures (covered share, mean over reachable villages, weighted percentiles by the
documented definition: the smallest value whose cumulative weight reaches p of the total) are computed
here from the matrix CSV and compared with `klynge coverage --json`.
Prints 'N passed, N failed'; exits 1 on a failure.
"""
import csv
import json
import math
import os
import subprocess
import sys
import tempfile

from oracle import Checks

import yaml

klynge, study_path = sys.argv[1], sys.argv[2]
study = yaml.safe_load(open(study_path))
rules = study.get("coverage", {})
checks = Checks()
check = checks.check


def close(a, b, tol):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= tol


def percentile(values, weights, p):
    total = sum(weights)
    acc = 0.0
    for v, w in sorted(zip(values, weights), key=lambda x: x[0]):
        if w <= 0:
            continue
        acc += w
        if acc >= p * total * (1 - 1e-12):
            return v
    return None


report = json.loads(subprocess.run([klynge, "coverage", study_path, "--json"], check=True, capture_output=True, text=True).stdout)
points = report["points"]
weights = [p["population"] for p in points]
ids = [p["demandId"] for p in points]
with tempfile.TemporaryDirectory() as tmp:
    for summary in report["categories"]:
        cat = summary["category"]
        if summary["openFacilities"] == 0:
            continue
        rule = rules.get(cat, rules.get("default", {"minutes": 10, "mode": "car"}))
        mode = rule.get("mode", "car")
        metric = "duration" if "minutes" in rule else "distance"
        threshold = rule["minutes"] * 60 if metric == "duration" else rule["km"] * 1000
        check(f"{cat} threshold", close(summary["threshold"], threshold, 1e-9), f"{summary['threshold']} vs {threshold}")
        m = os.path.join(tmp, f"{cat}.csv")
        subprocess.run([klynge, "matrix", study_path, "--mode", mode, "--category", cat, "-o", m], check=True, capture_output=True)
        best = {}
        with open(m, newline="") as f:
            for row in csv.DictReader(f):
                col = "duration_s" if metric == "duration" else "distance_m"
                if not row[col]:
                    continue
                v = float(row[col])
                if row["from_id"] not in best or v < best[row["from_id"]][0]:
                    best[row["from_id"]] = (v, row["to_id"])
        values = [best.get(i, (math.inf, None))[0] for i in ids]
        for p, v in zip(points, values):
            mine = next(c for c in p["categories"] if c["category"] == cat)
            got = mine["durationSeconds"] if metric == "duration" else mine["distanceMeters"]
            want = None if math.isinf(v) else v
            # The same hundredth as the CSV (CostPrecision).
            check(f"{cat} {p['demandId']} nearest", close(got, want, 0.0051), f"klynge {got}, matrix {want}")
            check(f"{cat} {p['demandId']} covered", mine["covered"] == (v <= threshold), f"{mine['covered']} vs {v}")
        covered = sum(w for v, w in zip(values, weights) if v <= threshold)
        total = sum(weights)
        finite = [(v, w) for v, w in zip(values, weights) if not math.isinf(v)]
        mean = sum(v * w for v, w in finite) / sum(w for _, w in finite) if finite else None
        check(f"{cat} covered population", close(summary["coveredPopulation"], covered, 1e-6), f"{summary['coveredPopulation']} vs {covered}")
        check(f"{cat} covered share", close(summary["coveredShare"], covered / total, 1e-9))
        check(f"{cat} mean", close(summary.get("mean"), mean, 0.06), f"{summary.get('mean')} vs {mean}")
        for key, p in (("median", 0.5), ("p90", 0.9)):
            want = percentile(values, weights, p)
            want = None if want is None or math.isinf(want) else want
            check(f"{cat} {key}", close(summary.get(key), want, 0.06), f"{summary.get(key)} vs {want}")
        # `optimize` counts a village within the threshold exactly as the CSV does (one precision, CostPrecision):
        # the covered weight of its chosen set, recomputed from the matrix, for the exact solver and the heuristic.
        facilities = summary["openFacilities"]
        for solver in ("exact", "heuristic"):
            if facilities < 2:
                break
            p_count = max(1, facilities // 2)
            out = subprocess.run([klynge, "optimize", study_path, "--category", cat, "--objective", "coverage", "--facilities", str(p_count),
                                  "--candidates", "existing", "--solver", solver, "--json"], capture_output=True, text=True)
            if out.returncode != 0:
                check(f"{cat} optimize {solver}", False, out.stderr[-300:])
                continue
            result = json.loads(out.stdout)
            chosen = {c["id"] for c in result["chosen"]}
            near = {}
            with open(m, newline="") as f:
                for row in csv.DictReader(f):
                    col = "duration_s" if metric == "duration" else "distance_m"
                    if row[col] and row["to_id"] in chosen:
                        v = float(row[col])
                        near[row["from_id"]] = min(v, near.get(row["from_id"], math.inf))
            want = sum(w for i, w in zip(ids, weights) if near.get(i, math.inf) <= threshold)
            got = result["solution"]["coveredWeight"]
            check(f"{cat} optimize {solver}: covered weight of its set from the matrix", close(got, want, 1e-6), f"klynge {got}, matrix {want}")
        # Access beyond the nearest: open facilities within the threshold (two or more: backup coverage) and the
        # two-step floating catchment ratio (2SFCA) per 1,000 people, recomputed from every pair of the CSV.
        pairs = []
        with open(m, newline="") as f:
            for row in csv.DictReader(f):
                col = "duration_s" if metric == "duration" else "distance_m"
                if row[col] and float(row[col]) <= threshold:
                    pairs.append((row["from_id"], row["to_id"]))
        unit = summary.get("accessUnit")
        supply = {}
        if unit == "capacity":
            fac = os.path.join(tmp, f"{cat}-facilities.csv")
            subprocess.run([klynge, "export", study_path, "--layer", "facilities", "-o", fac], check=True, capture_output=True)
            with open(fac, newline="") as f:
                supply = {r["id"]: float(r["capacity"]) for r in csv.DictReader(f) if r.get("capacity")}
        check(f"{cat} access unit", unit in ("capacity", "facilities"), unit)
        weight_of = dict(zip(ids, weights))
        served = {}
        for d, j in pairs:
            served[j] = served.get(j, 0.0) + weight_of.get(d, 0.0)
        ratio = {j: (supply.get(j, 1.0) if unit == "capacity" else 1.0) / w if w > 0 else 0.0 for j, w in served.items()}
        reach = {}
        for d, j in pairs:
            reach.setdefault(d, []).append(j)
        for p in points:
            mine = next(c for c in p["categories"] if c["category"] == cat)
            near = reach.get(p["demandId"], [])
            want = 1000 * sum(ratio[j] for j in near) if near else None
            check(f"{cat} {p['demandId']} opportunities", mine.get("opportunities") == len(near), f"{mine.get('opportunities')} vs {len(near)}")
            got = mine.get("accessPer1000")
            check(f"{cat} {p['demandId']} 2SFCA", (got is None and want is None) or (got is not None and want is not None and
                                                    abs(got - want) <= 1e-6 * max(1.0, abs(want))), f"klynge {got}, recomputed {want}")
        backup = sum(w for i, w in zip(ids, weights) if len(reach.get(i, [])) >= 2)
        check(f"{cat} backup population", close(summary.get("backupPopulation"), backup, 1e-6), f"{summary.get('backupPopulation')} vs {backup}")
        mean_access = sum(w * 1000 * sum(ratio[j] for j in reach.get(i, [])) for i, w in zip(ids, weights)) / total if total > 0 else None
        check(f"{cat} mean 2SFCA", close(summary.get("accessPer1000"), mean_access, 1e-6 * max(1.0, mean_access or 0)),
              f"{summary.get('accessPer1000')} vs {mean_access}")
        worst = max(range(len(values)), key=lambda i: (values[i], weights[i]))
        check(f"{cat} worst served", summary["worstServedId"] == ids[worst], f"{summary['worstServedId']} vs {ids[worst]}")

checks.finish()
