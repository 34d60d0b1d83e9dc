import Foundation
import Testing
import KlyngeGeo
import KlyngeTestSupport

@Suite(.serialized) struct NetworkCLITests {
    let klynge = TestSupport.klyngeBinary
    let study = TestSupport.data("samsoe/study.yaml")

    func csvRows(_ path: String) throws -> [[String]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    @Test func matrixOnTheSample() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("m.csv").path
        let r = try TestSupport.run(klynge, ["matrix", study, "--mode", "car", "-o", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("28 × 27, 756 rows; 0 unreachable"))
        let rows = try csvRows(out)
        #expect(rows[0] == ["from_id", "to_id", "distance_m", "duration_s"])
        #expect(rows.count == 757 && rows.dropFirst().allSatisfy { $0.count == 4 && Double($0[2]) != nil && Double($0[3]) != nil })
        // The nearest hall per village, within 10 minutes.
        let near = folder.appendingPathComponent("near.csv").path
        let n = try TestSupport.run(klynge, ["matrix", study, "--category", "hall", "--nearest", "1", "--max-duration", "10min", "-o", near])
        #expect(n.status == 0, "\(n.stderr)")
        let nearRows = try csvRows(near).dropFirst()
        #expect(nearRows.count <= 28 && Set(nearRows.map { $0[0] }).count == nearRows.count)
        #expect(nearRows.allSatisfy { Double($0[3])! <= 600 })
        // Distance mode leaves durations empty.
        let dist = folder.appendingPathComponent("d.csv").path
        #expect(try TestSupport.run(klynge, ["matrix", study, "--mode", "distance", "--from", "facilities", "--to", "facilities", "-o", dist]).status == 0)
        let drows = try csvRows(dist).dropFirst()
        #expect(drows.count == 27 * 27 && drows.allSatisfy { $0[3].isEmpty && Double($0[2]) != nil })
        // A facility to itself: out to the road and back (the matrix always goes by road).
        #expect(drows.filter { $0[0] == $0[1] }.allSatisfy { Double($0[2])! > 0 && Double($0[2])! < 500 })
    }

    @Test func matrixWithoutAStudyAndUnattachedPoints() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // Two roads in lon/lat; one point far out at sea.
        let roads = folder.appendingPathComponent("veje.geojson")
        try TestSupport.write("""
        {"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"vej":"A"},"geometry":{"type":"LineString","coordinates":[[10.60,55.85],[10.61,55.85],[10.62,55.85]]}},
        {"type":"Feature","properties":{"vej":"B"},"geometry":{"type":"LineString","coordinates":[[10.62,55.85],[10.62,55.86]]}}]}
        """, to: roads)
        let points = folder.appendingPathComponent("punkter.csv")
        try TestSupport.write("navn,lon,lat\nVest,10.60,55.8501\nNord,10.62,55.8599\nHav,10.40,55.70\n", to: points)
        let out = folder.appendingPathComponent("m.csv").path
        let r = try TestSupport.run(klynge, ["matrix", "--roads", roads.path, "--from", points.path, "--to", points.path,
                                             "--from-id", "navn", "--to-id", "navn", "--mode", "distance", "--assume-crs", "EPSG:4326", "-o", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("Hav") && r.stderr.contains("not attached"))
        #expect(r.stderr.contains("4 with an end not attached") || r.stderr.contains("5 with an end not attached"))
        let rows = try csvRows(out).dropFirst()
        #expect(rows.count == 9)
        let hav = rows.filter { $0[0] == "Hav" || $0[1] == "Hav" }
        #expect(hav.count == 5 && hav.allSatisfy { $0[2].isEmpty && $0[3].isEmpty })
        let vn = try #require(rows.first { $0[0] == "Vest" && $0[1] == "Nord" })
        // About 1.25 km east along A and 1.1 km north along B, plus two short legs.
        #expect(Double(vn[2])! > 2300 && Double(vn[2])! < 2450)
    }

    @Test func badMatrixArgumentsAreRefused() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("m.csv").path
        for args in [["matrix", "--from", "a.csv", "-o", out], ["matrix", study, "-o", folder.appendingPathComponent("m.txt").path],
                     ["matrix", study, "--category", "svømmehal", "-o", out], ["matrix", study, "--mode", "fly", "-o", out],
                     ["matrix", study, "--max-duration", "lang", "-o", out]] {
            let r = try TestSupport.run(klynge, args)
            #expect(r.status != 0 && !r.stderr.isEmpty, "\(args)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test func isochronesAreValidRFC7946() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("iso.geojson").path
        let r = try TestSupport.run(klynge, ["isochrones", study, "--category", "hall", "--minutes", "5,10", "-o", out])
        #expect(r.status == 0, "\(r.stderr)")
        try RFC7946.check(file: out)
        let features = try GeoJSONFile(out).features
        #expect(features.count == 6)  // 3 halls × 2 times
        #expect(features.allSatisfy { (($0["geometry"] as? [String: Any])?["type"] as? String)?.hasSuffix("Polygon") == true })
        let union = folder.appendingPathComponent("union.geojson").path
        #expect(try TestSupport.run(klynge, ["isochrones", study, "--category", "hall", "--minutes", "10", "--union", "-o", union]).status == 0)
        #expect(try GeoJSONFile(union).features.count == 1)
        let walk = try TestSupport.run(klynge, ["isochrones", study, "--mode", "distance", "--minutes", "5", "-o", out])
        #expect(walk.status != 0 && walk.stderr.contains("--meters"))
    }

    @Test func snapReport() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let r = try TestSupport.run(klynge, ["snap", study])
        #expect(r.status == 0 && r.stdout.contains("55 points: 55 attached, 0 not attached"))
        let out = folder.appendingPathComponent("snap.geojson").path
        #expect(try TestSupport.run(klynge, ["snap", study, "--mode", "walk", "-o", out]).status == 0)
        try RFC7946.check(file: out)
        #expect(try GeoJSONFile(out).features.count == 55)
    }
}
