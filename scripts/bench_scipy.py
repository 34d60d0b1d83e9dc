#!/usr/bin/env python3
"""The scipy side of `make bench`: the identical graph and node pairs that klynge-bench wrote,
timed with scipy.sparse.csgraph.dijkstra on the same number of worker processes as klynge's threads,
from the smaller side (the destinations, over the reversed graph). Checks a sample of values and
prints the speed ratio."""
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

try:
    import numpy as np
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra
except ImportError as e:
    print(f"scipy comparison skipped: {e}")
    sys.exit(0)

folder = sys.argv[1]
def load(name, dtype):
    return np.fromfile(os.path.join(folder, name), dtype=dtype)

meta = json.load(open(os.path.join(folder, "klynge.json")))
n = meta["nodes"]
tails, heads, weights = load("tails.i32", "<i4"), load("heads.i32", "<i4"), load("weights.f64", "<f8")
origins, destinations = load("origins.i32", "<i4"), load("destinations.i32", "<i4")
# Parallel arcs: keep the cheapest (csr_matrix would add them up).
order = np.lexsort((weights, heads, tails))
t, h, w = tails[order], heads[order], weights[order]
first = np.ones(len(t), bool)
first[1:] = (t[1:] != t[:-1]) | (h[1:] != h[:-1])
# Reversed graph: searching from destinations gives the cost of reaching them.
reverse = csr_matrix((w[first], (h[first], t[first])), shape=(n, n))

def work(chunk):
    d = dijkstra(reverse, directed=True, indices=chunk)
    return d[:, origins]  # rows: these destinations, columns: every origin

workers = meta["threads"]
chunks = np.array_split(destinations, workers)
best = float("inf")
with ProcessPoolExecutor(workers) as pool:
    list(pool.map(work, chunks))  # warm the workers
    for _ in range(3):
        t0 = time.perf_counter()
        parts = list(pool.map(work, chunks))
        best = min(best, time.perf_counter() - t0)
values = np.vstack(parts)  # destinations × origins

bad = 0
sample = np.loadtxt(os.path.join(folder, "sample.csv"), delimiter=",", skiprows=1, ndmin=2)
for o, d, s in sample:
    if abs(values[int(d), int(o)] - s) > 1e-6 * max(1, s):
        bad += 1
pairs = len(origins) * len(destinations)
print(f"scipy dijkstra ({workers} processes): {pairs} pairs in {best:.3f} s ({pairs / best:.0f} pairs/s)")
print(f"values: {len(sample) - bad} of {len(sample)} sampled pairs agree with klynge")
print(f"klynge is {best / meta['seconds']:.1f}× faster than scipy on the identical graph and pairs")
sys.exit(1 if bad else 0)
