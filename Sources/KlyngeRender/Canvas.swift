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
            s = cairo_svg_surface_create(path, widthPt, heightPt)
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
        if kind == .svg { cairo_svg_surface_restrict_to_version(s, CAIRO_SVG_VERSION_1_2) }
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
    }

    deinit {
        cairo_destroy(cr)
        cairo_surface_destroy(surface)
    }

    /// A PDF's document information (Title, Subject, Author, Creator), for illustrators and archives.
    func setDocumentInfo(title: String, subject: String?) {
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
        if kind == .png {
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

    func color(_ c: RGBA) { cairo_set_source_rgba(cr, c.r, c.g, c.b, c.a) }
    func moveTo(_ x: Double, _ y: Double) { cairo_move_to(cr, x, y) }
    func lineTo(_ x: Double, _ y: Double) { cairo_line_to(cr, x, y) }
    func closePath() { cairo_close_path(cr) }
    func newPath() { cairo_new_path(cr) }
    func rectangle(_ x: Double, _ y: Double, _ w: Double, _ h: Double) { cairo_rectangle(cr, x, y, w, h) }
    func circle(_ x: Double, _ y: Double, _ r: Double) { cairo_new_sub_path(cr); cairo_arc(cr, x, y, r, 0, 2 * .pi) }
    func fill(preserve: Bool = false) { preserve ? cairo_fill_preserve(cr) : cairo_fill(cr) }
    func stroke(preserve: Bool = false) { preserve ? cairo_stroke_preserve(cr) : cairo_stroke(cr) }
    func lineWidth(_ w: Double) { cairo_set_line_width(cr, w) }
    func save() { cairo_save(cr) }
    func restore() { cairo_restore(cr) }
    func clip(_ x: Double, _ y: Double, _ w: Double, _ h: Double) { cairo_rectangle(cr, x, y, w, h); cairo_clip(cr) }
    func translate(_ x: Double, _ y: Double) { cairo_translate(cr, x, y) }
    func evenOdd() { cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD) }

    func dash(_ lengths: [Double]) {
        lengths.withUnsafeBufferPointer { cairo_set_dash(cr, $0.baseAddress, Int32($0.count), 0) }
    }

    func cap(_ name: String) {
        cairo_set_line_cap(cr, name == "round" ? CAIRO_LINE_CAP_ROUND : name == "square" ? CAIRO_LINE_CAP_SQUARE : CAIRO_LINE_CAP_BUTT)
    }

    func join(_ name: String) {
        cairo_set_line_join(cr, name == "round" ? CAIRO_LINE_JOIN_ROUND : name == "bevel" ? CAIRO_LINE_JOIN_BEVEL : CAIRO_LINE_JOIN_MITER)
    }

    // MARK: text

    /// A laid-out piece of text (Pango layout), measured in points.
    final class TextLayout {
        let handle: OpaquePointer
        let width: Double
        let height: Double

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
            width = Double(logical.width) / Double(PANGO_SCALE)
            height = Double(logical.height) / Double(PANGO_SCALE)
        }

        deinit { g_object_unref(UnsafeMutableRawPointer(handle)) }
    }

    func layout(_ text: String, size: Double, bold: Bool = false, wrapWidth: Double? = nil) -> TextLayout {
        TextLayout(canvas: self, text: text, sizePt: size, bold: bold, wrapWidthPt: wrapWidth)
    }

    /// Draws text with its top-left corner at (x, y), with an optional halo.
    func draw(_ t: TextLayout, x: Double, y: Double, color c: RGBA, halo: RGBA? = nil, haloWidth: Double = 0) {
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
