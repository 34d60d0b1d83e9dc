import Foundation
import Testing
import KlyngeWork
@testable import KlyngeAnalysis

/// Regionalisation against brute force: every partition of a small map into contiguous clusters is
/// enumerated here with its own hub choice and constraint checks (nothing from the solver's code), and the
/// exact solver must reach the same optimum and say it is proven; the heuristic must give a valid partition
/// no better than that optimum, the same one for the same seed.
@Suite struct RegionTests {
    // MARK: instances

    struct LCG {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        mutating func int(_ n: Int) -> Int { min(n - 1, Int(next() * Double(n))) }
    }

    /// A rows × columns grid of areas (rook neighbours), one or two hubs each, travel growing with grid distance.
    static func grid(rows: Int, columns: Int, seed: UInt64, limitSteps: Int? = nil, objective: RegionObjective = .travel,
                     count: RegionCount, minPopulation: Double? = nil, maxPopulation: Double? = nil,
                     required: Bool = false) -> RegionProblem {
        var rng = LCG(state: seed)
        let n = rows * columns
        var neighbours = Array(repeating: [Int](), count: n)
        for r in 0..<rows {
            for c in 0..<columns {
                let i = r * columns + c
                if c + 1 < columns { neighbours[i].append(i + 1); neighbours[i + 1].append(i) }
                if r + 1 < rows { neighbours[i].append(i + columns); neighbours[i + columns].append(i) }
            }
        }
        let population = (0..<n).map { _ in Double(50 + rng.int(450)) }
        var hubs: [RegionHub] = []
        for i in 0..<n {
            for k in 0..<(1 + rng.int(2)) { hubs.append(RegionHub(id: "h\(i)-\(k)", name: "hub \(i)-\(k)", kind: .village, area: i)) }
        }
        let cost: [[Double]] = (0..<n).map { i in
            hubs.map { h in
                let steps = abs(i / columns - h.area / columns) + abs(i % columns - h.area % columns)
                if let limitSteps, steps > limitSteps { return .infinity }
                return population[i] * (Double(steps) * 300 + (i == h.area ? 0 : rng.next() * 120))
            }
        }
        let has = (0..<n).map { _ in [rng.next() < 0.35] }
        return RegionProblem(areaIds: (0..<n).map { "a\($0)" }, areaNames: (0..<n).map { "Area \($0)" }, population: population,
                             neighbours: neighbours, hubs: hubs, cost: cost, required: required ? ["school"] : [],
                             areaHas: required ? has : nil, minPopulation: minPopulation, maxPopulation: maxPopulation,
                             count: count, objective: objective)
    }

    // MARK: brute force

    struct Best {
        var value: Double
        var clusters: Int
        var travel: Double
    }

