import Foundation

// MARK: attendance and market share (Huff)

extension LocationAllocation {
    /// Attendance, market share and target share: every objective whose people follow a decay.
    static func solveWithDecay(_ problem: LocationProblem, _ request: LocationRequest, decay: DistanceDecay) throws -> LocationSolution {
        guard problem.capacities == nil else { throw LocationError("capacities are taken by the median, coverage and minimum objectives") }
        switch request.goal {
        case .attendance(let p, _): return try attendance(problem, p: p, decay: decay, request)
        case .marketShare(let p, _):
            let huff = HuffModel(problem, decay: decay)
            return try huff.best(p: p, request)
        case .targetShare(let share, _):
            return try HuffModel(problem, decay: decay).fewest(share: share, request)
        default: throw LocationError("no decay in this objective")
        }
    }

    /// Maximal attendance is a p-median in disguise: a village's loss at site j is 1 − f(c_ij) (its weight
    /// times that is the attendance it does not give), so the least loss is the most attendance, and the
    /// p-median's solvers, proofs and bounds carry over (every loss is finite: an unreachable site loses all).
    static func attendance(_ problem: LocationProblem, p: Int, decay: DistanceDecay, _ request: LocationRequest) throws -> LocationSolution {
        var loss = problem
        loss.cost = problem.cost.map { 1 - decay.weight($0) }
        var median = request
        median.goal = .median(facilities: p)
        median.skipUnreachable = false
        let s = try solve(loss, median)
        let total = problem.totalWeight
        var out = s
        out.objective = .attendance
        out.value = total - s.value
        out.bound = s.bound.map { total - $0 }
        out.method = s.method.replacingOccurrences(of: "exact (GLPK branch-and-cut)", with: "exact (GLPK branch-and-cut as a p-median of lost attendance)")
        out.visitors = attendanceVisitors(problem, chosen: out.chosen, decay: decay)
        out.capturedShare = total > 0 ? out.value / total : nil
        return out
    }

    /// Each chosen site's expected visitors: the villages for which it pulls most (the lowest index among equals).
    static func attendanceVisitors(_ problem: LocationProblem, chosen: [Int], decay: DistanceDecay) -> [Double] {
        var visitors = [Double](repeating: 0, count: chosen.count)
        for i in problem.weights.indices {
            var best = -1, pull = 0.0
            for (k, j) in chosen.enumerated() {
                let f = decay.weight(problem.c(i, j))
                if f > pull { best = k; pull = f }
            }
            if best >= 0 { visitors[best] += problem.weights[i] * pull }
        }
        return visitors
    }
}

/// The Huff model on a location problem: a village's people split between the chosen sites and the competitors
/// in proportion to attractiveness × decay(travel); the chosen sites capture Σ_i w_i a_i / (a_i + b_i), with a_i
/// the chosen sites' pull on village i and b_i the competitors'. That is a concave function of a sum, so adding
/// a site helps less the more are chosen (submodular): the gains a set could still make bound what any larger
/// set can reach, which gives both the heuristic's honest bound and the exact branch-and-bound.
struct HuffModel {
    let problem: LocationProblem
    let m: Int, n: Int
    /// Pull of candidate j on village i, demand-major.
    let pull: [Double]
    /// The competitors' pull on each village.
    let rival: [Double]
    let allowed: [Int]
    let required: [Int]

    init(_ problem: LocationProblem, decay: DistanceDecay) {
        self.problem = problem
        m = problem.weights.count
        n = problem.candidateCount
        let attract = problem.attractiveness ?? [Double](repeating: 1, count: n)
        var pull = [Double](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { pull[i * n + j] = attract[j] * decay.weight(problem.c(i, j)) } }
        self.pull = pull
        var rival = [Double](repeating: 0, count: m)
        if let c = problem.competitors {
            for i in 0..<m { for k in 0..<c.count { rival[i] += c.attractiveness[k] * decay.weight(c.cost[i * c.count + k]) } }
        }
        self.rival = rival
        allowed = problem.allowed
        required = problem.required.sorted()
    }

    @inline(__always) func share(_ a: Double, _ i: Int) -> Double {
        let total = a + rival[i]
        return total > 0 ? a / total : 0
    }

    /// The chosen sites' pull per village.
    func pullOf(_ set: [Int]) -> [Double] {
        var a = [Double](repeating: 0, count: m)
        for i in 0..<m { for j in set { a[i] += pull[i * n + j] } }
        return a
    }

    func captured(_ a: [Double]) -> Double {
        var total = 0.0
        for i in 0..<m where problem.weights[i] > 0 { total += problem.weights[i] * share(a[i], i) }
        return total
    }

    /// What adding each of `sites` to the set with pull `a` would capture more.
    func gains(_ a: [Double], _ sites: [Int]) -> [Double] {
        sites.map { j in
            var g = 0.0
            for i in 0..<m where problem.weights[i] > 0 {
                let f = pull[i * n + j]
                if f > 0 { g += problem.weights[i] * (share(a[i] + f, i) - share(a[i], i)) }
            }
            return g
        }
    }

    /// The sum of the `r` largest values.
    static func top(_ values: [Double], _ r: Int) -> Double {
        guard r > 0 else { return 0 }
        return values.sorted(by: >).prefix(r).reduce(0, +)
    }

    /// An upper bound on any set of `p` sites that holds the required ones: the set's capture plus the p − |R|
    /// largest gains over it (Nemhauser, Wolsey & Fisher 1978).
    func bound(_ set: [Int], p: Int) -> Double {
        let a = pullOf(set)
        let others = allowed.filter { !set.contains($0) }
        return captured(a) + Self.top(gains(a, others), p - required.count)
    }

