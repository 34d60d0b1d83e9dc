import Foundation
import KlyngeMIP
import KlyngeWork

public enum LocationObjective: String, Sendable, CaseIterable, Codable {
    /// Maximal covering (MCLP): the most population within the threshold with p facilities.
    case coverage
    /// Set covering (LSCP): the fewest facilities covering everyone (or a share) within the threshold.
    case minimum
    /// p-median: the least population-weighted total travel with p facilities.
    case median
    /// p-center: the smallest worst-case travel with p facilities.
    case center
    /// Backup covering (BACOP, Hogan & ReVelle 1986): the most population with two or more of the p facilities
    /// within the threshold, then, among such sets, the most covered at all; one closure then strands fewest.
    case backup
    /// Maximal attendance: the most expected visitors with p facilities, each village going to its nearest
    /// chosen site with a share that falls with travel (`DistanceDecay`).
    case attendance
    /// Market share (Huff 1964): the most people captured with p facilities against competitors, each village
    /// split between every facility by attractiveness × decay.
    case marketShare = "market-share"
    /// Target share: the fewest facilities that capture at least a share of the people against competitors.
    case targetShare = "target-share"
}

extension LocationObjective {
    /// Attendance, market share and target share: people follow a distance decay.
    public var followsDecay: Bool { self == .attendance || self == .marketShare || self == .targetShare }
    /// Market share and target share: competitors and attractiveness enter (Huff).
    public var isHuff: Bool { self == .marketShare || self == .targetShare }
    /// The objectives that take capacities.
    public var takesCapacities: Bool { self == .median || self == .coverage || self == .minimum }
}

public enum SolverChoice: String, Sendable, CaseIterable, Codable { case exact, heuristic, auto }

/// Demand points × candidate sites with costs (seconds or metres), and what must or must not be chosen.
public struct LocationProblem: Sendable {
    public var weights: [Double]
    public var candidateCount: Int
    /// Demand-major costs `d * candidateCount + j`; `.infinity` where a site cannot be reached.
    public var cost: [Double]
    public var required: Set<Int>
    public var excluded: Set<Int>
    /// Names of the demand points and the candidates, for messages.
    public var demandNames: [String]?
    public var candidateNames: [String]?
    /// Places per candidate (a hall's seats, a school's pupils): when set, the models keep each chosen site's
    /// assigned population within its capacity. nil: uncapacitated.
    public var capacities: [Double]?
    /// With capacities: a village may be split between sites (else each is assigned whole to one).
    public var splitDemand = false
    /// Market share: each candidate's attractiveness (floor area, opening hours, a score); nil: 1 each.
    public var attractiveness: [Double]?
    /// Market share: the facilities the chosen ones compete with.
    public var competitors: Competitors?

    /// Facilities that are not candidates but take a share of the people (the shop in the next town).
    public struct Competitors: Sendable {
        public var count: Int
        /// Demand-major costs `d * count + k`; `.infinity` where one cannot be reached.
        public var cost: [Double]
        public var attractiveness: [Double]
        public init(count: Int, cost: [Double], attractiveness: [Double]) {
            self.count = count
            self.cost = cost
            self.attractiveness = attractiveness
        }
    }

    func demandName(_ i: Int) -> String { demandNames.map { "`\($0[i])`" } ?? "demand point \(i)" }

    /// Up to eight names, then how many more.
    func names(_ indexes: [Int]) -> String {
        let shown = indexes.prefix(8).map(demandName).joined(separator: ", ")
        return indexes.count > 8 ? shown + " and \(indexes.count - 8) more" : shown
    }

    /// Demand points with weight that no allowed candidate reaches at all.
    var stranded: [Int] {
        let allowed = self.allowed
        return weights.indices.filter { i in weights[i] > 0 && !allowed.contains { c(i, $0).isFinite } }
    }

    /// The problem over some demand points only (candidates unchanged).
    func keepingDemand(_ rows: [Int]) -> LocationProblem {
        var cost: [Double] = []
        cost.reserveCapacity(rows.count * candidateCount)
        for i in rows { cost += self.cost[(i * candidateCount)..<((i + 1) * candidateCount)] }
        var out = LocationProblem(weights: rows.map { weights[$0] }, candidateCount: candidateCount, cost: cost, required: required, excluded: excluded)
        out.demandNames = demandNames.map { names in rows.map { names[$0] } }
        out.candidateNames = candidateNames
        out.capacities = capacities
        out.splitDemand = splitDemand
        out.attractiveness = attractiveness
        out.competitors = competitors.map { c in
            var kept = c
            kept.cost = rows.flatMap { c.cost[($0 * c.count)..<(($0 + 1) * c.count)] }
            return kept
        }
        return out
    }
    func candidateName(_ j: Int) -> String { candidateNames.map { "`\($0[j])`" } ?? "candidate \(j)" }

    public init(weights: [Double], candidateCount: Int, cost: [Double], required: Set<Int> = [], excluded: Set<Int> = []) {
        self.weights = weights
        self.candidateCount = candidateCount
        self.cost = cost
        self.required = required
        self.excluded = excluded
    }

    @inline(__always) public func c(_ i: Int, _ j: Int) -> Double { cost[i * candidateCount + j] }
    var allowed: [Int] { (0..<candidateCount).filter { !excluded.contains($0) } }
    public var totalWeight: Double { weights.reduce(0, +) }
}

