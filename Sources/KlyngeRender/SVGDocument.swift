import Foundation

/// A map written as SVG by Klynge itself rather than Cairo, for illustrators: text stays text (`<text>` in the
/// named font, editable in Inkscape or Illustrator, with halos as paint-order strokes) and each style layer
/// and piece of furniture is a named group (an Inkscape layer). Coordinates are page points.
final class SVGDocument {
    struct State {
        var color = RGBA(0, 0, 0)
        var lineWidth = 2.0
        var dash: [Double] = []
        var cap = "butt", join = "miter"
        var evenOdd = false
        var dx = 0.0, dy = 0.0
        /// Groups opened since this state was saved (clips), closed by `restore`.
        var openGroups = 0
    }

    let widthPt: Double, heightPt: Double
    private var body = ""
    private var path = ""
    private var state = State()
    private var saved: [State] = []
    private var clips = 0
    private var usedIds: Set<String> = []
    private var title: String?
    private var subject: String?

    init(widthPt: Double, heightPt: Double) {
        self.widthPt = widthPt
        self.heightPt = heightPt
        body.reserveCapacity(1 << 20)
    }

    static func escaped(_ s: String) -> String { MarkupText.escape(s) }

    /// Two decimals (a hundredth of a point is far below what any printer shows), without trailing zeros.
    static func n(_ v: Double) -> String {
        guard v.isFinite else { return "0" }
        let r = (v * 100).rounded() / 100
        if r == r.rounded() { return String(Int(r)) }
        var s = String(format: "%.2f", r)
        while s.hasSuffix("0") { s.removeLast() }
        return s
    }

    static func hex(_ c: RGBA) -> String {
        func b(_ v: Double) -> Int { Int((min(1, max(0, v)) * 255).rounded()) }
        return String(format: "#%02x%02x%02x", b(c.r), b(c.g), b(c.b))
    }

    func setInfo(title: String, subject: String?) {
        self.title = title
        self.subject = subject
    }

    // MARK: state

    func color(_ c: RGBA) { state.color = c }
    func lineWidth(_ w: Double) { state.lineWidth = w }
    func dash(_ d: [Double]) { state.dash = d }
    func cap(_ c: String) { state.cap = c }
    func join(_ j: String) { state.join = j }
    func evenOdd(_ on: Bool) { state.evenOdd = on }
    func translate(_ x: Double, _ y: Double) { state.dx += x; state.dy += y }

    func save() {
        saved.append(state)
        state.openGroups = 0
    }

    func restore() {
        for _ in 0..<state.openGroups { body += "</g>\n" }
        state = saved.popLast() ?? State()
    }

    func clip(_ x: Double, _ y: Double, _ w: Double, _ h: Double) {
        clips += 1
        body += "<clipPath id=\"clip\(clips)\"><rect x=\"\(Self.n(x + state.dx))\" y=\"\(Self.n(y + state.dy))\" width=\"\(Self.n(w))\" height=\"\(Self.n(h))\"/></clipPath>\n"
        body += "<g clip-path=\"url(#clip\(clips))\">\n"
        state.openGroups += 1
    }

