import Foundation
import KlyngeGeo
import KlyngeIO
import KlyngeProj

/// Output formats by file extension.
public enum ExportFormat: String, Sendable, CaseIterable {
    case geojson, gpkg, csv

    public static func from(path: String) -> ExportFormat? {
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "geojson", "json": .geojson
        case "gpkg": .gpkg
        case "csv": .csv
        default: nil
        }
    }
}

public struct ExportError: Error, CustomStringConvertible {
    public let path: String
    public let message: String
    public var description: String { "\(path): \(message)" }
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
}

/// Writes feature tables to files, atomically.
public enum Exporter {
    /// `.geojson`: RFC 7946 (WGS 84 lon/lat, CCW exteriors, 7 decimals, no `crs`);
    /// `.gpkg`: the table's CRS; `.csv`: the table's CRS, geometry as WKT.
    public static func write(_ tables: [FeatureTable], to url: URL) throws {
        guard let format = ExportFormat.from(path: url.path) else {
            throw ExportError(path: url.path, message: "unknown output format; use .geojson, .gpkg or .csv")
        }
        switch format {
        case .geojson:
            guard tables.count == 1 else {
                throw ExportError(path: url.path, message: "a GeoJSON file holds one layer, got \(tables.count)")
            }
            try AtomicOutput.write(text: try geoJSON(tables[0]), to: url)
        case .gpkg:
            try VectorWriter.write(tables, to: url, format: .geoPackage)
        case .csv:
            guard tables.count == 1 else {
                throw ExportError(path: url.path, message: "a CSV file holds one layer, got \(tables.count)")
            }
            try VectorWriter.write(tables, to: url, format: .csv)
        }
    }

    /// Tables by the file's extension: GeoJSON holds them merged (a `layer` field tells them apart), GeoPackage as
    /// layers, CSV the last one.
    public static func writeAny(_ tables: [FeatureTable], to url: URL) throws {
        switch ExportFormat.from(path: url.path) {
        case .geojson?: try write([FeatureTable.merged(tables, name: tables.last?.name ?? "layer")], to: url)
        case .gpkg?: try write(tables, to: url)
        case .csv?: try write(Array(tables.suffix(1)), to: url)
        case nil: throw ExportError(path: url.path, message: "unknown output format; use .geojson, .gpkg or .csv")
        }
    }

    /// RFC 7946 text for a table in any CRS.
    public static func geoJSON(_ table: FeatureTable) throws -> String {
        let t = try Transformer(from: table.crs, to: .wgs84)
        let features = try table.features.map { f in
            var g = f
            g.geometry = try f.geometry.map { try t.transform($0) }
            return g
        }
        return GeoJSONWriter(decimals: 7, fieldOrder: table.fields.map(\.name)).featureCollection(features)
    }
}

extension FeatureTable {
    /// Several tables as one (a GeoJSON file holds one collection): a `layer` field tells them apart.
    public static func merged(_ tables: [FeatureTable], name: String) -> FeatureTable {
        var fields: [FieldDefinition] = [.init(name: "layer", type: .string)]
        for t in tables { for f in t.fields where !fields.contains(where: { $0.name == f.name }) { fields.append(f) } }
        let features = tables.flatMap { t in
            t.features.map { f -> Feature in
                var g = f
                g.attributes["layer"] = .string(t.name)
                return g
            }
        }
        return FeatureTable(name: name, crs: tables.first?.crs ?? .wgs84, fields: fields, features: features)
    }
}

