#!/usr/bin/env python3
"""Independent check of `klynge coverage` against the `klynge matrix` output of the same study.

Usage: check_coverage.py KLYNGE_BINARY STUDY.yaml

For every category with open facilities: the nearest facility per village, the covered flag, and the
population-weighted figures (covered share, mean over reachable villages, weighted percentiles by the
documented definition: the smallest value whose cumulative weight reaches p of the total) are computed
here from the matrix CSV and compared with `klynge coverage --json`.

With --decay (linear:15, power:1.5, exponential:0.1, and power:1 for the scenarios): the gravity index and the
enhanced 2SFCA per village, their population-weighted means per category and per area (with the plain 2SFCA per
area), the decay's description, the same figures in the GeoJSON output, their absence without --decay, the
study's scenarios under `coverage --scenario` and the villages `compare` lists as losing 2SFCA access; and that a
bad decay is refused with a readable message.
Prints 'N passed, N failed'; exits 1 on a failure.
"""
import csv
import json
import math
import os
import re
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
tables, supplies = {}, {}
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
        # Kept for the decay checks below: every pair of the CSV (None: unreachable), the open facilities (every
        # to_id of the category's matrix) and their supply.
        table = {}
        with open(m, newline="") as f:
            for row in csv.DictReader(f):
                col = "duration_s" if metric == "duration" else "distance_m"
                table[(row["from_id"], row["to_id"])] = float(row[col]) if row[col] else None
        tables[cat] = table
        supplies[cat] = {j: (supply.get(j, 1.0) if unit == "capacity" else 1.0) for j in {j for _, j in table}}
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


# Decay-weighted access (`--decay`): the gravity (Hansen) index and the enhanced 2SFCA (E2SFCA), recomputed from the
# same matrix CSVs as above (tables: every pair of a category's matrix, None where unreachable; supplies: its open
# facilities, each with capacity or 1). A cost c of the CSV weighs f(c): 0 unreachable; linear:L 1 − (c/unit)/L, 0
# beyond L·unit (at the CSV's hundredth); power:β 1 up to one unit, then (c/unit)^−β; exponential:β exp(−β·c/unit).
# unit: 60 s for a duration rule, 1000 m for a distance rule (the parameter is per minute or per km).
# Gravity G_i = Σ S_j f(c_ij) over every open facility; E2SFCA R_j = S_j / Σ_{k within j} P_k f(c_kj),
# A_i = 1000 Σ_{j within i} R_j f(c_ij), None where nothing is within. Summary and per area: population-weighted
# means (None counting 0).
DECAYS = ("linear:15", "power:1.5", "exponential:0.1")
weight_of = dict(zip(ids, weights))
names = {p["demandId"]: p["name"] for p in points}
area_of = {p["demandId"]: p.get("areaId") for p in points}
summaries = {c["category"]: c for c in report["categories"]}


def near(got, want, rel=1e-6, absolute=1e-6):
    """Figures rounded to 1e-6: 1e-6 relative plus 1e-6 absolute; None only matches None."""
    if got is None or want is None:
        return got is None and want is None
    return abs(got - want) <= absolute + rel * abs(want)


def run(*args):
    return subprocess.run([klynge, *args], capture_output=True, text=True)


def run_json(*args):
    out = run(*args)
    if out.returncode != 0:
        check(f"klynge {' '.join(args[1:])}", False, out.stderr[-300:])
        return None
    return json.loads(out.stdout)


def parse_decay(spec):
    shape, parameter = spec.split(":")
    return shape, float(parameter)


def unit_cost(cat):
    return 60.0 if summaries[cat]["metric"] == "duration" else 1000.0


def decay_weight(shape, parameter, unit, c):
    if c is None:
        return 0.0
    x = c / unit
    if shape == "linear":
        if c > math.floor(parameter * unit * 100 + 1e-7) / 100 + 0.005:
            return 0.0
        return max(0.0, 1.0 - x / parameter)
    if shape == "power":
        return 1.0 if x <= 1 else x ** -parameter
    if shape == "exponential":
        return math.exp(-parameter * x)
    raise ValueError(shape)


