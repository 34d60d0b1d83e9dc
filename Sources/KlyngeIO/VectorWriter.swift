import CGDAL
import Foundation
import KlyngeGeo

/// Output formats written through GDAL.
public enum VectorFormat: String, Sendable, CaseIterable {
    case geoPackage = "GPKG"
    case csv = "CSV"
    case flatGeobuf = "FlatGeobuf"
    case shapefile = "ESRI Shapefile"
}

public enum VectorWriter {
    /// Writes tables as layers of one new dataset at `url`, atomically. Coordinates are taken
    /// to be in each table's CRS, x = easting/longitude. CSV holds one table, geometry as WKT.
    public static func write(_ tables: [FeatureTable], to url: URL, format: VectorFormat) throws {
        GDAL.ensureRegistered()
        if format == .csv && tables.count != 1 {
            throw GDALError(source: url.path, message: "a CSV file holds one layer, got \(tables.count)")
        }
        try AtomicOutput.write(to: url) { tmp in
            try writeDataset(tables, path: tmp.path, label: url.path, format: format)
        }
    }

    private static func writeDataset(_ tables: [FeatureTable], path: String, label: String, format: VectorFormat) throws {
        guard let driver = GDALGetDriverByName(format.rawValue) else {
            throw GDALError(source: label, message: "GDAL has no \(format.rawValue) driver")
        }
        CPLErrorReset()
        guard let ds = GDALCreate(driver, path, 0, 0, 0, GDT_Unknown, nil) else {
            throw GDALError(source: label, message: GDAL.lastMessage("cannot create"))
        }
        var closed = false
        defer { if !closed { GDALClose(ds) } }
        for table in tables {
            try writeLayer(table, dataset: ds, label: label, format: format)
        }
        CPLErrorReset()
        GDALClose(ds)
        closed = true
        if GDAL.lastErrorIsFailure() {
            throw GDALError(source: label, message: "closing failed: \(GDAL.lastMessage("close error"))")
        }
    }

    /// The layer geometry type: the common kind, promoted to multi where single and multi mix.
    static func layerKind(_ features: [Feature]) -> GeometryKind? {
        let kinds = Set(features.compactMap { $0.geometry?.kind })
        if kinds.count == 1 { return kinds.first }
        if kinds.isSubset(of: [.polygon, .multiPolygon]) && !kinds.isEmpty { return .multiPolygon }
        if kinds.isSubset(of: [.lineString, .multiLineString]) && !kinds.isEmpty { return .multiLineString }
        if kinds.isSubset(of: [.point, .multiPoint]) && !kinds.isEmpty { return .multiPoint }
        return nil
    }

    static func promote(_ g: Geometry, to kind: GeometryKind?) -> Geometry {
        switch (g, kind) {
        case (.polygon(let r), .multiPolygon?): .multiPolygon([r])
        case (.lineString(let l), .multiLineString?): .multiLineString([l])
        case (.point(let p), .multiPoint?): .multiPoint([p])
        default: g
        }
    }

    static func ogrType(_ kind: GeometryKind?) -> OGRwkbGeometryType {
        switch kind {
        case .point?: wkbPoint
        case .lineString?: wkbLineString
        case .polygon?: wkbPolygon
        case .multiPoint?: wkbMultiPoint
        case .multiLineString?: wkbMultiLineString
        case .multiPolygon?: wkbMultiPolygon
        case .geometryCollection?: wkbGeometryCollection
        case nil: wkbUnknown
        }
    }

    private static func writeLayer(_ table: FeatureTable, dataset ds: GDALDatasetH, label: String, format: VectorFormat) throws {
        let srs = try SpatialReference(table.crs)
        let kind = layerKind(table.features)
        // Rows without any geometry (a table of figures) are written as a plain table: no empty WKT column in a
        // CSV, an attribute table in a GeoPackage.
        let plain = !table.features.isEmpty && table.features.allSatisfy { $0.geometry == nil }
        var layerOptions: [String] = []
        if format == .csv { layerOptions = plain ? ["CREATE_CSVT=NO"] : ["GEOMETRY=AS_WKT", "CREATE_CSVT=NO"] }
        if format == .geoPackage, !plain { layerOptions = ["SPATIAL_INDEX=YES"] }
        CPLErrorReset()
        let layer: OGRLayerH? = GDAL.withStringList(layerOptions) {
            GDALDatasetCreateLayer(ds, table.name, plain ? nil : srs.handle, plain ? wkbNone : ogrType(kind), $0)
        }
        guard let layer else {
            throw GDALError(source: label, layer: table.name, message: GDAL.lastMessage("cannot create layer"))
        }
        for field in table.fields {
            let type: OGRFieldType
            switch field.type {
            case .integer: type = OFTInteger64
            case .real: type = OFTReal
            case .string: type = OFTString
            case .boolean: type = OFTInteger
            }
            guard let defn = OGR_Fld_Create(field.name, type) else {
                throw GDALError(source: label, layer: table.name, message: "cannot define field \(field.name)")
            }
            defer { OGR_Fld_Destroy(defn) }
            if field.type == .boolean { OGR_Fld_SetSubType(defn, OFSTBoolean) }
            guard OGR_L_CreateField(layer, defn, 1) == OGRERR_NONE else {
                throw GDALError(source: label, layer: table.name,
                                message: "cannot create field \(field.name): \(GDAL.lastMessage("error"))")
            }
        }
        guard let layerDefn = OGR_L_GetLayerDefn(layer) else {
            throw GDALError(source: label, layer: table.name, message: "layer has no definition")
        }
        // Field indexes as the driver created them (a driver may rename: look each up once).
        let indexes: [Int32] = table.fields.map { OGR_FD_GetFieldIndex(layerDefn, $0.name) }
        _ = GDALDatasetStartTransaction(ds, 0)
        for feature in table.features {
            guard let f = OGR_F_Create(layerDefn) else {
                throw GDALError(source: label, layer: table.name, message: "cannot create a feature")
            }
            defer { OGR_F_Destroy(f) }
            for (field, idx) in zip(table.fields, indexes) where idx >= 0 {
                switch feature[field.name] {
                case .null: OGR_F_SetFieldNull(f, idx)
                case .int(let v): OGR_F_SetFieldInteger64(f, idx, v)
                case .double(let v): OGR_F_SetFieldDouble(f, idx, v)
                case .bool(let b): OGR_F_SetFieldInteger(f, idx, b ? 1 : 0)
                case .string(let s): OGR_F_SetFieldString(f, idx, s)
                }
            }
            if let g = feature.geometry {
                var wkb = WKB.encode(promote(g, to: kind))
                var geom: OGRGeometryH?
                let err = wkb.withUnsafeMutableBytes { OGR_G_CreateFromWkb($0.baseAddress, nil, &geom, Int32($0.count)) }
                guard err == OGRERR_NONE, let geom else {
                    throw GDALError(source: label, layer: table.name, message: "cannot build a geometry for feature \(feature.fid.map(String.init) ?? "?")")
                }
                OGR_F_SetGeometryDirectly(f, geom)
            }
            CPLErrorReset()
            guard OGR_L_CreateFeature(layer, f) == OGRERR_NONE else {
                _ = GDALDatasetRollbackTransaction(ds)
                throw GDALError(source: label, layer: table.name, message: "cannot write a feature: \(GDAL.lastMessage("error"))")
            }
        }
        _ = GDALDatasetCommitTransaction(ds)
    }
}
