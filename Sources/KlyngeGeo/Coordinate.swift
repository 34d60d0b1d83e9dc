/// A 2-D position. `x` is easting or longitude, `y` is northing or latitude, always
/// (traditional GIS order), whatever axis order a CRS definition declares.
public struct Coordinate: Hashable, Sendable, Codable {
    public var x: Double
    public var y: Double
    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
    public var isFinite: Bool { x.isFinite && y.isFinite }
}

/// An axis-aligned bounding box.
public struct Envelope: Hashable, Sendable, Codable {
    public var minX: Double
    public var minY: Double
    public var maxX: Double
    public var maxY: Double

    public init(minX: Double, minY: Double, maxX: Double, maxY: Double) {
        self.minX = minX
        self.minY = minY
        self.maxX = maxX
        self.maxY = maxY
    }

    public init?<S: Sequence>(covering coordinates: S) where S.Element == Coordinate {
        var it = coordinates.makeIterator()
        guard let first = it.next() else { return nil }
        var env = Envelope(minX: first.x, minY: first.y, maxX: first.x, maxY: first.y)
        while let c = it.next() { env.expand(by: c) }
        self = env
    }

    public mutating func expand(by c: Coordinate) {
        minX = Swift.min(minX, c.x)
        minY = Swift.min(minY, c.y)
        maxX = Swift.max(maxX, c.x)
        maxY = Swift.max(maxY, c.y)
    }

    public func union(_ other: Envelope) -> Envelope {
        Envelope(minX: Swift.min(minX, other.minX), minY: Swift.min(minY, other.minY),
                 maxX: Swift.max(maxX, other.maxX), maxY: Swift.max(maxY, other.maxY))
    }

    public var center: Coordinate { Coordinate(x: (minX + maxX) / 2, y: (minY + maxY) / 2) }
    public var widthMeters: Double { maxX - minX }
    public var array: [Double] { [minX, minY, maxX, maxY] }

    public func contains(_ c: Coordinate) -> Bool {
        c.x >= minX && c.x <= maxX && c.y >= minY && c.y <= maxY
    }
}
