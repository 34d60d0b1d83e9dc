import CGDAL
import Foundation
import KlyngeGeo

/// How to open a source.
public struct OpenOptions: Sendable, Hashable {
    /// GDAL driver open options (`KEY=VALUE`).
    public var driverOptions: [String]
    /// Restrict to these GDAL driver short names (e.g. `["OSM"]`); empty = any vector driver.
    public var allowedDrivers: [String]

    public init(driverOptions: [String] = [], allowedDrivers: [String] = []) {
        self.driverOptions = driverOptions
        self.allowedDrivers = allowedDrivers
    }

    /// Sensible defaults by file name: CSV geometry from WKT or lon/lat-style columns.
    public static func defaults(for source: String) -> OpenOptions {
        let lower = source.lowercased()
        if lower.hasSuffix(".csv") {
            return OpenOptions(driverOptions: [
                "GEOM_POSSIBLE_NAMES=wkt,WKT,geom,geometry,the_geom,geometri",
                "X_POSSIBLE_NAMES=lon,Lon,LON,longitude,Longitude,lng,x,X,easting,Easting,laengdegrad,længdegrad",
                "Y_POSSIBLE_NAMES=lat,Lat,LAT,latitude,Latitude,y,Y,northing,Northing,breddegrad",
                "KEEP_GEOM_COLUMNS=NO",
                "AUTODETECT_TYPE=YES",
            ])
        }
        return OpenOptions()
    }
}

/// A vector dataset opened read-only. Owns the GDAL dataset handle; use from one thread at a time.
public final class VectorSource {
    public let source: String
    let handle: GDALDatasetH

    /// Opens a file path, `/vsizip/…` path or `PG:` connection string.
    public init(_ source: String, options: OpenOptions? = nil) throws {
        GDAL.ensureRegistered()
        self.source = source
        let opts = options ?? OpenOptions.defaults(for: source)
        if !source.hasPrefix("PG:") && !source.hasPrefix("/vsi") && !FileManager.default.fileExists(atPath: source) {
            throw GDALError(source: source, message: "no such file")
        }
        CPLErrorReset()
        let flags = UInt32(GDAL_OF_VECTOR | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR)
        let h: GDALDatasetH? = GDAL.withStringList(opts.allowedDrivers) { drivers in
            GDAL.withStringList(opts.driverOptions) { openOpts in
                GDALOpenEx(source, flags, GDAL.constList(drivers), GDAL.constList(openOpts), nil)
            }
        }
        guard let h else {
            throw GDALError(source: source, message: GDAL.lastMessage("not a vector dataset GDAL can read"))
        }
        handle = h
    }

    deinit { GDALClose(handle) }

    public var driverName: String {
        guard let d = GDALGetDatasetDriver(handle) else { return "?" }
        return GDAL.string(GDALGetDriverShortName(d)) ?? "?"
    }

    public var layerCount: Int { Int(GDALDatasetGetLayerCount(handle)) }

    public var layerNames: [String] {
        (0..<layerCount).compactMap { i in
            GDALDatasetGetLayer(handle, Int32(i)).flatMap { GDAL.string(OGR_L_GetName($0)) }
        }
    }

    public func layer(at index: Int) throws -> VectorLayer {
        guard let h = GDALDatasetGetLayer(handle, Int32(index)) else {
            throw GDALError(source: source, message: "no layer number \(index)")
        }
        return VectorLayer(source: self, handle: h)
    }

    /// The named layer, or the only layer when `name` is nil.
    public func layer(named name: String?) throws -> VectorLayer {
        guard let name else {
            guard layerCount >= 1 else { throw GDALError(source: source, message: "the source has no layers") }
            if layerCount > 1 {
                throw GDALError(source: source, message: "the source has \(layerCount) layers (\(layerNames.joined(separator: ", "))); name one with `layer:`")
            }
            return try layer(at: 0)
        }
        guard let h = GDALDatasetGetLayerByName(handle, name) else {
            throw GDALError(source: source, layer: name,
                            message: "no such layer; the source has: \(layerNames.joined(separator: ", "))")
        }
        return VectorLayer(source: self, handle: h)
    }
}

/// A layer of an open source; keeps its source alive.
/// How a source's text fields are encoded, when GDAL does not recode them to UTF-8 itself (CSV, GeoJSON …).
public enum TextEncoding: String, Sendable, CaseIterable {
    case utf8 = "utf-8"
    case latin1 = "latin1"
    case windows1252 = "windows-1252"

