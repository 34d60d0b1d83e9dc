#!/usr/bin/env python3
"""Writes data/samsoe/erhverv.geojson: the businesses of the OSM extract as a fact layer for the sample.

Points (OSM nodes) tagged as a shop, a craft, a café, restaurant or pub, or tourist accommodation, with
0/1 fields `butik`, `spisested` and `overnatning` so the study can sum them per village, area and cluster.
Read with ogr2ogr from data/samsoe/samsoe-2020-03-09.osm.pbf (© OpenStreetMap contributors, ODbL); nothing added.

Usage: make_samsoe_businesses.py
"""
import json
import os
import re
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "samsoe")
SQL = ("SELECT osm_id, name, other_tags FROM points WHERE other_tags LIKE '%\"shop\"=>%' OR other_tags LIKE '%\"craft\"=>%' "
       "OR other_tags LIKE '%\"amenity\"=>\"restaurant\"%' OR other_tags LIKE '%\"amenity\"=>\"cafe\"%' OR other_tags LIKE '%\"amenity\"=>\"pub\"%' "
       "OR other_tags LIKE '%\"tourism\"=>%'")
ACCOMMODATION = {"hotel", "guest_house", "hostel", "camp_site", "caravan_site", "chalet", "apartment", "motel"}
r = subprocess.run(["ogr2ogr", "-f", "GeoJSON", "/vsistdout/", os.path.join(DATA, "samsoe-2020-03-09.osm.pbf"), "-sql", SQL],
                   capture_output=True, text=True, check=True)
features = []
for f in json.loads(r.stdout)["features"]:
    tags = dict(re.findall(r'"([^"]+)"=>"([^"]*)"', f["properties"].get("other_tags") or ""))
    shop, craft, amenity, tourism = tags.get("shop"), tags.get("craft"), tags.get("amenity"), tags.get("tourism")
    if tourism and tourism not in ACCOMMODATION and not (shop or craft or amenity in ("restaurant", "cafe", "pub")):
        continue  # viewpoints, information boards, attractions: not businesses
    kind = shop and f"shop={shop}" or craft and f"craft={craft}" or amenity in ("restaurant", "cafe", "pub") and f"amenity={amenity}" or f"tourism={tourism}"
    features.append({"type": "Feature", "geometry": f["geometry"], "properties": {
        "osm_id": f"node/{f['properties']['osm_id']}", "name": f["properties"].get("name"), "kind": kind,
        "butik": 1 if (shop or craft) else 0, "spisested": 1 if amenity in ("restaurant", "cafe", "pub") else 0,
        "overnatning": 1 if tourism in ACCOMMODATION else 0}})
features.sort(key=lambda f: f["properties"]["osm_id"])
with open(os.path.join(DATA, "erhverv.geojson"), "w", encoding="utf-8") as out:
    json.dump({"type": "FeatureCollection", "features": features}, out, ensure_ascii=False)
print(f"wrote {len(features)} businesses")