def access(cat, table, supply, decay):
    """Per village: (2SFCA or None, gravity, E2SFCA or None) over the open facilities `supply` (id → S_j)."""
    limit = summaries[cat]["threshold"]
    unit = unit_cost(cat)
    f = (lambda c: decay_weight(decay[0], decay[1], unit, c)) if decay else (lambda c: 0.0)
    within = [(i, j, c) for (i, j), c in table.items() if j in supply and c is not None and c <= limit]
    demand, weighted = {}, {}
    for i, j, c in within:
        demand[j] = demand.get(j, 0.0) + weight_of.get(i, 0.0)
        weighted[j] = weighted.get(j, 0.0) + weight_of.get(i, 0.0) * f(c)
    ratio = {j: supply[j] / d if d > 0 else 0.0 for j, d in demand.items()}
    eratio = {j: supply[j] / d if d > 0 else 0.0 for j, d in weighted.items()}
    a2, e2, gravity = {}, {}, {}
    for i, j, c in within:
        a2[i] = a2.get(i, 0.0) + 1000 * ratio[j]
        e2[i] = e2.get(i, 0.0) + 1000 * eratio[j] * f(c)
    for (i, j), c in table.items():
        if j in supply:
            gravity[i] = gravity.get(i, 0.0) + supply[j] * f(c)
    return {i: (a2.get(i), gravity.get(i, 0.0), e2.get(i)) for i in ids}


def mean_over(values, members):
    total = sum(weight_of[i] for i in members)
    if total <= 0:
        return None
    return sum(weight_of[i] * (values[i] or 0.0) for i in members) / total


def baseline_model():
    return {cat: (tables.get(cat, {}), supplies.get(cat, {})) for cat in summaries}


def check_report(label, rep, decay, model):
    """A `coverage --json` report against the recomputation; model: category → (table, supply), or None to skip."""
    pts = {p["demandId"]: p for p in rep["points"]}
    areas = {a["areaId"]: a for a in rep["areas"]}
    for summ in rep["categories"]:
        cat = summ["category"]
        if cat not in model or model[cat] is None:
            continue
        table, supply = model[cat]
        rows = access(cat, table, supply, decay)
        a2 = {i: r[0] for i, r in rows.items()}
        gravity = {i: r[1] for i, r in rows.items()}
        e2 = {i: r[2] for i, r in rows.items()}
        name = f"{label} {cat}"
        check(f"{name} open facilities", summ["openFacilities"] == len(supply), f"{summ['openFacilities']} vs {len(supply)}")
        check(f"{name} mean 2SFCA", near(summ.get("accessPer1000"), mean_over(a2, ids)),
              f"klynge {summ.get('accessPer1000')}, recomputed {mean_over(a2, ids)}")
        if decay:
            want = {"shape": decay[0], "parameter": decay[1], "unitCost": unit_cost(cat)}
            if decay[0] == "linear":
                want["cutoffCost"] = decay[1] * unit_cost(cat)
            got = summ.get("decay") or {}
            check(f"{name} decay", set(got) == set(want) and got.get("shape") == want["shape"] and
                  all(near(got.get(k), v, 1e-9, 1e-9) for k, v in want.items() if k != "shape"), f"klynge {got}, expected {want}")
            for key, values in (("gravity", gravity), ("enhancedAccessPer1000", e2)):
                check(f"{name} mean {key}", near(summ.get(key), mean_over(values, ids)),
                      f"klynge {summ.get(key)}, recomputed {mean_over(values, ids)}")
        else:
            check(f"{name} no decay figures in the summary", "gravity" not in summ and "enhancedAccessPer1000" not in summ,
                  str({k: summ.get(k) for k in ("gravity", "enhancedAccessPer1000", "decay")}))
        for i in ids:
            mine = next((c for c in pts[i]["categories"] if c["category"] == cat), None) if i in pts else None
            if mine is None:
                check(f"{name} {i} present", False, "no row for the village")
                continue
            check(f"{name} {i} 2SFCA", near(mine.get("accessPer1000"), a2[i]), f"klynge {mine.get('accessPer1000')}, recomputed {a2[i]}")
            if decay:
                check(f"{name} {i} gravity", near(mine.get("gravity"), gravity[i]), f"klynge {mine.get('gravity')}, recomputed {gravity[i]}")
                check(f"{name} {i} E2SFCA", near(mine.get("enhancedAccessPer1000"), e2[i]),
                      f"klynge {mine.get('enhancedAccessPer1000')}, recomputed {e2[i]}")
            else:
                check(f"{name} {i} no decay figures", "gravity" not in mine and "enhancedAccessPer1000" not in mine,
                      str({k: mine.get(k) for k in ("gravity", "enhancedAccessPer1000")}))
        for area_id, area in areas.items():
            members = [i for i in ids if area_of[i] == area_id]
            mine = next((c for c in area["categories"] if c["category"] == cat), None)
            if mine is None:
                check(f"{name} area {area_id} present", False, "no row for the category")
                continue
            figures = [("accessPer1000", a2)] + ([("gravity", gravity), ("enhancedAccessPer1000", e2)] if decay else [])
            for key, values in figures:
                want = mean_over(values, members)
                got = mine.get(key)
                # An area without population has no mean: absent or 0.
                ok = near(got, want) if want is not None else got in (None, 0)
                check(f"{name} area {area_id} {key}", ok, f"klynge {got}, recomputed {want}")
        recomputed[(label, cat)] = rows


