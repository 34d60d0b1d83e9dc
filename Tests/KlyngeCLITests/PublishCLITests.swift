import Foundation
import Testing
import KlyngeTestSupport

/// `klynge publish`: the site and the PDF written together, chapters only where the study has their data, bad
/// fact layers refused with nothing written, and a folder of other files never replaced.
/// (scripts/check_publish.py holds every figure to the JSON outputs and checks the site in Chromium with axe.)
@Suite(.serialized) struct PublishCLITests {
    let klynge = TestSupport.klyngeBinary

    func pdfPages(_ path: String) throws -> Int {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let text = String(decoding: data, as: UTF8.self)
        return text.matches(of: /\/Type\s*\/Page[^s]/).count
    }

    func files(_ folder: URL) -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
    }

    /// The sample without clusters, scenarios, surveys, facts or plan.
    func bareStudy(in folder: URL, name: String) throws -> String {
        let path = try TestSupport.sampleStudy(in: folder)
        var text = try String(contentsOfFile: path, encoding: .utf8)
        let clusters = text.range(of: "# Illustrative clusters")!, attribution = text.range(of: "attribution:")!
        text.removeSubrange(clusters.lowerBound..<attribution.lowerBound)
        text = String(text[..<text.range(of: "# The demonstration citizen survey")!.lowerBound])
        text = text.replacingOccurrences(of: "name: Samsø\n", with: "name: \"\(name)\"\n")
        try TestSupport.write(text, to: URL(fileURLWithPath: path))
        return path
    }

    @Test func theSamplePublishesEveryChapterAsSiteAndPDF() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let study = try TestSupport.sampleStudy(in: folder)
        let site = folder.appendingPathComponent("plan"), pdf = folder.appendingPathComponent("plan.pdf")
        let r = try TestSupport.run(klynge, ["publish", study, "-o", site.path, "-o", pdf.path])
        #expect(r.status == 0, "\(r.stderr)")
        // No survey answers are stored beside this copy, and no proposals: five chapters.
        let pages = ["index.html", "1-klyngen.html", "2-service.html", "3-scenarier.html", "4-geografi.html", "5-masterplan.html"]
        #expect(files(site).isSuperset(of: Set(pages + ["plan.css", "plan.pdf", "maps", "klynge-site.txt"])), "\(files(site))")
        #expect(!files(site).contains { $0.contains("borgerne") }, "no survey answers: no survey chapter")
        let masterplan = try String(contentsOf: site.appendingPathComponent("5-masterplan.html"), encoding: .utf8)
        #expect(masterplan.contains("Et samlingssted i hver klynge") && masterplan.contains("Cykelsti Tranebjerg–Onsbjerg"))
        #expect(masterplan.contains("<img src=\"maps/") && masterplan.contains("alt=\"Masterplankort"))
        // Every page is plain HTML with a CSP and no script.
        for p in pages {
            let html = try String(contentsOf: site.appendingPathComponent(p), encoding: .utf8)
            #expect(html.contains("Content-Security-Policy") && !html.contains("<script"), "\(p)")
            #expect(html.contains("<html lang=\"da\">"))
        }
        // The PDF: A4, the same as the copy in the site, a cover, the contents and each chapter from a new page.
        let n = try pdfPages(pdf.path)
        #expect(n >= 2 + 5, "pages: \(n)")
        #expect(try Data(contentsOf: pdf) == Data(contentsOf: site.appendingPathComponent("plan.pdf")))
        if TestSupport.isAvailable("pdfinfo") {
            let info = try TestSupport.run("pdfinfo", [pdf.path]).stdout
            #expect(info.contains("595.276 x 841.89 pts (A4)") || info.contains("595.28 x 841.89 pts (A4)"), "\(info)")
            #expect(info.contains("Pages:          \(n)") || info.contains("Pages: \(n)") || info.contains(" \(n)\n"), "\(info)")
        }
        if TestSupport.isAvailable("pdftotext") {
            let text = try TestSupport.run("pdftotext", ["-f", "2", "-l", "2", pdf.path, "-"]).stdout
            for title in ["Indhold", "Klyngen og dens byer", "Mødesteder og service i dag", "Scenarierne og den valgte plan", "Klyngens geografi", "Idékatalog og masterplan"] {
                #expect(text.contains(title), "contents page lacks \(title): \(text)")
            }
            let last = try TestSupport.run("pdftotext", ["-f", "\(n)", "-l", "\(n)", pdf.path, "-"]).stdout
            #expect(last.contains("Side \(n) af \(n)"), "the last page's footer: \(last)")
        }
        // Published again (in English) over the same folder: replaced as a whole, an old extra file gone.
        try TestSupport.write("old", to: site.appendingPathComponent("old-page.html"))
        let again = try TestSupport.run(klynge, ["publish", study, "--lang", "en", "-o", site.path])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(!files(site).contains("old-page.html") && !files(site).contains("plan.pdf"))
        let index = try String(contentsOf: site.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(index.contains("<html lang=\"en\">") && index.contains("Contents"))
        #expect(!files(folder).contains { $0.contains("klynge-tmp") }, "no temporaries left: \(files(folder))")
    }

    @Test func aBareStudyPublishesWithoutTheChaptersItHasNoDataFor() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let study = try bareStudy(in: folder, name: "Øen <script>alert(1)</script> & co")
        let site = folder.appendingPathComponent("site"), pdf = folder.appendingPathComponent("bare.pdf")
        let r = try TestSupport.run(klynge, ["publish", study, "-o", site.path, "-o", pdf.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Set(files(site).filter { $0.hasSuffix(".html") }) == Set(["index.html", "1-klyngen.html", "2-service.html"]), "\(files(site))")
        #expect(try pdfPages(pdf.path) >= 4)
        for p in ["index.html", "1-klyngen.html"] {
            let html = try String(contentsOf: site.appendingPathComponent(p), encoding: .utf8)
            #expect(!html.contains("<script>alert") && html.contains("Øen &lt;script&gt;alert(1)&lt;/script&gt; &amp; co"), "\(p) escapes the name")
        }
        let first = try String(contentsOf: site.appendingPathComponent("1-klyngen.html"), encoding: .utf8)
        #expect(first.contains("ingen faktalag"), "the data picture says there are no fact layers rather than inventing any")
    }

    @Test func aBadFactsLayerIsNamedAndNothingIsWritten() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cases: [(edit: (String) -> String, words: [String])] = [
            ({ $0.replacingOccurrences(of: "{ id: antal, aggregate: count,", with: "{ id: antal, aggregate: median,") },
             ["facts[0].measures[0].aggregate", "erhverv", "median", "not an aggregation"]),
            ({ $0.replacingOccurrences(of: "fields: { butik: butik,", with: "fields: { butik: butikker,") },
             ["erhverv.geojson", "butikker", "no such field"]),
            ({ $0.replacingOccurrences(of: "fields: { butik: butik,", with: "fields: { butik: name,") },
             ["erhverv.geojson", "name", "not a number"]),
        ]
        for (i, c) in cases.enumerated() {
            let sub = folder.appendingPathComponent("case\(i)")
            try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
            let study = try TestSupport.sampleStudy(in: sub)
            try TestSupport.write(c.edit(try String(contentsOfFile: study, encoding: .utf8)), to: URL(fileURLWithPath: study))
            let site = sub.appendingPathComponent("site"), pdf = sub.appendingPathComponent("plan.pdf")
            let r = try TestSupport.run(klynge, ["publish", study, "-o", site.path, "-o", pdf.path])
            #expect(r.status != 0)
            for w in c.words { #expect(r.stderr.contains(w), "case \(i): `\(w)` missing in: \(r.stderr)") }
            #expect(!FileManager.default.fileExists(atPath: site.path) && !FileManager.default.fileExists(atPath: pdf.path), "case \(i) wrote output")
            #expect(files(sub) == ["study.yaml"], "case \(i): \(files(sub))")
        }
    }

    @Test func aFolderOfOtherFilesIsNeverReplaced() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let study = try TestSupport.sampleStudy(in: folder)
        let site = folder.appendingPathComponent("documents")
        try FileManager.default.createDirectory(at: site, withIntermediateDirectories: true)
        try TestSupport.write("keep me", to: site.appendingPathComponent("notes.txt"))
        let r = try TestSupport.run(klynge, ["publish", study, "-o", site.path])
        #expect(r.status != 0 && r.stderr.contains("Klynge did not publish"), "\(r.stderr)")
        #expect(files(site) == ["notes.txt"])
        // Hidden files are someone's work too (a `.git` folder).
        let hidden = folder.appendingPathComponent("repo")
        try FileManager.default.createDirectory(at: hidden.appendingPathComponent(".git"), withIntermediateDirectories: true)
        let h = try TestSupport.run(klynge, ["publish", study, "-o", hidden.path])
        #expect(h.status != 0 && files(hidden) == [".git"], "\(h.stderr)")
        let bad = try TestSupport.run(klynge, ["publish", study, "-o", folder.appendingPathComponent("a.pdf").path, "-o", folder.appendingPathComponent("b.pdf").path])
        #expect(bad.status != 0 && bad.stderr.contains("one .pdf at most"), "\(bad.stderr)")
    }
}
