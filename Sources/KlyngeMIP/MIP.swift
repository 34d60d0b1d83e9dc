import CGLPK
import Foundation

/// A mixed-integer linear programme as values: the model is built in Swift and only handed to GLPK here.
public struct MIPModel: Sendable {
    public enum Sense: Sendable { case minimize, maximize }
    public struct Variable: Sendable {
        public var lower: Double
        public var upper: Double
        public var objective: Double
        public var integer: Bool
        public init(lower: Double = 0, upper: Double = 1, objective: Double = 0, integer: Bool = false) {
            self.lower = lower
            self.upper = upper
            self.objective = objective
            self.integer = integer
        }
    }
    public struct Constraint: Sendable {
        public var terms: [(Int, Double)]
        public var lower: Double
        public var upper: Double
        public init(_ terms: [(Int, Double)], lower: Double = -.infinity, upper: Double = .infinity) {
            self.terms = terms
            self.lower = lower
            self.upper = upper
        }
    }

    public var sense: Sense
    public var variables: [Variable] = []
    public var constraints: [Constraint] = []

    public init(sense: Sense) { self.sense = sense }

    @discardableResult
    public mutating func add(_ v: Variable) -> Int {
        variables.append(v)
        return variables.count - 1
    }

    public mutating func add(_ c: Constraint) { constraints.append(c) }
}

public struct MIPResult: Sendable {
    public enum Status: String, Sendable { case optimal, feasible, infeasible, noSolution }
    public var status: MIPResult.Status
    public var objective: Double
    public var values: [Double]
    /// The LP relaxation's objective: a bound on the optimum (below it when minimising, above when maximising).
    public var relaxationBound: Double?
    public var seconds: Double
}

public struct MIPError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { "MIP solver: \(message)" }
}

/// GLPK's branch-and-cut. One problem object per solve, owned and freed here.
public enum GLPKSolver {
    private static let quiet: Void = { glp_term_out(GLP_OFF) }()

    /// How the branch-and-cut picks the variable to branch on.
    public enum Branching: Sendable {
        /// GLPK's default (Driebeck–Tomlin).
        case standard
        /// Pseudocosts: learns which variables move the bound; several times faster on capacitated assignment.
        case pseudocost
    }

