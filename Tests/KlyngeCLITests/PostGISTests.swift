import Foundation
import Testing
import KlyngeTestSupport

/// PostGIS as a source: runs where `make test` could set up a database (KLYNGE_TEST_PG holds its
/// `PG:` string; as root it always can). Loads the sample into it with ogr2ogr, then reads it back.
@Suite(.serialized) struct PostGISTests {
    static let pg = ProcessInfo.processInfo.environment["KLYNGE_TEST_PG"].flatMap { $0.isEmpty ? nil : $0 }
    let klynge = TestSupport.klyngeBinary

    /// Skipped, and shown as skipped, without a database or ogr2ogr.
    @Test(.enabled(if: Self.pg != nil && TestSupport.isAvailable("ogr2ogr"), "needs KLYNGE_TEST_PG (make test sets it up) and ogr2ogr"))
    func inspectAndLoadAStudyFromPostGIS() throws {
        let pg = try #require(Self.pg)
        let load = try TestSupport.run("ogr2ogr", ["-f", "PostgreSQL", pg, TestSupport.data("samsoe/samsoe_sogne.geojson"),
                                                   "-nln", "sogne", "-overwrite", "-lco", "GEOMETRY_NAME=geom"])
        #expect(load.status == 0, "\(load.stderr)")
        let facilities = try TestSupport.run("ogr2ogr", ["-f", "PostgreSQL", pg, TestSupport.data("samsoe/samsoe-osm.gpkg"),
                                                         "facilities", "-nln", "faciliteter", "-overwrite", "-t_srs", "EPSG:25832"])
        #expect(facilities.status == 0, "\(facilities.stderr)")

        let inspect = try TestSupport.run(klynge, ["inspect", pg, "--json"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let layers = (try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as! [String: Any])["layers"] as! [[String: Any]]
        let sogne = try #require(layers.first { $0["name"] as? String == "sogne" })
        #expect(sogne["featureCount"] as? Int == 20 && sogne["crs"] as? String == "EPSG:4326")
        let fac = try #require(layers.first { $0["name"] as? String == "faciliteter" })
        #expect(fac["featureCount"] as? Int == 27 && fac["crs"] as? String == "EPSG:25832")

        // The sample study with two layers from PostGIS: one named in the study, one from --source.
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = try String(contentsOfFile: TestSupport.data("samsoe/study.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "source: samsoe_sogne.geojson", with: "source: \"\(pg)\"\n    layer: sogne")
            .replacingOccurrences(of: "    layer: facilities\n", with: "    layer: faciliteter\n")
            .replacingOccurrences(of: "source: ", with: "source: \(TestSupport.data("samsoe"))/")
            .replacingOccurrences(of: "\(TestSupport.data("samsoe"))/\"PG:", with: "\"PG:")
            .replacingOccurrences(of: "surveys: [survey.yaml]", with: "surveys: [\(TestSupport.data("samsoe"))/survey.yaml]")
        let study = folder.appendingPathComponent("pg.yaml")
        try TestSupport.write(text, to: study)
        let v = try TestSupport.run(klynge, ["validate", study.path, "--source", "facilities=\(pg)"])
        #expect(v.status == 0, "\(v.stdout)\(v.stderr)")
        #expect(v.stdout.contains("read 20, loaded 5") && v.stdout.contains("read 27, loaded 27"))
        let bad = try TestSupport.run(klynge, ["validate", study.path, "--source", "facilities=PG:dbname=findes_ikke password=hemmelig"])
        // Findings go to stderr; the password is masked everywhere.
        #expect(bad.status == 1 && bad.stderr.contains("findes_ikke") && !(bad.stdout + bad.stderr).contains("hemmelig"), "\(bad.stderr)")
    }
}
