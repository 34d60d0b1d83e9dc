import Testing
import KlyngeGeo
@testable import KlyngeGEOS

private func sq(_ x: Double, _ y: Double, _ s: Double = 1) -> [Coordinate] {
    [.init(x: x, y: y), .init(x: x + s, y: y), .init(x: x + s, y: y + s), .init(x: x, y: y + s), .init(x: x, y: y)]
}

@Suite struct GEOSTests {
    @Test func bowTieIsInvalidAndMakeValidKeepsBothLobes() throws {
        let geos = try GEOSContext()
        let bowTie = Geometry.polygon([[.init(x: 0, y: 0), .init(x: 2, y: 2), .init(x: 2, y: 0), .init(x: 0, y: 2), .init(x: 0, y: 0)]])
        let v = try geos.validity(bowTie)
        #expect(!v.isValid)
        #expect(v.reason?.contains("Self-intersection") == true)
        let fixed = try geos.makeValid(bowTie)
        #expect(try geos.validity(fixed).isValid)
        #expect(fixed.polygons.count == 2)
        #expect(abs(try geos.area(fixed) - 2.0) < 1e-12)  // two triangles of area 1
    }

    @Test func unionDissolvesAdjacentSquares() throws {
        let geos = try GEOSContext()
        let u = try geos.unaryUnion([.polygon([sq(0, 0)]), .polygon([sq(1, 0)])])
        #expect(u.kind == .polygon)
        #expect(abs(try geos.area(u) - 2) < 1e-12)
        let apart = try geos.unaryUnion([.polygon([sq(0, 0)]), .polygon([sq(5, 0)])])
        #expect(apart.kind == .multiPolygon)
    }

    @Test func pointOnSurfaceLiesInsideAConcavePolygon() throws {
        let geos = try GEOSContext()
        // A U shape whose centroid is outside it.
        let u = Geometry.polygon([[.init(x: 0, y: 0), .init(x: 3, y: 0), .init(x: 3, y: 3), .init(x: 2, y: 3), .init(x: 2, y: 1),
                                   .init(x: 1, y: 1), .init(x: 1, y: 3), .init(x: 0, y: 3), .init(x: 0, y: 0)]])
        let p = try geos.pointOnSurface(u)
        #expect(try geos.contains(u, .point(p)))
    }

    @Test func preparedCoversAndDistance() throws {
        let geos = try GEOSContext()
        let prepared = try PreparedGeometry(.polygon([sq(0, 0, 10)]), context: geos)
        #expect(try prepared.covers(.init(x: 5, y: 5)))
        #expect(try prepared.covers(.init(x: 10, y: 5)))  // boundary
        #expect(try !prepared.covers(.init(x: 13, y: 5)))
        #expect(abs(try prepared.distance(to: .init(x: 13, y: 14)) - 5) < 1e-12)
    }

    @Test func errorsCarryGEOSMessage() throws {
        let geos = try GEOSContext()
        // An unclosed ring cannot be a polygon: GEOS refuses it and says why.
        let bad = Geometry.polygon([[.init(x: 0, y: 0), .init(x: 1, y: 0), .init(x: 1, y: 1), .init(x: 0, y: 1)]])
        do {
            _ = try geos.area(bad)
            Issue.record("expected an error")
        } catch let e as GEOSError {
            #expect(!e.message.isEmpty && e.message != "unknown error")
        }
        // The context stays usable after an error.
        #expect(abs(try geos.area(.polygon([sq(0, 0)])) - 1) < 1e-12)
    }

    @Test func contextsAreIndependentAcrossTasks() async throws {
        // One context per task, as the conventions require; results agree.
        let areas = try await withThrowingTaskGroup(of: Double.self) { group in
            for i in 0..<4 {
                group.addTask {
                    let geos = try GEOSContext()
                    return try geos.area(geos.unaryUnion((0..<50).map { .polygon([sq(Double($0), Double(i))]) }))
                }
            }
            return try await group.reduce(into: [Double]()) { $0.append($1) }
        }
        #expect(areas.allSatisfy { abs($0 - 50) < 1e-9 })
    }
}
