import Foundation
import Testing
import KlyngeTestSupport

/// The command line against bad input, reproduced case by case: a clear message on stderr, exit status 1, and
/// no file left behind or changed.
@Suite(.serialized) struct BadInputCLITests {
    let klynge = TestSupport.klyngeBinary

    /// The sample study copied into a temporary folder, its text changed by `edit`.
    func sample(_ edit: (String) -> String = { $0 }) throws -> (folder: URL, study: String) {
        let folder = try TestSupport.temporaryFolder()
        for name in ["samsoe-osm.gpkg", "samsoe_sogne.geojson", "land.geojson", "survey.yaml", "erhverv.geojson", "plan-skitser.geojson"] {
            try FileManager.default.copyItem(atPath: TestSupport.data("samsoe/\(name)"), toPath: folder.appendingPathComponent(name).path)
        }
        // The locator outline stays where it is (read, never written).
        let text = try String(contentsOfFile: TestSupport.data("samsoe/study.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "source: ../denmark/", with: "source: \(TestSupport.data("denmark"))/")
        let path = folder.appendingPathComponent("study.yaml")
        try TestSupport.write(edit(text), to: path)
        return (folder, path.path)
    }

    func files(_ folder: URL) -> [String: Data] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return Dictionary(uniqueKeysWithValues: names.map { ($0, (try? Data(contentsOf: folder.appendingPathComponent($0))) ?? Data()) })
    }

    /// Deliberate mistakes in every part beyond the layers: validate lists each by key path, and report refuses them
    /// before writing anything.
    @Test func validateFindsWhatReportWouldRefuse() throws {
        let (folder, study) = try sample { s in
            var t = s.replacingOccurrences(of: "  hall:     { minutes: 10, mode: car }", with: """
              hall:     { minutes: 10, mode: plane }
              pool:     { minutes: 5 }
              doctor:   { minutes: 10, km: 3 }
              school:   { minutes: 15, mode: distance }
            """).replacingOccurrences(of: "  school:   { minutes: 15, mode: car }\n", with: "")
            t = t.replacingOccurrences(of: "hubs: { Nordøen: Nordby,", with: "hubs: { Nordøen: Atlantis, Vestøen: Nordby,")
            t = t.replacingOccurrences(of: "\"7243\": Sydøen }", with: "\"7243\": Sydøen, \"9999\": Sydøen }")
            t = t.replacingOccurrences(of: "close: [node/5938809867]", with: "close: [node/nothere]")
            t = t.replacingOccurrences(of: "at: Nordby, capacity: 120", with: "at: Gotham, capacity: 120")
            t = t.replacingOccurrences(of: "attribution:", with: "  - name: Én skole\n    close: [way/106619916]\n  - name: Tom\n    description: changes nothing\n\nattribution:")
            return t
        }
        defer { try? FileManager.default.removeItem(at: folder) }
        let v = try TestSupport.run(klynge, ["validate", study])
        #expect(v.status == 1)
        #expect(!v.stdout.contains("error:"), "findings belong on stderr")
        for key in ["coverage.pool", "coverage.hall.mode", "coverage.doctor", "coverage.school", "scenarios[0]", "scenarios[1]",
                    "scenarios[3].name", "scenarios[4]", "clusters.assignments.9999", "clusters.hubs.Nordøen", "clusters.hubs.Vestøen"] {
            #expect(v.stderr.contains("key \(key):"), "\(key) missing in:\n\(v.stderr)")
        }
        let out = folder.appendingPathComponent("out")
        let r = try TestSupport.run(klynge, ["report", study, "--out-dir", out.path])
        #expect(r.status == 1)
        #expect(files(out).isEmpty)
    }

    /// A report that fails after the analysis (a hub that is no village) leaves the previous report as it was.
    @Test func aFailedReportChangesNothing() throws {
        let (folder, study) = try sample()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("out")
        #expect(try TestSupport.run(klynge, ["report", study, "--out-dir", out.path]).status == 0)
        let before = files(out)
        #expect(before.count == 13 && before["report-files.txt"] != nil)
        let bad = try String(contentsOfFile: study, encoding: .utf8).replacingOccurrences(of: "Sydøen: Kolby", with: "Sydøen: Atlantis")
        try TestSupport.write(bad, to: URL(fileURLWithPath: study))
        let r = try TestSupport.run(klynge, ["report", study, "--out-dir", out.path])
        #expect(r.status == 1 && r.stderr.contains("Atlantis"))
        #expect(files(out) == before)
    }

    /// Temporaries of a killed run are removed by the next run; a live process's are not.
    @Test func staleTemporariesAreRemovedSafely() throws {
        let (folder, study) = try sample()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A pid far above pid_max is no running process; our own is.
        let dead = ".areas.klynge-tmp-99999999-deadbeef.gpkg"
        let deadJournal = dead + "-journal"
        let stagedDead = ".report.klynge-tmp-99999999-cafe0000"
        let live = ".areas.klynge-tmp-\(getpid())-0badf00d.gpkg"
        for name in [dead, deadJournal, live] { try TestSupport.write("x", to: folder.appendingPathComponent(name)) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent(stagedDead), withIntermediateDirectories: false)
        let r = try TestSupport.run(klynge, ["export", study, "--layer", "areas", "-o", folder.appendingPathComponent("areas.gpkg").path])
        #expect(r.status == 0, "\(r.stderr)")
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
        #expect(!names.contains(dead) && !names.contains(deadJournal) && !names.contains(stagedDead))
        #expect(names.contains(live) && names.contains("areas.gpkg"))
    }

    /// A working CRS that distorts distances is refused, naming the zone to use, with no PROJ chatter on stderr.
    @Test func aDistortingCRSIsRefused() throws {
        let (folder, study) = try sample { $0.replacingOccurrences(of: "crs: EPSG:25832", with: "crs: EPSG:3857") }
        defer { try? FileManager.default.removeItem(at: folder) }
        for command in [["validate", study], ["coverage", study], ["report", study, "--out-dir", folder.appendingPathComponent("out").path]] {
            let r = try TestSupport.run(klynge, command)
            #expect(r.status == 1)
            #expect(r.stderr.contains("EPSG:25832") && r.stderr.contains("study.yaml"), "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "one line, no PROJ log: \(r.stderr)")
        }
    }

    @Test func emptyAndMalformedStudiesAreDescribedInWords() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for (text, expected) in [("", "is empty"), ("- a\n- b\n", "must be a set of keys"), ("name: x\ncategories: 5\n", "`categories` should be an object"),
                                 ("name: [x\n", "not valid YAML")] {
            let path = folder.appendingPathComponent("s.yaml")
            try TestSupport.write(text, to: path)
            let r = try TestSupport.run(klynge, ["validate", path.path])
            #expect(r.status == 1)
            #expect(r.stderr.contains(expected), "\(text): \(r.stderr)")
            #expect(!r.stderr.contains("Expected to decode") && !r.stderr.contains("Node"), "\(r.stderr)")
        }
    }

