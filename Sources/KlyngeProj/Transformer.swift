import CPROJ
import Foundation
import KlyngeGeo

/// An error reported by PROJ, with PROJ's own message.
public struct ProjError: Error, CustomStringConvertible, Equatable {
    public let operation: String
    public let message: String
    public var description: String { "PROJ \(operation): \(message)" }
}

/// Owns one PROJ context; one per transformer, so transformers never share state across threads.
final class ProjContext {
    let handle: OpaquePointer

    init() throws {
        guard let h = proj_context_create() else {
            throw ProjError(operation: "context", message: "proj_context_create returned NULL")
        }
        // PROJ's own log goes to stderr ("utm: Invalid latitude"); its errors reach the caller through errno.
        proj_log_level(h, PJ_LOG_NONE)
        handle = h
    }

    deinit { proj_context_destroy(handle) }

    func lastError() -> String {
        let code = proj_context_errno(handle)
        guard code != 0, let s = proj_context_errno_string(handle, code) else { return "unknown error" }
        return String(cString: s)
    }
}

/// Owns one PJ object.
final class ProjObject {
    let context: ProjContext
    let handle: OpaquePointer

    init(context: ProjContext, handle: OpaquePointer) {
        self.context = context
        self.handle = handle
    }

    deinit { proj_destroy(handle) }
}

/// A coordinate operation between two CRSs, in traditional GIS axis order on both sides
/// (longitude/latitude, easting/northing), whatever order the CRS definitions declare.
public final class Transformer {
    public let source: CRS
    public let target: CRS
    private let context: ProjContext
    private let operation: ProjObject

    public init(from source: CRS, to target: CRS) throws {
        self.source = source
        self.target = target
        context = try ProjContext()
        guard let raw = proj_create_crs_to_crs(context.handle, source.definition, target.definition, nil) else {
            throw ProjError(operation: "transformation \(source.shortName) → \(target.shortName)",
                            message: context.lastError())
        }
        let op = ProjObject(context: context, handle: raw)
        // EPSG:4326 is latitude-first by definition; normalise so x is always longitude/easting.
        guard let norm = proj_normalize_for_visualization(context.handle, op.handle) else {
            throw ProjError(operation: "axis normalisation", message: context.lastError())
        }
        operation = ProjObject(context: context, handle: norm)
    }

    public func transform(_ c: Coordinate) throws -> Coordinate {
        try transform([c])[0]
    }

    /// Transforms many coordinates in one PROJ call.
    public func transform(_ coordinates: [Coordinate]) throws -> [Coordinate] {
        guard !coordinates.isEmpty else { return [] }
        var xs = coordinates.map(\.x)
        var ys = coordinates.map(\.y)
        let n = xs.count
        proj_errno_reset(operation.handle)
        let stride = MemoryLayout<Double>.stride
        let done = xs.withUnsafeMutableBufferPointer { xp in
            ys.withUnsafeMutableBufferPointer { yp in
                proj_trans_generic(operation.handle, PJ_FWD,
                                   xp.baseAddress, stride, n,
                                   yp.baseAddress, stride, n,
                                   nil, 0, 0, nil, 0, 0)
            }
        }
        guard done == n else {
            throw ProjError(operation: "transform", message: "transformed \(done) of \(n) coordinates")
        }
        var out: [Coordinate] = []
        out.reserveCapacity(n)
        for i in 0..<n {
            guard xs[i].isFinite, ys[i].isFinite, xs[i] != .infinity else {
                let errno = proj_errno(operation.handle)
                let msg = errno != 0 ? String(cString: proj_context_errno_string(context.handle, errno)) : "no result"
                throw ProjError(operation: "transform of (\(coordinates[i].x), \(coordinates[i].y)) from \(source.shortName) to \(target.shortName)",
                                message: msg)
            }
            out.append(Coordinate(x: xs[i], y: ys[i]))
        }
        return out
    }

    /// Transforms every coordinate of a geometry.
    public func transform(_ geometry: Geometry) throws -> Geometry {
        // One PROJ call per geometry; positions are mapped back in order.
        let all = geometry.allCoordinates
        let moved = try transform(all)
        var i = 0
        return geometry.mapCoordinates { _ in
            defer { i += 1 }
            return moved[i]
        }
    }
}

/// Facts about a CRS read from PROJ's database.
public struct CRSDescription: Hashable, Sendable {
    public var name: String
    public var isGeographic: Bool
    /// `EPSG:n` (or another authority) when PROJ can identify one.
    public var authorityCode: String?
}

extension CRS {
    /// A short name for messages (the definition itself if it is short, else its first words).
    public var shortName: String {
        definition.count <= 40 ? definition : String(definition.prefix(37)) + "…"
    }

    /// Parses the definition with PROJ: fails with PROJ's message if it is not a CRS.
    public func describe() throws -> CRSDescription {
        let ctx = try ProjContext()
        guard let raw = proj_create(ctx.handle, definition) else {
            throw ProjError(operation: "CRS \(shortName)", message: ctx.lastError())
        }
        let obj = ProjObject(context: ctx, handle: raw)
        guard proj_is_crs(obj.handle) != 0 else {
            throw ProjError(operation: "CRS \(shortName)", message: "not a coordinate reference system")
        }
        let type = proj_get_type(obj.handle)
        let geographic = type == PJ_TYPE_GEOGRAPHIC_2D_CRS || type == PJ_TYPE_GEOGRAPHIC_3D_CRS
            || type == PJ_TYPE_GEOGRAPHIC_CRS
        let name = proj_get_name(obj.handle).map { String(cString: $0) } ?? definition
        var code: String?
        if let auth = proj_get_id_auth_name(obj.handle, 0), let c = proj_get_id_code(obj.handle, 0) {
            code = "\(String(cString: auth)):\(String(cString: c))"
        }
        return CRSDescription(name: name, isGeographic: geographic, authorityCode: code)
    }
}

extension CRS {
    /// The largest linear scale error of this projected CRS at the given longitude/latitude points, as
    /// max |h − 1|, |k − 1| (0.01 = distances 1 % off): the projected length of a small step east and north,
    /// over its length on the WGS 84 ellipsoid (radii of curvature at the point). One transformation serves
    /// every point; PROJ's `proj_factors` would build one from its database for each.
    public func maxScaleError(atLonLat points: [Coordinate]) throws -> Double {
        let t = try Transformer(from: .wgs84, to: self)
        let a = 6_378_137.0, f = 1 / 298.257223563
        let e2 = f * (2 - f)
        let stepDegrees = 1e-4
        var worst = 0.0
        for p in points {
            let phi = p.y * .pi / 180
            let w = (1 - e2 * sin(phi) * sin(phi)).squareRoot()
            let n = a / w, m = a * (1 - e2) / (w * w * w)
            let step = stepDegrees * .pi / 180
            let east = n * cos(phi) * step, north = m * step
            let projected = try t.transform([p, Coordinate(x: p.x + stepDegrees, y: p.y), Coordinate(x: p.x, y: p.y + stepDegrees)])
            func length(_ u: Coordinate, _ v: Coordinate) -> Double { ((v.x - u.x) * (v.x - u.x) + (v.y - u.y) * (v.y - u.y)).squareRoot() }
            let k = length(projected[0], projected[1]) / east, h = length(projected[0], projected[2]) / north
            guard k.isFinite, h.isFinite, k > 0, h > 0 else {
                throw ProjError(operation: "scale of \(shortName)", message: "the study area lies outside the CRS's area")
            }
            worst = Swift.max(worst, abs(k - 1), abs(h - 1))
        }
        return worst
    }
}
