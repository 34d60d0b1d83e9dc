import Foundation
import Testing
import KlyngeGeo
import KlyngeTestSupport
@testable import KlyngeProj

/// An independent Transverse Mercator implementation (Krüger series to n⁴, as in the published
/// UTM formulas) for ETRS89 / UTM 32N: the oracle for PROJ's output.
func krugerUTM32(lon: Double, lat: Double) -> Coordinate {
    let a = 6378137.0, f = 1 / 298.257222101, k0 = 0.9996, e0 = 500000.0, lon0 = 9.0
    let n = f / (2 - f), n2 = n * n, n3 = n2 * n, n4 = n3 * n
    let A = a / (1 + n) * (1 + n2 / 4 + n4 / 64)
    let alpha = [n / 2 - 2 * n2 / 3 + 5 * n3 / 16 + 41 * n4 / 180,
                 13 * n2 / 48 - 3 * n3 / 5 + 557 * n4 / 1440,
                 61 * n3 / 240 - 103 * n4 / 140,
                 49561 * n4 / 161280]
    let phi = lat * .pi / 180, dl = (lon - lon0) * .pi / 180
    let c = 2 * n.squareRoot() / (1 + n)
    let t = sinh(atanh(sin(phi)) - c * atanh(c * sin(phi)))
    let xi = atan(t / cos(dl)), eta = atanh(sin(dl) / (1 + t * t).squareRoot())
    var e = eta, nn = xi
    for j in 1...4 {
        let jj = Double(2 * j)
        e += alpha[j - 1] * cos(jj * xi) * sinh(jj * eta)
        nn += alpha[j - 1] * sin(jj * xi) * cosh(jj * eta)
    }
    return Coordinate(x: e0 + k0 * A * e, y: k0 * A * nn)
}

@Suite struct ProjTests {
    @Test func centralMeridianAtTheEquatorIsTheFalseEasting() throws {
        let t = try Transformer(from: .wgs84, to: .etrs89UTM32)
        let c = try t.transform(Coordinate(x: 9, y: 0))
        #expect(abs(c.x - 500000) < 1e-6)
        #expect(abs(c.y) < 1e-6)
    }

    @Test(arguments: [(10.6, 55.9), (8.1, 56.4), (12.57, 55.68), (14.9, 55.1), (9.0, 57.7)])
    func agreesWithKrugerSeries(_ lon: Double, _ lat: Double) throws {
        let t = try Transformer(from: .wgs84, to: .etrs89UTM32)
        let got = try t.transform(Coordinate(x: lon, y: lat))
        let want = krugerUTM32(lon: lon, lat: lat)
        // The n⁴ series is good to well under a millimetre within a few degrees of the meridian.
        #expect(abs(got.x - want.x) < 0.001, "easting \(got.x) vs \(want.x)")
        #expect(abs(got.y - want.y) < 0.001, "northing \(got.y) vs \(want.y)")
    }

    @Test func epsg4326IsNeverSwapped() throws {
        // EPSG:4326 is latitude-first by definition; inside Klynge x is always longitude.
        let t = try Transformer(from: .wgs84, to: .etrs89UTM32)
        let c = try t.transform(Coordinate(x: 10.6, y: 55.9))
        #expect(c.x > 590_000 && c.x < 610_000)
        #expect(c.y > 6_190_000 && c.y < 6_200_000)
        let back = try Transformer(from: .etrs89UTM32, to: .wgs84).transform(c)
        #expect(abs(back.x - 10.6) < 1e-9 && abs(back.y - 55.9) < 1e-9)
    }

    @Test(.enabled(if: TestSupport.isAvailable("cs2cs"), "needs cs2cs (proj-bin)"))
    func agreesWithCs2cs() throws {
        let points = [(10.55, 55.85), (10.62, 55.95), (11.1, 55.4)]
        let input = points.map { "\($0.0) \($0.1)" }.joined(separator: "\n") + "\n"
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("in.txt")
        try TestSupport.write(input, to: file)
        // cs2cs with +proj strings in lon/lat order, printing metres with 4 decimals.
        let r = try TestSupport.run("sh", ["-c", "cs2cs -f %.4f +proj=longlat +ellps=GRS80 +no_defs +to +proj=utm +zone=32 +ellps=GRS80 +units=m +no_defs < \(file.path)"])
        #expect(r.status == 0)
        let rows = r.stdout.split(separator: "\n").map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Double($0) } }
        let t = try Transformer(from: .wgs84, to: .etrs89UTM32)
        for (p, row) in zip(points, rows) {
            let c = try t.transform(Coordinate(x: p.0, y: p.1))
            #expect(abs(c.x - row[0]) < 0.001 && abs(c.y - row[1]) < 0.001)
        }
    }

    @Test func badCRSIsAnErrorWithPROJsMessage() throws {
        #expect(throws: ProjError.self) { try Transformer(from: CRS("EPSG:999999"), to: .wgs84) }
        #expect(throws: ProjError.self) { try CRS("not a crs").describe() }
        let d = try CRS("EPSG:25832").describe()
        #expect(!d.isGeographic && d.authorityCode == "EPSG:25832")
        #expect(try CRS.wgs84.describe().isGeographic)
    }

    @Test func geometryTransformKeepsStructure() throws {
        let t = try Transformer(from: .wgs84, to: .etrs89UTM32)
        let g = Geometry.multiLineString([[.init(x: 10.5, y: 55.8), .init(x: 10.6, y: 55.9)], [.init(x: 10.7, y: 56.0), .init(x: 10.65, y: 55.95)]])
        let out = try t.transform(g)
        #expect(out.lineParts.count == 2 && out.lineParts[1].count == 2)
        #expect(out.lineParts[1][0] == (try t.transform(Coordinate(x: 10.7, y: 56.0))))
    }
}
