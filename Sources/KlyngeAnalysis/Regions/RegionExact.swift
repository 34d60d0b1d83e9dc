import Foundation
import KlyngeMIP
import KlyngeWork

/// The exact regionalisation: a mixed-integer programme solved by GLPK, with contiguity by flows (each
/// cluster's root area sends one unit to every other member, only through members), so a proven optimum
/// is optimal over all contiguous partitions.
public enum RegionExact {
    public enum Outcome: Sendable {
        case solved(RegionSolution)
        /// GLPK proved that no partition meets the constraints.
        case infeasible
        /// The time limit came before any partition was found.
        case noAnswer
    }

    /// Size of the programme, to choose the solver before building it.
    public static func variableCount(_ p: RegionProblem) -> Int {
        let usable = usableHubs(p)
        let x = (0..<p.areaCount).reduce(0) { s, i in s + usable.filter { p.cost[i][$0].isFinite }.count }
        let roots = Set(usable.map { p.hubs[$0].area }).count
        let arcs = p.neighbours.reduce(0) { $0 + $1.count }
        return x + roots * arcs
    }

    /// Hubs whose own area reaches them and may host them.
    static func usableHubs(_ p: RegionProblem) -> [Int] {
        p.hubs.indices.filter { p.cost[p.hubs[$0].area][$0].isFinite }
    }

    public static func solve(_ p: RegionProblem, timeLimitSeconds: Double, control: WorkControl = .unlimited) throws -> Outcome {
        let started = Date()
        let stop: @Sendable () -> Bool = { control.isStopped }
        switch p.count {
        case .exactly(let k):
            let built = build(p, count: .exactly(k), goal: p.objective == .count ? .travel : p.objective)
            let r = try GLPKSolver.solve(built.model, timeLimitSeconds: timeLimitSeconds, shouldStop: stop)
            return outcome(p, built, r, proven: r.status == .optimal, bound: r.relaxationBound, started: started)
        case .most:
            // First the most clusters, then the best tie-breaker (travel, or balance when that is the goal) at that count.
            let first = build(p, count: .most, goal: .count)
            let r1 = try GLPKSolver.solve(first.model, timeLimitSeconds: timeLimitSeconds, shouldStop: stop)
            guard r1.status == .optimal || r1.status == .feasible else {
                return r1.status == .infeasible ? .infeasible : .noAnswer
            }
            let k = Int(r1.objective.rounded())
            let left = max(1, timeLimitSeconds - Date().timeIntervalSince(started))
            let second = build(p, count: .exactly(k), goal: p.objective == .balance ? .balance : .travel)
            let r2 = try GLPKSolver.solve(second.model, timeLimitSeconds: left, shouldStop: stop)
            let use = (r2.status == .optimal || r2.status == .feasible) ? (second, r2) : (first, r1)
            // Proven only when both the count and the tie-breaker at that count are.
            return outcome(p, use.0, use.1, proven: r1.status == .optimal && r2.status == .optimal,
                           bound: r1.relaxationBound.map { $0.rounded(.down) }, started: started)
        }
    }

    struct Built {
        var model: MIPModel
        /// (area, hub) → variable.
        var x: [Int: [Int: Int]]
    }

