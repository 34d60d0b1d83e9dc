import Testing
import KlyngeGeo
@testable import KlyngeNetwork

@Suite struct IsochroneTests {
    func length(_ l: [Coordinate]) -> Double {
        zip(l, l.dropFirst()).reduce(0) { $0 + (($1.1.x - $1.0.x) * ($1.1.x - $1.0.x) + ($1.1.y - $1.0.y) * ($1.1.y - $1.0.y)).squareRoot() }
    }

    @Test func partlyReachedEdgesAreCutAtTheExactPoint() throws {
        // A straight road 0..1000 with a bend vertex at 400; a hall at 300, on the road.
        let net = Net([line("r", [c(0, 0), c(400, 0), c(1000, 0)])], mode: .walk)
        let hall = try #require(net.snap(c(300, 0)))
        let q = PathQuery(graph: net.graph)
        // 2 minutes walking = 166.67 m each way.
        let lines = net.graph.reachableLines(toward: [hall], budgets: [120, 600], query: q)
        let reach = 120 * 5 / 3.6
        #expect(lines[0].count == 1)
        #expect(abs(length(lines[0][0]) - 2 * reach) < 1e-6)
        #expect(abs(lines[0][0].first!.x - (300 - reach)) < 1e-6 && abs(lines[0][0].last!.x - (300 + reach)) < 1e-6)
        #expect(lines[0][0].contains(c(400, 0)))  // the bend vertex is kept
        // 10 minutes covers the whole road.
        #expect(abs(lines[1].map(length).reduce(0, +) - 1000) < 1e-6)
    }

    @Test func oneWayStreetsCountTowardTheTarget() throws {
        // One-way street drawn west→east, hall at its east end. Cars reach it from the west only.
        let net = Net([line("w", [c(0, 0), c(1000, 0)], oneway: "yes"), line("e", [c(1000, 0), c(2000, 0)])], mode: .car)
        let hall = try #require(net.snap(c(1000, 0)))
        let lines = net.graph.reachableLines(toward: [hall], budgets: [45], query: PathQuery(graph: net.graph))
        // 45 s at 40 km/h = 500 m, on both sides (the east road both ways, the one-way toward the hall).
        #expect(abs(lines[0].map(length).reduce(0, +) - 1000) < 1e-6)
        let fromHall = Net([line("w", [c(0, 0), c(1000, 0)], oneway: "-1"), line("e", [c(1000, 0), c(2000, 0)])], mode: .car)
        let h2 = try #require(fromHall.snap(c(1000, 0)))
        let l2 = fromHall.graph.reachableLines(toward: [h2], budgets: [45], query: PathQuery(graph: fromHall.graph))
        #expect(abs(l2[0].map(length).reduce(0, +) - 500) < 1e-6)  // only the east road
    }

    @Test func agreesWithTheMatrixOnARandomNetwork() throws {
        let lines = randomNetwork(seed: 21)
        let net = Net(lines, mode: .walk, snap: SnapOptions(largestComponentOnly: false))
        var rng = LCG(state: 4)
        let halls = (0..<2).compactMap { _ in net.snap(Coordinate(x: rng.next() * 800, y: rng.next() * 800)) }
        let points = (0..<200).compactMap { _ in net.snap(Coordinate(x: rng.next() * 800, y: rng.next() * 800)) }
        let budget = 300.0
        let reach = net.graph.reachableLines(toward: halls, budgets: [budget], query: PathQuery(graph: net.graph))[0]
        var best = [Double](repeating: .infinity, count: points.count)
        _ = try MatrixEngine(graph: net.graph).compute(origins: points, destinations: halls) { entries in
            for e in entries { if let c = e.cost { best[e.origin] = min(best[e.origin], c.cost) } }
        }
        func distanceToLines(_ p: Coordinate) -> Double {
            var d = Double.infinity
            for l in reach { for (a, b) in zip(l, l.dropFirst()) {
                let dx = b.x - a.x, dy = b.y - a.y, len2 = dx * dx + dy * dy
                let t = len2 > 0 ? min(max(((p.x - a.x) * dx + (p.y - a.y) * dy) / len2, 0), 1) : 0
                d = min(d, ((a.x + t * dx - p.x) * (a.x + t * dx - p.x) + (a.y + t * dy - p.y) * (a.y + t * dy - p.y)).squareRoot())
            } }
            return d
        }
        var inside = 0
        for (i, s) in points.enumerated() {
            let leg = net.graph.legCost(s)
            let onLines = distanceToLines(s.point) < 0.01
            // Matrix within budget (less the point's own leg) ⇔ its snapped position is on the reachable network.
            if best[i] - leg <= budget - 1e-6 { #expect(onLines, "point \(i): \(best[i]) s but not on the lines") }
            if onLines { #expect(best[i] - leg <= budget + 1e-6, "point \(i) on the lines but \(best[i]) s"); inside += 1 }
        }
        #expect(inside > 5 && inside < points.count)
    }
}
