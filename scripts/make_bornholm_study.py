#!/usr/bin/env python3
"""Writes a synthetic study the size of Bornholm, for benchmarks of the whole pipeline (report, publish).

Usage: make_bornholm_study.py OUT_FOLDER [--seed S]

The island is Bornholm's outline (coarse, from data/denmark/danmark_omrids.geojson) with a jittered coast, in
EPSG:25832. On it, all invented from a fixed seed (the same seed writes the same files):
- 21 parishes: Voronoi cells of seeds near the real parish centres (Lloyd-relaxed), clipped to the island, so
  they tile it;
- 75 villages: 12 real towns at their real positions (Rønne capped at 8,000 people) and 63 invented villages
  of 20–450 people;
- about 3,000 road segments: a jittered grid with some diagonals, one connected network through every village,
  primary and secondary roads routed between the towns, tertiary from the larger villages, residential
  streets in the towns;
- 50 facilities (hall, school, shop, sports_hall, library), some with capacity and annual_cost;
- 150 associations (foreningsliv.geojson) as a fact layer;
- three sketch layers of the plan: new meeting places (points), paths (lines), village greens (polygons);
- study.yaml: 4 clusters with hubs, 10 scenarios, the facts' measures and a `plan:` with 5 focus areas.
Every GeoJSON file carries a `crs` member for EPSG:25832. Only the standard library is used.
"""
import argparse
import heapq
import json
import math
import os
import random
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
DENMARK = os.path.join(HERE, "..", "data", "denmark")
CRS = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}}

# Bornholm's outline in EPSG:25832 (DAGI, simplified; the Rønne harbour spike left out), counter-clockwise.
OUTLINE = [
    (863097, 6133940), (862773, 6130041), (863672, 6124195), (863230, 6123194), (863405, 6121543),
    (862683, 6120147), (868839, 6115888), (874452, 6114763), (881205, 6111504), (888286, 6110261),
    (891106, 6113533), (891050, 6114913), (890199, 6116232), (891851, 6118351), (891695, 6119626),
    (892787, 6121369), (891612, 6124637), (892194, 6126754), (891442, 6127729), (887759, 6128494),
    (883204, 6131021), (881022, 6132766), (879562, 6135001), (877735, 6134310), (870019, 6138403),
    (868629, 6140990), (866741, 6142268), (866437, 6143250), (865078, 6141855), (865528, 6140801),
    (865305, 6139742),
]

# Parishes: name and a rough centre (the seed of its cell before relaxation).
PARISHES = [
    ("Rønne", 864300, 6120800), ("Knudsker", 866800, 6121600), ("Nyker", 867000, 6125400),
    ("Hasle", 864300, 6130000), ("Rutsker", 866700, 6134000), ("Olsker", 868000, 6138000),
    ("Allinge-Sandvig", 867000, 6141300), ("Klemensker", 870500, 6129500), ("Rø", 874500, 6134000),
    ("Gudhjem", 879300, 6133300), ("Østerlarsker", 881500, 6129500), ("Vestermarie", 872500, 6122500),
    ("Nylarsker", 869500, 6118500), ("Aaker", 877500, 6117500), ("Østermarie", 886000, 6126500),
    ("Svaneke", 890500, 6126500), ("Ibsker", 888000, 6122500), ("Bodilsker", 885000, 6118500),
    ("Nexø", 890000, 6118500), ("Pedersker", 881500, 6113800), ("Poulsker", 887800, 6112800),
]

# Four clusters of parishes; each hub is the cluster's most populous village.
CLUSTERS = {
    "Vestbornholm": ["Rønne", "Knudsker", "Nyker", "Vestermarie", "Nylarsker"],
    "Nordbornholm": ["Hasle", "Rutsker", "Olsker", "Allinge-Sandvig", "Klemensker", "Rø"],
    "Østbornholm": ["Gudhjem", "Østerlarsker", "Østermarie", "Svaneke", "Ibsker"],
    "Sydbornholm": ["Aaker", "Bodilsker", "Nexø", "Pedersker", "Poulsker"],
}

# Towns at their real positions (GeoNames, projected), with GeoNames' population (Rønne capped at 8,000).
TOWNS = [
    ("Rønne", 863920, 6120905, 8000), ("Nexø", 891314, 6118732, 3668), ("Åkirkeby", 877780, 6118694, 2119),
    ("Hasle", 863468, 6129950, 1634), ("Allinge", 868396, 6140846, 1446), ("Svaneke", 891268, 6127130, 1079),
    ("Tejn", 871085, 6137829, 858), ("Gudhjem", 879731, 6134488, 736), ("Snogebæk", 890816, 6114753, 700),
    ("Nyker", 867047, 6125383, 700), ("Klemensker", 869832, 6129420, 633), ("Muleby", 864205, 6127055, 508),
]
VILLAGES = 75
STEMS = ["Aas", "Bæk", "Dal", "Eng", "Hul", "Kjeld", "Lyng", "Mølle", "Skov", "Sten", "Tørre", "Vind", "Ege",
         "Hede", "Kås", "Lund", "Ros", "Sand", "Tving", "Vad", "Bro", "Kirke", "Ler", "Pile"]
