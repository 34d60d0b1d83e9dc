/// One demand point's change between two plans, for one category.
public struct PointChange: Sendable, Hashable, Codable {
    public var demandId: String
    public var name: String
    public var population: Double
    /// The metric before and after (nil: unreachable).
    public var before: Double?
    public var after: Double?
    public var siteBefore: String?
    public var siteAfter: String?
}

/// One demand point whose share of the supply falls between two plans (2SFCA, and E2SFCA with a decay).
public struct AccessChange: Sendable, Hashable, Codable {
    public var demandId: String
    public var name: String
    public var population: Double
    /// Per 1,000 people; nil where no facility is within the threshold.
    public var before: Double?
    public var after: Double?
    public var enhancedBefore: Double?
    public var enhancedAfter: Double?
}

/// How a plan compares with another for one category.
public struct CategoryComparison: Sendable, Hashable, Codable {
    public var category: String
    public var before: CoverageSummary
    public var after: CoverageSummary
    /// Points covered before and not after, and the reverse.
    public var losing: [PointChange]
    public var gaining: [PointChange]
    /// The point whose time (or distance) grows the most (unreachable after counts as the largest).
    public var largestIncrease: PointChange?
    /// Points with two or more open facilities within the threshold before and fewer after: still covered,
    /// perhaps, but one more closure from being stranded (the summaries hold the backup and 2SFCA figures).
    public var losingBackup: [PointChange] = []
    /// Points whose 2SFCA ratio falls (covered or not: the supply within reach is shared by more people, or less
    /// of it is left), largest fall first: who loses access, not only who loses coverage.
    public var losingAccess: [AccessChange] = []
    public var coveredShareChange: Double { after.coveredShare - before.coveredShare }
}

public struct Comparison: Sendable, Hashable, Codable {
    public var categories: [CategoryComparison]
    public var openBefore: Int
    public var openAfter: Int
    /// Sum of known annual costs of the open facilities (nil when none is known).
    public var annualCostBefore: Double?
    public var annualCostAfter: Double?
}

extension CoverageEngine {
    public func annualCost(_ plan: Plan) -> Double? {
        let known = sites.indices.filter { plan.open[$0] }.compactMap { sites[$0].annualCost }
        return known.isEmpty ? nil : known.reduce(0, +)
    }

    /// `decay`: the access figures also with the gravity index and E2SFCA (`access`).
    public func compare(_ a: Plan, _ b: Plan, categories only: [String]? = nil, decay: DistanceDecay? = nil) -> Comparison {
        let cats = only ?? categories
        let before = evaluate(a, categories: cats), after = evaluate(b, categories: cats)
        func id(_ s: Int32) -> String? { s >= 0 ? sites[Int(s)].id : nil }
        func finite(_ v: Double) -> Double? { v.isFinite ? v : nil }
        var result: [CategoryComparison] = []
        for c in cats {
            guard let x = before[c], let y = after[c] else { continue }
            var losing: [PointChange] = [], gaining: [PointChange] = []
            var largest: (Double, PointChange)?
            for d in demand.indices {
                let change = PointChange(demandId: demand[d].id, name: demand[d].name, population: demand[d].weight,
                                         before: finite(x.value[d]), after: finite(y.value[d]),
                                         siteBefore: id(x.site[d]), siteAfter: id(y.site[d]))
                if x.isCovered(d) && !y.isCovered(d) { losing.append(change) }
                if !x.isCovered(d) && y.isCovered(d) { gaining.append(change) }
                let delta = y.value[d] == x.value[d] ? 0 : y.value[d] - x.value[d]
                if delta > 0, largest == nil || delta > largest!.0 || (delta == largest!.0 && demand[d].weight > largest!.1.population) {
                    largest = (delta, change)
                }
            }
            var comparison = CategoryComparison(category: c, before: summary(x, plan: a), after: summary(y, plan: b),
                                                losing: losing, gaining: gaining, largestIncrease: largest?.1)
            if let (ax, ay) = access(a, b, category: c, decay: decay) {
                comparison.before = comparison.before.with(ax)
                comparison.after = comparison.after.with(ay)
                comparison.losingBackup = demand.indices.filter { ax.opportunities[$0] >= 2 && ay.opportunities[$0] < 2 }.map { d in
                    PointChange(demandId: demand[d].id, name: demand[d].name, population: demand[d].weight, before: finite(x.value[d]),
                                after: finite(y.value[d]), siteBefore: id(x.site[d]), siteAfter: id(y.site[d]))
                }
                // Rounded as published (to 1e-6), so that equal figures are never reported as a fall.
                func rounded(_ v: Double?) -> Double? { v.map { ($0 * 1e6).rounded() / 1e6 } }
                let falls = demand.indices.compactMap { d -> (Double, AccessChange)? in
                    let before = rounded(ax.ratioPer1000[d]), after = rounded(ay.ratioPer1000[d])
                    guard let b = before, (after ?? 0) < b else { return nil }
                    return (b - (after ?? 0), AccessChange(demandId: demand[d].id, name: demand[d].name, population: demand[d].weight, before: before,
                                                           after: after, enhancedBefore: rounded(ax.enhancedPer1000?[d] ?? nil),
                                                           enhancedAfter: rounded(ay.enhancedPer1000?[d] ?? nil)))
                }
                comparison.losingAccess = falls.sorted { ($0.0, $0.1.population) > ($1.0, $1.1.population) }.map(\.1)
            }
            result.append(comparison)
        }
        return Comparison(categories: result, openBefore: a.open.filter { $0 }.count, openAfter: b.open.filter { $0 }.count,
                          annualCostBefore: annualCost(a), annualCostAfter: annualCost(b))
    }
}

/// What closing one facility alone would cost.
public struct ClosureImpact: Sendable, Hashable, Codable {
    public var siteId: String
    public var name: String
    /// People the facility is the nearest for.
    public var populationServed: Double
    public var populationLosingCoverage: Double
    /// Σ population × added travel (in the metric's unit) for those who can still reach another one.
    public var addedPersonUnits: Double
    /// People left with no reachable facility of the category at all.
    public var populationLeftWithout: Double
    /// No one loses coverage and no one is left without: the least critical.
    public var isReplaceable: Bool { populationLosingCoverage == 0 && populationLeftWithout == 0 }
}

extension CoverageEngine {
    /// Each open facility of the category closed alone, least critical first.
    public func impact(category c: String, plan: Plan? = nil) -> [ClosureImpact] {
        let p = plan ?? baselinePlan
        guard let base = evaluate(p, categories: [c])[c] else { return [] }
        var out: [ClosureImpact] = []
        for s in sites.indices where p.serves(s, c) {
            var q = p
            q.open[s] = false
            let after = evaluate(q, categories: [c])[c]!
            var served = 0.0, losing = 0.0, added = 0.0, without = 0.0
            for d in demand.indices where base.site[d] == Int32(s) {
                let w = demand[d].weight
                served += w
                if base.isCovered(d) && !after.isCovered(d) { losing += w }
                if after.value[d].isFinite { added += w * (after.value[d] - base.value[d]) } else { without += w }
            }
            out.append(ClosureImpact(siteId: sites[s].id, name: sites[s].name, populationServed: served,
                                     populationLosingCoverage: losing, addedPersonUnits: added, populationLeftWithout: without))
        }
        return out.sorted {
            ($0.populationLeftWithout, $0.populationLosingCoverage, $0.addedPersonUnits, $0.siteId)
                < ($1.populationLeftWithout, $1.populationLosingCoverage, $1.addedPersonUnits, $1.siteId)
        }
    }
}
