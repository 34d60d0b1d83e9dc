#!/usr/bin/env python3
"""Writes a kommune-sized study: about 4,000 demand points placed at random (fixed seed) inside the Samsø
parishes, mostly unnamed, with 1–60 inhabitants each, on the sample's roads, facilities and parishes.

Usage: make_kommune_study.py OUT_FOLDER [--points N] [--seed S]
Writes OUT_FOLDER/study.yaml, demand.geojson, and copies of samsoe-osm.gpkg and samsoe_sogne.geojson.
"""
import argparse
import json
import os
import random
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "..", "data", "samsoe")
SUFFIXES = ["Mark", "Huse", "Enge", "Bakke", "Skov", "Vang", "Hede", "Lund"]


def inside_ring(x, y, ring):
    """Even-odd ray casting."""
    hit = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            hit = not hit
        j = i
    return hit


def polygons(geometry):
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["coordinates"]
    return []


def main():
    a = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    a.add_argument("out")
    a.add_argument("--points", type=int, default=4000)
    a.add_argument("--seed", type=int, default=741)
    o = a.parse_args()
    os.makedirs(o.out, exist_ok=True)
    with open(os.path.join(SAMPLE, "samsoe_sogne.geojson")) as f:
        parishes = json.load(f)

    # (parish name, polygon, bbox) for a quick bbox test before the exact one.
    parts = []
    for feat in parishes["features"]:
        for poly in polygons(feat["geometry"]):
            xs = [p[0] for p in poly[0]]
            ys = [p[1] for p in poly[0]]
            parts.append((feat["properties"]["SOGNENAVN"], poly, (min(xs), min(ys), max(xs), max(ys))))
    minx = min(p[2][0] for p in parts)
    miny = min(p[2][1] for p in parts)
    maxx = max(p[2][2] for p in parts)
    maxy = max(p[2][3] for p in parts)

    rng = random.Random(o.seed)
    features = []
    named = {}
    while len(features) < o.points:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        parish = None
        for name, poly, (x0, y0, x1, y1) in parts:
            if x0 <= x <= x1 and y0 <= y <= y1 and inside_ring(x, y, poly[0]) and not any(inside_ring(x, y, h) for h in poly[1:]):
                parish = name
                break
        if parish is None:
            continue
        k = len(features)
        population = 1 + int(59 * rng.random() ** 3)  # mostly a household or two, a few hamlets
        name = None
        if k % 20 == 0:  # one in twenty has a name
            suffix = SUFFIXES[(k // 20) % len(SUFFIXES)]
            named[(parish, suffix)] = named.get((parish, suffix), 0) + 1
            name = f"{parish} {suffix} {named[(parish, suffix)]}"
        features.append({"type": "Feature", "properties": {"id": f"p{k + 1:05d}", "name": name, "population": population},
                         "geometry": {"type": "Point", "coordinates": [round(x, 7), round(y, 7)]}})

    with open(os.path.join(o.out, "demand.geojson"), "w") as f:
        json.dump({"type": "FeatureCollection", "name": "demand", "features": features}, f, ensure_ascii=False)
    for name in ("samsoe-osm.gpkg", "samsoe_sogne.geojson"):
        shutil.copyfile(os.path.join(SAMPLE, name), os.path.join(o.out, name))
    with open(os.path.join(o.out, "study.yaml"), "w") as f:
        f.write(STUDY.format(points=o.points, seed=o.seed))
    print(f"{o.out}: {len(features)} demand points, {sum(1 for x in features if x['properties']['name'])} named, "
          f"{sum(x['properties']['population'] for x in features)} inhabitants")


STUDY = """# A kommune-sized test study: {points} random demand points (seed {seed}) inside the Samsø parishes,
# with the sample's roads and facilities. Written by scripts/make_kommune_study.py.
name: Samsø, {points} adresser
description: Testdata i kommunestørrelse (tilfældige punkter)
crs: EPSG:25832
language: da

categories:
  hall:         {{ da: Forsamlingshus, en: Community hall }}
  school:       {{ da: Skole,          en: School }}
  shop:         {{ da: Dagligvarebutik, en: Grocery shop }}
  sports_hall:  {{ da: Idrætshal,      en: Sports hall }}
  library:      {{ da: Bibliotek,      en: Library }}
  childcare:    {{ da: Børnehave,      en: Childcare }}
  townhall:     {{ da: Rådhus,         en: Town hall }}
  doctor:       {{ da: Læge,           en: Doctor }}
  church:       {{ da: Kirke,          en: Church }}
  music_school: {{ da: Musikskole,     en: Music school }}

layers:
  areas:
    source: samsoe_sogne.geojson
    dissolve: SOGNEKODE
    fields: {{ id: SOGNEKODE, name: SOGNENAVN }}
  demand:
    source: demand.geojson
    fields: {{ id: id, name: name, weight: population }}
  facilities:
    source: samsoe-osm.gpkg
    layer: facilities
    fields: {{ id: osm_id, name: name, category: category }}
  roads:
    source: samsoe-osm.gpkg
    layer: roads
    fields: {{ id: osm_id, class: highway, maxspeed: maxspeed, oneway: oneway, name: name }}

checks:
  max_outside_m: 1000

coverage:
  default:  {{ minutes: 15, mode: car }}
  hall:     {{ minutes: 10, mode: car }}
  shop:     {{ minutes: 10, mode: car }}
  school:   {{ minutes: 15, mode: car }}
  library:  {{ minutes: 20, mode: car }}
"""

if __name__ == "__main__":
    main()
