#!/usr/bin/env python3
"""Independent check of `klynge matrix` (distance mode) against scipy's Dijkstra.

Usage: check_matrix_scipy.py KLYNGE_BINARY STUDY.yaml

Exports the study's roads (working CRS, WKT), builds its own vertex graph from the line
segments (vertices joined where their coordinates are equal), and compares:
  1. origins and destinations exactly on road vertices: within 0.5 m (or 0.01 %);
  2. arbitrary points: leg to the nearest segment + network + leg, within 1 m.
Prints 'N passed, N failed'; exits 1 on a failure; skips when numpy/scipy are missing.
"""
import csv
import os
import random
import re
import subprocess
import sys
import tempfile

from oracle import Checks

try:
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components, dijkstra
except ImportError as e:  # pragma: no cover
    print(f"skipped: {e}")
    sys.exit(0)

klynge, study = sys.argv[1], sys.argv[2]
csv.field_size_limit(1 << 30)
checks = Checks()
check = checks.check


def run(args):
    r = subprocess.run([klynge] + args, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"klynge {' '.join(args)} failed:\n{r.stderr}")
    return r


with tempfile.TemporaryDirectory() as tmp:
    roads_csv = os.path.join(tmp, "roads.csv")
    run(["export", study, "--layer", "roads", "-o", roads_csv])
    index, xy, segs = {}, [], []
    with open(roads_csv, newline="") as f:
        for row in csv.DictReader(f):
            for part in re.findall(r"\(([^()]+)\)", row["WKT"]):
                pts = [tuple(p.split()) for p in part.split(",")]
                ids = []
                for p in pts:
                    key = (p[0].strip(), p[1].strip())
                    if key not in index:
                        index[key] = len(xy)
                        xy.append((float(key[0]), float(key[1])))
                    ids.append(index[key])
                segs += [(a, b) for a, b in zip(ids, ids[1:]) if a != b]
    xy = np.array(xy)
    a = np.array([s[0] for s in segs]); b = np.array([s[1] for s in segs])
    w = np.hypot(*(xy[a] - xy[b]).T)
    n = len(xy)
    graph = coo_matrix((np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(n, n)).tocsr()
    ncomp, labels = connected_components(graph, directed=False)
    main = np.bincount(labels).argmax()
    in_main = np.flatnonzero(labels == main)
    rng = random.Random(42)

    def write_points(path, pts):
        with open(path, "w") as f:
            f.write("id,WKT\n")
            for i, (x, y) in enumerate(pts):
                f.write(f'{i},"POINT ({float(x)!r} {float(y)!r})"\n')

    def klynge_matrix(origins, dests):
        o, d, m = (os.path.join(tmp, n) for n in ("o.csv", "d.csv", "m.csv"))
        write_points(o, origins)
        write_points(d, dests)
        run(["matrix", "--roads", roads_csv, "--from", o, "--to", d, "--from-id", "id", "--to-id", "id",
             "--mode", "distance", "--assume-crs", "EPSG:25832", "--crs", "EPSG:25832", "-o", m])
        out = {}
        with open(m, newline="") as f:
            for row in csv.DictReader(f):
                out[(int(row["from_id"]), int(row["to_id"]))] = float(row["distance_m"]) if row["distance_m"] else None
        return out

    # 1. Vertex to vertex.
    ov = rng.sample(list(in_main), 150)
    dv = rng.sample(list(in_main), 15)
    got = klynge_matrix([tuple(xy[v]) for v in ov], [tuple(xy[v]) for v in dv])
    ref = dijkstra(graph, directed=False, indices=dv)  # rows: destinations
    for i, o in enumerate(ov):
        for j, d in enumerate(dv):
            want = ref[j, o]
            g = got.get((i, j))
            check(f"vertex {o}->{d}", g is not None and abs(g - want) <= max(0.5, want * 1e-4), f"klynge {g}, scipy {want}")

    # 2. Arbitrary points near the roads: leg + network + leg.
    main_segs = np.flatnonzero(labels[a] == main)
    def nearest(p):
        pa, pb = xy[a[main_segs]], xy[b[main_segs]]
        d = pb - pa
        t = np.clip(((p - pa) * d).sum(1) / np.maximum((d * d).sum(1), 1e-12), 0, 1)
        q = pa + t[:, None] * d
        dist = np.hypot(*(q - p).T)
        k = dist.argmin()
        s = main_segs[k]
        seg = w[s]
        return dist[k], [(a[s], t[k] * seg), (b[s], (1 - t[k]) * seg)], s, t[k]

    lo, hi = xy[in_main].min(0), xy[in_main].max(0)
    def random_point():
        v = xy[rng.choice(list(in_main))]
        return v + np.array([rng.uniform(-300, 300), rng.uniform(-300, 300)])
    op = [random_point() for _ in range(60)]
    dp = [random_point() for _ in range(8)]
    got = klynge_matrix([tuple(p) for p in op], [tuple(p) for p in dp])
    dsnap = [nearest(p) for p in dp]
    ends = sorted({v for _, e, _, _ in dsnap for v, _ in e})
    ref = dijkstra(graph, directed=False, indices=ends)
    row = {v: i for i, v in enumerate(ends)}
    for i, p in enumerate(op):
        leg_o, ends_o, seg_o, t_o = nearest(p)
        for j, (leg_d, ends_d, seg_d, t_d) in enumerate(dsnap):
            net = min(eo + ref[row[vd], vo] + ed for vo, eo in ends_o for vd, ed in ends_d)
            if seg_o == seg_d:
                net = min(net, abs(t_o - t_d) * w[seg_o])
            want = leg_o + net + leg_d
            g = got.get((i, j))
            if leg_o > 1000 or leg_d > 1000:
                check(f"point {i}->{j} beyond the snap limit is empty", g is None, f"klynge {g}")
                continue
            check(f"point {i}->{j}", g is not None and abs(g - want) <= 1.0, f"klynge {g}, scipy {want}")

checks.finish()