/// What to optimise, with exactly the figures that objective needs.
public enum LocationGoal: Sendable, Hashable {
    /// The most population within `threshold` (seconds or metres) with `facilities` sites.
    case coverage(facilities: Int, threshold: Double)
    /// The fewest sites covering `share` (in (0, 1]; 1 = everyone) of the population within `threshold`.
    case minimum(threshold: Double, share: Double)
    /// The least population-weighted total travel with `facilities` sites.
    case median(facilities: Int)
    /// The smallest worst-case travel with `facilities` sites.
    case center(facilities: Int)
    /// The most population with two or more of `facilities` sites within `threshold`, then the most covered.
    case backup(facilities: Int, threshold: Double)
    /// The most expected visitors with `facilities` sites: Σ weight × decay(travel to the nearest chosen site).
    case attendance(facilities: Int, decay: DistanceDecay)
    /// The most people captured by `facilities` sites against the problem's competitors (Huff).
    case marketShare(facilities: Int, decay: DistanceDecay)
    /// The fewest sites capturing at least `share` (in (0, 1]) of the people against the competitors (Huff).
    case targetShare(share: Double, decay: DistanceDecay)

    public var objective: LocationObjective {
        switch self {
        case .coverage: .coverage
        case .minimum: .minimum
        case .median: .median
        case .center: .center
        case .backup: .backup
        case .attendance: .attendance
        case .marketShare: .marketShare
        case .targetShare: .targetShare
        }
    }

    public var facilities: Int? {
        switch self {
        case .coverage(let p, _), .median(let p), .center(let p), .backup(let p, _), .attendance(let p, _), .marketShare(let p, _): p
        case .minimum, .targetShare: nil
        }
    }

    public var threshold: Double? {
        switch self {
        case .coverage(_, let t), .minimum(let t, _), .backup(_, let t): t
        case .median, .center, .attendance, .marketShare, .targetShare: nil
        }
    }

    /// Attendance and market share: how the pull falls with travel.
    public var decay: DistanceDecay? {
        switch self {
        case .attendance(_, let d), .marketShare(_, let d), .targetShare(_, let d): d
        default: nil
        }
    }

    /// The same goal with another number of sites (a sweep); `minimum` has none and stays as it is.
    public func with(facilities p: Int) -> LocationGoal {
        switch self {
        case .coverage(_, let t): .coverage(facilities: p, threshold: t)
        case .median: .median(facilities: p)
        case .center: .center(facilities: p)
        case .backup(_, let t): .backup(facilities: p, threshold: t)
        case .attendance(_, let d): .attendance(facilities: p, decay: d)
        case .marketShare(_, let d): .marketShare(facilities: p, decay: d)
        case .minimum, .targetShare: self
        }
    }
}

public struct LocationRequest: Sendable {
    public var goal: LocationGoal
    public var solver: SolverChoice
    public var timeLimitSeconds: Double
    /// Median and center: leave out the demand points no allowed candidate reaches (named in the solution)
    /// instead of refusing the question.
    public var skipUnreachable: Bool
    /// Stops the solve early when nobody waits for the answer (the service's abandoned requests).
    public var control: WorkControl = .unlimited

    public var objective: LocationObjective { goal.objective }

    public init(goal: LocationGoal, solver: SolverChoice = .auto, timeLimitSeconds: Double = 60, skipUnreachable: Bool = false) {
        self.goal = goal
        self.solver = solver
        self.timeLimitSeconds = timeLimitSeconds
        self.skipUnreachable = skipUnreachable
    }
}

public struct LocationSolution: Sendable, Codable {
    public var objective: LocationObjective
    public var chosen: [Int]
    /// Coverage: population covered; minimum: number of facilities; median: Σ weight × cost; center: the worst cost.
    public var value: Double
    /// The solver proved `value` optimal.
    public var proven: Bool
    /// A bound on the optimum (upper for coverage, lower otherwise) and the relative gap to it.
    public var bound: Double?
    public var gap: Double?
    public var method: String
    public var seconds: Double
    public var coveredWeight: Double?
    /// Population with two or more chosen sites within the threshold (objectives with a threshold).
    public var backupWeight: Double?
    public var meanCost: Double?
    /// The worst travel to the nearest chosen site; nil when some demand point reaches none.
    public var maxCost: Double?
    /// Weight of the demand points that reach none of the chosen sites.
    public var unreachedWeight: Double = 0
    /// With capacities: the population assigned to each chosen site (in `chosen`'s order), and what no chosen
    /// site within reach had room for (coverage).
    public var loads: [Double]?
    public var unassignedWeight: Double?
    /// Attendance and market share: the expected visitors of each chosen site (in `chosen`'s order), and all
    /// of them (the people the chosen sites capture) as a share of the population.
    public var visitors: [Double]?
    public var capturedShare: Double?
    /// Demand points left out of a median or center question because no allowed candidate reaches them
    /// (`skipUnreachable`), and their weight.
    public var leftOut: [Int] = []
    public var leftOutWeight: Double = 0
}

