#!/usr/bin/env python3
"""The geopandas + matplotlib side of the map benchmark: the same layers klynge-bench drew
(out/bench/render-*.gpkg), drawn to the same A3 300-dpi PNG size, timed (drawing and saving only)
and compared with Klynge's times in render.json."""
import json
import os
import sys
import time

try:
    import geopandas as gpd
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError as e:
    print(f"geopandas/matplotlib comparison skipped: {e}")
    sys.exit(0)

folder = sys.argv[1]
meta = json.load(open(os.path.join(folder, "render.json")))
minx, miny, maxx, maxy = meta["extent"]
A3 = (841.89 / 72, 1190.55 / 72)  # inches


def frame():
    fig = plt.figure(figsize=A3, dpi=300)
    ax = fig.add_axes([0.04, 0.06, 0.92, 0.86])
    ax.set_xlim(minx - (maxx - minx) * 0.04, maxx + (maxx - minx) * 0.04)
    ax.set_ylim(miny - (maxy - miny) * 0.04, maxy + (maxy - miny) * 0.04)
    ax.set_aspect("equal")
    ax.set_facecolor("#dce8ee")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.suptitle("Samsø", x=0.04, ha="left", fontsize=20)
    return fig, ax


def best_of(n, draw):
    best = float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        draw()
        best = min(best, time.perf_counter() - t0)
    return best


# The Samsø coverage map: areas, isochrone bands, roads, villages coloured by time, village labels.
path = os.path.join(folder, "render-samsoe.gpkg")
layers = {n: gpd.read_file(path, layer=n) for n in ("areas", "isochrones", "roads", "coverage")}


def samsoe():
    fig, ax = frame()
    layers["areas"].plot(ax=ax, color="#f6f4ee", edgecolor="#c3b9a4", linewidth=0.5)
    iso = layers["isochrones"].sort_values("band", ascending=False)
    colors = iso["band"].map(lambda b: "#1a9850" if b < 0.75 else ("#91cf60" if b < 1.25 else "#fee08b"))
    iso.plot(ax=ax, color=colors, alpha=0.55)
    layers["roads"].plot(ax=ax, color="#8f877a", linewidth=0.6)
    cov = layers["coverage"]
    cov.plot(ax=ax, markersize=(cov["population"].fillna(0) / 20 + 10), color="#a6d96a", edgecolor="white", linewidth=1)
    for geom, name in zip(cov.geometry, cov["name"]):
        ax.annotate(name, (geom.x, geom.y), xytext=(5, 0), textcoords="offset points", fontsize=9, va="center")
    fig.savefig(os.path.join(folder, "render-samsoe-matplotlib.png"), dpi=300)
    plt.close(fig)


sample = best_of(3, samsoe)

path = os.path.join(folder, "render-scaled.gpkg")
scaled_layers = {n: gpd.read_file(path, layer=n) for n in ("areas", "roads", "points")}


def scaled():
    fig, ax = frame()
    scaled_layers["areas"].plot(ax=ax, color="#f4f1e8", edgecolor="#b9ae96", linewidth=0.5)
    scaled_layers["roads"].plot(ax=ax, color="#9d9484", linewidth=0.6)
    pts = scaled_layers["points"]
    pts.plot(ax=ax, markersize=4, color=pts["value"].map(lambda v: "#1a9850" if v < 10 else "#d73027"))
    fig.savefig(os.path.join(folder, "render-scaled-matplotlib.png"), dpi=300)
    plt.close(fig)


big = best_of(2, scaled)
n_scaled = sum(len(v) for v in scaled_layers.values())
print(f"geopandas+matplotlib: Samsø coverage map A3 300 dpi in {sample:.3f} s; scaled ({n_scaled} features) in {big:.3f} s")
print(f"Klynge is {sample / meta['sample_seconds']:.1f}× faster on the sample map and {big / meta['scaled_seconds']:.1f}× faster on the scaled map")
