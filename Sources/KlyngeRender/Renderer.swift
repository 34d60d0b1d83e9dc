import CCairo
import Foundation
import Synchronization
import KlyngeGeo
import KlyngeWork

/// Everything a map needs: the style, the data layers (working CRS), the page and the texts around the map.
public struct MapRequest: Sendable {
    public var style: Style
    /// Features per Klynge layer name (`areas`, `coverage`, …), in the working CRS.
    public var data: [String: [Feature]]
    public var extent: Envelope
    public var page: Page
    public var kind: OutputKind
    public var language: String
    public var title: String
    public var subtitle: String?
    public var attribution: [String]
    /// Threads to draw and encode with (the service draws each map on one of its own worker threads).
    public var threads: Int = coreCount
    /// Stops the drawing when the map is no longer wanted or took too long.
    public var control: WorkControl = .unlimited

    public init(style: Style, data: [String: [Feature]], extent: Envelope, page: Page, kind: OutputKind, language: String,
                title: String, subtitle: String?, attribution: [String]) {
        self.style = style
        self.data = data
        self.extent = extent
        self.page = page
        self.kind = kind
        self.language = language
        self.title = title
        self.subtitle = subtitle
        self.attribution = attribution
    }
}

/// A feature as drawn, with the style values that drew it (for the styled GeoJSON export).
public struct DrawnFeature: Sendable {
    public var layer: String
    public var feature: Feature
    public var fill: RGBA?
    public var stroke: RGBA?
    public var strokeWidth: Double?
    public var marker: RGBA?
    /// The point symbol's shape: an icon name, or `circle` for a circle layer.
    public var icon: String?
    /// simplestyle's marker-size (small, medium, large) from the drawn radius.
    public var markerSize: String?
    public var title: String?
}

/// What was drawn: for tests, the export and the user.
public struct RenderReport: Sendable {
    public var viewport: Viewport
    public var scaleBar: ScaleBar
    public var labels: [(text: String, box: LabelPlacer.Box)]
    public var legend: [String]
    /// Where the legend was drawn (page points), if there is one.
    public var legendBox: LabelPlacer.Box?
    /// Where each icon was drawn (page points): icons at one place are moved apart, with a leader line.
    public var icons: [LabelPlacer.Box] = []
    /// Where the locator inset was drawn, if the style has one and the study a locator layer.
    public var insetBox: LabelPlacer.Box?
    /// Expressions that gave a value of the wrong type (the property's default was used).
    public var warnings: [String]
}

public enum MapRenderer {
    /// CSS pixels (the style's unit) to points.
    static let px = 0.75

    /// The type size everything on a map is measured from (title, labels, icons, legend), in points: the same
    /// on every sheet from A5 up, so a larger sheet shows more, not bigger; only pages smaller than A5 (web
    /// previews, panels) scale it down.
    static func baseTypePt(_ widthPt: Double, _ heightPt: Double) -> Double { min(14, min(widthPt, heightPt) / 28) }

    /// Draws the map into `path` (the caller makes it atomic). PNGs are drawn in horizontal bands, one per
    /// core, into one pixel buffer: every band lays the map out identically and draws only its rows.
    public static func render(_ r: MapRequest, to path: String) throws -> RenderReport {
        // Filters and merged points once per map, not once per band.
        let drawn = layerFeatures(r)
        return try paint(page: r.page, kind: r.kind, threads: r.threads, control: r.control, to: path, info: (r.title, r.subtitle)) { canvas in
            var ctx = Context(r: r, canvas: canvas, drawn: drawn)
            return ctx.draw()
        }
    }

    /// Where each panel of a small-multiples page goes: a grid under a title band, with gutters.
    public struct PanelLayout: Sendable {
        public let page: Page
        public let columns: Int
        public let rows: Int
        /// Each panel's own page (its size), for building its `MapRequest`.
        public let panel: Page
        public let titleBandPt: Double
        public let gutterPt: Double

        /// `contentAspect`: width / height of what each panel shows; the grid that draws it largest wins.
        public init(page: Page, count: Int, contentAspect: Double = 1) {
            self.page = page
            let n = max(1, count)
            let titleBandPt = max(page.heightPt * 0.06, 24)
            let gutterPt = max(min(page.widthPt, page.heightPt) * 0.015, 6)
            let aspect = contentAspect.isFinite && contentAspect > 0 ? contentAspect : 1
            func cell(_ columns: Int) -> (w: Double, h: Double) {
                let rows = (n + columns - 1) / columns
                return ((page.widthPt - gutterPt * Double(columns + 1)) / Double(columns),
                        (page.heightPt - titleBandPt - gutterPt * Double(rows)) / Double(rows))
            }
            // The content's scale in a cell: limited by its width or its height.
            let columns = (1...n).max { a, b in
                let (x, y) = (cell(a), cell(b))
                return min(x.w / aspect, x.h) < min(y.w / aspect, y.h)
            }!
            self.columns = columns
            rows = (n + columns - 1) / columns
            self.titleBandPt = titleBandPt
            self.gutterPt = gutterPt
            let size = cell(columns)
            panel = Page(widthPt: size.w, heightPt: size.h, dpi: page.dpi)
        }

        func origin(_ i: Int) -> (x: Double, y: Double) {
            (gutterPt + Double(i % columns) * (panel.widthPt + gutterPt), titleBandPt + Double(i / columns) * (panel.heightPt + gutterPt))
        }
    }

    /// Several maps on one page (small multiples, e.g. one clustering per panel), each drawn as a map of
    /// its own (title, legend, scale) in its cell, under a common title. Panels share the layout's page kind.
    public static func renderPanels(_ panels: [MapRequest], layout: PanelLayout, title: String, kind: OutputKind,
                                    threads: Int = coreCount, control: WorkControl = .unlimited, to path: String) throws -> [RenderReport] {
        guard !panels.isEmpty else { throw RenderError("no panels to draw") }
        for p in panels where p.page.widthPt != layout.panel.widthPt || p.page.heightPt != layout.panel.heightPt {
            throw RenderError("a panel's page is not the layout's panel size")
        }
        return try paint(page: layout.page, kind: kind, threads: threads, control: control, to: path, info: (title, nil)) { canvas in
            canvas.color(.white)
            canvas.paint()
            let base = MapRenderer.baseTypePt(layout.page.widthPt, layout.page.heightPt)
            var heading = canvas.layout(title, size: base * 1.35, bold: true)
            let room = layout.page.widthPt - 2 * layout.gutterPt
            if heading.width > room { heading = canvas.layout(title, size: base * 1.35 * room / heading.width * 0.98, bold: true) }
            canvas.draw(heading, x: layout.gutterPt, y: (layout.titleBandPt - heading.height) / 2, color: RGBA(0.12, 0.14, 0.16))
            var drawn: [RenderReport] = []
            for (i, panel) in panels.enumerated() {
                let o = layout.origin(i)
                canvas.save()
                canvas.translate(o.x, o.y)
                canvas.clip(0, 0, layout.panel.widthPt, layout.panel.heightPt)
                var ctx = Context(r: panel, canvas: canvas, drawn: MapRenderer.layerFeatures(panel))
                drawn.append(ctx.draw())
                canvas.restore()
                // A hairline around each panel, so they read as separate maps.
                canvas.save()
                canvas.color(RGBA(0.7, 0.7, 0.7))
                canvas.lineWidth(0.5)
                canvas.rectangle(o.x, o.y, layout.panel.widthPt, layout.panel.heightPt)
                canvas.stroke()
                canvas.restore()
            }
            return drawn
        }
    }

