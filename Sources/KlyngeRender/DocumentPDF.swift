import CCairo
import Foundation

/// A `ReportDocument` as a print-ready A4 PDF: a cover, a table of contents with page numbers and links, each
/// chapter from a new page, tables that continue over pages with their header repeated, maps drawn by the map
/// renderer as vectors, numbered figure captions, and a footer with the page number. Text is Pango text, so
/// it can be selected and searched, and the fonts are embedded.
public enum DocumentPDF {
    /// A4 portrait in points.
    static let pageWidthPt = 595.276
    static let pageHeightPt = 841.89
    static let marginPt = 56.7
    static let footerPt = 34.0
    /// The width of the text block, which map figures are drawn to.
    public static var contentWidthPt: Double { pageWidthPt - 2 * marginPt }
    /// The tallest map figure that fits on a page with its caption.
    public static var maxFigureHeightPt: Double { pageHeightPt - 2 * marginPt - footerPt - 60 }

    static let ink = RGBA(0.13, 0.15, 0.17)
    static let accent = RGBA(0x1f / 255.0, 0x3a / 255.0, 0x5f / 255.0)
    static let muted = RGBA(0.36, 0.38, 0.40)
    static let rule = RGBA(0.72, 0.74, 0.76)
    static let zebra = RGBA(0.955, 0.96, 0.965)

    public struct Summary: Sendable {
        public var pages: Int
        /// The page each chapter starts on (1-based), by chapter id.
        public var chapterPages: [String: Int]
    }

    /// Writes the PDF to `path` (the caller makes it atomic).
    /// `recordings`: maps already drawn (by figure id, `MapRenderer.record`, which can run on other threads); the
    /// others are drawn here.
    @discardableResult
    public static func write(_ doc: ReportDocument, to path: String, recordings: [String: MapRecording] = [:]) throws -> Summary {
        let canvas = try Canvas(kind: .pdf, path: path, widthPt: pageWidthPt, heightPt: pageHeightPt, dpi: 72)
        canvas.setDocumentInfo(title: doc.title, subject: doc.subtitle)
        var book = Paginator(doc: doc, canvas: canvas, recordings: recordings)
        let summary = book.lay()
        book.draw()
        try canvas.finish()
        return summary
    }

    /// Lays the document out page by page as drawing steps (measuring with the PDF's own Pango context, so
    /// what is measured is what is drawn), then draws them.
    struct Paginator {
        typealias Step = (Canvas) -> Void
        let doc: ReportDocument
        let canvas: Canvas
        var pages: [[Step]] = []
        /// The chapter title shown in each page's footer.
        var pageChapter: [String?] = []
        var y = 0.0
        var chapterPages: [String: Int] = [:]
        var tocPages = 1
        let recordings: [String: MapRecording]

        init(doc: ReportDocument, canvas: Canvas, recordings: [String: MapRecording]) {
            self.doc = doc
            self.canvas = canvas
            self.recordings = recordings
        }

        var left: Double { marginPt }
        var width: Double { contentWidthPt }
        var top: Double { marginPt }
        var bottom: Double { pageHeightPt - marginPt - footerPt + 20 }
        var room: Double { bottom - y }

        func t(_ da: String, _ en: String) -> String { doc.t(da, en) }

        mutating func newPage(chapter: String?) {
            pages.append([])
            pageChapter.append(chapter)
            y = top
        }

        mutating func add(_ step: @escaping Step) { pages[pages.count - 1].append(step) }

        mutating func text(_ s: String, size: Double, bold: Bool = false, color: RGBA = ink, x: Double? = nil, wrap: Double? = nil,
                           after: Double = 0) {
            let l = canvas.layout(s, size: size, bold: bold, wrapWidth: wrap ?? width)
            let at = (x ?? left, y)
            add { $0.draw(l, x: at.0, y: at.1, color: color) }
            y += l.height + after
        }

        mutating func lay() -> Summary {
            cover()
            // The contents come second; its pages are filled in once the chapters' pages are known.
            let entries = doc.chapters.count
            tocPages = max(1, (entries + 27) / 28)
            for _ in 0..<tocPages { newPage(chapter: t("Indhold", "Contents")) }
            for (i, chapter) in doc.chapters.enumerated() { lay(chapter, index: i) }
            contents()
            return Summary(pages: pages.count, chapterPages: chapterPages)
        }