    /// A named group: an Inkscape layer, found by its label in the layers panel.
    func beginGroup(id: String, label: String) {
        // XML ids are names: anything else in a style layer's id becomes "_".
        var safe = String(id.unicodeScalars.map { ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") && $0.isASCII ? Character($0) : "_" })
        // Ids are unique in a document: a second "a b" (or "a_b") becomes "a_b-2".
        if usedIds.contains(safe) { var k = 2; while usedIds.contains("\(safe)-\(k)") { k += 1 }; safe = "\(safe)-\(k)" }
        usedIds.insert(safe)
        body += "<g id=\"\(safe)\" inkscape:groupmode=\"layer\" inkscape:label=\"\(Self.escaped(label))\">\n"
    }

    func endGroup() { body += "</g>\n" }

    // MARK: paths

    func moveTo(_ x: Double, _ y: Double) { path += "M\(Self.n(x + state.dx)) \(Self.n(y + state.dy))" }
    func lineTo(_ x: Double, _ y: Double) { path += "L\(Self.n(x + state.dx)) \(Self.n(y + state.dy))" }
    func closePath() { path += "Z" }
    func newPath() { path = "" }

    func rectangle(_ x: Double, _ y: Double, _ w: Double, _ h: Double) {
        path += "M\(Self.n(x + state.dx)) \(Self.n(y + state.dy))h\(Self.n(w))v\(Self.n(h))h\(Self.n(-w))Z"
    }

    func circle(_ x: Double, _ y: Double, _ r: Double) {
        let cx = x + state.dx, cy = y + state.dy
        path += "M\(Self.n(cx + r)) \(Self.n(cy))A\(Self.n(r)) \(Self.n(r)) 0 1 0 \(Self.n(cx - r)) \(Self.n(cy))A\(Self.n(r)) \(Self.n(r)) 0 1 0 \(Self.n(cx + r)) \(Self.n(cy))Z"
    }

    private func opacity(_ name: String, _ a: Double) -> String { a >= 0.999 ? "" : " \(name)=\"\(Self.n(a))\"" }

    func fill(preserve: Bool) {
        if !path.isEmpty {
            body += "<path d=\"\(path)\" fill=\"\(Self.hex(state.color))\"\(opacity("fill-opacity", state.color.a))"
                + (state.evenOdd ? " fill-rule=\"evenodd\"" : "") + "/>\n"
        }
        if !preserve { path = "" }
    }

    func stroke(preserve: Bool) {
        if !path.isEmpty {
            var a = "<path d=\"\(path)\" fill=\"none\" stroke=\"\(Self.hex(state.color))\"\(opacity("stroke-opacity", state.color.a))"
                + " stroke-width=\"\(Self.n(state.lineWidth))\""
            if state.cap != "butt" { a += " stroke-linecap=\"\(state.cap)\"" }
            if state.join != "miter" { a += " stroke-linejoin=\"\(state.join)\"" }
            if !state.dash.isEmpty { a += " stroke-dasharray=\"\(state.dash.map(Self.n).joined(separator: " "))\"" }
            body += a + "/>\n"
        }
        if !preserve { path = "" }
    }

    /// The whole page (inside the current clip) in the current colour.
    func paint() {
        body += "<rect x=\"0\" y=\"0\" width=\"\(Self.n(widthPt))\" height=\"\(Self.n(heightPt))\" fill=\"\(Self.hex(state.color))\"\(opacity("fill-opacity", state.color.a))/>\n"
    }

    // MARK: text

    /// One `<text>` per laid-out piece, a `<tspan>` per line at Pango's own line positions, so the SVG shows
    /// the text where the PNG and PDF do. `lines`: each line's text, left offset and baseline from the top.
    func text(lines: [(text: String, x: Double, baseline: Double)], x: Double, y: Double, sizePt: Double, bold: Bool,
              color: RGBA, halo: RGBA?, haloWidth: Double) {
        var t = "<text font-family=\"DejaVu Sans\" font-size=\"\(Self.n(sizePt))\"" + (bold ? " font-weight=\"bold\"" : "")
            + " fill=\"\(Self.hex(color))\"\(opacity("fill-opacity", color.a))"
        if let halo, haloWidth > 0 {
            t += " stroke=\"\(Self.hex(halo))\"\(opacity("stroke-opacity", halo.a)) stroke-width=\"\(Self.n(haloWidth * 2))\" stroke-linejoin=\"round\" paint-order=\"stroke\""
        }
        t += " xml:space=\"preserve\">"
        for line in lines {
            t += "<tspan x=\"\(Self.n(x + line.x + state.dx))\" y=\"\(Self.n(y + line.baseline + state.dy))\">\(Self.escaped(line.text))</tspan>"
        }
        body += t + "</text>\n"
    }

    // MARK: output

    func data() -> Data {
        var head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        head += "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:inkscape=\"http://www.inkscape.org/namespaces/inkscape\" version=\"1.1\""
        head += " width=\"\(Self.n(widthPt))pt\" height=\"\(Self.n(heightPt))pt\" viewBox=\"0 0 \(Self.n(widthPt)) \(Self.n(heightPt))\">\n"
        if let title { head += "<title>\(Self.escaped(title))</title>\n" }
        if let subject { head += "<desc>\(Self.escaped(subject))</desc>\n" }
        var tail = ""
        // Groups a caller left open (a map stopped half-way) are closed, so the file is always well-formed.
        for s in saved.reversed() + [state] { for _ in 0..<s.openGroups { tail += "</g>\n" } }
        return Data((head + body + tail + "</svg>\n").utf8)
    }
}

/// Text as XML and HTML character data or attribute values: the five markup characters as entities, and the
/// control characters XML 1.0 does not allow left out. The one escaper of SVG maps and the published site.
public enum MarkupText {
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case _ where ch.value < 0x20 && ch != "\n" && ch != "\t": continue
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }
}
