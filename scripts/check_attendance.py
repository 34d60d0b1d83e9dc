#!/usr/bin/env python3
"""Independent check of `klynge optimize --objective attendance|market-share|target-share`, in closed form from `klynge matrix`.

The decay weight of a travel cost c (seconds for a time rule, metres for a distance rule; the parameter is per
minute or per km, unit 60 s or 1000 m): an unreachable pair (empty CSV cell) weighs 0; with a cutoff C (--threshold)
a cost beyond C (at the CSV's hundredth) weighs 0; linear:L is max(0, 1 - (c/unit)/L), power:b is 1 up to one unit and
(c/unit)^-b beyond, exponential:b is exp(-b c/unit).
- attendance: value = sum_i w_i max_{j in S} f(c_ij); each site's visitors are the w_i f of the villages whose largest
  pull it is (ties: the site listed first).
- market-share (Huff): a_i = sum_{j in S} A_j f(c_ij), b_i = the same over the competitors; captured = sum_i w_i a_i/(a_i+b_i),
  site j's visitors sum_i w_i A_j f(c_ij)/(a_i+b_i), capturedShare = captured / sum w.
- target-share: the fewest sites whose captured value reaches --share of sum w.
For each: Klynge's value and visitors equal the closed form for its own chosen set, and its value equals the best
over every p-subset of the candidates (by enumeration). Attractiveness is checked on a copy of the study (in a
temporary directory) whose facilities carry a mapped attractiveness. Bad input must exit non-zero with a readable
message on stderr and nothing on stdout.
Prints 'N passed, N failed'; exits 1 on a failure.

Usage: check_attendance.py KLYNGE STUDY
"""
import csv
import itertools
import json
import math
import os
import re
import subprocess
import sys
import tempfile

from oracle import Checks

klynge, study = sys.argv[1], os.path.abspath(sys.argv[2])
checks = Checks()
check = checks.check
REL = 1e-6


def close(a, b, rel=REL):
    if a is None or b is None:
        return False
    return abs(a - b) <= rel * max(abs(a), abs(b)) + 1e-9


def run(args):
    return subprocess.run([klynge] + args, capture_output=True, text=True)


report = json.loads(subprocess.run([klynge, "coverage", study, "--json"], check=True, capture_output=True, text=True).stdout)
villages = [p["demandId"] for p in report["points"]]
village_name = {p["demandId"]: p["name"] for p in report["points"]}
weight = {p["demandId"]: p["population"] for p in report["points"]}
total = sum(weight.values())
rule = {c["category"]: c for c in report["categories"]}


