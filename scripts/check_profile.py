#!/usr/bin/env python3
"""`klynge profile` against an independent count: every fact point placed in its parish by a ray-casting
point-in-polygon test written here (on the areas `klynge export` writes as RFC 7946 GeoJSON), then counted,
summed and divided per area, per cluster and for the study, and compared with `klynge profile --json`.

Usage: check_profile.py KLYNGE STUDY OUT_FOLDER
"""
import json
import os
import subprocess
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
from oracle import Checks  # noqa: E402

klynge, study_path, out = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(out, exist_ok=True)
checks = Checks()
check = checks.check
study = yaml.safe_load(open(study_path))
facts = study.get("facts") or []
if not facts:
    print("skipped: the study has no facts")
    sys.exit(0)

areas_file = os.path.join(out, "areas.geojson")
subprocess.run([klynge, "export", study_path, "--layer", "areas", "-o", areas_file], check=True, capture_output=True, timeout=300)
areas = json.load(open(areas_file))["features"]
profile = json.loads(subprocess.run([klynge, "profile", study_path, "--json"], check=True, capture_output=True, text=True, timeout=300).stdout)


def inside(pt, ring):
    x, y = pt
    c = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            c = not c
    return c


def polygons(g):
    return [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]


def area_of(pt):
    for a in areas:
        for poly in polygons(a["geometry"]):
            if inside(pt, poly[0]) and not any(inside(pt, hole) for hole in poly[1:]):
                return str(a["properties"]["id"])
    return None


rows = {(r["level"], r["id"]): r for r in profile["rows"]}
assignments = (study.get("clusters") or {}).get("assignments") or {}
for fact in facts:
    if fact.get("join"):
        continue
    src = os.path.join(os.path.dirname(study_path), fact["source"])
    feats = json.load(open(src))["features"]
    per_area = {}
    for f in feats:
        a = area_of(f["geometry"]["coordinates"])
        rec = per_area.setdefault(a, [])
        rec.append({k: f["properties"].get(v) for k, v in (fact.get("fields") or {}).items()})
    for level in ("area", "cluster", "study"):
        for key, row in rows.items():
            if key[0] != level:
                continue
            if level == "area":
                recs = per_area.get(row["id"], [])
            elif level == "cluster":
                recs = [r for a, rs in per_area.items() if a is not None and str(assignments.get(a, "")) == row["id"] for r in rs]
            else:
                recs = [r for rs in per_area.values() for r in rs]
            for m in fact["measures"]:
                got = row["values"].get(f"{fact['id']}.{m['id']}")
                field = m.get("field")
                vals = [r[field] for r in recs if field and r.get(field) is not None]
                if m["aggregate"] == "count":
                    want = len(recs)
                elif m["aggregate"] == "sum":
                    want = sum(vals)
                elif m["aggregate"] == "mean":
                    want = sum(vals) / len(vals) if vals else None
                elif m["aggregate"] == "per_1000":
                    want = (sum(vals) if field else len(recs)) / row["population"] * 1000 if row["population"] > 0 else None
                else:
                    of = [r[m["of"]] for r in recs if r.get(m["of"]) is not None]
                    want = sum(vals) / sum(of) if of and sum(of) > 0 else None
                ok = (got is None and want is None) or (got is not None and want is not None and abs(got - want) < 1e-9 * max(1, abs(want)))
                check(f"{fact['id']}.{m['id']} for {level} {row['name']}", ok, (got, want))
checks.finish()
