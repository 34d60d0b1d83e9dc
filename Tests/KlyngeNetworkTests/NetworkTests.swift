import Foundation
import Testing
import KlyngeGeo
@testable import KlyngeNetwork

func c(_ x: Double, _ y: Double) -> Coordinate { Coordinate(x: x, y: y) }
func line(_ id: String, _ pts: [Coordinate], _ cls: String? = "residential", maxspeed: String? = nil, oneway: String? = nil) -> RoadLine {
    RoadLine(id: id, parts: [pts], roadClass: cls, maxspeed: maxspeed, oneway: oneway)
}

/// Builds graph, snapper and engine for a mode.
struct Net {
    let graph: ModeGraph
    let snapper: Snapper
    init(_ lines: [RoadLine], mode: TravelMode = .distance, profile: ModeProfile? = nil, snap: SnapOptions = SnapOptions()) {
        graph = ModeGraph(network: RoadNetwork(lines: lines), profile: profile ?? .defaults(for: mode))
        snapper = Snapper(graph: graph, options: snap)
    }
    func snap(_ p: Coordinate) -> Snap? { try? snapper.snap(p).get() }
    func cost(_ a: Coordinate, _ b: Coordinate) throws -> PathCost? {
        var result: PathCost?
        _ = try MatrixEngine(graph: graph).compute(origins: [snap(a)], destinations: [snap(b)]) { result = $0.first?.cost }
        return result
    }
}

@Suite struct GraphBuildingTests {
    @Test func triangle() throws {
        let net = Net([line("ab", [c(0, 0), c(100, 0)]), line("bc", [c(100, 0), c(0, 100)]), line("ca", [c(0, 100), c(0, 0)])])
        #expect(net.graph.network.nodeCount == 3 && net.graph.network.edgeCount == 3)
        #expect(try net.cost(c(0, 0), c(100, 0))?.cost == 100)
        let bc = try #require(try net.cost(c(100, 0), c(0, 100)))
        #expect(abs(bc.cost - 100 * 2.0.squareRoot()) < 1e-9)
        // From a's corner to the middle of bc: 100 + half of bc, or 100 + half of bc the other way: equal.
        let mid = try #require(try net.cost(c(0, 0), c(50, 50)))
        #expect(abs(mid.cost - (100 + 50 * 2.0.squareRoot())) < 1e-9)
    }

    @Test func verticesWithinToleranceJoinAndOthersDoNot() {
        let close = RoadNetwork(lines: [line("a", [c(0, 0), c(100, 0)]), line("b", [c(100.004, 0.003), c(200, 0)])])
        #expect(close.nodeCount == 3)
        let apart = RoadNetwork(lines: [line("a", [c(0, 0), c(100, 0)]), line("b", [c(100.02, 0), c(200, 0)])])
        #expect(apart.nodeCount == 4)
    }

    @Test func intermediateVerticesOnlyBecomeNodesWhereShared() {
        // A long line with 5 vertices, crossed at its third vertex by a line that shares it.
        let net = RoadNetwork(lines: [line("long", [c(0, 0), c(10, 0), c(20, 0), c(30, 0), c(40, 0)]),
                                      line("cross", [c(20, -10), c(20, 0), c(20, 10)])])
        #expect(net.nodeCount == 5)  // 4 ends + the shared vertex
        #expect(net.edgeCount == 4)
        #expect(net.edgeLengthMeters.sorted() == [10, 10, 20, 20])
    }

    @Test func aBridgeCrossingWithoutASharedVertexStaysUnconnected() throws {
        // Two roads cross at (50, 0) without a common vertex; a third joins their west and south ends.
        let lines = [line("road", [c(0, 0), c(100, 0)]), line("bridge", [c(50, -50), c(50, 50)]),
                     line("link", [c(0, 0), c(50, -50)])]
        let net = Net(lines)
        // From the road's east end to the bridge's north end: back along the road, the link, up the bridge.
        let d = try #require(try net.cost(c(100, 0), c(50, 50)))
        #expect(abs(d.cost - (100 + 50 * 2.0.squareRoot() + 100)) < 1e-9)
    }

