import KlyngeGeo

/// One input road: a line (or multi-line) in the working CRS with the attributes profiles use.
public struct RoadLine: Sendable, Hashable {
    public var id: String
    public var parts: [[Coordinate]]
    public var roadClass: String?
    public var maxspeed: String?
    public var oneway: String?

    public init(id: String, parts: [[Coordinate]], roadClass: String? = nil, maxspeed: String? = nil, oneway: String? = nil) {
        self.id = id
        self.parts = parts
        self.roadClass = roadClass
        self.maxspeed = maxspeed
        self.oneway = oneway
    }
}

/// The physical road graph: nodes where lines share a vertex (or end), edges between them,
/// each edge a piece of one input line with its geometry. Immutable once built.
public final class RoadNetwork: Sendable {
    /// Vertices closer than this (metres, working CRS) are the same vertex. Lines that cross
    /// without a shared vertex (bridges, tunnels) stay unconnected.
    public let vertexToleranceMeters: Double
    public let nodes: [Coordinate]
    public let edgeFrom: [Int32]
    public let edgeTo: [Int32]
    public let edgeLengthMeters: [Double]
    /// The input line each edge comes from.
    public let edgeRoad: [Int32]
    /// Edge `e`'s geometry is `coordinates[geometryStart[e] ..< geometryStart[e + 1]]`.
    let geometryStart: [Int32]
    let coordinates: [Coordinate]
    /// Attributes of the input lines, by road index.
    public let roadIds: [String]
    public let roadClass: [String?]
    let roadMaxspeed: [String?]
    let roadOneway: [String?]

    public var nodeCount: Int { nodes.count }
    public var edgeCount: Int { edgeFrom.count }

    public func geometry(ofEdge e: Int) -> ArraySlice<Coordinate> {
        coordinates[Int(geometryStart[e])..<Int(geometryStart[e + 1])]
    }

    /// Approximate memory held by the graph's arrays, in bytes.
    public var memoryBytes: Int {
        nodes.count * 16 + edgeFrom.count * (4 + 4 + 8 + 4 + 4) + coordinates.count * 16
    }

    public init(lines: [RoadLine], vertexToleranceMeters: Double = 0.01) {
        self.vertexToleranceMeters = vertexToleranceMeters
        var vertices = VertexTable(tolerance: vertexToleranceMeters)
        // Pass 1: how often each vertex is used; line ends always count as nodes.
        var uses: [Int32] = []
        var isEnd: [Bool] = []
        var partIds: [[Int32]] = []
        for line in lines {
            for part in line.parts where part.count >= 2 {
                var ids: [Int32] = []
                ids.reserveCapacity(part.count)
                for c in part {
                    let v = vertices.id(for: c)
                    if Int(v) == uses.count { uses.append(0); isEnd.append(false) }
                    uses[Int(v)] += 1
                    ids.append(v)
                }
                isEnd[Int(ids[0])] = true
                isEnd[Int(ids[ids.count - 1])] = true
                partIds.append(ids)
            }
        }
        // Pass 2: split each part at node vertices.
        var nodeOf = [Int32](repeating: -1, count: uses.count)
        var nodes: [Coordinate] = []
        func node(_ v: Int32) -> Int32 {
            if nodeOf[Int(v)] < 0 {
                nodeOf[Int(v)] = Int32(nodes.count)
                nodes.append(vertices.coordinates[Int(v)])
            }
            return nodeOf[Int(v)]
        }
        var from: [Int32] = [], to: [Int32] = [], length: [Double] = [], road: [Int32] = []
        var start: [Int32] = [0], coords: [Coordinate] = []
        var partIndex = 0
        for (r, line) in lines.enumerated() {
            for part in line.parts where part.count >= 2 {
                let ids = partIds[partIndex]
                partIndex += 1
                var pieceStart = 0
                var pieceLength = 0.0
                for i in 1..<ids.count {
                    let a = vertices.coordinates[Int(ids[i - 1])], b = vertices.coordinates[Int(ids[i])]
                    pieceLength += ((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y)).squareRoot()
                    let v = ids[i]
                    guard i == ids.count - 1 || uses[Int(v)] > 1 || isEnd[Int(v)] else { continue }
                    if pieceLength > 0 {
                        from.append(node(ids[pieceStart]))
                        to.append(node(v))
                        length.append(pieceLength)
                        road.append(Int32(r))
                        var last: Coordinate?
                        for k in pieceStart...i {
                            let c = vertices.coordinates[Int(ids[k])]
                            if c != last { coords.append(c) }
                            last = c
                        }
                        start.append(Int32(coords.count))
                    }
                    pieceStart = i
                    pieceLength = 0
                }
            }
        }
        self.nodes = nodes
        edgeFrom = from
        edgeTo = to
        edgeLengthMeters = length
        edgeRoad = road
        geometryStart = start
        coordinates = coords
        roadIds = lines.map(\.id)
        roadClass = lines.map(\.roadClass)
        roadMaxspeed = lines.map(\.maxspeed)
        roadOneway = lines.map(\.oneway)
    }
}

/// Assigns vertex ids, merging coordinates within the tolerance (a grid of cells the size of the
/// tolerance; a coordinate is compared with the vertices of its own and the neighbouring cells).
struct VertexTable {
    struct Cell: Hashable { var x: Int64; var y: Int64 }
    let tolerance: Double
    var coordinates: [Coordinate] = []
    var cells: [Cell: [Int32]] = [:]

    init(tolerance: Double) { self.tolerance = Swift.max(tolerance, 1e-9) }

    mutating func id(for c: Coordinate) -> Int32 {
        let cx = Int64((c.x / tolerance).rounded(.down)), cy = Int64((c.y / tolerance).rounded(.down))
        let t2 = tolerance * tolerance
        for dx in -1...1 {
            for dy in -1...1 {
                guard let ids = cells[Cell(x: cx + Int64(dx), y: cy + Int64(dy))] else { continue }
                for id in ids {
                    let v = coordinates[Int(id)]
                    if (v.x - c.x) * (v.x - c.x) + (v.y - c.y) * (v.y - c.y) <= t2 { return id }
                }
            }
        }
        let id = Int32(coordinates.count)
        coordinates.append(c)
        cells[Cell(x: cx, y: cy), default: []].append(id)
        return id
    }
}