    /// The names people write: `UTF-8`, `ISO-8859-1`, `latin-1`, `cp1252` …
    public init?(name: String) {
        switch name.lowercased().replacingOccurrences(of: "_", with: "-") {
        case "utf-8", "utf8": self = .utf8
        case "latin1", "latin-1", "iso-8859-1", "iso8859-1": self = .latin1
        case "windows-1252", "cp1252", "windows1252": self = .windows1252
        default: return nil
        }
    }

    /// The name GDAL's Shapefile driver takes as its ENCODING open option.
    public var gdalName: String {
        switch self {
        case .utf8: "UTF-8"
        case .latin1: "ISO-8859-1"
        case .windows1252: "CP1252"
        }
    }

    func decode(_ p: UnsafePointer<CChar>) -> (text: String, valid: Bool) {
        switch self {
        case .utf8:
            if let s = String(validatingCString: p) { return (s, true) }
            return (String(cString: p), false)
        case .latin1, .windows1252:
            let bytes = Data(bytes: p, count: strlen(p))
            let text = String(data: bytes, encoding: self == .latin1 ? .isoLatin1 : .windowsCP1252)
            return (text ?? String(cString: p), text != nil)
        }
    }
}

public final class VectorLayer {
    public let source: VectorSource
    let handle: OGRLayerH
    /// How `readFeatures` decodes text fields.
    public var textEncoding = TextEncoding.utf8
    /// Feature ids whose text could not be decoded with `textEncoding` in the last read (shown with U+FFFD).
    public private(set) var undecodableText: [Int64] = []

    init(source: VectorSource, handle: OGRLayerH) {
        self.source = source
        self.handle = handle
    }

    public var name: String { GDAL.string(OGR_L_GetName(handle)) ?? "?" }

    /// OGC name of the declared geometry type ("Point", "MultiPolygon", "Unknown", "None").
    public var geometryTypeName: String {
        let t = OGR_GT_Flatten(OGR_L_GetGeomType(handle))
        return GDAL.string(OGRGeometryTypeToName(t)).map { $0.replacingOccurrences(of: " ", with: "") } ?? "Unknown"
    }

    /// Feature count and extent (x = easting/longitude; nil when empty). Drivers that cannot
    /// tell (the OSM driver answers -1) are read through once, counting and growing the extent.
    /// Fails with GDAL's message when the driver stops on an error (an OSM file it cannot index), rather than
    /// reporting the features read until then.
    public func countAndExtent() throws -> (count: Int, extent: Envelope?) {
        CPLErrorReset()
        defer { CPLErrorReset() }
        let swap = spatialReference?.dataIsNorthFirst ?? false
        func oriented(_ e: OGREnvelope) -> Envelope {
            swap ? Envelope(minX: e.MinY, minY: e.MinX, maxX: e.MaxY, maxY: e.MaxX)
                 : Envelope(minX: e.MinX, minY: e.MinY, maxX: e.MaxX, maxY: e.MaxY)
        }
        let count = Int(OGR_L_GetFeatureCount(handle, 1))
        var env = OGREnvelope()
        if count >= 0 {
            guard count > 0 else { return (0, nil) }
            if OGR_L_GetExtent(handle, &env, 1) == OGRERR_NONE { return (count, oriented(env)) }
        }
        if GDAL.lastErrorIsFailure() { throw GDALError(source: source.source, layer: name, message: GDAL.lastMessage("cannot count the features")) }
        var n = 0
        var total: Envelope?
        OGR_L_ResetReading(handle)
        while let f = OGR_L_GetNextFeature(handle) {
            defer { OGR_F_Destroy(f) }
            n += 1
            guard let g = OGR_F_GetGeometryRef(f), OGR_G_IsEmpty(g) == 0 else { continue }
            OGR_G_GetEnvelope(g, &env)
            let e = oriented(env)
            total = total?.union(e) ?? e
        }
        OGR_L_ResetReading(handle)
        if GDAL.lastErrorIsFailure() { throw GDALError(source: source.source, layer: name, message: GDAL.lastMessage("cannot read the features")) }
        return (n, total)
    }

    var spatialReference: SpatialReference? { SpatialReference(cloning: OGR_L_GetSpatialRef(handle)) }

    /// The layer's CRS (nil when the layer declares none).
    public var crs: CRS? { spatialReference?.crs }

