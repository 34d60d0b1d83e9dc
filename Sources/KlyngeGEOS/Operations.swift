import CGEOS
import KlyngeGeo

/// The outcome of a validity check.
public struct Validity: Hashable, Sendable {
    public var isValid: Bool
    /// GEOS's reason ("Self-intersection[10.5 55.9]") when invalid.
    public var reason: String?
}

extension GEOSContext {
    public func validity(_ geometry: Geometry) throws -> Validity {
        let g = try make(geometry)
        let valid = try predicate(GEOSisValid_r(handle, g.pointer), "isValid")
        if valid { return Validity(isValid: true, reason: nil) }
        var reason: String?
        if let r = GEOSisValidReason_r(handle, g.pointer) {
            reason = String(cString: r)
            GEOSFree_r(handle, r)
        }
        return Validity(isValid: false, reason: reason)
    }

    /// GEOS make-valid (structure-preserving where it can), keeping only parts of the
    /// input's dimension, so a repaired polygon stays polygonal.
    public func makeValid(_ geometry: Geometry) throws -> Geometry {
        let g = try make(geometry)
        let fixed = try owned(GEOSMakeValid_r(handle, g.pointer), "make-valid")
        let result = try value(fixed)
        guard case .collection(let parts) = result else { return result }
        let polys = parts.flatMap { $0.polygons }
        if !geometry.polygons.isEmpty, !polys.isEmpty { return polys.count == 1 ? .polygon(polys[0]) : .multiPolygon(polys) }
        let lines = parts.flatMap { $0.lineParts }
        if !geometry.lineParts.isEmpty, !lines.isEmpty { return lines.count == 1 ? .lineString(lines[0]) : .multiLineString(lines) }
        return result
    }

    /// The union of all geometries (dissolve).
    public func unaryUnion(_ geometries: [Geometry]) throws -> Geometry {
        let g = try make(.collection(geometries))
        let u = try owned(GEOSUnaryUnion_r(handle, g.pointer), "union")
        return try value(u)
    }

    /// A point guaranteed to lie on the geometry (inside a polygon, on a line).
    public func pointOnSurface(_ geometry: Geometry) throws -> Coordinate {
        let g = try make(geometry)
        let p = try owned(GEOSPointOnSurface_r(handle, g.pointer), "point-on-surface")
        guard case .point(let c) = try value(p) else {
            throw GEOSError(operation: "point-on-surface", message: "result is empty")
        }
        return c
    }

    public func distance(_ a: Geometry, _ b: Geometry) throws -> Double {
        let ga = try make(a), gb = try make(b)
        var d = 0.0
        guard GEOSDistance_r(handle, ga.pointer, gb.pointer, &d) == 1 else { throw error("distance") }
        return d
    }

    public func area(_ geometry: Geometry) throws -> Double {
        let g = try make(geometry)
        var a = 0.0
        guard GEOSArea_r(handle, g.pointer, &a) == 1 else { throw error("area") }
        return a
    }

    public func contains(_ a: Geometry, _ b: Geometry) throws -> Bool {
        let ga = try make(a), gb = try make(b)
        return try predicate(GEOSContains_r(handle, ga.pointer, gb.pointer), "contains")
    }

}

/// A prepared geometry for repeated point tests against one polygon (the study area).
public final class PreparedGeometry {
    private let context: GEOSContext
    private let geometry: GEOSHandle
    private let prepared: OpaquePointer

    public init(_ value: Geometry, context: GEOSContext) throws {
        self.context = context
        geometry = try context.make(value)
        guard let p = GEOSPrepare_r(context.handle, geometry.pointer) else { throw context.error("prepare") }
        prepared = p
    }

    deinit {
        GEOSPreparedGeom_destroy_r(context.handle, prepared)
    }

    /// Whether the geometry covers the point (boundary counts as inside).
    public func covers(_ c: Coordinate) throws -> Bool {
        let p = try context.make(.point(c))
        return try context.predicate(GEOSPreparedCovers_r(context.handle, prepared, p.pointer), "covers")
    }

    /// Distance from the point to the geometry (0 inside).
    public func distance(to c: Coordinate) throws -> Double {
        let p = try context.make(.point(c))
        var d = 0.0
        guard GEOSPreparedDistance_r(context.handle, prepared, p.pointer, &d) == 1 else {
            throw context.error("distance")
        }
        return d
    }
}