public struct LocationError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public enum LocationAllocation {
    public static func solve(_ problem: LocationProblem, _ request: LocationRequest) throws -> LocationSolution {
        let start = Date()
        try check(problem, request)
        try request.control.check()
        // Median and center with villages no candidate reaches: solved on the others, when asked.
        let stranded = request.objective == .median || request.objective == .center ? problem.stranded : []
        if !stranded.isEmpty {
            guard request.skipUnreachable else { throw strandedError(problem, stranded) }
            let kept = problem.weights.indices.filter { !stranded.contains($0) }
            var solution = try solve(problem.keepingDemand(kept), request)
            solution.leftOut = stranded
            solution.leftOutWeight = stranded.reduce(0) { $0 + problem.weights[$1] }
            solution.seconds = Date().timeIntervalSince(start)
            return solution
        }
        if let decay = request.goal.decay {
            var solution = try solveWithDecay(problem, request, decay: decay)
            try request.control.check()
            solution.seconds = Date().timeIntervalSince(start)
            return describe(problem, request, solution)
        }
        if problem.capacities != nil {
            var solution = try exactCapacitated(problem, request)
            try request.control.check()
            solution.seconds = Date().timeIntervalSince(start)
            return describe(problem, request, solution)
        }
        var solution: LocationSolution
        let useHeuristic: Bool
        switch request.solver {
        case .exact: useHeuristic = false
        case .heuristic: useHeuristic = true
        case .auto:
            // The p-median's exact solver reduces the problem before it models it (`exactMedian`) and decides by
            // itself when the model would be too large; maximal covering beyond this size: the heuristic with a bound.
            useHeuristic = request.objective == .coverage && problem.weights.count * problem.candidateCount > 1_000_000
        }
        switch request.goal {
        case .median(let p) where useHeuristic:
            solution = try heuristic(problem, p: p, coverageThreshold: nil, request)
        // Thresholds are compared as `CostPrecision` says, here as everywhere else.
        case .coverage(let p, let t) where useHeuristic:
            solution = try heuristic(problem, p: p, coverageThreshold: CostPrecision.limit(t), request)
        case .coverage(let p, let t): solution = try exactCoverage(problem, p: p, threshold: CostPrecision.limit(t), request)
        case .minimum(let t, let share): solution = try exactMinimum(problem, threshold: CostPrecision.limit(t), share: share, request)
        case .median(let p): solution = try exactMedian(problem, p: p, request)
        case .center(let p): solution = try exactCenter(problem, p: p, request)
        case .backup(let p, let t):
            guard request.solver != .heuristic else { throw LocationError("backup covering is solved exactly only; leave out --solver heuristic") }
            solution = try exactBackup(problem, p: p, threshold: CostPrecision.limit(t), request)
        case .attendance, .marketShare, .targetShare: throw LocationError("attendance and market share are solved with their decay")
        }
        // A solve cut short by its caller is not an answer.
        try request.control.check()
        solution.seconds = Date().timeIntervalSince(start)
        return describe(problem, request, solution)
    }

    /// Who reaches no allowed candidate, in words: how many people, and the first few by name.
    static func strandedError(_ problem: LocationProblem, _ stranded: [Int]) -> LocationError {
        let weight = stranded.reduce(0) { $0 + problem.weights[$1] }
        return LocationError(String(format: "%d demand point(s) with %.0f people reach no allowed candidate site: %@; "
                                    + "leave them out with --skip-unreachable (they are then listed), or add candidates they reach",
                                    stranded.count, weight, problem.names(stranded)))
    }

    static func check(_ problem: LocationProblem, _ request: LocationRequest) throws {
        let allowed = problem.allowed
        if let bad = problem.required.intersection(problem.excluded).first {
            throw LocationError("\(problem.candidateName(bad)) is both required and excluded")
        }
        if let p = request.goal.facilities {
            guard p >= 1 else { throw LocationError("the number of facilities must be at least 1") }
            if p < problem.required.count {
                throw LocationError("p = \(p) is smaller than the \(problem.required.count) facilities that must be kept")
            }
            if p > allowed.count { throw LocationError("p = \(p) but only \(allowed.count) candidate sites may be chosen") }
        }
        if let t = request.goal.threshold, !(t > 0 && t.isFinite) { throw LocationError("the threshold must be a positive number") }
        if case .targetShare(let share, _) = request.goal, !(share > 0 && share <= 1) { throw LocationError("the target share must be in (0, 1]") }
        if request.goal.decay != nil, let a = problem.attractiveness {
            guard a.count == problem.candidateCount else { throw LocationError("every candidate site needs an attractiveness") }
            if let j = a.indices.first(where: { !(a[$0].isFinite && a[$0] >= 0) }) {
                throw LocationError("\(problem.candidateName(j)) has an attractiveness of \(a[j]); it must be 0 or more")
            }
        }
        if let c = problem.competitors {
            guard c.attractiveness.count == c.count, c.cost.count == c.count * problem.weights.count else {
                throw LocationError("the competitors' costs do not match the demand points")
            }
            if c.attractiveness.contains(where: { !($0.isFinite && $0 >= 0) }) { throw LocationError("a competitor's attractiveness must be 0 or more") }
        }
        if case .minimum(let t, let share) = request.goal {
            guard share > 0 && share <= 1 else { throw LocationError("the share must be in (0, 1]") }
            // Who no allowed site covers decides what any set can reach: say so before solving.
            let limit = CostPrecision.limit(t)
            let out = problem.weights.indices.filter { i in problem.weights[i] > 0 && !allowed.contains { problem.c(i, $0) <= limit } }
            let outWeight = out.reduce(0) { $0 + problem.weights[$1] }
            let reachable = problem.totalWeight > 0 ? (problem.totalWeight - outWeight) / problem.totalWeight : 0
            if !out.isEmpty && reachable < share * (1 - 1e-12) {
                let who = String(format: "%d demand point(s) with %.0f people have no candidate site within the threshold: %@", out.count, outWeight,
                                 problem.names(out))
                let floor = (reachable * 1000).rounded(.down) / 1000
                guard floor > 0 else { throw LocationError(who + "; no set covers anyone, so raise the threshold") }
                throw LocationError(who + "; at most \(Self.percent(reachable)) % of the population can be covered, so no set covers "
                                    + (share >= 1 ? "everyone" : "\(Self.percent(share)) %") + String(format: " (try --share %.3f)", floor))
            }
        }
    }