    /// `shouldStop` is asked at every branch-and-cut callback; true ends the search early (an abandoned request).
    public static func solve(_ m: MIPModel, timeLimitSeconds: Double = 60, branching: Branching = .standard,
                             shouldStop: (@Sendable () -> Bool)? = nil) throws -> MIPResult {
        _ = quiet
        let start = Date()
        guard let lp = glp_create_prob() else { throw MIPError(message: "cannot create a GLPK problem") }
        defer { glp_delete_prob(lp) }
        glp_set_obj_dir(lp, m.sense == .minimize ? GLP_MIN : GLP_MAX)
        if !m.variables.isEmpty { glp_add_cols(lp, Int32(m.variables.count)) }
        for (k, v) in m.variables.enumerated() {
            let j = Int32(k + 1)
            let type: Int32 = v.lower == v.upper ? GLP_FX : (v.upper.isInfinite ? (v.lower.isInfinite ? GLP_FR : GLP_LO) : GLP_DB)
            glp_set_col_bnds(lp, j, type, v.lower.isFinite ? v.lower : 0, v.upper.isFinite ? v.upper : 0)
            glp_set_obj_coef(lp, j, v.objective)
            if v.integer { glp_set_col_kind(lp, j, v.lower == 0 && v.upper == 1 ? GLP_BV : GLP_IV) }
        }
        if !m.constraints.isEmpty { glp_add_rows(lp, Int32(m.constraints.count)) }
        var ia: [Int32] = [0], ja: [Int32] = [0], ar: [Double] = [0]
        for (k, c) in m.constraints.enumerated() {
            let i = Int32(k + 1)
            let type: Int32
            switch (c.lower.isFinite, c.upper.isFinite) {
            case (true, true): type = c.lower == c.upper ? GLP_FX : GLP_DB
            case (true, false): type = GLP_LO
            case (false, true): type = GLP_UP
            default: type = GLP_FR
            }
            glp_set_row_bnds(lp, i, type, c.lower.isFinite ? c.lower : 0, c.upper.isFinite ? c.upper : 0)
            // GLPK aborts the process on a repeated column in a row: terms of one variable are summed first.
            var merged: [Int: Double] = [:]
            for (v, a) in c.terms { merged[v, default: 0] += a }
            for (v, a) in merged.sorted(by: { $0.key < $1.key }) where a != 0 {
                ia.append(i)
                ja.append(Int32(v + 1))
                ar.append(a)
            }
        }
        glp_load_matrix(lp, Int32(ar.count - 1), &ia, &ja, &ar)
        // The LP relaxation first: its optimum bounds the integer optimum.
        var smcp = glp_smcp()
        glp_init_smcp(&smcp)
        smcp.msg_lev = GLP_MSG_OFF
        smcp.presolve = GLP_ON
        smcp.tm_lim = Int32(min(timeLimitSeconds * 1000, Double(Int32.max)))
        let lpStatus = glp_simplex(lp, &smcp)
        var bound: Double?
        if lpStatus == 0 {
            let s = glp_get_status(lp)
            if s == GLP_NOFEAS || s == GLP_INFEAS {
                return MIPResult(status: .infeasible, objective: .nan, values: [], relaxationBound: nil, seconds: Date().timeIntervalSince(start))
            }
            if s == GLP_OPT { bound = glp_get_obj_val(lp) }
        } else if lpStatus == GLP_ENOPFS {
            return MIPResult(status: .infeasible, objective: .nan, values: [], relaxationBound: nil, seconds: Date().timeIntervalSince(start))
        }
        var iocp = glp_iocp()
        glp_init_iocp(&iocp)
        iocp.msg_lev = GLP_MSG_OFF
        iocp.presolve = GLP_ON
        if branching == .pseudocost { iocp.br_tech = GLP_BR_PCH }
        let left = max(timeLimitSeconds - Date().timeIntervalSince(start), 0.1)
        iocp.tm_lim = Int32(min(left * 1000, Double(Int32.max)))
        let stopBox = StopBox(shouldStop)
        if shouldStop != nil {
            iocp.cb_info = Unmanaged.passUnretained(stopBox).toOpaque()
            iocp.cb_func = { tree, info in
                guard let tree, let info else { return }
                if Unmanaged<StopBox>.fromOpaque(info).takeUnretainedValue().shouldStop?() == true { glp_ios_terminate(tree) }
            }
        }
        let rc = withExtendedLifetime(stopBox) { glp_intopt(lp, &iocp) }
        let status = glp_mip_status(lp)
        let seconds = Date().timeIntervalSince(start)
        if rc == GLP_ENOPFS || rc == GLP_ENODFS || status == GLP_NOFEAS {
            return MIPResult(status: .infeasible, objective: .nan, values: [], relaxationBound: bound, seconds: seconds)
        }
        guard status == GLP_OPT || status == GLP_FEAS else {
            return MIPResult(status: .noSolution, objective: .nan, values: [], relaxationBound: bound, seconds: seconds)
        }
        let values = (0..<m.variables.count).map { glp_mip_col_val(lp, Int32($0 + 1)) }
        return MIPResult(status: rc == 0 && status == GLP_OPT ? .optimal : .feasible, objective: glp_mip_obj_val(lp),
                         values: values, relaxationBound: bound, seconds: seconds)
    }
}

/// Carries the stop question through GLPK's callback pointer.
private final class StopBox {
    let shouldStop: (@Sendable () -> Bool)?
    init(_ shouldStop: (@Sendable () -> Bool)?) { self.shouldStop = shouldStop }
}
