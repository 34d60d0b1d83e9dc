import Foundation
import KlyngeWork

/// Settings of the heuristic search. Results depend only on these and the problem: the time limit is a
/// safety stop that is reported, never part of normal termination.
public struct RegionSearchOptions: Sendable {
    public var seed: UInt64
    /// Constructions tried (each followed by a local search for a fixed count; max-p keeps the best few);
    /// nil: 8 on up to 150 areas, 4 up to 600, else 2.
    public var restarts: Int?
    /// Local-search moves without a new best before it stops.
    public var stallMoves: Int
    public var control: WorkControl
    /// A partition to start from (area → cluster, as `--from` gives it): searched first, and kept when
    /// nothing better is found. Ignored when it breaks a rule moves cannot mend (contiguity, a hub, locks,
    /// `--within`) or, with a fixed k, has another number of clusters.
    public var start: [Int]?

    public init(seed: UInt64 = 1, restarts: Int? = nil, stallMoves: Int = 150, control: WorkControl = .unlimited, start: [Int]? = nil) {
        self.seed = seed
        self.start = start
        self.restarts = restarts
        self.stallMoves = stallMoves
        self.control = control
    }
}

/// Construction (region growing from spread seeds, or max-p growing to the minimum) followed by a tabu
/// search over boundary moves that keep every cluster contiguous and able to reach a hub.
public enum RegionHeuristic {
    /// The best partition found, or nil when none meets every constraint.
    public static func solve(_ problem: RegionProblem, options: RegionSearchOptions = RegionSearchOptions()) -> RegionSolution? {
        let started = Date()
        var rng = SplitMix64(seed: options.seed)
        var best: Partition?
        let n = problem.areaCount
        let tries = max(1, options.restarts ?? (n <= 150 ? 8 : n <= 600 ? 4 : 2))
        let start = options.start.flatMap { Partition.start(problem, $0) }
        switch problem.count {
        case .exactly(let k):
            if var p = start, p.clusterCount == k {
                p.localSearch(stall: options.stallMoves, rng: &rng, control: options.control)
                best = p
            }
            for _ in 0..<tries {
                // A stopped search still answers with its first construction.
                if options.control.isStopped && best != nil { break }
                guard var p = Partition.grow(problem, clusters: k, rng: &rng) else { continue }
                p.localSearch(stall: options.stallMoves, rng: &rng, control: options.control)
                if best == nil || p.score < best!.score { best = p }
            }
        case .most:
            // Max-p: many cheap constructions; the local search polishes the few with the most clusters.
            var built: [Partition] = start.map { [$0] } ?? []
            for round in 0..<(tries * 8) {
                if options.control.isStopped && !built.isEmpty { break }
                if let p = Partition.growToMinimum(problem, fill: round % 2 == 1, rng: &rng) { built.append(p) }
            }
            // Better: meets every constraint, then more clusters, then a lower score.
            func better(_ x: Partition, _ y: Partition) -> Bool {
                let fx = x.score.violation == 0, fy = y.score.violation == 0
                if fx != fy { return fx }
                if x.clusterCount != y.clusterCount { return x.clusterCount > y.clusterCount }
                return x.score < y.score
            }
            built.sort(by: better)
            for var p in built.prefix(3) {
                if options.control.isStopped && best != nil { break }
                p.localSearch(stall: options.stallMoves, rng: &rng, control: options.control)
                if best == nil || better(p, best!) { best = p }
            }
        }
        guard let best, best.score.violation == 0 else { return nil }
        return RegionSolution(problem: problem, assignment: best.assignment, method: .heuristic, proven: false,
                              bound: problem.trivialBound, seconds: Date().timeIntervalSince(started),
                              stoppedEarly: options.control.reason.map { "\($0)" })
    }
}

extension RegionProblem {
    /// A bound every partition respects, known without search: for travel each area at its cheapest
    /// usable hub; for count the clusters the population and the hub areas allow; for balance 0.
    public var trivialBound: Double {
        switch objective {
        case .travel:
            return (0..<areaCount).reduce(0) { s, i in s + (cost[i].min() ?? 0) }
        case .balance:
            return 0
        case .count:
            let hosts = Double(Set(hubs.map(\.area)).count)
            guard let lo = minPopulation, lo > 0 else { return hosts }
            return min(hosts, (population.reduce(0, +) / lo).rounded(.down))
        }
    }
}

