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

    func demandName(_ i: Int) -> String { demandNames.map { "`\($0[i])`" } ?? "demand point \(i)" }
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

public struct LocationRequest: Sendable {
    public var objective: LocationObjective
    public var p: Int?
    /// Seconds or metres, for coverage and minimum.
    public var threshold: Double?
    /// Share of the population the minimum set must cover (default all).
    public var share: Double?
    public var solver: SolverChoice
    public var timeLimitSeconds: Double
    /// Stops the solve early when nobody waits for the answer (the service's abandoned requests).
    public var control: WorkControl = .unlimited

    public init(objective: LocationObjective, p: Int? = nil, threshold: Double? = nil, share: Double? = nil,
                solver: SolverChoice = .auto, timeLimitSeconds: Double = 60) {
        self.objective = objective
        self.p = p
        self.threshold = threshold
        self.share = share
        self.solver = solver
        self.timeLimitSeconds = timeLimitSeconds
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
    public var meanCost: Double?
    public var maxCost: Double?
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
        var solution: LocationSolution
        let useHeuristic: Bool
        switch request.solver {
        case .exact: useHeuristic = false
        case .heuristic: useHeuristic = true
        case .auto:
            // p-median's assignment variables grow as demand × candidates; beyond that size the heuristic with a bound.
            // (GLPK's branch-and-cut on the classical p-median formulation takes minutes from about 100,000 pairs).
            useHeuristic = (request.objective == .median && problem.weights.count * problem.candidateCount > 40_000)
                || (request.objective == .coverage && problem.weights.count * problem.candidateCount > 1_000_000)
        }
        if request.solver == .auto && request.objective == .median {
            // The heuristic with its Lagrangian bound often proves the optimum by itself; else branch-and-cut
            // where the problem is small enough for it.
            let first = try? heuristic(problem, request)
            if let first, first.proven || useHeuristic {
                solution = first
            } else if useHeuristic {
                throw LocationError("no set of \(request.p!) facilities reaching every demand point was found")
            } else {
                solution = try exactMedian(problem, request)
            }
        } else if useHeuristic && (request.objective == .median || request.objective == .coverage) {
            solution = try heuristic(problem, request)
        } else {
            switch request.objective {
            case .coverage: solution = try exactCoverage(problem, request)
            case .minimum: solution = try exactMinimum(problem, request)
            case .median: solution = try exactMedian(problem, request)
            case .center: solution = try exactCenter(problem, request)
            }
        }
        // A solve cut short by its caller is not an answer.
        try request.control.check()
        solution.seconds = Date().timeIntervalSince(start)
        return describe(problem, request, solution)
    }

    static func check(_ problem: LocationProblem, _ request: LocationRequest) throws {
        let allowed = problem.allowed
        if let bad = problem.required.intersection(problem.excluded).first {
            throw LocationError("\(problem.candidateName(bad)) is both required and excluded")
        }
        switch request.objective {
        case .coverage, .median, .center:
            guard let p = request.p else { throw LocationError("the \(request.objective.rawValue) objective needs the number of facilities (--facilities p)") }
            guard p >= 1 else { throw LocationError("the number of facilities must be at least 1") }
            if p < problem.required.count {
                throw LocationError("p = \(p) is smaller than the \(problem.required.count) facilities that must be kept")
            }
            if p > allowed.count { throw LocationError("p = \(p) but only \(allowed.count) candidate sites may be chosen") }
        case .minimum:
            if let s = request.share, !(s > 0 && s <= 1) { throw LocationError("the share must be in (0, 1]") }
        }
        if request.objective == .coverage || request.objective == .minimum {
            guard let t = request.threshold, t > 0 else { throw LocationError("the \(request.objective.rawValue) objective needs a threshold") }
        }
        if request.objective == .median || request.objective == .center {
            let stranded = problem.weights.indices.filter { i in problem.weights[i] > 0 && !allowed.contains { problem.c(i, $0).isFinite } }
            if !stranded.isEmpty {
                throw LocationError("\(stranded.map(problem.demandName).joined(separator: ", ")) reach(es) no allowed candidate site")
            }
        }
    }