    /// Greedy from the required sites, then swaps until none captures more; with the least bound met on the way.
    func heuristic(p: Int, _ request: LocationRequest) throws -> (set: [Int], value: Double, bound: Double) {
        var set = required
        var upper = bound(set, p: p)
        while set.count < p {
            let a = pullOf(set)
            let free = allowed.filter { !set.contains($0) }
            let g = gains(a, free)
            guard let k = g.indices.max(by: { (g[$0], -free[$0]) < (g[$1], -free[$1]) }) else { break }
            set.append(free[k])
            upper = min(upper, bound(set, p: p))
        }
        var value = captured(pullOf(set))
        var improved = true
        while improved {
            try request.control.check()
            improved = false
            search: for (slot, out) in set.enumerated() where !problem.required.contains(out) {
                for candidate in allowed where !set.contains(candidate) {
                    var trial = set
                    trial[slot] = candidate
                    let v = captured(pullOf(trial))
                    if v > value + 1e-9 * max(1, value) {
                        set = trial
                        value = v
                        improved = true
                        break search
                    }
                }
            }
        }
        upper = min(upper, bound(set, p: p))
        return (set, value, max(upper, value))
    }

    /// The most captured with `p` sites: the heuristic's set, then a depth-first branch-and-bound over the rest
    /// that prunes every branch whose submodular bound cannot beat it. Stopped by the time limit, the answer
    /// keeps the heuristic's bound.
    func best(p: Int, _ request: LocationRequest) throws -> LocationSolution {
        let start = Date()
        let first = try heuristic(p: p, request)
        var bestSet = first.set, bestValue = first.value
        var complete = true
        let tolerance = { (v: Double) in 1e-9 * max(1, v) }
        let baseFree = allowed.filter { !problem.required.contains($0) }
        // Sites chosen so far (beyond the required), their pull, and the candidates still open to this branch.
        func branch(_ set: [Int], _ a: [Double], _ rest: [Int]) throws {
            let r = p - set.count
            let value = captured(a)
            if r == 0 || rest.isEmpty {
                if r == 0 && value > bestValue + tolerance(bestValue) { bestSet = set; bestValue = value }
                return
            }
            if Date().timeIntervalSince(start) > request.timeLimitSeconds { complete = false; return }
            try request.control.check()
            let g = gains(a, rest)
            let order = rest.indices.sorted { (g[$0], -rest[$0]) > (g[$1], -rest[$1]) }
            let sortedGains = order.map { g[$0] }
            if value + sortedGains.prefix(r).reduce(0, +) <= bestValue + tolerance(bestValue) { return }
            for (k, idx) in order.enumerated() where order.count - k >= r {
                // This child takes order[k] and may add only what follows it, so each set is met once. Its bound
                // is a window of the sorted gains sliding down: once it cannot win, no later child can.
                let later = sortedGains[(k + 1)...].prefix(r - 1).reduce(0, +)
                if value + sortedGains[k] + later <= bestValue + tolerance(bestValue) { break }
                let j = rest[idx]
                var child = a
                for i in 0..<m { child[i] += pull[i * n + j] }
                try branch(set + [j], child, order[(k + 1)...].map { rest[$0] })
                if !complete { return }
            }
        }
        if request.solver == .heuristic { complete = false } else if first.bound > first.value + tolerance(first.value) {
            try branch(required, pullOf(required), baseFree)
        }
        let proven = complete
        let total = problem.totalWeight
        var s = LocationSolution(objective: .marketShare, chosen: bestSet, value: bestValue, proven: proven,
                                 bound: proven ? bestValue : first.bound, gap: nil,
                                 method: proven ? "exact (branch-and-bound on the submodular bound)" : "heuristic (greedy + swaps), submodular bound",
                                 seconds: 0)
        s.visitors = visitors(bestSet)
        s.capturedShare = total > 0 ? bestValue / total : nil
        return s
    }

    /// Each site's expected visitors in the set: its share of each village.
    func visitors(_ set: [Int]) -> [Double] {
        let a = pullOf(set)
        return set.map { j in
            (0..<m).reduce(0.0) { sum, i in
                let total = a[i] + rival[i]
                return total > 0 ? sum + problem.weights[i] * pull[i * n + j] / total : sum
            }
        }
    }

    /// The fewest sites capturing at least `share` of the people: the most with p = |R|, |R| + 1, …, the first
    /// that reaches the share. Proven when every smaller p was proven short of it.
    func fewest(share: Double, _ request: LocationRequest) throws -> LocationSolution {
        let total = problem.totalWeight
        let need = share * total * (1 - 1e-12)
        let most = captured(pullOf(allowed))
        guard most >= need else {
            throw LocationError("even every candidate site together captures only \(LocationAllocation.percent(total > 0 ? most / total : 0)) % "
                                + "of the people against the competitors, so no set reaches \(LocationAllocation.percent(share)) %")
        }
        var proven = true
        let start = Date()
        for p in max(1, required.count)...allowed.count {
            var r = request
            r.timeLimitSeconds = max(0.1, request.timeLimitSeconds - Date().timeIntervalSince(start))
            var s = try best(p: p, r)
            if s.value >= need {
                let captured = s.value
                s.objective = .targetShare
                s.value = Double(p)
                s.proven = proven && s.proven
                s.bound = s.proven ? Double(p) : nil
                s.capturedShare = total > 0 ? captured / total : nil
                return s
            }
            // Short of the share: proven short only if even its bound is.
            proven = proven && (s.bound ?? .infinity) < need
        }
        throw LocationError("no set reaches the share")
    }
}
