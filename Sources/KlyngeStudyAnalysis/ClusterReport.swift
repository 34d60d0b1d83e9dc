import Foundation
import KlyngeAnalysis
import KlyngeGEOS
import KlyngeGeo
import KlyngeIngest
import KlyngeNetwork
import KlyngeStudy

/// `klynge clusters`: per cluster of areas, its people, facilities, coverage with its own facilities
/// versus all, travel to its hub, and facilities of one category close enough to consolidate.
public struct ClusterReport: Sendable, Codable {
    public struct CategoryFigures: Sendable, Codable {
        public var category: String
        public var facilities: Int
        public var perThousand: Double?
        /// Covered share of the cluster's people using every facility, and using only the cluster's own.
        public var coveredShareAll: Double
        public var coveredShareOwn: Double
        /// The cluster's villages' 2SFCA ratio per 1,000 (all facilities, today), weighted by their people, and
        /// the share of its people with two or more facilities within the threshold.
        public var accessPer1000: Double?
        public var backupShare: Double?
    }
    public struct Village: Sendable, Codable {
        public var id: String
        public var name: String
        public var population: Double
        public var minutesToHub: Double?
    }
    public struct Candidate: Sendable, Codable {
        public var category: String
        public var a: String
        public var b: String
        public var minutes: Double
    }
    public struct Cluster: Sendable, Codable {
        public var name: String
        public var areas: [String]
        public var population: Double
        public var areaKm2: Double
        public var hub: String?
        public var villages: [Village]
        public var categories: [CategoryFigures]
        public var consolidationCandidates: [Candidate]
    }

    public var study: String
    public var candidateMinutes: Double
    public var clusters: [Cluster]
    /// Dissolved cluster polygons, for export.
    public var geometries: [String: Geometry] = [:]

    enum CodingKeys: String, CodingKey { case study, candidateMinutes, clusters }

    /// The study's own clusters, or `clustering` in their place (the analysis is the same: clusterings change
    /// no village, facility or road).
    public init(analysis: StudyAnalysis, clustering: SavedClustering? = nil) throws {
        let study = clustering.map(analysis.study.using) ?? analysis.study
        let settings = study.clusters
        let geography = ClusterGeography(study: study)
        guard !geography.members.isEmpty else {
            throw AnalysisSetupError("no clusters: map the areas' `cluster` field, or list `clusters.assignments` (area id: cluster name)")
        }
        if let problem = geography.problems.first { throw AnalysisSetupError("\(problem.key): \(problem.message)") }
        let members = geography.members
        self.study = study.name
        candidateMinutes = settings.candidateMinutes ?? 5
        let geos = try GEOSContext()
        let engine = analysis.engine
        let baseline = engine.evaluate(engine.baselinePlan)
        let access = Dictionary(uniqueKeysWithValues: engine.categories.compactMap { c in engine.access(engine.baselinePlan, category: c).map { (c, $0) } })
        // Facility to facility by car, for consolidation candidates, on the sites as the cost tables snapped them.
        let car = try analysis.tables.including(.car)
        let siteSnaps = car.modes[.car]!.sites.map(\.snap)
        var siteMinutes: [[Double?]] = Array(repeating: Array(repeating: nil, count: engine.sites.count), count: engine.sites.count)
        _ = try MatrixEngine(graph: analysis.network.graph(.car)).compute(origins: siteSnaps, destinations: siteSnaps) { (block: MatrixBlock) in
            block.forEach { o, d, c in siteMinutes[o][d] = c.map { $0.cost / 60 } }
        }
        // Every village to every hub by car: one search per hub.
        let hubs = geography.hubs
        let hubOrder = hubs.keys.sorted()
        let hubTable = try car.columns(for: hubOrder.map { name in
            let d = study.demand[hubs[name]!]
            return Site(id: d.id, name: d.name, categories: [], location: d.location, isCandidate: true)
        }, mode: .car, layer: "hubs").table
        var out: [Cluster] = []
        for name in members.keys.sorted() {
            let areas = members[name]!
            let shape = try geos.unaryUnion(areas.map(\.geometry))
            geometries[name] = shape
            let inside = try PreparedGeometry(shape, context: geos)
            let demandIdx = geography.villages[name] ?? []
            let population = demandIdx.reduce(0) { $0 + engine.demand[$1].weight }
            var own: [Int] = []
            for s in engine.sites.indices where !engine.sites[s].isCandidate {
                if try inside.covers(engine.sites[s].location) { own.append(s) }
            }
            let hub = hubs[name]
            var villages: [Village] = []
            if let hub, let column = hubOrder.firstIndex(of: name) {
                for d in demandIdx {
                    let minutes = hubTable.cost(d, column).map { ($0.cost / 6).rounded() / 10 }
                    villages.append(Village(id: engine.demand[d].id, name: engine.demand[d].name, population: engine.demand[d].weight,
                                            minutesToHub: d == hub ? 0 : minutes))
                }
            }
            var ownPlan = engine.baselinePlan
            for s in engine.sites.indices where !own.contains(s) { ownPlan.open[s] = false }
            let ownCoverage = engine.evaluate(ownPlan)
            var figures: [CategoryFigures] = []
            var candidates: [Candidate] = []
            for c in engine.categories {
                let count = own.filter { engine.baselinePlan.serves($0, c) }.count
                let all = engine.summary(baseline[c]!, plan: engine.baselinePlan, demandIndexes: demandIdx)
                let mine = engine.summary(ownCoverage[c]!, plan: ownPlan, demandIndexes: demandIdx)
                var figure = CategoryFigures(category: c, facilities: count,
                                             perThousand: population > 0 ? (Double(count) / population * 1000 * 100).rounded() / 100 : nil,
                                             coveredShareAll: all.coveredShare, coveredShareOwn: mine.coveredShare)
                if let a = access[c], population > 0 {
                    let ratio = demandIdx.reduce(0.0) { $0 + engine.demand[$1].weight * (a.ratioPer1000[$1] ?? 0) } / population
                    figure.accessPer1000 = (ratio * 1e6).rounded() / 1e6
                    figure.backupShare = (demandIdx.filter { a.opportunities[$0] >= 2 }.reduce(0.0) { $0 + engine.demand[$1].weight } / population * 1e6).rounded() / 1e6
                }
                figures.append(figure)
                let same = own.filter { engine.baselinePlan.serves($0, c) }
                for (i, a) in same.enumerated() {
                    for b in same[(i + 1)...] {
                        // Both ways must be within the limit.
                        guard let ab = siteMinutes[a][b], let ba = siteMinutes[b][a] else { continue }
                        let m = max(ab, ba)
                        if m <= candidateMinutes {
                            candidates.append(Candidate(category: c, a: engine.sites[a].name.isEmpty ? engine.sites[a].id : engine.sites[a].name,
                                                        b: engine.sites[b].name.isEmpty ? engine.sites[b].id : engine.sites[b].name,
                                                        minutes: (m * 10).rounded() / 10))
                        }
                    }
                }
            }
            out.append(Cluster(name: name, areas: areas.map(\.id), population: population,
                               areaKm2: (try geos.area(shape) / 1e4).rounded() / 100, hub: hub.map { engine.demand[$0].name },
                               villages: villages, categories: figures, consolidationCandidates: candidates))
        }
        clusters = out
    }

