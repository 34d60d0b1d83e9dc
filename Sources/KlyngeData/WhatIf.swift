import Foundation
import KlyngeAnalysis
import KlyngeGeo
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

    /// The analysis and plan of the what-if. Closures alone change only the plan; new places need their own
    /// columns of the access tables, so the analysis is built again over the same network.
    public static func evaluate(base: StudyAnalysis, scenario: ResolvedScenario?, close: [String], open: [NewPlace], category: String,
                                control: WorkControl = .unlimited) throws -> (analysis: StudyAnalysis, plan: Plan) {
        let closedSites = try close.map { id in
            guard let s = base.sites.firstIndex(where: { $0.id == id && !$0.isCandidate }) else {
                throw ScenarioError(scenario: "what-if", message: "close: no facility has the id `\(id)`")
            }
            return s
        }
        guard !open.isEmpty else {
            var plan = scenario?.plan ?? base.engine.baselinePlan
            for s in closedSites { plan.open[s] = false }
            return (base, plan)
        }
        var spec = StudyFile.ScenarioSpec(name: "what-if", close: nil, open: nil)
        if let scenario, let own = base.study.scenarios.first(where: { $0.name == scenario.name }) {
            spec = own
            spec.name = "what-if"
        }
        // A facility the named scenario closes already stays closed once.
        let closed = (spec.close ?? []) + close.filter { !(spec.close ?? []).contains($0) }
        spec.close = closed.isEmpty ? nil : closed
        var taken = Set((spec.open ?? []).map(\.name))
        spec.open = (spec.open ?? []) + open.enumerated().map { k, p in
            var name = p.name
            // Two places with one name would be refused; the page numbers them instead.
            while taken.contains(name) { name += " (\(k + 1))" }
            taken.insert(name)
            return StudyFile.NewFacility(name: name, categories: [category], xy: [p.location.x, p.location.y])
        }
        var study = base.study
        study.scenarios = [spec]
        let analysis = try StudyAnalysis(study: study, network: base.network, control: control)
        return (analysis, analysis.scenarios[0].plan)
    }
}

extension CoverageReport {
    /// Only the villages whose figures differ from `baseline` (same categories), so a what-if answer does not
    /// resend what the client has.
    public func keepingChangedPoints(against baseline: CoverageReport) -> CoverageReport {
        func differs(_ p: PointRow, _ b: PointRow) -> Bool {
            p.categories.count != b.categories.count || zip(p.categories, b.categories).contains { x, y in
                x.facilityId != y.facilityId || x.covered != y.covered || x.durationSeconds != y.durationSeconds
                    || x.distanceMeters != y.distanceMeters
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
