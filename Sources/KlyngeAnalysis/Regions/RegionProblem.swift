/// Regionalisation: partition areas into contiguous clusters, each with a hub, under population, travel,
/// facility, boundary and lock constraints. Pure: the study side builds the problem (contiguity from the
/// geometries and roads, travel costs from the cost tables) and reads the solution.

/// What a partition is judged by first; the others break ties.
public enum RegionObjective: String, Sendable, Hashable, CaseIterable, Codable {
    /// Least population-weighted travel from the villages to their cluster's hub (a p-median with contiguity).
    case travel
    /// Least total deviation of cluster populations from their mean.
    case balance
    /// Most clusters the constraints allow (the max-p question).
    case count
}

/// How many clusters.
public enum RegionCount: Sendable, Hashable {
    case exactly(Int)
    case most
}

/// Which search answers.
public enum RegionSolverChoice: String, Sendable, Hashable, CaseIterable, Codable {
    case exact, heuristic, auto
}

/// A place that can be a cluster's hub: a village or a facility, inside one area.
public struct RegionHub: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable { case village, facility }
    public var id: String
    public var name: String
    public var kind: Kind
    /// Index of the area it lies in.
    public var area: Int
    public init(id: String, name: String, kind: Kind, area: Int) {
        self.id = id
        self.name = name
        self.kind = kind
        self.area = area
    }
}

public struct RegionProblem: Sendable {
    /// Area ids and names, for messages and outputs.
    public var areaIds: [String]
    public var areaNames: [String]
    public var population: [Double]
    /// Symmetric neighbour lists (contiguity as the study side decided it).
    public var neighbours: [[Int]]
    public let hubs: [RegionHub]
    /// Hub indexes per area.
    public let hubsInArea: [[Int]]
    /// `cost[i][h]`: population-weighted travel (person-seconds) from area i's villages to hub h; infinite
    /// when some village of i cannot reach h (or not within the time limit), so i may not join h's cluster.
    public var cost: [[Double]]
    /// Required facility categories, and for each area which of them it holds (open facilities inside it).
    public var required: [String]
    public var areaHas: [[Bool]]
    /// `--within`: an area's group; clusters never mix groups. All 0 without it.
    public var group: [Int]
    /// Areas locked to a named cluster.
    public var locks: [Int: String]
    /// Hubs that must be chosen.
    public var fixedHubs: Set<Int>
    public var minPopulation: Double?
    public var maxPopulation: Double?
    public var count: RegionCount
    public var objective: RegionObjective

    public init(areaIds: [String], areaNames: [String], population: [Double], neighbours: [[Int]], hubs: [RegionHub],
                cost: [[Double]], required: [String] = [], areaHas: [[Bool]]? = nil, group: [Int]? = nil,
                locks: [Int: String] = [:], fixedHubs: Set<Int> = [], minPopulation: Double? = nil,
                maxPopulation: Double? = nil, count: RegionCount, objective: RegionObjective) {
        self.areaIds = areaIds
        self.areaNames = areaNames
        self.population = population
        self.neighbours = neighbours.map { Array(Set($0)).sorted() }
        self.hubs = hubs
        var inArea = Array(repeating: [Int](), count: areaIds.count)
        for (h, hub) in hubs.enumerated() { inArea[hub.area].append(h) }
        hubsInArea = inArea
        self.cost = cost
        self.required = required
        self.areaHas = areaHas ?? Array(repeating: [], count: areaIds.count)
        self.group = group ?? Array(repeating: 0, count: areaIds.count)
        self.locks = locks
        self.fixedHubs = fixedHubs
        self.minPopulation = minPopulation
        self.maxPopulation = maxPopulation
        self.count = count
        self.objective = objective
    }

    public var areaCount: Int { areaIds.count }

    /// A cluster's figures: its population, best hub (nil when none fits every area) and travel.
    public struct ClusterFit: Sendable, Hashable {
        public var population: Double
        public var hub: Int?
        public var travel: Double
    }