    /// Every partition into contiguous clusters meeting every constraint, by enumeration.
    static func bruteForce(_ p: RegionProblem) -> Best? {
        let n = p.areaCount
        precondition(n <= 20)
        let nb = (0..<n).map { i in p.neighbours[i].reduce(UInt32(0)) { $0 | (1 << UInt32($1)) } }
        func areas(_ m: UInt32) -> [Int] { (0..<n).filter { m & (1 << UInt32($0)) != 0 } }
        // Hub of a block: inside it, reached by every member; least summed cost.
        func block(_ m: UInt32) -> (ok: Bool, pop: Double, travel: Double) {
            let a = areas(m)
            let pop = a.reduce(0) { $0 + p.population[$1] }
            if let lo = p.minPopulation, pop < lo { return (false, pop, 0) }
            if let hi = p.maxPopulation, pop > hi { return (false, pop, 0) }
            for r in p.required.indices where !a.contains(where: { p.areaHas[$0][r] }) { return (false, pop, 0) }
            var labels = Set<String>()
            for i in a { if let l = p.locks[i] { labels.insert(l) } }
            if labels.count > 1 { return (false, pop, 0) }
            let fixed = p.fixedHubs.filter { a.contains(p.hubs[$0].area) }
            if fixed.count > 1 { return (false, pop, 0) }
            var best = Double.infinity
            for (h, hub) in p.hubs.enumerated() where a.contains(hub.area) && (fixed.isEmpty || fixed.contains(h)) {
                let t = a.reduce(0.0) { $0 + p.cost[$1][h] }
                best = min(best, t)
            }
            return (best.isFinite, pop, best)
        }
        // Connected blocks containing u within `allowed`, each once (extension with a forbidden set).
        func connected(_ u: Int, _ allowed: UInt32) -> [UInt32] {
            var out: [UInt32] = []
            func rec(_ current: UInt32, _ frontier: UInt32, _ forbidden: UInt32) {
                out.append(current)
                var f = frontier & ~forbidden
                var forb = forbidden
                while f != 0 {
                    let v = UInt32(f.trailingZeroBitCount)
                    let bit: UInt32 = 1 << v
                    f &= ~bit
                    let next = (frontier | nb[Int(v)]) & allowed & ~current & ~bit
                    rec(current | bit, next, forb)
                    forb |= bit
                }
            }
            rec(1 << UInt32(u), nb[u] & allowed, 0)
            return out
        }
        var cache: [UInt32: (ok: Bool, pop: Double, travel: Double)] = [:]
        var best: Best?
        var pops: [Double] = [], travel = 0.0
        let all: UInt32 = n == 32 ? ~0 : (1 << UInt32(n)) - 1
        func consider() {
            let k = pops.count
            if case .exactly(let want) = p.count, want != k { return }
            // Every lock label in one block, every fixed hub's area with its hub chosen: checked per block above
            // except labels spread over blocks, checked here through the block list.
            let value: Double
            switch p.objective {
            case .travel: value = travel
            case .balance:
                let mean = pops.reduce(0, +) / Double(k)
                value = pops.reduce(0) { $0 + abs($1 - mean) }
            case .count: value = -Double(k)
            }
            let candidate = Best(value: value, clusters: k, travel: travel)
            if best == nil || value < best!.value - 1e-9 || (abs(value - best!.value) <= 1e-9 && travel < best!.travel) { best = candidate }
        }
        var blocks: [UInt32] = []
        // Each label's areas as a mask: a partition keeps them together when one block holds all of them.
        let labelMasks = Dictionary(grouping: p.locks.keys, by: { p.locks[$0]! }).values.map { $0.reduce(UInt32(0)) { $0 | (1 << UInt32($1)) } }
        func locksHold() -> Bool {
            labelMasks.allSatisfy { l in blocks.contains { $0 & l == l } }
        }
        let groupMask = (0..<n).map { u in (0..<n).filter { p.group[$0] == p.group[u] }.reduce(UInt32(0)) { $0 | (1 << UInt32($1)) } }
        func partition(_ free: UInt32) {
            if free == 0 {
                if labelMasks.isEmpty || locksHold() { consider() }
                return
            }
            let u = free.trailingZeroBitCount
            for m in connected(u, free & groupMask[u]) {
                let b = cache[m] ?? block(m)
                cache[m] = b
                guard b.ok else { continue }
                pops.append(b.pop); travel += b.travel; blocks.append(m)
                partition(free & ~m)
                pops.removeLast(); travel -= b.travel; blocks.removeLast()
            }
        }
        partition(all)
        return best
    }

    static func value(_ s: RegionSolution, _ p: RegionProblem) -> Double {
        p.objective == .count ? -Double(s.clusterCount) : s.objectiveValue
    }

    // MARK: tests

    @Test func exactMatchesBruteForceOnSmallMaps() throws {
        var cases: [RegionProblem] = []
        for seed in UInt64(1)...6 {
            cases.append(Self.grid(rows: 2, columns: 4, seed: seed, count: .exactly(3)))
            cases.append(Self.grid(rows: 3, columns: 3, seed: seed, objective: .balance, count: .exactly(3)))
            cases.append(Self.grid(rows: 2, columns: 5, seed: seed, objective: .count, count: .most, minPopulation: 700))
            cases.append(Self.grid(rows: 3, columns: 3, seed: seed, limitSteps: 1, count: .exactly(4), maxPopulation: 1400, required: true))
        }
        var checked = 0
        for p in cases {
            let truth = Self.bruteForce(p)
            let outcome = try Regionalisation.solve(p, solver: .exact, options: RegionSearchOptions(), timeLimitSeconds: 60)
            switch outcome {
            case .solved(let s):
                let t = try #require(truth, "the solver found a partition that brute force says cannot exist")
                #expect(p.violations(assignment: s.assignment, hubs: s.hubs).isEmpty)
                #expect(s.proven)
                #expect(abs(Self.value(s, p) - t.value) <= 1e-6 * max(1, abs(t.value)), "exact \(Self.value(s, p)) vs brute force \(t.value)")
                checked += 1
            case .unsolved(_, let proven):
                #expect(truth == nil, "brute force found \(String(describing: truth)) but the solver none")
                #expect(proven)
            }
        }
        #expect(checked >= 16)
    }