    /// Dissolved cluster polygons with the figures, in the working CRS.
    public func table(crs: CRS, categories: [String]) -> FeatureTable {
        var fields: [FieldDefinition] = [.init(name: "cluster", type: .string), .init(name: "areas", type: .string),
                                         .init(name: "population", type: .real), .init(name: "area_km2", type: .real),
                                         .init(name: "hub", type: .string), .init(name: "max_minutes_to_hub", type: .real),
                                         .init(name: "consolidation_candidates", type: .integer)]
        for c in categories {
            fields += [.init(name: "\(c)_count", type: .integer), .init(name: "\(c)_per_1000", type: .real),
                       .init(name: "\(c)_covered_all", type: .real), .init(name: "\(c)_covered_own", type: .real)]
        }
        let features = clusters.map { cl -> Feature in
            var a: [String: AttributeValue] = [
                "cluster": .string(cl.name), "areas": .string(cl.areas.joined(separator: ";")), "population": .double(cl.population),
                "area_km2": .double(cl.areaKm2), "hub": cl.hub.map(AttributeValue.string) ?? .null,
                "max_minutes_to_hub": cl.villages.compactMap(\.minutesToHub).max().map(AttributeValue.double) ?? .null,
                "consolidation_candidates": .int(Int64(cl.consolidationCandidates.count)),
            ]
            for f in cl.categories {
                a["\(f.category)_count"] = .int(Int64(f.facilities))
                a["\(f.category)_per_1000"] = f.perThousand.map(AttributeValue.double) ?? .null
                a["\(f.category)_covered_all"] = .double((f.coveredShareAll * 1000).rounded() / 1000)
                a["\(f.category)_covered_own"] = .double((f.coveredShareOwn * 1000).rounded() / 1000)
            }
            return Feature(geometry: geometries[cl.name], attributes: a)
        }
        return FeatureTable(name: "clusters", crs: crs, fields: fields, features: features)
    }
}

/// Which areas form each cluster, its villages and its hub, with every problem of the settings (for `validate`,
/// which lists them all, and the cluster report, which stops at the first).
public struct ClusterGeography: Sendable {
    public var members: [String: [Area]] = [:]
    /// Demand point indexes per cluster.
    public var villages: [String: [Int]] = [:]
    /// The hub village's demand index per cluster: the one named in `clusters.hubs`, else the most populous.
    public var hubs: [String: Int] = [:]
    public var problems: [(key: String, message: String)] = []

    public init(study: Study) {
        let settings = study.clusters
        for a in study.areas {
            if let c = a.cluster ?? settings.assignments?[a.id] { members[c, default: []].append(a) }
        }
        for id in (settings.assignments ?? [:]).keys.sorted() where !study.areas.contains(where: { $0.id == id }) {
            problems.append(("clusters.assignments.\(id)", "no area has the id `\(id)`"))
        }
        for name in (settings.hubs ?? [:]).keys.sorted() where members[name] == nil {
            problems.append(("clusters.hubs.\(name)", "no cluster is called `\(name)` (clusters: \(members.keys.sorted().joined(separator: ", ")))"))
        }
        for (name, areas) in members {
            let areaIds = Set(areas.map(\.id))
            let idx = study.demand.indices.filter { study.demand[$0].areaId.map(areaIds.contains) ?? false }
            villages[name] = idx
            if let hubName = settings.hubs?[name] {
                if let h = idx.first(where: { study.demand[$0].name == hubName || study.demand[$0].id == hubName }) {
                    hubs[name] = h
                } else {
                    problems.append(("clusters.hubs.\(name)", "no village of the cluster is called `\(hubName)`"))
                }
            } else if let h = idx.max(by: { study.demand[$0].weight < study.demand[$1].weight }) {
                hubs[name] = h
            }
        }
        problems.sort { $0.key < $1.key }
    }
}