    static func build(_ p: RegionProblem, count: RegionCount, goal: RegionObjective) -> Built {
        var m = MIPModel(sense: goal == .count ? .maximize : .minimize)
        let usable = usableHubs(p)
        var pieceOf = Array(repeating: 0, count: p.areaCount)
        for (k, piece) in p.pieces.enumerated() { for i in piece { pieceOf[i] = k } }
        var x: [Int: [Int: Int]] = [:]
        for i in 0..<p.areaCount {
            for h in usable where p.cost[i][h].isFinite && pieceOf[i] == pieceOf[p.hubs[h].area] {
                x[i, default: [:]][h] = m.add(.init(objective: goal == .travel ? p.cost[i][h] : 0, integer: true))
            }
        }
        // y_h: the hub's own area assigned to it.
        var y: [Int: Int] = [:]
        for h in usable { if let v = x[p.hubs[h].area]?[h] { y[h] = v } }
        if goal == .count { for (_, v) in y { m.variables[v].objective = 1 } }
        for i in 0..<p.areaCount { m.add(.init((x[i] ?? [:]).map { ($0.value, 1.0) }, lower: 1, upper: 1)) }
        let hubsByRoot = Dictionary(grouping: y.keys.sorted(), by: { p.hubs[$0].area })
        // Rows and columns in a fixed order: GLPK then picks the same optimum among equals on every run.
        let hubOrder = y.keys.sorted()
        for h in hubOrder {
            let yh = y[h]!
            for i in 0..<p.areaCount where i != p.hubs[h].area { if let v = x[i]?[h] { m.add(.init([(v, 1), (yh, -1)], upper: 0)) } }
            let members = (0..<p.areaCount).compactMap { i in x[i]?[h].map { ($0, p.population[i]) } }
            if let lo = p.minPopulation { m.add(.init(members + [(yh, -lo)], lower: 0)) }
            if let hi = p.maxPopulation { m.add(.init(members + [(yh, -hi)], upper: 0)) }
            for r in p.required.indices {
                let holders = (0..<p.areaCount).filter { p.areaHas[$0][r] }.compactMap { x[$0]?[h] }
                m.add(.init(holders.map { ($0, 1.0) } + [(yh, -1)], lower: 0))
            }
            if p.fixedHubs.contains(h) { m.variables[yh].lower = 1 }
        }
        for f in p.fixedHubs where y[f] == nil { m.add(.init([], lower: 1)) }  // a fixed hub that cannot be one: infeasible
        if case .exactly(let k) = count { m.add(.init(hubOrder.map { (y[$0]!, 1.0) }, lower: Double(k), upper: Double(k))) }
        if goal == .balance, case .exactly(let k) = count, k > 0 {
            let mean = p.population.reduce(0, +) / Double(k)
            for h in hubOrder {
                let yh = y[h]!
                let d = m.add(.init(lower: 0, upper: .infinity, objective: 1))
                let members = (0..<p.areaCount).compactMap { i in x[i]?[h].map { ($0, p.population[i]) } }
                m.add(.init([(d, 1)] + members.map { ($0.0, -$0.1) } + [(yh, mean)], lower: 0))
                m.add(.init([(d, 1)] + members + [(yh, -mean)], lower: 0))
            }
        }
        // Locks: areas of one label share every hub variable; different labels never share a hub.
        var byLabel: [String: [Int]] = [:]
        for (i, label) in p.locks { byLabel[label, default: []].append(i) }
        for label in byLabel.keys.sorted() {
            let areas = byLabel[label]!.sorted()
            for i in areas.dropFirst() {
                for h in usable {
                    let a = x[areas[0]]?[h], b = x[i]?[h]
                    switch (a, b) {
                    case let (a?, b?): m.add(.init([(a, 1), (b, -1)], lower: 0, upper: 0))
                    case let (a?, nil): m.variables[a].upper = 0
                    case let (nil, b?): m.variables[b].upper = 0
                    default: break
                    }
                }
            }
        }
        let representatives = byLabel.keys.sorted().map { byLabel[$0]!.min()! }
        if representatives.count > 1 {
            for h in usable {
                let terms = representatives.compactMap { x[$0]?[h] }.map { ($0, 1.0) }
                if terms.count > 1 { m.add(.init(terms, upper: 1)) }
            }
        }
        // Contiguity: one flow per root area; membership m_ia = Σ over a's hubs of x_ih.
        for root in hubsByRoot.keys.sorted() {
            let rootHubs = hubsByRoot[root]!
            func membership(_ i: Int) -> [(Int, Double)] { rootHubs.compactMap { x[i]?[$0] }.map { ($0, 1.0) } }
            let inReach = (0..<p.areaCount).filter { !membership($0).isEmpty }
            let reach = Set(inReach)
            let capacity = Double(max(1, inReach.count - 1))
            var inflow: [Int: [(Int, Double)]] = [:], outflow: [Int: [(Int, Double)]] = [:]
            for i in inReach {
                for j in p.neighbours[i] where reach.contains(j) && j != root && p.group[i] == p.group[j] {
                    let f = m.add(.init(lower: 0, upper: capacity))
                    outflow[i, default: []].append((f, 1))
                    inflow[j, default: []].append((f, 1))
                    // Flow only between members of the root's cluster.
                    m.add(.init([(f, 1)] + membership(j).map { ($0.0, -capacity) }, upper: 0))
                    m.add(.init([(f, 1)] + membership(i).map { ($0.0, -capacity) }, upper: 0))
                }
            }
            for i in inReach where i != root {
                let terms = (inflow[i] ?? []) + (outflow[i] ?? []).map { ($0.0, -1.0) } + membership(i).map { ($0.0, -1.0) }
                m.add(.init(terms, lower: 0, upper: 0))
            }
        }
        return Built(model: m, x: x)
    }

    static func outcome(_ p: RegionProblem, _ built: Built, _ r: MIPResult, proven: Bool, bound: Double?, started: Date) -> Outcome {
        switch r.status {
        case .infeasible: return .infeasible
        case .noSolution: return .noAnswer
        case .optimal, .feasible: break
        }
        var hubOf = Array(repeating: -1, count: p.areaCount)
        for (i, byHub) in built.x { for (h, v) in byHub where r.values[v] > 0.5 { hubOf[i] = h } }
        guard !hubOf.contains(-1),
              let s = RegionSolution(problem: p, assignment: hubOf, method: .exact, proven: proven,
                                     bound: bound, seconds: Date().timeIntervalSince(started),
                                     stoppedEarly: proven ? nil : "the time limit came before the optimum was proven")
        else { return .noAnswer }
        return .solved(s)
    }
}

/// The one entry point: obstacles first, then the chosen solver.
public enum Regionalisation {
    public enum Outcome: Sendable {
        case solved(RegionSolution)
        /// No partition: the reasons known (obstacles), and whether it is proven that none exists.
        case unsolved(reasons: [RegionObstacle], proven: Bool)
    }

    /// Above this many programme variables `auto` uses the heuristic (GLPK proves optima below it in
    /// seconds on kommune-sized inputs).
    public static let exactVariableLimit = 40_000

    public static func solve(_ p: RegionProblem, solver: RegionSolverChoice, options: RegionSearchOptions,
                             timeLimitSeconds: Double) throws -> Outcome {
        let obstacles = p.obstacles()
        guard obstacles.isEmpty else { return .unsolved(reasons: obstacles, proven: true) }
        let exact = solver == .exact || (solver == .auto && RegionExact.variableCount(p) <= exactVariableLimit)
        if exact {
            switch try RegionExact.solve(p, timeLimitSeconds: timeLimitSeconds, control: options.control) {
            case .solved(let s):
                // An unproven exact answer may be beaten by the heuristic; keep the better.
                if !s.proven, solver == .auto, let h = RegionHeuristic.solve(p, options: options), h.isBetter(than: s) {
                    return .solved(h)
                }
                return .solved(s)
            case .infeasible: return .unsolved(reasons: [], proven: true)
            case .noAnswer: if solver == .exact { return .unsolved(reasons: [], proven: false) }
            }
        }
        if let h = RegionHeuristic.solve(p, options: options) { return .solved(h) }
        return .unsolved(reasons: [], proven: false)
    }
}