    /// A share as a percentage with the digits it needs: 84.9, 99.97, never a misleading 100.0.
    static func percent(_ share: Double) -> String {
        for digits in 1...4 {
            let text = String(format: "%.\(digits)f", share * 100)
            if (Double(text) ?? 0) != 100 || share >= 1 { return text }
        }
        return String(format: "%.4f", share * 100)
    }

    /// Figures for any chosen set: covered weight, weighted mean and maximum of the nearest chosen site.
    public static func evaluate(_ problem: LocationProblem, chosen: [Int], threshold: Double?) -> (covered: Double?, total: Double, mean: Double?, max: Double) {
        var total = 0.0, covered = 0.0, w = 0.0, worst = 0.0
        for i in problem.weights.indices {
            let best = chosen.map { problem.c(i, $0) }.min() ?? .infinity
            if let t = threshold, best <= CostPrecision.limit(t) { covered += problem.weights[i] }
            if best.isFinite { total += problem.weights[i] * best; w += problem.weights[i] }
            if problem.weights[i] > 0 { worst = max(worst, best) }
        }
        return (threshold.map { _ in covered }, total, w > 0 ? total / w : nil, worst)
    }

    static func describe(_ problem: LocationProblem, _ request: LocationRequest, _ s: LocationSolution) -> LocationSolution {
        var out = s
        let order = s.chosen.indices.sorted { s.chosen[$0] < s.chosen[$1] }
        out.loads = s.loads.map { loads in order.map { loads[$0] } }
        out.visitors = s.visitors.map { visitors in order.map { visitors[$0] } }
        out.chosen.sort()
        let e = evaluate(problem, chosen: out.chosen, threshold: request.goal.threshold)
        out.coveredWeight = e.covered
        if let t = request.goal.threshold {
            let limit = CostPrecision.limit(t)
            out.backupWeight = problem.weights.indices.filter { i in out.chosen.filter { problem.c(i, $0) <= limit }.count >= 2 }
                .reduce(0) { $0 + problem.weights[$1] }
        }
        out.meanCost = e.mean
        out.maxCost = e.max.isFinite ? e.max : nil
        out.unreachedWeight = problem.weights.indices.filter { i in problem.weights[i] > 0 && !out.chosen.contains { problem.c(i, $0).isFinite } }
            .reduce(0) { $0 + problem.weights[$1] }
        if let b = out.bound {
            out.gap = out.value == 0 ? (b == 0 ? 0 : nil) : abs(out.value - b) / abs(out.value)
        }
        return out
    }

    static func chosen(_ result: MIPResult, _ xs: [Int]) -> [Int] {
        xs.indices.filter { result.values[xs[$0]] > 0.5 }
    }

    /// Facility variables x_j (binary; required fixed at 1, excluded at 0).
    static func facilityVariables(_ m: inout MIPModel, _ problem: LocationProblem, objective: (Int) -> Double = { _ in 0 }) -> [Int] {
        (0..<problem.candidateCount).map { j in
            let fixed: Double? = problem.required.contains(j) ? 1 : problem.excluded.contains(j) ? 0 : nil
            return m.add(.init(lower: fixed ?? 0, upper: fixed ?? 1, objective: objective(j), integer: true))
        }
    }

    static func result(_ r: MIPResult, _ objective: LocationObjective, _ xs: [Int], value: Double? = nil) throws -> LocationSolution {
        switch r.status {
        case .infeasible: throw LocationError("no set of facilities satisfies the request")
        case .noSolution: throw LocationError("the solver found no solution within the time limit")
        default: break
        }
        return LocationSolution(objective: objective, chosen: chosen(r, xs), value: value ?? r.objective, proven: r.status == .optimal,
                                bound: r.status == .optimal ? r.objective : r.relaxationBound, gap: nil,
                                method: "exact (GLPK branch-and-cut)", seconds: r.seconds)
    }

    static func exactCoverage(_ problem: LocationProblem, p: Int, threshold t: Double, _ request: LocationRequest) throws -> LocationSolution {
        let (m, xs) = coverageModel(problem, p: p, threshold: t, integer: true)
        return try result(try GLPKSolver.solve(m, timeLimitSeconds: request.timeLimitSeconds, shouldStop: { request.control.isStopped }), .coverage, xs)
    }

    /// Demand points grouped by the candidates that reach them within `t` (their coverage column): points
    /// with the same set are one row of a covering model with their weights summed, which leaves the optimum
    /// as it is and the model as small as the number of distinct sets (at kommune scale, a few hundred rows
    /// for thousands of villages). Points no candidate reaches, and points without weight, are left out.
    static func coverageGroups(_ problem: LocationProblem, threshold t: Double, skippingExcluded: Bool) -> [(near: [Int], weight: Double)] {
        var index: [[Int]: Int] = [:]
        var groups: [(near: [Int], weight: Double)] = []
        for i in problem.weights.indices where problem.weights[i] > 0 {
            let near = (0..<problem.candidateCount).filter { problem.c(i, $0) <= t && !(skippingExcluded && problem.excluded.contains($0)) }
            guard !near.isEmpty else { continue }
            if let g = index[near] { groups[g].weight += problem.weights[i] } else {
                index[near] = groups.count
                groups.append((near, problem.weights[i]))
            }
        }
        return groups
    }