    @Test func twelveAreasAgreeWithBruteForce() throws {
        let p = Self.grid(rows: 3, columns: 4, seed: 7, count: .exactly(4), minPopulation: 500)
        let truth = try #require(Self.bruteForce(p))
        guard case .solved(let s) = try Regionalisation.solve(p, solver: .exact, options: RegionSearchOptions(), timeLimitSeconds: 120) else {
            Issue.record("no answer"); return
        }
        #expect(s.proven)
        #expect(abs(s.objectiveValue - truth.value) <= 1e-6 * truth.value)
    }

    @Test func heuristicIsValidReproducibleAndNeverBeatsTheOptimum() throws {
        for seed in UInt64(1)...5 {
            for p in [Self.grid(rows: 3, columns: 4, seed: seed, count: .exactly(3)),
                      Self.grid(rows: 3, columns: 4, seed: seed, objective: .count, count: .most, minPopulation: 800),
                      Self.grid(rows: 3, columns: 3, seed: seed, objective: .balance, count: .exactly(3), maxPopulation: 1500)] {
                let truth = Self.bruteForce(p)
                let a = RegionHeuristic.solve(p, options: RegionSearchOptions(seed: 42))
                let b = RegionHeuristic.solve(p, options: RegionSearchOptions(seed: 42))
                #expect(a?.assignment == b?.assignment)
                guard let a else { continue }
                let t = try #require(truth)
                #expect(p.violations(assignment: a.assignment, hubs: a.hubs).isEmpty)
                #expect(!a.proven)
                #expect(Self.value(a, p) >= t.value - 1e-6 * max(1, abs(t.value)))
            }
        }
    }

    @Test func heuristicFindsOptimaOnMostSmallMaps() throws {
        // Not a proof of quality, a guard against a search that stops improving: 12-area travel problems.
        var hits = 0
        for seed in UInt64(1)...10 {
            let p = Self.grid(rows: 3, columns: 4, seed: seed, count: .exactly(3))
            let t = try #require(Self.bruteForce(p))
            if let h = RegionHeuristic.solve(p), abs(h.objectiveValue - t.value) <= 1e-6 * t.value { hits += 1 }
        }
        #expect(hits >= 8, "the heuristic reached the optimum on \(hits) of 10 maps")
    }

    @Test func aStartIsKeptWhenBestAndIgnoredWhenBroken() throws {
        for seed in UInt64(1)...5 {
            let p = Self.grid(rows: 3, columns: 4, seed: seed, count: .exactly(3))
            guard case .solved(let optimum) = try Regionalisation.solve(p, solver: .exact, options: RegionSearchOptions(), timeLimitSeconds: 60) else {
                Issue.record("no optimum"); continue
            }
            // From the proven optimum, a single construction with no moves left still answers with it.
            let started = try #require(RegionHeuristic.solve(p, options: RegionSearchOptions(seed: 3, restarts: 1, start: optimum.assignment)))
            #expect(abs(started.objectiveValue - optimum.objectiveValue) <= 1e-6 * optimum.objectiveValue)
            // Columns as clusters would be contiguous; a checkerboard is not, and is no start at all.
            let broken = (0..<12).map { ($0 / 4 + $0 % 4) % 3 }
            #expect(p.unmendable(broken).contains { $0.kind == .notContiguous })
            let fresh = RegionHeuristic.solve(p, options: RegionSearchOptions(seed: 3))
            let ignored = RegionHeuristic.solve(p, options: RegionSearchOptions(seed: 3, start: broken))
            #expect(fresh?.assignment == ignored?.assignment)
        }
    }