        mutating func cover() {
            newPage(chapter: nil)
            add { c in
                c.color(accent)
                c.rectangle(0, 0, pageWidthPt, 10)
                c.fill()
            }
            y = pageHeightPt * 0.22
            text(t("Landsbyklynge", "Village cluster").uppercased(), size: 11, bold: true, color: muted, after: 10)
            text(doc.title, size: 30, bold: true, color: accent, after: 12)
            if let s = doc.subtitle { text(s, size: 14, color: ink, after: 24) }
            text(doc.dateText, size: 11, color: muted, after: 30)
            if !doc.keyFigures.isEmpty {
                for (label, value) in doc.keyFigures {
                    let v = canvas.layout(value.text, size: 20, bold: true)
                    let l = canvas.layout(label, size: 10, wrapWidth: width - 130)
                    let at = y
                    add { c in
                        c.draw(v, x: marginPt, y: at, color: accent)
                        c.draw(l, x: marginPt + 130, y: at + (v.height - l.height) / 2, color: ink)
                    }
                    y += max(v.height, l.height) + 8
                }
            }
            let credits = ([t("Udarbejdet med Klynge.", "Made with Klynge.")] + doc.attribution).joined(separator: "\n")
            let l = canvas.layout(credits, size: 8.5, wrapWidth: width)
            add { $0.draw(l, x: marginPt, y: pageHeightPt - marginPt - l.height, color: muted) }
        }

        /// The contents, drawn into the pages reserved after the cover.
        mutating func contents() {
            var steps: [[Step]] = Array(repeating: [], count: tocPages)
            var page = 0
            var at = top
            let heading = canvas.layout(t("Indhold", "Contents"), size: 22, bold: true)
            steps[0].append { $0.draw(heading, x: marginPt, y: marginPt, color: accent) }
            at += heading.height + 18
            for (i, chapter) in doc.chapters.enumerated() {
                if at > bottom - 24 {
                    page += 1
                    at = top
                }
                let number = chapterPages[chapter.id] ?? 0
                let title = canvas.layout("\(i + 1)  \(chapter.title)", size: 12, wrapWidth: width - 50)
                let pageText = canvas.layout(String(number), size: 12)
                let lineY = at, id = chapter.id
                steps[page].append { c in
                    c.draw(title, x: marginPt, y: lineY, color: ink)
                    c.draw(pageText, x: marginPt + contentWidthPt - pageText.width, y: lineY, color: ink)
                    // A dotted leader from the title to its page number.
                    c.save()
                    c.color(rule)
                    c.lineWidth(0.6)
                    c.dash([0.6, 2.4])
                    c.cap("round")
                    let base = lineY + title.height - 4
                    c.moveTo(marginPt + min(title.width, contentWidthPt - 50) + 6, base)
                    c.lineTo(marginPt + contentWidthPt - pageText.width - 6, base)
                    c.stroke()
                    c.restore()
                    c.link(to: "chapter-\(id)", x: marginPt, y: lineY, w: contentWidthPt, h: title.height)
                }
                at += title.height + 10
            }
            for p in 0..<tocPages { pages[1 + p].insert(contentsOf: steps[p], at: 0) }
        }

        mutating func lay(_ chapter: ReportChapter, index: Int) {
            let number = index + 1
            newPage(chapter: chapter.title)
            chapterPages[chapter.id] = pages.count
            let dest = "chapter-\(chapter.id)", title = "\(number)  \(chapter.title)"
            add { c in
                c.destination(dest, y: marginPt)
                c.outline(title, dest: dest)
            }
            add { c in
                c.color(accent)
                c.rectangle(marginPt, marginPt - 14, 36, 4)
                c.fill()
            }
            text(title, size: 22, bold: true, color: accent, after: 16)
            for (k, block) in chapter.blocks.enumerated() {
                switch block {
                case .heading(let s, let level):
                    // A heading keeps with what follows it.
                    // A map within the next two blocks comes along (with its heading and a line of text).
                    let ahead = chapter.blocks[(k + 1)..<min(k + 3, chapter.blocks.count)]
                    let map = ahead.compactMap { b -> Double? in if case .figure(let f) = b { return f.map.page.heightPt } else { return nil } }.first
                    let needed = map.map { $0 + 110 } ?? 90
                    if room < needed { newPage(chapter: chapter.title) }
                    if y > top { y += level == 2 ? 10 : 6 }
                    text(s, size: level == 2 ? 14 : 11.5, bold: true, color: level == 2 ? accent : ink, after: 6)
                case .paragraph(let runs):
                    paragraph(runs.map(\.text).joined(), chapter: chapter.title)
                case .bullets(let items):
                    for item in items {
                        let l = canvas.layout(item, size: 10, wrapWidth: width - 16)
                        if room < l.height + 4 { newPage(chapter: chapter.title) }
                        let at = y
                        let dot = canvas.layout("•", size: 10)
                        add { c in
                            c.draw(dot, x: marginPt + 3, y: at, color: accent)
                            c.draw(l, x: marginPt + 16, y: at, color: ink)
                        }
                        y += l.height + 3
                    }
                    y += 6
                case .table(let table):
                    self.table(table, caption: doc.tableCaption(table, chapter: index, block: k), chapter: chapter.title)
                case .figure(let figure):
                    self.figure(figure, chapter: chapter.title)
                }
            }
        }