ENDINGS = ["by", "gård", "huse", "lyng", "bakke", "løkke", "sted", "holm", "ved", "mark"]

# Capacity (tens) and annual cost (thousands of DKK): ranges per category.
COSTS = {"hall": ((6, 30), (60, 400)), "school": ((10, 60), (4000, 15000)), "sports_hall": ((20, 60), (500, 2000)),
         "library": ((4, 15), (300, 2000))}

GRID_M = 640  # spacing of the road grid
PRIMARY = [("Rønne", "Åkirkeby"), ("Åkirkeby", "Nexø"), ("Rønne", "Hasle"), ("Hasle", "Allinge"),
           ("Allinge", "Gudhjem"), ("Gudhjem", "Svaneke"), ("Svaneke", "Nexø"), ("Rønne", "Klemensker"),
           ("Klemensker", "Gudhjem")]
SECONDARY = [("Nexø", "Snogebæk"), ("Åkirkeby", "Gudhjem"), ("Rønne", "Nyker"), ("Allinge", "Tejn"),
             ("Hasle", "Muleby"), ("Åkirkeby", "Snogebæk"), ("Klemensker", "Tejn"), ("Åkirkeby", "Svaneke")]


# ---------------------------------------------------------------- geometry

def inside_ring(x, y, ring):
    """Even-odd ray casting."""
    hit = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            hit = not hit
        j = i
    return hit


def ring_area(ring):
    """Signed area (positive counter-clockwise); the ring is open (first point not repeated)."""
    return sum(ring[i - 1][0] * ring[i][1] - ring[i][0] * ring[i - 1][1] for i in range(len(ring))) / 2


def centroid(ring):
    a = ring_area(ring)
    cx = sum((ring[i - 1][0] + ring[i][0]) * (ring[i - 1][0] * ring[i][1] - ring[i][0] * ring[i - 1][1]) for i in range(len(ring)))
    cy = sum((ring[i - 1][1] + ring[i][1]) * (ring[i - 1][0] * ring[i][1] - ring[i][0] * ring[i - 1][1]) for i in range(len(ring)))
    return cx / (6 * a), cy / (6 * a)


def segments_touch(p, q, r, s):
    """Whether the closed segments pq and rs share a point."""
    def orient(a, b, c):
        v = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
        return (v > 0) - (v < 0)

    def on(a, b, c):  # c on segment ab, given collinear
        return min(a[0], b[0]) <= c[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= c[1] <= max(a[1], b[1])
    o1, o2, o3, o4 = orient(p, q, r), orient(p, q, s), orient(r, s, p), orient(r, s, q)
    if o1 != o2 and o3 != o4:
        return True
    return (o1 == 0 and on(p, q, r)) or (o2 == 0 and on(p, q, s)) or (o3 == 0 and on(r, s, p)) or (o4 == 0 and on(r, s, q))


def is_simple(ring):
    """No two edges that are not neighbours share a point (so a clipped cell that fell apart is caught)."""
    n = len(ring)
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue
            if segments_touch(ring[i], ring[(i + 1) % n], ring[j], ring[(j + 1) % n]):
                return False
    return True


def clip_halfplane(ring, a, b, c):
    """Sutherland–Hodgman: the part of the ring where a*x + b*y <= c."""
    out = []
    for i in range(len(ring)):
        p, q = ring[i - 1], ring[i]
        dp, dq = a * p[0] + b * p[1] - c, a * q[0] + b * q[1] - c
        if dq <= 0:
            if dp > 0:
                t = dp / (dp - dq)
                out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
            out.append(q)
        elif dp <= 0:
            t = dp / (dp - dq)
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return out


def rounded(ring):
    """To the centimetre, without repeated points."""
    out = []
    for x, y in ring:
        p = (round(x, 2), round(y, 2))
        if not out or out[-1] != p:
            out.append(p)
    while len(out) > 1 and out[0] == out[-1]:
        out.pop()
    return out


def coast(rng):
    """The outline with two rounds of midpoint displacement: a coast rather than a polygon."""
    ring = list(OUTLINE)
    for rnd in range(2):
        while True:
            out = []
            for i in range(len(ring)):
                p, q = ring[i], ring[(i + 1) % len(ring)]
                length = math.dist(p, q)
                off = rng.gauss(0, 0.06) * length
                mx, my = (p[0] + q[0]) / 2, (p[1] + q[1]) / 2
                out += [p, (mx - off * (q[1] - p[1]) / length, my + off * (q[0] - p[0]) / length)]
            if is_simple(out):
                break
        ring = out
    return rounded(ring)


def voronoi_cells(seeds, island):
    """Each seed's cell: the island clipped by the bisector half-plane towards every other seed."""
    cells = []
    for i, (sx, sy) in enumerate(seeds):
        ring = island
        for j, (tx, ty) in enumerate(seeds):
            if i != j and ring:
                a, b = tx - sx, ty - sy
                ring = clip_halfplane(ring, a, b, a * (sx + tx) / 2 + b * (sy + ty) / 2)
        cells.append(rounded(ring))
    return cells


def parishes(rng, island):
    """Voronoi cells clipped to the island, from seeds near the real parish centres, relaxed twice (Lloyd)."""
    while True:
        seeds = [(x + rng.uniform(-700, 700), y + rng.uniform(-700, 700)) for _, x, y in PARISHES]
        for _ in range(2):
            seeds = [centroid(c) for c in voronoi_cells(seeds, island)]
        cells = voronoi_cells(seeds, island)
        if all(len(c) >= 3 and ring_area(c) > 5e6 and is_simple(c) for c in cells):
            return cells


def closed(ring):
    return [list(p) for p in ring] + [list(ring[0])]


# ---------------------------------------------------------------- places

def coast_distance(x, y, ring):
    best = math.inf
    for i in range(len(ring)):
        (ax, ay), (bx, by) = ring[i - 1], ring[i]
        t = max(0.0, min(1.0, ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2)))
        best = min(best, math.dist((x, y), (ax + t * (bx - ax), ay + t * (by - ay))))
    return best


