import Foundation
import KlyngeAnalysis
import KlyngeGEOS
import KlyngeGeo
import KlyngeIO
import KlyngeNetwork
import KlyngeProj
import KlyngeStudy
import Yams

/// Where candidate sites come from.
public enum CandidateSource: Sendable, Equatable {
    /// The study's facilities of the category.
    case existing
    /// Those, plus every village (demand point) as a possible new site.
    case places
    /// Those, plus the points of a file (any GDAL source).
    case file(String, idField: String?, nameField: String?)
}

/// A location-allocation question on the study, answered on road-network costs.
public struct OptimizeQuery: Sendable {
    public var category: String
    public var request: LocationRequest
    public var keep: [String]
    public var exclude: [String]
    public var candidates: CandidateSource

    public init(category: String, request: LocationRequest, keep: [String] = [], exclude: [String] = [], candidates: CandidateSource = .existing) {
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
}

/// The candidate sites and the cost matrix for one category, ready for any objective.
public struct OptimizeSetup: Sendable {
    public let study: Study
    public let category: String
    public let rule: CoverageRule
    public let sites: [CandidateSite]
    public let problem: LocationProblem

    public init(study: Study, network: StudyNetwork, query: OptimizeQuery) throws {
        self.study = study
        category = query.category
        guard study.categories.contains(where: { $0.key == query.category }) else {
            throw LocationError("unknown category `\(query.category)` (the study has: \(study.categories.map(\.key).joined(separator: ", ")))")
        }
        rule = try StudyAnalysis.rules(study)[query.category] ?? .standard
        var sites = study.facilities.filter { $0.categories.contains(query.category) }
            .map { CandidateSite(id: $0.id, name: $0.name, existing: true, location: $0.location) }
        switch query.candidates {
        case .existing: break
        case .places:
            sites += study.demand.map { CandidateSite(id: "place:\($0.id)", name: $0.name, existing: false, location: $0.location) }
        case .file(let path, let idField, let nameField):
            sites += try Self.readSites(path, idField: idField, nameField: nameField, crs: study.crs)
        }
        let ids = sites.map(\.id)
        for id in query.keep + query.exclude where !ids.contains(id) {
            throw LocationError("no candidate site has the id `\(id)` (candidates: existing facilities of `\(query.category)`\(query.candidates == .existing ? "" : " and the added sites"))")
        }
        self.sites = sites
        let snapper = network.snapper(rule.mode)
        let origins = study.demand.map { try? snapper.snap($0.location).get() }
        let targets = sites.map { try? snapper.snap($0.location).get() }
        var cost = [Double](repeating: .infinity, count: study.demand.count * sites.count)
        let width = sites.count
        let metric = rule.metric
        _ = try MatrixEngine(graph: snapper.graph).compute(origins: origins, destinations: targets) { (block: MatrixBlock) in
            block.forEach { o, d, c in
                if let c { cost[o * width + d] = metric == .duration ? c.cost : c.meters }
            }
        }
        var problem = LocationProblem(weights: study.demand.map(\.weight), candidateCount: sites.count, cost: cost,
                                      required: Set(query.keep.compactMap { ids.firstIndex(of: $0) }),
                                      excluded: Set(query.exclude.compactMap { ids.firstIndex(of: $0) }))
        problem.demandNames = study.demand.map(\.name)
        problem.candidateNames = sites.map { $0.name.isEmpty ? $0.id : $0.name }
        self.problem = problem
    }

    static func readSites(_ path: String, idField: String?, nameField: String?, crs: CRS) throws -> [CandidateSite] {
        let layer = try VectorSource(path).layer(named: nil)
        guard let source = layer.crs else {
            throw LocationError("\(path): the candidate file has no CRS; write it with one (e.g. a GeoPackage) or use lon/lat with a .prj")
        }
        let t = try Transformer(from: source, to: crs)
        let geos = try GEOSContext()
        var out: [CandidateSite] = []
        for f in try layer.readFeatures() {
            guard let g = f.geometry, !g.isEmpty else { throw LocationError("\(path): feature \(f.fid ?? -1) has no geometry") }
            let p: Coordinate
            if let first = g.pointParts.first { p = first } else { p = try geos.pointOnSurface(g) }
            let id = idField.flatMap { f[$0].text } ?? "site:\(f.fid ?? Int64(out.count))"
            let name = nameField.flatMap { f[$0].text } ?? f["name"].text ?? f["navn"].text ?? id
            out.append(CandidateSite(id: id, name: name, existing: false, location: try t.transform(p)))
        }
        return out
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