    @Test func aHandMadePartitionIsEvaluatedWithItsBestHubs() throws {
        let p = Self.grid(rows: 2, columns: 3, seed: 11, count: .exactly(2), minPopulation: 400, maxPopulation: 1200)
        // Left column + middle column | right column: contiguous; its hubs are each cluster's cheapest.
        let (assignment, fits, problems) = p.evaluate(assignment: [5, 5, 9, 5, 5, 9])
        #expect(assignment == [0, 0, 1, 0, 0, 1])
        for (c, members) in [[0, 1, 3, 4], [2, 5]].enumerated() {
            let best = members.flatMap { p.hubsInArea[$0] }.min { h, g in
                members.reduce(0) { $0 + p.cost[$1][h] } < members.reduce(0) { $0 + p.cost[$1][g] }
            }
            #expect(fits[c].hub == best)
        }
        let pops = [[0, 1, 3, 4], [2, 5]].map { $0.reduce(0) { $0 + p.population[$1] } }
        #expect(problems.contains(.tooManyPeople(cluster: 0, population: pops[0], maximum: 1200)) == (pops[0] > 1200))
        #expect(problems.contains(.tooFewPeople(cluster: 1, population: pops[1], minimum: 400)) == (pops[1] < 400))
        // Corners only: areas 0 and 4 share no edge.
        let corner = p.evaluate(assignment: [0, 1, 1, 1, 0, 1]).problems
        #expect(corner.contains(.notContiguous(cluster: 0)))
        #expect(p.evaluate(assignment: [0, 0, 0, -1, 1, 1]).problems.contains(.unassigned(area: 3)))
    }

    @Test func obstaclesNameTheirCause() throws {
        // A line of four areas and an island: the island alone is below the minimum.
        let neighbours = [[1], [0, 2], [1, 3], [2], []]
        let hubs = (0..<5).map { RegionHub(id: "v\($0)", name: "Village \($0)", kind: .village, area: $0) }
        var cost: [[Double]] = []
        for i in 0..<5 {
            var row: [Double] = []
            for h in 0..<5 {
                let steps = Double(abs(i - h))
                row.append((i == 4) != (h == 4) ? Double.infinity : steps * 100)
            }
            cost.append(row)
        }
        let p = RegionProblem(areaIds: ["1", "2", "3", "4", "Ø"], areaNames: ["A", "B", "C", "D", "Island"], population: [300, 300, 300, 300, 40],
                              neighbours: neighbours, hubs: hubs, cost: cost, minPopulation: 500, count: .most, objective: .count)
        let reasons = p.obstacles()
        #expect(reasons == [RegionObstacle.belowMinimum(areas: [4], population: 40)])
        #expect(p.describe(reasons[0]).contains("Island (Ø)"))
        guard case .unsolved(let r, true) = try Regionalisation.solve(p, solver: .auto, options: RegionSearchOptions(), timeLimitSeconds: 10) else {
            Issue.record("an island below the minimum was solved"); return
        }
        #expect(r.count == 1)
        // Joined by an explicit link, it is solvable.
        var linked = p
        linked.neighbours[3].append(4); linked.neighbours[4].append(3)
        linked.cost[4][3] = 500; linked.cost[3][4] = 500
        guard case .solved(let s) = try Regionalisation.solve(linked, solver: .exact, options: RegionSearchOptions(), timeLimitSeconds: 10) else {
            Issue.record("the linked island was not solved"); return
        }
        #expect(s.clusterCount == 2 && s.proven)
    }

    @Test func locksWithinAndFixedHubsHold() throws {
        var p = Self.grid(rows: 3, columns: 4, seed: 3, count: .exactly(3))
        p.locks = [0: "Vest", 11: "Øst"]
        let west = (0..<12).filter { $0 % 4 < 2 }, east = (0..<12).filter { $0 % 4 >= 2 }
        p.group = (0..<12).map { $0 % 4 < 2 ? 0 : 1 }  // two kommuner side by side
        p.fixedHubs = [p.hubs.firstIndex { $0.area == 5 }!]
        let truth = try #require(Self.bruteForce(p))
        for solver in [RegionSolverChoice.exact, .heuristic] {
            guard case .solved(let s) = try Regionalisation.solve(p, solver: solver, options: RegionSearchOptions(), timeLimitSeconds: 60) else {
                Issue.record("\(solver): no answer"); continue
            }
            #expect(p.violations(assignment: s.assignment, hubs: s.hubs).isEmpty, "\(solver)")
            #expect(s.assignment[0] != s.assignment[11])
            let westClusters = Set(west.map { s.assignment[$0] }), eastClusters = Set(east.map { s.assignment[$0] })
            #expect(westClusters.isDisjoint(with: eastClusters))
            #expect(s.hubs.contains(p.fixedHubs.first!))
            if solver == .exact { #expect(abs(s.objectiveValue - truth.value) <= 1e-6 * truth.value) }
        }
    }
}
