import Foundation
import KlyngeGeo
import KlyngeRender

/// A `ReportDocument` as a static website: `index.html` (cover and contents), one page per chapter, `plan.css`
/// and the maps as SVG in `maps/`. No script, no web font and nothing from another server: it opens from a USB
/// stick as it does from the kommune's web server. Every text goes through `escape`, and every figure carries
/// where it comes from (`data-src`, `data-path`, `data-value`), so a test can hold the page to the JSON.
public struct SiteWriter {
    public static let manifestName = "klynge-site.txt"
    public static let stylesheetName = "plan.css"

    let doc: ReportDocument
    /// The PDF's file name in the site, when the PDF is published with it.
    let pdfName: String?

    public init(doc: ReportDocument, pdfName: String?) {
        self.doc = doc
        self.pdfName = pdfName
    }

    func t(_ da: String, _ en: String) -> String { doc.language == "en" ? en : da }

    /// The chapter's page: `2-service.html`.
    public static func pageName(_ chapter: ReportChapter, number: Int) -> String { "\(number)-\(chapter.id).html" }

    public static func mapName(_ figure: ReportFigure) -> String { "maps/\(figure.id).svg" }

    /// Every page's file name and HTML.
    public func pages() -> [(name: String, html: String)] {
        var out = [(name: "index.html", html: index())]
        for (i, c) in doc.chapters.enumerated() {
            out.append((Self.pageName(c, number: i + 1), chapter(c, index: i)))
        }
        return out
    }

    static func escape(_ s: String) -> String { MarkupText.escape(s) }

    func page(title: String, body: String, current: Int?) -> String {
        let e = Self.escape
        var nav = "<nav class=\"chapters\" aria-label=\"\(e(t("Kapitler", "Chapters")))\"><ol>"
        for (i, c) in doc.chapters.enumerated() {
            let here = current == i + 1 ? " aria-current=\"page\"" : ""
            nav += "<li><a href=\"\(Self.pageName(c, number: i + 1))\"\(here)>\(i + 1). \(e(c.title))</a></li>"
        }
        nav += "</ol></nav>"
        var pager = ""
        if let current {
            pager = "<nav class=\"pager\" aria-label=\"\(e(t("Forrige og næste kapitel", "Previous and next chapter")))\">"
            if current > 1 {
                let c = doc.chapters[current - 2]
                pager += "<a rel=\"prev\" href=\"\(Self.pageName(c, number: current - 1))\">← \(e(c.title))</a>"
            } else {
                pager += "<a rel=\"prev\" href=\"index.html\">← \(e(t("Forside", "Front page")))</a>"
            }
            if current < doc.chapters.count {
                let c = doc.chapters[current]
                pager += "<a rel=\"next\" href=\"\(Self.pageName(c, number: current + 1))\">\(e(c.title)) →</a>"
            }
            pager += "</nav>"
        }
        let credits = ([t("Udarbejdet med Klynge", "Made with Klynge") + " · " + doc.dateText] + doc.attribution).map { "<span>\(e($0))</span>" }.joined(separator: " ")
        return """
        <!DOCTYPE html>
        <html lang="\(doc.language)">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self'; style-src 'self'; base-uri 'none'; form-action 'none'">
        <meta name="generator" content="Klynge">
        <title>\(e(title))</title>
        <link rel="stylesheet" href="\(Self.stylesheetName)">
        </head>
        <body>
        <a class="skip" href="#indhold">\(e(t("Spring til indholdet", "Skip to the content")))</a>
        <header class="site"><p class="doc"><a href="index.html">\(e(doc.title))</a></p>\(nav)</header>
        <main id="indhold">
        \(body)
        </main>
        \(pager)
        <footer class="site"><p>\(credits)</p></footer>
        </body>
        </html>

        """
    }

