import Foundation
import KlyngeAnalysis
import KlyngeGeo
import KlyngeIngest
import KlyngeNetwork
import KlyngeStudy
import KlyngeWork

/// Where candidate sites come from.
public enum CandidateSource: Sendable, Equatable {
    /// The study's facilities of the category.
    case existing
    /// Those, plus every village (demand point) as a possible new site.
    case places
    /// Those, plus points read from a file (`PointFile`); their ids must not be those of the category's facilities.
    case points([NamedPoint])
}

/// A location-allocation question on the study, answered on road-network costs.
public struct OptimizeQuery: Sendable {
    public var category: String
    public var request: LocationRequest
    public var keep: [String]
    public var exclude: [String]
    public var candidates: CandidateSource
    /// Market share: the category whose facilities (those that are not candidates) compete for the people; the
    /// question's own category makes its existing facilities the competitors of new sites.
    public var competitors: String?

    public init(category: String, request: LocationRequest, keep: [String] = [], exclude: [String] = [], candidates: CandidateSource = .existing,
                competitors: String? = nil) {
        self.competitors = competitors
        self.category = category
        self.request = request
        self.keep = keep
        self.exclude = exclude
        self.candidates = candidates
    }
}

public struct CandidateSite: Sendable, Codable {
    public var id: String
    public var name: String
    /// An existing facility of the category (else a new site).
    public var existing: Bool
    public var location: Coordinate
    /// The facility's mapped capacity (places), when the study maps one.
    public var capacity: Double?
    /// The facility's mapped attractiveness (market share), when the study maps one.
    public var attractiveness: Double?
}

/// The candidate sites and the cost matrix for one category, ready for any objective.
public struct OptimizeSetup: Sendable {
    public let study: Study
    public let category: String
    public let rule: CoverageRule
    public let sites: [CandidateSite]
    /// Market share: the competing facilities (`OptimizeQuery.competitors`), in the problem's competitor order.
    public let competitors: [CandidateSite]
    public let problem: LocationProblem

    /// The problem with an attractiveness for every candidate and competitor when the study maps any: its own,
    /// else `fallback`; one with neither is named. Mapped nowhere: all equally attractive (`fallback` or 1).
    public func attracting(fallback: Double?) throws -> LocationProblem {
        var p = problem
        let mapped = (sites + competitors).contains { $0.attractiveness != nil }
        func value(_ s: CandidateSite, _ role: String) throws -> Double {
            if let a = s.attractiveness ?? fallback ?? (mapped ? nil : 1) { return a }
            throw AnalysisSetupError("the \(role) `\(s.name.isEmpty ? s.id : s.name)` (\(s.id)) has no attractiveness: map the facilities' "
                                     + "`attractiveness` field for it, or give --attractiveness N for those without one")
        }
        p.attractiveness = try sites.map { try value($0, "candidate") }
        if var c = p.competitors {
            c.attractiveness = try competitors.map { try value($0, "competitor") }
            p.competitors = c
        }
        return p
    }

    /// The problem with a capacity for every candidate: its own mapped one, else `fallback`; a candidate with
    /// neither is named. `split`: a village may be shared between sites.
    public func capacitated(fallback: Double?, split: Bool) throws -> LocationProblem {
        var p = problem
        p.capacities = try sites.map { s in
            if let c = s.capacity ?? fallback { return c }
            throw AnalysisSetupError("the candidate `\(s.name.isEmpty ? s.id : s.name)` (\(s.id)) has no capacity: map the facilities' `capacity` field "
                                     + "in the study file, or give --capacity N for the sites without one")
        }
        p.splitDemand = split
        return p
    }

    /// With cost tables built for this question alone: the rule's mode, the study's facilities.
    public init(study: Study, network: StudyNetwork, query: OptimizeQuery, control: WorkControl = .unlimited) throws {
        let rule = try StudyAnalysis.rules(study)[query.category] ?? .standard
        let tables = try CostTables(network: network, demand: study.demand, sites: StudyAnalysis.sites(of: study), modes: [rule.mode],
                                    control: control)
        try self.init(study: study, tables: tables, query: query, control: control)
    }