    /// The best hub for a set of areas: a hub inside it that every area reaches (a fixed hub inside it when
    /// there is one), with the least travel; ties go to the lower index.
    public func fit(_ members: [Int]) -> ClusterFit {
        var population = 0.0
        for i in members { population += self.population[i] }
        let fixedInside = fixedHubs.isEmpty ? [] : fixedHubs.filter { members.contains(hubs[$0].area) }.sorted()
        var best: Int?, bestTravel = Double.infinity
        func consider(_ h: Int) {
            var t = 0.0
            for i in members { t += cost[i][h]; if t > bestTravel { break } }
            if t < bestTravel || (t == bestTravel && t.isFinite && h < best!) { best = h; bestTravel = t }
        }
        if fixedInside.isEmpty {
            for i in members { for h in hubsInArea[i] { consider(h) } }
        } else {
            for h in fixedInside { consider(h) }
        }
        if fixedInside.count > 1 { best = nil }
        return ClusterFit(population: population, hub: best, travel: best == nil ? .infinity : bestTravel)
    }

    /// Everything wrong with a partition, in words (empty when it is valid): contiguity, every constraint, and
    /// that each area is in exactly one cluster. `hubs[c]` is cluster c's hub.
    public func violations(assignment: [Int], hubs chosen: [Int]) -> [String] {
        problems(assignment: assignment, hubs: chosen).map { describe($0) }
    }

    /// Everything wrong with a partition (empty when it is valid). `hubs[c]` is cluster c's hub, nil when
    /// the cluster has none that every village of it reaches.
    public func problems(assignment: [Int], hubs chosen: [Int?]) -> [RegionViolation] {
        var out: [RegionViolation] = []
        guard assignment.count == areaCount else { return [.areaCount(got: assignment.count, want: areaCount)] }
        let k = chosen.count
        var members = Array(repeating: [Int](), count: k)
        for (i, c) in assignment.enumerated() {
            guard c >= 0 && c < k else { out.append(.unassigned(area: i)); continue }
            members[c].append(i)
        }
        if case .exactly(let want) = count, want != k { out.append(.clusterCount(got: k, want: want)) }
        for c in 0..<k {
            let m = members[c]
            guard !m.isEmpty else { out.append(.empty(cluster: c)); continue }
            if !isConnected(m) { out.append(.notContiguous(cluster: c)) }
            let pop = m.reduce(0) { $0 + population[$1] }
            if let lo = minPopulation, pop < lo { out.append(.tooFewPeople(cluster: c, population: pop, minimum: lo)) }
            if let hi = maxPopulation, pop > hi { out.append(.tooManyPeople(cluster: c, population: pop, maximum: hi)) }
            if let h = chosen[c] {
                if h < 0 || h >= hubs.count || assignment[hubs[h].area] != c {
                    out.append(.hubOutside(cluster: c))
                } else {
                    for i in m where !cost[i][h].isFinite { out.append(.unreachable(area: i, cluster: c, hub: h)) }
                }
            } else {
                out.append(.noHub(cluster: c))
            }
            for (r, name) in required.enumerated() where !m.contains(where: { areaHas[$0][r] }) {
                out.append(.missing(cluster: c, category: name))
            }
            if Set(m.map { group[$0] }).count > 1 { out.append(.crossesWithin(cluster: c)) }
            if Set(m.compactMap { locks[$0] }).count > 1 { out.append(.mixedLocks(cluster: c)) }
        }
        var lockCluster: [String: Int] = [:]
        var split = Set<String>()
        for (i, label) in locks.sorted(by: { $0.key < $1.key }) {
            if let c = lockCluster[label], c != assignment[i], split.insert(label).inserted { out.append(.splitLock(label: label)) }
            lockCluster[label] = assignment[i]
        }
        for f in fixedHubs.sorted() where !chosen.contains(f) { out.append(.fixedHubUnused(hub: f)) }
        return out
    }

    /// Area id → cluster name as area → cluster index, numbered by first area (as `evaluate` numbers them), with
    /// the names by index; -1 for an area the assignments leave out.
    public func indexed(_ assignments: [String: String]) -> (assignment: [Int], names: [String]) {
        var labels: [String: Int] = [:]
        var names: [String] = []
        let assignment = areaIds.map { id -> Int in
            guard let c = assignments[id] else { return -1 }
            if let k = labels[c] { return k }
            labels[c] = names.count
            names.append(c)
            return names.count - 1
        }
        return (assignment, names)
    }

    /// A partition as a planner drew it: each cluster's best hub and figures, and everything wrong with it.
    /// Clusters are numbered by their first area, as in `RegionSolution`.
    public func evaluate(assignment given: [Int]) -> (assignment: [Int], fits: [ClusterFit], problems: [RegionViolation]) {
        let (assignment, k) = Self.canonical(given)
        var members = Array(repeating: [Int](), count: k)
        for (i, c) in assignment.enumerated() where c >= 0 { members[c].append(i) }
        let fits = members.map(fit)
        return (assignment, fits, problems(assignment: assignment, hubs: fits.map(\.hub)))
    }

