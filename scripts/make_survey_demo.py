#!/usr/bin/env python3
"""Writes data/samsoe/survey-demo-answers.jsonl: 60 synthetic answers to the sample's demonstration survey.

The answers are invented (deterministic, seed 7) so `make run` can show results, exports and maps; they are
not anyone's opinions. Homes follow the villages' populations; most people use a hall and shop near home.
Each line is a submission as the survey page sends it, imported with `klynge survey import` as paper answers.

Usage: make_survey_demo.py [OUT]
"""
import json
import math
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "samsoe")
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(DATA, "survey-demo-answers.jsonl")


def layer(sql):
    r = subprocess.run(["ogr2ogr", "-f", "GeoJSON", "/vsistdout/", os.path.join(DATA, "samsoe-osm.gpkg"), "-sql", sql, "-t_srs", "EPSG:4326"],
                       capture_output=True, text=True, check=True)
    return json.loads(r.stdout)["features"]


def centre(f):
    g = f["geometry"]
    pts = [g["coordinates"]] if g["type"] == "Point" else [c for ring in (g["coordinates"] if g["type"] == "Polygon" else [r for p in g["coordinates"] for r in p]) for c in ring]
    return sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)


villages = [(f["properties"]["osm_id"], f["properties"]["population"], centre(f)) for f in layer("SELECT osm_id, population, geom FROM places WHERE population IS NOT NULL")]
facilities = [(f["properties"]["osm_id"], f["properties"]["category"], centre(f)) for f in layer("SELECT osm_id, category, geom FROM facilities")]
halls = [f for f in facilities if f[1] == "hall"]
shops = [f for f in facilities if f[1] == "shop"]
rng = random.Random(7)


def near(home, places):
    """Mostly the nearest place (by straight line), sometimes the second."""
    ranked = sorted(places, key=lambda p: math.hypot((p[2][0] - home[0]) * 0.56, p[2][1] - home[1]))
    return ranked[0][0] if rng.random() < 0.75 or len(ranked) < 2 else ranked[1][0]


ideas = ["Fællesspisning en gang om måneden i forsamlingshuset.", "Bedre cykelsti til skolen.", "Et sted for de unge om aftenen.",
         "Saml foreningerne i ét hus.", "Flere busser om aftenen."]
lines = []
for i in range(60):
    v = rng.choices(villages, weights=[max(p, 1) for _, p, _ in villages])[0]
    home = v[2]
    a = {"bopael": v[0], "alder": rng.choice(["16-29", "30-49", "50-66", "67-plus"]), "husstand": rng.randint(1, 5)}
    if rng.random() < 0.85:
        a["forsamlingshus"] = {"facility": near(home, halls), "frequency": rng.choice(["weekly", "monthly", "yearly"]),
                               "mode": rng.choice(["car", "car", "bike", "walk"])}
    else:
        a["forsamlingshus"] = {"facility": None}
    a["butik"] = {"facility": near(home, shops), "frequency": rng.choice(["daily", "weekly"]), "mode": rng.choice(["car", "bike", "walk"])}
    a["savner"] = rng.sample(["faellesspisning", "motion", "kultur", "boern", "arbejde"], rng.randint(1, 3))
    a["forening"] = rng.choice(["ja", "nej"])
    if a["forening"] == "ja" and rng.random() < 0.5:
        a["hvilken-forening"] = rng.choice(["Borgerforeningen", "Idrætsforeningen", "Jagtforeningen"])
    a["hoerer-om"] = rng.sample(["opslag", "facebook", "avis", "naboer"], rng.randint(1, 2))
    a["deltage"] = rng.choice(["ja", "maaske", "nej"])
    if rng.random() < 0.3:
        a["steder"] = [{"lon": round(home[0] + rng.uniform(-0.01, 0.01), 5), "lat": round(home[1] + rng.uniform(-0.005, 0.005), 5),
                        "kind": rng.choice(["wish", "problem", "meeting_place"]), "text": rng.choice(ideas)}]
    if rng.random() < 0.4:
        a["ideer"] = rng.choice(ideas)
    lines.append(json.dumps({"consent": True, "age_confirmed": True, "answers": a}, ensure_ascii=False))
with open(out, "w", encoding="utf-8") as f:
    f.write("\n".join(lines) + "\n")
print(f"wrote {len(lines)} answers to {out}")
