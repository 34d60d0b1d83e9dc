import Foundation
import KlyngeMIP

// MARK: the exact p-median at kommune scale

extension LocationAllocation {
    /// The p-median solved to proven optimality in three steps, each cheaper than the classical model:
    /// 1. the interchange heuristic, from the greedy set and from the sets the relaxation opens, gives a set and
    ///    its value U;
    /// 2. the Lagrangian relaxation gives a bound L and, per site, what forcing it open or closed would add to
    ///    L; a site whose forcing lifts L above U cannot be in (or out of) any better set and is fixed so (Beasley
    ///    1993). L = U proves the heuristic's set at once;
    /// 3. what is left is solved by GLPK in the radius formulation (Elloumi 2010; García, Labbé & Marín 2011): a
    ///    village's travel is its nearest cost plus the steps between its sorted distinct costs it cannot take, a
    ///    chain of one variable per step instead of one per site, cut off at its nearest site fixed open.
    /// `solver: .auto` gives the heuristic's answer with its bound when the model would still be too large.
    static func exactMedian(_ problem: LocationProblem, p: Int, _ request: LocationRequest) throws -> LocationSolution {
        let start = Date()
        // Sets that leave a village unreached have no finite value to improve on: the classical model decides.
        let first: (chosen: [Int], value: Double, lagrangian: Lagrangian)
        do { first = try lagrangianHeuristic(problem, p: p, request, iterations: 1000) } catch is LocationError {
            guard request.solver == .exact || problem.weights.count * problem.candidateCount <= 40_000 else {
                throw LocationError("no set of \(p) facilities reaching every demand point was found")
            }
            return try classicalMedian(problem, p: p, request)
        }
        let (incumbent, upper, lag) = first
        try request.control.check()
        let tolerance = 1e-9 * max(1, abs(upper))
        func answer(_ chosen: [Int], _ value: Double, proven: Bool, bound: Double, method: String) -> LocationSolution {
            LocationSolution(objective: .median, chosen: chosen, value: value, proven: proven, bound: proven ? value : min(bound, value), gap: nil,
                             method: method, seconds: 0)
        }
        if lag.bound >= upper - max(tolerance, 1e-6 * max(1, abs(upper))) {
            return answer(incumbent, upper, proven: true, bound: lag.bound, method: "exact (interchange, proved by the Lagrangian bound)")
        }
        // Reduced-cost fixing: forcing j open replaces the dearest open site of the relaxation's set; forcing it
        // closed lets in the cheapest one left out.
        var reduced = problem
        let free = problem.allowed.filter { !problem.required.contains($0) }.sorted { lag.rho[$0] < lag.rho[$1] }
        let q = p - problem.required.count
        if q > 0 && q < free.count {
            let lastIn = lag.rho[free[q - 1]], firstOut = lag.rho[free[q]]
            for j in free[q...] where lag.bound + lag.rho[j] - lastIn > upper + tolerance { reduced.excluded.insert(j) }
            for j in free[..<q] where lag.bound - lag.rho[j] + firstOut > upper + tolerance { reduced.required.insert(j) }
        }
        try request.control.check()
        let (model, xs, constant, nonzeros) = radiusModel(reduced, p: p)
        let fixedNote = "\(reduced.excluded.count - problem.excluded.count) sites fixed closed, \(reduced.required.count - problem.required.count) open"
        if request.solver == .auto && nonzeros > 6_000_000 {
            return answer(incumbent, upper, proven: false, bound: lag.bound,
                          method: "heuristic (greedy + vertex substitution), Lagrangian bound; the exact model was too large (\(fixedNote))")
        }
        let left = max(0.5, request.timeLimitSeconds - Date().timeIntervalSince(start))
        let r = try GLPKSolver.solve(model, timeLimitSeconds: left, shouldStop: { request.control.isStopped })
        let method = "exact (Lagrangian fixing, \(fixedNote); radius formulation, GLPK branch-and-cut)"
        switch r.status {
        case .optimal:
            let value = r.objective + constant
            // The model's optimum is at least U when no better set exists (the fixing removed only worse ones).
            if value < upper - tolerance { return answer(chosen(r, xs), evaluate(problem, chosen: chosen(r, xs), threshold: nil).total, proven: true, bound: value, method: method) }
            return answer(incumbent, upper, proven: true, bound: upper, method: method)
        case .feasible:
            let found = chosen(r, xs)
            let value = evaluate(problem, chosen: found, threshold: nil).total
            let bound = max(lag.bound, (r.relaxationBound ?? -.infinity) + constant)
            return value < upper ? answer(found, value, proven: false, bound: bound, method: method + ", stopped at the time limit")
                : answer(incumbent, upper, proven: false, bound: bound, method: method + ", stopped at the time limit")
        case .infeasible, .noSolution:
            // Nothing better than the heuristic's set within the time (infeasible: none better exists at all).
            return answer(incumbent, upper, proven: r.status == .infeasible, bound: r.status == .infeasible ? upper : lag.bound,
                          method: method + (r.status == .infeasible ? "" : ", stopped at the time limit"))
        }
    }

