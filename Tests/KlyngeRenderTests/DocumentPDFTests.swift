import Foundation
import Testing
import KlyngeGeo
import KlyngeTestSupport
@testable import KlyngeRender

/// The paginated PDF of a report, read back with poppler (`pdftotext`, `pdfinfo`, `pdffonts`): A4, the contents'
/// page numbers where the chapters start, a long table over several pages with its header on each and every row
/// once, a map figure with its caption, the footer's page numbers, and embedded fonts.
@Suite struct DocumentPDFTests {
    func document() throws -> ReportDocument {
        let style = try Style.parse(Data(#"""
        {"version": 8, "sources": {"demand": {"type": "geojson", "data": "klynge:demand"}},
         "layers": [{"id": "villages", "type": "circle", "source": "demand", "paint": {"circle-radius": 4, "circle-color": "#336699"}}]}
        """#.utf8), name: "test")
        let towns = (0..<6).map { i in Feature(geometry: .point(Coordinate(x: Double(i) * 1000, y: Double(i % 3) * 900)), attributes: ["name": .string("By \(i)")]) }
        let map = MapRequest(style: style, data: ["demand": towns], extent: Envelope(minX: 0, minY: 0, maxX: 5000, maxY: 2000),
                             page: Page(widthPt: DocumentPDF.contentWidthPt, heightPt: 300, dpi: 72), kind: .pdf, language: "da",
                             title: "Kortet", subtitle: nil, attribution: ["test"])
        let rows = (1...150).map { i in [ReportCell("Række \(i)"), ReportCell(String(i * 7), source: FigureSource(source: "t", path: "[]", value: Double(i * 7)))] }
        let long = ReportTable(id: "lang", caption: "En lang tabel", columns: [.init("Navn"), .init("Værdi", numeric: true)], rows: rows)
        return ReportDocument(title: "Prøveplan", subtitle: "Undertitel", language: "da", dateText: "4. december 2026", attribution: ["Kilde"],
                              keyFigures: [("byer", ReportCell("6"))],
                              chapters: [ReportChapter(id: "en", title: "Første kapitel", blocks: [.paragraph([ReportCell("Indledning.")]), .table(long)]),
                                         ReportChapter(id: "to", title: "Andet kapitel", blocks: [.heading("Et afsnit", level: 2), .bullets(["a", "b"]),
                                                                                                  .figure(ReportFigure(id: "f1", caption: "Byerne", alt: "Seks byer", map: map, table: nil))])])
    }

    func text(_ pdf: String, page: Int) throws -> String {
        try TestSupport.run("pdftotext", ["-f", "\(page)", "-l", "\(page)", "-layout", pdf, "-"]).stdout
    }

    @Test func pagesContentsTablesAndFooters() throws {
        #expect(TestSupport.isAvailable("pdftotext"), "poppler-utils is installed by scripts/install-deps.sh")
        guard TestSupport.isAvailable("pdftotext") else { return }
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let pdf = folder.appendingPathComponent("plan.pdf").path
        let summary = try DocumentPDF.write(try document(), to: pdf)
        let info = try TestSupport.run("pdfinfo", [pdf]).stdout
        #expect(info.contains("A4") && info.contains("Pages:           \(summary.pages)"), "\(info)")
        // Cover, contents, chapter 1 from page 3 over several pages, chapter 2 on a page of its own.
        #expect(summary.chapterPages["en"] == 3)
        let second = try #require(summary.chapterPages["to"])
        #expect(second > 4 && second == summary.pages)
        let contents = try text(pdf, page: 2)
        #expect(contents.contains("Indhold"))
        for (title, page) in [("Første kapitel", 3), ("Andet kapitel", second)] {
            let line = contents.split(separator: "\n").first { $0.contains(title) }.map(String.init) ?? ""
            #expect(line.hasSuffix(" \(page)"), "contents line `\(line)` should end with its page \(page)")
            #expect(try text(pdf, page: page).contains(title), "\(title) starts on page \(page)")
        }
        // Every row once, in order; the header repeated on each page the table continues on.
        var seen: [Int] = []
        for page in 3..<second {
            let t = try text(pdf, page: page)
            #expect(t.contains("Navn") && t.contains("Værdi"), "page \(page) repeats the header")
            if page > 3 { #expect(t.contains("(fortsat)"), "page \(page) says the table continues") }
            for m in t.matches(of: /Række (\d+)\s+(\d+)/) {
                let i = Int(m.1)!
                seen.append(i)
                #expect(Int(m.2)! == i * 7)
            }
        }
        #expect(seen == Array(1...150))
        // Footers: the page number of the whole on every page but the cover.
        #expect(!(try text(pdf, page: 1)).contains("Side 1"))
        for page in 2...summary.pages { #expect(try text(pdf, page: page).contains("Side \(page) af \(summary.pages)")) }
        let last = try text(pdf, page: second)
        // The section, the map (its title drawn by the map renderer) and its numbered caption.
        #expect(last.contains("Et afsnit") && last.contains("Kortet") && last.contains("Figur 1: Byerne"), "\(last)")
        // A map recorded on another thread and replayed reads the same: vectors and text, not an image.
        let doc = try document()
        guard case .figure(let figure)? = doc.chapters[1].blocks.last else { Issue.record("no figure"); return }
        let replayed = folder.appendingPathComponent("replayed.pdf").path
        let recording = try MapRenderer.record(figure.map)
        try DocumentPDF.write(doc, to: replayed, recordings: [figure.id: recording])
        #expect(try text(replayed, page: second) == last)
        // Fonts embedded (the fifth column of pdffonts is `emb`).
        let fonts = try TestSupport.run("pdffonts", [pdf]).stdout.split(separator: "\n").dropFirst(2)
        #expect(!fonts.isEmpty && fonts.allSatisfy { $0.split(separator: " ", omittingEmptySubsequences: true).contains("yes") }, "\(fonts)")
    }
}
