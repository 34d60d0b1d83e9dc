import Foundation
import Synchronization
import KlyngeAnalysis
import KlyngeStudyAnalysis
import KlyngeIngest
import KlyngeJobs
import KlyngeGeo
import KlyngeProj
import KlyngeStore
import KlyngeStudy
import KlyngeWork

/// A collection served through OGC API Features: features in WGS 84 with their ids and envelopes, each
/// written as GeoJSON once when the collection is built, so a page of items is only joined text.
struct FeatureCollection: Sendable {
    var id: String
    var title: String
    var description: String
    var features: [(id: String, json: String, envelope: Envelope?)]
    var index: [String: Int]
    /// What a scenario collection was made from (its plan and texts), so a rebuild keeps what did not change.
    var madeFrom: Int?

    var extent: Envelope? { features.compactMap(\.envelope).reduce(nil) { $0?.union($1) ?? $1 } }

    init(id: String, title: String, description: String, table: FeatureTable, idField: String?) throws {
        self.id = id
        self.title = title
        self.description = description
        let t = try Transformer(from: table.crs, to: .wgs84)
        let writer = GeoJSONWriter(decimals: 7, fieldOrder: table.fields.map(\.name))
        features = try table.features.enumerated().map { k, f in
            var g = f
            g.geometry = try f.geometry.map { try t.transform($0) }
            let id = idField.flatMap { f[$0].text } ?? String(k + 1)
            var json = ""
            writer.appendFeature(g, id: .string(id), to: &json)
            return (id, json, g.geometry?.envelope)
        }
        index = Dictionary(features.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Items as a GeoJSON FeatureCollection with OGC paging members.
    func items(limit: Int, offset: Int, bbox: Envelope?, baseURL: String) -> String {
        let matching = bbox.map { b in features.filter { $0.envelope.map { e in e.minX <= b.maxX && e.maxX >= b.minX && e.minY <= b.maxY && e.maxY >= b.minY } ?? false } } ?? features
        // Offsets past the end give an empty page; the sum is checked so no offset can overflow it.
        let page = matching.dropFirst(min(offset, matching.count)).prefix(limit)
        let (end, overflow) = offset.addingReportingOverflow(limit)
        var out = "{\"type\":\"FeatureCollection\",\"numberMatched\":\(matching.count),\"numberReturned\":\(page.count),\"features\":["
        out.reserveCapacity(page.reduce(256) { $0 + $1.json.utf8.count + 1 })
        for (i, item) in page.enumerated() {
            if i > 0 { out += "," }
            out += item.json
        }
        let bboxParam = bbox.map { "&bbox=\($0.minX),\($0.minY),\($0.maxX),\($0.maxY)" } ?? ""
        var links = [link("\(baseURL)/collections/\(id)/items?limit=\(limit)&offset=\(offset)\(bboxParam)", "self", "application/geo+json")]
        if !overflow && end < matching.count {
            links.append(link("\(baseURL)/collections/\(id)/items?limit=\(limit)&offset=\(end)\(bboxParam)", "next", "application/geo+json"))
        }
        if offset > 0 {
            let previous = max(0, min(offset, matching.count) - limit)
            links.append(link("\(baseURL)/collections/\(id)/items?limit=\(limit)&offset=\(previous)\(bboxParam)", "prev", "application/geo+json"))
        }
        out += "],\"links\":[" + links.joined(separator: ",") + "]}"
        return out
    }

    func item(_ fid: String) -> String? {
        index[fid].map { features[$0].json }
    }

    func metadata(baseURL: String) -> [String: Any] {
        var m: [String: Any] = [
            "id": id, "title": title, "description": description, "itemType": "feature",
            "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
            "links": [
                ["href": "\(baseURL)/collections/\(id)", "rel": "self", "type": "application/json"],
                ["href": "\(baseURL)/collections/\(id)/items", "rel": "items", "type": "application/geo+json"],
            ],
        ]
        if let e = extent { m["extent"] = ["spatial": ["bbox": [[e.minX, e.minY, e.maxX, e.maxY]], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"]] }
        return m
    }
}

func link(_ href: String, _ rel: String, _ type: String) -> String {
    "{\"href\":\(JSONText.string(href)),\"rel\":\"\(rel)\",\"type\":\"\(type)\"}"
}

/// The collections of a study: its layers, baseline coverage, clusters, and each scenario's coverage.
enum Collections {
    /// `previous`: the collections of the analysis before a save. The study's layers, today's coverage and the
    /// clusters do not change with scenarios, and scenarios whose plan did not change keep their collection.
    static func build(_ snapshot: AnalysisSnapshot, reusing previous: [String: FeatureCollection] = [:]) throws -> [String: FeatureCollection] {
        let analysis = snapshot.analysis
        let study = analysis.study
        var out: [String: FeatureCollection] = [:]
        let fixed: Set<String> = ["areas", "demand", "facilities", "roads", "coverage", "clusters", "profile"]
        for (id, c) in previous where fixed.contains(id) { out[id] = c }
        func add(_ id: String, _ title: String, _ description: String, _ table: @autoclosure () throws -> FeatureTable, _ idField: String?) throws {
            guard out[id] == nil else { return }
            out[id] = try FeatureCollection(id: id, title: title, description: description, table: table(), idField: idField)
        }
        try add("areas", "Areas", "Villages or parishes of the study", StudyTables.table(.areas, of: study), "id")
        try add("demand", "Villages", "Where people live, with population", StudyTables.table(.demand, of: study), "id")
        try add("facilities", "Facilities", "Meeting places by category", StudyTables.table(.facilities, of: study), "id")
        try add("roads", "Roads", "The road network", StudyTables.table(.roads, of: study), nil)
        try add("coverage", "Coverage today", "Each village's nearest facility per category",
                CoverageReport(analysis: analysis, plan: analysis.engine.baselinePlan, scenario: nil).tables(study: study)[1], "id")
        if study.areas.contains(where: { $0.cluster != nil }) || !(study.clusters.assignments ?? [:]).isEmpty {
            try add("clusters", "Clusters", "Village clusters with their figures",
                    try ClusterReport(analysis: analysis).table(crs: study.crs, categories: analysis.engine.categories), "cluster")
        }
        if !study.facts.isEmpty {
            try add("profile", "Data picture", "Each area's people and the measures of the study's fact layers",
                    Profile(study: study).tables(study: study)[0], "id")
        }
        // One collection per saved clustering: its clusters dissolved, with their figures.
        for p in snapshot.proposals where p.valid {
            let id = "clustering-" + p.id
            var h = Hasher()
            h.combine(p.clustering)
            let made = h.finalize()
            if let old = previous[id], old.madeFrom == made {
                out[id] = old
                continue
            }
            try add(id, "Clusters: \(p.name)", p.clustering.description ?? "A saved clustering with its figures",
                    try ClusterReport(analysis: analysis, clustering: p.clustering).table(crs: study.crs, categories: analysis.engine.categories),
                    "cluster")
            out[id]?.madeFrom = made
        }
        for s in analysis.scenarios {
            let id = "coverage-" + (snapshot.ids[s.name] ?? ScenarioNaming.id(for: s.name))
            var h = Hasher()
            h.combine(s.plan)
            h.combine(s.name)
            h.combine(s.description)
            let made = h.finalize()
            if let old = previous[id], old.madeFrom == made {
                out[id] = old
                continue
            }
            try add(id, "Coverage: \(s.name)", s.description ?? "Coverage under the scenario",
                    CoverageReport(analysis: analysis, plan: s.plan, scenario: s.name).tables(study: study)[1], "id")
            out[id]?.madeFrom = made
        }
        return out
    }
}

/// Collections are rebuilt when the analysis changes: keyed by its revision, so they follow the content of
/// the scenarios, not their names. The build runs on the work pool, once however many ask for it; a save
/// starts it at once so that readers seldom wait.
final class CollectionCache: Sendable {
    /// The builds of the last two revisions: readers of the one before a save keep theirs while the new
    /// one is made.
    private let builds = Mutex<[(revision: Int, task: Task<[String: FeatureCollection], Error>)]>([])

    func get(_ snapshot: AnalysisSnapshot, pool: WorkPool) async throws -> [String: FeatureCollection] {
        let task: Task<[String: FeatureCollection], Error> = builds.withLock { builds in
            if let b = builds.first(where: { $0.revision == snapshot.revision }) { return b.task }
            let before = builds.max { $0.revision < $1.revision }?.task
            let t = Task {
                // What the last revision built is reused where it still holds.
                let old = (try? await before?.value) ?? [:]
                return try await pool.run(control: WorkControl(timeLimitSeconds: 300)) { _ in try Collections.build(snapshot, reusing: old) }
            }
            builds.append((snapshot.revision, t))
            builds = Array(builds.sorted { $0.revision > $1.revision }.prefix(2))
            return t
        }
        do {
            return try await task.value
        } catch {
            builds.withLock { $0.removeAll { $0.task == task } }
            throw error
        }
    }
}
