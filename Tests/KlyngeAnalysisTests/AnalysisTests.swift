import Testing
import KlyngeGeo
import KlyngeNetwork
@testable import KlyngeAnalysis

struct RNG {
    var state: UInt64
    mutating func next() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }
    mutating func below(_ n: Int) -> Int { min(Int(next() * Double(n)), n - 1) }
}

/// A random world: demand points and sites with random costs (some unreachable), two categories.
func randomEngine(seed: UInt64, demand: Int = 60, sites: Int = 14, candidates: Int = 4) -> CoverageEngine {
    var rng = RNG(state: seed)
    let cats = ["hall", "school"]
    var s: [Site] = []
    for i in 0..<(sites + candidates) {
        let c: [String] = rng.next() < 0.2 ? cats : [cats[rng.below(2)]]
        s.append(Site(id: "s\(i)", name: "Site \(i)", categories: c, location: Coordinate(x: 0, y: 0),
                      capacity: Double(rng.below(200)), annualCost: 1000 * Double(rng.below(100)), isCandidate: i >= sites))
    }
    let dem = (0..<demand).map { DemandSite(id: "d\($0)", name: "Village \($0)", weight: Double(1 + rng.below(300)), areaId: "a\($0 % 5)") }
    var costs: [[PathCost?]] = []
    for _ in 0..<demand {
        costs.append((0..<s.count).map { _ in
            rng.next() < 0.05 ? nil : PathCost(cost: (60 + rng.next() * 1500).rounded(), meters: (1000 + rng.next() * 20000).rounded())
        })
    }
    let table = AccessTable(demandCount: demand, siteCount: s.count) { costs[$0][$1] }
    return CoverageEngine(sites: s, demand: dem, categories: cats,
                          rules: ["hall": CoverageRule(mode: .car, metric: .duration, threshold: 600),
                                  "school": CoverageRule(mode: .car, metric: .distance, threshold: 8000)],
                          tables: [.car: table])
}

func randomChanges(_ e: CoverageEngine, _ rng: inout RNG) -> [Change] {
    var plan = e.baselinePlan
    var changes: [Change] = []
    for _ in 0..<(1 + rng.below(4)) {
        let s = rng.below(e.sites.count)
        switch rng.below(3) {
        case 0 where plan.open[s]: changes.append(.close(s)); plan.open[s] = false
        case 1 where !plan.open[s]: changes.append(.open(s)); plan.open[s] = true
        default: let c = [["hall"], ["school"], ["hall", "school"]][rng.below(3)]; changes.append(.recategorise(s, c)); plan.categories[s] = Set(c)
        }
    }
    return changes
}

@Suite struct CoveragePropertyTests {
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func incrementalEqualsFullEvaluation(_ seed: UInt64) throws {
        let e = randomEngine(seed: seed)
        var rng = RNG(state: seed * 31)
        for _ in 0..<40 {
            let plan = try e.baselinePlan.applying(randomChanges(e, &rng), sites: e.sites, scenario: "r")
            let fast = e.evaluate(plan)
            for c in e.categories {
                let full = CoverageEngine.full(category: c, rule: e.rules[c]!, table: e.tables[.car]!, plan: plan, demandCount: e.demand.count)
                #expect(fast[c]!.value == full.value)
                #expect(fast[c]!.site == full.site)
            }
        }
    }

