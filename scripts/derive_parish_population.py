#!/usr/bin/env python3
"""Derives an estimated population per Danish parish (sogn) from the bundled national layers, for benchmarks.

Parish populations are not in the bundled data, so this estimates them (see data/README.md, "denmark/"):
1. Parishes (`sogne_dk.geojson`) are repaired (shapely make_valid, polygons kept) and dissolved by
   (SOGNEKODE, SOGNENAVN) -- islets join their parish. Work is done in EPSG:25832 (metres).
2. Each parish belongs to the kommune (`kommuner_dk.geojson`) that holds the largest part of its area.
3. Each kommune's total is its SSI population (`Befolkningstal` in `ssi_Municipality_test_pos.csv`); SSI codes
   ("101") are matched to DAGI codes ("0101") after padding to four digits.
4. GeoNames towns (`dk_geonames_cities500.geojson`, points) add their population to the parish they lie in
   (a town just outside every parish, i.e. on a generalised coastline, goes to the nearest parish within
   SNAP_METRES). When a kommune's towns sum to more than its SSI total they are scaled down to 90 % of it.
5. The rest of the kommune's total is spread over all its parishes in proportion to area ("rural density").
6. Populations are rounded to whole people by largest remainder within each kommune, so each kommune sums
   exactly to its SSI total (ties broken by parish code, then name: deterministic).

Reads only data/denmark/ next to this script's folder; writes data/denmark/sogne_befolkning.csv with columns
sognekode,sognenavn,kommunekode,population,town_population,area_km2 (kommunekode in DAGI's four-digit form;
town_population is the possibly scaled GeoNames part, rounded; area_km2 of the dissolved parish).
Problems (unmatched kommuner, towns outside every parish, a code with two names) go to stderr.

Usage: derive_parish_population.py
"""
import csv
import math
import os
import sys
import warnings

import geopandas as gpd
import pandas as pd
import shapely

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "data", "denmark"))
OUT = os.path.join(DATA, "sogne_befolkning.csv")
CRS = 25832
SNAP_METRES = 1000.0  # a town point further than this from every parish is left out (and reported)
TOWN_CAP = 0.9        # towns may hold at most this share of a kommune's total when they overshoot it

warnings.filterwarnings("ignore")


def warn(message):
    print(f"derive_parish_population: {message}", file=sys.stderr)


def ssi_populations(path):
    """{four-digit kommune code: (name, population)} from SSI's Danish-formatted CSV."""
    table = pd.read_csv(path, sep=";", dtype=str, encoding="utf-8")
    out = {}
    for _, row in table.iterrows():
        code = row["Kommune_(id)"].strip().zfill(4)
        population = int(row["Befolkningstal"].strip().replace(".", ""))
        out[code] = (row["Kommune_(navn)"].strip(), population)
    return out


def largest_remainder(values, total, order):
    """Whole numbers summing to `total`, each the floor of its value or one more; the largest fractional
    parts get the extra units, ties by `order` (a list of sort keys)."""
    floors = [math.floor(v) for v in values]
    left = total - sum(floors)
    ranked = sorted(range(len(values)), key=lambda i: (-(values[i] - floors[i]), order[i]))
    if not 0 <= left <= len(values):
        raise ValueError(f"cannot round {sum(values)} to {total}")
    for i in ranked[:left]:
        floors[i] += 1
    return floors


