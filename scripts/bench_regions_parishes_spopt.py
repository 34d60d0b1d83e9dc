#!/usr/bin/env python3
"""The spopt side of the national parish benchmark: the Danish parishes klynge-bench wrote (`parishes.json`, with
`parishes-cost.f64`), partitioned with PySAL spopt's MaxPHeuristic (same population threshold, the same
neighbour lists as Klynge) and Skater (same number of regions, the parishes' EPSG:25832 points as attributes, so
its regions are compact). Compares what each is judged by:
- max-p: the number of regions, Klynge's `maxp_regions` against MaxPHeuristic;
- travel: population-weighted travel to the best hub of each region, computed here from the cost table for
  SKATER's regions, against Klynge's `travel` with the same k;
and the time of the solve alone on both sides (the contiguity is given to both). Every spopt partition is
checked here, under the given neighbour lists, for connected regions and (max-p) the threshold.

Islands. Parishes form several separate groups under rook contiguity (islands, fjords, harbour channels);
a region cannot cross from one group to another. They are treated as Klynge treats them -- each group is a
region or several, never part of one with another group:
- Skater gets `islands="ignore"`: every group is at least one region and counts towards k (spopt's default,
  "increase", would return k + groups regions).
- MaxPHeuristic: a group whose population is below the threshold cannot hold a valid region; Klynge refuses
  it, and spopt's default policy ("single") would join it to the largest group by an invented link between
  centroids, which breaks contiguity under the given lists. Such groups are left out of spopt's max-p and
  reported, so klynge-bench should leave them out too. A parish with no neighbour that meets the threshold
  alone is a region by itself (spopt cannot seed a region from a parish without neighbours: it would end
  as an enclave no region can take) and is added to spopt's count. The rest runs with policy="keep".
If the lists form one group, none of this applies.

Each spopt run is a separate process, stopped after KLYNGE_SPOPT_LIMIT seconds (default 600). NumPy/BLAS
threads are limited to one. spopt's max-p is random: the child seeds NumPy with 0. Skips when spopt is not
installed.

Usage: bench_regions_parishes_spopt.py BENCH_FOLDER
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core: the solves are single-threaded Python anyway

import json
import multiprocessing
import queue as queues
import sys
import time
import warnings

try:
    import geopandas as gpd
    import numpy as np
    from libpysal.weights import W
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from spopt.region import MaxPHeuristic, Skater
except ImportError as e:
    print(f"parish regions comparison skipped: {e}")
    sys.exit(0)

warnings.filterwarnings("ignore")
# Each spopt run gets this long, then is stopped and reported.
LIMIT_SECONDS = float(os.environ.get("KLYNGE_SPOPT_LIMIT", "600"))


def _run(kind, gdf, w, arg, queue):
    try:
        np.random.seed(0)
        t0 = time.perf_counter()
        if kind == "maxp":
            model = MaxPHeuristic(gdf, w, attrs_name=["population"], threshold_name="population", threshold=arg,
                                  top_n=2, policy="keep")
        else:
            model = Skater(gdf, w, attrs_name=["x", "y"], n_clusters=arg, floor=1, trace=False, islands="ignore")
        model.solve()
        queue.put(("ok", [int(v) for v in model.labels_], time.perf_counter() - t0))
    except Exception as e:  # reported by the parent, not a traceback from a child process
        queue.put(("error", f"{type(e).__name__}: {e}", 0.0))


def limited(kind, gdf, w, arg):
    """(labels, seconds); None when spopt did not finish within LIMIT_SECONDS; a str when it failed."""
    queue = multiprocessing.Queue()
    p = multiprocessing.Process(target=_run, args=(kind, gdf, w, arg, queue))
    p.start()
    deadline = time.monotonic() + LIMIT_SECONDS
    result = None
    while result is None and time.monotonic() < deadline:
        try:  # read before joining: a child blocks on exit until its queued result is read
            result = queue.get(timeout=min(1.0, max(deadline - time.monotonic(), 0.01)))
        except queues.Empty:
            if not p.is_alive() and queue.empty():
                break  # died without a word (killed, out of memory)
    if p.is_alive():
        p.terminate()
    p.join()
    if result is None:
        return None if p.exitcode in (None, -15) else f"the process ended with code {p.exitcode}"
    status, value, seconds = result
    return (value, seconds) if status == "ok" else value


def groups(neighbours):
    """Connected-component label of every parish under the neighbour lists."""
    n = len(neighbours)
    rows = [i for i in range(n) for _ in neighbours[i]]
    cols = [j for i in range(n) for j in neighbours[i]]
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def connected(members, neighbours):
    """Whether the parishes `members` form one connected piece under the neighbour lists."""
    inside = set(members)
    start = next(iter(inside))
    seen, stack = {start}, [start]
    while stack:
        i = stack.pop()
        for j in neighbours[i]:
            if j in inside and j not in seen:
                seen.add(j)
                stack.append(j)
    return len(seen) == len(inside)


def regions_of(labels):
    """{label: [parish index]} for the parishes that have a label (None = left out)."""
    out = {}
    for i, r in enumerate(labels):
        if r is not None:
            out.setdefault(r, []).append(i)
    return out


def travel(labels, cost):
    """Least summed cost to a hub inside each region (any parish of it), summed over regions."""
    total = 0.0
    for members in regions_of(labels).values():
        cells = np.array(members)
        total += cost[np.ix_(cells, cells)].sum(axis=0).min()
    return total


def subset_w(keep, neighbours):
    """A libpysal W on the parishes `keep` (renumbered 0..len-1); no link leaves the subset."""
    new = {old: k for k, old in enumerate(keep)}
    return W({new[i]: [new[j] for j in neighbours[i] if j in new] for i in keep}, silence_warnings=True)


def main():
    folder = sys.argv[1]
    data = json.load(open(os.path.join(folder, "parishes.json")))
    ids = data["ids"]
    n = len(ids)
    pop = np.asarray(data["population"], dtype=float)
    x, y = np.asarray(data["x"], dtype=float), np.asarray(data["y"], dtype=float)
    neighbours = [sorted({int(j) for j in row}) for row in data["neighbours"]]
    threshold, k, klynge = float(data["threshold"]), int(data["k"]), data["klynge"]
    cost = np.fromfile(os.path.join(folder, "parishes-cost.f64"), "<f8")
    if cost.size != n * n or len(pop) != n or len(neighbours) != n:
        sys.exit(f"parishes.json and parishes-cost.f64 disagree: {n} ids, {len(pop)} populations, "
                 f"{len(neighbours)} neighbour lists, {cost.size} costs (need {n * n})")
    cost = cost.reshape(n, n)
    asymmetric = sum(1 for i in range(n) for j in neighbours[i] if i not in neighbours[j])
    if asymmetric:
        sys.exit(f"the neighbour lists are not symmetric ({asymmetric} one-way links)")
    if len(set(ids)) != n:
        print(f"  note: {n - len(set(ids))} ids occur more than once; parishes are handled by index")
    if klynge.get("travel_k", k) != k:
        print(f"  note: Klynge's travel is for k = {klynge['travel_k']}, Skater is asked for k = {k}")

    gdf = gpd.GeoDataFrame({"population": pop, "x": x, "y": y}, geometry=gpd.points_from_xy(x, y), crs=25832)
    label = groups(neighbours)
    group_ids = sorted(set(label))
    group_pop = {g: pop[label == g].sum() for g in group_ids}
    group_size = {g: int((label == g).sum()) for g in group_ids}
    joins = sum(len(r) for r in neighbours) // 2
    print(f"Parish regions against spopt ({n} parishes, {pop.sum():,.0f} people, {joins} neighbour pairs, "
          f"{len(group_ids)} separate group(s); the solve alone on both sides):")

    # ---- max-p ----
    small = [g for g in group_ids if group_pop[g] < threshold]
    alone = [i for i in range(n) if not neighbours[i] and pop[i] >= threshold]
    set_alone = set(alone)
    keep = [i for i in range(n) if group_pop[label[i]] >= threshold and i not in set_alone]
    if small:
        print(f"  max-p: {len(small)} group(s) below {threshold:,.0f} people ({sum(group_size[g] for g in small)} "
              f"parishes, {sum(group_pop[g] for g in small):,.0f} people) cannot hold a valid region and are left "
              f"out of spopt's max-p (Klynge refuses them; klynge-bench should leave them out too)")
    if alone:
        print(f"  max-p: {len(alone)} parish(es) without neighbours meet the threshold alone and are counted as "
              f"one region each on the spopt side")
    maxp_text = None
    if keep:
        answer = limited("maxp", gdf.iloc[keep].reset_index(drop=True), subset_w(keep, neighbours), threshold)
    else:
        answer = "no group reaches the threshold"
    if answer is None:
        maxp_text = f"did not finish in {LIMIT_SECONDS:.0f} s"
    elif isinstance(answer, str):
        maxp_text = f"failed: {answer}"
    else:
        sub_labels, t_maxp = answer
        labels = [None] * n
        for pos, i in enumerate(keep):  # spopt's max-p numbers regions from 1; 0 or -1 would be left unassigned
            labels[i] = ("spopt", sub_labels[pos]) if sub_labels[pos] > 0 else None
        for i in alone:
            labels[i] = ("alone", i)
        regions = regions_of(labels)
        bad_links = [r for r, m in regions.items() if not connected(m, neighbours)]
        bad_pop = [r for r, m in regions.items() if pop[m].sum() < threshold]
        covered = sum(len(m) for m in regions.values()) == len(keep) + len(alone)
        ok = not bad_links and not bad_pop and covered
        check = "valid: every region connected and at or above the threshold" if ok else \
            (f"INVALID: {len(bad_links)} region(s) not connected, {len(bad_pop)} below the threshold"
             + ("" if covered else ", some parishes without a region"))
        print(f"  max-p check: {check}")
        maxp_regions = len(regions)

    # ---- Skater ----
    sk_text = None
    if k < len(group_ids):
        print(f"  Skater: k = {k} is fewer than the {len(group_ids)} separate groups; it returns one region per group")
    answer = limited("skater", gdf, W({i: neighbours[i] for i in range(n)}, silence_warnings=True), k)
    if answer is None:
        sk_text = f"did not finish in {LIMIT_SECONDS:.0f} s"
    elif isinstance(answer, str):
        sk_text = f"failed: {answer}"
    else:
        sk_labels, t_sk = answer
        regions = regions_of(sk_labels)
        bad_links = [r for r, m in regions.items() if not connected(m, neighbours)]
        if bad_links:
            check = f"INVALID: {len(bad_links)} region(s) not connected"
        elif len(regions) != k:
            check = f"every region connected, but {len(regions)} regions for k = {k}: travel not comparable"
        else:
            check = "valid: every region connected, exactly k regions"
        print(f"  Skater check: {check}")
        sk_travel, sk_regions = travel(sk_labels, cost), len(regions)

    # ---- table ----
    def secs(s):
        return f"{s:,.2f} s"

    def faster(klynge_s, spopt_s):
        if spopt_s >= klynge_s:
            return f"Klynge {spopt_s / max(klynge_s, 1e-9):,.1f}× faster"
        return f"spopt {klynge_s / max(spopt_s, 1e-9):,.1f}× faster"

    rows = [("", "Klynge", "spopt", "")]
    km, ks = klynge["maxp_regions"], klynge["maxp_seconds"]
    if maxp_text is None:
        rows.append((f"max-p ≥ {threshold:,.0f} people", f"{km} regions", f"{maxp_regions} regions (MaxPHeuristic)",
                     "the same count" if km == maxp_regions else
                     f"Klynge {abs(km - maxp_regions)} {'more' if km > maxp_regions else 'fewer'} regions"))
        rows.append(("  seconds", secs(ks), secs(t_maxp), faster(ks, t_maxp)))
    else:
        rows.append((f"max-p ≥ {threshold:,.0f} people", f"{km} regions", f"MaxPHeuristic {maxp_text}", ""))
        rows.append(("  seconds", secs(ks), "—", ""))
    kt, kts = klynge["travel"], klynge["travel_seconds"]
    if sk_text is None and sk_regions != k:
        rows.append((f"travel, k = {k} (person-km)", f"{kt / 1000:,.0f}", f"{sk_travel / 1000:,.0f} (Skater)",
                     f"not comparable: Skater made {sk_regions} regions"))
        rows.append(("  seconds", secs(kts), secs(t_sk), ""))
    elif sk_text is None:
        rows.append((f"travel, k = {k} (person-km)", f"{kt / 1000:,.0f}", f"{sk_travel / 1000:,.0f} (Skater)",
                     f"SKATER/Klynge {sk_travel / kt:.3f}: {abs(sk_travel / kt - 1) * 100:.1f} % "
                     f"{'more' if sk_travel >= kt else 'less'} travel than Klynge"))
        rows.append(("  seconds", secs(kts), secs(t_sk), faster(kts, t_sk)))
    else:
        rows.append((f"travel, k = {k} (person-km)", f"{kt / 1000:,.0f}", f"Skater {sk_text}", ""))
        rows.append(("  seconds", secs(kts), "—", ""))
    widths = [max(len(r[c]) for r in rows) for c in range(4)]
    for r in rows:
        print("  " + "   ".join(r[c].ljust(widths[c]) for c in range(4)).rstrip())


if __name__ == "__main__":
    main()
