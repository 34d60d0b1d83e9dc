import Foundation
import KlyngeAnalysis
import KlyngeGeo
import KlyngeIngest
import KlyngeStudy

/// The coverage of one plan, in the documented JSON shape of `klynge coverage --json`.
public struct CoverageReport: Sendable, Codable {
    public struct AreaCategory: Sendable, Codable {
        public var category: String
        public var coveredPopulation: Double
        public var coveredShare: Double
        public var mean: Double?
        public var median: Double?
        public var p90: Double?
        public var max: Double?
        public var mainFacilityId: String?
        public var mainFacilityName: String?
        /// The access figures of the area's villages, weighted by their people (0 where none is within reach).
        public var accessPer1000: Double?
        public var gravity: Double?
        public var enhancedAccessPer1000: Double?
    }
    public struct AreaRow: Sendable, Codable {
        public var areaId: String
        public var name: String
        /// The people the figures count: the weights of the area's villages (demand points).
        public var population: Double
        /// The area's own `population`, when the areas layer maps one (it may differ: see `notes`).
        public var populationInAreaLayer: Double?
        /// How many villages (demand points) lie in the area; 0 means no figures, but the area is listed.
        public var villages: Int
        public var categories: [AreaCategory]
    }
    public struct PointCategory: Sendable, Codable {
        public var category: String
        public var facilityId: String?
        public var facilityName: String?
        public var distanceMeters: Double?
        public var durationSeconds: Double?
        public var covered: Bool
        /// Open facilities within the threshold (two or more: backup coverage).
        public var opportunities: Int?
        /// The two-step floating catchment ratio per 1,000 people (the category's `accessUnit`); nil where no
        /// facility is within the threshold.
        public var accessPer1000: Double?
        /// With a decay: the gravity index and the enhanced (distance-weighted) ratio per 1,000.
        public var gravity: Double?
        public var enhancedAccessPer1000: Double?
    }
    public struct PointRow: Sendable, Codable {
        public var demandId: String
        public var name: String
        public var areaId: String?
        public var population: Double
        public var categories: [PointCategory]
    }

    public var study: String
    public var scenario: String?
    /// Units: `threshold`, `mean`, `median`, `p90`, `max` are seconds for the duration metric, metres for distance.
    public var categories: [CoverageSummary]
    public var areas: [AreaRow]
    public var points: [PointRow]
    /// What deserves a look before the figures are trusted (areas whose two populations disagree).
    public var notes: [String] = []

    /// Two populations of an area that differ by more than this share are named in `notes`.
    public static let populationMismatchShare = 0.10