def main():
    # 1. Parishes, repaired and dissolved.
    parishes = gpd.read_file(os.path.join(DATA, "sogne_dk.geojson")).to_crs(CRS)
    parishes["geometry"] = shapely.make_valid(parishes.geometry.values, method="structure", keep_collapsed=False)
    names = parishes.groupby("SOGNEKODE")["SOGNENAVN"].unique()
    for code, found in names.items():
        if len(found) > 1:
            warn(f"SOGNEKODE {code} carries {len(found)} names ({', '.join(sorted(found))}); "
                 f"each name is kept as its own parish")
    parishes = (parishes[["SOGNEKODE", "SOGNENAVN", "geometry"]]
                .dissolve(by=["SOGNEKODE", "SOGNENAVN"], as_index=False)
                .sort_values(["SOGNEKODE", "SOGNENAVN"]).reset_index(drop=True))
    parishes["area"] = parishes.geometry.area

    # 2. Kommune of each parish: the one holding the largest part of its area.
    kommuner = gpd.read_file(os.path.join(DATA, "kommuner_dk.geojson")).to_crs(CRS)
    kommuner["geometry"] = shapely.make_valid(kommuner.geometry.values, method="structure", keep_collapsed=False)
    kommuner = (kommuner[["KOMKODE", "KOMNAVN", "geometry"]].dissolve(by="KOMKODE", as_index=False)
                .sort_values("KOMKODE").reset_index(drop=True))
    pieces = gpd.overlay(parishes.reset_index()[["index", "geometry"]], kommuner[["KOMKODE", "geometry"]],
                         how="intersection", keep_geom_type=True)
    pieces["piece"] = pieces.geometry.area
    pieces = pieces.sort_values(["index", "piece", "KOMKODE"], ascending=[True, False, True])
    best = pieces.drop_duplicates("index").set_index("index")["KOMKODE"]
    parishes["kommune"] = best.reindex(parishes.index)
    missing = parishes["kommune"].isna()
    if missing.any():  # no overlap at all: the nearest kommune
        near = gpd.sjoin_nearest(parishes[missing][["geometry"]], kommuner[["KOMKODE", "geometry"]])
        near = near[~near.index.duplicated()]
        parishes.loc[missing, "kommune"] = near["KOMKODE"]
        warn(f"{int(missing.sum())} parishes overlap no kommune; given to the nearest one")

    # 3. SSI totals, matched by padded code.
    ssi = ssi_populations(os.path.join(DATA, "ssi_Municipality_test_pos.csv"))
    dagi = dict(zip(kommuner["KOMKODE"], kommuner["KOMNAVN"]))
    for code in sorted(set(ssi) - set(dagi)):
        warn(f"SSI kommune {code} {ssi[code][0]} ({ssi[code][1]} people) has no DAGI kommune; its people are left out")
    for code in sorted(set(dagi) - set(ssi)):
        warn(f"DAGI kommune {code} {dagi[code]} has no SSI population; its parishes get GeoNames towns only")
    held = set(parishes["kommune"])
    for code in sorted(set(ssi) & set(dagi) - held):
        warn(f"kommune {code} {dagi[code]} holds the largest part of no parish; its {ssi[code][1]} people are left out")

    # 4. Towns into parishes.
    towns = gpd.read_file(os.path.join(DATA, "dk_geonames_cities500.geojson")).to_crs(CRS)
    towns = towns.sort_values("geonameid").reset_index(drop=True)
    inside = gpd.sjoin(towns[["geonameid", "name", "population", "geometry"]],
                       parishes[["geometry"]], how="left", predicate="within")
    inside = inside[~inside.index.duplicated()]
    towns["parish"] = inside["index_right"]
    outside = towns["parish"].isna()
    if outside.any():
        near = gpd.sjoin_nearest(towns[outside][["geometry"]], parishes[["geometry"]],
                                 max_distance=SNAP_METRES, distance_col="metres")
        near = near[~near.index.duplicated()]
        for i in towns[outside].index:
            town = towns.loc[i]
            if i in near.index:
                towns.loc[i, "parish"] = near.loc[i, "index_right"]
                warn(f"town {town['name']} ({town['population']}) lies {near.loc[i, 'metres']:.0f} m outside every "
                     f"parish; given to the nearest ({parishes.loc[near.loc[i, 'index_right'], 'SOGNENAVN']})")
            else:
                warn(f"town {town['name']} ({town['population']}) lies more than {SNAP_METRES:.0f} m from every "
                     f"parish; left out")
    towns = towns[towns["parish"].notna()]
    town_sum = towns.groupby(towns["parish"].astype(int))["population"].sum()
    parishes["towns"] = town_sum.reindex(parishes.index).fillna(0).astype(float)

    # 5.-6. Spread each kommune's total and round.
    parishes["town_population"] = 0.0
    parishes["population"] = 0
    scaled = []
    for code, group in parishes.groupby("kommune", sort=True):
        towns_here = group["towns"].sum()
        if code not in ssi:
            parishes.loc[group.index, "town_population"] = group["towns"]
            parishes.loc[group.index, "population"] = group["towns"].round().astype(int)
            continue
        total = ssi[code][1]
        factor = 1.0
        if towns_here > total:
            factor = TOWN_CAP * total / towns_here
            scaled.append(f"{code} {dagi[code]} (towns {towns_here:.0f} > {total}, ×{factor:.3f})")
        town_part = group["towns"] * factor
        rural = total - town_part.sum()
        values = town_part + rural * group["area"] / group["area"].sum()
        order = list(zip(group["SOGNEKODE"], group["SOGNENAVN"]))
        parishes.loc[group.index, "town_population"] = town_part
        parishes.loc[group.index, "population"] = largest_remainder(list(values), total, order)

    with open(OUT, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["sognekode", "sognenavn", "kommunekode", "population", "town_population", "area_km2"])
        for _, p in parishes.iterrows():
            out.writerow([p["SOGNEKODE"], p["SOGNENAVN"], p["kommune"], int(p["population"]),
                          int(round(p["town_population"])), f"{p['area'] / 1e6:.3f}"])

    matched = len(set(ssi) & set(dagi) & held)
    print(f"{len(parishes)} parishes ({parishes['SOGNEKODE'].nunique()} codes) in {parishes['kommune'].nunique()} "
          f"kommuner; total population {int(parishes['population'].sum()):,} (SSI {sum(p for _, p in ssi.values()):,}); "
          f"kommuner matched SSI↔DAGI {matched} of {len(ssi)} SSI / {len(dagi)} DAGI; "
          f"{len(towns)} towns placed ({int(towns['population'].sum()):,} people before scaling)")
    if scaled:
        print(f"towns scaled to {TOWN_CAP:.0%} of the kommune total in {len(scaled)} kommuner: " + "; ".join(scaled))
    print(f"wrote {os.path.relpath(OUT, os.path.join(HERE, '..'))}")


if __name__ == "__main__":
    main()