    static func coverageModel(_ problem: LocationProblem, p: Int, threshold t: Double, integer: Bool) -> (MIPModel, [Int]) {
        var m = MIPModel(sense: .maximize)
        var xs = facilityVariables(&m, problem)
        if !integer { for x in xs { m.variables[x].integer = false } }
        for g in coverageGroups(problem, threshold: t, skippingExcluded: false) {
            let y = m.add(.init(lower: 0, upper: 1, objective: g.weight))
            m.add(.init([(y, 1)] + g.near.map { (xs[$0], -1) }, upper: 0))
        }
        m.add(.init(xs.map { ($0, 1) }, lower: Double(p), upper: Double(p)))
        xs = xs.map { $0 }
        return (m, xs)
    }

    /// Backup covering, lexicographically: first the most weight with two chosen sites within `t` (u), then, with
    /// that fixed, the most weight with one (y); y and u are binary, as the LP would split them. Demand points
    /// with the same covering sites are one row (`coverageGroups`).
    static func exactBackup(_ problem: LocationProblem, p: Int, threshold t: Double, _ request: LocationRequest) throws -> LocationSolution {
        let groups = coverageGroups(problem, threshold: t, skippingExcluded: false)
        func model(backupAtLeast floor: Double?) -> (MIPModel, [Int]) {
            var m = MIPModel(sense: .maximize)
            let xs = facilityVariables(&m, problem)
            var backupTerms: [(Int, Double)] = []
            for g in groups {
                let y = m.add(.init(lower: 0, upper: 1, objective: floor == nil ? 0 : g.weight, integer: true))
                let u = m.add(.init(lower: 0, upper: 1, objective: floor == nil ? g.weight : 0, integer: true))
                let cover = g.near.map { (xs[$0], -1.0) }
                m.add(.init([(y, 1), (u, 1)] + cover, upper: 0))
                m.add(.init([(u, 1), (y, -1)], upper: 0))
                backupTerms.append((u, g.weight))
            }
            m.add(.init(xs.map { ($0, 1) }, lower: Double(p), upper: Double(p)))
            if let floor { m.add(.init(backupTerms, lower: floor)) }
            return (m, xs)
        }
        let (first, xs1) = model(backupAtLeast: nil)
        let r1 = try GLPKSolver.solve(first, timeLimitSeconds: request.timeLimitSeconds, shouldStop: { request.control.isStopped })
        var solution = try result(r1, .backup, xs1)
        guard r1.status == .optimal else { return solution }
        // The best backup found, kept (to solver tolerance) while the covered weight is raised.
        let (second, xs2) = model(backupAtLeast: r1.objective - 1e-6 * max(1, r1.objective))
        let r2 = try GLPKSolver.solve(second, timeLimitSeconds: request.timeLimitSeconds, shouldStop: { request.control.isStopped })
        if r2.status == .optimal {
            solution.chosen = chosen(r2, xs2)
        }
        return solution
    }

    static func exactMinimum(_ problem: LocationProblem, threshold t: Double, share: Double, _ request: LocationRequest) throws -> LocationSolution {
        var m = MIPModel(sense: .minimize)
        let xs = facilityVariables(&m, problem) { _ in 1 }
        if share < 1 {
            var terms: [(Int, Double)] = []
            for g in coverageGroups(problem, threshold: t, skippingExcluded: true) {
                let y = m.add(.init(lower: 0, upper: 1, integer: true))
                m.add(.init([(y, 1)] + g.near.map { (xs[$0], -1) }, upper: 0))
                terms.append((y, g.weight))
            }
            m.add(.init(terms, lower: share * problem.totalWeight))
        } else {
            // `check` has refused a request with a point no candidate reaches; this guards the p-center search.
            if let i = problem.weights.indices.first(where: { i in
                problem.weights[i] > 0 && !(0..<problem.candidateCount).contains { problem.c(i, $0) <= t && !problem.excluded.contains($0) }
            }) {
                throw LocationError("\(problem.demandName(i)) has no candidate site within the threshold")
            }
            // One covering row per distinct set of candidates.
            for g in coverageGroups(problem, threshold: t, skippingExcluded: true) { m.add(.init(g.near.map { (xs[$0], 1) }, lower: 1)) }
        }
        return try result(try GLPKSolver.solve(m, timeLimitSeconds: request.timeLimitSeconds, shouldStop: { request.control.isStopped }), .minimum, xs)
    }

    /// The classical p-median model (an assignment variable per village and site): for what the interchange
    /// cannot start from (sets that leave a village unreached).
    static func classicalMedian(_ problem: LocationProblem, p: Int, _ request: LocationRequest) throws -> LocationSolution {
        var m = MIPModel(sense: .minimize)
        let xs = facilityVariables(&m, problem)
        for i in problem.weights.indices where problem.weights[i] > 0 {
            var assign: [(Int, Double)] = []
            for j in 0..<problem.candidateCount where problem.c(i, j).isFinite && !problem.excluded.contains(j) {
                let z = m.add(.init(lower: 0, upper: 1, objective: problem.weights[i] * problem.c(i, j)))
                assign.append((z, 1))
                m.add(.init([(z, 1), (xs[j], -1)], upper: 0))
            }
            m.add(.init(assign, lower: 1, upper: 1))
        }
        m.add(.init(xs.map { ($0, 1) }, lower: Double(p), upper: Double(p)))
        return try result(try GLPKSolver.solve(m, timeLimitSeconds: request.timeLimitSeconds, shouldStop: { request.control.isStopped }), .median, xs)
    }