/// Lexicographic: constraint violation first, then the objective, then the tie-breaker.
struct RegionScore: Comparable {
    var violation: Double
    var primary: Double
    var secondary: Double
    static func < (a: RegionScore, b: RegionScore) -> Bool {
        func less(_ x: Double, _ y: Double) -> Bool? {
            let tol = 1e-9 * max(1, abs(x), abs(y))
            if x < y - tol { return true }
            if x > y + tol { return false }
            return nil
        }
        if let l = less(a.violation, b.violation) { return l }
        if let l = less(a.primary, b.primary) { return l }
        return less(a.secondary, b.secondary) ?? false
    }
}

/// A partition under search, with each cluster's members and fit.
struct Partition {
    let problem: RegionProblem
    var assignment: [Int]
    var members: [[Int]]
    var fits: [RegionProblem.ClusterFit]
    /// Areas that never move: locked ones and those holding a fixed hub.
    let pinned: Set<Int>

    var clusterCount: Int { members.count }

    init(problem: RegionProblem, assignment: [Int]) {
        self.problem = problem
        self.assignment = assignment
        let k = (assignment.max() ?? -1) + 1
        var members = Array(repeating: [Int](), count: k)
        for (i, c) in assignment.enumerated() where c >= 0 { members[c].append(i) }
        self.members = members
        fits = members.map(problem.fit)
        pinned = Set(problem.locks.keys).union(problem.fixedHubs.map { problem.hubs[$0].area })
    }

    func violation(_ m: [Int], _ fit: RegionProblem.ClusterFit) -> Double {
        var v = 0.0
        if let lo = problem.minPopulation, fit.population < lo { v += lo - fit.population }
        if let hi = problem.maxPopulation, fit.population > hi { v += fit.population - hi }
        let total = problem.population.reduce(0, +) + 1
        for r in problem.required.indices where !m.contains(where: { problem.areaHas[$0][r] }) { v += total }
        return v
    }

    var mean: Double { problem.population.reduce(0, +) / Double(max(1, members.count)) }

    var score: RegionScore {
        var s = RegionScore(violation: 0, primary: 0, secondary: 0)
        let mean = self.mean
        for (c, m) in members.enumerated() {
            let f = fits[c]
            let (p, q) = parts(f, mean: mean)
            s.violation += violation(m, f)
            s.primary += p
            s.secondary += q
        }
        return s
    }

    /// A cluster's share of the objective and of the tie-breaker.
    func parts(_ f: RegionProblem.ClusterFit, mean: Double) -> (Double, Double) {
        let deviation = abs(f.population - mean)
        switch problem.objective {
        case .travel, .count: return (f.travel, deviation)
        case .balance: return (deviation, f.travel)
        }
    }

    // MARK: construction

    /// A given partition as a start, when moves can work from it: every cluster contiguous, with a hub,
    /// within one `--within` group and holding at most one lock label, and each label in one cluster.
    /// Populations and required categories may be off: the search mends those.
    static func start(_ p: RegionProblem, _ given: [Int]) -> Partition? {
        guard p.unmendable(given).isEmpty else { return nil }
        return Partition(problem: p, assignment: p.evaluate(assignment: given).assignment)
    }

    /// Areas locked to each label, joined by shortest paths through unlocked areas of their group, as
    /// starting regions; nil when a label's areas cannot be joined.
    static func lockRegions(_ p: RegionProblem) -> [[Int]]? {
        var byLabel: [String: [Int]] = [:]
        for (i, label) in p.locks { byLabel[label, default: []].append(i) }
        var regions: [[Int]] = []
        var taken = Set(p.locks.keys)
        for label in byLabel.keys.sorted() {
            var region = Set(byLabel[label]!.sorted().prefix(1))
            for target in byLabel[label]!.sorted() where !region.contains(target) {
                // Breadth-first from the region to the target, through free areas of the same group.
                var previous: [Int: Int] = [:], queue = Array(region), seen = region, head = 0, found = false
                while head < queue.count && !found {
                    let a = queue[head]; head += 1
                    for b in p.neighbours[a] where !seen.contains(b) && p.group[b] == p.group[target] {
                        guard b == target || !taken.contains(b) else { continue }
                        seen.insert(b); previous[b] = a; queue.append(b)
                        if b == target { found = true; break }
                    }
                }
                guard found else { return nil }
                var x = target
                while !region.contains(x) { region.insert(x); taken.insert(x); x = previous[x]! }
            }
            taken.formUnion(region)
            regions.append(region.sorted())
        }
        return regions
    }