    /// One page: PNGs are drawn in horizontal bands, one per core, into one pixel buffer (every band lays
    /// the page out identically and draws only its rows); PDF and SVG on one canvas.
    static func paint<Report: Sendable>(page: Page, kind: OutputKind, threads: Int, control: WorkControl, to path: String,
                                        info: (title: String, subject: String?)? = nil,
                                        draw: @escaping @Sendable (Canvas) -> Report) throws -> Report {
        try page.validate()
        guard kind == .png else {
            let canvas = try Canvas(kind: kind, path: path, widthPt: page.widthPt, heightPt: page.heightPt, dpi: page.dpi)
            if let info { canvas.setDocumentInfo(title: info.title, subject: info.subject) }
            let report = draw(canvas)
            try control.check()
            try canvas.finish()
            return report
        }
        let width = page.pixelWidth, height = page.pixelHeight
        let stride = Int(cairo_format_stride_for_width(CAIRO_FORMAT_ARGB32, Int32(width)))
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: stride * height)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 0, count: stride * height)
        let bands = max(1, min(threads, height / 256))
        let rowsPerBand = (height + bands - 1) / bands
        // Font set-up is not something to race on: one layout first, on this thread.
        _ = try Canvas(band: buffer, stride: stride, widthPx: width, y0: 0, rows: 1, widthPt: page.widthPt,
                       heightPt: page.heightPt, dpi: page.dpi).layout("Æøå", size: 10)
        let results = BandResults<Report>(count: bands)
        let pixels = BufferBox(buffer)
        forEachInParallel(bands, threads: threads) { b in
            let y0 = b * rowsPerBand, rows = min(rowsPerBand, height - y0)
            guard rows > 0 else { return }
            do {
                let canvas = try Canvas(band: pixels.buffer, stride: stride, widthPx: width, y0: y0, rows: rows,
                                        widthPt: page.widthPt, heightPt: page.heightPt, dpi: page.dpi)
                results.set(b, .success(draw(canvas)))
            } catch {
                results.set(b, .failure(error))
            }
        }
        try control.check()
        let report = try results.first()
        // Every band painted its page white first: the image is opaque.
        try PNGWriter.write(argb: buffer, width: width, height: height, stride: stride, dpi: page.dpi, opaque: true,
                            threads: threads, control: control, to: path)
        return report
    }

    /// The styled features without drawing (for `--geojson`): the features as drawn (points merged where a
    /// layer aggregates them), in drawing order.
    public static func styledFeatures(_ r: MapRequest) -> [DrawnFeature] {
        var out: [DrawnFeature] = []
        var warnings = Warnings()
        let drawn = layerFeatures(r).features
        // The locator inset is drawn at another scale: not one of the map's layers.
        for layer in r.style.layers where layer.type != .background && !layer.inset {
            for f in Context.sorted(layer, drawn[layer.id] ?? []) {
                let d = Context.styled(layer, f, language: r.language, warnings: &warnings)
                // A symbol with neither icon nor text (an unnamed point's empty label) draws nothing.
                if layer.type == .symbol && d.icon == nil && d.title == nil { continue }
                out.append(d)
            }
        }
        return out
    }

    static func features(_ layer: StyleLayer, _ data: [String: [Feature]]) -> [Feature] {
        guard let name = layer.data, let fs = data[name] else { return [] }
        guard let filter = layer.filter else { return fs }
        return fs.filter { filter.evaluate($0.attributes).truthy }
    }
}

/// The report of each band (they are the same; the first is returned).
final class BandResults<Report: Sendable>: Sendable {
    private let results: Mutex<[Result<Report, Error>?]>
    init(count: Int) { results = Mutex(Array(repeating: nil, count: count)) }
    func set(_ i: Int, _ r: Result<Report, Error>) { results.withLock { $0[i] = r } }
    func first() throws -> Report {
        let results = self.results.withLock { $0 }
        for r in results { if case .failure(let e)? = r { throw e } }
        guard case .success(let report)? = results.first ?? nil else { throw RenderError("nothing was drawn") }
        return report
    }
}

/// The shared pixel buffer; each band writes only its own rows.
final class BufferBox: @unchecked Sendable {
    let buffer: UnsafeMutablePointer<UInt8>
    init(_ buffer: UnsafeMutablePointer<UInt8>) { self.buffer = buffer }
}

struct Warnings {
    var list: [String] = []
    var seen = Set<String>()
    mutating func add(_ layer: String, _ property: String, _ what: String) {
        let key = layer + "/" + property
        if seen.insert(key).inserted { list.append("layer `\(layer)`, property `\(property)`: \(what); the default was used") }
    }
}

struct Context {
    let r: MapRequest
    let canvas: Canvas
    var warnings = Warnings()
    var batch: Batch?
    /// Features in the current batch: paths are painted every few hundred, as very long paths slow Cairo down.
    var batchCount = 0
    /// The circles drawn (page boxes): labels keep clear of them, so a label is never read as another dot's.
    var dots: [LabelPlacer.Box] = []
    /// The dots by their centre, so a label can tell its own point's dot from the others.
    var dotsAt: [Int64: [LabelPlacer.Box]] = [:]
    var allDots: Set<LabelPlacer.Box> = []
    /// Icons drawn so far, and those moved off their place (by the place's key: feature id and new centre),
    /// so the feature's label follows its icon.
    var iconBoxes: [LabelPlacer.Box] = []
    var displaced: [Int64: [(id: String, to: (x: Double, y: Double))]] = [:]
    /// The map frame, for icons moved within it.
    var clipFrame: (x: Double, y: Double, w: Double, h: Double) = (0, 0, 0, 0)
    /// What the map occupies on the page: the points of its visible circle and symbol layers, and every 4th
    /// vertex of its line and fill layers (enough to tell a busy corner from an empty one). The inset is never
    /// counted; the land and locator around the study only `withContext`.
    func pageCrowd(_ viewport: Viewport, withContext: Bool) -> (points: [(x: Double, y: Double)], vertices: [(x: Double, y: Double)]) {
        var points: [(x: Double, y: Double)] = [], vertices: [(x: Double, y: Double)] = []
        for layer in r.style.layers where !layer.inset && (withContext || !["land", "locator"].contains(layer.data ?? "")) {
            switch layer.type {
            case .circle, .symbol:
                guard layer.isVisible else { continue }
                for f in drawn(layer) { for c in f.geometry?.pointParts ?? [] { points.append(viewport.page(c)) } }
            case .line, .fill:
                for f in drawn(layer) { for (k, c) in (f.geometry?.allCoordinates ?? []).enumerated() where k % 4 == 0 { vertices.append(viewport.page(c)) } }
            case .background: break
            }
        }
        return (points, vertices)
    }

    /// What the locator inset shows (the inset layers' extent), once it is placed.
    var insetExtent: Envelope?
    /// Drawn points and vertices in page points, counted once for choosing corners.
    var crowd: (points: [(x: Double, y: Double)], vertices: [(x: Double, y: Double)])?

    mutating func addDot(_ q: (x: Double, y: Double), _ radius: Double) {
        let b = LabelPlacer.Box(x: q.x - radius, y: q.y - radius, w: 2 * radius, h: 2 * radius)
        dots.append(b)
        dotsAt[Self.key(q), default: []].append(b)
    }

    /// A page position to a hundredth of a point, as one key.
    static func key(_ q: (x: Double, y: Double)) -> Int64 { Int64((q.x * 100).rounded()) &* 10_000_019 &+ Int64((q.y * 100).rounded()) }

    /// Each layer's features as drawn, worked out once per map.
    let layerFeatures: [String: [Feature]]
    let aggregation: [String: AggregationNote]

    init(r: MapRequest, canvas: Canvas, drawn: (features: [String: [Feature]], notes: [String: AggregationNote])) {
        self.r = r
        self.canvas = canvas
        (layerFeatures, aggregation) = drawn
    }

    func drawn(_ layer: StyleLayer) -> [Feature] { layerFeatures[layer.id] ?? [] }

    // MARK: property access

    static func color(_ layer: StyleLayer, _ name: String, _ props: [String: AttributeValue], _ fallback: RGBA?,
                      _ w: inout Warnings) -> RGBA? {
        guard let e = layer.property(name) else { return fallback }
        let v = e.evaluate(props)
        if v == .null { return fallback }
        guard let c = v.color else { w.add(layer.id, name, "\(v) is not a colour"); return fallback }
        return c
    }

    static func number(_ layer: StyleLayer, _ name: String, _ props: [String: AttributeValue], _ fallback: Double,
                       _ w: inout Warnings) -> Double {
        guard let e = layer.property(name) else { return fallback }
        let v = e.evaluate(props)
        if v == .null { return fallback }
        guard let n = v.number else { w.add(layer.id, name, "\(v) is not a number"); return fallback }
        return n
    }

    static func string(_ layer: StyleLayer, _ name: String, _ props: [String: AttributeValue]) -> String? {
        guard let e = layer.property(name) else { return nil }
        let s = e.evaluate(props).string
        return s?.isEmpty == true ? nil : s
    }

    static func styled(_ layer: StyleLayer, _ f: Feature, language: String, warnings w: inout Warnings) -> DrawnFeature {
        let p = f.attributes
        var d = DrawnFeature(layer: layer.id, feature: f)
        switch layer.type {
        case .fill:
            d.fill = color(layer, "fill-color", p, .black, &w)?.withAlpha(number(layer, "fill-opacity", p, 1, &w))
            d.stroke = color(layer, "fill-outline-color", p, nil, &w)
            d.strokeWidth = d.stroke == nil ? nil : 1
        case .line:
            d.stroke = color(layer, "line-color", p, .black, &w)?.withAlpha(number(layer, "line-opacity", p, 1, &w))
            d.strokeWidth = number(layer, "line-width", p, 1, &w)
        case .circle:
            d.marker = color(layer, "circle-color", p, .black, &w)
            d.icon = "circle"
            let radius = number(layer, "circle-radius", p, 5, &w)
            d.markerSize = radius < 4.5 ? "small" : radius < 8.5 ? "medium" : "large"
        case .symbol:
            d.marker = color(layer, "icon-color", p, nil, &w) ?? color(layer, "text-color", p, .black, &w)
            d.icon = string(layer, "icon-image", p)
            d.title = string(layer, "text-field", p)
        case .background: break
        }
        if d.title == nil { d.title = p["name"]?.text ?? p["navn"]?.text }
        return d
    }

    // MARK: drawing