    /// p-center: the optimum is one of the costs; binary search over them, each step a set-covering
    /// feasibility question (can ≤ p facilities cover every point within r?) answered exactly.
    static func exactCenter(_ problem: LocationProblem, p: Int, _ request: LocationRequest) throws -> LocationSolution {
        let radii = Array(Set(problem.cost.filter(\.isFinite))).sorted()
        var lo = 0, hi = radii.count - 1
        var best: [Int]?
        var proven = true
        while lo <= hi {
            try request.control.check()
            let mid = (lo + hi) / 2
            let fits: [Int]?
            do {
                let s = try exactMinimum(problem, threshold: radii[mid], share: 1, request)
                proven = proven && s.proven
                fits = Int(s.value.rounded()) <= p ? s.chosen : nil
            } catch is LocationError {
                fits = nil
            }
            if let set = fits { best = set; hi = mid - 1 } else { lo = mid + 1 }
        }
        guard var chosen = best else { throw LocationError("no set of \(p) facilities reaches every demand point") }
        // Fill up to p with the sites that help the worst-served most (the radius stays optimal).
        while chosen.count < p, let j = problem.allowed.filter({ !chosen.contains($0) }).first { chosen.append(j) }
        let value = evaluate(problem, chosen: chosen, threshold: nil).max
        return LocationSolution(objective: .center, chosen: chosen, value: value, proven: proven, bound: proven ? value : nil, gap: nil,
                                method: "exact (binary search over costs, GLPK set covering)", seconds: 0)
    }
}

// MARK: heuristics with bounds

extension LocationAllocation {
    /// Greedy construction then vertex substitution (Teitz–Bart interchange) until no swap improves: the chosen
    /// set and its value (covered weight or total travel). `coverageThreshold`: maximal covering with it; nil:
    /// p-median. `start`: a set to improve instead of the greedy one (it holds the required sites).
    static func interchange(_ problem: LocationProblem, p: Int, coverageThreshold: Double?, _ request: LocationRequest,
                            start: [Int]? = nil) throws -> (chosen: [Int], value: Double) {
        let m = problem.weights.count
        let allowed = problem.allowed
        let coverage = coverageThreshold != nil
        let t = coverageThreshold ?? .infinity
        // Score to minimise: p-median cost, or uncovered weight (ties broken by cost) for coverage.
        func score(_ set: [Int]) -> Double {
            var total = 0.0
            for i in 0..<m {
                var best = Double.infinity
                for j in set { best = min(best, problem.c(i, j)) }
                if coverage { total += best <= t ? 0 : problem.weights[i] } else { total += problem.weights[i] * best }
            }
            return total
        }
        var chosen = start ?? Array(problem.required)
        var best = [Double](repeating: .infinity, count: m)
        for i in 0..<m { for j in chosen { best[i] = min(best[i], problem.c(i, j)) } }
        func gain(_ j: Int) -> Double {
            var g = 0.0
            for i in 0..<m {
                let c = problem.c(i, j)
                if coverage {
                    if c <= t && best[i] > t { g += problem.weights[i] }
                } else if c < best[i] {
                    g += problem.weights[i] * (best[i].isFinite ? best[i] - c : 1e12)
                }
            }
            return g
        }
        while chosen.count < p {
            guard let j = allowed.filter({ !chosen.contains($0) }).max(by: { (gain($0), -$0) < (gain($1), -$1) }) else { break }
            chosen.append(j)
            for i in 0..<m { best[i] = min(best[i], problem.c(i, j)) }
        }
        var current = score(chosen)
        guard current.isFinite else {
            // Some village reaches none of the sites: swaps cannot be judged; only an exact search can tell.
            throw LocationError("the heuristic found no set of \(p) facilities reaching every demand point")
        }
        var improved = true
        while improved {
            try request.control.check()
            improved = false
            for a in chosen where !problem.required.contains(a) {
                for b in allowed where !chosen.contains(b) {
                    var trial = chosen
                    trial[trial.firstIndex(of: a)!] = b
                    let s = score(trial)
                    if s < current - 1e-9 {
                        chosen = trial
                        current = s
                        improved = true
                        break
                    }
                }
                if improved { break }
            }
        }
        return (chosen, coverage ? problem.totalWeight - current : current)
    }

    /// The interchange with a bound: for p-median the Lagrangian relaxation (subgradient, and the interchange
    /// started again from the sets it opens); for coverage the LP relaxation.
    static func heuristic(_ problem: LocationProblem, p: Int, coverageThreshold: Double?, _ request: LocationRequest) throws -> LocationSolution {
        let coverage = coverageThreshold != nil
        let t = coverageThreshold ?? .infinity
        var bound: Double?
        let chosen: [Int], value: Double
        if coverage {
            (chosen, value) = try interchange(problem, p: p, coverageThreshold: coverageThreshold, request)
            let (lp, _) = coverageModel(problem, p: p, threshold: t, integer: false)
            let r = try GLPKSolver.solve(lp, timeLimitSeconds: request.timeLimitSeconds, shouldStop: { request.control.isStopped })
            bound = r.status == .optimal ? r.objective : nil
        } else {
            let h = try lagrangianHeuristic(problem, p: p, request, iterations: 300)
            (chosen, value, bound) = (h.chosen, h.value, min(h.lagrangian.bound, h.value))
        }
        let proven = bound.map { abs($0 - value) <= 1e-6 * max(1, abs(value)) } ?? false
        return LocationSolution(objective: request.objective, chosen: chosen, value: value, proven: proven, bound: bound, gap: nil,
                                method: "heuristic (greedy + vertex substitution)" + (coverage ? ", LP bound" : ", Lagrangian bound"),
                                seconds: 0)
    }