recomputed = {}
plain = report  # the run above, without --decay
check_report("no decay", plain, None, baseline_model())
decay_reports = {}
for spec in DECAYS:
    rep = run_json("coverage", study_path, "--json", "--decay", spec)
    if rep is None:
        continue
    decay_reports[spec] = rep
    check_report(spec, rep, parse_decay(spec), baseline_model())

# The GeoJSON output: every village carries <category>_gravity and <category>_e2sfca_per_1000 (to 1e-4), as the JSON.
with tempfile.TemporaryDirectory() as tmp:
    spec = "power:1.5"
    path = os.path.join(tmp, "coverage.geojson")
    out = run("coverage", study_path, "--decay", spec, "-o", path)
    check(f"coverage --decay {spec} -o .geojson", out.returncode == 0 and os.path.exists(path), out.stderr[-300:])
    if out.returncode == 0 and os.path.exists(path) and spec in decay_reports:
        features = json.load(open(path))["features"]
        villages = {f["properties"]["id"]: f["properties"] for f in features if f["properties"].get("layer") == "coverage_points"}
        check("geojson villages", set(villages) == set(ids), f"{len(villages)} villages vs {len(ids)}")
        jpoints = {p["demandId"]: p for p in decay_reports[spec]["points"]}
        for cat in summaries:
            rows = recomputed.get((spec, cat))
            if rows is None:
                continue
            for i in ids:
                props = villages.get(i, {})
                mine = next(c for c in jpoints[i]["categories"] if c["category"] == cat)
                for key, jkey, want in ((f"{cat}_gravity", "gravity", rows[i][1]), (f"{cat}_e2sfca_per_1000", "enhancedAccessPer1000", rows[i][2])):
                    got = props.get(key)
                    ok = key in props and (got is None and want is None and mine.get(jkey) is None or
                                           got is not None and want is not None and mine.get(jkey) is not None and
                                           abs(got - want) <= 5e-5 + 1e-6 * abs(want) and abs(got - mine[jkey]) <= 5.1e-5)
                    check(f"geojson {i} {key}", ok, f"geojson {got}, json {mine.get(jkey)}, recomputed {want}")

    # Scenarios: `compare` lists under losingAccess every village whose 2SFCA ratio falls (after None counts 0, a
    # village with none before is never listed), sorted by the fall. Before and after are recomputed from the matrix
    # where the scenario's open set can be derived from the study file (close, merge, recategorise); where it opens a
    # facility of the category (a new site the matrix does not hold), or merges or adds capacity-counted facilities,
    # the expectation comes from `coverage --json` and `coverage --scenario --json` instead (checked above for the
    # baseline only).
    member = {}
    for cat, supply in supplies.items():
        for j in supply:
            member.setdefault(j, set()).add(cat)
    all_tables = {}

    def all_table(cat):
        mode, metric = summaries[cat]["mode"], summaries[cat]["metric"]
        if (mode, metric) not in all_tables:
            path = os.path.join(tmp, f"all-{mode}.csv")
            subprocess.run([klynge, "matrix", study_path, "--mode", mode, "-o", path], check=True, capture_output=True)
            col = "duration_s" if metric == "duration" else "distance_m"
            with open(path, newline="") as f:
                all_tables[(mode, metric)] = {(r["from_id"], r["to_id"]): float(r[col]) if r[col] else None for r in csv.DictReader(f)}
        return all_tables[(mode, metric)]

    fac_path = os.path.join(tmp, "facilities.csv")
    subprocess.run([klynge, "export", study_path, "--layer", "facilities", "-o", fac_path], check=True, capture_output=True)
    with open(fac_path, newline="") as f:
        capacity_of = {r["id"]: float(r["capacity"]) for r in csv.DictReader(f) if r.get("capacity")}

    def scenario_model(sc, units):
        """Per category: (table, supply) after the scenario, or None where the matrix alone can't say (a facility
        it opens). units: category → accessUnit of the scenario's own report (closing the facilities without a
        capacity can make a category count capacity). A merged facility keeps its own and the closed ones' capacity."""
        after = {j: set(c) for j, c in member.items()}
        capacity = dict(capacity_of)
        for j in sc.get("close", []) or []:
            after.pop(j, None)
        for mg in sc.get("merge", []) or []:
            keep = after.setdefault(mg["keep"], set())
            for j in mg.get("close", []):
                keep |= after.pop(j, set())
            if any(j in capacity for j in [mg["keep"], *mg.get("close", [])]):
                capacity[mg["keep"]] = sum(capacity.get(j, 0.0) for j in [mg["keep"], *mg.get("close", [])])
        for rc in sc.get("recategorise", []) or []:
            after[rc["id"]] = set(rc.get("categories", []))
        opened = set()
        for op in sc.get("open", []) or []:
            opened |= set(op.get("categories", []))
        model = {}
        for cat in summaries:
            now = {j for j, c in after.items() if cat in c}
            before = set(supplies.get(cat, {}))
            if cat in opened:
                model[cat] = None
                continue
            table = dict(tables.get(cat, {}))
            if now - before:
                table.update({k: v for k, v in all_table(cat).items() if k[1] in now - before})
            model[cat] = (table, {j: capacity.get(j, 1.0) if units.get(cat) == "capacity" else 1.0 for j in now})
        return model

    def expected_losing(before, after):
        """before/after: id → (2SFCA, E2SFCA). Returns (must be listed: id → fall, may be listed: rounding ties)."""
        must, may = {}, set()
        for i in ids:
            b, a = before[i][0], after[i][0]
            if b is None:
                continue
            fall = b - (a or 0.0)
            if fall > 2e-6:
                must[i] = fall
            elif fall > 1e-9:
                may.add(i)
        return must, may

    def check_losing(label, got, before, after, decay):
        must, may = expected_losing(before, after)
        got_ids = [e.get("demandId") for e in got]
        check(f"{label} losingAccess villages", set(must) <= set(got_ids) <= set(must) | may and len(got_ids) == len(set(got_ids)),
              f"klynge {sorted(got_ids)}, recomputed {sorted(must)}" + (f" (either way: {sorted(may)})" if may else ""))
        falls = []
        for e in got:
            i = e.get("demandId")
            if i not in before:
                continue
            falls.append(before[i][0] - (after[i][0] or 0.0) if before[i][0] is not None else -math.inf)
            check(f"{label} {i} name and population", e.get("name") == names[i] and e.get("population") == weight_of[i],
                  f"{e.get('name')}/{e.get('population')} vs {names[i]}/{weight_of[i]}")
            check(f"{label} {i} before", near(e.get("before"), before[i][0]), f"klynge {e.get('before')}, recomputed {before[i][0]}")
            want_after = after[i][0]
            check(f"{label} {i} after", near(e.get("after"), want_after) or (want_after is None and e.get("after") == 0),
                  f"klynge {e.get('after')}, recomputed {want_after}")
            if decay:
                for key, want in (("enhancedBefore", before[i][1]), ("enhancedAfter", after[i][1])):
                    check(f"{label} {i} {key}", near(e.get(key), want) or (want is None and e.get(key) == 0),
                          f"klynge {e.get(key)}, recomputed {want}")
            else:
                check(f"{label} {i} no enhanced figures", e.get("enhancedBefore") is None and e.get("enhancedAfter") is None,
                      f"{e.get('enhancedBefore')}, {e.get('enhancedAfter')}")
        check(f"{label} losingAccess sorted by the fall", all(x >= y - 2e-6 for x, y in zip(falls, falls[1:])),
              f"falls {[round(x, 6) for x in falls]}")

    def from_report(rep, cat):
        p = {q["demandId"]: next(c for c in q["categories"] if c["category"] == cat) for q in rep["points"]}
        return {i: (p[i].get("accessPer1000"), p[i].get("enhancedAccessPer1000")) for i in ids}

    compare_decay = ("power", 1.0)
    base = run_json("coverage", study_path, "--json", "--decay", "power:1")
    base_rows = {cat: access(cat, *baseline_model()[cat], compare_decay) for cat in summaries}
    if base is not None:
        check_report("power:1", base, compare_decay, baseline_model())
    focus = None
    for sc in study.get("scenarios", []) or []:
        sname = sc["name"]
        rep = run_json("coverage", study_path, "--scenario", sname, "--json", "--decay", "power:1")
        if rep is None or base is None:
            continue
        model = scenario_model(sc, {c["category"]: c.get("accessUnit") for c in rep["categories"]})
        check_report(f"{sname} power:1", rep, compare_decay, model)
        after_rows = {cat: access(cat, *model[cat], compare_decay) if model[cat] else None for cat in summaries}
        expect = {}
        for cat in summaries:
            if after_rows[cat] is not None:
                expect[cat] = ({i: (r[0], r[2]) for i, r in base_rows[cat].items()}, {i: (r[0], r[2]) for i, r in after_rows[cat].items()})
            else:
                expect[cat] = (from_report(base, cat), from_report(rep, cat))
        comparison = run_json("compare", study_path, "--scenario", sname, "--json", "--decay", "power:1")
        if comparison is None:
            continue
        check(f"compare {sname} keyed by the scenario", list(comparison) == [sname], str(list(comparison)))
        for entry in comparison.get(sname, {}).get("categories", []):
            cat = entry["category"]
            check_losing(f"compare {sname} {cat}", entry.get("losingAccess", []), *expect[cat], True)
            for side, rows in (("before", base_rows[cat]), ("after", after_rows[cat])):
                for k, key in ((0, "accessPer1000"), (1, "gravity"), (2, "enhancedAccessPer1000")):
                    if rows is not None:
                        want = mean_over({i: r[k] for i, r in rows.items()}, ids)
                    else:  # not derivable: as `coverage --scenario --json` says
                        want = next(c for c in rep["categories"] if c["category"] == cat).get(key)
                    got = entry.get(side, {}).get(key)
                    check(f"compare {sname} {cat} {side} {key}", near(got, want), f"klynge {got}, expected {want}")
            if focus is None and entry.get("losingAccess"):
                focus = (sname, cat, expect[cat])
    # One scenario and category on its own (--category), with and without --decay.
    if focus is not None:
        sname, cat, (before, after) = focus
        for extra in ([], ["--decay", "power:1"]):
            comparison = run_json("compare", study_path, "--scenario", sname, "--category", cat, "--json", *extra)
            if comparison is None:
                continue
            entries = comparison.get(sname, {}).get("categories", [])
            check(f"compare {sname} --category {cat} {' '.join(extra)}: one category", [e["category"] for e in entries] == [cat],
                  str([e["category"] for e in entries]))
            for entry in entries[:1]:
                check_losing(f"compare {sname} --category {cat} {' '.join(extra)}", entry.get("losingAccess", []), before, after, bool(extra))
                if not extra:
                    for side in ("before", "after"):
                        got = entry.get(side, {})
                        check(f"compare {sname} {cat} {side}: no decay figures", "gravity" not in got and "enhancedAccessPer1000" not in got,
                              str({k: got.get(k) for k in ("gravity", "enhancedAccessPer1000")}))
    else:
        check("a scenario where some village loses 2SFCA access", False, "none of the study's scenarios lowers a ratio")

# Bad decays: a readable message on stderr (no Swift type names), nothing on stdout, a non-zero exit.
for spec in ("gauss:1", "power:-2", "linear:0", "exponential:abc"):
    out = run("coverage", study_path, "--json", "--decay", spec)
    readable = out.stderr.strip() != "" and "decay" in out.stderr.lower() and not re.search(
        r"\b[A-Za-z]+\.[A-Z][A-Za-z]+\b|\b[A-Z][A-Za-z]*Error\b|Optional\(|\w+\(\w+: ", out.stderr)
    check(f"--decay {spec} refused", out.returncode != 0 and out.stdout == "" and readable,
          f"exit {out.returncode}, stdout {out.stdout[:100]!r}, stderr {out.stderr[:300]!r}")

checks.finish()
