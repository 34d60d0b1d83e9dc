import KlyngeNetwork

/// Population-weighted figures over demand points.
public enum Weighted {
    /// The weighted percentile (p in 0…1): the smallest value v such that the points with a value ≤ v
    /// carry at least p of the total weight ("lower" inverse of the weighted distribution).
    /// Unreachable points count with value `.infinity`. Nil when there is no weight.
    public static func percentile(_ values: [Double], weights: [Double], _ p: Double) -> Double? {
        let total = weights.reduce(0, +)
        guard total > 0 else { return nil }
        let order = values.indices.filter { weights[$0] > 0 }.sorted { values[$0] < values[$1] }
        var cumulative = 0.0
        for i in order {
            cumulative += weights[i]
            // A small relative slack so that p × total reached exactly by sums of weights counts as reached.
            if cumulative >= p * total * (1 - 1e-12) { return values[i] }
        }
        return order.last.map { values[$0] }
    }

    /// The weighted mean of the finite values (nil when none).
    public static func mean(_ values: [Double], weights: [Double]) -> Double? {
        var sum = 0.0, w = 0.0
        for (v, x) in zip(values, weights) where v.isFinite && x > 0 { sum += v * x; w += x }
        return w > 0 ? sum / w : nil
    }
}

/// The coverage of one category over a set of demand points.
public struct CoverageSummary: Sendable, Hashable, Codable {
    public var category: String
    public var mode: TravelMode
    public var metric: Metric
    /// Seconds (duration) or metres (distance).
    public var threshold: Double
    public var openFacilities: Int
    public var population: Double
    public var coveredPopulation: Double
    public var coveredShare: Double
    /// Population beyond the threshold (unreachable included).
    public var populationBeyond: Double
    /// Population that reaches a facility, but farther than the threshold (`populationBeyond` without the unreachable).
    public var populationBeyondReachable: Double
    /// Population with no reachable open facility at all.
    public var populationUnreachable: Double
    /// Demand points (villages) with no reachable open facility.
    public var pointsUnreachable: Int
    /// Weighted over reachable points; in the metric's unit.
    public var mean: Double?
    /// Weighted percentiles over all points (nil if infinite: some of that share cannot reach one).
    public var median: Double?
    public var p90: Double?
    public var max: Double?
    public var worstServedId: String?
    public var worstServedName: String?
    /// The worst travel among those who reach a facility, and who that is (set even when `max` is nil).
    public var maxReachable: Double?
    public var worstReachableId: String?
    public var worstReachableName: String?
    /// Backup coverage: people with two or more open facilities within the threshold, and their share.
    public var backupPopulation: Double?
    public var backupShare: Double?
    /// The two-step floating catchment ratio per 1,000 people (`CategoryAccess`), weighted by population, and
    /// what it counts: `capacity` (places) or `facilities`.
    public var accessPer1000: Double?
    public var accessUnit: SupplyUnit?
    /// With a decay: the population-weighted gravity index and E2SFCA ratio per 1,000 (`CategoryAccess`).
    public var decay: DistanceDecay?
    public var gravity: Double?
    public var enhancedAccessPer1000: Double?

    /// The summary with the access figures of the same category and plan.
    public func with(_ access: CategoryAccess) -> CoverageSummary {
        var out = self
        out.backupPopulation = access.backupPopulation
        out.backupShare = population > 0 ? access.backupPopulation / population : 0
        // Rounded at the boundary, as every figure: no Float noise in the answers.
        out.accessPer1000 = access.meanRatioPer1000.map { ($0 * 1e6).rounded() / 1e6 }
        out.accessUnit = access.unit
        out.decay = access.decay
        out.gravity = access.meanGravity.map { ($0 * 1e6).rounded() / 1e6 }
        out.enhancedAccessPer1000 = access.meanEnhancedPer1000.map { ($0 * 1e6).rounded() / 1e6 }
        return out
    }

    public init(category: String, rule: CoverageRule, openFacilities: Int, values: [Double], weights: [Double],
                ids: [String], names: [String]) {
        self.category = category
        mode = rule.mode
        metric = rule.metric
        threshold = rule.threshold
        self.openFacilities = openFacilities
        population = weights.reduce(0, +)
        coveredPopulation = zip(values, weights).filter { rule.covers($0.0) }.reduce(0) { $0 + $1.1 }
        coveredShare = population > 0 ? coveredPopulation / population : 0
        populationBeyond = population - coveredPopulation
        populationUnreachable = zip(values, weights).filter { !$0.0.isFinite }.reduce(0) { $0 + $1.1 }
        populationBeyondReachable = populationBeyond - populationUnreachable
        pointsUnreachable = values.filter { !$0.isFinite }.count
        mean = Weighted.mean(values, weights: weights)
        func finite(_ v: Double?) -> Double? { v.flatMap { $0.isFinite ? $0 : nil } }
        median = finite(Weighted.percentile(values, weights: weights, 0.5))
        p90 = finite(Weighted.percentile(values, weights: weights, 0.9))
        let worst = values.indices.filter { weights[$0] > 0 }.max { (values[$0], weights[$0]) < (values[$1], weights[$1]) }
        max = worst.flatMap { finite(values[$0]) }
        worstServedId = worst.map { ids[$0] }
        worstServedName = worst.map { names[$0] }
        let worstReachable = values.indices.filter { weights[$0] > 0 && values[$0].isFinite }.max { (values[$0], weights[$0]) < (values[$1], weights[$1]) }
        maxReachable = worstReachable.map { values[$0] }
        worstReachableId = worstReachable.map { ids[$0] }
        worstReachableName = worstReachable.map { names[$0] }
    }
}

extension CoverageEngine {
    /// Summary of a category's coverage over all demand points, or over a subset.
    public func summary(_ cov: CategoryCoverage, plan: Plan, demandIndexes: [Int]? = nil) -> CoverageSummary {
        let idx = demandIndexes ?? Array(demand.indices)
        return CoverageSummary(category: cov.category, rule: cov.rule,
                               openFacilities: (0..<sites.count).filter { plan.serves($0, cov.category) }.count,
                               values: idx.map { cov.value[$0] }, weights: idx.map { demand[$0].weight },
                               ids: idx.map { demand[$0].id }, names: idx.map { demand[$0].name })
    }

    /// Per area: the summary over its demand points, and the facility that serves most of its people.
    public func areaSummaries(_ cov: CategoryCoverage, plan: Plan) -> [(areaId: String, summary: CoverageSummary, mainSite: Int?)] {
        var groups: [String: [Int]] = [:]
        for (d, p) in demand.enumerated() { if let a = p.areaId { groups[a, default: []].append(d) } }
        return groups.keys.sorted().map { a in
            let idx = groups[a]!
            var served: [Int32: Double] = [:]
            for d in idx where cov.site[d] >= 0 { served[cov.site[d], default: 0] += demand[d].weight }
            let main = served.max { ($0.value, -$0.key) < ($1.value, -$1.key) }.map { Int($0.key) }
            return (a, summary(cov, plan: plan, demandIndexes: idx), main)
        }
    }
}