    mutating func draw() -> RenderReport {
        let W = r.page.widthPt, H = r.page.heightPt
        let base = MapRenderer.baseTypePt(W, H)
        let margin = max(min(W, H) * 0.04, 12)
        // Title block.
        // Texts around the map shrink to fit the page width rather than run off it; the title and subtitle
        // wrap onto more lines instead, keeping their size.
        func fitted(_ text: String, _ size: Double, bold: Bool = false) -> Canvas.TextLayout {
            let t = canvas.layout(text, size: size, bold: bold)
            let room = W - 2 * margin
            return t.width <= room ? t : canvas.layout(text, size: size * room / t.width * 0.98, bold: bold)
        }
        let title = canvas.layout(r.title, size: base * 1.35, bold: true, wrapWidth: W - 2 * margin)
        let subtitle = r.subtitle.map { canvas.layout($0, size: base * 0.85, wrapWidth: W - 2 * margin) }
        let attribution = fitted(r.attribution.joined(separator: " · "), base * 0.55)
        let top = margin + title.height + (subtitle.map { $0.height + base * 0.2 } ?? 0) + base * 0.5
        var frame = (x: margin, y: top, w: W - 2 * margin, h: H - top - margin - attribution.height - base * 0.3)
        // The legend follows the features, not the drawing: known first, so a dense map can make room for it
        // outside the frame rather than have it hide data.
        let legendEntries = legend(drawnLayers: Set(r.style.layers.filter { $0.type != .background && !$0.inset && $0.isVisible && !drawn($0).isEmpty }.map(\.id)))
        var outsideLegend: LabelPlacer.Box?
        var legendLayout = measureLegend(legendEntries, base: base)
        if let one = legendLayout, let two = measureLegend(legendEntries, base: base, columns: 2),
           let moved = legendOutside(size: (one.w, one.h), below: (two.w, two.h), frame: frame, base: base) {
            frame = moved.frame
            outsideLegend = moved.box
            if moved.columns == 2 { legendLayout = two }
        }
        let viewport = Viewport(extent: r.extent, frame: frame)
        clipFrame = frame

        // Page and background.
        canvas.color(.white)
        canvas.paint()  // every pixel, also a last partly covered row or column
        canvas.save()
        canvas.clip(frame.x, frame.y, frame.w, frame.h)
        // In SVG every style layer, its labels and each piece of furniture is a named group (an Inkscape layer).
        var symbols: [(layer: StyleLayer, features: [Feature])] = []
        for layer in r.style.layers where !layer.inset {
            if !layer.isVisible || !layer.hasItsData(r.data) { continue }
            switch layer.type {
            case .background:
                if let c = Self.color(layer, "background-color", [:], .white, &warnings) {
                    canvas.beginGroup(id: "layer-" + layer.id, label: layer.id)
                    canvas.color(c.withAlpha(Self.number(layer, "background-opacity", [:], 1, &warnings)))
                    canvas.rectangle(frame.x, frame.y, frame.w, frame.h)
                    canvas.fill()
                    canvas.endGroup()
                }
            case .symbol:
                symbols.append((layer, drawn(layer)))
            default:
                let features = Self.sorted(layer, drawn(layer))
                canvas.beginGroup(id: "layer-" + layer.id, label: layer.id)
                for (k, f) in features.enumerated() {
                    // An abandoned map stops here; render() then throws instead of writing it.
                    if k % 512 == 0 && r.control.isStopped { break }
                    drawFeature(layer, f, viewport)
                }
                flushBatch()
                canvas.endGroup()
            }
        }
        canvas.restore()

        // Furniture first, so labels keep clear of it.
        var placer = LabelPlacer(frame: frame)
        let scaleBar = ScaleBar(viewport: viewport, maxWidthPt: frame.w * 0.25)
        canvas.beginGroup(id: "scale-bar", label: r.language == "en" ? "scale bar" : "målestok")
        drawScaleBar(scaleBar, frame: frame, base: base, placer: &placer)
        canvas.endGroup()
        canvas.beginGroup(id: "north-arrow", label: r.language == "en" ? "north arrow" : "nordpil")
        drawNorthArrow(frame: frame, base: base, placer: &placer)
        canvas.endGroup()
        let legendBox = placeLegend(legendLayout, frame: frame, base: base, viewport: viewport, outside: outsideLegend,
                                    placer: &placer)
        let insetBox = placeInset(frame: frame, base: base, viewport: viewport, placer: &placer)
        for d in dots { placer.block(d) }
        allDots = Set(dots)

        // Symbols: icons and labels, by layer then by sort key; no overlaps, none cut by the frame.
        var labels: [(String, LabelPlacer.Box)] = []
        canvas.save()
        canvas.clip(frame.x, frame.y, frame.w, frame.h)
        // Icons first, in layer order; they become obstacles for labels but may overlap each other.
        for (layer, features) in symbols where layer.property("icon-image") != nil {
            canvas.beginGroup(id: "layer-" + layer.id, label: layer.id)
            for f in Self.sorted(layer, features) { drawIcon(layer, f, viewport, base: base, placer: &placer) }
            canvas.endGroup()
        }
        // Then labels: the top symbol layer is placed first (it has priority), as in MapLibre.
        for (layer, features) in symbols.reversed() {
            canvas.beginGroup(id: "labels-" + layer.id, label: layer.id + (r.language == "en" ? " (labels)" : " (navne)"))
            for f in Self.sorted(layer, features) where !r.control.isStopped {
                if let placedLabel = drawLabel(layer, f, viewport, base: base, placer: &placer) { labels.append(placedLabel) }
            }
            canvas.endGroup()
        }
        canvas.restore()
        // The inset and the legend last, opaque: nothing is drawn over them.
        drawInset(insetBox, base: base)
        canvas.beginGroup(id: "legend", label: r.language == "en" ? "legend" : "signaturforklaring")
        let legendLabels = drawLegend(legendEntries, legendBox, base: base)
        canvas.endGroup()

        // Frame, title, attribution.
        canvas.beginGroup(id: "frame", label: r.language == "en" ? "frame and titles" : "ramme og titler")
        canvas.color(RGBA(0.2, 0.2, 0.2))
        canvas.lineWidth(0.6)
        canvas.rectangle(frame.x, frame.y, frame.w, frame.h)
        canvas.stroke()
        canvas.draw(title, x: margin, y: margin, color: RGBA(0.1, 0.1, 0.1))
        if let subtitle { canvas.draw(subtitle, x: margin, y: margin + title.height + base * 0.2, color: RGBA(0.3, 0.3, 0.3)) }
        // Below the frame, or below a legend set under it.
        let attributionY = max(frame.y + frame.h, outsideLegend.map { $0.y + $0.h } ?? 0) + base * 0.25
        canvas.draw(attribution, x: W - margin - attribution.width, y: attributionY, color: RGBA(0.35, 0.35, 0.35))
        canvas.endGroup()
        var said = warnings.list
        if r.attribution.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            said.append("the map credits no data source: name them under `attribution:` in the study file")
        }
        return RenderReport(viewport: viewport, scaleBar: scaleBar, labels: labels, legend: legendLabels,
                            legendBox: legendBox.map { LabelPlacer.Box(x: $0.x, y: $0.y, w: $0.w, h: $0.h) }, icons: iconBoxes, insetBox: insetBox,
                            warnings: said)
    }

    static func sorted(_ layer: StyleLayer, _ fs: [Feature]) -> [Feature] {
        let key = ["fill-sort-key", "line-sort-key", "circle-sort-key", "symbol-sort-key"].compactMap { layer.layout[$0] }.first
        guard let key else { return fs }
        let keys = fs.map { key.evaluate($0.attributes).number ?? 0 }
        return fs.indices.sorted { (keys[$0], $0) < (keys[$1], $1) }.map { fs[$0] }
    }

    func path(_ ring: [Coordinate], _ v: Viewport, close: Bool) {
        guard let first = ring.first else { return }
        let p0 = v.page(first)
        canvas.moveTo(p0.x, p0.y)
        for c in ring.dropFirst() { let p = v.page(c); canvas.lineTo(p.x, p.y) }
        if close { canvas.closePath() }
    }

    /// How a run of alike features is painted.
    struct Batch: Equatable {
        var color: RGBA
        var width: Double
        var dash: [Double]
        var cap: String
        var join: String
        var fill: Bool
    }

    /// Paints the path built up for the current batch.
    mutating func flushBatch() {
        guard let b = batch else { return }
        batch = nil
        batchCount = 0
        canvas.color(b.color)
        if b.fill {
            canvas.nonZero()
            canvas.fill()
        } else {
            canvas.lineWidth(b.width)
            canvas.dash(b.dash)
            canvas.cap(b.cap)
            canvas.join(b.join)
            canvas.stroke()
            canvas.dash([])
        }
        canvas.newPath()
    }

    mutating func drawFeature(_ layer: StyleLayer, _ f: Feature, _ v: Viewport) {
        guard let g = f.geometry else { return }
        let p = f.attributes
        switch layer.type {
        case .fill:
            flushBatch()
            let polys = g.polygons
            guard !polys.isEmpty else { return }
            canvas.newPath()
            for poly in polys { for ring in poly { path(ring, v, close: true) } }
            canvas.evenOdd()
            if let c = Self.color(layer, "fill-color", p, .black, &warnings) {
                canvas.color(c.withAlpha(Self.number(layer, "fill-opacity", p, 1, &warnings)))
                canvas.fill(preserve: true)
            }
            if let o = Self.color(layer, "fill-outline-color", p, nil, &warnings) {
                canvas.color(o)
                canvas.lineWidth(0.5)
                canvas.stroke(preserve: true)
            }
            canvas.newPath()
        case .line:
            let parts = g.lineParts + g.polygons.flatMap { $0 }
            guard !parts.isEmpty, let c = Self.color(layer, "line-color", p, .black, &warnings) else { return }
            let width = Self.number(layer, "line-width", p, 1, &warnings) * MapRenderer.px
            var dash: [Double] = []
            if let d = layer.paint["line-dasharray"]?.evaluate(p), case .array(let items) = d { dash = items.compactMap(\.number).map { $0 * width } }
            let look = Batch(color: c.withAlpha(Self.number(layer, "line-opacity", p, 1, &warnings)), width: width, dash: dash,
                             cap: layer.layout["line-cap"]?.evaluate(p).string ?? "butt",
                             join: layer.layout["line-join"]?.evaluate(p).string ?? "miter", fill: false)
            // Consecutive lines that look alike are stroked as one path.
            if batch != look || batchCount >= 500 { flushBatch(); batch = look }
            batchCount += 1
            for part in parts { path(part, v, close: false) }
        case .circle:
            let sw = Self.number(layer, "circle-stroke-width", p, 0, &warnings)
            if sw == 0, let c = Self.color(layer, "circle-color", p, .black, &warnings) {
                // Circles without an outline that look alike are filled as one path.
                let look = Batch(color: c.withAlpha(Self.number(layer, "circle-opacity", p, 1, &warnings)), width: 0, dash: [],
                                 cap: "", join: "", fill: true)
                if batch != look || batchCount >= 500 { flushBatch(); batch = look }
                batchCount += 1
                let radius = Self.number(layer, "circle-radius", p, 5, &warnings) * MapRenderer.px
                for pt in g.pointParts { let q = v.page(pt); canvas.circle(q.x, q.y, radius); addDot(q, radius) }
                return
            }
            flushBatch()
            for pt in g.pointParts {
                let q = v.page(pt)
                let radius = Self.number(layer, "circle-radius", p, 5, &warnings) * MapRenderer.px
                addDot(q, radius + sw * MapRenderer.px / 2)
                canvas.newPath()
                canvas.circle(q.x, q.y, radius)
                if let c = Self.color(layer, "circle-color", p, .black, &warnings) {
                    canvas.color(c.withAlpha(Self.number(layer, "circle-opacity", p, 1, &warnings)))
                    canvas.fill(preserve: true)
                }
                if sw > 0, let s = Self.color(layer, "circle-stroke-color", p, .black, &warnings) {
                    canvas.color(s.withAlpha(Self.number(layer, "circle-stroke-opacity", p, 1, &warnings)))
                    canvas.lineWidth(sw * MapRenderer.px)
                    canvas.stroke(preserve: true)
                }
                canvas.newPath()
            }
        default: break
        }
    }

    /// Where a symbol sits: the point itself, or a point inside a polygon, or the middle of a line.
    static func anchor(_ g: Geometry) -> Coordinate? { anchors(g).first }

    /// Candidate anchors, best first: for a polygon, the middle of the widest inside stretch of horizontal
    /// lines at several heights of its largest part (so a label can dodge what sits in its middle).
    static func anchors(_ g: Geometry) -> [Coordinate] {
        if let pt = g.pointParts.first { return [pt] }
        let polys = g.polygons
        if let biggest = polys.max(by: { abs(Ring.signedArea($0.first ?? [])) < abs(Ring.signedArea($1.first ?? [])) }),
           let outer = biggest.first, let env = Envelope(covering: outer) {
            var out: [Coordinate] = []
            for f in [0.5, 0.38, 0.62, 0.26, 0.74] {
                let y = env.minY + (env.maxY - env.minY) * f
                var xs: [Double] = []
                for ring in biggest {
                    for (a, b) in zip(ring, ring.dropFirst()) where (a.y > y) != (b.y > y) {
                        xs.append(a.x + (y - a.y) / (b.y - a.y) * (b.x - a.x))
                    }
                }
                xs.sort()
                var best: (Double, Double)?
                var i = 0
                while i + 1 < xs.count {
                    if best == nil || xs[i + 1] - xs[i] > best!.1 - best!.0 { best = (xs[i], xs[i + 1]) }
                    i += 2
                }
                if let best { out.append(Coordinate(x: (best.0 + best.1) / 2, y: y)) }
            }
            return out.isEmpty ? [env.center] : out
        }
        let parts = g.lineParts
        if let line = parts.max(by: { $0.count < $1.count }), !line.isEmpty { return [line[line.count / 2]] }
        return g.envelope.map { [$0.center] } ?? []
    }

    /// A symbol's icon; it keeps labels off its box.
    mutating func drawIcon(_ layer: StyleLayer, _ f: Feature, _ v: Viewport, base: Double, placer: inout LabelPlacer) {
        guard let g = f.geometry, let at = Self.anchor(g), let icon = Self.string(layer, "icon-image", f.attributes) else { return }
        let p = f.attributes
        let q = v.page(at)
        let size = iconRadius(layer, p, base: base)
        func box(_ c: (x: Double, y: Double)) -> LabelPlacer.Box { LabelPlacer.Box(x: c.x - size, y: c.y - size, w: 2 * size, h: 2 * size) }
        // Icons at (nearly) one place would hide each other (a library in the town hall): the later one moves
        // out around the place, nearest free spot first, joined to it by a leader line.
        var centre = q
        if iconBoxes.contains(where: { $0.intersects(box(q)) }) {
            let step = 2 * size + size * 0.35
            var spots: [(x: Double, y: Double)] = []
            for ring in 1...3 {
                let d = step * Double(ring), n = 8 * ring
                for k in 0..<n {
                    let a = Double(k) / Double(n) * 2 * Double.pi
                    spots.append((q.x + d * cos(a), q.y - d * sin(a)))
                }
            }
            let frame = clipFrame
            if let free = spots.first(where: { s in box(s).inside(frame) && !iconBoxes.contains { $0.intersects(box(s)) } }) {
                centre = free
                canvas.color(RGBA(0.25, 0.25, 0.25))
                canvas.lineWidth(0.6)
                canvas.newPath()
                let dx = free.x - q.x, dy = free.y - q.y, len = max(1e-9, (dx * dx + dy * dy).squareRoot())
                canvas.moveTo(q.x, q.y)
                canvas.lineTo(free.x - dx / len * size, free.y - dy / len * size)
                canvas.stroke()
                canvas.newPath()
                canvas.circle(q.x, q.y, max(1, size * 0.18))
                canvas.fill()
                displaced[Self.key(q), default: []].append((p["id"]?.text ?? "", (free.x, free.y)))
            }
        }
        let b = box(centre)
        let allow = layer.layout["icon-allow-overlap"]?.evaluate(p).truthy ?? true
        if allow { placer.block(b) } else if !placer.place(b, padding: 0) { return }
        iconBoxes.append(b)
        let c = Self.color(layer, "icon-color", p, RGBA(0.2, 0.2, 0.2), &warnings)!.withAlpha(Self.number(layer, "icon-opacity", p, 1, &warnings))
        Icons.draw(icon, canvas: canvas, x: centre.x, y: centre.y, radius: size, color: c)
    }

    mutating func iconRadius(_ layer: StyleLayer, _ p: [String: AttributeValue], base: Double) -> Double {
        Self.number(layer, "icon-size", p, 1, &warnings) * 7 * MapRenderer.px * (base / 14)
    }

    /// A symbol's label, beside its icon if it has one; returns the label placed.
    mutating func drawLabel(_ layer: StyleLayer, _ f: Feature, _ v: Viewport, base: Double,
                            placer: inout LabelPlacer) -> (String, LabelPlacer.Box)? {
        guard let g = f.geometry else { return nil }
        var points = Self.anchors(g).map { v.page($0) }
        let p = f.attributes
        // A label goes with its icon when the icon was moved off a crowded place.
        if let first = points.first, let moved = displaced[Self.key(first)]?.first(where: { $0.id == (p["id"]?.text ?? "") }) {
            points = [moved.to]
        }
        guard let q = points.first else { return nil }
        let iconRadius = Self.string(layer, "icon-image", p) == nil ? 0 : iconRadius(layer, p, base: base)
        guard var text = Self.string(layer, "text-field", p) else { return nil }
        switch layer.layout["text-transform"]?.evaluate(p).string {
        case "uppercase": text = text.uppercased()
        case "lowercase": text = text.lowercased()
        default: break
        }
        let size = Self.number(layer, "text-size", p, 12, &warnings) * MapRenderer.px * (base / 14)
        let t = canvas.layout(text, size: size)
        var dx = 0.0, dy = 0.0
        if let off = layer.layout["text-offset"]?.evaluate(p), case .array(let o) = off, o.count == 2 {
            dx = (o[0].number ?? 0) * size
            dy = (o[1].number ?? 0) * size
        }
        let anchor = layer.layout["text-anchor"]?.evaluate(p).string ?? (iconRadius > 0 ? "left" : "center")
        let gap = iconRadius > 0 ? iconRadius + size * 0.25 : 0
        func box(_ anchor: String, dx: Double, dy: Double, at q: (x: Double, y: Double) = q) -> LabelPlacer.Box {
            var x = q.x + dx, y = q.y + dy
            switch anchor {
            case "left": x += gap; y -= t.height / 2
            case "right": x -= t.width + gap; y -= t.height / 2
            case "top": x -= t.width / 2; y += gap
            case "bottom": x -= t.width / 2; y -= t.height + gap
            case "top-left": x += gap; y += gap
            case "top-right": x -= t.width + gap; y += gap
            case "bottom-left": x += gap; y -= t.height + gap
            case "bottom-right": x -= t.width + gap; y -= t.height + gap
            default: x -= t.width / 2; y -= t.height / 2
            }
            return LabelPlacer.Box(x: x, y: y, w: t.width, h: t.height)
        }
        let allow = layer.layout["text-allow-overlap"]?.evaluate(p).truthy ?? false
        let padding = Self.number(layer, "text-padding", p, 2, &warnings) * MapRenderer.px
        // The style's anchor first; a label beside a point may move to the other side, above or below.
        var candidates = points.map { box(anchor, dx: dx, dy: dy, at: $0) }
        if anchor != "center" {
            // Around the point at the style's distance, then twice and four times as far (MapLibre's variable anchors).
            let side = max(abs(dx) + abs(dy), size * 0.4)
            for k in [1.0, 2.0, 4.0] {
                let d = side * k, diag = d * 0.7
                candidates += [box("left", dx: d, dy: 0), box("right", dx: -d, dy: 0), box("bottom", dx: 0, dy: -d), box("top", dx: 0, dy: d),
                               box("bottom-left", dx: diag, dy: -diag), box("bottom-right", dx: -diag, dy: -diag),
                               box("top-left", dx: diag, dy: diag), box("top-right", dx: -diag, dy: diag)]
            }
        }
        // The point's own dot is no obstacle to its own label. Other dots are, so a label is not read as
        // theirs; a label that fits nowhere then (a town ringed by villages and facilities) may lie over dots
        // rather than vanish, still never over icons, labels or the legend.
        let own = Set(points.flatMap { pt in dotsAt[Self.key(pt)] ?? [] })
        // Nor is a label nearer to another icon than to its own place (icons moved apart at a crowded place).
        func reach(_ c: (x: Double, y: Double), _ b: LabelPlacer.Box) -> Double {
            let x = min(max(c.x, b.x), b.x + b.w), y = min(max(c.y, b.y), b.y + b.h)
            return ((c.x - x) * (c.x - x) + (c.y - y) * (c.y - y)).squareRoot()
        }
        // Only icons moved apart near this place can be mistaken for its own (a few, whatever the map's size).
        let nearbyIcons = displaced.isEmpty ? [] : iconBoxes.filter { i in abs(i.x - q.x) < 250 && abs(i.y - q.y) < 250 }
        func unambiguous(_ b: LabelPlacer.Box) -> Bool {
            let mine = points.map { reach($0, b) }.min() ?? 0
            return !nearbyIcons.contains { i in
                let c = (x: i.x + i.w / 2, y: i.y + i.h / 2)
                return !points.contains { abs($0.x - c.x) < 0.01 && abs($0.y - c.y) < 0.01 } && reach(c, b) < mine
            }
        }
        guard let placed = candidates.first(where: { unambiguous($0) && placer.place($0, padding: padding, allowOverlap: allow, ignoring: own) })
                ?? candidates.first(where: { placer.place($0, padding: padding, allowOverlap: allow, ignoring: own) })
                ?? candidates.first(where: { placer.place($0, padding: padding, allowOverlap: allow, ignoring: allDots) }) else { return nil }
        let x = placed.x, y = placed.y
        let color = Self.color(layer, "text-color", p, .black, &warnings)!.withAlpha(Self.number(layer, "text-opacity", p, 1, &warnings))
        let halo = Self.color(layer, "text-halo-color", p, nil, &warnings)
        canvas.draw(t, x: x, y: y, color: color, halo: halo, haloWidth: Self.number(layer, "text-halo-width", p, 0, &warnings) * MapRenderer.px)
        return (text, placed)
    }

    // MARK: furniture

    mutating func drawScaleBar(_ s: ScaleBar, frame: (x: Double, y: Double, w: Double, h: Double), base: Double, placer: inout LabelPlacer) {
        let pad = base * 0.5
        let label = canvas.layout(s.label, size: base * 0.6)
        let zero = canvas.layout("0", size: base * 0.6)
        let barH = base * 0.3
        let x = frame.x + pad * 1.5, y = frame.y + frame.h - pad * 1.5 - barH - label.height
        let box = LabelPlacer.Box(x: x - pad * 0.5, y: y - pad * 0.3, w: s.widthPt + label.width + pad, h: barH + label.height + pad * 0.8)
        canvas.color(RGBA(1, 1, 1, 0.8))
        canvas.rectangle(box.x, box.y, box.w, box.h)
        canvas.fill()
        for i in 0..<4 {
            canvas.rectangle(x + s.widthPt / 4 * Double(i), y + label.height, s.widthPt / 4, barH)
            canvas.color(i % 2 == 0 ? RGBA(0.15, 0.15, 0.15) : .white)
            canvas.fill(preserve: true)
            canvas.color(RGBA(0.15, 0.15, 0.15))
            canvas.lineWidth(0.5)
            canvas.stroke()
        }
        canvas.draw(zero, x: x - zero.width / 2, y: y, color: RGBA(0.1, 0.1, 0.1))
        canvas.draw(label, x: x + s.widthPt - label.width / 2, y: y, color: RGBA(0.1, 0.1, 0.1))
        // The ratio beside the bar, rounded as a map scale is read (1:110.000).
        let ratio = canvas.layout("1:" + Self.scaleText(s.scaleDenominator, language: r.language), size: base * 0.6)
        let rx = x + s.widthPt + label.width / 2 + pad, ry = y + label.height + barH / 2 - ratio.height / 2
        canvas.color(RGBA(1, 1, 1, 0.8))
        canvas.rectangle(rx - pad * 0.3, ry - pad * 0.1, ratio.width + pad * 0.6, ratio.height + pad * 0.2)
        canvas.fill()
        canvas.draw(ratio, x: rx, y: ry, color: RGBA(0.1, 0.1, 0.1))
        placer.block(LabelPlacer.Box(x: box.x, y: box.y, w: rx + ratio.width + pad * 0.3 - box.x, h: box.h))
    }

    mutating func drawNorthArrow(frame: (x: Double, y: Double, w: Double, h: Double), base: Double, placer: inout LabelPlacer) {
        let size = base * 1.6
        let cx = frame.x + frame.w - base * 1.6, cy = frame.y + base * 0.8 + size
        let n = canvas.layout("N", size: base * 0.75, bold: true)
        canvas.newPath()
        canvas.moveTo(cx, cy - size * 0.75)
        canvas.lineTo(cx + size * 0.3, cy + size * 0.35)
        canvas.lineTo(cx, cy + size * 0.15)
        canvas.lineTo(cx - size * 0.3, cy + size * 0.35)
        canvas.closePath()
        canvas.color(RGBA(0.15, 0.15, 0.15))
        canvas.fill()
        canvas.draw(n, x: cx - n.width / 2, y: cy - size * 0.75 - n.height, color: RGBA(0.1, 0.1, 0.1), halo: .white, haloWidth: 1.5)
        placer.block(LabelPlacer.Box(x: cx - size * 0.4, y: cy - size * 0.75 - n.height, w: size * 0.8, h: size * 1.1 + n.height))
    }

    /// What a feature looks like in a layer: its evaluated paint (and icon), for matching legend items.
    /// The properties that tell legend entries apart: colours and symbols (sizes vary with the data and do not).
    static func lookKeys(_ layer: StyleLayer) -> [String] {
        let specs = PropertySpecs.paint[layer.type] ?? [:]
        let colors = layer.paint.keys.filter { if case .color? = specs[$0] { return true }; return false }
        return colors.sorted() + (layer.layout["icon-image"] != nil ? ["icon-image"] : [])
    }

    static func look(_ layer: StyleLayer, _ keys: [String], _ props: [String: AttributeValue]) -> [StyleValue] {
        keys.map { layer.property($0)!.evaluate(props) }
    }

    /// Entries: per layer with a legend label (top layer first). A layer's legend items are shown when some
    /// drawn feature looks like the item's swatch (same evaluated paint), so the legend matches the map.
    func legend(drawnLayers: Set<String>) -> [(StyleLayer, String, [String: AttributeValue])] {
        var out: [(StyleLayer, String, [String: AttributeValue])] = []
        for layer in r.style.layers.reversed() where drawnLayers.contains(layer.id) {
            // Only what the frame shows: a feature outside it gets no legend entry.
            let features = drawn(layer).filter { f in
                f.geometry?.envelope.map { e in e.minX <= r.extent.maxX && e.maxX >= r.extent.minX && e.minY <= r.extent.maxY && e.maxY >= r.extent.minY } ?? false
            }
            if let by = layer.legendBy {
                var seen: [String: [String: AttributeValue]] = [:]
                for f in features { if let v = f.attributes[by]?.text, seen[v] == nil { seen[v] = f.attributes } }
                let values = seen.keys.sorted { $0.localizedStandardCompare($1) == .orderedAscending }
                for v in values.prefix(Self.legendByLimit) {
                    out.append((layer, layer.legend.map { Self.fill($0.text(r.language), from: seen[v]!) } ?? v, seen[v]!))
                }
                if values.count > Self.legendByLimit {
                    let more = values.count - Self.legendByLimit
                    out.append((layer, r.language == "en" ? "… and \(more) more" : "… og \(more) flere", seen[values[Self.legendByLimit]]!))
                }
            } else if !layer.legendItems.isEmpty {
                // The first feature with each look; evaluated values, not their text (a map may have 20,000 dots).
                let keys = Self.lookKeys(layer)
                var firstWith: [[StyleValue]: Int] = [:]
                for (i, f) in features.enumerated() {
                    let l = Self.look(layer, keys, f.attributes)
                    if firstWith[l] == nil { firstWith[l] = i }
                }
                for item in layer.legendItems {
                    var props: [String: AttributeValue] = [:]
                    for (k, v) in item.properties {
                        switch v {
                        case .number(let n): props[k] = .double(n)
                        case .bool(let b): props[k] = .bool(b)
                        default: props[k] = v.string.map(AttributeValue.string) ?? .null
                        }
                    }
                    guard let i = firstWith[Self.look(layer, keys, props)] else { continue }
                    let match = features[i].attributes
                    out.append((layer, Self.fill(item.label.text(r.language), from: match), props.merging(match) { a, _ in a }))
                }
            } else if let label = layer.legend {
                let props = features.first?.attributes ?? [:]
                out.append((layer, Self.fill(label.text(r.language), from: props), props))
            }
            // Merged points say so: how many, into how many dots, by which cell.
            if let note = aggregation[layer.id] {
                out.append((layer, Self.mergedText(note, language: r.language), [Self.mergedKey: .bool(true)]))
            }
            // Dots sized by the data get a size key: three round values up to the largest drawn.
            if layer.type == .circle, case .interpolate(.get(let property), _)? = layer.paint["circle-radius"] {
                let largest = features.compactMap { $0.attributes[property]?.number }.filter(\.isFinite).max() ?? 0
                let values = Self.sizeKeyValues(upTo: largest)
                if values.count >= 2 {
                    let heading = property == "population" ? (r.language == "en" ? "Inhabitants" : "Indbyggere") : property
                    out.append((layer, heading, [Self.sizeKey: .string(property), Self.sizeValuesKey: .string(values.map { String($0) }.joined(separator: "|"))]))
                }
            }
        }
        return out
    }

    /// Marks the legend entry that explains merged points (drawn as a small cluster of grey dots).
    static let mergedKey = "klynge_merged_points"
    /// Mark a size key entry: the property the size follows, and the values shown ("10|100|1000").
    static let sizeKey = "klynge_size_key"
    static let sizeValuesKey = "klynge_size_values"

    /// Up to three round values (1, 2 or 5 × a power of ten) a tenth apart, the largest not above `largest`.
    static func sizeKeyValues(upTo largest: Double) -> [Double] {
        guard largest >= 1 else { return [] }
        let p = pow(10, floor(log10(largest)))
        let top = [5 * p, 2 * p, p].first { $0 <= largest }!
        return [top / 100, top / 10, top].filter { $0 >= 1 }
    }

    /// A size key's circles (radius in points) and value texts, laid out in one row.
    func sizeKeyLayout(_ layer: StyleLayer, _ props: [String: AttributeValue], size: Double) -> [(radius: Double, text: Canvas.TextLayout)]? {
        guard let property = props[Self.sizeKey]?.text, let values = props[Self.sizeValuesKey]?.text else { return nil }
        var w = Warnings()
        return values.split(separator: "|").compactMap { Double($0) }.map { v in
            let radius = Self.number(layer, "circle-radius", [property: .double(v)], 5, &w) * MapRenderer.px
            let digits = Array(String(Int(v)))
            var text = ""
            for (i, d) in digits.enumerated() {
                if i > 0 && (digits.count - i) % 3 == 0 { text += r.language == "en" ? "," : "." }
                text.append(d)
            }
            return (radius, canvas.layout(text, size: size * 0.9))
        }
    }

    static func mergedText(_ note: AggregationNote, language: String) -> String {
        func grouped(_ n: Int) -> String {
            let digits = Array(String(n))
            var out = ""
            for (i, d) in digits.enumerated() {
                if i > 0 && (digits.count - i) % 3 == 0 { out += language == "en" ? "," : "." }
                out.append(d)
            }
            return out
        }
        let cell = note.cellMeters >= 1000 ? (note.cellMeters / 1000).formatted(.number.precision(.fractionLength(0...1))).replacingOccurrences(of: ".", with: language == "en" ? "." : ",") + " km"
            : "\(Int(note.cellMeters.rounded())) m"
        return language == "en"
            ? "Unnamed points merged per \(cell) square (\(grouped(note.points)) into \(grouped(note.dots)) dots)"
            : "Punkter uden navn samlet pr. \(cell)-felt (\(grouped(note.points)) til \(grouped(note.dots)) prikker)"
    }

    /// A scale denominator rounded to two significant digits (110,674 → 110,000), grouped as the language writes it.
    static func scaleText(_ denominator: Double, language: String) -> String {
        guard denominator.isFinite, denominator >= 1 else { return "–" }
        let step = pow(10, max(0, floor(log10(denominator)) - 1))
        let rounded = Int((denominator / step).rounded() * step)
        var digits = String(rounded), out = ""
        while digits.count > 3 { out = (language == "en" ? "," : ".") + digits.suffix(3) + out; digits = String(digits.dropLast(3)) }
        return digits + out
    }

    /// A legend lists at most this many values of a `klynge:legend-by` property, then says how many more.
    static let legendByLimit = 12

    /// Legend labels may name feature properties: "Inden for {value_text}".
    static func fill(_ text: String, from props: [String: AttributeValue]) -> String {
        guard text.contains("{") else { return text }
        var out = text
        for (k, v) in props where out.contains("{\(k)}") { out = out.replacingOccurrences(of: "{\(k)}", with: v.text ?? "") }
        return out
    }

    /// Where the legend goes and what it holds, decided before the symbols so labels keep clear of it.
    struct LegendBox {
        var x: Double, y: Double, w: Double, h: Double
        var heading: Canvas.TextLayout
        var texts: [Canvas.TextLayout]
        var rowHeights: [Double], pad: Double, swatch: Double, size: Double
        /// Entries before this index fill the first column, the rest the second (a legend set below the map).
        var split: Int
        var columnWidth: Double
    }

    /// Sizes the legend and puts it in the frame's corner that hides the fewest drawn points (villages,
    /// facilities), then the fewest line and outline vertices, among the corners the scale bar and north
    /// arrow leave free; bottom right on a tie. The box is reserved in `placer`; `drawLegend` paints it last,
    /// opaque, so nothing is drawn over it.
    mutating func placeLegend(_ measured: LegendBox?, frame: (x: Double, y: Double, w: Double, h: Double),
                              base: Double, viewport: Viewport, outside: LabelPlacer.Box?, placer: inout LabelPlacer) -> LegendBox? {
        guard var box = measured else { return nil }
        let chosen = outside ?? freestCorner(w: box.w, h: box.h, frame: frame, base: base, viewport: viewport, placer: &placer)
        box.x = chosen.x
        box.y = chosen.y
        return box
    }

    /// The legend's texts and size (placed at 0, 0), in one column or two.
    func measureLegend(_ entries: [(StyleLayer, String, [String: AttributeValue])], base: Double, columns: Int = 1) -> LegendBox? {
        guard !entries.isEmpty else { return nil }
        let size = base * 0.62
        let texts = entries.map { canvas.layout($0.1, size: size) }
        let heading = canvas.layout(r.language == "en" ? "Legend" : "Signaturforklaring", size: size * 1.05, bold: true)
        let swatch = size * 1.6, rowH = max(size * 1.5, texts.map(\.height).max() ?? 0)
        let pad = size * 0.7
        // A size key takes its heading's line, then a line of circles as large as drawn, each with its value.
        var rowHeights: [Double] = [], rowWidths: [Double] = []
        for (i, e) in entries.enumerated() {
            if let key = sizeKeyLayout(e.0, e.2, size: size) {
                let tall = max(2 * (key.map(\.radius).max() ?? 0), key.map(\.text.height).max() ?? 0)
                rowHeights.append(texts[i].height + pad * 0.4 + tall + pad * 0.3)
                rowWidths.append(max(texts[i].width, key.reduce(0) { $0 + 2 * $1.radius + pad * 0.4 + $1.text.width + pad }))
            } else {
                rowHeights.append(rowH)
                rowWidths.append(texts[i].width + swatch + pad)
            }
        }
        let split = columns >= 2 ? (entries.count + 1) / 2 : entries.count
        let columnWidth = rowWidths.max() ?? 0
        let w = max(heading.width, columns >= 2 && split < entries.count ? 2 * columnWidth + 2 * pad : columnWidth) + 2 * pad
        let tallest = max(rowHeights[..<split].reduce(0, +), rowHeights[split...].reduce(0, +))
        let h = heading.height + pad * 0.5 + tallest + 2 * pad
        return LegendBox(x: 0, y: 0, w: w, h: h, heading: heading, texts: texts, rowHeights: rowHeights, pad: pad, swatch: swatch, size: size,
                         split: split, columnWidth: columnWidth)
    }

    /// Where the legend goes outside the map when every corner it could take inside would hide some of the study
    /// (its points, lines or areas): beside the frame or below it, whichever leaves the larger map. Returns the smaller frame and the
    /// legend's box, or nil to keep the legend inside. The corners are judged from the features themselves, as
    /// nothing is drawn yet; the scale bar (bottom left) and north arrow (top right) are kept clear.
    func legendOutside(size: (w: Double, h: Double), below: (w: Double, h: Double), frame: (x: Double, y: Double, w: Double, h: Double), base: Double)
        -> (frame: (x: Double, y: Double, w: Double, h: Double), box: LabelPlacer.Box, columns: Int)? {
        // The study's points, lines and areas (not the land or locator around it).
        let crowd = pageCrowd(Viewport(extent: r.extent, frame: frame), withContext: false)
        let points = crowd.points + crowd.vertices
        let inset = base * 0.6
        let furniture = [LabelPlacer.Box(x: frame.x, y: frame.y + frame.h - base * 3, w: frame.w * 0.32, h: base * 3),
                         LabelPlacer.Box(x: frame.x + frame.w - base * 2.4, y: frame.y, w: base * 2.4, h: base * 3.4)]
        let xs = [frame.x + frame.w - size.w - inset, frame.x + inset], ys = [frame.y + frame.h - size.h - inset, frame.y + inset]
        let corners = ys.flatMap { y in xs.map { x in LabelPlacer.Box(x: x, y: y, w: size.w, h: size.h) } }
            .filter { c in !furniture.contains { $0.intersects(c) } }
        let hidden = corners.map { c in points.filter { $0.x >= c.x && $0.x <= c.x + c.w && $0.y >= c.y && $0.y <= c.y + c.h }.count }
        guard (hidden.min() ?? 1) > 0 else { return nil }
        // Beside: one column. Below: two columns when they fit the width (a lower strip, a larger map).
        let gap = base * 0.6
        let under = below.w <= frame.w ? below : size
        let besideArea = (frame.w - size.w - gap) * frame.h, belowArea = frame.w * (frame.h - under.h - gap)
        if size.h <= frame.h && frame.w - size.w - gap >= frame.w * 0.5 && besideArea >= belowArea {
            let f = (x: frame.x, y: frame.y, w: frame.w - size.w - gap, h: frame.h)
            return (f, LabelPlacer.Box(x: f.x + f.w + gap, y: f.y + f.h - size.h, w: size.w, h: size.h), 1)
        }
        if under.w <= frame.w && frame.h - under.h - gap >= frame.h * 0.5 {
            let f = (x: frame.x, y: frame.y, w: frame.w, h: frame.h - under.h - gap)
            return (f, LabelPlacer.Box(x: f.x + f.w - under.w, y: f.y + f.h + gap, w: under.w, h: under.h), below.w <= frame.w ? 2 : 1)
        }
        return nil
    }

    /// The frame's corner for a box of w × h that hides the fewest drawn points, then the fewest line and
    /// outline vertices, among the corners still free (scale bar, north arrow, legend); bottom right on a tie.
    /// The box is reserved in `placer`.
    mutating func freestCorner(w: Double, h: Double, frame: (x: Double, y: Double, w: Double, h: Double), base: Double, viewport: Viewport,
                               placer: inout LabelPlacer) -> LabelPlacer.Box {
        let inset = base * 0.6
        let left = frame.x + inset, right = frame.x + frame.w - w - inset
        let top = frame.y + inset, bottom = frame.y + frame.h - h - inset
        // Bottom right first: the tie-breaker, and where readers look for a legend.
        let corners = [(right, bottom), (left, bottom), (right, top), (left, top)].map { LabelPlacer.Box(x: $0.0, y: $0.1, w: w, h: h) }
        if crowd == nil { crowd = pageCrowd(viewport, withContext: true) }
        let (points, vertices) = crowd!
        func count(_ b: LabelPlacer.Box, _ ps: [(x: Double, y: Double)]) -> Int { ps.reduce(0) { $0 + ($1.x >= b.x && $1.x <= b.x + b.w && $1.y >= b.y && $1.y <= b.y + b.h ? 1 : 0) } }
        // A corner taken by the scale bar or north arrow may still hold the box beside them, along the edge.
        var candidates = corners
        for (k, c) in corners.enumerated() {
            var shifted = c
            let towardsMiddle = k % 2 == 0 ? -1.0 : 1.0  // right corners move left, left corners move right
            for _ in 0..<4 where placer.anyPlaced(intersecting: shifted) {
                shifted.x += towardsMiddle * max(base, w * 0.25)
            }
            if shifted.x != c.x && shifted.x >= left && shifted.x <= right { candidates.append(shifted) }
        }
        let free = candidates.filter { !placer.anyPlaced(intersecting: $0) }
        let chosen = (free.isEmpty ? corners : free).min { a, b in (count(a, points), count(a, vertices)) < (count(b, points), count(b, vertices)) }!
        placer.block(chosen)
        return chosen
    }

    /// The locator inset: the `klynge:inset` layers (a country outline) fitted into a box in a free corner,
    /// with the map's frame marked in red (a ring when it would be too small to see). Nil without them.
    /// The box is reserved here, with the legend; `drawInset` paints it last.
    mutating func placeInset(frame: (x: Double, y: Double, w: Double, h: Double), base: Double, viewport: Viewport,
                             placer: inout LabelPlacer) -> LabelPlacer.Box? {
        guard let region = insetRegion else { return nil }
        insetExtent = region
        let side = min(frame.w, frame.h) * 0.22, aspect = (region.maxX - region.minX) / (region.maxY - region.minY)
        let pad = base * 0.3
        let w = (aspect >= 1 ? side : side * aspect) + 2 * pad, h = (aspect >= 1 ? side / aspect : side) + 2 * pad
        return freestCorner(w: w, h: h, frame: frame, base: base, viewport: viewport, placer: &placer)
    }

    var insetRegion: Envelope? {
        let layers = r.style.layers.filter { $0.inset && !drawn($0).isEmpty }
        guard let region = Envelope(covering: layers.flatMap { drawn($0).flatMap { $0.geometry?.allCoordinates ?? [] } }),
              region.maxX > region.minX, region.maxY > region.minY else { return nil }
        return region
    }

    /// Paints the inset in its box, after the map's icons and labels (which keep clear of it), opaque.
    mutating func drawInset(_ box: LabelPlacer.Box?, base: Double) {
        guard let box, let region = insetExtent else { return }
        let layers = r.style.layers.filter { $0.inset && !drawn($0).isEmpty }
        let pad = base * 0.3
        canvas.beginGroup(id: "locator", label: r.language == "en" ? "locator" : "oversigtskort")
        canvas.color(.white)
        canvas.rectangle(box.x, box.y, box.w, box.h)
        canvas.fill(preserve: true)
        canvas.color(RGBA(0.6, 0.6, 0.6))
        canvas.lineWidth(0.4)
        canvas.stroke()
        canvas.save()
        canvas.clip(box.x, box.y, box.w, box.h)
        let inner = Viewport(extent: region, frame: (box.x + pad, box.y + pad, box.w - 2 * pad, box.h - 2 * pad))
        for layer in layers {
            for f in Self.sorted(layer, drawn(layer)) { drawFeature(layer, f, inner) }
            flushBatch()
        }
        // The map's frame: a red rectangle, or a ring round it when smaller than a few points.
        let a = inner.page(Coordinate(x: r.extent.minX, y: r.extent.maxY)), b = inner.page(Coordinate(x: r.extent.maxX, y: r.extent.minY))
        canvas.color(RGBA(0.84, 0.19, 0.12))
        canvas.lineWidth(1.2)
        canvas.newPath()
        if b.x - a.x < 4 && b.y - a.y < 4 {
            canvas.circle((a.x + b.x) / 2, (a.y + b.y) / 2, 3.5)
        } else {
            canvas.rectangle(a.x, a.y, b.x - a.x, b.y - a.y)
        }
        canvas.stroke()
        canvas.restore()
        canvas.endGroup()
    }

    mutating func drawLegend(_ entries: [(StyleLayer, String, [String: AttributeValue])], _ box: LegendBox?, base: Double) -> [String] {
        guard let box else { return [] }
        let (x, y, w, h, pad, swatch) = (box.x, box.y, box.w, box.h, box.pad, box.swatch)
        canvas.color(.white)
        canvas.rectangle(x, y, w, h)
        canvas.fill(preserve: true)
        canvas.color(RGBA(0.6, 0.6, 0.6))
        canvas.lineWidth(0.4)
        canvas.stroke()
        canvas.draw(box.heading, x: x + pad, y: y + pad, color: RGBA(0.1, 0.1, 0.1))
        let firstRow = y + pad + box.heading.height + pad * 0.5
        var ry = firstRow
        for (i, entry) in entries.enumerated() {
            let (layer, _, props) = entry
            let rowH = box.rowHeights[i]
            if i == box.split { ry = firstRow }
            defer { ry += rowH }
            let sx = x + pad + (i >= box.split ? box.columnWidth + 2 * pad : 0)
            if let key = sizeKeyLayout(layer, props, size: box.size) {
                canvas.draw(box.texts[i], x: sx, y: ry, color: RGBA(0.1, 0.1, 0.1))
                let tall = max(2 * (key.map(\.radius).max() ?? 0), key.map(\.text.height).max() ?? 0)
                let mid = ry + box.texts[i].height + pad * 0.4 + tall / 2
                var cx = sx
                for (radius, text) in key {
                    canvas.newPath()
                    canvas.circle(cx + radius, mid, radius)
                    canvas.color(RGBA(0.85, 0.85, 0.85))
                    canvas.fill(preserve: true)
                    canvas.color(RGBA(0.35, 0.35, 0.35))
                    canvas.lineWidth(0.5)
                    canvas.stroke()
                    canvas.draw(text, x: cx + 2 * radius + pad * 0.4, y: mid - text.height / 2, color: RGBA(0.1, 0.1, 0.1))
                    cx += 2 * radius + pad * 0.4 + text.width + pad
                }
                continue
            }
            let sy = ry + (rowH - swatch * 0.7) / 2
            drawSwatch(layer, props, x: sx, y: sy, w: swatch, h: swatch * 0.7, base: base)
            canvas.draw(box.texts[i], x: sx + swatch + pad * 0.6, y: ry + (rowH - box.texts[i].height) / 2, color: RGBA(0.1, 0.1, 0.1))
        }
        return entries.map(\.1)
    }

    mutating func drawSwatch(_ layer: StyleLayer, _ p: [String: AttributeValue], x: Double, y: Double, w: Double, h: Double, base: Double) {
        switch layer.type {
        case .fill:
            canvas.rectangle(x, y, w, h)
            canvas.color((Self.color(layer, "fill-color", p, .black, &warnings) ?? .black).withAlpha(Self.number(layer, "fill-opacity", p, 1, &warnings)))
            canvas.fill(preserve: true)
            canvas.color(Self.color(layer, "fill-outline-color", p, nil, &warnings) ?? RGBA(0.5, 0.5, 0.5))
            canvas.lineWidth(0.5)
            canvas.stroke()
        case .line:
            let width = min(Self.number(layer, "line-width", p, 1, &warnings) * MapRenderer.px, h)
            canvas.newPath()
            canvas.moveTo(x, y + h / 2)
            canvas.lineTo(x + w, y + h / 2)
            canvas.lineWidth(width)
            if let dash = layer.paint["line-dasharray"]?.evaluate(p), case .array(let items) = dash {
                canvas.dash(items.compactMap(\.number).map { $0 * width })
            }
            canvas.color((Self.color(layer, "line-color", p, .black, &warnings) ?? .black).withAlpha(Self.number(layer, "line-opacity", p, 1, &warnings)))
            canvas.stroke()
            canvas.dash([])
        case .circle where p[Self.mergedKey] != nil:
            // Merged points: a small huddle of grey dots, no class colour.
            canvas.color(RGBA(0.45, 0.45, 0.45))
            for (dx, dy) in [(0.3, 0.62), (0.55, 0.3), (0.72, 0.68)] {
                canvas.newPath()
                canvas.circle(x + w * dx, y + h * dy, h * 0.17)
                canvas.fill()
            }
            canvas.newPath()
        case .circle:
            // A size that follows the data (population) would give each swatch the size of whichever feature
            // matched it: one size for all then.
            var radius = h * 0.35
            if case .literal? = layer.paint["circle-radius"] { radius = min(Self.number(layer, "circle-radius", p, 5, &warnings) * MapRenderer.px, h / 2) }
            canvas.newPath()
            canvas.circle(x + w / 2, y + h / 2, radius)
            canvas.color(Self.color(layer, "circle-color", p, .black, &warnings) ?? .black)
            canvas.fill(preserve: true)
            let sw = Self.number(layer, "circle-stroke-width", p, 0, &warnings)
            if sw > 0 {
                canvas.color(Self.color(layer, "circle-stroke-color", p, .black, &warnings) ?? .black)
                canvas.lineWidth(sw * MapRenderer.px)
                canvas.stroke()
            }
            canvas.newPath()
        case .symbol:
            if let icon = Self.string(layer, "icon-image", p) {
                Icons.draw(icon, canvas: canvas, x: x + w / 2, y: y + h / 2, radius: h / 2,
                           color: Self.color(layer, "icon-color", p, RGBA(0.2, 0.2, 0.2), &warnings)!)
            } else {
                let t = canvas.layout("Aa", size: h * 0.9)
                canvas.draw(t, x: x + (w - t.width) / 2, y: y + (h - t.height) / 2,
                            color: Self.color(layer, "text-color", p, .black, &warnings)!,
                            halo: Self.color(layer, "text-halo-color", p, nil, &warnings), haloWidth: 1)
            }
        case .background: break
        }
    }
}