    /// The p-median's interchange from the greedy set and from the sets the Lagrangian relaxation opens at its
    /// best multipliers (a local optimum of the greedy start can be far from the optimum the bound already
    /// meets), with the bound.
    static func lagrangianHeuristic(_ problem: LocationProblem, p: Int, _ request: LocationRequest,
                                    iterations: Int) throws -> (chosen: [Int], value: Double, lagrangian: Lagrangian) {
        var (chosen, value) = try interchange(problem, p: p, coverageThreshold: nil, request)
        guard value.isFinite else { throw LocationError("the heuristic found no set of \(p) facilities reaching every demand point") }
        var lag = lagrangian(problem, p: p, upper: value, iterations: iterations, control: request.control)
        let proven = { lag.bound >= value - 1e-6 * max(1, abs(value)) }
        guard !proven() else { return (chosen, value, lag) }
        var improved = false
        for start in lag.openSets where Set(start) != Set(chosen) {
            try request.control.check()
            let (set, v) = try interchange(problem, p: p, coverageThreshold: nil, request, start: start)
            if v < value - 1e-9 * max(1, abs(value)) { (chosen, value, improved) = (set, v, true) }
            if proven() { break }
        }
        // A better set is a better target for the subgradient steps.
        if improved && !proven() {
            let again = lagrangian(problem, p: p, upper: value, iterations: iterations, control: request.control)
            if again.bound > lag.bound { lag = again }
        }
        return (chosen, value, lag)
    }

    /// The Lagrangian relaxation of the assignment rows at its best multipliers: the bound
    /// L(λ) = Σ λ_i + Σ over open j of ρ_j, with ρ_j = Σ_i min(0, w_i c_ij − λ_i) and the p cheapest j open (the
    /// required ones forced), found by subgradient steps; ρ at those multipliers is what the exact solver uses
    /// to fix sites.
    struct Lagrangian {
        var bound: Double
        var rho: [Double]
        /// The sets the relaxation opened at its last improvements (most recent first, distinct, at most three):
        /// starts for the interchange.
        var openSets: [[Int]] = []
    }

    /// Stops early (with the best bound so far) when `control` says the caller has gone or the time is up.
    static func lagrangian(_ problem: LocationProblem, p: Int, upper: Double, iterations: Int, control: WorkControl = .unlimited) -> Lagrangian {
        let m = problem.weights.count, n = problem.candidateCount
        let allowed = problem.allowed
        var lambda = (0..<m).map { i in problem.weights[i] * (allowed.map { problem.c(i, $0) }.min() ?? 0) }
        var best = Lagrangian(bound: -.infinity, rho: [])
        var theta = 2.0
        var sinceImproved = 0
        var rho = [Double](repeating: 0, count: n)
        for iteration in 0..<iterations {
            if iteration % 16 == 15 && control.isStopped { break }
            // ρ_j for every allowed site: the heavy part, shared between the cores.
            let lam = lambda
            let slots = Slots(n)
            forEachInParallel(allowed.count, threads: coreCount) { k in
                let j = allowed[k]
                var r = 0.0
                for i in 0..<m {
                    let c = problem.cost[i * n + j]
                    if c.isFinite { r += min(0, problem.weights[i] * c - lam[i]) }
                }
                slots.set(j, r)
            }
            rho = slots.values
            let free = allowed.filter { !problem.required.contains($0) }.sorted { rho[$0] < rho[$1] }
            let open = Array(problem.required) + Array(free.prefix(max(p - problem.required.count, 0)))
            let value = lambda.reduce(0, +) + open.reduce(0) { $0 + rho[$1] }
            if value > best.bound + 1e-9 {
                var sets = best.openSets.filter { Set($0) != Set(open) }
                sets.insert(open, at: 0)
                best = Lagrangian(bound: value, rho: rho, openSets: Array(sets.prefix(3)))
                sinceImproved = 0
            } else {
                sinceImproved += 1
                if sinceImproved >= 20 { theta /= 2; sinceImproved = 0 }
            }
            if best.bound >= upper - 1e-9 * max(1, abs(upper)) { break }
            // Subgradient of the relaxed assignment constraints: 1 − Σ_j z_ij.
            var g = [Double](repeating: 1, count: m)
            for j in open {
                for i in 0..<m {
                    let c = problem.c(i, j)
                    if c.isFinite && problem.weights[i] * c - lambda[i] < 0 { g[i] -= 1 }
                }
            }
            let norm = g.reduce(0) { $0 + $1 * $1 }
            if norm < 1e-12 || theta < 1e-6 { break }
            let step = theta * max(upper - value, 1e-9 * max(1, abs(upper))) / norm
            for i in 0..<m { lambda[i] += step * g[i] }
        }
        return best
    }
}