    func index() -> String {
        let e = Self.escape
        var body = "<p class=\"kicker\">\(e(t("Landsbyklynge", "Village cluster")))</p>\n<h1>\(e(doc.title))</h1>\n"
        if let s = doc.subtitle { body += "<p class=\"subtitle\">\(e(s))</p>\n" }
        body += "<p class=\"date\">\(e(doc.dateText))</p>\n"
        if !doc.keyFigures.isEmpty {
            body += "<ul class=\"key-figures\">" + doc.keyFigures.map { label, figure in
                var c = figure
                c.bold = true
                return "<li>\(cell(c, tag: "strong")) \(e(label))</li>"
            }.joined() + "</ul>\n"
        }
        body += "<nav class=\"contents\" aria-labelledby=\"indhold-titel\"><h2 id=\"indhold-titel\">\(e(t("Indhold", "Contents")))</h2><ol>"
        for (i, c) in doc.chapters.enumerated() {
            body += "<li><a href=\"\(Self.pageName(c, number: i + 1))\">\(e(c.title))</a></li>"
        }
        body += "</ol></nav>\n"
        if let pdfName {
            // The file's name as a relative address (a space, `#` or `?` in it would otherwise break the link).
            let href = pdfName.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? pdfName
            body += "<p class=\"download\"><a href=\"\(e(href))\" type=\"application/pdf\">\(e(t("Hent planen som PDF (A4, til print)", "Download the plan as a PDF (A4, for print)")))</a></p>\n"
        }
        return page(title: doc.title, body: body, current: nil)
    }

    /// A figure as an element with where it comes from; plain text otherwise.
    func cell(_ c: ReportCell, tag: String = "span") -> String {
        let text = Self.escape(c.text)
        guard let s = c.source else { return c.bold ? "<strong>\(text)</strong>" : text }
        return "<\(tag)\(Self.figureAttributes(s))>\(text)</\(tag)>"
    }

    static func figureAttributes(_ s: FigureSource) -> String {
        " data-src=\"\(escape(s.source))\" data-path=\"\(escape(s.path))\" data-value=\"\(s.value.map(JSONNumber.text) ?? "")\""
            + " data-scale=\"\(JSONNumber.text(s.scale))\" data-decimals=\"\(s.decimals)\""
    }

    func chapter(_ c: ReportChapter, index: Int) -> String {
        let e = Self.escape, number = index + 1
        var body = "<h1><span class=\"number\">\(number).</span> \(e(c.title))</h1>\n"
        for (k, block) in c.blocks.enumerated() {
            switch block {
            case .heading(let s, let level):
                body += "<h\(level)>\(e(s))</h\(level)>\n"
            case .paragraph(let runs):
                body += "<p>" + runs.map { cell($0) }.joined() + "</p>\n"
            case .bullets(let items):
                body += "<ul>" + items.map { "<li>\(e($0))</li>" }.joined() + "</ul>\n"
            case .table(let table):
                body += self.table(table, caption: doc.tableCaption(table, chapter: index, block: k))
            case .figure(let f):
                let w = Int(f.map.page.widthPt.rounded()), h = Int(f.map.page.heightPt.rounded())
                body += "<figure id=\"\(e(f.id))\">\n<img src=\"\(Self.mapName(f))\" width=\"\(w)\" height=\"\(h)\" alt=\"\(e(f.alt))\">\n"
                body += "<figcaption>\(e(doc.captionText(f)))</figcaption>\n"
                if let table = f.table {
                    body += "<details><summary>\(e(doc.dataLabel(f)))</summary>\n"
                    body += self.table(table, caption: doc.dataCaption(f, table))
                    body += "</details>\n"
                }
                body += "</figure>\n"
            }
        }
        return page(title: "\(number). \(c.title) – \(doc.title)", body: body, current: number)
    }

    func table(_ table: ReportTable, caption: String) -> String {
        let e = Self.escape
        let capId = "tabel-\(e(table.id))"
        var out = "<div class=\"table-wrap\" role=\"region\" aria-labelledby=\"\(capId)\" tabindex=\"0\">\n<table id=\"t-\(e(table.id))\">\n"
        out += "<caption id=\"\(capId)\">\(e(caption))</caption>\n<thead><tr>"
        for c in table.columns { out += "<th scope=\"col\"\(c.numeric ? " class=\"num\"" : "")>\(e(c.title))</th>" }
        out += "</tr></thead>\n<tbody>\n"
        for (r, row) in table.rows.enumerated() {
            out += table.emphasised.contains(r) ? "<tr class=\"total\">" : "<tr>"
            for (i, c) in row.enumerated() {
                let numeric = i < table.columns.count && table.columns[i].numeric
                let tag = i == 0 ? "th" : "td"
                let scope = i == 0 ? " scope=\"row\"" : ""
                let cls = numeric ? " class=\"num\"" : ""
                let attrs = c.source.map(Self.figureAttributes) ?? ""
                out += "<\(tag)\(scope)\(cls)\(attrs)>\(e(c.text))</\(tag)>"
            }
            out += "</tr>\n"
        }
        out += "</tbody>\n</table>\n</div>\n"
        return out
    }