/// Category symbols drawn as vectors (no sprite sheet): a white-edged shape per icon name.
public enum Icons {
    public static let names: Set<String> = ["circle", "square", "triangle", "diamond", "house", "cross", "star", "hexagon", "closed", "new"]

    static func draw(_ name: String, canvas: Canvas, x: Double, y: Double, radius r: Double, color: RGBA) {
        canvas.newPath()
        func polygon(_ pts: [(Double, Double)]) {
            canvas.moveTo(x + pts[0].0 * r, y + pts[0].1 * r)
            for p in pts.dropFirst() { canvas.lineTo(x + p.0 * r, y + p.1 * r) }
            canvas.closePath()
        }
        switch name {
        case "square": polygon([(-0.8, -0.8), (0.8, -0.8), (0.8, 0.8), (-0.8, 0.8)])
        case "triangle": polygon([(0, -1), (0.95, 0.75), (-0.95, 0.75)])
        case "diamond": polygon([(0, -1), (1, 0), (0, 1), (-1, 0)])
        case "house": polygon([(0, -1), (0.9, -0.15), (0.9, 0.85), (-0.9, 0.85), (-0.9, -0.15)])
        case "cross": polygon([(-0.3, -1), (0.3, -1), (0.3, -0.3), (1, -0.3), (1, 0.3), (0.3, 0.3), (0.3, 1), (-0.3, 1), (-0.3, 0.3),
                               (-1, 0.3), (-1, -0.3), (-0.3, -0.3)])
        case "star":
            polygon((0..<10).map { i in
                let a = -Double.pi / 2 + Double(i) * .pi / 5, rr = i % 2 == 0 ? 1.0 : 0.45
                return (cos(a) * rr, sin(a) * rr)
            })
        case "hexagon": polygon((0..<6).map { i in let a = Double(i) * .pi / 3; return (cos(a), sin(a)) })
        default: canvas.circle(x, y, r * 0.85)
        }
        canvas.color(color)
        canvas.fill(preserve: true)
        canvas.color(.white)
        canvas.lineWidth(max(r * 0.22, 0.5))
        canvas.stroke()
        if name == "closed" {
            // Struck through: a dark diagonal cross over the symbol.
            canvas.newPath()
            canvas.moveTo(x - r, y - r); canvas.lineTo(x + r, y + r)
            canvas.moveTo(x + r, y - r); canvas.lineTo(x - r, y + r)
            canvas.color(RGBA(0.1, 0.1, 0.1))
            canvas.lineWidth(max(r * 0.3, 0.6))
            canvas.stroke()
        } else if name == "new" {
            canvas.newPath()
            canvas.circle(x, y, r * 1.35)
            canvas.color(RGBA(0.1, 0.1, 0.1))
            canvas.lineWidth(max(r * 0.2, 0.5))
            canvas.stroke()
        }
    }
}


