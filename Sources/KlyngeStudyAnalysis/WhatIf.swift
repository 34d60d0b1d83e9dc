import Foundation
import KlyngeAnalysis
import KlyngeGeo
import KlyngeIngest
import KlyngeStudy
import KlyngeWork

/// An unsaved scenario tried on the spot (the web page's switches and clicks): facilities closed and new
/// places opened on top of a named scenario or today. Nothing is stored.
public enum WhatIf {
    public struct NewPlace: Sendable {
        public var name: String
        /// In the study's working CRS.
        public var location: Coordinate
        public init(name: String, location: Coordinate) {
            self.name = name
            self.location = location
        }
    }

    /// The analysis and plan of the what-if. Closures change only the plan; new places gain columns in the cost
    /// tables (one search per place and mode), and nothing else is built again.
    public static func evaluate(base: StudyAnalysis, scenario: ResolvedScenario?, close: [String], open: [NewPlace], category: String,
                                control: WorkControl = .unlimited) throws -> (analysis: StudyAnalysis, plan: Plan) {
        let closedSites = try close.map { id in
            guard let s = base.sites.firstIndex(where: { $0.id == id && !$0.isCandidate }) else {
                throw ScenarioError(scenario: "what-if", message: "close: no facility has the id `\(id)`")
            }
            return s
        }
        // Two places with one name would be refused; the page numbers them instead.
        var taken = Set(scenario.map { s in s.plan.open.indices.filter { s.plan.open[$0] && base.sites[$0].isCandidate }.map { base.sites[$0].name } } ?? [])
        var newSites: [Site] = []
        for (k, p) in open.enumerated() {
            var name = p.name
            while taken.contains(name) { name += " (\(k + 1))" }
            taken.insert(name)
            newSites.append(try StudyAnalysis.newSite(StudyFile.NewFacility(name: name, categories: [category], xy: [p.location.x, p.location.y]),
                                                      index: k, scenario: "what-if", study: base.study, takenNames: []))
        }
        let analysis = try base.adding(candidates: newSites, control: control)
        let first = base.sites.count
        if let mode = analysis.engine.rules[category]?.mode, let records = analysis.tables.modes[mode]?.sites {
            for k in newSites.indices {
                if let f = records[first + k].failure {
                    throw ScenarioError(scenario: "what-if", message: "the new facility `\(newSites[k].name)` cannot be reached by \(mode.rawValue): "
                                        + SnapReport.message(f, limit: analysis.network.snapOptions.maxSnapMeters))
                }
            }
        }
        var plan = scenario.map { s in analysis.scenarios.first { $0.name == s.name }?.plan ?? s.plan.appending(newSites) }
            ?? analysis.engine.baselinePlan
        for s in closedSites { plan.open[s] = false }
        for k in newSites.indices { plan.open[first + k] = true }
        return (analysis, plan)
    }
}

extension CoverageReport {
    /// Only the villages whose figures differ from `baseline` (same categories), so a what-if answer does not
    /// resend what the client has.
    public func keepingChangedPoints(against baseline: CoverageReport) -> CoverageReport {
        func differs(_ p: PointRow, _ b: PointRow) -> Bool {
            p.categories.count != b.categories.count || zip(p.categories, b.categories).contains { x, y in
                x.facilityId != y.facilityId || x.covered != y.covered || x.durationSeconds != y.durationSeconds
                    || x.distanceMeters != y.distanceMeters || x.opportunities != y.opportunities || x.accessPer1000 != y.accessPer1000
            }
        }
        var out = self
        // Both reports list the study's villages in its order; matched by id only if that ever differs.
        if points.count == baseline.points.count, zip(points, baseline.points).allSatisfy({ $0.demandId == $1.demandId }) {
            out.points = zip(points, baseline.points).filter { differs($0, $1) }.map(\.0)
        } else {
            let before = Dictionary(baseline.points.map { ($0.demandId, $0) }, uniquingKeysWith: { a, _ in a })
            out.points = points.filter { p in before[p.demandId].map { differs(p, $0) } ?? true }
        }
        return out
    }
}