    /// The regions every construction starts from: each lock label's areas (joined), then each fixed hub's
    /// area; with the area → region assignment (-1 for free areas).
    static func startingRegions(_ p: RegionProblem) -> (regions: [[Int]], assignment: [Int])? {
        guard var regions = lockRegions(p) else { return nil }
        var assignment = Array(repeating: -1, count: p.areaCount)
        for (r, m) in regions.enumerated() { for i in m { assignment[i] = r } }
        for h in p.fixedHubs.sorted() where assignment[p.hubs[h].area] < 0 {
            assignment[p.hubs[h].area] = regions.count
            regions.append([p.hubs[h].area])
        }
        return (regions, assignment)
    }

    /// `k` regions grown together from spread seeds, each step adding the free neighbouring area that costs
    /// least (for balance: to the smallest region). Nil when some area cannot be reached.
    static func grow(_ p: RegionProblem, clusters k: Int, rng: inout SplitMix64) -> Partition? {
        guard var (regions, assignment) = startingRegions(p) else { return nil }
        let hosts = (0..<p.areaCount).filter { !p.hubsInArea[$0].isEmpty }
        // One seed in every piece first, then the area farthest (in steps) from every seed.
        for piece in p.pieces where !piece.contains(where: { assignment[$0] >= 0 }) {
            let options = piece.filter { !p.hubsInArea[$0].isEmpty }
            guard let s = options.randomElement(using: &rng) else { return nil }
            assignment[s] = regions.count
            regions.append([s])
        }
        while regions.count < k {
            let steps = p.steps(from: regions.flatMap { $0 })
            let free = hosts.filter { assignment[$0] < 0 }
            guard let far = free.map({ steps[$0] }).max() else { return nil }
            let farthest = free.filter { steps[$0] == far }
            let s = farthest.randomElement(using: &rng)!
            assignment[s] = regions.count
            regions.append([s])
        }
        guard regions.count == k else { return nil }
        var fits = regions.map(p.fit)
        guard fits.allSatisfy({ $0.hub != nil }) else { return nil }
        var free = Set((0..<p.areaCount).filter { assignment[$0] < 0 })
        // The best free neighbour of each region, recomputed only when the region grew or lost it.
        var cached: [(area: Int, key: (Int, Double, Double))?] = Array(repeating: nil, count: k)
        var dirty = Set(0..<k)
        while !free.isEmpty {
            for r in dirty {
                cached[r] = nil
                var seen = Set<Int>()
                for a in regions[r] {
                    for j in p.neighbours[a] where free.contains(j) && !seen.contains(j) && p.group[j] == p.group[a] {
                        seen.insert(j)
                        let f = p.fit(regions[r] + [j])
                        guard f.hub != nil else { continue }
                        let over = p.maxPopulation.map { f.population > $0 } ?? false
                        let key = (over ? 1 : 0, p.objective == .balance ? fits[r].population : 0, f.travel - fits[r].travel)
                        if cached[r] == nil || key < cached[r]!.key || (key == cached[r]!.key && j < cached[r]!.area) {
                            cached[r] = (j, key)
                        }
                    }
                }
            }
            dirty = []
            var pick: (region: Int, area: Int, key: (Int, Double, Double))?
            for r in 0..<k {
                guard let c = cached[r] else { continue }
                if pick == nil || c.key < pick!.key { pick = (r, c.area, c.key) }
            }
            guard let pick else { return nil }
            regions[pick.region].append(pick.area)
            assignment[pick.area] = pick.region
            fits[pick.region] = p.fit(regions[pick.region])
            free.remove(pick.area)
            for r in 0..<k where r == pick.region || cached[r]?.area == pick.area { dirty.insert(r) }
        }
        return Partition(problem: p, assignment: assignment)
    }