    public var fields: [FieldDefinition] {
        guard let defn = OGR_L_GetLayerDefn(handle) else { return [] }
        return (0..<OGR_FD_GetFieldCount(defn)).compactMap { i in
            guard let f = OGR_FD_GetFieldDefn(defn, i) else { return nil }
            let type: FieldType
            switch OGR_Fld_GetType(f) {
            case OFTInteger: type = OGR_Fld_GetSubType(f) == OFSTBoolean ? .boolean : .integer
            case OFTInteger64: type = .integer
            case OFTReal: type = .real
            default: type = .string
            }
            return FieldDefinition(name: GDAL.string(OGR_Fld_GetNameRef(f)) ?? "field\(i)", type: type)
        }
    }

    /// Reads every feature (optionally filtered by an OGR SQL `WHERE` clause). Coordinates come
    /// in traditional GIS order: x = easting/longitude, whatever the CRS's declared axis order.
    public func readFeatures(where filter: String? = nil) throws -> [Feature] {
        let label = "\(source.source)"
        CPLErrorReset()
        if OGR_L_SetAttributeFilter(handle, filter) != OGRERR_NONE {
            throw GDALError(source: label, layer: name, message: "bad filter \(filter ?? ""): \(GDAL.lastMessage("invalid"))")
        }
        defer { OGR_L_SetAttributeFilter(handle, nil) }
        let swap = spatialReference?.dataIsNorthFirst ?? false
        let fieldDefs = fields
        OGR_L_ResetReading(handle)
        var out: [Feature] = []
        undecodableText = []
        while true {
            CPLErrorReset()
            guard let f = OGR_L_GetNextFeature(handle) else { break }
            defer { OGR_F_Destroy(f) }
            let fid = OGR_F_GetFID(f)
            // A feature that came back with an error (e.g. WKT GDAL could not parse) is not half-read silently.
            if GDAL.lastErrorIsFailure() {
                throw GDALError(source: label, layer: name, message: "feature \(fid): \(GDAL.lastMessage("read error"))")
            }
            var attrs: [String: AttributeValue] = [:]
            for (i, def) in fieldDefs.enumerated() {
                let idx = Int32(i)
                guard OGR_F_IsFieldSetAndNotNull(f, idx) != 0 else { attrs[def.name] = .null; continue }
                switch def.type {
                case .integer: attrs[def.name] = .int(OGR_F_GetFieldAsInteger64(f, idx))
                case .real: attrs[def.name] = .double(OGR_F_GetFieldAsDouble(f, idx))
                case .boolean: attrs[def.name] = .bool(OGR_F_GetFieldAsInteger(f, idx) != 0)
                case .string:
                    guard let p = OGR_F_GetFieldAsString(f, idx) else { attrs[def.name] = .string(""); continue }
                    let (text, valid) = textEncoding.decode(p)
                    if !valid && undecodableText.last != fid { undecodableText.append(fid) }
                    attrs[def.name] = .string(text)
                }
            }
            var geometry: Geometry?
            if let g = OGR_F_GetGeometryRef(f) {
                do {
                    geometry = try Self.value(of: g)
                } catch {
                    throw GDALError(source: label, layer: name, message: "feature \(fid): unreadable geometry (\(error))")
                }
                if swap { geometry = geometry?.mapCoordinates { Coordinate(x: $0.y, y: $0.x) } }
            }
            out.append(Feature(fid: fid == OGRNullFID ? nil : fid, geometry: geometry, attributes: attrs))
        }
        if GDAL.lastErrorIsFailure() {
            throw GDALError(source: label, layer: name, message: "reading stopped after \(out.count) features: \(GDAL.lastMessage("read error"))")
        }
        return out
    }

    /// Converts a borrowed OGR geometry into a value (curves linearised, Z/M dropped).
    static func value(of borrowed: OGRGeometryH) throws -> Geometry {
        var g = borrowed
        var owned: OGRGeometryH?
        if OGR_G_HasCurveGeometry(borrowed, 0) != 0, let lin = OGR_G_GetLinearGeometry(borrowed, 0, nil) {
            owned = lin
            g = lin
        }
        defer { if let owned { OGR_G_DestroyGeometry(owned) } }
        if OGR_G_IsEmpty(g) != 0 { return .collection([]) }
        let size = Int(OGR_G_WkbSize(g))
        var buf = [UInt8](repeating: 0, count: size)
        let err = buf.withUnsafeMutableBufferPointer { OGR_G_ExportToIsoWkb(g, wkbNDR, $0.baseAddress) }
        guard err == OGRERR_NONE else { throw GDALError(source: "geometry", message: "WKB export failed") }
        return try WKB.decode(buf)
    }
}
