import Foundation

/// A finished report as values: chapters of headings, paragraphs, lists, tables and map figures. One document
/// is written both as a website (HTML, by the publishing module) and as a paginated PDF (`DocumentPDF`), so the
/// two cannot say different things.
public struct ReportDocument: Sendable {
    public var title: String
    public var subtitle: String?
    /// `da` or `en`: the language of the document's own words.
    public var language: String
    /// The date it was made, as shown (`4. december 2026`).
    public var dateText: String
    /// Credits for the data (printed on the cover and every map).
    public var attribution: [String]
    /// Key figures for the cover: label and figure.
    public var keyFigures: [(label: String, value: ReportCell)]
    public let chapters: [ReportChapter]
    /// Every map figure, in reading order.
    public let figures: [ReportFigure]
    /// Figures and tables numbered in reading order (`Figur 3`, `Tabel 5`), by figure id and by the table's
    /// place (chapter and block index): the site and the PDF read one numbering.
    private let figureNumbers: [String: Int]
    private let tableNumbers: [[Int: Int]]

    public init(title: String, subtitle: String?, language: String, dateText: String, attribution: [String],
                keyFigures: [(label: String, value: ReportCell)], chapters: [ReportChapter]) {
        self.title = title
        self.subtitle = subtitle
        self.language = language == "en" ? "en" : "da"
        self.dateText = dateText
        self.attribution = attribution
        self.keyFigures = keyFigures
        self.chapters = chapters
        figures = chapters.flatMap { c in c.blocks.compactMap { b -> ReportFigure? in if case .figure(let f) = b { return f } else { return nil } } }
        figureNumbers = Dictionary(figures.enumerated().map { ($1.id, $0 + 1) }, uniquingKeysWith: { a, _ in a })
        var tables = 0
        tableNumbers = chapters.map { c in
            var numbers: [Int: Int] = [:]
            for (k, b) in c.blocks.enumerated() { if case .table = b { tables += 1; numbers[k] = tables } }
            return numbers
        }
    }

    func t(_ da: String, _ en: String) -> String { language == "en" ? en : da }

    /// "Figur 3: caption" in the document's language.
    public func captionText(_ f: ReportFigure) -> String {
        "\(t("Figur", "Figure")) \(figureNumbers[f.id] ?? 0): \(f.caption)"
    }

    /// "Tabel 5: caption" for the table that is block `block` of chapter `chapter` (0-based).
    public func tableCaption(_ table: ReportTable, chapter: Int, block: Int) -> String {
        "\(t("Tabel", "Table")) \(tableNumbers[chapter][block] ?? 0): \(table.caption)"
    }

    /// "Data bag figur 3", the label of the table behind a map.
    public func dataLabel(_ f: ReportFigure) -> String { "\(t("Data bag figur", "Data behind figure")) \(figureNumbers[f.id] ?? 0)" }

    /// "Data bag figur 3: caption".
    public func dataCaption(_ f: ReportFigure, _ table: ReportTable) -> String { "\(dataLabel(f)): \(table.caption)" }
}

public struct ReportChapter: Sendable {
    /// A short ASCII slug (`service`), used for file names and link targets.
    public var id: String
    public var title: String
    public var blocks: [ReportBlock]
    public init(id: String, title: String, blocks: [ReportBlock]) {
        self.id = id
        self.title = title
        self.blocks = blocks
    }
}

public enum ReportBlock: Sendable {
    /// A section heading inside a chapter; `level` 2 (section) or 3 (subsection).
    case heading(String, level: Int)
    /// A paragraph of runs: text and figures (a figure carries where it comes from).
    case paragraph([ReportCell])
    case bullets([String])
    case table(ReportTable)
    case figure(ReportFigure)
}

/// Where a figure comes from: a JSON output of Klynge and the path to it, so a test can hold the report to it.
public struct FigureSource: Sendable, Hashable {
    /// `coverage`, `compare:<scenario>`, `profile`, `clusters`, `impact:<category>`, `regions`, `survey:<id>`.
    public var source: String
    /// A JSON array: keys, indices, and `{"field": value}` objects that pick one element of a list.
    public var path: String
    /// The value as the JSON has it (nil for null).
    public var value: Double?
    /// What the value is multiplied by before it is shown (100 for shares, 1/60 for seconds as minutes).
    public var scale: Double
    public var decimals: Int
    public init(source: String, path: String, value: Double?, scale: Double = 1, decimals: Int = 0) {
        self.source = source
        self.path = path
        self.value = value
        self.scale = scale
        self.decimals = decimals
    }
}

/// A piece of text in a table cell or paragraph; a figure when it has a source.
public struct ReportCell: Sendable, Hashable {
    public var text: String
    public var source: FigureSource?
    public var bold: Bool
    public init(_ text: String, source: FigureSource? = nil, bold: Bool = false) {
        self.text = text
        self.source = source
        self.bold = bold
    }
    public var isFigure: Bool { source != nil }
}

public struct ReportTable: Sendable {
    public struct Column: Sendable {
        public var title: String
        /// Figures are right-aligned.
        public var numeric: Bool
        public init(_ title: String, numeric: Bool = false) {
            self.title = title
            self.numeric = numeric
        }
    }
    public var id: String
    public var caption: String
    public var columns: [Column]
    /// Each row's first cell names the row (a row header).
    public var rows: [[ReportCell]]
    /// Rows drawn bold (a total, the place compared with).
    public var emphasised: Set<Int>
    public init(id: String, caption: String, columns: [Column], rows: [[ReportCell]], emphasised: Set<Int> = []) {
        self.id = id
        self.caption = caption
        self.columns = columns
        self.rows = rows
        self.emphasised = emphasised
    }
}

/// A map, with the words a reader without sight needs (`alt`) and the figures behind it (`table`).
public struct ReportFigure: Sendable {
    public var id: String
    public var caption: String
    public var alt: String
    public var map: MapRequest
    public var table: ReportTable?
    public init(id: String, caption: String, alt: String, map: MapRequest, table: ReportTable?) {
        self.id = id
        self.caption = caption
        self.alt = alt
        self.map = map
        self.table = table
    }
}