def inland(x, y, island):
    """The point, moved towards the island's centre until it is on land and 300 m from the jittered coast."""
    cx, cy = centroid(island)
    while not inside_ring(x, y, island) or coast_distance(x, y, island) < 300:
        d = math.dist((x, y), (cx, cy))
        x, y = x + 100 * (cx - x) / d, y + 100 * (cy - y) / d
    return round(x, 2), round(y, 2)


def villages(rng, island):
    """The towns and invented villages: (name, x, y, population)."""
    out = [(name, *inland(x, y, island), population) for name, x, y, population in TOWNS]
    used = set(t[0] for t in TOWNS)
    x0, y0 = min(p[0] for p in island), min(p[1] for p in island)
    x1, y1 = max(p[0] for p in island), max(p[1] for p in island)
    while len(out) < VILLAGES:
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if not inside_ring(x, y, island) or any(math.dist((x, y), (v[1], v[2])) < 1500 for v in out):
            continue
        name = rng.choice(STEMS) + rng.choice(ENDINGS)
        if name in used:
            continue
        used.add(name)
        out.append((name, round(x, 2), round(y, 2), 20 + int(430 * rng.random() ** 2.5)))
    return out


def near(rng, island, x, y, r0, r1):
    """A point r0–r1 metres from (x, y), on the island."""
    while True:
        a, r = rng.uniform(0, 2 * math.pi), rng.uniform(r0, r1)
        p = (round(x + r * math.cos(a), 2), round(y + r * math.sin(a), 2))
        if inside_ring(p[0], p[1], island):
            return p


# ---------------------------------------------------------------- roads

