import Foundation
import KlyngeGeo
import KlyngeIO
import KlyngeStudy

/// A clustering read from a file, for `--clustering FILE` and `--from FILE`: what `klynge regions -o` writes
/// (the `region_areas` layer of its GeoPackage: `area_id`, `cluster`; or its clusters layer: `cluster` with
/// `areas` as `id;id;…` and `hub_id`), or any table a GIS exported with an area id and a cluster column.
public enum ClusteringFile {
    /// Area-id fields tried in order, and cluster fields.
    static let areaFields = ["area_id", "area", "id"]
    static let clusterFields = ["cluster", "klynge"]

    /// Whether `key` names a file (a path with a vector extension that exists) rather than a saved proposal.
    public static func isFile(_ key: String) -> Bool {
        looksLikeFile(key) && FileManager.default.fileExists(atPath: key)
    }

    /// Whether `key` reads as a path to a vector file (proposal names seldom end in `.gpkg`).
    public static func looksLikeFile(_ key: String) -> Bool {
        ["gpkg", "geojson", "json", "csv", "shp", "fgb"].contains((key as NSString).pathExtension.lowercased())
    }

    public static func read(_ path: String) throws -> SavedClustering {
        let source = try VectorSource(path)
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        // A GeoPackage from `regions -o` holds both layers: the per-area one answers directly.
        let layers = source.layerNames
        let order = layers.contains("region_areas") ? ["region_areas"] + layers.filter { $0 != "region_areas" } : layers
        var tried: [String] = []
        for layerName in order {
            let layer = try source.layer(named: layerName)
            let fields = Set(layer.fields.map(\.name))
            guard let clusterField = clusterFields.first(where: fields.contains) else {
                tried.append("\(layerName) (fields: \(fields.sorted().joined(separator: ", ")))")
                continue
            }
            var assignments: [String: String] = [:]
            var hubs: [String: String] = [:]
            func place(_ area: String, _ cluster: String, row: Int) throws {
                if let other = assignments[area], other != cluster {
                    throw GDALError(source: path, layer: layerName, message: "feature \(row): area `\(area)` is in both `\(other)` and `\(cluster)`")
                }
                assignments[area] = cluster
            }
            let features = try layer.readFeatures()
            if let areaField = areaFields.first(where: fields.contains) {
                for (k, f) in features.enumerated() {
                    guard let area = f[areaField].text, !area.isEmpty else {
                        throw GDALError(source: path, layer: layerName, message: "feature \(k + 1) has no `\(areaField)`")
                    }
                    // An area left out of every cluster is simply not placed.
                    guard let cluster = f[clusterField].text, !cluster.isEmpty else { continue }
                    try place(area, cluster, row: k + 1)
                }
            } else if fields.contains("areas") {
                for (k, f) in features.enumerated() {
                    guard let cluster = f[clusterField].text, !cluster.isEmpty else {
                        throw GDALError(source: path, layer: layerName, message: "feature \(k + 1) has no `\(clusterField)`")
                    }
                    for area in (f["areas"].text ?? "").split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) }) where !area.isEmpty {
                        try place(area, cluster, row: k + 1)
                    }
                    if let hub = f["hub_id"].text, !hub.isEmpty { hubs[cluster] = hub }
                }
            } else {
                tried.append("\(layerName) (a `\(clusterField)` field, but no area id: \(areaFields.joined(separator: ", ")) or areas)")
                continue
            }
            guard !assignments.isEmpty else {
                throw GDALError(source: path, layer: layerName, message: "no area is placed in a cluster")
            }
            return SavedClustering(name: name, description: "read from \(path)", assignments: assignments, hubs: hubs)
        }
        throw GDALError(source: path, message: "no layer holds a clustering: it needs a `cluster` field and an area id (`area_id`), "
                        + "or `cluster` with `areas` as id;id;…; layers: \(tried.joined(separator: "; "))")
    }
}