def read_matrix(path, metric):
    """(from_id, to_id) -> cost, None when unreachable; and the destination ids in the order of the CSV."""
    col = "duration_s" if metric == "duration" else "distance_m"
    cost, order = {}, {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            order.setdefault(row["to_id"], len(order))
            cost[(row["from_id"], row["to_id"])] = float(row[col]) if row[col] else None
    return cost, list(order)


def decay_weight(c, shape, par, unit, cutoff):
    if c is None:
        return 0.0
    if cutoff is not None and c > math.floor(cutoff * 100 + 1e-7) / 100 + 0.005:
        return 0.0
    x = c / unit
    if shape == "linear":
        return max(0.0, 1.0 - x / par)
    if shape == "power":
        return 1.0 if x <= 1 else x ** -par
    return math.exp(-par * x)


def parse_decay(text, threshold, unit):
    shape, par = text.split(":")
    cutoff = None if threshold is None else threshold * unit
    return shape, float(par), cutoff


def pull(cost, sites, shape, par, unit, cutoff):
    """f[i][k]: the decay weight of village i (in `villages` order) to sites[k]."""
    return [[decay_weight(cost.get((i, j)), shape, par, unit, cutoff) for j in sites] for i in villages]


def attendance(f, chosen):
    """Value and visitors per chosen site (in the listed order; ties go to the one listed first)."""
    visitors = [0.0] * len(chosen)
    value = 0.0
    for i, row in zip(villages, f):
        pulls = [row[k] for k in chosen]
        best = max(range(len(chosen)), key=lambda k: pulls[k])  # first of the largest
        visitors[best] += weight[i] * pulls[best]
        value += weight[i] * pulls[best]
    return value, visitors


def market_share(f, attract, rival, chosen):
    """Captured value and visitors per chosen site; rival[i] = sum over competitors of A_k f(c_ik)."""
    visitors = [0.0] * len(chosen)
    value = 0.0
    for n, (i, row) in enumerate(zip(villages, f)):
        parts = [attract[k] * row[k] for k in chosen]
        a = sum(parts)
        if a + rival[n] <= 0:
            continue
        value += weight[i] * a / (a + rival[n])
        for m, part in enumerate(parts):
            visitors[m] += weight[i] * part / (a + rival[n])
    return value, visitors


def best_over_subsets(count, p, value_of):
    return max(value_of(s) for s in itertools.combinations(range(count), p))


def optimize(args):
    r = run(["optimize", study] + args + ["--json"])
    return r, (json.loads(r.stdout) if r.returncode == 0 and r.stdout.strip() else None)


def check_answer(name, answer, r, candidates, p, closed, brute, unit, shape, par, cutoff, attract=None, competitor_ids=None,
                 competitor_attract=None):
    """The common checks of one run: its chosen set, the closed form for that set and the best over all p-subsets."""
    check(f"{name}: Klynge answers", answer is not None, r.stderr[-300:])
    if answer is None:
        return None
    s = answer["solution"]
    chosen = s["chosen"]
    check(f"{name}: {p} distinct sites chosen", len(chosen) == p and len(set(chosen)) == p, chosen)
    ids = [c["id"] for c in answer["chosen"]]
    check(f"{name}: chosen indexes name the chosen sites", len(ids) == len(chosen) and all(0 <= k < len(candidates) and candidates[k] == j
                                                                                          for k, j in zip(chosen, ids)),
          (chosen, ids))
    d = answer.get("decay", {})
    check(f"{name}: decay echoed", d.get("shape") == shape and close(d.get("parameter"), par) and close(d.get("unitCost"), unit)
          and (cutoff is None or close(d.get("cutoffCost"), cutoff)), d)
    value, visitors = closed(chosen)
    check(f"{name}: value = closed form for its set", close(s["value"], value), f"klynge {s['value']}, closed form {value}")
    got = s.get("visitors") or []
    check(f"{name}: visitors per site = closed form", len(got) == len(visitors) and all(close(a, b) for a, b in zip(got, visitors)),
          f"klynge {got}, closed form {visitors}")
    check(f"{name}: visitors add up to the value", close(sum(got), s["value"]), f"{sum(got)} vs {s['value']}")
    check(f"{name}: capturedShare = value / population", close(s.get("capturedShare"), s["value"] / total),
          f"{s.get('capturedShare')} vs {s['value'] / total}")
    best = brute(p)
    check(f"{name}: value = best over all {p}-subsets", close(s["value"], best), f"klynge {s['value']}, best {best}")
    check(f"{name}: proven", s.get("proven") is True, s.get("proven"))
    check(f"{name}: bound >= best", s.get("bound") is not None and s["bound"] >= best * (1 - REL) - 1e-9, f"bound {s.get('bound')}, best {best}")
    if attract is not None:
        want = [attract[k] for k in chosen]
        check(f"{name}: attractiveness of the chosen sites", len(answer.get("attractiveness") or []) == p and
              all(close(a, b) for a, b in zip(answer["attractiveness"], want)), f"{answer.get('attractiveness')} vs {want}")
    if competitor_ids is not None:
        got_ids = [c["id"] for c in answer.get("competitors") or []]
        check(f"{name}: competitors", sorted(got_ids) == sorted(competitor_ids), f"klynge {got_ids}, expected {competitor_ids}")
        if competitor_attract is not None and sorted(got_ids) == sorted(competitor_ids):
            want = [competitor_attract[j] for j in got_ids]
            got_a = answer.get("competitorAttractiveness") or []
            check(f"{name}: competitorAttractiveness", len(got_a) == len(want) and all(close(a, b) for a, b in zip(got_a, want)),
                  f"klynge {got_a}, expected {want}")
    print(f"{name}: {s['value']:.4f} (closed form {value:.4f}, best {best:.4f}); chosen {', '.join(ids)}")
    return s


def unit_of(cat):
    return 60.0 if rule[cat]["metric"] == "duration" else 1000.0


def refused(name, args, words=()):
    r = run(["optimize", study] + args + ["--json"])
    err = r.stderr.strip()
    check(f"{name}: exits non-zero", r.returncode != 0, r.returncode)
    check(f"{name}: nothing on stdout", not r.stdout.strip(), r.stdout[:200])
    check(f"{name}: a message on stderr", bool(err), repr(err))
    check(f"{name}: no Swift type names", not re.search(r"LocationError|ValidationError|DecodingError|Optional\(|Swift\.|\w+Error\(", err), err[-300:])
    for w in words:
        check(f"{name}: the message mentions {w!r}", w.lower() in err.lower(), err[-300:])
    return r


with tempfile.TemporaryDirectory() as tmp:
    def matrix(cat, to=None, cat_rule=None):
        path = os.path.join(tmp, f"{os.path.basename(study)}-{cat}-{to or 'facilities'}.csv")
        mode = rule[cat_rule or cat]["mode"]
        args = ["matrix", study, "--mode", mode, "-o", path] + (["--to", to] if to else ["--category", cat])
        subprocess.run([klynge] + args, check=True, capture_output=True)
        return read_matrix(path, rule[cat_rule or cat]["metric"])

    # 1. Attendance on the halls (existing candidates): the closed form and the best over all p-subsets.
    cat = "hall"
    unit = unit_of(cat)
    cost, halls = matrix(cat)
    for text, threshold in (("linear:15", None), ("power:1.5", None), ("exponential:0.1", None), ("exponential:0.1", 10.0)):
        shape, par, cutoff = parse_decay(text, threshold, unit)
        f = pull(cost, halls, shape, par, unit, cutoff)
        for p in (1, 2, 3):
            if p > len(halls):
                continue
            name = f"attendance {cat} p={p} {text}" + (f" cutoff {threshold:g}" if threshold else "")
            args = ["--category", cat, "--objective", "attendance", "--facilities", str(p), "--decay", text]
            args += ["--threshold", f"{threshold:g}"] if threshold else []
            r, answer = optimize(args)
            check_answer(name, answer, r, halls, p, lambda S, f=f: attendance(f, S),
                         lambda p, f=f: best_over_subsets(len(halls), p, lambda S: attendance(f, S)[0]), unit, shape, par, cutoff)

    # 2. Market share of new sites at the villages against the existing shops (Huff).
    cat = "shop"
    unit = unit_of(cat)
    shop_cost, shops = matrix(cat)
    place_cost, _ = matrix(cat, to="demand", cat_rule=cat)
    place_cost = {(i, "place:" + j): c for (i, j), c in place_cost.items()}
    places = ["place:" + v for v in villages]
    ones = [1.0] * len(places)
    share_cases = {}
    for text in ("power:2", "exponential:0.2"):
        shape, par, cutoff = parse_decay(text, None, unit)
        f = pull(place_cost, places, shape, par, unit, cutoff)
        g = pull(shop_cost, shops, shape, par, unit, cutoff)
        rival = [sum(row) for row in g]
        share_cases[text] = (f, rival)
        for p in (1, 2):
            name = f"market-share {cat} places vs {cat} p={p} {text}"
            r, answer = optimize(["--category", cat, "--objective", "market-share", "--facilities", str(p), "--candidates", "places",
                                  "--competitors", cat, "--decay", text])
            check_answer(name, answer, r, places, p, lambda S, f=f, rival=rival: market_share(f, ones, rival, S),
                         lambda p, f=f, rival=rival: best_over_subsets(len(places), p, lambda S: market_share(f, ones, rival, S)[0]),
                         unit, shape, par, cutoff, attract=ones, competitor_ids=shops)

    # 3. Market share of the halls against another category (the largest other one with facilities).
    cat = "hall"
    unit = unit_of(cat)
    rival_cat = max((c for c in rule.values() if c["category"] != cat and c["openFacilities"] > 0), key=lambda c: c["openFacilities"])["category"]
    rival_cost, rival_sites = matrix(rival_cat, cat_rule=cat)
    rival_sites = [j for j in rival_sites if j not in halls]  # a facility of both categories is a candidate
    hall_ones = [1.0] * len(halls)
    for text, threshold in (("power:2", None), ("exponential:0.2", None), ("exponential:0.2", 10.0)):
        shape, par, cutoff = parse_decay(text, threshold, unit)
        f = pull(cost, halls, shape, par, unit, cutoff)
        rival = [sum(row) for row in pull(rival_cost, rival_sites, shape, par, unit, cutoff)]
        for p in (1, 2):
            if p > len(halls):
                continue
            name = f"market-share {cat} vs {rival_cat} p={p} {text}" + (f" cutoff {threshold:g}" if threshold else "")
            args = ["--category", cat, "--objective", "market-share", "--facilities", str(p), "--competitors", rival_cat, "--decay", text]
            args += ["--threshold", f"{threshold:g}"] if threshold else []
            r, answer = optimize(args)
            check_answer(name, answer, r, halls, p, lambda S, f=f, rival=rival: market_share(f, hall_ones, rival, S),
                         lambda p, f=f, rival=rival: best_over_subsets(len(halls), p, lambda S: market_share(f, hall_ones, rival, S)[0]),
                         unit, shape, par, cutoff, attract=hall_ones, competitor_ids=rival_sites)

    # 4. Attractiveness mapped on the facilities: a copy of the study whose facilities come from an export with a field.
    cat = "shop"
    unit = unit_of(cat)
    exported = os.path.join(tmp, "facilities.geojson")
    subprocess.run([klynge, "export", study, "--layer", "facilities", "-o", exported], check=True, capture_output=True)
    geo = json.load(open(exported))
    score = {}
    for n, feature in enumerate(geo["features"]):
        feature["properties"]["attr_score"] = 1 + (n * 7 % 5)
        score[feature["properties"]["id"]] = float(feature["properties"]["attr_score"])
    json.dump(geo, open(exported, "w"))
    base = os.path.dirname(study)

    def absolute(m):
        value = m.group(2).strip("'\"")
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value) or os.path.isabs(value):
            return m.group(0)
        return m.group(1) + json.dumps(os.path.normpath(os.path.join(base, value)))

    lines = open(study, encoding="utf-8").read().splitlines()
    out, in_layers, skip = [], False, None  # skip: the indent of a key whose block is left out
    for line in lines:
        indent = len(line) - len(line.lstrip())
        if skip is not None:
            if not line.strip() or line.lstrip().startswith("#") or indent > skip or (indent == skip and line.lstrip().startswith("- ")):
                continue
            skip = None
        if indent == 0 and line.strip() and not line.startswith("#"):
            in_layers = line.startswith("layers:")
            if line.startswith("surveys:"):  # the survey files are not needed to optimize
                skip = 0
                continue
        if in_layers and re.match(r"^  facilities:\s*(#.*)?$", line):
            out += ["  facilities:", f"    source: {json.dumps(exported)}",
                    "    fields: { id: id, name: name, category: category, attractiveness: attr_score }", ""]
            skip = 2
            continue
        out.append(re.sub(r"(\bsource:\s*)(\"[^\"]*\"|'[^']*'|[^\s,}\]#]+)", absolute, line))
    scored_study = os.path.join(tmp, "scored.yaml")
    open(scored_study, "w", encoding="utf-8").write("\n".join(out) + "\n")
    r = run(["validate", scored_study])
    check("scored study validates", r.returncode == 0, (r.returncode, r.stdout[-300:], r.stderr[-300:]))
    # The export's coordinates are WGS 84 to about a centimetre: the costs come from the copy's own matrices.
    study_orig, study = study, scored_study
    shop_cost, shops_here = matrix(cat)
    place_cost, _ = matrix(cat, to="demand", cat_rule=cat)
    place_cost = {(i, "place:" + j): c for (i, j), c in place_cost.items()}
    check("scored study: every shop has a mapped attractiveness", all(j in score for j in shops_here), shops_here)
    shop_attract = {j: score.get(j, 1.0) for j in shops_here}
    twos = [2.0] * len(places)
    for text in ("power:2", "exponential:0.2"):
        shape, par, cutoff = parse_decay(text, None, unit)
        f = pull(place_cost, places, shape, par, unit, cutoff)
        g = pull(shop_cost, shops_here, shape, par, unit, cutoff)
        rival = [sum(shop_attract[j] * x for j, x in zip(shops_here, row)) for row in g]
        for p in (1, 2):
            name = f"market-share {cat} places vs {cat} p={p} {text}, mapped attractiveness, --attractiveness 2"
            r, answer = optimize(["--category", cat, "--objective", "market-share", "--facilities", str(p), "--candidates", "places",
                                  "--competitors", cat, "--decay", text, "--attractiveness", "2"])
            check_answer(name, answer, r, places, p, lambda S, f=f, rival=rival: market_share(f, twos, rival, S),
                         lambda p, f=f, rival=rival: best_over_subsets(len(places), p, lambda S: market_share(f, twos, rival, S)[0]),
                         unit, shape, par, cutoff, attract=twos, competitor_ids=shops_here, competitor_attract=shop_attract)
    r = refused("market-share with mapped attractiveness but none for the new sites, no --attractiveness",
                ["--category", cat, "--objective", "market-share", "--facilities", "1", "--candidates", "places", "--competitors", cat,
                 "--decay", "power:2"], words=("attractiveness",))
    names = [village_name[v] for v in villages if village_name.get(v)] + villages
    check("… and names a candidate without one", any(n and n in r.stderr for n in names), r.stderr[-300:])
    study = study_orig

    # 5. Target share: the fewest new sites (villages) whose captured share reaches --share, against the shops.
    text = "power:2"
    shape, par, cutoff = parse_decay(text, None, unit)
    f, rival = share_cases[text]
    best = {p: best_over_subsets(len(places), p, lambda S: market_share(f, ones, rival, S)[0]) for p in (1, 2, 3)}
    everything = market_share(f, ones, rival, list(range(len(places))))[0]
    shares = [0.3]
    mid = round((best[2] + best[3]) / 2 / total, 4)  # one that needs three sites, when three capture more than two
    if best[3] > best[2] * (1 + 1e-3):
        shares.append(mid)
    for share in shares:
        need = next((p for p in (1, 2, 3) if best[p] >= share * total), None)
        check(f"target-share {share}: reachable with at most 3 sites here", need is not None and
              all(abs(best[p] - share * total) > 1e-6 * total for p in (1, 2, 3)), (share, best))
        name = f"target-share {cat} places vs {cat} share {share} {text}"
        r, answer = optimize(["--category", cat, "--objective", "target-share", "--share", str(share), "--candidates", "places",
                              "--competitors", cat, "--decay", text])
        check(f"{name}: Klynge answers", answer is not None, r.stderr[-300:])
        if answer is None:
            continue
        s = answer["solution"]
        chosen = s["chosen"]
        check(f"{name}: value = the fewest sites by enumeration", s["value"] == need, f"klynge {s['value']}, enumeration {need}")
        check(f"{name}: value = number chosen", s["value"] == len(chosen), (s["value"], chosen))
        check(f"{name}: chosen indexes name the chosen sites", all(0 <= k < len(places) and places[k] == c["id"]
                                                                    for k, c in zip(chosen, answer["chosen"])), chosen)
        captured, visitors = market_share(f, ones, rival, chosen)
        check(f"{name}: its set reaches the share in closed form", captured >= share * total * (1 - REL),
              f"captured {captured} < {share} × {total}")
        check(f"{name}: capturedShare = closed form", close(s.get("capturedShare"), captured / total), f"{s.get('capturedShare')} vs {captured / total}")
        check(f"{name}: visitors = closed form", all(close(a, b) for a, b in zip(s.get("visitors") or [], visitors)) and
              len(s.get("visitors") or []) == len(visitors), f"klynge {s.get('visitors')}, closed form {visitors}")
        check(f"{name}: proven", s.get("proven") is True, s.get("proven"))
        print(f"{name}: {s['value']} sites capture {captured / total:.4f} (enumeration: {need})")

    # 6. Bad input: refused in words on stderr, nothing on stdout.
    refused("attendance without --decay", ["--category", "hall", "--objective", "attendance", "--facilities", "2"], words=("decay",))
    refused("--decay power:-1", ["--category", "hall", "--objective", "attendance", "--facilities", "2", "--decay", "power:-1"],
            words=("power",))
    refused("--decay gauss:2", ["--category", "hall", "--objective", "attendance", "--facilities", "2", "--decay", "gauss:2"],
            words=("gauss",))
    r = refused("target-share --share 1 against competitors", ["--category", "shop", "--objective", "target-share", "--share", "1",
                                                               "--candidates", "places", "--competitors", "shop", "--decay", "power:2"])
    m = re.search(r"(\d+(?:\.\d+)?)\s*%", r.stderr)
    check("… and says how much every candidate together captures", m is not None and abs(float(m.group(1)) - 100 * everything / total) <= 0.051,
          f"{r.stderr.strip()[-200:]} (closed form {100 * everything / total:.2f} %)")

checks.finish()