    /// The radius formulation of the p-median on the problem's open (required) and closed (excluded) sites.
    /// For village i with sorted distinct costs D1 < … < DK (up to its nearest required site), y_k = 1 when no
    /// chosen site is within D_k: travel = D1 + Σ (D_{k+1} − D_k) y_k, with y_k ≥ y_{k−1} − Σ_{c_ij = D_k} x_j
    /// (y_0 = 1). That chain is as tight as the classical model's relaxation and has a few terms per step.
    /// Returns the model, the site variables, the constant travel (Σ w D1) and the number of non-zeros.
    static func radiusModel(_ problem: LocationProblem, p: Int) -> (MIPModel, [Int], Double, Int) {
        var m = MIPModel(sense: .minimize)
        let xs = facilityVariables(&m, problem)
        let open = problem.required.sorted()
        var constant = 0.0, nonzeros = 0
        for i in problem.weights.indices where problem.weights[i] > 0 {
            let w = problem.weights[i]
            let cap = open.map { problem.c(i, $0) }.min() ?? .infinity
            let reach = problem.allowed.filter { problem.c(i, $0).isFinite && problem.c(i, $0) <= cap }.sorted { problem.c(i, $0) < problem.c(i, $1) }
            // Sites grouped by equal cost: the steps of the chain.
            var levels: [(cost: Double, sites: [Int])] = []
            for j in reach {
                if let last = levels.last, last.cost == problem.c(i, j) { levels[levels.count - 1].sites.append(j) } else { levels.append((problem.c(i, j), [j])) }
            }
            guard let first = levels.first else { continue }
            constant += w * first.cost
            var previous: Int?
            for k in 0..<(levels.count - 1) {
                let y = m.add(.init(lower: 0, upper: 1, objective: w * (levels[k + 1].cost - levels[k].cost)))
                let sites = levels[k].sites.map { (xs[$0], 1.0) }
                if let previous { m.add(.init([(y, 1), (previous, -1)] + sites, lower: 0)) } else { m.add(.init([(y, 1)] + sites, lower: 1)) }
                nonzeros += sites.count + 2
                previous = y
            }
            // Without a required site at the end, the village must reach one of its sites at all.
            if !cap.isFinite {
                let sites = levels[levels.count - 1].sites.map { (xs[$0], 1.0) }
                if let previous { m.add(.init(sites + [(previous, -1)], lower: 0)) } else { m.add(.init(sites, lower: 1)) }
                nonzeros += sites.count + 1
            }
        }
        m.add(.init(xs.map { ($0, 1) }, lower: Double(p), upper: Double(p)))
        return (m, xs, constant, nonzeros + xs.count)
    }
}
