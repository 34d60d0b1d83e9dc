import KlyngeNetwork

/// For one category under one plan: each demand point's nearest open facility and its cost.
public struct CategoryCoverage: Sendable, Hashable {
    public var category: String
    public var rule: CoverageRule
    /// Nearest open site per demand point, -1 where none is reachable.
    public var site: [Int32]
    /// The rule's metric (seconds or metres), `.infinity` where none is reachable.
    public var value: [Double]

    public func isCovered(_ d: Int) -> Bool { rule.covers(value[d]) }
}

/// Coverage of every category under any plan, from access tables computed once. A plan is evaluated
/// against the baseline: only the demand points whose nearest facility closed are searched again, and
/// opened facilities are compared with the current best.
public final class CoverageEngine: Sendable {
    public let sites: [Site]
    public let demand: [DemandSite]
    public let rules: [String: CoverageRule]
    public let tables: [TravelMode: AccessTable]
    public let baselinePlan: Plan
    public let baseline: [String: CategoryCoverage]

    public init(sites: [Site], demand: [DemandSite], categories: [String], rules: [String: CoverageRule],
                tables: [TravelMode: AccessTable]) {
        self.sites = sites
        self.demand = demand
        self.rules = Dictionary(uniqueKeysWithValues: categories.map { ($0, rules[$0] ?? .standard) })
        self.tables = tables
        let plan = Plan(sites: sites)
        baselinePlan = plan
        var base: [String: CategoryCoverage] = [:]
        for c in categories {
            let rule = rules[c] ?? .standard
            base[c] = Self.full(category: c, rule: rule, table: tables[rule.mode]!, plan: plan, demandCount: demand.count)
        }
        baseline = base
    }

    public var categories: [String] { rules.keys.sorted() }

    private init(sites: [Site], demand: [DemandSite], rules: [String: CoverageRule], tables: [TravelMode: AccessTable],
                 baselinePlan: Plan, baseline: [String: CategoryCoverage]) {
        self.sites = sites
        self.demand = demand
        self.rules = rules
        self.tables = tables
        self.baselinePlan = baselinePlan
        self.baseline = baseline
    }

    /// The engine with more candidate sites (closed in the baseline, so the baseline coverage stands as it is):
    /// `tables` must hold their columns after the present sites.
    public func adding(candidates: [Site], tables: [TravelMode: AccessTable]) -> CoverageEngine {
        precondition(candidates.allSatisfy(\.isCandidate))
        precondition(tables.values.allSatisfy { $0.siteCount == sites.count + candidates.count })
        return CoverageEngine(sites: sites + candidates, demand: demand, rules: rules, tables: tables,
                              baselinePlan: baselinePlan.appending(candidates), baseline: baseline)
    }

    /// Every demand point against every open site of the category.
    static func full(category c: String, rule: CoverageRule, table: AccessTable, plan: Plan, demandCount: Int) -> CategoryCoverage {
        let open = (0..<plan.open.count).filter { plan.serves($0, c) }
        var site = [Int32](repeating: -1, count: demandCount)
        var value = [Double](repeating: .infinity, count: demandCount)
        for d in 0..<demandCount {
            for s in open {
                let v = table.value(d, s, rule.metric)
                if v < value[d] { value[d] = v; site[d] = Int32(s) }
            }
        }
        return CategoryCoverage(category: c, rule: rule, site: site, value: value)
    }

    /// Coverage under a plan, recomputing only what differs from the baseline.
    public func evaluate(_ plan: Plan, categories only: [String]? = nil) -> [String: CategoryCoverage] {
        var out: [String: CategoryCoverage] = [:]
        for c in only ?? categories {
            guard let base = baseline[c], let rule = rules[c], let table = tables[rule.mode] else { continue }
            var removed = [Bool](repeating: false, count: sites.count)
            var anyRemoved = false
            var added: [Int] = []
            for s in 0..<sites.count {
                let before = baselinePlan.serves(s, c), after = plan.serves(s, c)
                if before && !after { removed[s] = true; anyRemoved = true }
                if !before && after { added.append(s) }
            }
            if !anyRemoved && added.isEmpty { out[c] = base; continue }
            let open = (0..<sites.count).filter { plan.serves($0, c) }
            var cov = base
            for d in 0..<demand.count {
                if cov.site[d] >= 0 && removed[Int(cov.site[d])] {
                    // Its facility closed: search the open ones again.
                    cov.site[d] = -1
                    cov.value[d] = .infinity
                    for s in open {
                        let v = table.value(d, s, rule.metric)
                        if v < cov.value[d] || (v == cov.value[d] && v < .infinity && Int32(s) < cov.site[d]) {
                            cov.value[d] = v
                            cov.site[d] = Int32(s)
                        }
                    }
                } else {
                    for s in added {
                        let v = table.value(d, s, rule.metric)
                        if v < cov.value[d] || (v == cov.value[d] && v < .infinity && Int32(s) < cov.site[d]) {
                            cov.value[d] = v
                            cov.site[d] = Int32(s)
                        }
                    }
                }
            }
            out[c] = cov
        }
        return out
    }

    /// The travel cost (seconds and metres) from a demand point to the site that covers it.
    public func cost(_ cov: CategoryCoverage, _ d: Int) -> PathCost? {
        let s = Int(cov.site[d])
        guard s >= 0, let table = tables[cov.rule.mode] else { return nil }
        return table.cost(d, s)
    }
}
