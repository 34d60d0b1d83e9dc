import Foundation
import KlyngeAnalysis
import KlyngeData
import KlyngeGeo
import KlyngeProj
import KlyngeStore
import KlyngeStudy

/// A collection served through OGC API Features: features in WGS 84 with their ids and envelopes.
struct FeatureCollection: Sendable {
    var id: String
    var title: String
    var description: String
    var features: [(id: String, feature: Feature, envelope: Envelope?)]
    var fieldOrder: [String]

    var extent: Envelope? { features.compactMap(\.envelope).reduce(nil) { $0?.union($1) ?? $1 } }

    init(id: String, title: String, description: String, table: FeatureTable, idField: String?) throws {
        self.id = id
        self.title = title
        self.description = description
        let t = try Transformer(from: table.crs, to: .wgs84)
        fieldOrder = table.fields.map(\.name)
        features = try table.features.enumerated().map { k, f in
            var g = f
            g.geometry = try f.geometry.map { try t.transform($0) }
            let id = idField.flatMap { f[$0].text } ?? String(k + 1)
            return (id, g, g.geometry?.envelope)
        }
    }

    /// Items as a GeoJSON FeatureCollection with OGC paging members.
    func items(limit: Int, offset: Int, bbox: Envelope?, baseURL: String) -> String {
        let matching = bbox.map { b in features.filter { $0.envelope.map { e in e.minX <= b.maxX && e.maxX >= b.minX && e.minY <= b.maxY && e.maxY >= b.minY } ?? false } } ?? features
        // Offsets past the end give an empty page; the sum is checked so no offset can overflow it.
        let page = matching.dropFirst(min(offset, matching.count)).prefix(limit)
        let (end, overflow) = offset.addingReportingOverflow(limit)
        let writer = GeoJSONWriter(decimals: 7, fieldOrder: fieldOrder)
        var out = "{\"type\":\"FeatureCollection\",\"numberMatched\":\(matching.count),\"numberReturned\":\(page.count),\"features\":["
        for (i, item) in page.enumerated() {
            if i > 0 { out += "," }
            writer.appendFeature(item.feature, id: .string(item.id), to: &out)
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
        guard let item = features.first(where: { $0.id == fid }) else { return nil }
        var out = ""
        GeoJSONWriter(decimals: 7, fieldOrder: fieldOrder).appendFeature(item.feature, id: .string(item.id), to: &out)
        return out
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
    static func build(_ snapshot: AnalysisSnapshot) throws -> [String: FeatureCollection] {
        let analysis = snapshot.analysis
        let study = analysis.study
        var out: [String: FeatureCollection] = [:]
        func add(_ id: String, _ title: String, _ description: String, _ table: FeatureTable, _ idField: String?) throws {
            out[id] = try FeatureCollection(id: id, title: title, description: description, table: table, idField: idField)
        }
        try add("areas", "Areas", "Villages or parishes of the study", StudyTables.table(.areas, of: study), "id")
        try add("demand", "Villages", "Where people live, with population", StudyTables.table(.demand, of: study), "id")
        try add("facilities", "Facilities", "Meeting places by category", StudyTables.table(.facilities, of: study), "id")
        try add("roads", "Roads", "The road network", StudyTables.table(.roads, of: study), nil)
        let baseline = CoverageReport(analysis: analysis, plan: analysis.engine.baselinePlan, scenario: nil)
        try add("coverage", "Coverage today", "Each village's nearest facility per category", baseline.tables(study: study)[1], "id")
        if study.areas.contains(where: { $0.cluster != nil }) || !(study.clusters.assignments ?? [:]).isEmpty {
            let report = try ClusterReport(analysis: analysis)
            try add("clusters", "Clusters", "Village clusters with their figures", report.table(crs: study.crs, categories: analysis.engine.categories), "cluster")
        }
        for s in analysis.scenarios {
            let report = CoverageReport(analysis: analysis, plan: s.plan, scenario: s.name)
            try add("coverage-" + (snapshot.ids[s.name] ?? ScenarioNaming.id(for: s.name)), "Coverage: \(s.name)", s.description ?? "Coverage under the scenario",
                    report.tables(study: study)[1], "id")
        }
        return out
    }
}

/// Collections are rebuilt when the analysis changes: keyed by its revision, so they follow the content of
/// the scenarios, not their names.
actor CollectionCache {
    private var revision = -1
    private var value: [String: FeatureCollection] = [:]

    func get(_ snapshot: AnalysisSnapshot) throws -> [String: FeatureCollection] {
        if snapshot.revision != revision {
            value = try Collections.build(snapshot)
            revision = snapshot.revision
        }
        return value
    }
}
