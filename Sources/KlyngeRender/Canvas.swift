import CCairo
import Foundation

/// Output kinds of a map.
public enum OutputKind: String, Sendable, CaseIterable {
    case png, svg, pdf

    public static func from(path: String) -> OutputKind? {
        OutputKind(rawValue: URL(fileURLWithPath: path).pathExtension.lowercased())
    }
}

public struct RenderError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One Cairo surface and context, drawn in points (1/72 inch) whatever the output: PNG pixels are
/// points × dpi / 72. Owns its Cairo handles; text goes through Pango (shaping, kerning, æøå).
final class Canvas {
    let kind: OutputKind
    let widthPt: Double
    let heightPt: Double
    let dpi: Double
    private let path: String
    private let surface: OpaquePointer
    let cr: OpaquePointer
    private var finished = false
    /// SVG is written by Klynge (text as text, layers as named groups); Cairo then only measures text.
    private let svg: SVGDocument?

    init(kind: OutputKind, path: String, widthPt: Double, heightPt: Double, dpi: Double) throws {
        self.kind = kind
        self.path = path
        self.widthPt = widthPt
        self.heightPt = heightPt
        self.dpi = dpi
        let s: OpaquePointer?
        switch kind {
        case .png:
            s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32((widthPt * dpi / 72).rounded()), Int32((heightPt * dpi / 72).rounded()))
        case .svg:
            // A one-pixel surface for Pango's measurements (unhinted, so they match the PDF and PNG).
            s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1)
        case .pdf:
            s = cairo_pdf_surface_create(path, widthPt, heightPt)
        }
        guard let s, cairo_surface_status(s) == CAIRO_STATUS_SUCCESS else {
            let msg = s.map { String(cString: cairo_status_to_string(cairo_surface_status($0))) } ?? "no surface"
            if let s { cairo_surface_destroy(s) }
            throw RenderError("cannot create the \(kind.rawValue) surface: \(msg)")
        }
        surface = s
        guard let c = cairo_create(s), cairo_status(c) == CAIRO_STATUS_SUCCESS else {
            cairo_surface_destroy(s)
            throw RenderError("cannot create a Cairo context")
        }
        cr = c
        if kind == .png {
            cairo_scale(cr, dpi / 72, dpi / 72)
            // Curves flattened to a quarter pixel: invisible at print resolution, far fewer edges to fill.
            cairo_set_tolerance(cr, 0.25)
        }
        svg = kind == .svg ? SVGDocument(widthPt: widthPt, heightPt: heightPt) : nil
    }

    /// A horizontal band of a shared pixel buffer (rows `y0 ..< y0 + rows` of the page), so bands can be
    /// drawn on separate threads. The buffer belongs to the caller and must outlive the canvas.
    init(band buffer: UnsafeMutablePointer<UInt8>, stride: Int, widthPx: Int, y0: Int, rows: Int,
         widthPt: Double, heightPt: Double, dpi: Double) throws {
        kind = .png
        path = ""
        self.widthPt = widthPt
        self.heightPt = heightPt
        self.dpi = dpi
        guard let s = cairo_image_surface_create_for_data(buffer + y0 * stride, CAIRO_FORMAT_ARGB32, Int32(widthPx), Int32(rows), Int32(stride)),
              cairo_surface_status(s) == CAIRO_STATUS_SUCCESS else { throw RenderError("cannot create a band surface") }
        surface = s
        guard let c = cairo_create(s) else { cairo_surface_destroy(s); throw RenderError("cannot create a Cairo context") }
        cr = c
        cairo_translate(cr, 0, -Double(y0))
        cairo_scale(cr, dpi / 72, dpi / 72)
        cairo_set_tolerance(cr, 0.25)
        finished = true  // nothing to write: the owner of the buffer writes the PNG
        svg = nil
    }

    /// A canvas on a recording surface (vectors and text kept as drawing operations, replayed later into a
    /// PDF). Drawn as a PDF is, so a recorded map is the map `render` would draw. Takes its own reference.
    init(recording: OpaquePointer, widthPt: Double, heightPt: Double) throws {
        kind = .pdf
        path = ""
        self.widthPt = widthPt
        self.heightPt = heightPt
        dpi = 72
        surface = cairo_surface_reference(recording)
        guard let c = cairo_create(surface), cairo_status(c) == CAIRO_STATUS_SUCCESS else {
            cairo_surface_destroy(surface)
            throw RenderError("cannot create a Cairo context")
        }
        cr = c
        finished = true  // nothing to write: the recording is replayed by its owner
        svg = nil
    }

    deinit {
        cairo_destroy(cr)
        cairo_surface_destroy(surface)
    }

    /// Paints a recorded map with its top-left corner at (x, y), clipped to its size.
    func paint(_ recording: MapRecording, x: Double, y: Double) {
        cairo_save(cr)
        cairo_translate(cr, x, y)
        cairo_rectangle(cr, 0, 0, recording.widthPt, recording.heightPt)
        cairo_clip(cr)
        cairo_set_source_surface(cr, recording.surface, 0, 0)
        cairo_paint(cr)
        cairo_restore(cr)
    }

    /// A PDF's document information (Title, Subject, Author, Creator), for illustrators and archives.
    func setDocumentInfo(title: String, subject: String?) {
        svg?.setInfo(title: title, subject: subject)
        guard kind == .pdf else { return }
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, title)
        if let subject { cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_SUBJECT, subject) }
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_AUTHOR, "Klynge")
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "Klynge")
    }

    /// Completes the file; PNGs get their resolution recorded (a pHYs chunk).
    func finish() throws {
        guard !finished else { return }
        finished = true
        if let svg {
            do { try svg.data().write(to: URL(fileURLWithPath: path)) } catch {
                throw RenderError("cannot write \(path): \(error.localizedDescription)")
            }
        } else if kind == .png {
            cairo_surface_flush(surface)
            guard let data = cairo_image_surface_get_data(surface) else { throw RenderError("no pixels to write to \(path)") }
            try PNGWriter.write(argb: data, width: Int(cairo_image_surface_get_width(surface)), height: Int(cairo_image_surface_get_height(surface)),
                                stride: Int(cairo_image_surface_get_stride(surface)), dpi: dpi, to: path)
        } else {
            cairo_surface_finish(surface)
            let status = cairo_surface_status(surface)
            guard status == CAIRO_STATUS_SUCCESS else { throw RenderError("cannot write \(path): \(String(cString: cairo_status_to_string(status)))") }
        }
    }

    // MARK: paths and paint

    func color(_ c: RGBA) { if let svg { svg.color(c) } else { cairo_set_source_rgba(cr, c.r, c.g, c.b, c.a) } }
    func moveTo(_ x: Double, _ y: Double) { if let svg { svg.moveTo(x, y) } else { cairo_move_to(cr, x, y) } }
    func lineTo(_ x: Double, _ y: Double) { if let svg { svg.lineTo(x, y) } else { cairo_line_to(cr, x, y) } }
    func closePath() { if let svg { svg.closePath() } else { cairo_close_path(cr) } }
    func newPath() { if let svg { svg.newPath() } else { cairo_new_path(cr) } }
    func rectangle(_ x: Double, _ y: Double, _ w: Double, _ h: Double) { if let svg { svg.rectangle(x, y, w, h) } else { cairo_rectangle(cr, x, y, w, h) } }
    func circle(_ x: Double, _ y: Double, _ r: Double) {
        if let svg { svg.circle(x, y, r) } else { cairo_new_sub_path(cr); cairo_arc(cr, x, y, r, 0, 2 * .pi) }
    }
    func fill(preserve: Bool = false) { if let svg { svg.fill(preserve: preserve) } else { preserve ? cairo_fill_preserve(cr) : cairo_fill(cr) } }
    func stroke(preserve: Bool = false) { if let svg { svg.stroke(preserve: preserve) } else { preserve ? cairo_stroke_preserve(cr) : cairo_stroke(cr) } }
    func lineWidth(_ w: Double) { if let svg { svg.lineWidth(w) } else { cairo_set_line_width(cr, w) } }
    func save() { if let svg { svg.save() } else { cairo_save(cr) } }
    func restore() { if let svg { svg.restore() } else { cairo_restore(cr) } }
    func clip(_ x: Double, _ y: Double, _ w: Double, _ h: Double) {
        if let svg { svg.clip(x, y, w, h) } else { cairo_rectangle(cr, x, y, w, h); cairo_clip(cr) }
    }
    func translate(_ x: Double, _ y: Double) { if let svg { svg.translate(x, y) } else { cairo_translate(cr, x, y) } }
    func evenOdd() { if let svg { svg.evenOdd(true) } else { cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD) } }
    func nonZero() { if let svg { svg.evenOdd(false) } else { cairo_set_fill_rule(cr, CAIRO_FILL_RULE_WINDING) } }
    /// The whole page, inside the current clip, in the current colour.
    func paint() { if let svg { svg.paint() } else { cairo_paint(cr) } }
    /// A named group of what follows (a style layer, the legend): an Inkscape layer in SVG, nothing elsewhere.
    func beginGroup(id: String, label: String) { svg?.beginGroup(id: id, label: label) }
    func endGroup() { svg?.endGroup() }

    func dash(_ lengths: [Double]) {
        if let svg { svg.dash(lengths); return }
        lengths.withUnsafeBufferPointer { cairo_set_dash(cr, $0.baseAddress, Int32($0.count), 0) }
    }

    func cap(_ name: String) {
        if let svg { svg.cap(name); return }
        cairo_set_line_cap(cr, name == "round" ? CAIRO_LINE_CAP_ROUND : name == "square" ? CAIRO_LINE_CAP_SQUARE : CAIRO_LINE_CAP_BUTT)
    }

    func join(_ name: String) {
        if let svg { svg.join(name); return }
        cairo_set_line_join(cr, name == "round" ? CAIRO_LINE_JOIN_ROUND : name == "bevel" ? CAIRO_LINE_JOIN_BEVEL : CAIRO_LINE_JOIN_MITER)
    }

    // MARK: pages, links and bookmarks (PDF only; other kinds have one page and no links)

    /// Ends the page; what follows is drawn on a new one.
    func showPage() { if kind == .pdf { cairo_show_page(cr) } }

    /// A named place to link to (`dest` of a link or bookmark). Names are ASCII slugs.
    func destination(_ name: String, y: Double) {
        guard kind == .pdf else { return }
        cairo_tag_begin(cr, "cairo.dest", "name='\(name)' y=\(y)")
        cairo_tag_end(cr, "cairo.dest")
    }

    /// A link over the rectangle to a named destination.
    func link(to dest: String, x: Double, y: Double, w: Double, h: Double) {
        guard kind == .pdf else { return }
        cairo_tag_begin(cr, CAIRO_TAG_LINK, "rect=[\(x) \(y) \(w) \(h)] dest='\(dest)'")
        cairo_tag_end(cr, CAIRO_TAG_LINK)
    }

    /// A bookmark in the PDF's outline (the reader's side panel), under `parent` (0: the root).
    @discardableResult
    func outline(_ title: String, dest: String, parent: Int32 = 0) -> Int32 {
        guard kind == .pdf else { return 0 }
        return cairo_pdf_surface_add_outline(surface, parent, title, "dest='\(dest)'", CAIRO_PDF_OUTLINE_FLAG_OPEN)
    }

    // MARK: text

    /// A laid-out piece of text (Pango layout), measured in points.
    final class TextLayout {
        let handle: OpaquePointer
        let width: Double
        let height: Double
        let sizePt: Double
        let bold: Bool

        init(canvas: Canvas, text: String, sizePt: Double, bold: Bool, wrapWidthPt: Double? = nil) {
            let layout = pango_cairo_create_layout(canvas.cr)!
            // Font sizes in user units (points), not Pango's default 96 dpi.
            pango_cairo_context_set_resolution(pango_layout_get_context(layout), 72)
            // Unhinted metrics: text measures the same on a PNG at any dpi as in a PDF or SVG, so one layout
            // gives one map in every format (same frame, scale and labels).
            let options = cairo_font_options_create()!
            cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF)
            cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE)
            pango_cairo_context_set_font_options(pango_layout_get_context(layout), options)
            cairo_font_options_destroy(options)
            pango_layout_context_changed(layout)
            let desc = pango_font_description_from_string("DejaVu Sans")!
            pango_font_description_set_absolute_size(desc, sizePt * Double(PANGO_SCALE))
            if bold { pango_font_description_set_weight(desc, PANGO_WEIGHT_BOLD) }
            pango_layout_set_font_description(layout, desc)
            pango_font_description_free(desc)
            pango_layout_set_text(layout, text, -1)
            if let wrapWidthPt {
                pango_layout_set_width(layout, Int32(wrapWidthPt * Double(PANGO_SCALE)))
                pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR)
            }
            var ink = PangoRectangle(), logical = PangoRectangle()
            pango_layout_get_extents(layout, &ink, &logical)
            handle = layout
            self.sizePt = sizePt
            self.bold = bold
            width = Double(logical.width) / Double(PANGO_SCALE)
            height = Double(logical.height) / Double(PANGO_SCALE)
        }

        deinit { g_object_unref(UnsafeMutableRawPointer(handle)) }

        /// Each line's text, left offset and baseline (points from the layout's top), as Pango broke them.
        var lines: [(text: String, x: Double, baseline: Double)] {
            guard let bytes = pango_layout_get_text(handle), let iter = pango_layout_get_iter(handle) else { return [] }
            defer { pango_layout_iter_free(iter) }
            let utf8 = Array(UnsafeBufferPointer(start: UnsafeRawPointer(bytes).assumingMemoryBound(to: UInt8.self), count: strlen(bytes)))
            var out: [(String, Double, Double)] = []
            repeat {
                guard let line = pango_layout_iter_get_line_readonly(iter) else { continue }
                let start = Int(line.pointee.start_index), length = Int(line.pointee.length)
                let piece = utf8[max(0, min(start, utf8.count))..<max(0, min(start + length, utf8.count))]
                var ink = PangoRectangle(), logical = PangoRectangle()
                pango_layout_iter_get_line_extents(iter, &ink, &logical)
                out.append((String(decoding: piece, as: UTF8.self), Double(logical.x) / Double(PANGO_SCALE),
                            Double(pango_layout_iter_get_baseline(iter)) / Double(PANGO_SCALE)))
            } while pango_layout_iter_next_line(iter) != 0
            return out
        }
    }

    func layout(_ text: String, size: Double, bold: Bool = false, wrapWidth: Double? = nil) -> TextLayout {
        TextLayout(canvas: self, text: text, sizePt: size, bold: bold, wrapWidthPt: wrapWidth)
    }

    /// Draws text with its top-left corner at (x, y), with an optional halo.
    func draw(_ t: TextLayout, x: Double, y: Double, color c: RGBA, halo: RGBA? = nil, haloWidth: Double = 0) {
        if let svg {
            svg.text(lines: t.lines, x: x, y: y, sizePt: t.sizePt, bold: t.bold, color: c, halo: halo, haloWidth: haloWidth)
            return
        }
        if let halo, haloWidth > 0 {
            save()
            cairo_move_to(cr, x, y)
            pango_cairo_layout_path(cr, t.handle)
            color(halo)
            lineWidth(haloWidth * 2)
            join("round")
            stroke()
            restore()
        }
        cairo_move_to(cr, x, y)
        color(c)
        pango_cairo_show_layout(cr, t.handle)
    }
}

