import Foundation
import KlyngeGeo

/// Where a point joins the network.
public struct Snap: Sendable, Hashable {
    public var edge: Int32
    /// Metres from the edge's start along its geometry.
    public var offsetMeters: Double
    /// The nearest point on the edge.
    public var point: Coordinate
    /// Length of the off-network leg (point to `point`).
    public var distanceMeters: Double
    public var component: Int32
    /// Set when the nearest road lay on a small piece cut off from the main network and the point was
    /// attached to the main network instead: that nearer road's distance and its piece's size.
    public var passedOver: CutOffPiece?

    public init(edge: Int32, offsetMeters: Double, point: Coordinate, distanceMeters: Double, component: Int32,
                passedOver: CutOffPiece? = nil) {
        self.edge = edge
        self.offsetMeters = offsetMeters
        self.point = point
        self.distanceMeters = distanceMeters
        self.component = component
        self.passedOver = passedOver
    }
}

/// A small piece of road cut off from the main network that a point was nearer to.
public struct CutOffPiece: Sendable, Hashable {
    public var distanceMeters: Double
    public var component: Int32
    public var nodes: Int
}

/// What happens to a point whose nearest road lies on a small piece cut off from the main network.
public enum CutOffPolicy: String, Sendable, Hashable, CaseIterable {
    /// Attach it to the nearest road of the main network (as GraphHopper and OSRM do), flagged in the snap report.
    case mainNetwork = "main_network"
    /// Leave it unattached (it counts as unreachable), reported.
    case unattached
}

/// Why a point was not attached.
public enum SnapFailure: Error, Sendable, Hashable {
    /// No usable edge within the limit; the nearest one is this far (nil: none at all).
    case beyondLimit(nearestMeters: Double?)
    /// The nearest edge lies on a small piece disconnected from the main network.
    case disconnectedComponent(component: Int32, componentNodes: Int, distanceMeters: Double)
}

public struct SnapOptions: Sendable, Hashable {
    /// Points farther than this from every usable road are reported, not attached.
    public var maxSnapMeters: Double
    /// Attach only to the largest connected component (else to the nearest road of any piece).
    public var largestComponentOnly: Bool
    /// With `largestComponentOnly`: a point nearer a cut-off piece goes to the main network, or stays unattached.
    public var cutOff: CutOffPolicy

    public init(maxSnapMeters: Double = 1000, largestComponentOnly: Bool = true, cutOff: CutOffPolicy = .mainNetwork) {
        self.maxSnapMeters = maxSnapMeters
        self.largestComponentOnly = largestComponentOnly
        self.cutOff = cutOff
    }
}

/// Attaches points to the nearest point on the nearest usable edge, through a uniform grid of
/// edge segments. Immutable and `Sendable`.
public final class Snapper: Sendable {
    public let graph: ModeGraph
    public let options: SnapOptions
    private let origin: Coordinate
    private let cellSize: Double
    private let columns: Int
    private let rows: Int
    /// Segments in cell `c` are `cellSegments[cellStart[c] ..< cellStart[c + 1]]`; a segment is
    /// (edge, index of its first coordinate within the edge geometry, metres before it on the edge).
    private let cellStart: [Int32]
    private let segmentEdge: [Int32]
    private let segmentIndex: [Int32]
    private let segmentOffset: [Double]

    public init(graph: ModeGraph, options: SnapOptions = SnapOptions()) {
        self.graph = graph
        self.options = options
        let net = graph.network
        var env: Envelope?
        var segments: [(edge: Int32, index: Int32, offset: Double, box: Envelope)] = []
        for e in 0..<net.edgeCount where graph.isUsable(edge: e) {
            let geom = net.geometry(ofEdge: e)
            var offset = 0.0
            var i = 0
            var prev: Coordinate?
            for c in geom {
                if let p = prev {
                    let box = Envelope(minX: min(p.x, c.x), minY: min(p.y, c.y), maxX: max(p.x, c.x), maxY: max(p.y, c.y))
                    segments.append((Int32(e), Int32(i - 1), offset, box))
                    env = env?.union(box) ?? box
                    offset += ((c.x - p.x) * (c.x - p.x) + (c.y - p.y) * (c.y - p.y)).squareRoot()
                }
                prev = c
                i += 1
            }
        }
        let extent = env ?? Envelope(minX: 0, minY: 0, maxX: 1, maxY: 1)
        // About two segments per cell on average, but never cells under 20 m.
        let area = max(extent.widthMeters * (extent.maxY - extent.minY), 1)
        let size = max((area * 2 / Double(max(segments.count, 1))).squareRoot(), 20)
        origin = Coordinate(x: extent.minX, y: extent.minY)
        cellSize = size
        let columns = max(Int((extent.widthMeters / size).rounded(.down)) + 1, 1)
        let rows = max(Int(((extent.maxY - extent.minY) / size).rounded(.down)) + 1, 1)
        self.columns = columns
        self.rows = rows
        var counts = [Int32](repeating: 0, count: columns * rows + 1)
        func cells(_ b: Envelope) -> (Int, Int, Int, Int) {
            let c0 = Int((b.minX - extent.minX) / size), c1 = Int((b.maxX - extent.minX) / size)
            let r0 = Int((b.minY - extent.minY) / size), r1 = Int((b.maxY - extent.minY) / size)
            return (min(c0, columns - 1), min(c1, columns - 1), min(r0, rows - 1), min(r1, rows - 1))
        }
        for s in segments {
            let (c0, c1, r0, r1) = cells(s.box)
            for r in r0...r1 { for c in c0...c1 { counts[r * columns + c + 1] += 1 } }
        }
        for i in 0..<(columns * rows) { counts[i + 1] += counts[i] }
        var next = counts
        var se = [Int32](repeating: 0, count: Int(counts[columns * rows]))
        var si = se, so = [Double](repeating: 0, count: se.count)
        for s in segments {
            let (c0, c1, r0, r1) = cells(s.box)
            for r in r0...r1 {
                for c in c0...c1 {
                    let k = Int(next[r * columns + c]); next[r * columns + c] += 1
                    se[k] = s.edge; si[k] = s.index; so[k] = s.offset
                }
            }
        }
        cellStart = counts
        segmentEdge = se
        segmentIndex = si
        segmentOffset = so
    }