    /// `access`: with the access figures beyond the nearest facility (backup coverage, 2SFCA); `decay` adds the
    /// gravity index and the E2SFCA ratio.
    public init(analysis: StudyAnalysis, plan: Plan, scenario: String?, categories only: [String]? = nil, access withAccess: Bool = true,
                decay: DistanceDecay? = nil) {
        let engine = analysis.engine
        let cats = only ?? engine.categories
        let coverage = engine.evaluate(plan, categories: cats)
        study = analysis.study.name
        self.scenario = scenario
        let access = withAccess ? Dictionary(uniqueKeysWithValues: cats.compactMap { c in engine.access(plan, category: c, decay: decay).map { (c, $0) } }) : [:]
        categories = cats.compactMap { c in
            coverage[c].map { cov in
                let summary = engine.summary(cov, plan: plan)
                return access[c].map(summary.with) ?? summary
            }
        }
        let areaNames = Dictionary(analysis.study.areas.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        var rows: [String: AreaRow] = [:]
        // An area's access: its villages' figures weighted by their people (the villages grouped once).
        var villagesOf: [String: [Int]] = [:]
        if !access.isEmpty { for d in engine.demand.indices { if let a = engine.demand[d].areaId { villagesOf[a, default: []].append(d) } } }
        func areaMean(_ values: [Double?]?, _ areaId: String) -> Double? {
            guard let values else { return nil }
            var sum = 0.0, people = 0.0
            for d in villagesOf[areaId] ?? [] {
                sum += engine.demand[d].weight * (values[d] ?? 0)
                people += engine.demand[d].weight
            }
            return people > 0 ? (sum / people * 1e6).rounded() / 1e6 : nil
        }
        for c in cats {
            guard let cov = coverage[c] else { continue }
            for (areaId, s, main) in engine.areaSummaries(cov, plan: plan) {
                var row = rows[areaId] ?? AreaRow(areaId: areaId, name: areaNames[areaId] ?? areaId, population: s.population, villages: 0, categories: [])
                let a = access[c]
                row.categories.append(AreaCategory(category: c, coveredPopulation: s.coveredPopulation, coveredShare: s.coveredShare,
                                                   mean: s.mean, median: s.median, p90: s.p90, max: s.max,
                                                   mainFacilityId: main.map { engine.sites[$0].id }, mainFacilityName: main.map { engine.sites[$0].name },
                                                   accessPer1000: areaMean(a?.ratioPer1000, areaId),
                                                   gravity: areaMean(a?.gravity.map { $0.map(Optional.some) }, areaId),
                                                   enhancedAccessPer1000: areaMean(a?.enhancedPer1000, areaId)))
                rows[areaId] = row
            }
        }
        // Every area is listed, with or without villages, in the study's order of ids.
        var villages: [String: Int] = [:]
        for p in engine.demand { if let a = p.areaId { villages[a, default: 0] += 1 } }
        var notes: [String] = []
        areas = analysis.study.areas.sorted { $0.id < $1.id }.map { area in
            var row = rows[area.id] ?? AreaRow(areaId: area.id, name: area.name, population: 0, villages: 0, categories: [])
            row.villages = villages[area.id] ?? 0
            row.populationInAreaLayer = area.population
            if let own = area.population, own > 0, abs(own - row.population) > Self.populationMismatchShare * own {
                notes.append(String(format: "area %@ (%@): the areas layer gives %.0f people, its %d village(s) hold %.0f; the figures count the villages' people",
                                    area.id, area.name, own, row.villages, row.population))
            }
            return row
        }
        self.notes = notes
        points = engine.demand.indices.map { d in
            let p = engine.demand[d]
            return PointRow(demandId: p.id, name: p.name, areaId: p.areaId, population: p.weight, categories: cats.compactMap { c in
                guard let cov = coverage[c] else { return nil }
                let s = Int(cov.site[d])
                let cost = engine.cost(cov, d)
                return PointCategory(category: c, facilityId: s >= 0 ? engine.sites[s].id : nil, facilityName: s >= 0 ? engine.sites[s].name : nil,
                                     // To the hundredth, as kept and compared (CostPrecision): `covered` follows from these.
                                     distanceMeters: cost.map { ($0.meters * 100).rounded() / 100 },
                                     durationSeconds: cov.rule.mode.isTimed ? cost.map { ($0.cost * 100).rounded() / 100 } : nil,
                                     covered: cov.isCovered(d), opportunities: access[c]?.opportunities[d],
                                     accessPer1000: (access[c]?.ratioPer1000[d] ?? nil).map { ($0 * 1e6).rounded() / 1e6 },
                                     gravity: access[c]?.gravity.map { ($0[d] * 1e6).rounded() / 1e6 },
                                     enhancedAccessPer1000: (access[c]?.enhancedPer1000?[d] ?? nil).map { ($0 * 1e6).rounded() / 1e6 })
            })
        }
    }

    /// Demand points and areas with flattened per-category properties, in the working CRS.
    public func tables(study: Study) -> [FeatureTable] {
        var pointFields: [FieldDefinition] = [.init(name: "id", type: .string), .init(name: "name", type: .string),
                                              .init(name: "area_id", type: .string), .init(name: "population", type: .real)]
        var areaFields: [FieldDefinition] = [.init(name: "id", type: .string), .init(name: "name", type: .string),
                                             .init(name: "population", type: .real), .init(name: "population_area_layer", type: .real),
                                             .init(name: "villages", type: .integer)]
        for c in categories.map(\.category) {
            pointFields += [.init(name: "\(c)_facility_id", type: .string), .init(name: "\(c)_facility", type: .string),
                            .init(name: "\(c)_min", type: .real), .init(name: "\(c)_km", type: .real), .init(name: "\(c)_covered", type: .boolean),
                            .init(name: "\(c)_within", type: .integer), .init(name: "\(c)_access_per_1000", type: .real)]
            if categories.contains(where: { $0.category == c && $0.decay != nil }) {
                pointFields += [.init(name: "\(c)_gravity", type: .real), .init(name: "\(c)_e2sfca_per_1000", type: .real)]
            }
            areaFields += [.init(name: "\(c)_covered_share", type: .real), .init(name: "\(c)_mean", type: .real),
                           .init(name: "\(c)_max", type: .real), .init(name: "\(c)_facility", type: .string)]
        }
        let location = Dictionary(study.demand.map { ($0.id, $0.location) }, uniquingKeysWith: { a, _ in a })
        let pointFeatures = points.map { p -> Feature in
            var a: [String: AttributeValue] = ["id": .string(p.demandId), "name": .string(p.name),
                                               "area_id": p.areaId.map(AttributeValue.string) ?? .null, "population": .double(p.population)]
            for c in p.categories {
                a["\(c.category)_facility_id"] = c.facilityId.map(AttributeValue.string) ?? .null
                a["\(c.category)_facility"] = c.facilityName.map(AttributeValue.string) ?? .null
                a["\(c.category)_min"] = c.durationSeconds.map { .double(($0 / 6).rounded() / 10) } ?? .null
                a["\(c.category)_km"] = c.distanceMeters.map { .double(($0 / 10).rounded() / 100) } ?? .null
                a["\(c.category)_covered"] = .bool(c.covered)
                // Facilities within the threshold, and the 2SFCA ratio (the JSON's `opportunities`, `accessPer1000`).
                a["\(c.category)_within"] = c.opportunities.map { .int(Int64($0)) } ?? .null
                a["\(c.category)_access_per_1000"] = c.accessPer1000.map { .double(($0 * 1e4).rounded() / 1e4) } ?? .null
                if categories.contains(where: { $0.category == c.category && $0.decay != nil }) {
                    a["\(c.category)_gravity"] = c.gravity.map { .double(($0 * 1e4).rounded() / 1e4) } ?? .null
                    a["\(c.category)_e2sfca_per_1000"] = c.enhancedAccessPer1000.map { .double(($0 * 1e4).rounded() / 1e4) } ?? .null
                }
            }
            return Feature(geometry: location[p.demandId].map(Geometry.point), attributes: a)
        }
        let geometry = Dictionary(study.areas.map { ($0.id, $0.geometry) }, uniquingKeysWith: { a, _ in a })
        let areaFeatures = areas.map { r -> Feature in
            var a: [String: AttributeValue] = ["id": .string(r.areaId), "name": .string(r.name), "population": .double(r.population),
                                               "population_area_layer": r.populationInAreaLayer.map(AttributeValue.double) ?? .null,
                                               "villages": .int(Int64(r.villages))]
            for c in r.categories {
                let rule = categories.first { $0.category == c.category }
                let scale = rule?.metric == .duration ? 60.0 : 1000.0
                a["\(c.category)_covered_share"] = .double((c.coveredShare * 1000).rounded() / 1000)
                a["\(c.category)_mean"] = c.mean.map { .double(($0 / scale * 10).rounded() / 10) } ?? .null
                a["\(c.category)_max"] = c.max.map { .double(($0 / scale * 10).rounded() / 10) } ?? .null
                a["\(c.category)_facility"] = c.mainFacilityName.map(AttributeValue.string) ?? .null
            }
            return Feature(geometry: geometry[r.areaId], attributes: a)
        }
        return [FeatureTable(name: "coverage_areas", crs: study.crs, fields: areaFields, features: areaFeatures),
                FeatureTable(name: "coverage_points", crs: study.crs, fields: pointFields, features: pointFeatures)]
    }
}

/// The command line's figures (`Figures.plain`), kept under the name its commands use.
public enum Format {
    public static func value(_ v: Double?, metric: Metric) -> String {
        guard let v else { return "–" }
        return metric == .duration ? Figures.plain.measure(v, metric) : Figures.plain.measure(v, metric, decimals: 2)
    }

    public static func percent(_ share: Double) -> String { Figures.plain.percent(share) }

    public static func people(_ n: Double) -> String { Figures.plain.people(n) }
}
