#!/usr/bin/env python3
"""Independent check of `klynge import-osm` against pyosmium (libosmium, not GDAL).

Usage: check_osm_import.py KLYNGE_BINARY EXTRACT.osm.pbf

Runs the import into a temporary GeoPackage, reads its tables with sqlite3, and compares with
what pyosmium finds in the extract: road ways, settlements and their population, and that every
OSM element matching the tag table is a facility exactly once (itself or merged into another).
Prints 'N passed, N failed'; exits 1 on a failure. Skips (exit 0) when pyosmium is missing.
"""
import os
import re
import sqlite3
import subprocess
import sys
import tempfile

from oracle import Checks

try:
    import osmium
    import yaml
except ImportError as e:  # pragma: no cover
    print(f"skipped: {e}")
    sys.exit(0)

klynge, pbf = sys.argv[1], sys.argv[2]
table = yaml.safe_load(subprocess.run([klynge, "import-osm", "--print-tags"], check=True,
                                      capture_output=True, text=True).stdout)
POLY_KEYS = {"aeroway", "amenity", "boundary", "building", "craft", "geological", "historic", "landuse",
             "leisure", "military", "natural", "office", "place", "shop", "sport", "tourism"}


def category(tags):
    for rule in table["facilities"]:
        key, values = rule["match"].split("=", 1)
        v = tags.get(key)
        if v is None or (values != "*" and v not in values.split("|")):
            continue
        if rule.get("name_matches") and not re.search(rule["name_matches"].replace("(?i)", ""),
                                                      tags.get("name", ""), re.I if "(?i)" in rule["name_matches"] else 0):
            continue
        return rule["category"]
    return None


class Scan(osmium.SimpleHandler):
    def __init__(self):
        super().__init__()
        self.roads = 0
        self.place_nodes = {}
        self.place_areas = {}
        self.facilities = {}

    def node(self, n):
        t = dict(n.tags)
        if t.get("place") in table["places"]:
            self.place_nodes[f"node/{n.id}"] = (t.get("name", ""), t.get("population"))
        c = category(t)
        if c:
            self.facilities[f"node/{n.id}"] = c

    def way(self, w):
        t = dict(w.tags)
        closed = len(w.nodes) >= 4 and w.nodes[0].ref == w.nodes[-1].ref
        is_area = closed and (t.get("area") == "yes" or any(k in POLY_KEYS for k in t)
                              or t.get("highway") == "platform")
        if "highway" in t and t["highway"] not in table["road_exclude"] and not is_area and len(w.nodes) >= 2:
            self.roads += 1
        if is_area:
            if t.get("place") in table["places"]:
                self.place_areas[f"way/{w.id}"] = (t.get("name", ""), t.get("population"))
            c = category(t)
            if c:
                self.facilities[f"way/{w.id}"] = c

    def relation(self, r):
        t = dict(r.tags)
        if t.get("type") in ("multipolygon", "boundary"):
            if t.get("place") in table["places"]:
                self.place_areas[f"relation/{r.id}"] = (t.get("name", ""), t.get("population"))
            c = category(t)
            if c:
                self.facilities[f"relation/{r.id}"] = c


scan = Scan()
scan.apply_file(pbf)

checks = Checks()
check = checks.check


with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "import.gpkg")
    subprocess.run([klynge, "import-osm", pbf, "-o", out], check=True, capture_output=True)
    db = sqlite3.connect(out)
    roads = db.execute("select count(*) from roads").fetchone()[0]
    check("road count", roads == scan.roads, f"klynge {roads}, osmium {scan.roads}")

    places = dict(db.execute("select osm_id, population from places").fetchall())
    node_names = {n for n, _ in scan.place_nodes.values()}
    expected = dict(scan.place_nodes)
    expected.update({k: v for k, v in scan.place_areas.items() if v[0] not in node_names})
    check("place ids", set(places) == set(expected),
          f"only klynge {sorted(set(places) - set(expected))}, only osmium {sorted(set(expected) - set(places))}")
    for osm_id, (name, pop) in expected.items():
        want = int(pop) if pop and pop.isdigit() else None
        check(f"population of {osm_id} {name}", places.get(osm_id) == want, f"klynge {places.get(osm_id)}, osmium {want}")

    rows = db.execute("select osm_id, category, merged_osm_ids from facilities").fetchall()
    seen = {}
    for osm_id, cat, merged in rows:
        for i in [osm_id] + (merged.split(";") if merged else []):
            seen[i] = seen.get(i, 0) + 1
            check(f"category of {i}", scan.facilities.get(i) == cat, f"klynge {cat}, osmium {scan.facilities.get(i)}")
    check("every tagged facility exactly once", set(seen) == set(scan.facilities) and all(v == 1 for v in seen.values()),
          f"missing {sorted(set(scan.facilities) - set(seen))}, extra {sorted(set(seen) - set(scan.facilities))}")

    # The same extract as OSM XML, plain and gzipped (written by libosmium): the same layers.
    def counts(path):
        c = sqlite3.connect(path)
        return [c.execute(f"select count(*) from {t}").fetchone()[0] for t in ("roads", "places", "facilities")]

    reference = counts(out)
    for name in ("extract.osm", "extract.osm.gz"):
        xml = os.path.join(tmp, name)
        writer = osmium.SimpleWriter(xml)
        for obj in osmium.FileProcessor(pbf):
            writer.add(obj)
        writer.close()
        converted = os.path.join(tmp, name + ".gpkg")
        subprocess.run([klynge, "import-osm", xml, "-o", converted], check=True, capture_output=True)
        check(f"{name} gives the same layers as the PBF", counts(converted) == reference,
              f"{counts(converted)} vs {reference}")

checks.finish()