    /// The nearest usable edge point. With `largestComponentOnly`, a point whose nearest edge is on a smaller
    /// piece is attached to the main network's nearest edge within the limit and flagged (`passedOver`), or, with
    /// `cutOff: .unattached` or no main-network road within the limit, reported and left unattached.
    public func snap(_ p: Coordinate) -> Result<Snap, SnapFailure> {
        guard let best = nearest(p, limit: options.maxSnapMeters, onlyComponent: nil) else {
            let far = nearest(p, limit: .infinity, onlyComponent: nil)
            return .failure(.beyondLimit(nearestMeters: far?.distanceMeters))
        }
        if options.largestComponentOnly && best.component != graph.largestComponent {
            let piece = CutOffPiece(distanceMeters: best.distanceMeters, component: best.component,
                                    nodes: graph.componentSizes[Int(best.component)])
            if options.cutOff == .mainNetwork, var main = nearest(p, limit: options.maxSnapMeters, onlyComponent: graph.largestComponent) {
                main.passedOver = piece
                return .success(main)
            }
            return .failure(.disconnectedComponent(component: piece.component, componentNodes: piece.nodes, distanceMeters: piece.distanceMeters))
        }
        return .success(best)
    }

    /// Nearest edge point within `limit` (optionally in one component). Ties go to the lowest edge id.
    public func nearest(_ p: Coordinate, limit: Double, onlyComponent: Int32?) -> Snap? {
        guard !segmentEdge.isEmpty else { return nil }
        let net = graph.network
        let pc = Int(((p.x - origin.x) / cellSize).rounded(.down)), pr = Int(((p.y - origin.y) / cellSize).rounded(.down))
        var best: Snap?
        var bestD2 = Double.infinity
        // Start at the first ring that touches the grid (the point may lie far outside it).
        var ring = max(0, -pc, pc - (columns - 1), -pr, pr - (rows - 1))
        let maxRing = ring + max(columns, rows) + 1
        while ring <= maxRing {
            // Every point in ring k is at least (k - 1) cells away.
            let ringMin = Double(max(ring - 1, 0)) * cellSize
            if ringMin > limit || (best != nil && ringMin * ringMin > bestD2) { break }
            for r in (pr - ring)...(pr + ring) {
                guard r >= 0 && r < rows else { continue }
                for c in (pc - ring)...(pc + ring) {
                    guard c >= 0 && c < columns else { continue }
                    if ring > 0 && abs(r - pr) != ring && abs(c - pc) != ring { continue }
                    let cell = r * columns + c
                    for k in Int(cellStart[cell])..<Int(cellStart[cell + 1]) {
                        let e = Int(segmentEdge[k])
                        if let only = onlyComponent, graph.component(ofEdge: e) != only { continue }
                        let geom = net.geometry(ofEdge: e)
                        let i = geom.startIndex + Int(segmentIndex[k])
                        let a = geom[i], b = geom[i + 1]
                        let dx = b.x - a.x, dy = b.y - a.y
                        let len2 = dx * dx + dy * dy
                        var t = len2 > 0 ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2 : 0
                        t = min(max(t, 0), 1)
                        let q = Coordinate(x: a.x + t * dx, y: a.y + t * dy)
                        let d2 = (q.x - p.x) * (q.x - p.x) + (q.y - p.y) * (q.y - p.y)
                        if d2 < bestD2 || (d2 == bestD2 && best.map { Int32(e) < $0.edge } == true) {
                            bestD2 = d2
                            best = Snap(edge: Int32(e), offsetMeters: segmentOffset[k] + t * len2.squareRoot(), point: q,
                                        distanceMeters: d2.squareRoot(), component: graph.component(ofEdge: e))
                        }
                    }
                }
            }
            ring += 1
        }
        guard let best, best.distanceMeters <= limit else { return nil }
        // Offsets are summed along the geometry; keep them within the edge's length.
        var b = best
        b.offsetMeters = min(max(b.offsetMeters, 0), net.edgeLengthMeters[Int(b.edge)])
        return b
    }
}