    @Test func twoComponents() throws {
        let lines = [line("main1", [c(0, 0), c(1000, 0)]), line("main2", [c(1000, 0), c(1000, 1000)]),
                     line("islet", [c(5000, 0), c(5100, 0)])]
        let net = Net(lines)
        #expect(net.graph.componentSizes.sorted() == [2, 3])
        guard case .failure(.disconnectedComponent(_, let nodes, let d)) = net.snapper.snap(c(5050, 10)) else {
            Issue.record("a point on the islet must be reported")
            return
        }
        #expect(nodes == 2 && abs(d - 10) < 1e-9)
        // Allowing small pieces, it attaches there, and the pair is unreachable.
        let all = Net(lines, snap: SnapOptions(largestComponentOnly: false))
        var entries: [MatrixEntry] = []
        let summary = try MatrixEngine(graph: all.graph).compute(origins: [all.snap(c(10, 10))], destinations: [all.snap(c(5050, 10))]) { entries += $0 }
        #expect(entries.count == 1 && entries[0].cost == nil)
        #expect(summary.unreachablePairs == 1)
    }
}

/// A point nearest a small cut-off piece joins the main network, as routers do, unless asked not to.
@Suite struct CutOffPieceTests {
    let lines = [line("main1", [c(0, 0), c(1000, 0)]), line("main2", [c(1000, 0), c(1000, 1000)]),
                 line("islet", [c(1050, 500), c(1150, 500)])]

    @Test func attachedToTheMainNetworkAndFlagged() throws {
        let net = Net(lines)
        let s = try net.snapper.snap(c(1060, 510)).get()
        // By hand: the islet is 10 m away; the main road x = 1000 is 60 m away, at (1000, 510).
        #expect(s.component == net.graph.largestComponent)
        #expect(abs(s.distanceMeters - 60) < 1e-9 && s.point == c(1000, 510))
        #expect(s.passedOver == CutOffPiece(distanceMeters: 10, component: s.passedOver!.component, nodes: 2))
        // Its leg counts: to the main road's far end (1000, 1000) is 60 + 490 by road.
        #expect(abs(try #require(try net.cost(c(1060, 510), c(1000, 1000))).cost - 550) < 1e-9)
        // A point on the main network is never flagged.
        #expect(try net.snapper.snap(c(500, 5)).get().passedOver == nil)
    }

    @Test func theStrictPolicyLeavesItUnattached() {
        let net = Net(lines, snap: SnapOptions(cutOff: .unattached))
        guard case .failure(.disconnectedComponent(_, 2, let d)) = net.snapper.snap(c(1060, 510)) else {
            Issue.record("with cutOff: .unattached the point is reported")
            return
        }
        #expect(abs(d - 10) < 1e-9)
        // Beyond the limit from the main network it stays unattached whatever the policy.
        let near = Net(lines, snap: SnapOptions(maxSnapMeters: 50))
        guard case .failure(.disconnectedComponent) = near.snapper.snap(c(1060, 510)) else {
            Issue.record("the main network is 60 m away, beyond a 50 m limit")
            return
        }
    }
}

@Suite struct SnappingTests {
    let net = Net([line("h", [c(0, 0), c(100, 0)]), line("v", [c(100, 0), c(100, 100)]), line("far", [c(0, 50), c(50, 50)])])

    @Test func exactlyOnAVertex() throws {
        let s = try net.snapper.snap(c(100, 0)).get()
        #expect(s.distanceMeters == 0 && s.point == c(100, 0))
        #expect(s.offsetMeters == 0 || s.offsetMeters == net.graph.network.edgeLengthMeters[Int(s.edge)])
    }

    @Test func onTheMiddleOfAnEdge() throws {
        let s = try net.snapper.snap(c(50, 0)).get()
        #expect(s.distanceMeters == 0 && abs(s.offsetMeters - 50) < 1e-9)
        let off = try net.snapper.snap(c(30, -12)).get()
        #expect(off.point == c(30, 0) && abs(off.distanceMeters - 12) < 1e-9)
    }

    @Test func equidistantPointsGoToTheLowestEdgeId() throws {
        // (25, 25) is 25 m from "h" (edge 0) and 25 m from "far" (edge 2).
        let s = try net.snapper.snap(c(25, 25)).get()
        #expect(abs(s.distanceMeters - 25) < 1e-9)
        #expect(s.edge == 0)
    }

    @Test func beyondTheLimitIsReportedWithTheNearestDistance() {
        let strict = Net([line("h", [c(0, 0), c(100, 0)])], snap: SnapOptions(maxSnapMeters: 100))
        guard case .failure(.beyondLimit(let nearest)) = strict.snapper.snap(c(50, 300)) else {
            Issue.record("expected a failure")
            return
        }
        #expect(nearest.map { abs($0 - 300) < 1e-9 } == true)
        #expect((try? strict.snapper.snap(c(50, 99)).get()) != nil)
        // Far outside the grid too.
        guard case .failure = strict.snapper.snap(c(1e6, -1e6)) else { Issue.record("expected a failure"); return }
    }