    /// The stylesheet: one measure of type for screen and print, tables that scroll on a phone.
    public static let stylesheet = """
    :root { --ink: #202428; --muted: #555b61; --accent: #1f3a5f; --rule: #c9ced3; --zebra: #f3f4f6; --head: #e6eaee; }
    * { box-sizing: border-box; }
    html { font-family: "DejaVu Sans", "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: var(--ink); background: #fff; line-height: 1.55; }
    body { margin: 0; }
    a { color: var(--accent); }
    a:focus-visible, [tabindex]:focus-visible, summary:focus-visible { outline: 3px solid #c2571a; outline-offset: 2px; }
    .skip { position: absolute; left: -999px; top: 0; background: #fff; padding: .5rem 1rem; }
    .skip:focus { left: 1rem; }
    header.site { border-top: 8px solid var(--accent); border-bottom: 1px solid var(--rule); padding: .75rem 1.25rem; }
    header.site .doc { margin: 0 0 .4rem; font-weight: bold; }
    header.site .doc a { text-decoration: none; }
    nav.chapters ol { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem 1rem; font-size: .9rem; }
    nav.chapters a[aria-current] { font-weight: bold; color: var(--ink); }
    main { max-width: 52rem; margin: 0 auto; padding: 1.5rem 1.25rem 2rem; }
    h1 { color: var(--accent); font-size: 2rem; line-height: 1.2; margin: .5rem 0 1rem; }
    h1 .number { color: var(--muted); }
    h2 { color: var(--accent); font-size: 1.35rem; margin: 2rem 0 .5rem; }
    h3 { font-size: 1.05rem; margin: 1.25rem 0 .25rem; }
    p, ul { max-width: 42rem; }
    .kicker { text-transform: uppercase; letter-spacing: .08em; color: var(--muted); font-weight: bold; margin: 2rem 0 0; }
    .subtitle { font-size: 1.2rem; }
    .date { color: var(--muted); }
    ul.key-figures { list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fit, minmax(10rem, 1fr)); gap: 1rem; max-width: none; }
    ul.key-figures li { border-left: 4px solid var(--accent); padding: .25rem .75rem; }
    ul.key-figures strong, ul.key-figures span { display: block; font-size: 1.6rem; color: var(--accent); font-weight: bold; }
    nav.contents ol { padding-left: 1.5rem; font-size: 1.1rem; }
    nav.contents li { margin: .35rem 0; }
    .download a { display: inline-block; border: 2px solid var(--accent); padding: .4rem .9rem; border-radius: 4px; text-decoration: none; font-weight: bold; }
    figure { margin: 1.5rem 0; }
    figure img { display: block; width: 100%; height: auto; border: 1px solid var(--rule); }
    figcaption { color: var(--muted); font-size: .9rem; margin-top: .4rem; }
    details { margin-top: .5rem; }
    summary { cursor: pointer; color: var(--accent); font-size: .95rem; }
    .table-wrap { overflow-x: auto; margin: 1rem 0 1.5rem; }
    table { border-collapse: collapse; font-size: .88rem; min-width: 60%; }
    caption { text-align: left; font-weight: bold; padding: 0 0 .4rem; }
    th, td { padding: .3rem .6rem; text-align: left; vertical-align: top; }
    thead th { background: var(--head); border-bottom: 2px solid var(--accent); }
    tbody tr:nth-child(even) { background: var(--zebra); }
    tbody th { font-weight: normal; }
    tr.total th, tr.total td { font-weight: bold; }
    .num { text-align: right; font-variant-numeric: tabular-nums; }
    td.num { white-space: nowrap; }
    tbody th { min-width: 7rem; }
    nav.pager { max-width: 52rem; margin: 0 auto; padding: 1rem 1.25rem; display: flex; justify-content: space-between; gap: 1rem; flex-wrap: wrap; border-top: 1px solid var(--rule); }
    footer.site { border-top: 1px solid var(--rule); color: var(--muted); font-size: .85rem; padding: 1rem 1.25rem 2rem; }
    footer.site span + span::before { content: " · "; }
    @media (max-width: 30rem) { h1 { font-size: 1.6rem; } main { padding: 1rem .75rem; } }
    @media print {
      header.site nav, nav.pager, .skip { display: none; }
      details > * { display: block; }
      main { max-width: none; padding: 0; }
      a { color: inherit; text-decoration: none; }
      figure, tr { break-inside: avoid; }
      h2, h3 { break-after: avoid; }
    }

    """
}

/// Numbers as JSON writes them (the `data-value` a test compares with the JSON outputs).
enum JSONNumber {
    static func text(_ v: Double) -> String { JSONText.figure(v) }
}
