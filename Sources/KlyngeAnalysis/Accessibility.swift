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
}

extension CoverageEngine {
    /// The access figures of `category` under `plan` (nil for a category without a rule).
    public func access(_ plan: Plan, category: String) -> CategoryAccess? {
        guard let rule = rules[category], let table = tables[rule.mode] else { return nil }
        let open = (0..<sites.count).filter { plan.serves($0, category) }
        let capacities = open.map { plan.capacity[$0] }
        let unit: SupplyUnit = !open.isEmpty && capacities.allSatisfy({ ($0 ?? 0) > 0 }) ? .capacity : .facilities
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
        return out
    }
}
