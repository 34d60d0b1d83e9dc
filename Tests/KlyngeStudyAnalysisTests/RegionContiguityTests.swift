import Foundation
import Testing
import KlyngeGeo
import KlyngeStudy
@testable import KlyngeStudyAnalysis

/// Contiguity on hand-made maps, where the answer is known by construction.
@Suite struct RegionContiguityTests {
    static func square(_ x: Double, _ y: Double, size: Double = 1000) -> Geometry {
        .polygon([[Coordinate(x: x, y: y), Coordinate(x: x + size, y: y), Coordinate(x: x + size, y: y + size),
                   Coordinate(x: x, y: y + size), Coordinate(x: x, y: y)]])
    }

    static func study(_ shapes: [Geometry], roads: [[Coordinate]] = []) -> Study {
        Study(name: "t", crs: CRS("EPSG:25832"), language: "da", categories: [],
              areas: shapes.enumerated().map { Area(id: "a\($0)", name: "A\($0)", population: nil, cluster: nil, geometry: $1) },
              demand: [], demandDerivedFromAreas: false, facilities: [],
              roads: roads.enumerated().map { Road(id: "r\($0)", parts: [$1], roadClass: "residential", maxspeed: nil, oneway: nil, name: nil) })
    }

    static func pairs(_ c: RegionContiguity) -> [String] {
        c.pairs.map { "\($0.a)-\($0.b):\($0.reason.rawValue)" }
    }

    @Test func aLineARingAndCorners() throws {
        // A line of four squares.
        let line = try RegionContiguity(study: Self.study((0..<4).map { Self.square(Double($0) * 1000, 0) }), minSharedMeters: 50, links: [])
        #expect(Self.pairs(line) == ["0-1:boundary", "1-2:boundary", "2-3:boundary"])
        #expect(abs(line.pairs[0].sharedMeters - 1000) < 5)
        // A ring of eight squares round an empty middle: each has two neighbours, diagonal corners do not count.
        let ring = [(0, 0), (1, 0), (2, 0), (2, 1), (2, 2), (1, 2), (0, 2), (0, 1)].map { Self.square(Double($0.0) * 1000, Double($0.1) * 1000) }
        let r = try RegionContiguity(study: Self.study(ring), minSharedMeters: 50, links: [])
        #expect(r.neighbours.allSatisfy { $0.count == 2 })
        #expect(r.isolated.isEmpty)
        // Two squares touching only at a corner are not neighbours.
        let corner = try RegionContiguity(study: Self.study([Self.square(0, 0), Self.square(1000, 1000)]), minSharedMeters: 50, links: [])
        #expect(corner.pairs.isEmpty && corner.isolated == [0, 1])
    }

    @Test func digitisingGapsAndShortSharedEdges() throws {
        // A 0.5 m sliver between two squares is closed by the tolerance.
        let gap = try RegionContiguity(study: Self.study([Self.square(0, 0), Self.square(1000.5, 0)]), minSharedMeters: 50, links: [])
        #expect(Self.pairs(gap) == ["0-1:boundary"])
        // A shared edge of 30 m is below a 50 m minimum, above a 20 m one.
        let shapes = [Self.square(0, 0), Self.square(1000, 970)]
        #expect(try RegionContiguity(study: Self.study(shapes), minSharedMeters: 50, links: []).pairs.isEmpty)
        #expect(try RegionContiguity(study: Self.study(shapes), minSharedMeters: 20, links: []).pairs.count == 1)
    }

    @Test func anIslandJoinsByRoadOrLinkOnly() throws {
        let shapes = [Self.square(0, 0), Self.square(1000, 0), Self.square(3000, 0)]  // the third: 1 km of water away
        let alone = try RegionContiguity(study: Self.study(shapes), minSharedMeters: 50, links: [])
        #expect(alone.isolated == [2])
        // A bridge: a road from the second square across 1 km of water.
        let bridge = [Coordinate(x: 1500, y: 500), Coordinate(x: 1900, y: 500), Coordinate(x: 2500, y: 500), Coordinate(x: 3500, y: 500)]
        let bridged = try RegionContiguity(study: Self.study(shapes, roads: [bridge]), minSharedMeters: 50, links: [])
        #expect(Self.pairs(bridged) == ["0-1:boundary", "1-2:road"])
        // The same road across 5 km of water (a ferry line in the road layer) does not join them.
        let far = [Self.square(0, 0), Self.square(1000, 0), Self.square(7000, 0)]
        let ferry = [Coordinate(x: 1500, y: 500), Coordinate(x: 4000, y: 500), Coordinate(x: 7500, y: 500)]
        #expect(try RegionContiguity(study: Self.study(far, roads: [ferry]), minSharedMeters: 50, links: []).isolated == [2])
        // An explicit link does.
        let linked = try RegionContiguity(study: Self.study(far), minSharedMeters: 50, links: [(1, 2)])
        #expect(Self.pairs(linked) == ["0-1:boundary", "1-2:link"])
    }
}
