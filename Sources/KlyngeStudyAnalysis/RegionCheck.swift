import Foundation
import KlyngeAnalysis
import KlyngeStudy

/// A clustering drawn or edited by hand, checked against the constraints of a `RegionSetup`: each cluster's
/// best hub and figures, and everything wrong with it. The web page's cluster editor asks for this after
/// every move, and a clustering is saved only when nothing is wrong.
public struct RegionCheck: Sendable, Codable {
    public struct Problem: Sendable, Codable {
        public var kind: RegionViolation.Kind
        /// In English; the page words it itself from the other fields.
        public var text: String
        public var cluster: String?
        public var area: String?
        public var areaName: String?
        public var category: String?
        public var population: Double?
        public var limit: Double?
        public var hub: String?
    }
    public var clusters: [RegionProposal.Cluster]
    public var problems: [Problem]
    public var valid: Bool { problems.isEmpty }
    public var constraints: [String]
    /// Area id → the ids of its neighbours: where it may move and stay contiguous.
    public var neighbours: [String: [String]]

    enum CodingKeys: String, CodingKey { case clusters, problems, valid, constraints, neighbours }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(clusters, forKey: .clusters)
        try c.encode(problems, forKey: .problems)
        try c.encode(valid, forKey: .valid)
        try c.encode(constraints, forKey: .constraints)
        try c.encode(neighbours, forKey: .neighbours)
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        clusters = try c.decode([RegionProposal.Cluster].self, forKey: .clusters)
        problems = try c.decode([Problem].self, forKey: .problems)
        constraints = try c.decode([String].self, forKey: .constraints)
        neighbours = try c.decode([String: [String]].self, forKey: .neighbours)
    }
    init(clusters: [RegionProposal.Cluster], problems: [Problem], constraints: [String], neighbours: [String: [String]]) {
        self.clusters = clusters
        self.problems = problems
        self.constraints = constraints
        self.neighbours = neighbours
    }
}

extension RegionSetup {
    /// What a set-up is made from (contiguity, possible hubs, travel to them, categories, groups, locks and the
    /// start): requests with the same key share one set-up, and differ only in what `retargeted` changes.
    public static func key(_ r: RegionRequest) -> String {
        var parts = [r.mode.rawValue, r.maxMinutes.map { "\($0)" } ?? "", r.require.joined(separator: ","), r.scenario ?? "", r.within ?? "",
                     "\(r.minSharedMeters)", r.hubs.joined(separator: ","), r.keep.joined(separator: ",")]
        parts += r.locks.map { "\($0.area)=\($0.cluster)" }
        if let start = r.start { parts += start.assignments.sorted { $0.key < $1.key }.map { "\($0.key)>\($0.value)" } }
        return parts.map { $0.replacingOccurrences(of: "|", with: "||") }.joined(separator: "|")
    }

    /// The same set-up under another count, objective, population limits and search settings: the parts
    /// that cost a search per hub are kept.
    public func retargeted(_ r: RegionRequest) -> RegionSetup {
        var s = self
        s.request.count = r.count
        s.request.objective = r.objective
        s.request.minPopulation = r.minPopulation
        s.request.maxPopulation = r.maxPopulation
        s.request.solver = r.solver
        s.request.seed = r.seed
        s.request.timeLimitSeconds = r.timeLimitSeconds
        s.problem.count = r.count
        s.problem.objective = r.objective
        s.problem.minPopulation = r.minPopulation
        s.problem.maxPopulation = r.maxPopulation
        return s
    }

    /// `assignments`: area id → cluster name. Areas it leaves out are reported as in no cluster; ids the
    /// study does not have are refused.
    public func check(_ assignments: [String: String]) throws -> RegionCheck {
        let p = problem
        let ids = Set(p.areaIds)
        if let unknown = assignments.keys.sorted().first(where: { !ids.contains($0) }) {
            throw AnalysisSetupError("assignments: the study has no area `\(unknown)`")
        }
        let (given, names) = p.indexed(assignments)
        let (assignment, fits, violations) = p.evaluate(assignment: given)
        var members = Array(repeating: [Int](), count: fits.count)
        for (i, c) in assignment.enumerated() where c >= 0 { members[c].append(i) }
        let clusters = members.indices.map { figures(name: names[$0], members: members[$0], hub: fits[$0].hub) }
        let problems = violations.map { v -> RegionCheck.Problem in
            var out = RegionCheck.Problem(kind: v.kind, text: p.describe(v) { names[$0] }, cluster: v.cluster.map { names[$0] })
            switch v {
            case .unassigned(let a), .unreachable(let a, _, _):
                out.area = p.areaIds[a]
                out.areaName = p.areaNames[a]
                if case .unreachable(_, _, let h) = v { out.hub = p.hubs[h].name }
            case .tooFewPeople(_, let pop, let lo): out.population = pop; out.limit = lo
            case .tooManyPeople(_, let pop, let hi): out.population = pop; out.limit = hi
            case .missing(_, let category): out.category = category
            case .clusterCount(let got, let want): out.population = Double(got); out.limit = Double(want)
            case .fixedHubUnused(let h): out.hub = p.hubs[h].name
            case .splitLock(let label): out.cluster = label
            default: break
            }
            return out
        }
        let neighbours = Dictionary(uniqueKeysWithValues: p.areaIds.indices.map { (p.areaIds[$0], p.neighbours[$0].map { p.areaIds[$0] }) })
        return RegionCheck(clusters: clusters, problems: problems, constraints: constraintTexts, neighbours: neighbours)
    }

    /// A hand-made clustering to keep in the store: refused, with every reason, unless the check finds
    /// nothing wrong. Hubs are the best of each cluster.
    public func saving(_ assignments: [String: String], name: String, note: String? = nil) throws -> SavedClustering {
        let report = try check(assignments)
        guard report.valid else {
            throw AnalysisSetupError("the clustering `\(name)` is not saved:\n" + report.problems.map { "  - " + $0.text }.joined(separator: "\n"))
        }
        var hubs: [String: String] = [:]
        for c in report.clusters { if let h = c.hub { hubs[c.name] = h.id } }
        let description = ([note ?? "edited by hand"] + constraintTexts).joined(separator: "; ")
        return SavedClustering(name: name, description: description, assignments: assignments, hubs: hubs)
    }
}

extension SavedClustering {
    /// The study's own clusters (its areas' `cluster` field or `clusters.assignments`), as a clustering.
    public static func own(_ study: Study, name: String) throws -> SavedClustering {
        let geography = ClusterGeography(study: study)
        guard !geography.members.isEmpty else {
            throw AnalysisSetupError("the study has no clusters of its own: map the areas' `cluster` field, or list `clusters.assignments`")
        }
        if let problem = geography.problems.first { throw AnalysisSetupError("\(problem.key): \(problem.message)") }
        var assignments: [String: String] = [:]
        for (cluster, areas) in geography.members { for a in areas { assignments[a.id] = cluster } }
        return SavedClustering(name: name, description: nil, assignments: assignments,
                               hubs: geography.hubs.mapValues { study.demand[$0].id })
    }
}
