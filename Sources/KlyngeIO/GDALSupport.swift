import CGDAL
import Foundation
import KlyngeGeo

/// An error from GDAL/OGR, naming the source and carrying GDAL's own message.
public struct GDALError: Error, CustomStringConvertible, Equatable {
    public let source: String
    public let layer: String?
    public let message: String

    public init(source: String, layer: String? = nil, message: String) {
        self.source = source
        self.layer = layer
        self.message = message
    }

    public var description: String {
        var where_ = source
        if let layer { where_ += ", layer \(layer)" }
        return "\(where_): \(message)"
    }
}

/// Process-wide GDAL set-up: drivers registered once, messages kept for the caller
/// (through `CPLGetLastErrorMsg`, which is per thread) instead of printed.
enum GDAL {
    private static let registered: Bool = {
        GDALAllRegister()
        CPLSetErrorHandler(CPLQuietErrorHandler)
        return true
    }()

    static func ensureRegistered() { _ = registered }

    /// GDAL's last message on this thread, or `fallback`.
    static func lastMessage(_ fallback: String) -> String {
        guard let m = CPLGetLastErrorMsg() else { return fallback }
        let s = String(cString: m).trimmingCharacters(in: .whitespacesAndNewlines)
        return s.isEmpty ? fallback : s
    }

    static func lastErrorIsFailure() -> Bool {
        let t = CPLGetLastErrorType()
        return t == CE_Failure || t == CE_Fatal
    }

    /// A NULL-terminated C string list for the duration of `body`.
    static func withStringList<R>(_ items: [String], _ body: (CSLConstList?) throws -> R) rethrows -> R {
        guard !items.isEmpty else { return try body(nil) }
        var list: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
        for s in items { list = CSLAddString(list, s) }
        defer { CSLDestroy(list) }
        return try body(list)
    }

    /// The same list typed as `const char *const *` for the calls declared that way.
    static func constList(_ list: CSLConstList?) -> UnsafePointer<UnsafePointer<CChar>?>? {
        list.map { UnsafePointer<UnsafePointer<CChar>?>(OpaquePointer($0)) }
    }

    static func string(_ p: UnsafePointer<CChar>?) -> String? {
        p.map { String(cString: $0) }
    }
}

/// Owns an OGR spatial reference.
final class SpatialReference {
    let handle: OGRSpatialReferenceH

    /// From a user definition (`EPSG:25832`, WKT, PROJ string), with traditional GIS axis order.
    init(_ crs: CRS) throws {
        GDAL.ensureRegistered()
        guard let h = OSRNewSpatialReference(nil) else {
            throw GDALError(source: crs.definition, message: "cannot create a spatial reference")
        }
        handle = h
        CPLErrorReset()
        guard OSRSetFromUserInput(h, crs.definition) == OGRERR_NONE else {
            throw GDALError(source: "CRS \(crs.definition)", message: GDAL.lastMessage("not a CRS GDAL understands"))
        }
        OSRSetAxisMappingStrategy(h, OAMS_TRADITIONAL_GIS_ORDER)
    }

    /// Takes ownership of a clone of a borrowed reference.
    init?(cloning borrowed: OGRSpatialReferenceH?) {
        guard let borrowed, let h = OSRClone(borrowed) else { return nil }
        handle = h
    }

    deinit { OSRRelease(handle) }

    /// `EPSG:n` when the definition carries or matches an authority code.
    var authorityCode: String? {
        if let name = GDAL.string(OSRGetAuthorityName(handle, nil)), let code = GDAL.string(OSRGetAuthorityCode(handle, nil)) {
            return "\(name):\(code)"
        }
        // e.g. a Shapefile .prj in ESRI WKT: ask GDAL for an equivalent registered CRS.
        var count: Int32 = 0
        var confidences: UnsafeMutablePointer<Int32>? = nil
        guard let matches = OSRFindMatches(handle, nil, &count, &confidences) else { return nil }
        defer {
            OSRFreeSRSArray(matches)
            VSIFree(confidences)
        }
        guard count > 0, let confidences, confidences[0] >= 90, let best = matches[0] else { return nil }
        if let name = GDAL.string(OSRGetAuthorityName(best, nil)), let code = GDAL.string(OSRGetAuthorityCode(best, nil)) {
            return "\(name):\(code)"
        }
        return nil
    }

    /// The CRS as a definition PROJ takes: the authority code where known, else WKT2.
    var crs: CRS {
        if let code = authorityCode { return CRS(code) }
        var wkt: UnsafeMutablePointer<CChar>? = nil
        let ok = GDAL.withStringList(["FORMAT=WKT2_2019"]) { OSRExportToWktEx(handle, &wkt, GDAL.constList($0)) }
        defer { VSIFree(wkt) }
        if ok == OGRERR_NONE, let wkt { return CRS(String(cString: wkt)) }
        return CRS("unknown")
    }

    /// Whether the coordinates as stored come northing/latitude first (so they must be swapped
    /// to reach x = easting/longitude).
    var dataIsNorthFirst: Bool {
        var count: Int32 = 0
        guard let mapping = OSRGetDataAxisToSRSAxisMapping(handle, &count), count >= 1 else { return false }
        let crsAxis = Int32(abs(mapping[0])) - 1
        var orientation = OAO_Other
        _ = OSRGetAxis(handle, nil, crsAxis, &orientation)
        return orientation == OAO_North || orientation == OAO_South
    }
}

/// A file in GDAL's in-memory file system (`/vsimem/`), removed when this object goes away.
/// Used to hand GDAL a generated configuration without touching the disk.
public final class InMemoryFile {
    public let path: String

    public init(name: String, contents: String) throws {
        GDAL.ensureRegistered()
        path = "/vsimem/klynge-\(UUID().uuidString)-\(name)"
        guard let fp = VSIFOpenL(path, "wb") else {
            throw GDALError(source: path, message: "cannot create an in-memory file")
        }
        let bytes = Array(contents.utf8)
        let written = bytes.withUnsafeBytes { VSIFWriteL($0.baseAddress, 1, $0.count, fp) }
        VSIFCloseL(fp)
        guard written == bytes.count else {
            VSIUnlink(path)
            throw GDALError(source: path, message: "short write to an in-memory file")
        }
    }

    deinit { VSIUnlink(path) }
}