    /// Figures for any chosen set: covered weight, weighted mean and maximum of the nearest chosen site.
    public static func evaluate(_ problem: LocationProblem, chosen: [Int], threshold: Double?) -> (covered: Double?, total: Double, mean: Double?, max: Double) {
        var total = 0.0, covered = 0.0, w = 0.0, worst = 0.0
        for i in problem.weights.indices {
            let best = chosen.map { problem.c(i, $0) }.min() ?? .infinity
            if let t = threshold, best <= t { covered += problem.weights[i] }
            if best.isFinite { total += problem.weights[i] * best; w += problem.weights[i] }
            if problem.weights[i] > 0 { worst = max(worst, best) }
        }
        return (threshold.map { _ in covered }, total, w > 0 ? total / w : nil, worst)
    }

    static func describe(_ problem: LocationProblem, _ request: LocationRequest, _ s: LocationSolution) -> LocationSolution {
        var out = s
        out.chosen.sort()
        let e = evaluate(problem, chosen: out.chosen, threshold: request.threshold)
        out.coveredWeight = e.covered
        out.meanCost = e.mean
        out.maxCost = e.max
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

    static func exactCoverage(_ problem: LocationProblem, _ request: LocationRequest) throws -> LocationSolution {
        let (m, xs) = coverageModel(problem, request, integer: true)
        return try result(try GLPKSolver.solve(m, timeLimitSeconds: request.timeLimitSeconds, shouldStop: { request.control.isStopped }), .coverage, xs)
    }

    static func coverageModel(_ problem: LocationProblem, _ request: LocationRequest, integer: Bool) -> (MIPModel, [Int]) {
        var m = MIPModel(sense: .maximize)
        var xs = facilityVariables(&m, problem)
        if !integer { for x in xs { m.variables[x].integer = false } }
        let t = request.threshold!
        for i in problem.weights.indices {
            let near = (0..<problem.candidateCount).filter { problem.c(i, $0) <= t }
            guard !near.isEmpty, problem.weights[i] > 0 else { continue }
            let y = m.add(.init(lower: 0, upper: 1, objective: problem.weights[i]))
            m.add(.init([(y, 1)] + near.map { (xs[$0], -1) }, upper: 0))
        }
        m.add(.init(xs.map { ($0, 1) }, lower: Double(request.p!), upper: Double(request.p!)))
        xs = xs.map { $0 }
        return (m, xs)
    }

    static func exactMinimum(_ problem: LocationProblem, _ request: LocationRequest) throws -> LocationSolution {
        var m = MIPModel(sense: .minimize)
        let xs = facilityVariables(&m, problem) { _ in 1 }
        let t = request.threshold!
        if let share = request.share, share < 1 {
            var terms: [(Int, Double)] = []
            for i in problem.weights.indices where problem.weights[i] > 0 {
                let near = (0..<problem.candidateCount).filter { problem.c(i, $0) <= t && !problem.excluded.contains($0) }
                guard !near.isEmpty else { continue }
                let y = m.add(.init(lower: 0, upper: 1, integer: true))
                m.add(.init([(y, 1)] + near.map { (xs[$0], -1) }, upper: 0))
                terms.append((y, problem.weights[i]))
            }
            m.add(.init(terms, lower: share * problem.totalWeight))
        } else {
            for i in problem.weights.indices where problem.weights[i] > 0 {
                let near = (0..<problem.candidateCount).filter { problem.c(i, $0) <= t && !problem.excluded.contains($0) }
                guard !near.isEmpty else {
                    throw LocationError("\(problem.demandName(i)) has no candidate site within the threshold: no set covers everyone (try --share)")
                }
                m.add(.init(near.map { (xs[$0], 1) }, lower: 1))
            }
        }
        return try result(try GLPKSolver.solve(m, timeLimitSeconds: request.timeLimitSeconds, shouldStop: { request.control.isStopped }), .minimum, xs)
    }

    static func exactMedian(_ problem: LocationProblem, _ request: LocationRequest) throws -> LocationSolution {
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
        m.add(.init(xs.map { ($0, 1) }, lower: Double(request.p!), upper: Double(request.p!)))
        return try result(try GLPKSolver.solve(m, timeLimitSeconds: request.timeLimitSeconds, shouldStop: { request.control.isStopped }), .median, xs)
    }

    /// p-center: the optimum is one of the costs; binary search over them, each step a set-covering
    /// feasibility question (can ≤ p facilities cover every point within r?) answered exactly.
    static func exactCenter(_ problem: LocationProblem, _ request: LocationRequest) throws -> LocationSolution {
        let p = request.p!
        let radii = Array(Set(problem.cost.filter(\.isFinite))).sorted()
        var lo = 0, hi = radii.count - 1
        var best: [Int]?
        var proven = true
        while lo <= hi {
            try request.control.check()
            let mid = (lo + hi) / 2
            var r = request
            r.threshold = radii[mid]
            r.share = nil
            let fits: [Int]?
            do {
                let s = try exactMinimum(problem, r)
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
    /// Greedy construction then vertex substitution (Teitz–Bart interchange) until no swap improves.
    /// Bounds: for p-median a Lagrangian relaxation (subgradient); for coverage the LP relaxation.
    static func heuristic(_ problem: LocationProblem, _ request: LocationRequest) throws -> LocationSolution {
        let p = request.p!
        let n = problem.candidateCount, m = problem.weights.count
        let allowed = problem.allowed
        let coverage = request.objective == .coverage
        let t = request.threshold ?? .infinity
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
        var chosen = Array(problem.required)
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
        let value = coverage ? problem.totalWeight - current : current
        var bound: Double?
        if coverage {
            let (lp, _) = coverageModel(problem, request, integer: false)
            let r = try GLPKSolver.solve(lp, timeLimitSeconds: request.timeLimitSeconds, shouldStop: { request.control.isStopped })
            bound = r.status == .optimal ? r.objective : nil
        } else {
            bound = lagrangianMedianBound(problem, p: p, upper: value, iterations: 300)
        }
        _ = n
        let proven = bound.map { abs($0 - value) <= 1e-6 * max(1, abs(value)) } ?? false
        return LocationSolution(objective: request.objective, chosen: chosen, value: value, proven: proven, bound: bound, gap: nil,
                                method: "heuristic (greedy + vertex substitution)" + (coverage ? ", LP bound" : ", Lagrangian bound"),
                                seconds: 0)
    }

    /// A lower bound on the p-median optimum: max over multipliers λ of
    /// L(λ) = Σ λ_i + Σ over chosen j of Σ_i min(0, w_i c_ij − λ_i), the p cheapest j (required ones forced).
    static func lagrangianMedianBound(_ problem: LocationProblem, p: Int, upper: Double, iterations: Int) -> Double {
        let m = problem.weights.count, n = problem.candidateCount
        let allowed = problem.allowed
        var lambda = (0..<m).map { i in problem.weights[i] * (allowed.map { problem.c(i, $0) }.min() ?? 0) }
        var bestBound = -Double.infinity
        var theta = 2.0
        var sinceImproved = 0
        var rho = [Double](repeating: 0, count: n)
        for _ in 0..<iterations {
            for j in allowed {
                var r = 0.0
                for i in 0..<m {
                    let c = problem.c(i, j)
                    if c.isFinite { r += min(0, problem.weights[i] * c - lambda[i]) }
                }
                rho[j] = r
            }
            let free = allowed.filter { !problem.required.contains($0) }.sorted { rho[$0] < rho[$1] }
            let open = Array(problem.required) + Array(free.prefix(max(p - problem.required.count, 0)))
            let value = lambda.reduce(0, +) + open.reduce(0) { $0 + rho[$1] }
            if value > bestBound + 1e-9 { bestBound = value; sinceImproved = 0 } else {
                sinceImproved += 1
                if sinceImproved >= 20 { theta /= 2; sinceImproved = 0 }
            }
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
        return min(bestBound, upper)
    }
}