    /// Clusters numbered by their first area (-1 stays -1), and how many there are: equal partitions read the
    /// same whichever search or hand made them.
    static func canonical(_ assignment: [Int]) -> (assignment: [Int], clusters: Int) {
        var renumber: [Int: Int] = [:]
        let out = assignment.map { c -> Int in
            guard c >= 0 else { return -1 }
            if let r = renumber[c] { return r }
            renumber[c] = renumber.count
            return renumber.count - 1
        }
        return (out, renumber.count)
    }

    /// What keeps a partition from being a start for the search (empty when it can be one): every area in
    /// a cluster, each cluster contiguous, with a hub, in one `--within` group and with one lock label at
    /// most, and each label in one cluster. Populations, categories and the count may be off.
    public func unmendable(_ assignment: [Int]) -> [RegionViolation] {
        guard assignment.count == areaCount else { return [.areaCount(got: assignment.count, want: areaCount)] }
        return evaluate(assignment: assignment).problems.filter { v in
            switch v {
            case .tooFewPeople, .tooManyPeople, .missing, .clusterCount: return false
            default: return true
            }
        }
    }

    /// A violation in words; `cluster` names clusters (default "cluster 1", "cluster 2", …).
    public func describe(_ v: RegionViolation, cluster name: (Int) -> String = { "cluster \($0 + 1)" }) -> String {
        func area(_ i: Int) -> String { areaNames[i].isEmpty || areaNames[i] == areaIds[i] ? areaIds[i] : "\(areaNames[i]) (\(areaIds[i]))" }
        func people(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(format: "%.1f", v) }
        switch v {
        case .areaCount(let got, let want): return "the partition has \(got) areas, the problem \(want)"
        case .unassigned(let a): return "area \(area(a)) is in no cluster"
        case .clusterCount(let got, let want): return "\(got) clusters, not \(want)"
        case .empty(let c): return "\(name(c)) is empty"
        case .notContiguous(let c): return "\(name(c)) is not contiguous"
        case .tooFewPeople(let c, let p, let lo): return "\(name(c)) has \(people(p)) people, fewer than \(people(lo))"
        case .tooManyPeople(let c, let p, let hi): return "\(name(c)) has \(people(p)) people, more than \(people(hi))"
        case .hubOutside(let c): return "\(name(c))'s hub is not inside it"
        case .noHub(let c): return "\(name(c)) has no village or hub that every village of it reaches within the limit"
        case .unreachable(let a, _, let h): return "area \(area(a)) cannot reach its hub \(hubs[h].name) within the limit"
        case .missing(let c, let category): return "\(name(c)) has no \(category)"
        case .crossesWithin(let c): return "\(name(c)) crosses a --within boundary"
        case .mixedLocks(let c): return "\(name(c)) holds areas locked to different clusters"
        case .splitLock(let label): return "areas locked to \(label) are in different clusters"
        case .fixedHubUnused(let h): return "the fixed hub \(hubs[h].name) is not a hub"
        }
    }

    /// Whether `members` is connected through `neighbours`.
    public func isConnected(_ members: [Int]) -> Bool {
        guard let first = members.first else { return false }
        let inside = Set(members)
        var seen: Set<Int> = [first], stack = [first]
        while let a = stack.popLast() {
            for b in neighbours[a] where inside.contains(b) && !seen.contains(b) { seen.insert(b); stack.append(b) }
        }
        return seen.count == inside.count
    }

    /// The objective's value for figures: travel in person-seconds, balance in people, count in clusters.
    public func objectiveValue(_ fits: [ClusterFit]) -> Double {
        switch objective {
        case .travel: fits.reduce(0) { $0 + $1.travel }
        case .balance: Self.deviation(fits.map(\.population))
        case .count: Double(fits.count)
        }
    }

    /// Total absolute deviation of the populations from their mean.
    public static func deviation(_ populations: [Double]) -> Double {
        guard !populations.isEmpty else { return 0 }
        let mean = populations.reduce(0, +) / Double(populations.count)
        return populations.reduce(0) { $0 + abs($1 - mean) }
    }
}