    /// On the study's cost tables (whose sites begin with the study's facilities): the facilities' columns are
    /// read from them, and only the added candidates are searched, once each.
    public init(study: Study, tables: CostTables, query: OptimizeQuery, control: WorkControl = .unlimited) throws {
        self.study = study
        category = query.category
        guard study.categories.contains(where: { $0.key == query.category }) else {
            throw LocationError("unknown category `\(query.category)` (the study has: \(study.categories.map(\.key).joined(separator: ", ")))")
        }
        rule = try StudyAnalysis.rules(study)[query.category] ?? .standard
        // Competing with the category's own facilities (where to open one more shop): they compete, the added sites are the candidates.
        let againstOwn = query.competitors == query.category
        if againstOwn && query.candidates == .existing {
            throw LocationError("with the category's own facilities as competitors, the candidates are new sites: give --candidates places or a points file")
        }
        let existing = againstOwn ? [] : tables.sites.indices.filter { !tables.sites[$0].isCandidate && tables.sites[$0].categories.contains(query.category) }
        var sites = existing.map { CandidateSite(id: tables.sites[$0].id, name: tables.sites[$0].name, existing: true, location: tables.sites[$0].location,
                                                 capacity: tables.sites[$0].capacity, attractiveness: tables.sites[$0].attractiveness) }
        var added: [CandidateSite] = []
        switch query.candidates {
        case .existing: break
        case .places:
            added = study.demand.map { CandidateSite(id: "place:\($0.id)", name: $0.name, existing: false, location: $0.location) }
        case .points(let points):
            // A file's id that is also a facility's would make `--keep` and the answer ambiguous.
            let taken = Set(sites.map(\.id))
            if let clash = points.first(where: { taken.contains($0.id) }) {
                throw LocationError("the candidate `\(clash.name)` has the id `\(clash.id)`, which is an existing facility's; give the candidates ids of their own")
            }
            added = points.map { CandidateSite(id: $0.id, name: $0.name, existing: false, location: $0.location) }
        }
        sites += added
        let ids = sites.map(\.id)
        for id in query.keep + query.exclude where !ids.contains(id) {
            throw LocationError("no candidate site has the id `\(id)` (candidates: existing facilities of `\(query.category)`\(query.candidates == .existing ? "" : " and the added sites"))")
        }
        self.sites = sites
        try control.check()
        let table = try tables.table(rule.mode)
        let extra = try tables.columns(for: added.map { Site(id: $0.id, name: $0.name, categories: [query.category], location: $0.location, isCandidate: true) },
                                       mode: rule.mode).table
        let width = sites.count, metric = rule.metric
        var cost = [Double](repeating: .infinity, count: study.demand.count * width)
        for d in 0..<study.demand.count {
            for (j, s) in existing.enumerated() { cost[d * width + j] = table.value(d, s, metric) }
            for k in added.indices { cost[d * width + existing.count + k] = extra.value(d, k, metric) }
        }
        var problem = LocationProblem(weights: study.demand.map(\.weight), candidateCount: sites.count, cost: cost,
                                      required: Set(query.keep.compactMap { ids.firstIndex(of: $0) }),
                                      excluded: Set(query.exclude.compactMap { ids.firstIndex(of: $0) }))
        problem.demandNames = study.demand.map(\.name)
        problem.candidateNames = sites.map { $0.name.isEmpty ? $0.id : $0.name }
        // Competitors: the other category's facilities that are not candidates here, at the same rule's costs.
        var rivals: [CandidateSite] = []
        if let key = query.competitors {
            guard study.categories.contains(where: { $0.key == key }) else {
                throw LocationError("unknown competitor category `\(key)` (the study has: \(study.categories.map(\.key).joined(separator: ", ")))")
            }
            let candidateIds = Set(ids)
            let columns = tables.sites.indices.filter {
                !tables.sites[$0].isCandidate && tables.sites[$0].categories.contains(key) && !candidateIds.contains(tables.sites[$0].id)
            }
            guard !columns.isEmpty else {
                throw LocationError("no facility of `\(key)` competes: the study has none, or every one is a candidate site of this question")
            }
            rivals = columns.map { CandidateSite(id: tables.sites[$0].id, name: tables.sites[$0].name, existing: true, location: tables.sites[$0].location,
                                                 capacity: tables.sites[$0].capacity, attractiveness: tables.sites[$0].attractiveness) }
            var rivalCost = [Double](repeating: .infinity, count: study.demand.count * columns.count)
            for d in 0..<study.demand.count {
                for (k, s) in columns.enumerated() { rivalCost[d * columns.count + k] = table.value(d, s, metric) }
            }
            problem.competitors = .init(count: columns.count, cost: rivalCost, attractiveness: rivals.map { _ in 1 })
        }
        competitors = rivals
        self.problem = problem
    }

    /// The chosen set as a scenario: existing facilities of the category not chosen stop serving it
    /// (closed, or recategorised if they serve other categories too), chosen new sites open.
    public func scenario(named name: String, solution: LocationSolution) -> StudyFile.ScenarioSpec {
        let chosen = Set(solution.chosen)
        var close: [String] = [], recategorise: [StudyFile.Recategorise] = [], open: [StudyFile.NewFacility] = []
        for (j, s) in sites.enumerated() {
            if s.existing && !chosen.contains(j) {
                let f = study.facilities.first { $0.id == s.id }!
                let others = f.categories.filter { $0 != category }
                if others.isEmpty { close.append(s.id) } else { recategorise.append(.init(id: s.id, categories: others)) }
            } else if !s.existing && chosen.contains(j) {
                open.append(.init(id: s.id, name: s.name, categories: [category], xy: [s.location.x, s.location.y]))
            }
        }
        return StudyFile.ScenarioSpec(name: name, description: "\(solution.objective.rawValue) for \(category): \(solution.method)",
                                      close: close.isEmpty ? nil : close, open: open.isEmpty ? nil : open,
                                      recategorise: recategorise.isEmpty ? nil : recategorise)
    }
}