/// Shared boundary lengths between the polygons of one layer (contiguity): each polygon's boundary and a
/// thin buffer around it are built once, so a pair costs one prepared test and, for touching pairs, one
/// intersection. Small gaps and overlaps of up to `toleranceMeters` between neighbours do not matter.
public final class SharedBoundaries {
    private let context: GEOSContext
    private let boundaries: [GEOSHandle]
    private let buffers: [GEOSHandle]
    private let prepared: [OpaquePointer]
    public let envelopes: [Envelope?]
    public let toleranceMeters: Double

    public init(_ polygons: [Geometry], toleranceMeters: Double, context: GEOSContext) throws {
        self.context = context
        self.toleranceMeters = toleranceMeters
        var boundaries: [GEOSHandle] = [], buffers: [GEOSHandle] = [], prepared: [OpaquePointer] = []
        do {
            for p in polygons {
                let g = try context.make(p)
                boundaries.append(try context.owned(GEOSBoundary_r(context.handle, g.pointer), "boundary"))
                let b = try context.owned(GEOSBuffer_r(context.handle, g.pointer, toleranceMeters, 2), "buffer")
                buffers.append(b)
                guard let pr = GEOSPrepare_r(context.handle, b.pointer) else { throw context.error("prepare") }
                prepared.append(pr)
            }
        } catch {
            // deinit does not run for an init that throws: free what was prepared here.
            for q in prepared { GEOSPreparedGeom_destroy_r(context.handle, q) }
            throw error
        }
        self.boundaries = boundaries
        self.buffers = buffers
        self.prepared = prepared
        envelopes = polygons.map(\.envelope)
    }

    deinit {
        for p in prepared { GEOSPreparedGeom_destroy_r(context.handle, p) }
    }

    /// Length of polygon `a`'s boundary lying within the tolerance of polygon `b` (0 when apart).
    public func length(_ a: Int, _ b: Int) throws -> Double {
        guard try context.predicate(GEOSPreparedIntersects_r(context.handle, prepared[b], boundaries[a].pointer), "intersects") else { return 0 }
        let shared = try context.owned(GEOSIntersection_r(context.handle, boundaries[a].pointer, buffers[b].pointer), "intersection")
        var length = 0.0
        guard GEOSLength_r(context.handle, shared.pointer, &length) == 1 else { throw context.error("length") }
        return length
    }
}

extension GEOSContext {
    /// The dissolved buffer of many lines (a service area around reachable roads), done inside GEOS: each line
    /// is buffered and the pieces unioned in one cascaded union, without converting the pieces back and forth.
    /// Buffering pieces one by one and dissolving them is far faster than buffering the whole multi-line at
    /// once. `check` runs every few hundred lines (to stop abandoned work).
    public func bufferedUnion(lines: [[Coordinate]], distanceMeters: Double, quadrantSegments: Int32 = 8,
                              check: () throws -> Void = {}) throws -> Geometry {
        var pieces: [OpaquePointer?] = []
        pieces.reserveCapacity(lines.count)
        // Until the collection takes them over, the pieces are ours to free.
        var handedOver = false
        defer { if !handedOver { for case let p? in pieces { GEOSGeom_destroy_r(handle, p) } } }
        for (k, line) in lines.enumerated() where line.count >= 2 {
            if k % 256 == 0 { try check() }
            guard let seq = GEOSCoordSeq_create_r(handle, UInt32(line.count), 2) else { throw error("coordinates") }
            for (i, c) in line.enumerated() { GEOSCoordSeq_setXY_r(handle, seq, UInt32(i), c.x, c.y) }
            let source = try owned(GEOSGeom_createLineString_r(handle, seq), "line")
            guard let b = GEOSBuffer_r(handle, source.pointer, distanceMeters, quadrantSegments) else { throw error("buffer") }
            pieces.append(b)
        }
        guard !pieces.isEmpty else { return .collection([]) }
        let collection = try pieces.withUnsafeMutableBufferPointer { buf -> GEOSHandle in
            let c = GEOSGeom_createCollection_r(handle, Int32(GEOS_GEOMETRYCOLLECTION.rawValue), buf.baseAddress, UInt32(buf.count))
            handedOver = c != nil
            return try owned(c, "collection")
        }
        try check()
        return try value(try owned(GEOSUnaryUnion_r(handle, collection.pointer), "union"))
    }
}