    /// Max-p construction: seeds in random order, each region grown until it has the minimum population and
    /// every required category; regions that cannot get there give their areas back, and leftover areas join
    /// the cheapest neighbouring region. Nil when some area joins none.
    ///
    /// With `fill`, regions aim at the minimum with little to spare (more regions): seeds on the edge of the
    /// free land first, the largest neighbour while short of the minimum, then the one that passes it by least.
    /// Without, each step takes the neighbour that adds least travel (better regions, perhaps fewer).
    static func growToMinimum(_ p: RegionProblem, fill: Bool, rng: inout SplitMix64) -> Partition? {
        guard var (regions, assignment) = startingRegions(p) else { return nil }
        let minimum = p.minPopulation ?? 0
        func satisfied(_ m: [Int]) -> Bool {
            let pop = m.reduce(0) { $0 + p.population[$1] }
            if let lo = p.minPopulation, pop < lo { return false }
            return p.required.indices.allSatisfy { r in m.contains { p.areaHas[$0][r] } }
        }
        func bestNeighbour(_ m: [Int], free: (Int) -> Bool) -> Int? {
            let now = p.fit(m)
            var best: (area: Int, key: (Int, Double, Double))?
            for j in Set(m.flatMap { a in p.neighbours[a].filter { p.group[$0] == p.group[a] } }) where free(j) {
                let f = p.fit(m + [j])
                guard f.hub != nil, p.maxPopulation.map({ f.population <= $0 }) ?? true else { continue }
                let d = f.travel - now.travel
                let key: (Int, Double, Double)
                if fill {
                    key = f.population >= minimum ? (0, f.population - minimum, d) : (1, -p.population[j], d)
                } else {
                    key = (0, d, 0)
                }
                if best == nil || key < best!.key || (key == best!.key && j < best!.area) { best = (j, key) }
            }
            return best?.area
        }
        // Locked and fixed-hub regions grow first, then seeds in random order.
        var r = 0
        while r < regions.count {
            while !satisfied(regions[r]), let j = bestNeighbour(regions[r], free: { assignment[$0] < 0 }) {
                regions[r].append(j)
                assignment[j] = r
            }
            r += 1
        }
        var order = (0..<p.areaCount).filter { !p.hubsInArea[$0].isEmpty }
        order.shuffle(using: &rng)
        if fill {
            // Edge first: an area with few free neighbours left is the one most easily stranded.
            let freeNeighbours = order.map { i in p.neighbours[i].filter { assignment[$0] < 0 }.count }
            let rank = Dictionary(uniqueKeysWithValues: zip(order, freeNeighbours))
            order = order.enumerated().sorted { (rank[$0.element]!, $0.offset) < (rank[$1.element]!, $1.offset) }.map(\.element)
        }
        for s in order where assignment[s] < 0 {
            var region = [s]
            assignment[s] = regions.count
            guard p.fit(region).hub != nil else { assignment[s] = -1; continue }
            while !satisfied(region), let j = bestNeighbour(region, free: { assignment[$0] < 0 }) {
                region.append(j)
                assignment[j] = regions.count
            }
            if satisfied(region) {
                regions.append(region)
            } else {
                for i in region { assignment[i] = -1 }
            }
        }
        // Leftovers: to the neighbouring region they cost least in (within the maximum when possible).
        var left = (0..<p.areaCount).filter { assignment[$0] < 0 }
        while !left.isEmpty {
            var progress = false
            for i in left {
                var best: (region: Int, key: (Int, Double))?
                for j in p.neighbours[i] where assignment[j] >= 0 && p.group[j] == p.group[i] {
                    let r = assignment[j]
                    let f = p.fit(regions[r] + [i])
                    guard f.hub != nil else { continue }
                    let over = p.maxPopulation.map { f.population > $0 } ?? false
                    let key = (over ? 1 : 0, f.travel - p.fit(regions[r]).travel)
                    if best == nil || key < best!.key { best = (r, key) }
                }
                if let best {
                    regions[best.region].append(i)
                    assignment[i] = best.region
                    progress = true
                }
            }
            left = left.filter { assignment[$0] < 0 }
            if !progress { break }
        }
        guard left.isEmpty, !regions.isEmpty else { return nil }
        return Partition(problem: p, assignment: assignment)
    }

    // MARK: local search

