#!/usr/bin/env python3
"""The whole matrix job, as a user runs it, side by side with a scipy peer (`make bench`).

Klynge: `klynge matrix --roads job-roads.gpkg --from job-origins.csv --to job-destinations.csv -o out.csv`, timed
as a process (read the files, build the graph, snap 20,200 points to the nearest edge, search, write the CSV).

The peer does the same job with numpy/scipy, as a careful analyst would: read the same points and the identical
car graph (klynge-bench wrote its arcs and node coordinates), snap each point to its nearest node (a k-d tree,
cheaper than snapping to edges), run scipy's Dijkstra from the destinations over the reversed graph on as many
processes as Klynge has threads, add the off-network legs, and write the CSV (plain Python lines, which beat pandas'
to_csv here). scipy carries
one weight, so the peer writes durations only: it does less than Klynge, which also gives the distance of each
fastest route. Values are compared on every pair reachable in both (they differ by the snapping only).

Usage: bench_matrix_job.py KLYNGE_BINARY BENCH_FOLDER
"""
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

try:
    import numpy as np
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra
    from scipy.spatial import cKDTree
except ImportError as e:
    print(f"matrix job comparison skipped: {e}")
    sys.exit(0)

klynge, folder = sys.argv[1], sys.argv[2]
meta = json.load(open(os.path.join(folder, "job.json")))
workers = meta["threads"]
roads = os.path.join(folder, "job-roads.gpkg")
origins_csv = os.path.join(folder, "job-origins.csv")
destinations_csv = os.path.join(folder, "job-destinations.csv")


def run_klynge(out):
    t0 = time.perf_counter()
    r = subprocess.run([klynge, "matrix", "--roads", roads, "--from", origins_csv, "--to", destinations_csv,
                        "--from-id", "id", "--to-id", "id", "--assume-crs", meta["crs"], "--crs", meta["crs"], "-o", out],
                       capture_output=True, text=True)
    t = time.perf_counter() - t0
    if r.returncode != 0:
        print(r.stderr)
        sys.exit(1)
    return t


_reverse = None


def _init(reverse):
    global _reverse
    _reverse = reverse


def _search(chunk):
    return dijkstra(_reverse, directed=True, indices=chunk)


def read_points(path):
    with open(path) as f:
        rows = list(csv.reader(f))[1:]
    ids = [r[0] for r in rows]
    xy = np.array([[float(r[1]), float(r[2])] for r in rows])
    return ids, xy


def run_peer(out):
    t0 = time.perf_counter()
    # Read: the graph (arcs in seconds, node coordinates) and the points.
    tails = np.fromfile(os.path.join(folder, "tails.i32"), "<i4")
    heads = np.fromfile(os.path.join(folder, "heads.i32"), "<i4")
    weights = np.fromfile(os.path.join(folder, "weights.f64"), "<f8")
    nodes = np.fromfile(os.path.join(folder, "nodes.f64"), "<f8").reshape(-1, 2)
    n = len(nodes)
    order = np.lexsort((weights, heads, tails))
    t, h, w = tails[order], heads[order], weights[order]
    first = np.ones(len(t), bool)
    first[1:] = (t[1:] != t[:-1]) | (h[1:] != h[:-1])
    reverse = csr_matrix((w[first], (h[first], t[first])), shape=(n, n))
    o_ids, o_xy = read_points(origins_csv)
    d_ids, d_xy = read_points(destinations_csv)
    # Snap: the nearest node that has an arc (the car graph's nodes), with the leg at the access speed.
    used = np.unique(np.concatenate([t, h]))
    tree = cKDTree(nodes[used])
    o_dist, o_k = tree.query(o_xy)
    d_dist, d_k = tree.query(d_xy)
    o_node, d_node = used[o_k], used[d_k]
    speed = meta["access_speed_kmh"] / 3.6
    # Search from the destinations over the reversed graph, in as many processes as Klynge has threads.
    chunks = np.array_split(d_node, workers)
    with ProcessPoolExecutor(workers, initializer=_init, initargs=(reverse,)) as pool:
        parts = list(pool.map(_search, chunks))
    seconds = np.vstack(parts)[:, o_node].T + o_dist[:, None] / speed + d_dist[None, :] / speed  # origins × destinations
    # Write.
    from_col = np.repeat(np.array(o_ids, dtype=object), len(d_ids))
    to_col = np.tile(np.array(d_ids, dtype=object), len(o_ids))
    values = seconds.ravel()
    # Plain Python lines: measured faster here than pandas' to_csv (8.8 s against 3.5 s on this job).
    with open(out, "w") as f:
        f.write("from_id,to_id,duration_s\n")
        f.writelines(f"{a},{b},{v:.2f}\n" for a, b, v in zip(from_col, to_col, values))
    return time.perf_counter() - t0, seconds, o_ids, d_ids


with tempfile.TemporaryDirectory() as tmp:
    ours = os.path.join(tmp, "klynge.csv")
    theirs = os.path.join(tmp, "peer.csv")
    run_klynge(ours)  # warm the file cache
    k_best = min(run_klynge(ours) for _ in range(3))
    p_runs = [run_peer(theirs) for _ in range(3)]
    p_best = min(r[0] for r in p_runs)
    _, seconds, o_ids, d_ids = p_runs[0]
    # Compare every pair reachable in both.
    o_index = {v: i for i, v in enumerate(o_ids)}
    d_index = {v: i for i, v in enumerate(d_ids)}
    diffs = []
    rows = 0
    with open(ours) as f:
        reader = csv.reader(f)
        next(reader)
        for a, b, _m, s in reader:
            rows += 1
            if s:
                p = seconds[o_index[a], d_index[b]]
                if np.isfinite(p):
                    diffs.append(abs(float(s) - p) / max(p, 1.0))
    diffs = np.array(diffs)
    print(f"Matrix job, {len(o_ids)} × {len(d_ids)} = {rows} rows, read + snap + search + write, {workers} threads/processes:")
    print(f"  klynge matrix: {k_best:.2f} s (best of 3)")
    print(f"  scipy peer (durations only): {p_best:.2f} s (best of 3)")
    print(f"  klynge is {p_best / k_best:.1f}× faster on the whole job")
    print(f"  values: median relative difference {np.median(diffs) * 100:.2f} % over {len(diffs)} pairs (node vs edge snapping)")
    # The two must compute the same thing, up to where the points join the roads.
    sys.exit(0 if len(diffs) > 0.9 * rows and np.median(diffs) < 0.05 else 1)
