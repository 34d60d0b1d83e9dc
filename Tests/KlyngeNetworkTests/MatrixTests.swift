import Foundation
import Testing
import KlyngeGeo
@testable import KlyngeNetwork

/// A deterministic pseudo-random generator, so failures reproduce.
struct LCG {
    var state: UInt64
    mutating func next() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }
}

/// A jittered grid of streets with some missing blocks and multi-vertex lines.
func randomNetwork(seed: UInt64, size: Int = 8, spacing: Double = 100) -> [RoadLine] {
    var rng = LCG(state: seed)
    var pts: [[Coordinate]] = []
    for i in 0...size {
        var row: [Coordinate] = []
        for j in 0...size { row.append(Coordinate(x: Double(i) * spacing + rng.next() * 30, y: Double(j) * spacing + rng.next() * 30)) }
        pts.append(row)
    }
    var lines: [RoadLine] = []
    for i in 0...size {
        for j in 0...size {
            if i < size && rng.next() > 0.15 {
                // Some streets bend through an extra vertex.
                let a = pts[i][j], b = pts[i + 1][j]
                let mid = Coordinate(x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 + (rng.next() - 0.5) * 20)
                lines.append(RoadLine(id: "h\(i)_\(j)", parts: [rng.next() > 0.5 ? [a, mid, b] : [a, b]]))
            }
            if j < size && rng.next() > 0.15 { lines.append(RoadLine(id: "v\(i)_\(j)", parts: [[pts[i][j], pts[i][j + 1]]])) }
        }
    }
    return lines
}

/// Independent all-pairs shortest paths (Floyd–Warshall) over the lines' own vertices and segments,
/// vertices joined only where coordinates are exactly equal.
struct Oracle {
    var index: [Coordinate: Int] = [:]
    var dist: [[Double]] = []

    init(_ lines: [RoadLine]) {
        var edges: [(Int, Int, Double)] = []
        func id(_ c: Coordinate) -> Int {
            if let i = index[c] { return i }
            index[c] = index.count
            return index.count - 1
        }
        for l in lines {
            for p in l.parts {
                for k in 1..<p.count {
                    let a = p[k - 1], b = p[k]
                    edges.append((id(a), id(b), ((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y)).squareRoot()))
                }
            }
        }
        let n = index.count
        dist = Array(repeating: Array(repeating: .infinity, count: n), count: n)
        for i in 0..<n { dist[i][i] = 0 }
        for (a, b, w) in edges { dist[a][b] = min(dist[a][b], w); dist[b][a] = min(dist[b][a], w) }
        for k in 0..<n { for i in 0..<n where dist[i][k] < .infinity { for j in 0..<n where dist[i][k] + dist[k][j] < dist[i][j] { dist[i][j] = dist[i][k] + dist[k][j] } } }
    }
}

@Suite struct MatrixTests {
    @Test(arguments: [1, 2, 3] as [UInt64])
    func distanceBetweenVerticesEqualsAnIndependentShortestPath(_ seed: UInt64) throws {
        let lines = randomNetwork(seed: seed)
        let oracle = Oracle(lines)
        let net = Net(lines, snap: SnapOptions(largestComponentOnly: false))
        let vertices = Array(oracle.index.keys).sorted { ($0.x, $0.y) < ($1.x, $1.y) }
        let origins = Array(vertices.prefix(40)), destinations = Array(vertices.suffix(25))
        var entries: [MatrixEntry] = []
        _ = try MatrixEngine(graph: net.graph).compute(origins: origins.map(net.snap), destinations: destinations.map(net.snap)) { entries += $0 }
        #expect(entries.count == origins.count * destinations.count)
        for e in entries {
            let want = oracle.dist[oracle.index[origins[e.origin]]!][oracle.index[destinations[e.destination]]!]
            if want == .infinity {
                #expect(e.cost == nil)
            } else {
                let got = try #require(e.cost)
                #expect(abs(got.cost - want) <= max(0.5, want * 1e-4), "\(e.origin)→\(e.destination): \(got.cost) vs \(want)")
                #expect(abs(got.meters - want) <= max(0.5, want * 1e-4))
            }
        }
    }