/// One thing wrong with a partition; indexes are areas, clusters and hubs of the problem.
public enum RegionViolation: Sendable, Hashable {
    case areaCount(got: Int, want: Int)
    case unassigned(area: Int)
    case clusterCount(got: Int, want: Int)
    case empty(cluster: Int)
    case notContiguous(cluster: Int)
    case tooFewPeople(cluster: Int, population: Double, minimum: Double)
    case tooManyPeople(cluster: Int, population: Double, maximum: Double)
    case hubOutside(cluster: Int)
    case noHub(cluster: Int)
    case unreachable(area: Int, cluster: Int, hub: Int)
    case missing(cluster: Int, category: String)
    case crossesWithin(cluster: Int)
    case mixedLocks(cluster: Int)
    case splitLock(label: String)
    case fixedHubUnused(hub: Int)

    /// What kind of violation, for callers that word it themselves (the web page, in Danish or English).
    public enum Kind: String, Sendable, Hashable, Codable {
        case areaCount, unassigned, clusterCount, empty, notContiguous, tooFewPeople, tooManyPeople, hubOutside, noHub
        case unreachable, missing, crossesWithin, mixedLocks, splitLock, fixedHubUnused
    }

    public var kind: Kind {
        switch self {
        case .areaCount: .areaCount
        case .unassigned: .unassigned
        case .clusterCount: .clusterCount
        case .empty: .empty
        case .notContiguous: .notContiguous
        case .tooFewPeople: .tooFewPeople
        case .tooManyPeople: .tooManyPeople
        case .hubOutside: .hubOutside
        case .noHub: .noHub
        case .unreachable: .unreachable
        case .missing: .missing
        case .crossesWithin: .crossesWithin
        case .mixedLocks: .mixedLocks
        case .splitLock: .splitLock
        case .fixedHubUnused: .fixedHubUnused
        }
    }

    /// The cluster it is about, if one.
    public var cluster: Int? {
        switch self {
        case .empty(let c), .notContiguous(let c), .hubOutside(let c), .noHub(let c), .crossesWithin(let c), .mixedLocks(let c): c
        case .tooFewPeople(let c, _, _), .tooManyPeople(let c, _, _), .unreachable(_, let c, _), .missing(let c, _): c
        default: nil
        }
    }
}

/// A partition with its hubs and how it was found.
public struct RegionSolution: Sendable {
    /// Area → cluster index.
    public var assignment: [Int]
    /// Cluster → hub index.
    public var hubs: [Int]
    public var population: [Double]
    /// Person-seconds per cluster.
    public var travel: [Double]
    public var objective: RegionObjective
    public var objectiveValue: Double
    /// True only when the exact solver proved the optimum.
    public var proven: Bool
    /// The best bound known on the objective (the exact solver's relaxation, when it ran).
    public var bound: Double?
    public var method: RegionSolverChoice
    public var seconds: Double
    /// Why the search ended early, if it did (a time limit).
    public var stoppedEarly: String?

    public var clusterCount: Int { hubs.count }

    /// Better by the objective (more clusters for count, less otherwise), then by less travel.
    public func isBetter(than other: RegionSolution) -> Bool {
        if objective == .count, clusterCount != other.clusterCount { return clusterCount > other.clusterCount }
        if objective != .count, objectiveValue != other.objectiveValue { return objectiveValue < other.objectiveValue }
        return totalTravel < other.totalTravel
    }
    public var totalTravel: Double { travel.reduce(0, +) }

    /// The clusters' members, in area order.
    public var members: [[Int]] {
        var out = Array(repeating: [Int](), count: hubs.count)
        for (i, c) in assignment.enumerated() { out[c].append(i) }
        return out
    }

    /// A solution from a partition, with the best hub of each cluster.
    public init?(problem: RegionProblem, assignment: [Int], method: RegionSolverChoice, proven: Bool, bound: Double?,
                 seconds: Double, stoppedEarly: String? = nil) {
        let (assignment, k) = RegionProblem.canonical(assignment)
        var members = Array(repeating: [Int](), count: k)
        for (i, c) in assignment.enumerated() { members[c].append(i) }
        let fits = members.map(problem.fit)
        guard fits.allSatisfy({ $0.hub != nil }) else { return nil }
        self.assignment = assignment
        hubs = fits.map { $0.hub! }
        population = fits.map(\.population)
        travel = fits.map(\.travel)
        objective = problem.objective
        objectiveValue = problem.objectiveValue(fits)
        self.proven = proven
        self.bound = bound
        self.method = method
        self.seconds = seconds
        self.stoppedEarly = stoppedEarly
    }
}
