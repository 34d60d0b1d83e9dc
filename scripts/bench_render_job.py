#!/usr/bin/env python3
"""The whole render job, as a user runs it, side by side with a geopandas + matplotlib peer.

Klynge: `klynge render STUDY --style coverage --category hall --paper A3 --dpi 300 -o OUT.png`, timed as a
process from start to exit (read the study, route, build the coverage layers, draw, write the PNG); best of N.

The peer draws the same map from the map's own styled layers: Klynge writes them once with `--geojson`
(RFC 7946, lon/lat, simplestyle properties, features in drawing order, `klynge_layer` naming the style layer).
Timed, best of N (start-up and imports excluded): read that GeoJSON with geopandas, project it to EPSG:25832,
draw one `plot` call per (klynge_layer, geometry kind) group with per-feature colour arrays (polygons: fill,
fill-opacity, stroke, stroke-opacity, stroke-width; lines: stroke, stroke-opacity, stroke-width; points:
marker-color, marker-size, marker-symbol), a text label (fontsize 9) beside each point with a `title`, a title,
on a page of the Klynge PNG's size at 300 dpi, and `savefig`. The canvas ignores the redraw geopandas asks for
after each plot call (with Agg, each would draw the whole page again), so the page is drawn once.
It does less than Klynge: no routing, no legend, scale bar or north arrow, no label placement or halos.

Only points' titles are drawn: Klynge gives every feature a `title`, falling back to its name, so roads and
parishes carry names the map does not print (--label-all prints them too).

Studies: the bundled sample (data/samsoe/study.yaml) and, per --points value, a scaled study written by
scripts/make_kommune_study.py into OUT_FOLDER/kommune-N (kept when it already has N points).
Figures go to OUT_FOLDER/render-job.json; the maps to OUT_FOLDER/render-*-{klynge,geopandas}.png.

Usage: bench_render_job.py KLYNGE_BINARY OUT_FOLDER [--runs N] [--points 4000,20000] [--label-all]
"""
import argparse
import json
import os
import re
import struct
import subprocess
import sys
import time

try:
    import geopandas as gpd
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import to_rgba_array
    from matplotlib.figure import Figure
    import numpy as np
except ImportError as e:
    print(f"geopandas/matplotlib comparison skipped: {e}")
    sys.exit(0)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, ".."))
STYLE, CATEGORY, PAPER, DPI = "coverage", "hall", "A3", 300
WORKING_CRS = "EPSG:25832"
# simplestyle marker-size as a marker diameter in points (Klynge draws circles of 3–11 pt radius by population
# and writes small, medium or large from the drawn radius).
MARKER_PT = {"small": 6.0, "medium": 10.0, "large": 16.0}
MARKER = {"circle": "o", "house": "p"}  # matplotlib has no house; a pentagon is the nearest


def parse_args():
    a = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    a.add_argument("klynge")
    a.add_argument("out")
    a.add_argument("--runs", type=int, default=3)
    a.add_argument("--points", default="4000,20000", help="scaled studies, comma-separated demand point counts ('' for none)")
    a.add_argument("--label-all", action="store_true", help="also label lines and polygons that carry a title")
    return a.parse_args()


def run_klynge(klynge, study, png, geojson=None):
    cmd = [klynge, "render", study, "--style", STYLE, "--category", CATEGORY, "--paper", PAPER, "--dpi", str(DPI), "-o", png]
    if geojson:
        cmd += ["--geojson", geojson]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)  # from the repo, so styles/ resolves
    t = time.perf_counter() - t0
    if r.returncode != 0:
        print(f"klynge failed ({r.returncode}): {' '.join(cmd)}")
        print(r.stderr)
        sys.exit(1)
    return t, r.stdout + r.stderr


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG")
    return struct.unpack(">II", head[16:24])


def study_name(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"name:\s*(.+?)\s*$", line)
            if m:
                return m.group(1).strip("\"'")
    return os.path.basename(os.path.dirname(path))


