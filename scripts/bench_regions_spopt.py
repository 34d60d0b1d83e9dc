#!/usr/bin/env python3
"""The spopt side of the regions benchmark (`make bench`): the grids klynge-bench wrote, partitioned with PySAL
spopt's MaxPHeuristic (same population threshold, rook contiguity = the grid's shared edges) and Skater (same
number of regions, cell coordinates as attributes, so its regions are compact). Compares what each is judged by:
- max-p: the number of regions, Klynge's `count` against MaxPHeuristic;
- travel: population-weighted travel to the best hub of each region, computed here from the cost table for
  SKATER's regions, against Klynge's `travel` with the same k;
and the time of the solve alone on both sides (contiguity is given to both). Every spopt partition is checked
here for contiguity and the threshold. Skips when spopt is not installed.

Usage: bench_regions_spopt.py BENCH_FOLDER
"""
import json
import multiprocessing
import os
import sys
import time
import warnings

try:
    import geopandas as gpd
    import numpy as np
    from libpysal.weights import Rook
    from shapely.geometry import box
    from spopt.region import MaxPHeuristic, Skater
except ImportError as e:
    print(f"regions comparison skipped: {e}")
    sys.exit(0)

warnings.filterwarnings("ignore")
folder = sys.argv[1]
rows = json.load(open(os.path.join(folder, "regions.json")))
# spopt's max-p takes minutes on a few hundred cells; each spopt run gets this long, then is stopped and reported.
LIMIT_SECONDS = float(os.environ.get("KLYNGE_SPOPT_LIMIT", "600"))


def _run(kind, gdf, w, arg, queue):
    t0 = time.perf_counter()
    if kind == "maxp":
        model = MaxPHeuristic(gdf, w, attrs_name=["pop"], threshold_name="pop", threshold=arg, top_n=2)
    else:
        model = Skater(gdf, w, attrs_name=["x", "y"], n_clusters=arg, floor=1, trace=False)
    model.solve()
    queue.put((list(model.labels_), time.perf_counter() - t0))


def limited(kind, gdf, w, arg):
    """(labels, seconds), or None when spopt did not finish within LIMIT_SECONDS."""
    queue = multiprocessing.Queue()
    p = multiprocessing.Process(target=_run, args=(kind, gdf, w, arg, queue))
    p.start()
    p.join(LIMIT_SECONDS)
    if p.is_alive():
        p.terminate()
        p.join()
        return None
    return queue.get() if not queue.empty() else None


def contiguous(labels, side):
    """Each region connected through shared grid edges, found by a flood fill here."""
    n = side * side
    for region in set(labels):
        cells = [i for i in range(n) if labels[i] == region]
        seen, stack = {cells[0]}, [cells[0]]
        while stack:
            i = stack.pop()
            r, c = divmod(i, side)
            for j in ([i - side] if r > 0 else []) + ([i + side] if r + 1 < side else []) + \
                     ([i - 1] if c > 0 else []) + ([i + 1] if c + 1 < side else []):
                if labels[j] == region and j not in seen:
                    seen.add(j)
                    stack.append(j)
        if len(seen) != len(cells):
            return False
    return True


def travel(labels, cost):
    """Least summed cost to a hub inside each region (any cell of it), summed over regions."""
    total = 0.0
    for region in set(labels):
        cells = np.array([i for i in range(len(labels)) if labels[i] == region])
        sums = cost[np.ix_(cells, cells)].sum(axis=0)
        total += sums.min()
    return total


print("Regions against spopt (grids; the solve alone on both sides):")
for row in rows:
    side, k, threshold = row["side"], row["k"], row["threshold"]
    n = side * side
    pop = np.fromfile(os.path.join(folder, f"regions-{side}-population.f64"), "<f8")
    cost = np.fromfile(os.path.join(folder, f"regions-{side}-cost.f64"), "<f8").reshape(n, n)
    gdf = gpd.GeoDataFrame({"pop": pop, "x": [i % side for i in range(n)], "y": [i // side for i in range(n)]},
                           geometry=[box(i % side, i // side, i % side + 1, i // side + 1) for i in range(n)])
    w = Rook.from_dataframe(gdf, use_index=True, silence_warnings=True)

    answer = limited("maxp", gdf, w, threshold)
    if answer is None:
        print(f"  {n} cells, max-p ≥ {threshold} people: Klynge {row['maxp_regions']} regions in {row['maxp_seconds']:.2f} s; "
              f"spopt MaxPHeuristic did not finish in {LIMIT_SECONDS:.0f} s")
    else:
        labels, t_maxp = answer
        regions = len(set(labels))
        sums = {r: pop[[i for i in range(n) if labels[i] == r]].sum() for r in set(labels)}
        ok = contiguous(labels, side) and min(sums.values()) >= threshold
        print(f"  {n} cells, max-p ≥ {threshold} people: Klynge {row['maxp_regions']} regions in {row['maxp_seconds']:.2f} s; "
              f"spopt MaxPHeuristic {regions} regions in {t_maxp:.2f} s ({'valid' if ok else 'INVALID'}); "
              f"Klynge {t_maxp / max(row['maxp_seconds'], 1e-9):.0f}× faster")

    answer = limited("skater", gdf, w, k)
    klynge = row["travel"]
    if answer is None:
        print(f"  {n} cells, k = {k}: Klynge travel {klynge / 60:.0f} person-min in {row['travel_seconds']:.2f} s; "
              f"spopt Skater did not finish in {LIMIT_SECONDS:.0f} s")
        continue
    labels, t_sk = answer
    t = travel(labels, cost)
    ok = contiguous(labels, side) and len(set(labels)) == k
    print(f"  {n} cells, k = {k}: Klynge travel {klynge / 60:.0f} person-min in {row['travel_seconds']:.2f} s; "
          f"spopt Skater {t / 60:.0f} person-min in {t_sk:.2f} s ({'valid' if ok else 'INVALID'}); "
          f"Klynge {(1 - klynge / t) * 100:.1f} % less travel, {t_sk / max(row['travel_seconds'], 1e-9):.0f}× faster")