    @Test func offNetworkLegsCountInDistanceAndDuration() throws {
        let walk = Net([line("h", [c(0, 0), c(1000, 0)])], mode: .walk)
        let p = try #require(try walk.cost(c(0, 30), c(1000, -40)))
        #expect(abs(p.meters - (30 + 1000 + 40)) < 1e-9)
        // Walking access speed equals walking speed: 1070 m at 5 km/h.
        #expect(abs(p.cost - 1070 / (5 / 3.6)) < 1e-9)
    }
}

@Suite struct ProfileTests {
    @Test func carDurationsFollowTheProfileToTheSecond() throws {
        // 2 km primary (80 km/h) + 1 km residential (40 km/h) + 1 km tagged DK:urban (50) + 1609.344 m at 30 mph.
        let lines = [line("p", [c(0, 0), c(2000, 0)], "primary"), line("r", [c(2000, 0), c(3000, 0)], "residential"),
                     line("u", [c(3000, 0), c(4000, 0)], "tertiary", maxspeed: "DK:urban"),
                     line("m", [c(4000, 0), c(5609.344, 0)], "tertiary", maxspeed: "30 mph")]
        let net = Net(lines, mode: .car)
        let p = try #require(try net.cost(c(0, 0), c(5609.344, 0)))
        #expect(abs(p.cost - (90 + 90 + 72 + 120)) < 1e-6)  // 372 s
        #expect(abs(p.meters - 5609.344) < 1e-9)
    }

    @Test func maxspeedForms() {
        #expect(Maxspeed.kmh("80") == 80)
        #expect(Maxspeed.kmh("DK:rural") == 80)
        #expect(Maxspeed.kmh("DK:motorway") == 130)
        #expect(Maxspeed.kmh("50 km/h") == 50)
        #expect(Maxspeed.kmh("50;70") == 50)
        #expect(Maxspeed.kmh("signals") == nil)
    }

    @Test func oneWayStreetsForceADetourForCarsOnly() throws {
        // A square block, every side one-way anticlockwise: (0,0)→(100,0)→(100,100)→(0,100)→(0,0).
        let lines = [line("s", [c(0, 0), c(100, 0)], oneway: "yes"), line("e", [c(100, 0), c(100, 100)], oneway: "yes"),
                     line("n", [c(100, 100), c(0, 100)], oneway: "yes"), line("w", [c(0, 0), c(0, 100)], oneway: "-1")]
        let car = Net(lines, mode: .car)
        // With the flow: 100 m at 40 km/h = 9 s. Against it: round the block, 300 m = 27 s.
        #expect(abs(try #require(try car.cost(c(0, 0), c(100, 0))).cost - 9) < 1e-9)
        let back = try #require(try car.cost(c(100, 0), c(0, 0)))
        #expect(abs(back.cost - 27) < 1e-9 && abs(back.meters - 300) < 1e-9)
        // On one edge: forward along it directly, backward round the block.
        let fwd = try #require(try car.cost(c(20, 0), c(80, 0)))
        #expect(abs(fwd.meters - 60) < 1e-9)
        let rev = try #require(try car.cost(c(80, 0), c(20, 0)))
        #expect(abs(rev.meters - 340) < 1e-9)
        // Walking ignores one-way.
        let walk = Net(lines, mode: .walk)
        #expect(abs(try #require(try walk.cost(c(100, 0), c(0, 0))).meters - 100) < 1e-9)
    }

    @Test func classesAModeMayNotUseAreLeftOut() throws {
        // A footway shortcut and a road detour: cars take the road, walkers the footway.
        let lines = [line("foot", [c(0, 0), c(100, 0)], "footway"),
                     line("r1", [c(0, 0), c(0, 100)]), line("r2", [c(0, 100), c(100, 100)]), line("r3", [c(100, 100), c(100, 0)])]
        #expect(abs(try #require(try Net(lines, mode: .car).cost(c(0, 0), c(100, 0))).meters - 300) < 1e-9)
        #expect(abs(try #require(try Net(lines, mode: .walk).cost(c(0, 0), c(100, 0))).meters - 100) < 1e-9)
        #expect(abs(try #require(try Net(lines, mode: .distance).cost(c(0, 0), c(100, 0))).meters - 100) < 1e-9)
    }
}