    /// Tabu search over single-area moves to a neighbouring cluster. A move keeps both clusters contiguous
    /// and each with a hub every member reaches; a moved area stays put for a while unless moving it gives a
    /// new best. Stops after `stall` moves without a new best. A move's effect depends only on its two
    /// clusters, so it is kept until one of them changes: each step re-evaluates only moves touching the two
    /// clusters the last move changed.
    mutating func localSearch(stall: Int, rng: inout SplitMix64, control: WorkControl) {
        let k = members.count, n = problem.areaCount
        guard k > 1 else { return }
        struct Leaving { var cluster = -1, version = -1, ok = false, fit = RegionProblem.ClusterFit(population: 0, hub: nil, travel: 0) }
        struct Joining { var cluster: Int, version: Int, from: Int, fromVersion: Int, ok: Bool, delta: RegionScore, fit: RegionProblem.ClusterFit }
        var version = Array(repeating: 0, count: k)
        var leaving = Array(repeating: Leaving(), count: n)
        var joining = Array(repeating: [Joining](), count: n)
        var best = self
        var current = score
        var bestScore = current
        var tabu = Array(repeating: 0, count: n)  // the move number until which an area stays put
        let tenure = max(5, min(30, n / 10))
        let mean = self.mean
        var sinceBest = 0, move = 0
        var order = Array(0..<n)
        while sinceBest < stall && !control.isStopped {
            move += 1
            var bestMove: (area: Int, to: Int, score: RegionScore, fa: RegionProblem.ClusterFit, fb: RegionProblem.ClusterFit)?
            order.shuffle(using: &rng)
            for i in order where !pinned.contains(i) {
                let a = assignment[i]
                guard members[a].count > 1 else { continue }
                if leaving[i].cluster != a || leaving[i].version != version[a] {
                    let rest = members[a].filter { $0 != i }
                    let fa = problem.isConnected(rest) ? problem.fit(rest) : RegionProblem.ClusterFit(population: 0, hub: nil, travel: 0)
                    leaving[i] = Leaving(cluster: a, version: version[a], ok: fa.hub != nil, fit: fa)
                }
                guard leaving[i].ok else { continue }
                let fa = leaving[i].fit
                var targets: [Int] = []
                for j in problem.neighbours[i] where assignment[j] != a && !targets.contains(assignment[j]) { targets.append(assignment[j]) }
                for b in targets.sorted() where members[b].first.map({ problem.group[$0] == problem.group[i] }) ?? false {
                    var e = joining[i].first { $0.cluster == b && $0.version == version[b] && $0.from == a && $0.fromVersion == version[a] }
                    if e == nil {
                        let joined = members[b] + [i]
                        let fb = problem.fit(joined)
                        var d = RegionScore(violation: 0, primary: 0, secondary: 0)
                        if fb.hub != nil {
                            let rest = members[a].filter { $0 != i }
                            let (oa, sa) = parts(fits[a], mean: mean), (ob, sb) = parts(fits[b], mean: mean)
                            let (na, ta) = parts(fa, mean: mean), (nb, tb) = parts(fb, mean: mean)
                            d.primary = na + nb - oa - ob
                            d.secondary = ta + tb - sa - sb
                            d.violation = violation(rest, fa) + violation(joined, fb) - violation(members[a], fits[a]) - violation(members[b], fits[b])
                        }
                        let made = Joining(cluster: b, version: version[b], from: a, fromVersion: version[a], ok: fb.hub != nil, delta: d, fit: fb)
                        joining[i].removeAll { $0.cluster == b }
                        joining[i].append(made)
                        e = made
                    }
                    guard let e, e.ok else { continue }
                    let s = RegionScore(violation: current.violation + e.delta.violation, primary: current.primary + e.delta.primary,
                                        secondary: current.secondary + e.delta.secondary)
                    if tabu[i] > move && !(s < bestScore) { continue }
                    if bestMove == nil || s < bestMove!.score { bestMove = (i, b, s, fa, e.fit) }
                }
            }
            guard let m = bestMove else { break }
            let from = assignment[m.area]
            members[from].removeAll { $0 == m.area }
            members[m.to].append(m.area)
            assignment[m.area] = m.to
            fits[from] = m.fa
            fits[m.to] = m.fb
            version[from] += 1
            version[m.to] += 1
            tabu[m.area] = move + tenure
            current = m.score
            if m.score < bestScore {
                best = self
                bestScore = m.score
                sinceBest = 0
            } else {
                sinceBest += 1
            }
        }
        self = best
    }
}

extension RegionProblem {
    /// Steps through neighbours from the nearest of `sources` to every area (areaCount when unreachable).
    func steps(from sources: [Int]) -> [Int] {
        var d = Array(repeating: areaCount, count: areaCount)
        var queue = sources, head = 0
        for s in sources { d[s] = 0 }
        while head < queue.count {
            let a = queue[head]; head += 1
            for b in neighbours[a] where d[b] > d[a] + 1 { d[b] = d[a] + 1; queue.append(b) }
        }
        return d
    }
}