/// Reads PNG metadata (the resolution our encoder records in a pHYs chunk).
public enum PNGMetadata {
    /// Reads the resolution of a PNG (nil without a pHYs chunk in metres).
    public static func dpi(path: String) -> Double? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let bytes = [UInt8](data)
        var i = 8
        while i + 8 <= bytes.count {
            let len = Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            let type = String(bytes: bytes[(i + 4)..<(i + 8)], encoding: .ascii)
            if type == "pHYs", len == 9, bytes[i + 16] == 1 {
                let ppm = Int(bytes[i + 8]) << 24 | Int(bytes[i + 9]) << 16 | Int(bytes[i + 10]) << 8 | Int(bytes[i + 11])
                return Double(ppm) * 0.0254
            }
            i += 12 + len
        }
        return nil
    }
}

/// Reads a PNG's pixels (through Cairo), for comparing images.
public enum PNGPixels {
    /// Width, height and RGBA bytes (un-premultiplied is not needed for comparisons: Cairo's ARGB as stored).
    public static func read(path: String) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        guard let s = cairo_image_surface_create_from_png(path), cairo_surface_status(s) == CAIRO_STATUS_SUCCESS else {
            throw RenderError("cannot read the PNG \(path)")
        }
        defer { cairo_surface_destroy(s) }
        let w = Int(cairo_image_surface_get_width(s)), h = Int(cairo_image_surface_get_height(s))
        let stride = Int(cairo_image_surface_get_stride(s))
        guard let data = cairo_image_surface_get_data(s) else { throw RenderError("no pixel data in \(path)") }
        var out = [UInt8](repeating: 0, count: w * h * 4)
        for y in 0..<h { for x in 0..<(w * 4) { out[y * w * 4 + x] = data[y * stride + x] } }
        return (w, h, out)
    }
}

