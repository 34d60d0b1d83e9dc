import Foundation
import Testing
import KlyngeTestSupport

/// `klynge survey` on the sample: QR codes read back by an independent decoder (zbar), paper answers imported
/// all or nothing, results and exports that agree with what was imported, and bad survey files named.
@Suite(.serialized) struct SurveyCLITests {
    let klynge = TestSupport.klyngeBinary
    let study = TestSupport.data("samsoe/study.yaml")

    @Test func qrCodesReadBackAsTheAddress() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = "https://klynge.samsoe.dk/survey/samsoe-2027/?kilde=plakat&æøå=1"
        for ext in ["png", "pdf", "svg"] {
            let out = folder.appendingPathComponent("qr.\(ext)").path
            let r = try TestSupport.run(klynge, ["survey", "qr", study, "--url", url, "-o", out])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(FileManager.default.fileExists(atPath: out))
        }
        let png = folder.appendingPathComponent("qr.png").path
        // PNG: whole pixels per module at 300 dpi, and pHYs says so.
        #expect(TestSupport.isAvailable("zbarimg"), "zbar-tools is installed by scripts/install-deps.sh")
        if TestSupport.isAvailable("zbarimg") {
            let z = try TestSupport.run("zbarimg", ["--raw", "-q", png])
            // Non-ASCII is percent-encoded (URLs are ASCII; every phone's scanner reads that alike).
            let ascii = "https://klynge.samsoe.dk/survey/samsoe-2027/?kilde=plakat&%C3%A6%C3%B8%C3%A5=1"
            #expect(z.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == ascii, "zbar read: \(z.stdout)")
        }
        let svg = try String(contentsOfFile: folder.appendingPathComponent("qr.svg").path, encoding: .utf8)
        #expect(svg.contains("<text") && svg.contains("kilde=plakat&amp;æøå=1"), "the address is printed, as written, under the code")
        let pdf = try Data(contentsOf: folder.appendingPathComponent("qr.pdf"))
        #expect(pdf.starts(with: Data("%PDF".utf8)))
    }

    @Test func badQRRequestsAreRefused() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("qr.png").path
        for (args, words) in [(["--url", "javascript:alert(1)"], "--url must be an http or https address"),
                              (["--url", "https://x.dk/survey/samsoe-2027/", "--size-mm", "nan"], "--size-mm"),
                              (["--url", "https://x.dk/survey/samsoe-2027/", "--correction", "Z"], "--correction"),
                              (["--url", "https://x.dk/" + String(repeating: "a", count: 4000)], "too long for a QR code")] {
            let r = try TestSupport.run(klynge, ["survey", "qr", study, "-o", out] + args)
            #expect(r.status != 0 && r.stderr.contains(words), "\(args): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }

    @Test func paperAnswersAreImportedAllOrNothingAndReported() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = folder.appendingPathComponent("store.gpkg").path
        let good = [
            #"{"consent": true, "age_confirmed": true, "answers": {"bopael": "node/449179220", "alder": "67-plus", "forsamlingshus": {"facility": "way/413945490", "frequency": "weekly", "mode": "car"}}}"#,
            #"{"consent": true, "age_confirmed": true, "answers": {"bopael": "node/449179220", "alder": "30-49", "ideer": "<b>Mere fællesspisning</b>", "steder": [{"lon": 10.6, "lat": 55.9, "kind": "wish", "text": "Bænk"}]}}"#,
        ]
        let bad = #"{"consent": true, "age_confirmed": true, "answers": {"bopael": "node/0"}}"#
        let mixed = folder.appendingPathComponent("mixed.jsonl")
        try TestSupport.write((good + [bad]).joined(separator: "\n") + "\n", to: mixed)
        let refused = try TestSupport.run(klynge, ["survey", "import", study, "--store", store, mixed.path])
        #expect(refused.status == 1 && refused.stderr.contains("line 3") && refused.stderr.contains("bopael")
                && refused.stderr.contains("nothing was imported"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: store), "nothing written")

        let file = folder.appendingPathComponent("paper.jsonl")
        try TestSupport.write(good.joined(separator: "\n") + "\n", to: file)
        let imported = try TestSupport.run(klynge, ["survey", "import", study, "--store", store, file.path])
        #expect(imported.status == 0, "\(imported.stderr)")

        let results = try TestSupport.run(klynge, ["survey", "results", study, "--store", store, "--json"])
        #expect(results.status == 0, "\(results.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(results.stdout.utf8)) as? [String: Any])
        #expect(json["respondents"] as? Int == 2 && json["paper"] as? Int == 2)
        let villages = try #require(json["byVillage"] as? [[String: Any]])
        let home = try #require(villages.first { $0["id"] as? String == "node/449179220" })
        // Two answers in one village: below the minimum group of 5, so withheld (null, not a number).
        #expect(home["suppressed"] as? Bool == true && home["respondents"] is NSNull)

        // Users affected: the Medborgerhus stays in "Ét forsamlingshus i Tranebjerg", so no answer is affected there.
        let cov = try TestSupport.run(klynge, ["coverage", study, "--store", store, "--scenario", "Ét forsamlingshus i Tranebjerg", "--category", "hall",
                                               "--survey", "samsoe-2027", "--json"])
        #expect(cov.status == 0, "\(cov.stderr)")
        let users = try #require(((try JSONSerialization.jsonObject(with: Data(cov.stdout.utf8)) as? [String: Any])?["usersAffected"] as? [[String: Any]])?.first)
        #expect(users["affected"] as? Int == 0 && users["respondents"] as? Int == 1, "\(users)")
        let noScenario = try TestSupport.run(klynge, ["coverage", study, "--store", store, "--survey", "samsoe-2027"])
        #expect(noScenario.status != 0 && noScenario.stderr.contains("--scenario"), "\(noScenario.stderr)")
        let md = folder.appendingPathComponent("results.md").path
        let r2 = try TestSupport.run(klynge, ["survey", "results", study, "--store", store, "-o", md])
        #expect(r2.status == 0, "\(r2.stderr)")
        let text = try String(contentsOfFile: md, encoding: .utf8)
        #expect(text.contains("&lt;b&gt;Mere fællesspisning&lt;/b&gt;") && !text.contains("<b>"), "markup in answers is shown, not interpreted")

        let gpkg = folder.appendingPathComponent("answers.gpkg").path
        let e = try TestSupport.run(klynge, ["survey", "export", study, "--store", store, "-o", gpkg])
        #expect(e.status == 0, "\(e.stderr)")
        if TestSupport.isAvailable("ogrinfo") {
            let info = try TestSupport.run("ogrinfo", ["-ro", "-so", "-al", gpkg])
            #expect(info.stdout.contains("Layer name: responses") && info.stdout.contains("Feature Count: 2"), "\(info.stdout)")
            #expect(info.stdout.contains("Layer name: pins"))
        }
        // The survey map: flows from the home village to the hall used, and the paper answer's pin.
        let map = folder.appendingPathComponent("survey.png").path, styled = folder.appendingPathComponent("survey.geojson").path
        let m = try TestSupport.run(klynge, ["render", study, "--style", "survey", "--styles", TestSupport.packageRoot.appendingPathComponent("styles").path,
                                             "--category", "hall", "--store", store, "--dpi", "72", "-o", map, "--geojson", styled])
        #expect(m.status == 0, "\(m.stderr)")
        let features = try #require((try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: styled))) as? [String: Any])?["features"] as? [[String: Any]])
        let flows = features.filter { ($0["properties"] as? [String: Any])?["klynge_layer"] as? String == "flows-few" }
        #expect(flows.count == 1, "one village → hall pair with one answer, drawn without its count")
        let csv = folder.appendingPathComponent("answers.csv").path
        let c = try TestSupport.run(klynge, ["survey", "export", study, "--store", store, "-o", csv])
        #expect(c.status == 0, "\(c.stderr)")
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3 && lines[0].contains("forsamlingshus_facility"))
    }

    @Test func aBadSurveyFileStopsValidateAndServeNamingTheQuestion() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let survey = try String(contentsOfFile: TestSupport.data("samsoe/survey.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "category: shop", with: "category: bakery")
        try TestSupport.write(survey, to: folder.appendingPathComponent("survey.yaml"))
        let text = try String(contentsOfFile: study, encoding: .utf8)
            .replacingOccurrences(of: "source: ", with: "source: \(TestSupport.data("samsoe"))/")
            .replacingOccurrences(of: "surveys: [survey.yaml]", with: "surveys: [\(folder.path)/survey.yaml]")
        let path = folder.appendingPathComponent("study.yaml")
        try TestSupport.write(text, to: path)
        let v = try TestSupport.run(klynge, ["validate", path.path])
        let said = v.stdout + v.stderr
        #expect(v.status == 1 && said.contains("question `butik`") && said.contains("no facility category `bakery`"), "\(said)")
        let c = try TestSupport.run(klynge, ["survey", "check", path.path])
        #expect(c.status == 1 && c.stderr.contains("question `butik`"), "\(c.stderr)")
        let s = try TestSupport.run(klynge, ["serve", path.path, "--port", "19477"])
        #expect(s.status == 1 && s.stderr.contains("question `butik`"), "\(s.stderr)")
    }
}
