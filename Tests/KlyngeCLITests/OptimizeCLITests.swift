import Foundation
import Testing
import KlyngeTestSupport

@Suite(.serialized) struct OptimizeCLITests {
    let klynge = TestSupport.klyngeBinary

    func study(in folder: URL) throws -> String { try TestSupport.sampleStudy(in: folder) }

    func json(_ r: TestSupport.ProcessResult) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    }

    @Test func theSampleEndToEnd() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let s = try study(in: folder)
        // Two halls placed anywhere reach every village within 10 minutes, one reaches fewer.
        let two = try json(TestSupport.run(klynge, ["optimize", s, "--category", "hall", "--objective", "coverage", "--facilities", "2",
                                                     "--candidates", "places", "--json"]))
        let sol = two["solution"] as! [String: Any]
        #expect(sol["value"] as? Double == 2774 && sol["proven"] as? Bool == true)
        let one = try json(TestSupport.run(klynge, ["optimize", s, "--category", "hall", "--objective", "coverage", "--facilities", "1",
                                                     "--candidates", "places", "--json"]))
        #expect(((one["solution"] as! [String: Any])["value"] as! Double) < 2774)
        // Keeping Medborgerhuset: it is in the answer.
        let kept = try json(TestSupport.run(klynge, ["optimize", s, "--category", "hall", "--objective", "median", "--facilities", "2",
                                                      "--keep", "way/413945490", "--exclude", "node/5938809867", "--json"]))
        let ids = (kept["chosen"] as! [[String: Any]]).map { $0["id"] as! String }
        #expect(ids.contains("way/413945490") && !ids.contains("node/5938809867") && ids.count == 2)
        // The sweep: coverage never falls as facilities are added; the chart is drawn.
        let chart = folder.appendingPathComponent("kurve.svg").path
        let sweep = try TestSupport.run(klynge, ["optimize", s, "--category", "hall", "--objective", "coverage", "--candidates", "places",
                                                  "--sweep", "1..4", "--chart", chart, "--json"])
        #expect(sweep.status == 0, "\(sweep.stderr)")
        let rows = (try json(sweep))["sweep"] as! [[String: Any]]
        let values = rows.map { $0["value"] as! Double }
        #expect(values.count == 4 && values == values.sorted())
        #expect(FileManager.default.fileExists(atPath: chart))
    }

    @Test func theAnswerBecomesAScenario() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let s = try study(in: folder)
        let r = try TestSupport.run(klynge, ["optimize", s, "--category", "school", "--objective", "minimum", "--threshold", "8min",
                                             "--save-scenario", "Færre skoler"])
        #expect(r.status == 0, "\(r.stderr)")
        // Saved in the study's one scenario store, which `scenarios list` and the service read too.
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("study.scenarios.gpkg").path))
        let list = try TestSupport.run(klynge, ["scenarios", "list", s])
        #expect(list.status == 0 && list.stdout.contains("faerre-skoler") && list.stdout.contains("Færre skoler"), "\(list.stdout)\(list.stderr)")
        let cmp = try TestSupport.run(klynge, ["compare", s, "--scenario", "Færre skoler", "--category", "school"])
        #expect(cmp.status == 0 && cmp.stdout.contains("0 villages lose coverage"), "\(cmp.stdout)\(cmp.stderr)")
        let map = folder.appendingPathComponent("m.png").path
        let render = try TestSupport.run(klynge, ["render", s, "--style", "scenario", "--styles", TestSupport.packageRoot.appendingPathComponent("styles").path,
                                                  "--scenario", "Færre skoler", "--category", "school", "--dpi", "72", "-o", map])
        #expect(render.status == 0, "\(render.stderr)")
    }

    @Test func impossibleRequestsFailClearly() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let s = try study(in: folder)
        let cases: [([String], String)] = [
            (["--objective", "median", "--facilities", "1", "--keep", "way/413945490,node/5938809867"], "smaller than the 2 facilities"),
            (["--objective", "minimum", "--threshold", "1min"], "have no candidate site within the threshold"),
            (["--objective", "coverage", "--facilities", "2", "--keep", "way/0"], "no candidate site has the id `way/0`"),
            (["--objective", "median"], "needs --facilities"),
            (["--objective", "coverage", "--facilities", "9"], "only 3 candidate sites"),
        ]
        for (args, message) in cases {
            let r = try TestSupport.run(klynge, ["optimize", s, "--category", "hall"] + args + ["--save-scenario", "x"])
            #expect(r.status != 0 && r.stderr.contains(message), "\(args): \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("study.scenarios.gpkg").path))
    }
}