def kommune_study(folder, points):
    """OUT_FOLDER/kommune-N/study.yaml, written by make_kommune_study.py unless it is there with N points."""
    study = os.path.join(folder, "study.yaml")
    demand = os.path.join(folder, "demand.geojson")
    if os.path.exists(study) and os.path.exists(demand):
        with open(study, encoding="utf-8") as f:
            m = re.search(r"test study: (\d+) random demand points", f.readline())
        if m and int(m.group(1)) == points:
            return study
    r = subprocess.run([sys.executable, os.path.join(HERE, "make_kommune_study.py"), folder, "--points", str(points)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout + r.stderr)
        sys.exit(1)
    return study


def kind(geom_type):
    if geom_type in ("Polygon", "MultiPolygon"):
        return "polygon"
    if geom_type in ("LineString", "MultiLineString"):
        return "line"
    if geom_type in ("Point", "MultiPoint"):
        return "point"
    return None


def column(df, name, default):
    if name not in df.columns:
        return np.full(len(df), default, dtype=object)
    return df[name].where(df[name].notna(), default).to_numpy(dtype=object)


def rgba(df, color, opacity):
    """Per-feature RGBA from a simplestyle colour and opacity; transparent where the colour is missing."""
    colors = column(df, color, "none")
    alpha = column(df, opacity, 1.0).astype(float)
    out = to_rgba_array(["#00000000" if c == "none" else c for c in colors])
    out[:, 3] = np.where(colors == "none", 0.0, alpha)
    return out


class Canvas(FigureCanvasAgg):
    """Agg without idle redraws: geopandas asks for one after every plot call (draw_idle), and Agg then draws the
    whole page there and then; the page is drawn once, by savefig."""

    def draw_idle(self, *args, **kwargs):
        pass


def draw_peer(geojson, png, title, size_px, label_all):
    """The peer's timed work: read, project, draw, save. Returns the number of labels drawn."""
    gdf = gpd.read_file(geojson)
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty].to_crs(WORKING_CRS)
    kinds = gdf.geom_type.map(kind)
    layers = gdf["klynge_layer"] if "klynge_layer" in gdf.columns else np.full(len(gdf), "map", dtype=object)

    fig = Figure(figsize=(size_px[0] / DPI, size_px[1] / DPI), dpi=DPI)
    Canvas(fig)
    box = (0.04, 0.03, 0.92, 0.89)
    ax = fig.add_axes(box)
    ax.set_axis_off()
    fig.suptitle(title, x=0.04, y=0.975, ha="left", fontsize=20, fontweight="bold")
    # The frame: the areas (as Klynge's --frame study), else everything, padded to the axes' aspect.
    frame = gdf[layers == "areas"] if (layers == "areas").any() else gdf
    minx, miny, maxx, maxy = frame.total_bounds
    w, h = (maxx - minx) * 1.04, (maxy - miny) * 1.04
    aspect = (box[2] * size_px[0]) / (box[3] * size_px[1])
    w, h = max(w, h * aspect), max(h, w / aspect)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    ax.set_xlim(cx - w / 2, cx + w / 2)
    ax.set_ylim(cy - h / 2, cy + h / 2)
    ax.set_aspect("equal")

    # Groups in drawing order: by where each (layer, kind) first appears; rows keep their order within a group.
    keys = list(zip(layers, kinds))
    groups = {}
    for i, k in enumerate(keys):
        if k[1] is not None:
            groups.setdefault(k, []).append(i)
    labels = 0
    for z, ((_, k), rows) in enumerate(groups.items()):
        g = gdf.iloc[rows]
        if k == "polygon":
            g.plot(ax=ax, facecolor=rgba(g, "fill", "fill-opacity"), edgecolor=rgba(g, "stroke", "stroke-opacity"),
                   linewidth=column(g, "stroke-width", 0.0).astype(float), zorder=z, aspect=None)
        elif k == "line":
            g.plot(ax=ax, color=rgba(g, "stroke", "stroke-opacity"), linewidth=column(g, "stroke-width", 1.0).astype(float),
                   zorder=z, aspect=None)
        else:
            diameter = np.array([MARKER_PT.get(s, MARKER_PT["small"]) for s in column(g, "marker-size", "small")])
            symbols = column(g, "marker-symbol", "circle")
            symbol = max(set(symbols), key=list(symbols).count)
            if symbol != "circle":
                diameter = diameter * 2  # icons are drawn larger than dots
            g.plot(ax=ax, color=rgba(g, "marker-color", "marker-opacity"), markersize=diameter ** 2,
                   marker=MARKER.get(symbol, "o"), edgecolor="white", linewidth=0.8, zorder=z, aspect=None)
        if "title" in g.columns and (k == "point" or label_all):
            titled = g[g["title"].notna() & (g["title"] != "")]
            for geom, text in zip(titled.geometry, titled["title"]):
                p = geom if geom.geom_type == "Point" else geom.representative_point()
                ax.annotate(text, (p.x, p.y), xytext=(5, 0), textcoords="offset points", fontsize=9, va="center",
                            zorder=len(groups) + 1, annotation_clip=True)
                labels += 1
    fig.savefig(png, dpi=DPI)
    return labels