    /// Whether a tiny filesystem can be mounted here (root, outside a locked-down container).
    static let canMountTmpfs: Bool = {
        guard getuid() == 0, let folder = try? TestSupport.temporaryFolder() else { return false }
        defer { try? FileManager.default.removeItem(at: folder) }
        guard (try? TestSupport.run("mount", ["-t", "tmpfs", "-o", "size=16k", "tmpfs", folder.path]))?.status == 0 else { return false }
        _ = try? TestSupport.run("umount", [folder.path])
        return true
    }()

    /// A full disk is named as such, from GDAL's writer, the text writer and the matrix, and leaves no file.
    @Test(.enabled(if: Self.canMountTmpfs, "needs root to mount a tiny tmpfs"))
    func aFullDiskIsNamedAndLeavesNothing() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let tiny = folder.appendingPathComponent("tiny")
        try FileManager.default.createDirectory(at: tiny, withIntermediateDirectories: false)
        #expect(try TestSupport.run("mount", ["-t", "tmpfs", "-o", "size=16k", "tmpfs", tiny.path]).status == 0)
        defer { _ = try? TestSupport.run("umount", [tiny.path]) }
        let study = TestSupport.data("samsoe/study.yaml")
        for args in [["export", study, "--layer", "roads", "-o", tiny.appendingPathComponent("roads.geojson").path],
                     ["export", study, "--layer", "roads", "-o", tiny.appendingPathComponent("roads.gpkg").path],
                     ["matrix", study, "--from", "demand", "--to", "demand", "-o", tiny.appendingPathComponent("m.csv").path]] {
            let r = try TestSupport.run(klynge, args)
            #expect(r.status == 1 && r.stderr.contains("the disk is full"), "\(args[0]): \(r.stderr)")
            #expect(!r.stderr.contains("no such table") && !r.stderr.contains("640") && !r.stderr.contains("Cocoa"), "\(r.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: tiny.path).isEmpty)
        }
    }

    static let unsortedOSM = """
    <?xml version="1.0" encoding="UTF-8"?>
    <osm version="0.6" generator="JOSM">
      <node id="-5" lat="55.90" lon="10.60" version="1"/>
      <node id="300" lat="55.91" lon="10.61" version="1"/>
      <node id="100" lat="55.92" lon="10.62" version="1"/>
      <node id="200" lat="55.93" lon="10.63" version="1">
        <tag k="place" v="village"/><tag k="name" v="Testby"/><tag k="population" v="120"/>
      </node>
      <node id="50" lat="55.905" lon="10.605" version="1">
        <tag k="amenity" v="community_centre"/><tag k="name" v="Huset"/>
      </node>
      <way id="10" version="1"><nd ref="300"/><nd ref="100"/><nd ref="-5"/><tag k="highway" v="residential"/></way>
      <way id="5" version="1"><nd ref="100"/><nd ref="200"/><tag k="highway" v="tertiary"/></way>
    </osm>
    """

    /// JOSM and Overpass exports: node ids out of order (and negative), gzipped too.
    @Test func osmExtractsWithUnsortedNodeIdsImport() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let osm = folder.appendingPathComponent("josm.osm")
        try TestSupport.write(Self.unsortedOSM, to: osm)
        #expect(try TestSupport.run("gzip", ["-k", osm.path]).status == 0)
        for input in [osm.path, osm.path + ".gz"] {
            let i = try TestSupport.run(klynge, ["inspect", input, "--json"])
            #expect(i.status == 0, "\(i.stderr)")
            let layers = try JSONSerialization.jsonObject(with: Data(i.stdout.utf8)) as! [String: Any]
            let counts = Dictionary(uniqueKeysWithValues: (layers["layers"] as! [[String: Any]]).map { ($0["name"] as! String, $0["featureCount"] as! Int) })
            #expect(counts["points"] == 2 && counts["lines"] == 2, "\(counts)")
            let out = folder.appendingPathComponent("out.gpkg").path
            let r = try TestSupport.run(klynge, ["import-osm", input, "-o", out])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("roads: 2") && r.stdout.contains("places: 1") && r.stdout.contains("facilities: 1"), "\(r.stdout)")
        }
    }

    /// An extract with no roads is refused and replaces nothing, unless asked for.
    @Test func anExtractWithoutRoadsIsRefused() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let osm = folder.appendingPathComponent("noroads.osm")
        try TestSupport.write(Self.unsortedOSM.split(separator: "\n").filter { !$0.contains("highway") }.joined(separator: "\n"), to: osm)
        let out = folder.appendingPathComponent("out.gpkg")
        try TestSupport.write("previous", to: out)
        let r = try TestSupport.run(klynge, ["import-osm", osm.path, "-o", out.path])
        #expect(r.status == 1 && r.stderr.contains("no roads") && r.stderr.contains("--allow-empty"), "\(r.stderr)")
        #expect(try String(contentsOf: out, encoding: .utf8) == "previous")
        let allowed = try TestSupport.run(klynge, ["import-osm", osm.path, "-o", out.path, "--allow-empty"])
        #expect(allowed.status == 0 && allowed.stdout.contains("roads: 0") && allowed.stderr.contains("no roads"), "\(allowed.stderr)")
    }
}