/// A map drawn once as vector drawing operations (Cairo recording surface), so several maps can be drawn on
/// separate threads and then replayed, in order, into one PDF. Owns its surface.
public final class MapRecording: @unchecked Sendable {
    let surface: OpaquePointer
    public let widthPt: Double
    public let heightPt: Double

    init(surface: OpaquePointer, widthPt: Double, heightPt: Double) {
        self.surface = surface
        self.widthPt = widthPt
        self.heightPt = heightPt
    }

    deinit { cairo_surface_destroy(surface) }
}

extension MapRenderer {
    /// Draws the map into a recording (for `DocumentPDF`); safe to call from several threads at once.
    public static func record(_ r: MapRequest) throws -> MapRecording {
        try r.page.validate()
        var extents = cairo_rectangle_t(x: 0, y: 0, width: r.page.widthPt, height: r.page.heightPt)
        guard let s = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, &extents), cairo_surface_status(s) == CAIRO_STATUS_SUCCESS else {
            throw RenderError("cannot create a recording surface")
        }
        let recording = MapRecording(surface: s, widthPt: r.page.widthPt, heightPt: r.page.heightPt)
        do {
            let canvas = try Canvas(recording: s, widthPt: r.page.widthPt, heightPt: r.page.heightPt)
            var ctx = Context(r: r, canvas: canvas, drawn: layerFeatures(r))
            _ = ctx.draw()
        }
        try r.control.check()
        return recording
    }
}