    @Test(arguments: [7, 8, 9] as [UInt64])
    func closingNeverHelpsAndOpeningNeverHurts(_ seed: UInt64) throws {
        let e = randomEngine(seed: seed)
        var rng = RNG(state: seed)
        for _ in 0..<60 {
            let plan = try e.baselinePlan.applying(randomChanges(e, &rng), sites: e.sites, scenario: "r")
            let before = e.evaluate(plan)
            let s = rng.below(e.sites.count)
            var other = plan
            other.open[s].toggle()
            let after = e.evaluate(other)
            for c in e.categories {
                for d in e.demand.indices {
                    if plan.open[s] { #expect(after[c]!.value[d] >= before[c]!.value[d]) }  // closed s
                    else { #expect(after[c]!.value[d] <= before[c]!.value[d]) }  // opened s
                }
            }
        }
    }

    @Test(arguments: [11, 12, 13] as [UInt64])
    func mergeEqualsClosingPlusRecategorising(_ seed: UInt64) throws {
        let e = randomEngine(seed: seed)
        var rng = RNG(state: seed)
        for _ in 0..<40 {
            let open = e.sites.indices.filter { e.baselinePlan.open[$0] }
            let keep = open[rng.below(open.count)]
            let others = Array(Set((0..<2).map { _ in open[rng.below(open.count)] }).subtracting([keep]))
            guard !others.isEmpty else { continue }
            let merged = try e.baselinePlan.applying([.merge(keep: keep, close: others)], sites: e.sites, scenario: "m")
            let cats = others.reduce(e.baselinePlan.categories[keep]) { $0.union(e.baselinePlan.categories[$1]) }
            let manual = try e.baselinePlan.applying(others.map { .close($0) } + [.recategorise(keep, Array(cats))], sites: e.sites, scenario: "m")
            #expect(merged.open == manual.open && merged.categories == manual.categories)
            let a = e.evaluate(merged), b = e.evaluate(manual)
            for c in e.categories { #expect(a[c]!.value == b[c]!.value) }
            let capacity = others.reduce(e.baselinePlan.capacity[keep] ?? 0) { $0 + (e.baselinePlan.capacity[$1] ?? 0) }
            #expect(merged.capacity[keep] == capacity)
        }
    }

    @Test func compareListsExactlyThePointsWhoseCoverageChanges() throws {
        let e = randomEngine(seed: 21)
        var rng = RNG(state: 5)
        for _ in 0..<30 {
            let plan = try e.baselinePlan.applying(randomChanges(e, &rng), sites: e.sites, scenario: "r")
            let cmp = e.compare(e.baselinePlan, plan)
            let x = e.evaluate(e.baselinePlan), y = e.evaluate(plan)
            for cc in cmp.categories {
                let c = cc.category
                let losing = e.demand.indices.filter { x[c]!.isCovered($0) && !y[c]!.isCovered($0) }.map { e.demand[$0].id }
                let gaining = e.demand.indices.filter { !x[c]!.isCovered($0) && y[c]!.isCovered($0) }.map { e.demand[$0].id }
                #expect(cc.losing.map(\.demandId) == losing)
                #expect(cc.gaining.map(\.demandId) == gaining)
                for p in cc.losing + cc.gaining {
                    let d = e.demand.firstIndex { $0.id == p.demandId }!
                    #expect(p.before == (x[c]!.value[d].isFinite ? x[c]!.value[d] : nil))
                    #expect(p.after == (y[c]!.value[d].isFinite ? y[c]!.value[d] : nil))
                }
            }
        }
    }

    @Test func badChangesAreRefused() {
        let e = randomEngine(seed: 3)
        let open = e.sites.indices.first { e.baselinePlan.open[$0] }!
        let candidate = e.sites.indices.first { !e.baselinePlan.open[$0] }!
        #expect(throws: ScenarioError.self) { try e.baselinePlan.applying([.open(open)], sites: e.sites, scenario: "x") }
        #expect(throws: ScenarioError.self) { try e.baselinePlan.applying([.close(candidate)], sites: e.sites, scenario: "x") }
        #expect(throws: ScenarioError.self) { try e.baselinePlan.applying([.recategorise(open, [])], sites: e.sites, scenario: "x") }
        #expect(throws: ScenarioError.self) { try e.baselinePlan.applying([.merge(keep: open, close: [open])], sites: e.sites, scenario: "x") }
    }
}

@Suite struct StatisticsTests {
    @Test func weightedPercentilesByHand() {
        // Values 1..4 with weights 1, 1, 1, 7: total 10.
        let v = [4.0, 1, 3, 2], w = [7.0, 1, 1, 1]
        #expect(Weighted.percentile(v, weights: w, 0.1) == 1)   // 1 of 10 reached at value 1
        #expect(Weighted.percentile(v, weights: w, 0.3) == 3)   // 1+1+1 = 3 at value 3
        #expect(Weighted.percentile(v, weights: w, 0.31) == 4)
        #expect(Weighted.percentile(v, weights: w, 0.5) == 4)
        let mean: Double = 34.0 / 10.0
        #expect(Weighted.mean(v, weights: w) == mean)
        #expect(Weighted.percentile([1, .infinity], weights: [1, 1], 0.9) == .infinity)
        #expect(Weighted.mean([1, .infinity], weights: [1, 3]) == 1)
    }

    @Test func summaryFigures() {
        let rule = CoverageRule(mode: .car, metric: .duration, threshold: 600)
        let s = CoverageSummary(category: "hall", rule: rule, openFacilities: 2, values: [300, 700, .infinity, 500],
                                weights: [100, 50, 10, 40], ids: ["a", "b", "c", "d"], names: ["A", "B", "C", "D"])
        #expect(s.population == 200 && s.coveredPopulation == 140 && abs(s.coveredShare - 0.7) < 1e-12)
        #expect(s.populationBeyond == 60 && s.populationUnreachable == 10)
        #expect(s.median == 300 && s.p90 == 700)
        #expect(s.max == nil && s.worstServedId == "c")  // an unreachable village is the worst served
        let expectedMean: Double = (30000.0 + 35000.0 + 20000.0) / 190.0
        #expect(abs(s.mean! - expectedMean) < 1e-9)
    }
}

/// Access beyond the nearest facility, against figures worked by hand: the two-step floating catchment ratio
/// (capacity shared among the people within the threshold of each facility, summed per village, per 1,000),
/// cumulative opportunities and backup coverage; and when a facility has no capacity, one facility each.
@Suite struct AccessibilityTests {
    func engine(capacities: [Double?]) -> CoverageEngine {
        let sites = [Site(id: "F1", name: "F1", categories: ["hall"], location: Coordinate(x: 0, y: 0), capacity: capacities[0]),
                     Site(id: "F2", name: "F2", categories: ["hall"], location: Coordinate(x: 0, y: 0), capacity: capacities[1])]
        let demand = [DemandSite(id: "A", name: "A", weight: 100, areaId: nil), DemandSite(id: "B", name: "B", weight: 300, areaId: nil),
                      DemandSite(id: "C", name: "C", weight: 50, areaId: nil)]
        let seconds: [[Double?]] = [[300, 700], [500, 600.004], [900, nil]]
        let table = AccessTable(demandCount: 3, siteCount: 2) { d, s in seconds[d][s].map { PathCost(cost: $0, meters: $0) } }
        return CoverageEngine(sites: sites, demand: demand, categories: ["hall"],
                              rules: ["hall": CoverageRule(mode: .car, metric: .duration, threshold: 600)], tables: [.car: table])
    }

    @Test func twoStepFloatingCatchmentByHand() throws {
        let e = engine(capacities: [50, 30])
        let a = try #require(e.access(e.baselinePlan, category: "hall"))
        // F1 reaches A and B (400 people): 50/400; F2 reaches B only (600.004 s is 600.00, within 10 minutes): 30/300.
        #expect(a.unit == .capacity)
        #expect(a.opportunities == [1, 2, 0])
        #expect(a.ratioPer1000[0]! == 125 && abs(a.ratioPer1000[1]! - 225) < 1e-9 && a.ratioPer1000[2] == nil)
        #expect(a.backupPopulation == 300)
        #expect(abs(a.meanRatioPer1000! - (100 * 125 + 300 * 225) / 450) < 1e-9)
        // Closing F2: B keeps F1 but loses its backup, and F1's places are shared as before.
        var closed = e.baselinePlan
        closed.open[1] = false
        let after = try #require(e.access(closed, category: "hall"))
        #expect(after.opportunities == [1, 1, 0] && after.backupPopulation == 0 && abs(after.ratioPer1000[1]! - 125) < 1e-9)
    }

    /// Linear decay over 20 minutes (f = 1 − c/1200 s), capacities 50 and 30. Gravity: A 50·0.75 + 30·(5/12) = 50,
    /// B 50·(7/12) + 30·0.5 = 44.1667, C 50·0.25 = 12.5. E2SFCA within 10 minutes: F1 serves 100·0.75 + 300·(7/12)
    /// = 250 weighted people (0.2 places each), F2 300·0.5 = 150 (0.2); A 1000·0.2·0.75 = 150, B
    /// 1000·(0.2·7/12 + 0.2·0.5) = 216.667, C none within reach.
    @Test func gravityAndEnhancedCatchmentByHand() throws {
        let e = engine(capacities: [50, 30])
        let a = try #require(e.access(e.baselinePlan, category: "hall", decay: try DistanceDecay.parse("linear:20", unitCost: 60)))
        let g = try #require(a.gravity), r = try #require(a.enhancedPer1000)
        #expect(abs(g[0] - 50) < 1e-9 && abs(g[1] - (50 * 7.0 / 12 + 15)) < 1e-9 && abs(g[2] - 12.5) < 1e-9)
        #expect(abs(r[0]! - 150) < 1e-9 && abs(r[1]! - 1000 * (0.2 * 7 / 12 + 0.1)) < 1e-9 && r[2] == nil)
        #expect(abs(a.meanGravity! - (100 * g[0] + 300 * g[1] + 50 * g[2]) / 450) < 1e-9)
        // Without a decay, neither is computed.
        #expect(e.access(e.baselinePlan, category: "hall")?.gravity == nil)
    }

    /// Closing the one facility without a capacity would switch the after-plan to places: a comparison keeps
    /// one unit (facilities) on both sides, so A and B are seen to lose access.
    @Test func aComparisonCountsBothPlansInOneUnit() throws {
        let e = engine(capacities: [50, nil])
        var closed = e.baselinePlan
        closed.open[1] = false
        #expect(e.access(closed, category: "hall")?.unit == .capacity)
        let c = e.compare(e.baselinePlan, closed, categories: ["hall"]).categories[0]
        #expect(c.before.accessUnit == .facilities && c.after.accessUnit == .facilities)
        // B had 1000/400 + 1000/300 and keeps only F1's 1000/400; A keeps 1000/400.
        #expect(c.losingAccess.map(\.demandId) == ["B"] && abs(c.losingAccess[0].after! - 2.5) < 1e-6)
    }

    @Test func withoutEveryCapacityEachFacilityCountsOne() throws {
        let e = engine(capacities: [50, nil])
        let a = try #require(e.access(e.baselinePlan, category: "hall"))
        #expect(a.unit == .facilities)
        #expect(abs(a.ratioPer1000[0]! - 1000.0 / 400) < 1e-9 && abs(a.ratioPer1000[1]! - (1000.0 / 400 + 1000.0 / 300)) < 1e-9)
    }
}