    @Test func arbitraryPointsAreLegPlusNetworkPlusLeg() throws {
        let lines = randomNetwork(seed: 7)
        let oracle = Oracle(lines)
        let net = Net(lines, snap: SnapOptions(largestComponentOnly: false))
        var rng = LCG(state: 99)
        let points = (0..<30).map { _ in Coordinate(x: rng.next() * 800, y: rng.next() * 800) }
        var entries: [MatrixEntry] = []
        let snaps = points.map(net.snap)
        _ = try MatrixEngine(graph: net.graph).compute(origins: snaps, destinations: snaps) { entries += $0 }
        // Independent: each snapped point sits on a segment between two vertices; try both ends each side.
        func ends(_ s: Snap) -> [(Int, Double)] {
            let geom = Array(net.graph.network.geometry(ofEdge: Int(s.edge)))
            var along = 0.0
            for k in 1..<geom.count {
                let seg = ((geom[k].x - geom[k - 1].x) * (geom[k].x - geom[k - 1].x) + (geom[k].y - geom[k - 1].y) * (geom[k].y - geom[k - 1].y)).squareRoot()
                if s.offsetMeters <= along + seg + 1e-9 {
                    let t = s.offsetMeters - along
                    return [(oracle.index[geom[k - 1]]!, t), (oracle.index[geom[k]]!, seg - t)]
                }
                along += seg
            }
            return []
        }
        for e in entries {
            guard let o = snaps[e.origin], let d = snaps[e.destination] else { continue }
            var want = Double.infinity
            for (a, da) in ends(o) { for (b, db) in ends(d) { want = min(want, da + oracle.dist[a][b] + db) } }
            if o.edge == d.edge { want = min(want, abs(o.offsetMeters - d.offsetMeters)) }
            want += o.distanceMeters + d.distanceMeters
            if want == .infinity { #expect(e.cost == nil); continue }
            let got = try #require(e.cost)
            #expect(abs(got.meters - want) <= 1.0, "\(e.origin)→\(e.destination): \(got.meters) vs \(want)")
        }
    }

    @Test func forwardAndReverseSearchesAgree() throws {
        let lines = randomNetwork(seed: 11).enumerated().map { i, l -> RoadLine in
            var l = l
            l.oneway = i % 5 == 0 ? "yes" : (i % 7 == 0 ? "-1" : nil)
            l.roadClass = i % 3 == 0 ? "secondary" : "residential"
            return l
        }
        let net = Net(lines, mode: .car, snap: SnapOptions(largestComponentOnly: false))
        var rng = LCG(state: 5)
        let a = (0..<12).map { _ in net.snap(Coordinate(x: rng.next() * 800, y: rng.next() * 800)) }
        let b = (0..<5).map { _ in net.snap(Coordinate(x: rng.next() * 800, y: rng.next() * 800)) }
        var fwd: [MatrixEntry] = [], rev: [MatrixEntry] = []
        // 12 origins × 5 destinations searches from the destinations; 5 × 12 from the origins.
        let s1 = try MatrixEngine(graph: net.graph).compute(origins: a, destinations: b) { rev += $0 }
        #expect(s1.searchedFromDestinations)
        // The same pairs forced the other way: one origin at a time.
        for (i, o) in a.enumerated() {
            _ = try MatrixEngine(graph: net.graph).compute(origins: [o], destinations: b) { entries in
                fwd += entries.map { MatrixEntry(origin: i, destination: $0.destination, cost: $0.cost) }
            }
        }
        let key = { (e: MatrixEntry) in e.origin * 100 + e.destination }
        let r = Dictionary(uniqueKeysWithValues: rev.map { (key($0), $0.cost) })
        #expect(r.count == 60 && fwd.count == 60)
        for e in fwd {
            let other = r[key(e)]!
            #expect((e.cost == nil) == (other == nil))
            if let x = e.cost, let y = other { #expect(abs(x.cost - y.cost) < 1e-6) }
        }
    }

    @Test func nearestAndCutoffs() throws {
        let lines = randomNetwork(seed: 3)
        let net = Net(lines, mode: .walk)
        var rng = LCG(state: 8)
        let o = (0..<20).map { _ in net.snap(Coordinate(x: rng.next() * 800, y: rng.next() * 800)) }
        let d = (0..<6).map { _ in net.snap(Coordinate(x: rng.next() * 800, y: rng.next() * 800)) }
        var full: [MatrixEntry] = [], near: [MatrixEntry] = [], cut: [MatrixEntry] = []
        _ = try MatrixEngine(graph: net.graph).compute(origins: o, destinations: d) { full += $0 }
        _ = try MatrixEngine(graph: net.graph).compute(origins: o, destinations: d, options: MatrixOptions(nearest: 2)) { near += $0 }
        _ = try MatrixEngine(graph: net.graph).compute(origins: o, destinations: d, options: MatrixOptions(maxDurationSeconds: 300)) { cut += $0 }
        for i in 0..<20 {
            let best = full.filter { $0.origin == i && $0.cost != nil }.sorted { $0.cost!.cost < $1.cost!.cost }.prefix(2)
            #expect(near.filter { $0.origin == i }.map(\.destination) == best.map(\.destination))
        }
        #expect(Set(cut.map { [$0.origin, $0.destination] }) == Set(full.filter { ($0.cost?.cost ?? .infinity) <= 300 }.map { [$0.origin, $0.destination] }))
    }

    @Test func unattachedEndsGiveEmptyCells() throws {
        let net = Net([line("h", [c(0, 0), c(100, 0)])])
        var entries: [MatrixEntry] = []
        let s = try MatrixEngine(graph: net.graph).compute(origins: [net.snap(c(10, 0)), nil], destinations: [net.snap(c(90, 0))]) { entries += $0 }
        #expect(entries.count == 2 && entries[1].cost == nil && s.unattachedPairs == 1)
        #expect(entries[0].cost.map { abs($0.meters - 80) < 1e-9 } == true)
    }
}