def best_of(n, f):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times), times


def main():
    o = parse_args()
    klynge = os.path.abspath(o.klynge)
    out = os.path.abspath(o.out)
    os.makedirs(out, exist_ok=True)
    points = [int(p) for p in o.points.split(",") if p.strip()]
    load_start = os.getloadavg()
    mtime = lambda: time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(os.path.getmtime(klynge)))
    klynge_mtime = mtime()

    studies = [("sample", os.path.join(REPO, "data", "samsoe", "study.yaml"), None)]
    for n in points:
        studies.append((f"kommune-{n}", kommune_study(os.path.join(out, f"kommune-{n}"), n), n))

    results = []
    for key, study, n in studies:
        load_before = os.getloadavg()
        png = os.path.join(out, f"render-{key}-klynge.png")
        geojson = os.path.join(out, f"render-{key}.geojson")
        peer_png = os.path.join(out, f"render-{key}-geopandas.png")

        geojson_seconds, log = run_klynge(klynge, study, png, geojson)
        m = re.search(r"(\d+) labels", log)
        klynge_labels = int(m.group(1)) if m else None
        klynge_best, klynge_runs = best_of(o.runs, lambda: run_klynge(klynge, study, png))
        size = png_size(png)

        with open(geojson, encoding="utf-8") as f:
            fc = json.load(f)
        counts = {}
        for feat in fc["features"]:
            layer = feat["properties"].get("klynge_layer", "?")
            counts[layer] = counts.get(layer, 0) + 1
        demand = n if n is not None else counts.get("villages", 0)
        title = study_name(study)

        labels = [0]
        peer_best, peer_runs = best_of(o.runs, lambda: labels.__setitem__(0, draw_peer(geojson, peer_png, title, size, o.label_all)))
        ratio = peer_best / klynge_best
        what = f"sample ({demand} villages)" if n is None else f"{key} ({demand:,} demand points)"
        print(f"render {STYLE} {PAPER} {DPI} dpi, {what}: Klynge {klynge_best:.2f} s, "
              f"geopandas+matplotlib {peer_best:.2f} s → {ratio:.1f}×", flush=True)
        results.append({
            "study": key, "path": study, "demand_points": demand,
            "klynge_seconds": round(klynge_best, 4), "klynge_runs": [round(t, 4) for t in klynge_runs],
            "klynge_geojson_seconds": round(geojson_seconds, 4), "klynge_labels": klynge_labels,
            "peer_seconds": round(peer_best, 4), "peer_runs": [round(t, 4) for t in peer_runs], "peer_labels": labels[0],
            "ratio": round(ratio, 3), "png_px": list(size),
            "geojson_bytes": os.path.getsize(geojson), "geojson_features": len(fc["features"]), "feature_counts": counts,
            "loadavg_before": list(load_before), "loadavg_after": list(os.getloadavg()),
        })

    report = {
        "job": f"klynge render STUDY --style {STYLE} --category {CATEGORY} --paper {PAPER} --dpi {DPI} -o OUT.png",
        "peer": "geopandas read_file + to_crs + one plot per (layer, kind) + labels + savefig",
        "klynge": klynge, "klynge_mtime": klynge_mtime,
        "runs": o.runs, "label_all": o.label_all, "cpus": os.cpu_count(),
        "geopandas": gpd.__version__, "matplotlib": matplotlib.__version__,
        "loadavg_start": list(load_start), "loadavg_end": list(os.getloadavg()),
        "studies": results,
    }
    if mtime() != klynge_mtime:
        report["klynge_mtime_end"] = mtime()
        print(f"note: {klynge} changed during the benchmark ({klynge_mtime} → {mtime()})")
    path = os.path.join(out, "render-job.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(report, f, ensure_ascii=False, indent=2)
    print(f"load average {load_start[0]:.2f} at start, {report['loadavg_end'][0]:.2f} at end; figures in {path}")


if __name__ == "__main__":
    main()