        mutating func paragraph(_ s: String, chapter: String) {
            let l = canvas.layout(s, size: 10, wrapWidth: width)
            if room < l.height { newPage(chapter: chapter) }
            let at = y
            add { $0.draw(l, x: marginPt, y: at, color: ink) }
            y += l.height + 8
        }

        mutating func figure(_ f: ReportFigure, chapter: String) {
            let mapW = f.map.page.widthPt, mapH = f.map.page.heightPt
            let caption = canvas.layout(doc.captionText(f), size: 9, wrapWidth: width)
            if room < mapH + caption.height + 8 { newPage(chapter: chapter) }
            let at = y, x = left + (width - mapW) / 2, request = f.map, recording = recordings[f.id]
            add { c in
                if let recording {
                    c.paint(recording, x: x, y: at)
                } else {
                    c.save()
                    c.translate(x, at)
                    c.clip(0, 0, mapW, mapH)
                    var ctx = Context(r: request, canvas: c, drawn: MapRenderer.layerFeatures(request))
                    _ = ctx.draw()
                    c.restore()
                }
                c.save()
                c.color(rule)
                c.lineWidth(0.5)
                c.rectangle(x, at, mapW, mapH)
                c.stroke()
                c.restore()
            }
            y += mapH + 5
            let capAt = y
            add { $0.draw(caption, x: marginPt, y: capAt, color: muted) }
            y += caption.height + 12
            if let table = f.table {
                self.table(table, caption: doc.dataCaption(f, table), chapter: chapter)
            }
        }

