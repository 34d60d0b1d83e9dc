import Foundation

/// What a facility offers in the two-step floating catchment: its capacity (places, seats) when every open
/// facility of the category has one, else one facility each.
public enum SupplyUnit: String, Sendable, Hashable, Codable {
    case capacity
    case facilities
}

/// Access beyond the nearest facility, for one category and plan, per demand point:
/// - `opportunities`: open facilities within the threshold (cumulative opportunities); two or more is backup
///   coverage, so one closure does not leave the village without;
/// - `ratioPer1000`: the two-step floating catchment ratio (2SFCA, Luo & Wang 2003). Each facility's supply is
///   shared among the people within the threshold of it, and a village sums the shares of the facilities within
///   the threshold of it, per 1,000 people: "hall seats per 1,000 residents reachable within 15 minutes".
/// With a decay (`DistanceDecay`, in the rule's units):
/// - `gravity`: Hansen's potential, Σ over open facilities of supply × f(travel): nearer and larger weigh more;
/// - `enhancedPer1000`: the enhanced 2SFCA (E2SFCA, Luo & Qi 2009): both steps weigh people and facilities
///   within the threshold by f(travel), so a hall 14 minutes away counts for less than one next door.
/// Within the threshold means as everywhere (`CoverageRule.covers`).
public struct CategoryAccess: Sendable {
    public var category: String
    public var unit: SupplyUnit
    public var opportunities: [Int]
    /// nil where no facility is within the threshold.
    public var ratioPer1000: [Double?]
    /// People with two or more facilities within the threshold.
    public var backupPopulation: Double
    /// Weighted by population over every point (0 where no facility is within the threshold).
    public var meanRatioPer1000: Double?
    /// With a decay: the gravity index and the E2SFCA ratio per point (nil where no facility is within the
    /// threshold), and their population-weighted means.
    public var decay: DistanceDecay?
    public var gravity: [Double]?
    public var enhancedPer1000: [Double?]?
    public var meanGravity: Double?
    public var meanEnhancedPer1000: Double?
}

extension CoverageEngine {
    /// The access figures of `category` under `plan` (nil for a category without a rule); with `decay` (whose
    /// unit is set to the rule's metric here) also the gravity index and the E2SFCA ratio.
    /// `unit`: count facilities even where every one has a capacity (two plans compared in one unit).
    public func access(_ plan: Plan, category: String, decay: DistanceDecay? = nil, unit forced: SupplyUnit? = nil) -> CategoryAccess? {
        guard let rule = rules[category], let table = tables[rule.mode] else { return nil }
        let open = (0..<sites.count).filter { plan.serves($0, category) }
        let capacities = open.map { plan.capacity[$0] }
        let unit: SupplyUnit = forced != .facilities && !open.isEmpty && capacities.allSatisfy({ ($0 ?? 0) > 0 }) ? .capacity : .facilities
        let supply = unit == .capacity ? capacities.map { $0! } : open.map { _ in 1.0 }
        let limit = CostPrecision.limit(rule.threshold)
        // Step 1: each facility's supply over the people within the threshold of it.
        var within = [[Int]](repeating: [], count: demand.count)
        var people = [Double](repeating: 0, count: open.count)
        for (k, s) in open.enumerated() {
            for d in demand.indices where table.value(d, s, rule.metric) <= limit {
                people[k] += demand[d].weight
                within[d].append(k)
            }
        }
        let ratio = zip(supply, people).map { $1 > 0 ? $0 / $1 : 0 }
        // Step 2: a village sums the ratios of the facilities within the threshold of it.
        var out = CategoryAccess(category: category, unit: unit, opportunities: within.map(\.count), ratioPer1000: [], backupPopulation: 0,
                                 meanRatioPer1000: nil)
        out.ratioPer1000 = within.map { $0.isEmpty ? nil : $0.reduce(0) { $0 + ratio[$1] } * 1000 }
        out.backupPopulation = demand.indices.filter { within[$0].count >= 2 }.reduce(0) { $0 + demand[$1].weight }
        let total = demand.reduce(0) { $0 + $1.weight }
        if total > 0 {
            out.meanRatioPer1000 = demand.indices.reduce(0) { $0 + demand[$1].weight * (out.ratioPer1000[$1] ?? 0) } / total
        }
        guard let decay = decay?.inUnits(rule.metric == .duration ? 60 : 1000) else { return out }
        out.decay = decay
        // Gravity: every open facility the village reaches, weighed by f (the decay's own cutoff, if any).
        out.gravity = demand.indices.map { d in
            open.indices.reduce(0.0) { $0 + supply[$1] * decay.weight(table.value(d, open[$1], rule.metric)) }
        }
        // E2SFCA: step 1 weighs each facility's people within the threshold by f, step 2 each village's ratios.
        var weighted = [Double](repeating: 0, count: open.count)
        for d in demand.indices { for k in within[d] { weighted[k] += demand[d].weight * decay.weight(table.value(d, open[k], rule.metric)) } }
        let enhanced = zip(supply, weighted).map { $1 > 0 ? $0 / $1 : 0 }
        out.enhancedPer1000 = demand.indices.map { d in
            within[d].isEmpty ? nil : within[d].reduce(0.0) { $0 + enhanced[$1] * decay.weight(table.value(d, open[$1], rule.metric)) } * 1000
        }
        if total > 0 {
            out.meanGravity = demand.indices.reduce(0) { $0 + demand[$1].weight * out.gravity![$1] } / total
            out.meanEnhancedPer1000 = demand.indices.reduce(0) { $0 + demand[$1].weight * (out.enhancedPer1000![$1] ?? 0) } / total
        }
        return out
    }

    /// The access figures of two plans counted in one unit: places only when both have a capacity for every
    /// open facility of the category, else facilities on both sides (a comparison, a scenario's map).
    public func access(_ a: Plan, _ b: Plan, category: String, decay: DistanceDecay? = nil) -> (CategoryAccess, CategoryAccess)? {
        guard let x = access(a, category: category, decay: decay), let y = access(b, category: category, decay: decay) else { return nil }
        guard x.unit != y.unit else { return (x, y) }
        return (access(a, category: category, decay: decay, unit: .facilities)!, access(b, category: category, decay: decay, unit: .facilities)!)
    }
}