def roads(rng, island, places):
    """A connected road network: a list of (class, [points]). Every village is a node of it."""
    x0, y0 = min(p[0] for p in island), min(p[1] for p in island)
    nx = int((max(p[0] for p in island) - x0) / GRID_M) + 2
    ny = int((max(p[1] for p in island) - y0) / GRID_M) + 2
    pos = {}
    for i in range(nx):
        for j in range(ny):
            x = x0 + i * GRID_M + rng.uniform(-0.3, 0.3) * GRID_M
            y = y0 + j * GRID_M + rng.uniform(-0.3, 0.3) * GRID_M
            if inside_ring(x, y, island):
                pos[(i, j)] = (x, y)

    def on_land(a, b):
        return all(inside_ring(a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), island) for t in (0.25, 0.5, 0.75))

    candidates = []
    for (i, j) in pos:
        pairs = [((i, j), (i + 1, j)), ((i, j), (i, j + 1))]
        if rng.random() < 0.25:  # one diagonal in some grid cells (never both, so they do not cross)
            pairs.append(((i, j), (i + 1, j + 1)) if rng.random() < 0.5 else ((i + 1, j), (i, j + 1)))
        candidates += [(a, b) for a, b in pairs if a in pos and b in pos and on_land(pos[a], pos[b])]
    candidates.sort()
    rng.shuffle(candidates)

    # A random spanning forest keeps everything connected; of the other edges 80 % are kept.
    parent = {k: k for k in pos}

    def find(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k
    edges = []
    for a, b in candidates:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
            edges.append((a, b))
        elif rng.random() < 0.8:
            edges.append((a, b))
    sizes = {}
    for k in pos:
        sizes[find(k)] = sizes.get(find(k), 0) + 1
    main = max(sorted(sizes), key=lambda r: sizes[r])
    nodes = sorted(k for k in pos if find(k) == main)
    edges = [(a, b) for a, b in edges if find(a) == main]

    # Each village takes over the nearest free grid node (the roads meet in the village), or gets a connector.
    taken = {}
    extra = []
    for name, x, y, _ in sorted(places, key=lambda v: -v[3]):
        k = min(nodes, key=lambda n: math.dist(pos[n], (x, y)))
        if k not in taken and math.dist(pos[k], (x, y)) < 0.6 * GRID_M:
            taken[k] = name
            pos[k] = (x, y)
        else:
            pos[name] = (x, y)
            extra.append((k, name))
    edges += extra

    # Classes: primary and secondary roads routed between towns, tertiary from every larger village to the
    # nearest town; a road already classed costs less, so routes share it.
    adjacent = {}
    for e in edges:
        for u, v in (e, e[::-1]):
            adjacent.setdefault(u, []).append(v)
    node_of = {name: k for k, name in taken.items()}
    node_of.update({name: name for _, name in extra})
    rank = {"primary": 0, "secondary": 1, "tertiary": 2}
    cls = {}

    def route(a, b, c):
        start, goal = node_of[a], node_of[b]
        dist, prev, heap = {start: 0.0}, {}, [(0.0, 0, start)]
        n = 0
        while heap:
            d, _, u = heapq.heappop(heap)
            if u == goal:
                break
            if d > dist[u]:
                continue
            for v in adjacent[u]:
                w = math.dist(pos[u], pos[v]) * (0.6 if frozenset((u, v)) in cls else 1.0)
                if d + w < dist.get(v, math.inf):
                    dist[v], prev[v] = d + w, u
                    n += 1
                    heapq.heappush(heap, (d + w, n, v))
        u = goal
        while u != start:
            e = frozenset((u, prev[u]))
            if rank.get(cls.get(e), 9) > rank[c]:
                cls[e] = c
            u = prev[u]
    for a, b in PRIMARY:
        route(a, b, "primary")
    for a, b in SECONDARY:
        route(a, b, "secondary")
    towns = [t for t in TOWNS if t[3] >= 1000]
    for name, x, y, population in places:
        if population >= 100 and all(name != t[0] for t in towns):
            nearest = min(towns, key=lambda t: math.dist((t[1], t[2]), (x, y)))
            route(name, nearest[0], "tertiary")

    out = []
    for u, v in edges:
        p, q = pos[u], pos[v]
        length = math.dist(p, q)
        bend = rng.uniform(-0.06, 0.06) * length
        mid = ((p[0] + q[0]) / 2 - bend * (q[1] - p[1]) / length, (p[1] + q[1]) / 2 + bend * (q[0] - p[0]) / length)
        c = cls.get(frozenset((u, v)), "residential" if isinstance(u, str) or isinstance(v, str) else "unclassified")
        out.append((c, [p, mid, q]))

    # Residential streets in the towns and larger villages: a small tree of cul-de-sacs grown from the centre.
    for name, x, y, population in places:
        if population < 150:
            continue
        tips = [(x, y)]
        for _ in range(max(2, min(40, population // 100))):
            a = rng.choice(tips)
            b = near(rng, island, a[0], a[1], 120, 260)
            out.append(("residential", [a, b]))
            tips.append(b)
    return out


# ---------------------------------------------------------------- writing

def write_geojson(path, name, features):
    with open(path, "w") as f:
        json.dump({"type": "FeatureCollection", "name": name, "crs": CRS, "features": features}, f, ensure_ascii=False)


def feature(properties, kind, coordinates):
    return {"type": "Feature", "properties": properties, "geometry": {"type": kind, "coordinates": coordinates}}


def xy(p):
    return [round(p[0], 2), round(p[1], 2)]


def q(s):
    """A YAML double-quoted string (JSON's escapes are YAML's)."""
    return json.dumps(s, ensure_ascii=False)


def main():
    a = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    a.add_argument("out")
    a.add_argument("--seed", type=int, default=400)  # Bornholm's kommunekode
    o = a.parse_args()
    os.makedirs(o.out, exist_ok=True)
    rng = random.Random(o.seed)

    island = coast(rng)
    cells = parishes(rng, island)
    codes = [str(9001 + i) for i in range(len(PARISHES))]
    write_geojson(os.path.join(o.out, "sogne.geojson"), "sogne", [
        feature({"SOGNEKODE": code, "SOGNENAVN": p[0]}, "Polygon", [closed(c)]) for code, p, c in zip(codes, PARISHES, cells)])
    write_geojson(os.path.join(o.out, "land.geojson"), "land", [feature({"name": "Bornholm"}, "Polygon", [closed(island)])])
    shutil.copyfile(os.path.join(DENMARK, "danmark_omrids.geojson"), os.path.join(o.out, "danmark_omrids.geojson"))

    places = villages(rng, island)
    parish_of = {}
    for name, x, y, _ in places:
        parish_of[name] = next(PARISHES[i][0] for i, c in enumerate(cells) if inside_ring(x, y, c))
    vid = {p[0]: f"v{i + 1:02d}" for i, p in enumerate(places)}
    write_geojson(os.path.join(o.out, "byer.geojson"), "byer", [
        feature({"id": vid[n], "name": n, "population": pop}, "Point", [x, y]) for n, x, y, pop in places])

    network = roads(rng, island, places)
    write_geojson(os.path.join(o.out, "veje.geojson"), "veje", [
        feature({"id": f"r{i + 1:04d}", "highway": c}, "LineString", [xy(p) for p in line]) for i, (c, line) in enumerate(network)])

    # Facilities: schools, halls, libraries and shops in the towns, community halls in the larger villages.
    where = {p[0]: p for p in places}
    rest = sorted((p for p in places if p[0] not in [t[0] for t in TOWNS]), key=lambda p: -p[3])
    plan = [("school", "Rønne Skole", "Rønne"), ("school", "Rønne Friskole", "Rønne"), ("school", "Nexø Skole", "Nexø"),
            ("school", "Åkirkeby Skole", "Åkirkeby"), ("school", "Hasle Skole", "Hasle"), ("school", "Allinge Skole", "Allinge"),
            ("school", "Svaneke Skole", "Svaneke"), ("school", "Gudhjem Skole", "Gudhjem"), ("school", "Klemensker Skole", "Klemensker")]
    plan += [("sports_hall", f"{t} Hallen", t) for t in ["Rønne", "Nexø", "Åkirkeby", "Hasle", "Allinge", "Klemensker"]]
    plan += [("library", f"{t} Bibliotek", t) for t in ["Rønne", "Nexø", "Åkirkeby", "Allinge"]]
    plan += [("shop", f"{chain} {t}", t) for chain, t in [
        ("Netto", "Rønne"), ("SuperBrugsen", "Rønne"), ("Rema 1000", "Rønne"), ("Netto", "Nexø"), ("SuperBrugsen", "Nexø"),
        ("SuperBrugsen", "Åkirkeby"), ("Dagli'Brugsen", "Hasle"), ("Netto", "Allinge"), ("Dagli'Brugsen", "Svaneke"),
        ("Dagli'Brugsen", "Gudhjem"), ("Min Købmand", "Tejn"), ("Min Købmand", "Snogebæk")]]
    plan += [("shop", f"Landsbybutikken {rest[0][0]}", rest[0][0])]
    plan += [("hall", f"{t} Medborgerhus", t) for t in ["Rønne", "Nexø", "Åkirkeby", "Hasle", "Allinge"]]
    plan += [("hall;library", "Svaneke Kulturhus", "Svaneke")]
    plan += [("hall", f"{v[0]} Forsamlingshus", v[0]) for v in rest[:12]]
    facilities = []
    for i, (category, name, village) in enumerate(plan):
        _, x, y, _ = where[village]
        props = {"id": f"f{i + 1:02d}", "name": name, "category": category, "capacity": None, "annual_cost": None}
        first = category.split(";")[0]
        if first != "shop" and rng.random() < 0.8:  # seats, pupils or visitors at a time
            props["capacity"] = 10 * rng.randrange(*COSTS[first][0])
        if first != "shop" and rng.random() < 0.7:  # DKK a year
            props["annual_cost"] = 1000 * rng.randrange(*COSTS[first][1])
        facilities.append((props, near(rng, island, x, y, 60, 300)))
    write_geojson(os.path.join(o.out, "faciliteter.geojson"), "faciliteter", [
        feature(p, "Point", list(pt)) for p, pt in facilities])
    fid = {p["name"]: p["id"] for p, _ in facilities}

    # Clusters and their hubs (the most populous village of each).
    cluster_of = {name: c for c, names in CLUSTERS.items() for name in names}
    hubs = {c: max((p for p in places if cluster_of[parish_of[p[0]]] == c), key=lambda p: p[3])[0] for c in CLUSTERS}
    halls = [(p, v) for (p, _), (_, _, v) in zip(facilities, plan) if "hall" in p["category"].split(";")]
    village_halls = {c: [p["id"] for p, v in halls if cluster_of[parish_of[v]] == c and v not in [t[0] for t in TOWNS]] for c in CLUSTERS}
    hub_halls = {c: next((p["id"] for p, v in halls if v == hubs[c]), None) for c in CLUSTERS}

    # Associations: 150, in the villages more than their size alone would say.
    kinds = [("idræt", "Idrætsforening"), ("idræt", "Gymnastikforening"), ("kultur", "Kulturforening"),
             ("kultur", "Musikforening"), ("social", "Ældreklub"), ("social", "Borgerforening"), ("natur", "Naturforening"),
             ("spejder", "Spejdergruppe"), ("kultur", "Lokalhistorisk Forening"), ("idræt", "Ridesklub")]
    weights = [math.sqrt(p[3]) for p in places]
    associations, seen = [], set()
    while len(associations) < 150:
        v = rng.choices(places, weights)[0]
        kind, title = rng.choice(kinds)
        name = f"{v[0]} {title}"
        if name in seen:
            continue
        seen.add(name)
        members = 10 + int(590 * rng.random() ** 2)
        associations.append(feature({"id": f"a{len(associations) + 1:03d}", "navn": name, "type": kind, "members": members,
                                     "aktive": int(members * rng.uniform(0.3, 0.9))}, "Point", list(near(rng, island, v[1], v[2], 20, 500))))
    write_geojson(os.path.join(o.out, "foreningsliv.geojson"), "foreningsliv", associations)

    # The plan's sketches: new meeting places at the hubs and two villages, paths between villages, village greens.
    moedesteder = [feature({"navn": f"Klyngehuset {hubs[c]}", "type": "Nyt mødested"}, "Point", list(near(rng, island, *where[hubs[c]][1:3], 50, 200))) for c in CLUSTERS]
    moedesteder += [feature({"navn": f"{v[0]} Samlingssted", "type": "Ombygning"}, "Point", list(near(rng, island, v[1], v[2], 50, 200))) for v in rest[:2]]
    stier = []
    for c in CLUSTERS:
        hub = where[hubs[c]]
        others = sorted((p for p in places if cluster_of[parish_of[p[0]]] == c and p[0] != hub[0]), key=lambda p: math.dist(p[1:3], hub[1:3]))
        for v in others[:2]:
            line = [xy(v[1:3])]
            for t in (0.25, 0.5, 0.75):
                line.append(xy(near(rng, island, v[1] + t * (hub[1] - v[1]), v[2] + t * (hub[2] - v[2]), 0, 150)))
            line.append(xy(hub[1:3]))
            stier.append(feature({"navn": f"Sti {v[0]}–{hub[0]}", "type": rng.choice(["Cykelsti", "Natursti", "Skolesti"])}, "LineString", line))
    byrum = []
    for v, kind in zip([where[h] for h in hubs.values()] + [rest[0]], ["Byfornyelse", "Landsbygrøn", "Torv", "Landsbygrøn", "Landsbygrøn"]):
        cx, cy = near(rng, island, v[1], v[2], 100, 250)
        ring = [(cx + r * math.cos(a), cy + r * math.sin(a)) for a, r in
                ((2 * math.pi * k / 10, rng.uniform(60, 140)) for k in range(10))]
        byrum.append(feature({"navn": f"{kind} i {v[0]}", "type": kind}, "Polygon", [closed(rounded(ring))]))
    write_geojson(os.path.join(o.out, "skitser-moedesteder.geojson"), "skitser_moedesteder", moedesteder)
    write_geojson(os.path.join(o.out, "skitser-stier.geojson"), "skitser_stier", stier)
    write_geojson(os.path.join(o.out, "skitser-byrum.geojson"), "skitser_byrum", byrum)

    # Scenarios: every id is one the facilities above have.
    far_halls = [h for c in CLUSTERS for h in village_halls[c][-2:]]
    village_shop = fid[f"Landsbybutikken {rest[0][0]}"]
    scenarios = [
        ("Én skole i Nordbornholm", "Klemensker Skole lægges sammen med Allinge Skole.",
         [("merge", f"{{ keep: {fid['Allinge Skole']}, close: [{fid['Klemensker Skole']}] }}")]),
        ("Én skole i Østbornholm", "Gudhjem Skole lægges sammen med Svaneke Skole.",
         [("merge", f"{{ keep: {fid['Svaneke Skole']}, close: [{fid['Gudhjem Skole']}] }}")]),
        ("Skole og hal under ét tag i Hasle", "Hasle Hallen drives af skolen, der overtager hallens funktion.",
         [("merge", f"{{ keep: {fid['Hasle Skole']}, close: [{fid['Hasle Hallen']}] }}")]),
        ("Forsamlingshuse samles i klyngernes centre",
         "I hver klynge lukker forsamlingshusene i de to mindste landsbyer; klyngens medborgerhus overtager dem.",
         [("merge", f"{{ keep: {hub_halls[c]}, close: [{', '.join(village_halls[c][-2:])}] }}") for c in CLUSTERS if hub_halls[c] and village_halls[c]]),
        ("Multihus i Åkirkeby", "Et nyt multihus med sal og bibliotek; det gamle bibliotek og medborgerhuset lukker.",
         [("open", f"{{ name: Multihuset Åkirkeby, categories: [hall, library], at: Åkirkeby, capacity: 200, annual_cost: 650000 }}"),
          ("close", f"{fid['Åkirkeby Bibliotek']}"), ("close", f"{fid['Åkirkeby Medborgerhus']}")]),
        ("Ny hal i Gudhjem", "En idrætshal ved Gudhjem Skole.",
         [("open", "{ name: Gudhjem Hallen, categories: [sports_hall], at: Gudhjem, capacity: 250, annual_cost: 900000 }")]),
        ("Bibliotek kun i Rønne og Nexø", "Bibliotekerne i Åkirkeby og Allinge lukker.",
         [("close", fid["Åkirkeby Bibliotek"]), ("close", fid["Allinge Bibliotek"])]),
        ("Færre dagligvarebutikker", "Landsbybutikken og to købmænd lukker.",
         [("close", village_shop), ("close", fid["Min Købmand Tejn"]), ("close", fid["Min Købmand Snogebæk"])]),
        ("Kulturhus i Nexø", "Nexø Bibliotek bliver også forsamlingssal; medborgerhuset lukker.",
         [("recategorise", f"{{ id: {fid['Nexø Bibliotek']}, categories: [library, hall] }}"), ("close", fid["Nexø Medborgerhus"])]),
        ("Landsbyforsamlingshuse lukker", "Forsamlingshusene i de to mindste landsbyer i hver klynge lukker uden erstatning.",
         [("close", h) for h in far_halls]),
    ]
    chosen = "Forsamlingshuse samles i klyngernes centre"

    lines = []
    for name, description, changes in scenarios:
        lines += [f"  - name: {q(name)}", f"    description: {q(description)}"]
        for key in ("merge", "open", "recategorise"):
            items = [v for k, v in changes if k == key]
            if items:
                lines.append(f"    {key}:")
                lines += [f"      - {v}" for v in items]
        closes = [v for k, v in changes if k == "close"]
        if closes:
            lines.append(f"    close: [{', '.join(closes)}]")
    assignments = ", ".join(f"{q(code)}: {cluster_of[p[0]]}" for code, p in zip(codes, PARISHES))
    with open(os.path.join(o.out, "study.yaml"), "w") as f:
        f.write(STUDY.format(seed=o.seed, assignments=assignments, scenarios="\n".join(lines), chosen=q(chosen),
                             hubs=", ".join(f"{c}: {q(h)}" for c, h in hubs.items()), hub_hall_scenario=q(chosen),
                             school_scenario=q("Skole og hal under ét tag i Hasle"), library_scenario=q("Multihus i Åkirkeby")))

    print(f"{o.out}: {len(cells)} parishes, {len(places)} villages ({sum(p[3] for p in places)} inhabitants), "
          f"{len(network)} road segments, {len(facilities)} facilities, {len(associations)} associations, "
          f"{len(scenarios)} scenarios; hubs: {', '.join(f'{c} {h}' for c, h in hubs.items())}")


STUDY = """# A synthetic study the size of Bornholm (seed {seed}): invented parishes, villages, roads, facilities and
# associations on Bornholm's outline. Written by scripts/make_bornholm_study.py; not Bornholms Regionskommune's data.
name: Bornholm (syntetisk)
description: Syntetiske testdata i Bornholms størrelse – sogne, byer, veje, mødesteder og foreningsliv
crs: EPSG:25832
language: da

categories:
  hall:         {{ da: Forsamlingshus, en: Community hall }}
  school:       {{ da: Skole,          en: School }}
  shop:         {{ da: Dagligvarebutik, en: Grocery shop }}
  sports_hall:  {{ da: Idrætshal,      en: Sports hall }}
  library:      {{ da: Bibliotek,      en: Library }}

layers:
  areas:
    source: sogne.geojson
    fields: {{ id: SOGNEKODE, name: SOGNENAVN }}
  demand:
    source: byer.geojson
    fields: {{ id: id, name: name, weight: population }}
  facilities:
    source: faciliteter.geojson
    fields: {{ id: id, name: name, category: category, capacity: capacity, annual_cost: annual_cost }}
  roads:
    source: veje.geojson
    fields: {{ id: id, class: highway }}
  locator:
    source: danmark_omrids.geojson
    fields: {{ name: name }}
  land:
    source: land.geojson
    fields: {{ name: name }}

checks:
  max_outside_m: 1000

coverage:
  default:      {{ minutes: 15, mode: car }}
  hall:         {{ minutes: 10, mode: car }}
  shop:         {{ minutes: 10, mode: car }}
  school:       {{ minutes: 15, mode: car }}
  sports_hall:  {{ minutes: 20, mode: car }}
  library:      {{ minutes: 20, mode: car }}

clusters:
  assignments: {{ {assignments} }}
  hubs: {{ {hubs} }}
  candidate_minutes: 5

scenarios:
{scenarios}

attribution:
  - Syntetiske data (scripts/make_bornholm_study.py)
  - Omrids fra Geodatastyrelsen (DAGI)

facts:
  - id: foreningsliv
    label: {{ da: Foreningsliv, en: Associations }}
    source: foreningsliv.geojson
    fields: {{ medlemmer: members, aktive: aktive }}
    measures:
      - {{ id: antal, aggregate: count, label: {{ da: Foreninger, en: Associations }} }}
      - {{ id: pr_1000, aggregate: per_1000, label: {{ da: Foreninger pr. 1.000 indbyggere, en: "Associations per 1,000 people" }} }}
      - {{ id: medlemmer, aggregate: sum, field: medlemmer, label: {{ da: Medlemmer, en: Members }} }}
      - {{ id: medlemmer_pr_1000, aggregate: per_1000, field: medlemmer, label: {{ da: Medlemmer pr. 1.000 indbyggere, en: "Members per 1,000 people" }} }}
      - {{ id: gennemsnit, aggregate: mean, field: medlemmer, label: {{ da: Medlemmer pr. forening, en: Members per association }} }}
      - {{ id: aktive, aggregate: share, field: aktive, of: medlemmer, label: {{ da: Andel aktive medlemmer, en: Share of active members }} }}

# The idea catalogue and masterplan (invented, like the rest).
plan:
  scenario: {chosen}
  focus_areas:
    - title: Et stærkt mødested i hver klynge
      vision: Hver af de fire klynger har ét åbent og veldrevet mødested, hvor foreninger, kultur og borgerservice deler hus.
      potential: Færre huse at vedligeholde frigør driftskroner til aktiviteter, og et fælles hus samler frivillige på tværs af byerne.
      advantages: [Længere åbningstider, Fælles booking og nøgler, Bedre tilgængelighed for ældre og gangbesværede]
      obstacles: [Stærk lokal tilknytning til de gamle forsamlingshuse, Anlægsudgift til ombygning]
      priority: high
      timeline: 2027–2028
      scenario: {hub_hall_scenario}
    - title: Skole og hal under samme tag
      vision: Skolerne bliver lokale kraftcentre, hvor hallen, klubberne og aftenskolen bruger de samme lokaler.
      potential: Skolens lokaler står tomme det meste af døgnet; fælles drift gør dem til byens samlingssted.
      advantages: [Bedre udnyttelse af bygningerne, Én driftsorganisation]
      obstacles: [Skolens behov går forud i dagtimerne, Adgangskontrol og rengøring skal aftales]
      priority: high
      timeline: 2028–2030
      scenario: {school_scenario}
    - title: Sikre stier mellem landsbyerne
      vision: Børn og unge kan cykle sikkert fra landsbyerne til skolen og klyngens mødested.
      potential: Stierne binder klyngen sammen og gør de fælles mødesteder lettere at nå uden bil.
      advantages: [Mindre biltrafik, Sundhed og friluftsliv, Turisme uden for højsæsonen]
      obstacles: [Lodsejeraftaler, Afhænger af statslige anlægspuljer]
      priority: medium
      timeline: 2027–2031
    - title: Levende bymidter og landsbygrønne
      vision: Torve og grønne pladser, hvor man mødes uden at have en aftale.
      potential: Tomme grunde og nedlagte bygninger i bymidterne kan blive byrum med bænke, legeplads og markedsplads.
      advantages: [Synlige resultater hurtigt, Tiltrækker bosætning]
      obstacles: [Drift af nye arealer, Private ejere af nøglegrunde]
      priority: medium
      timeline: "2029"
    - title: Bibliotek og borgerservice i multihuse
      vision: Bibliotek, borgerservice og kultur flytter sammen i multihuse, der er åbne hele dagen.
      potential: Selvbetjening og frivillige giver længere åbningstid for de samme penge.
      advantages: [Ét sted at gå hen, Bedre lokaler end i dag]
      obstacles: [Bekymring for færre bemandede timer]
      priority: low
      timeline: 2030–2032
      scenario: {library_scenario}
  sketches:
    - id: moedesteder
      label: {{ da: Nye og ombyggede mødesteder, en: New and converted meeting places }}
      source: skitser-moedesteder.geojson
      fields: {{ name: navn, kind: type }}
    - id: stier
      label: {{ da: Nye stier, en: New paths }}
      source: skitser-stier.geojson
      fields: {{ name: navn, kind: type }}
    - id: byrum
      label: {{ da: Byrum og landsbygrønne, en: Public space and village greens }}
      source: skitser-byrum.geojson
      fields: {{ name: navn, kind: type }}
"""

if __name__ == "__main__":
    main()
