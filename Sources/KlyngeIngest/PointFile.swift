import Foundation
import KlyngeGEOS
import KlyngeGeo
import KlyngeIO
import KlyngeProj

/// A point read from a file, in the study's working CRS.
public struct NamedPoint: Sendable, Hashable {
    public var id: String
    public var name: String
    public var location: Coordinate
    public init(id: String, name: String, location: Coordinate) {
        self.id = id
        self.name = name
        self.location = location
    }
}

public struct PointFileError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Points from any GDAL source (candidate sites for optimize): polygons give a point on their surface.
public enum PointFile {
    /// Ids come from `idField` (else `site:<feature id>`), names from `nameField`, `name` or `navn`. Ids must be unique.
    public static func read(_ path: String, idField: String?, nameField: String?, crs: CRS) throws -> [NamedPoint] {
        let shown = SourcePath.display(path)
        let layer = try VectorSource(path).layer(named: nil)
        guard let source = layer.crs else {
            throw PointFileError(message: "\(shown): the file has no CRS; write it with one (e.g. a GeoPackage) or give a .prj beside it")
        }
        if let idField, !layer.fields.contains(where: { $0.name == idField }) {
            throw PointFileError(message: "\(shown): no field `\(idField)` (fields: \(layer.fields.map(\.name).joined(separator: ", ")))")
        }
        let t = try Transformer(from: source, to: crs)
        let geos = try GEOSContext()
        var out: [NamedPoint] = []
        var seen = Set<String>()
        for f in try layer.readFeatures() {
            let fid = f.fid.map { "feature \($0)" } ?? "feature \(out.count + 1)"
            guard let g = f.geometry, !g.isEmpty else { throw PointFileError(message: "\(shown): \(fid) has no geometry") }
            let p: Coordinate
            if let first = g.pointParts.first { p = first } else { p = try geos.pointOnSurface(g) }
            guard let id = idField.map({ f[$0].text }) ?? "site:\(f.fid ?? Int64(out.count))" else {
                throw PointFileError(message: "\(shown): \(fid) has no `\(idField!)`")
            }
            guard seen.insert(id).inserted else { throw PointFileError(message: "\(shown): two points have the id `\(id)`") }
            let name = nameField.flatMap { f[$0].text } ?? f["name"].text ?? f["navn"].text ?? id
            out.append(NamedPoint(id: id, name: name, location: try t.transform(p)))
        }
        return out
    }
}
