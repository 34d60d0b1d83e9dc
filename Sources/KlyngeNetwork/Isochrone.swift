import KlyngeGeo

extension ModeGraph {
    /// The parts of the network from which the targets are reached within each budget (seconds, or metres
    /// for `distance`), travelling toward them (so one-way streets count as they would for a trip to the
    /// targets). Edges reached only partly are cut at the exact point. Costs include the targets' own
    /// off-network legs, as the matrix does; a point's own leg is not included (see the README).
    /// `inMeters`: the budgets are metres along the mode's least-cost paths, as a km rule on a timed mode
    /// measures coverage (the matrix's metres are those of the fastest route).
    /// Returns, per budget in the order given, the reachable pieces as polylines.
    public func reachableLines(toward targets: [Snap], budgets: [Double], query: PathQuery, inMeters: Bool = false) -> [[[Coordinate]]] {
        guard let maxBudget = budgets.max(), !targets.isEmpty else { return budgets.map { _ in [] } }
        // Metres of the fastest route do not grow with its cost in step, so a metre budget searches everything.
        let byMeters = inMeters && profile.mode != .distance
        var seeds: [Seed] = []
        for t in targets { arrivalSeeds(t, into: &seeds) }
        query.run(from: seeds, reverse: true, cutoff: byMeters ? .infinity : maxBudget)
        var out: [[[Coordinate]]] = budgets.map { _ in [] }
        let net = network
        for e in 0..<net.edgeCount where isUsable(edge: e) {
            let len = net.edgeLengthMeters[e], c = edgeCost[e]
            guard len > 0, c > 0 else { continue }
            // What a budget is spent on along this edge: its cost, or its metres.
            let metersPerUnit = byMeters ? 1 : len / c
            func spent(_ node: Int32) -> Double? { query.result(node).map { byMeters ? $0.meters : $0.cost } }
            let ru = edgeBackward[e] ? spent(net.edgeFrom[e]) : nil
            let rv = edgeForward[e] ? spent(net.edgeTo[e]) : nil
            let onEdge = targets.filter { Int($0.edge) == e }
            if ru == nil && rv == nil && onEdge.isEmpty { continue }
            for (bi, budget) in budgets.enumerated() {
                var intervals: [(Double, Double)] = []
                // Toward the start node (against the drawing direction).
                if let ru, ru <= budget { intervals.append((0, min(len, (budget - ru) * metersPerUnit))) }
                // Toward the end node.
                if let rv, rv <= budget { intervals.append((max(0, len - (budget - rv) * metersPerUnit), len)) }
                // Straight along this edge to a target on it.
                for t in onEdge {
                    let left = budget - (byMeters ? t.distanceMeters : legCost(t))
                    guard left >= 0 else { continue }
                    if edgeForward[e] { intervals.append((max(0, t.offsetMeters - left * metersPerUnit), t.offsetMeters)) }
                    if edgeBackward[e] { intervals.append((t.offsetMeters, min(len, t.offsetMeters + left * metersPerUnit))) }
                }
                for (a, b) in Self.merge(intervals) { out[bi].append(cut(edge: e, from: a, to: b)) }
            }
        }
        return out
    }

    static func merge(_ intervals: [(Double, Double)]) -> [(Double, Double)] {
        let sorted = intervals.filter { $0.1 >= $0.0 }.sorted { $0.0 < $1.0 }
        var out: [(Double, Double)] = []
        for iv in sorted {
            if let last = out.last, iv.0 <= last.1 { out[out.count - 1].1 = max(last.1, iv.1) } else { out.append(iv) }
        }
        return out
    }

    /// The piece of an edge's geometry between two offsets (metres from its start).
    public func cut(edge e: Int, from a: Double, to b: Double) -> [Coordinate] {
        let geom = network.geometry(ofEdge: e)
        var out: [Coordinate] = []
        var along = 0.0
        var prev: Coordinate?
        for p in geom {
            defer { prev = p }
            guard let q = prev else { if a <= 0 { out.append(p) }; continue }
            let seg = ((p.x - q.x) * (p.x - q.x) + (p.y - q.y) * (p.y - q.y)).squareRoot()
            let start = along, end = along + seg
            along = end
            func at(_ s: Double) -> Coordinate {
                let t = seg > 0 ? (s - start) / seg : 0
                return Coordinate(x: q.x + t * (p.x - q.x), y: q.y + t * (p.y - q.y))
            }
            if end < a { continue }
            if out.isEmpty { out.append(at(max(a, start))) }
            if end >= b {
                out.append(at(b))
                break
            }
            out.append(p)
        }
        if out.count == 1 { out.append(out[0]) }
        return out
    }
}