/// One result slot per index, written by parallel workers at distinct indexes.
final class Slots: @unchecked Sendable {
    private let buffer: UnsafeMutableBufferPointer<Double>
    init(_ count: Int) { buffer = .allocate(capacity: count); buffer.initialize(repeating: 0) }
    deinit { buffer.deallocate() }
    func set(_ k: Int, _ value: Double) { buffer[k] = value }
    var values: [Double] { Array(buffer) }
}

// MARK: capacities

extension LocationAllocation {
    /// The capacitated models, solved exactly (GLPK): each village is assigned to a chosen site (whole, or
    /// split with `splitDemand`), and no site takes more people than its capacity.
    /// - median: every village assigned, the least population-weighted travel;
    /// - coverage: the most people assigned within the threshold (the rest is `unassignedWeight`);
    /// - minimum: the fewest sites that take everyone (or `share`) within the threshold.
    static func exactCapacitated(_ problem: LocationProblem, _ request: LocationRequest) throws -> LocationSolution {
        guard let capacities = problem.capacities else { throw LocationError("no capacities") }
        guard capacities.count == problem.candidateCount, capacities.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw LocationError("every candidate site needs a capacity of 0 or more")
        }
        guard request.solver != .heuristic else { throw LocationError("capacitated models are solved exactly only; leave out --solver heuristic") }
        let limit: Double
        switch request.goal {
        case .median: limit = .infinity
        case .coverage(_, let t), .minimum(let t, _): limit = CostPrecision.limit(t)
        case .center, .backup, .attendance, .marketShare, .targetShare:
            throw LocationError("capacities are taken by the median, coverage and minimum objectives")
        }
        let p = request.goal.facilities
        try explainCapacity(problem, request, capacities: capacities, limit: limit)
        var m = MIPModel(sense: request.objective == .coverage ? .maximize : .minimize)
        let xs = facilityVariables(&m, problem) { _ in request.objective == .minimum ? 1 : 0 }
        var loadTerms = [[(Int, Double)]](repeating: [], count: problem.candidateCount)
        var assignments: [(i: Int, j: Int, z: Int)] = []
        var covered: [(Int, Double)] = []
        for i in problem.weights.indices where problem.weights[i] > 0 {
            let w = problem.weights[i]
            var row: [(Int, Double)] = []
            // A village kept whole never goes to a site smaller than it.
            for j in problem.allowed where problem.c(i, j) <= limit && problem.c(i, j).isFinite && (problem.splitDemand || w <= capacities[j]) {
                let cost = request.objective == .median ? w * problem.c(i, j) : request.objective == .coverage ? w : 0
                let z = m.add(.init(lower: 0, upper: 1, objective: cost, integer: !problem.splitDemand))
                m.add(.init([(z, 1), (xs[j], -1)], upper: 0))
                loadTerms[j].append((z, w))
                row.append((z, 1))
                assignments.append((i, j, z))
            }
            switch request.goal {
            case .median: m.add(.init(row, lower: 1, upper: 1))
            case .minimum(_, let share) where share >= 1: m.add(.init(row, lower: 1, upper: 1))
            default:
                guard !row.isEmpty else { continue }
                m.add(.init(row, upper: 1))
                covered += row.map { ($0.0, w) }
            }
        }
        for j in problem.allowed where !loadTerms[j].isEmpty {
            m.add(.init(loadTerms[j] + [(xs[j], -capacities[j])], upper: 0))
        }
        if let p { m.add(.init(xs.map { ($0, 1) }, lower: Double(p), upper: Double(p))) }
        if case .minimum(_, let share) = request.goal, share < 1 { m.add(.init(covered, lower: share * problem.totalWeight)) }
        let r = try GLPKSolver.solve(m, timeLimitSeconds: request.timeLimitSeconds, branching: .pseudocost, shouldStop: { request.control.isStopped })
        if r.status == .infeasible {
            throw LocationError("no assignment fits the capacities: the villages within reach of the sites that could be chosen need more places than those sites have")
        }
        var solution = try result(r, request.objective, xs)
        var load = [Double](repeating: 0, count: problem.candidateCount)
        for a in assignments { load[a.j] += problem.weights[a.i] * r.values[a.z] }
        solution.loads = solution.chosen.map { (load[$0] * 1e6).rounded() / 1e6 }
        let assigned = load.reduce(0, +)
        solution.unassignedWeight = max(0, ((problem.totalWeight - assigned) * 1e6).rounded() / 1e6)
        solution.method = "exact (GLPK branch-and-cut, capacitated" + (problem.splitDemand ? ", villages may be split)" : ", villages whole)")
        return solution
    }

    /// A request no set can meet, said in numbers before solving: the people to place against the most places
    /// `p` sites (or all of them) can offer.
    static func explainCapacity(_ problem: LocationProblem, _ request: LocationRequest, capacities: [Double], limit: Double) throws {
        let needAll: Bool
        switch request.goal {
        case .median: needAll = true
        case .minimum(_, let share): needAll = share >= 1
        default: needAll = false
        }
        guard needAll else { return }
        let reach = problem.weights.indices.filter { i in problem.weights[i] > 0 }
        let need = reach.reduce(0) { $0 + problem.weights[$1] }
        let open = problem.allowed.map { capacities[$0] }.sorted(by: >)
        let p = request.goal.facilities ?? open.count
        let most = open.prefix(p).reduce(0, +)
        if need > most + 1e-9 {
            throw LocationError(String(format: "the villages hold %.0f people, but %@ can take at most %.0f (total demand exceeds total capacity)", need,
                                       p == open.count ? "all \(open.count) candidate sites" : "the \(p) largest of the candidate sites", most))
        }
    }
}
