/// A simple-features geometry as a value. Rings are closed (first == last).
public enum Geometry: Hashable, Sendable {
    case point(Coordinate)
    case lineString([Coordinate])
    case polygon([[Coordinate]])
    case multiPoint([Coordinate])
    case multiLineString([[Coordinate]])
    case multiPolygon([[[Coordinate]]])
    case collection([Geometry])

    /// The OGC name of the geometry type ("Point", "MultiPolygon", …).
    public var typeName: String { kind.rawValue }

    public var kind: GeometryKind {
        switch self {
        case .point: .point
        case .lineString: .lineString
        case .polygon: .polygon
        case .multiPoint: .multiPoint
        case .multiLineString: .multiLineString
        case .multiPolygon: .multiPolygon
        case .collection: .geometryCollection
        }
    }

    /// Every coordinate of the geometry, in order.
    public var allCoordinates: [Coordinate] {
        switch self {
        case .point(let c): [c]
        case .lineString(let cs), .multiPoint(let cs): cs
        case .polygon(let rings), .multiLineString(let rings): rings.flatMap { $0 }
        case .multiPolygon(let polys): polys.flatMap { $0.flatMap { $0 } }
        case .collection(let gs): gs.flatMap { $0.allCoordinates }
        }
    }

    public var isEmpty: Bool { allCoordinates.isEmpty }

    public var envelope: Envelope? { Envelope(covering: allCoordinates) }

    /// The same geometry with every coordinate passed through `transform`.
    public func mapCoordinates(_ transform: (Coordinate) throws -> Coordinate) rethrows -> Geometry {
        switch self {
        case .point(let c): return .point(try transform(c))
        case .lineString(let cs): return .lineString(try cs.map(transform))
        case .multiPoint(let cs): return .multiPoint(try cs.map(transform))
        case .polygon(let rings): return .polygon(try rings.map { try $0.map(transform) })
        case .multiLineString(let ls): return .multiLineString(try ls.map { try $0.map(transform) })
        case .multiPolygon(let ps): return .multiPolygon(try ps.map { try $0.map { try $0.map(transform) } })
        case .collection(let gs): return .collection(try gs.map { try $0.mapCoordinates(transform) })
        }
    }

    /// Polygons of a polygonal geometry (a polygon, a multipolygon, or the polygons of a collection).
    public var polygons: [[[Coordinate]]] {
        switch self {
        case .polygon(let rings): [rings]
        case .multiPolygon(let ps): ps
        case .collection(let gs): gs.flatMap { $0.polygons }
        default: []
        }
    }

    /// Line parts of a linear geometry.
    public var lineParts: [[Coordinate]] {
        switch self {
        case .lineString(let cs): [cs]
        case .multiLineString(let ls): ls
        case .collection(let gs): gs.flatMap { $0.lineParts }
        default: []
        }
    }

    /// Point parts of a puntal geometry.
    public var pointParts: [Coordinate] {
        switch self {
        case .point(let c): [c]
        case .multiPoint(let cs): cs
        case .collection(let gs): gs.flatMap { $0.pointParts }
        default: []
        }
    }
}

/// The geometry families a study layer may ask for.
public enum GeometryKind: String, Sendable, Codable, CaseIterable {
    case point = "Point"
    case lineString = "LineString"
    case polygon = "Polygon"
    case multiPoint = "MultiPoint"
    case multiLineString = "MultiLineString"
    case multiPolygon = "MultiPolygon"
    case geometryCollection = "GeometryCollection"

    public var family: GeometryFamily {
        switch self {
        case .point, .multiPoint: .puntal
        case .lineString, .multiLineString: .lineal
        case .polygon, .multiPolygon: .polygonal
        case .geometryCollection: .mixed
        }
    }
}

public enum GeometryFamily: String, Sendable, Codable {
    case puntal = "point"
    case lineal = "line"
    case polygonal = "polygon"
    case mixed = "mixed"
}

/// Planar ring measures (in the units of the coordinates).
public enum Ring {
    /// Shoelace signed area: positive for counter-clockwise rings (x east, y north).
    public static func signedArea(_ ring: [Coordinate]) -> Double {
        guard ring.count >= 3 else { return 0 }
        var sum = 0.0
        let x0 = ring[0].x, y0 = ring[0].y  // shift for numerical stability
        for i in 0..<(ring.count - 1) {
            let a = ring[i], b = ring[i + 1]
            sum += (a.x - x0) * (b.y - y0) - (b.x - x0) * (a.y - y0)
        }
        let last = ring[ring.count - 1], first = ring[0]
        if last != first { sum += (last.x - x0) * (first.y - y0) - (first.x - x0) * (last.y - y0) }
        return sum / 2
    }

    public static func isCounterClockwise(_ ring: [Coordinate]) -> Bool { signedArea(ring) > 0 }

    /// The ring with the requested orientation (reversed if needed).
    public static func oriented(_ ring: [Coordinate], counterClockwise: Bool) -> [Coordinate] {
        isCounterClockwise(ring) == counterClockwise ? ring : ring.reversed()
    }

    /// Whether `p` lies inside `ring` (even-odd rule; boundary points may go either way).
    public static func contains(_ ring: [Coordinate], _ p: Coordinate) -> Bool {
        var inside = false
        var j = ring.count - 1
        for i in 0..<ring.count {
            let a = ring[i], b = ring[j]
            if (a.y > p.y) != (b.y > p.y) {
                let xCross = (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x
                if p.x < xCross { inside.toggle() }
            }
            j = i
        }
        return inside
    }
}
