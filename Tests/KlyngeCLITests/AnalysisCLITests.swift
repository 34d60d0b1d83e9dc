import Foundation
import Testing
import KlyngeTestSupport

@Suite(.serialized) struct AnalysisCLITests {
    let klynge = TestSupport.klyngeBinary
    let study = TestSupport.data("samsoe/study.yaml")

    /// The sample study with its scenarios replaced, in a temporary folder.
    func studyWith(scenarios: String, in folder: URL) throws -> String {
        var text = try String(contentsOfFile: study, encoding: .utf8)
        text = String(text[..<text.range(of: "scenarios:")!.lowerBound]) + "scenarios:\n" + scenarios
        text = text.replacingOccurrences(of: "source: ", with: "source: \(TestSupport.data("samsoe"))/")
        let path = folder.appendingPathComponent("study.yaml")
        try TestSupport.write(text, to: path)
        return path.path
    }

    @Test func badScenariosAreRefusedAndNothingIsWritten() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cases: [(String, String)] = [
            ("  - { name: X, close: [way/0] }\n", "no facility has the id `way/0`"),
            ("  - { name: X, open: [{ name: \"\", categories: [hall], at: Nordby }] }\n", "empty name"),
            ("  - { name: X, open: [{ name: I havet, categories: [hall], lonlat: [10.9, 55.9] }] }\n", "outside the study area"),
            ("  - { name: X, open: [{ name: Y, categories: [hall], at: Atlantis }] }\n", "no village or area is called `Atlantis`"),
            ("  - { name: X, open: [{ name: Y, categories: [svømmehal], at: Nordby }] }\n", "not defined by the study"),
            ("  - { name: X, close: [way/413945490] }\n  - { name: X, close: [way/463402465] }\n", "two scenarios have this name"),
            ("  - { name: X }\n", "changes nothing"),
        ]
        for (scenario, message) in cases {
            let path = try studyWith(scenarios: scenario, in: folder)
            let out = folder.appendingPathComponent("out")
            let r = try TestSupport.run(klynge, ["report", path, "--out-dir", out.path])
            #expect(r.status != 0, "\(scenario)")
            #expect(r.stderr.contains(message), "\(scenario): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out.path))
        }
    }

    @Test func coverageCompareImpactAndClusters() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cov = try TestSupport.run(klynge, ["coverage", study, "--category", "hall", "--json"])
        #expect(cov.status == 0, "\(cov.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(cov.stdout.utf8)) as! [String: Any]
        let cats = json["categories"] as! [[String: Any]]
        #expect(cats.count == 1 && cats[0]["category"] as? String == "hall" && cats[0]["openFacilities"] as? Int == 3)
        #expect((json["areas"] as! [[String: Any]]).count == 5 && (json["points"] as! [[String: Any]]).count == 28)
        let geo = folder.appendingPathComponent("cov.geojson").path
        #expect(try TestSupport.run(klynge, ["coverage", study, "--scenario", "Multihus i Nordby", "-o", geo]).status == 0)
        try RFC7946.check(file: geo)
        #expect(try GeoJSONFile(geo).features.count == 5 + 28)

        // Opening a multi-house in Nordby: exactly the four northern villages gain hall coverage.
        let cmp = try TestSupport.run(klynge, ["compare", study, "--scenario", "Multihus i Nordby", "--category", "hall", "--json"])
        #expect(cmp.status == 0, "\(cmp.stderr)")
        let c = (try JSONSerialization.jsonObject(with: Data(cmp.stdout.utf8)) as! [String: Any])["Multihus i Nordby"] as! [String: Any]
        let hall = (c["categories"] as! [[String: Any]])[0]
        #expect(((hall["gaining"] as! [[String: Any]]).map { $0["name"] as! String }).sorted() == ["Langør", "Mårup", "Mårup Havn", "Nordby"])
        #expect((hall["losing"] as! [[String: Any]]).isEmpty)
        let cmpGeo = folder.appendingPathComponent("cmp.geojson").path
        #expect(try TestSupport.run(klynge, ["compare", study, "--scenario", "Én skole", "-o", cmpGeo]).status == 0)
        try RFC7946.check(file: cmpGeo)
        let props = try GeoJSONFile(cmpGeo).features.map { $0["properties"] as! [String: Any] }
        #expect(props.contains { $0["school_delta"] as? Double ?? 0 > 10 })  // Nordby's children go to Tranebjerg

        let impact = try TestSupport.run(klynge, ["impact", study, "--category", "shop", "--json"])
        #expect(impact.status == 0)
        let list = try JSONSerialization.jsonObject(with: Data(impact.stdout.utf8)) as! [[String: Any]]
        #expect(list.count == 5)
        #expect((list.map { $0["populationLosingCoverage"] as! Double }) == (list.map { $0["populationLosingCoverage"] as! Double }).sorted())

        let clusters = try TestSupport.run(klynge, ["clusters", study, "--json", "-o", folder.appendingPathComponent("cl.geojson").path])
        #expect(clusters.status == 0, "\(clusters.stderr)")
        let cl = (try JSONSerialization.jsonObject(with: Data(clusters.stdout.utf8)) as! [String: Any])["clusters"] as! [[String: Any]]
        #expect(cl.map { $0["name"] as! String } == ["Midtøen", "Nordøen", "Sydøen"])
        #expect(cl.map { $0["population"] as! Double }.reduce(0, +) == 2774)
        #expect(cl.map { $0["hub"] as? String } == ["Tranebjerg", "Nordby", "Kolby"])
        try RFC7946.check(file: folder.appendingPathComponent("cl.geojson").path)
        // Each cluster's hall access is its villages' 2SFCA (from `coverage --json`) weighted by their people.
        let hallCoverage = try JSONSerialization.jsonObject(with: Data(try TestSupport.run(klynge, ["coverage", study, "--json", "--category", "hall"]).stdout.utf8)) as! [String: Any]
        var ratio: [String: (Double, Double)] = [:]
        for p in hallCoverage["points"] as! [[String: Any]] {
            let w = p["population"] as! Double, c = (p["categories"] as! [[String: Any]])[0]
            ratio[p["demandId"] as! String] = (w, c["accessPer1000"] as? Double ?? 0)
        }
        for c in cl {
            let villages = (c["villages"] as! [[String: Any]]).map { ratio[$0["id"] as! String]! }
            let want = villages.reduce(0) { $0 + $1.0 * $1.1 } / villages.reduce(0) { $0 + $1.0 }
            let hall = (c["categories"] as! [[String: Any]]).first { $0["category"] as? String == "hall" }!
            #expect(abs((hall["accessPer1000"] as? Double ?? -1) - want) < 1e-5, "\(c["name"]!): \(hall) vs \(want)")
        }
    }

    @Test func clustersFromASeparateTable() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try TestSupport.write("sogn;klynge\n7244;Nord\n7241;Nord\n7240;Midt\n7242;Midt\n7243;Syd\n", to: folder.appendingPathComponent("klynger.csv"))
        var text = try String(contentsOfFile: study, encoding: .utf8)
            .replacingOccurrences(of: "source: ", with: "source: \(TestSupport.data("samsoe"))/")
            .replacingOccurrences(of: "surveys: [survey.yaml]", with: "surveys: [\(TestSupport.data("samsoe"))/survey.yaml]")
        let start = text.range(of: "  assignments:")!.lowerBound, end = text.range(of: "  candidate_minutes:")!.lowerBound
        text.replaceSubrange(start..<end, with: "  source: \(folder.path)/klynger.csv\n  fields: { area: sogn, cluster: klynge }\n")
        let path = folder.appendingPathComponent("study.yaml")
        try TestSupport.write(text, to: path)
        let r = try TestSupport.run(klynge, ["clusters", path.path, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let cl = (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any])["clusters"] as! [[String: Any]]
        #expect(cl.map { $0["name"] as! String } == ["Midt", "Nord", "Syd"])
        #expect(cl.map { $0["hub"] as? String } == ["Tranebjerg", "Nordby", "Kolby Kås"])  // most populous by default
        // A row naming an area the study does not have is an error.
        try TestSupport.write("sogn;klynge\n9999;Nord\n", to: folder.appendingPathComponent("klynger.csv"))
        let bad = try TestSupport.run(klynge, ["clusters", path.path])
        #expect(bad.status == 1 && bad.stderr.contains("feature 9999") && bad.stderr.contains("no area has this id"))
    }

    @Test func theMainJobWritesItsResults() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let r = try TestSupport.run(klynge, ["report", study, "--out-dir", folder.path])
        #expect(r.status == 0, "\(r.stderr)")
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
        for f in ["coverage.json", "coverage.geojson", "impact.json", "clusters.geojson", "clusters.json", "summary.md",
                  "compare-Multihus-i-Nordby.geojson", "compare-Multihus-i-Nordby.json"] {
            #expect(files.contains(f), "\(f) missing: \(files.sorted())")
        }
        let summary = try String(contentsOfFile: folder.appendingPathComponent("summary.md").path, encoding: .utf8)
        #expect(summary.contains("Dækning i dag") && summary.contains("Forsamlingshus") && summary.contains("2.774"))
        let en = try TestSupport.run(klynge, ["report", study, "--out-dir", folder.path, "--lang", "en"])
        #expect(en.status == 0 && en.stdout.contains("Coverage today") && en.stdout.contains("2,774"))
    }
}