        /// A table across as many pages as it needs, its header repeated on each.
        mutating func table(_ table: ReportTable, caption: String, chapter: String) {
            let pad = 3.5
            var size = 8.5
            let n = table.columns.count
            guard n > 0 else { return }
            // Natural widths (no wrapping); text columns wrap when the table is wider than the page.
            func natural(_ size: Double) -> [Double] {
                var w = table.columns.map { canvas.layout($0.title, size: size, bold: true).width }
                for row in table.rows {
                    for (i, cell) in row.prefix(n).enumerated() { w[i] = max(w[i], canvas.layout(cell.text, size: size, bold: cell.bold).width) }
                }
                return w.map { $0 + 2 * pad }
            }
            var widths = natural(size)
            while widths.reduce(0, +) > width * 1.6 && size > 6.5 {
                size -= 0.5
                widths = natural(size)
            }
            let total = widths.reduce(0, +)
            if total > width {
                // Shrink the text columns (they wrap); figures keep their width.
                let fixed = zip(widths, table.columns).filter { $0.1.numeric }.map(\.0).reduce(0, +)
                let flexible = total - fixed
                let available = max(width - fixed, Double(n) * 30)
                widths = zip(widths, table.columns).map { $0.1.numeric ? $0.0 : max(30, $0.0 * available / max(flexible, 1)) }
                let sum = widths.reduce(0, +)
                if sum > width { widths = widths.map { $0 * width / sum } }
            } else {
                // Spread the spare width over the text columns, so tables line up with the text block.
                let textColumns = table.columns.filter { !$0.numeric }.count
                let spare = width - total
                widths = zip(widths, table.columns).map { $0.1.numeric || textColumns == 0 ? $0.0 + (textColumns == 0 ? spare / Double(n) : 0) : $0.0 + spare / Double(textColumns) }
            }
            let xs = widths.indices.map { i in left + widths[..<i].reduce(0, +) }
            func layouts(_ cells: [(String, Bool)]) -> (cells: [Canvas.TextLayout], height: Double) {
                let ls = cells.enumerated().map { i, c in canvas.layout(c.0, size: size, bold: c.1, wrapWidth: widths[i] - 2 * pad) }
                return (ls, (ls.map(\.height).max() ?? 0) + 2 * pad)
            }
            let header = layouts(table.columns.map { ($0.title, true) })
            let captionLayout = canvas.layout(caption, size: 9.5, bold: true, wrapWidth: width)
            let firstRow = table.rows.first.map { r in layouts(r.prefix(n).map { ($0.text, $0.bold) }).height } ?? 0
            if room < captionLayout.height + header.height + firstRow + 6 { newPage(chapter: chapter) }
            let capAt = y
            add { $0.draw(captionLayout, x: marginPt, y: capAt, color: ink) }
            y += captionLayout.height + 4
            func drawHeader(_ p: inout Paginator) {
                let at = p.y, columns = table.columns
                p.add { c in
                    c.color(RGBA(0.90, 0.92, 0.94))
                    c.rectangle(marginPt, at, contentWidthPt, header.height)
                    c.fill()
                    for (i, l) in header.cells.enumerated() {
                        let x = columns[i].numeric ? xs[i] + widths[i] - pad - l.width : xs[i] + pad
                        c.draw(l, x: x, y: at + pad, color: ink)
                    }
                    c.color(accent)
                    c.lineWidth(0.8)
                    c.moveTo(marginPt, at + header.height)
                    c.lineTo(marginPt + contentWidthPt, at + header.height)
                    c.stroke()
                }
                p.y += header.height
            }
            drawHeader(&self)
            for (r, row) in table.rows.enumerated() {
                let bold = table.emphasised.contains(r)
                let cells = layouts(row.prefix(n).map { ($0.text, $0.bold || bold) })
                if room < cells.height {
                    newPage(chapter: chapter)
                    let cont = canvas.layout(caption + " " + t("(fortsat)", "(continued)"), size: 9.5, bold: true, wrapWidth: width)
                    let contAt = y
                    add { $0.draw(cont, x: marginPt, y: contAt, color: ink) }
                    y += cont.height + 4
                    drawHeader(&self)
                }
                let at = y, columns = table.columns
                add { c in
                    if r % 2 == 1 {
                        c.color(zebra)
                        c.rectangle(marginPt, at, contentWidthPt, cells.height)
                        c.fill()
                    }
                    for (i, l) in cells.cells.enumerated() {
                        let x = columns[i].numeric ? xs[i] + widths[i] - pad - l.width : xs[i] + pad
                        c.draw(l, x: x, y: at + pad, color: ink)
                    }
                }
                y += cells.height
            }
            let end = y
            add { c in
                c.color(rule)
                c.lineWidth(0.5)
                c.moveTo(marginPt, end)
                c.lineTo(marginPt + contentWidthPt, end)
                c.stroke()
            }
            y += 14
        }

        /// Draws every page, with the footer (document, chapter, page x of n) on all but the cover.
        func draw() {
            let total = pages.count
            for (i, steps) in pages.enumerated() {
                canvas.color(.white)
                canvas.paint()
                for step in steps { step(canvas) }
                if i > 0 {
                    let label = [doc.title, pageChapter[i]].compactMap { $0 }.joined(separator: " · ")
                    let left = canvas.layout(label, size: 8, wrapWidth: contentWidthPt - 90)
                    let number = canvas.layout(t("Side \(i + 1) af \(total)", "Page \(i + 1) of \(total)"), size: 8)
                    let y = pageHeightPt - marginPt + 6
                    canvas.color(rule)
                    canvas.lineWidth(0.5)
                    canvas.moveTo(marginPt, y - 6)
                    canvas.lineTo(pageWidthPt - marginPt, y - 6)
                    canvas.stroke()
                    canvas.draw(left, x: marginPt, y: y, color: muted)
                    canvas.draw(number, x: pageWidthPt - marginPt - number.width, y: y, color: muted)
                }
                canvas.showPage()
            }
        }
    }
}
