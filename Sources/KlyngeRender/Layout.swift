import Foundation
import KlyngeGeo

/// A page: its size in points, and the PNG resolution.
public struct Page: Sendable, Hashable {
    public var widthPt: Double
    public var heightPt: Double
    public var dpi: Double

    public init(widthPt: Double, heightPt: Double, dpi: Double) {
        self.widthPt = widthPt
        self.heightPt = heightPt
        self.dpi = dpi
    }

    /// ISO 216 paper: A4 595.28 × 841.89 pt, A3 841.89 × 1190.55 pt.
    public static func paper(_ name: String, landscape: Bool, dpi: Double) -> Page? {
        let sizes: [String: (Double, Double)] = ["A5": (419.53, 595.28), "A4": (595.28, 841.89), "A3": (841.89, 1190.55),
                                                 "A2": (1190.55, 1683.78), "A1": (1683.78, 2383.94)]
        guard let (w, h) = sizes[name.uppercased()] else { return nil }
        return landscape ? Page(widthPt: h, heightPt: w, dpi: dpi) : Page(widthPt: w, heightPt: h, dpi: dpi)
    }

    /// A page of a size in pixels at a resolution.
    public static func pixels(width: Int, height: Int, dpi: Double) -> Page {
        Page(widthPt: Double(width) * 72 / dpi, heightPt: Double(height) * 72 / dpi, dpi: dpi)
    }

    public var pixelWidth: Int { Int((widthPt * dpi / 72).rounded()) }
    public var pixelHeight: Int { Int((heightPt * dpi / 72).rounded()) }

    /// Resolutions a map can be asked for.
    public static let dpiRange: ClosedRange<Double> = 36...1200
    /// Pixel sizes a map can be asked for (Cairo draws at most 32767 pixels a side).
    public static let pixelRange: ClosedRange<Int> = 100...20000
    public static let paperNames = ["A5", "A4", "A3", "A2", "A1"]

    /// A page from what a user asked for (command line or HTTP): every number finite and in range, and the
    /// image at most `maxPixels`. Errors name the parameter.
    public static func checked(paper: String?, landscape: Bool, dpi: Double?, width: Int?, height: Int?, defaultDPI: Double,
                               maxPixels: Int) throws -> Page {
        if let dpi, !(dpi.isFinite && dpiRange.contains(dpi)) {
            throw PageError(parameter: "dpi", message: "dpi goes from \(Int(dpiRange.lowerBound)) to \(Int(dpiRange.upperBound))")
        }
        let page: Page
        switch (width, height) {
        case let (w?, h?):
            for (name, v) in [("width", w), ("height", h)] where !pixelRange.contains(v) {
                throw PageError(parameter: name, message: "\(name) goes from \(pixelRange.lowerBound) to \(pixelRange.upperBound) pixels")
            }
            if paper != nil { throw PageError(parameter: "paper", message: "give either a paper size or width and height, not both") }
            page = .pixels(width: w, height: h, dpi: dpi ?? 96)
        case (nil, nil):
            guard let p = Page.paper(paper ?? "A4", landscape: landscape, dpi: dpi ?? defaultDPI) else {
                throw PageError(parameter: "paper", message: "paper is \(paperNames.joined(separator: ", "))")
            }
            page = p
        default:
            throw PageError(parameter: width == nil ? "width" : "height", message: "give both width and height")
        }
        try page.validate()
        let pixels = Double(page.pixelWidth) * Double(page.pixelHeight)
        if pixels > Double(maxPixels) {
            throw PageError(parameter: "dpi", message: String(format: "the map would have %.0f million pixels; at most %.0f million: lower the dpi or the size",
                                                            pixels / 1e6, Double(maxPixels) / 1e6))
        }
        return page
    }

    /// Refuses pages no renderer can draw: sizes and resolution must be finite and positive, and the image
    /// within Cairo's limits. Checked before any pixel size is computed.
    public func validate() throws {
        guard widthPt.isFinite, heightPt.isFinite, widthPt > 0, heightPt > 0, widthPt <= 100_000, heightPt <= 100_000 else {
            throw PageError(parameter: "paper", message: "the page size must be positive and finite")
        }
        guard dpi.isFinite, dpi > 0 else { throw PageError(parameter: "dpi", message: "dpi must be a positive number") }
        let w = widthPt * dpi / 72, h = heightPt * dpi / 72
        guard w.isFinite, h.isFinite, w >= 1, h >= 1, w <= 32767, h <= 32767 else {
            throw PageError(parameter: "dpi", message: String(format: "the map would be %.0f × %.0f pixels; at most 32767 a side", w, h))
        }
    }
}

/// A page that cannot be drawn as asked, naming the parameter.
public struct PageError: Error, Sendable, CustomStringConvertible {
    public let parameter: String
    public let message: String
    public init(parameter: String, message: String) {
        self.parameter = parameter
        self.message = message
    }
    public var description: String { message }
}

/// World (working CRS metres) to page (points, y down) for a frame.
public struct Viewport: Sendable, Hashable {
    public var frame: (x: Double, y: Double, w: Double, h: Double)
    public var center: Coordinate
    /// Points per metre.
    public var scale: Double

    public static func == (a: Viewport, b: Viewport) -> Bool {
        a.frame == b.frame && a.center == b.center && a.scale == b.scale
    }
    public func hash(into h: inout Hasher) { h.combine(center); h.combine(scale) }

    /// The extent fitted into the frame with a margin, aspect kept.
    public init(extent: Envelope, frame: (x: Double, y: Double, w: Double, h: Double), padding: Double = 0.04) {
        self.frame = frame
        center = extent.center
        let w = max(extent.maxX - extent.minX, 1) * (1 + 2 * padding)
        let h = max(extent.maxY - extent.minY, 1) * (1 + 2 * padding)
        scale = min(frame.w / w, frame.h / h)
    }

    @inline(__always)
    public func page(_ c: Coordinate) -> (x: Double, y: Double) {
        (frame.x + frame.w / 2 + (c.x - center.x) * scale, frame.y + frame.h / 2 - (c.y - center.y) * scale)
    }

    /// The map scale as 1 : N on paper.
    public var scaleDenominator: Double { 1 / (scale * 0.0254 / 72) }
}

/// A scale bar: a round length and its width on the page.
public struct ScaleBar: Sendable, Hashable {
    public var meters: Double
    public var widthPt: Double
    public var label: String
    /// The map's scale, 1 : this.
    public var scaleDenominator: Double = 0

    /// The largest 1-2-5 length that fits in `maxWidthPt`.
    public init(viewport: Viewport, maxWidthPt: Double) {
        scaleDenominator = viewport.scaleDenominator
        let maxMeters = maxWidthPt / viewport.scale
        let magnitude = pow(10, (log10(maxMeters)).rounded(.down))
        var m = magnitude
        for f in [5.0, 2.0, 1.0] where f * magnitude <= maxMeters { m = f * magnitude; break }
        meters = m
        widthPt = m * viewport.scale
        label = m >= 1000 ? "\(Self.trim(m / 1000)) km" : "\(Self.trim(m)) m"
    }

    static func trim(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
}

/// Non-overlapping label placement: boxes are accepted in priority order if they hit no placed box
/// and lie inside the frame.
public struct LabelPlacer: Sendable {
    public struct Box: Hashable, Sendable {
        public var x: Double, y: Double, w: Double, h: Double
        public init(x: Double, y: Double, w: Double, h: Double) { self.x = x; self.y = y; self.w = w; self.h = h }
        public func intersects(_ o: Box) -> Bool { x < o.x + o.w && o.x < x + w && y < o.y + o.h && o.y < y + h }
        func inside(_ f: (x: Double, y: Double, w: Double, h: Double)) -> Bool {
            x >= f.x && y >= f.y && x + w <= f.x + f.w && y + h <= f.y + f.h
        }
    }

    public let frame: (x: Double, y: Double, w: Double, h: Double)
    public private(set) var placed: [Box] = []
    /// Indexes into `placed` by grid cell, so a test looks at its neighbours only: a map of 20,000 dots
    /// placed hundreds of labels in seconds when every test scanned them all.
    private var cells: [Int: [Int32]] = [:]
    private static let cellPt = 24.0

    public init(frame: (x: Double, y: Double, w: Double, h: Double)) { self.frame = frame }

    /// Reserves a box (legend, scale bar) without checking.
    public mutating func block(_ b: Box) { insert(b) }

    /// Whether any placed box meets `b`.
    public func anyPlaced(intersecting b: Box) -> Bool { firstPlaced(intersecting: b, ignoring: []) != nil }

    /// Places the box if it fits; `padding` keeps labels apart. Boxes in `ignoring` (the labelled point's own
    /// symbol) do not count.
    public mutating func place(_ b: Box, padding: Double = 1, allowOverlap: Bool = false, ignoring: Set<Box> = []) -> Bool {
        guard b.inside(frame) else { return false }
        let padded = Box(x: b.x - padding, y: b.y - padding, w: b.w + 2 * padding, h: b.h + 2 * padding)
        if !allowOverlap && firstPlaced(intersecting: padded, ignoring: ignoring) != nil { return false }
        insert(b)
        return true
    }

    private func cellRange(_ b: Box) -> (x0: Int, x1: Int, y0: Int, y1: Int)? {
        guard b.x.isFinite, b.y.isFinite, b.w.isFinite, b.h.isFinite else { return nil }
        // Clamped to the frame (plus a margin) so a huge box cannot ask for millions of cells.
        func cell(_ v: Double, _ lo: Double, _ size: Double) -> Int {
            Int((min(max(v, lo - Self.cellPt), lo + size + Self.cellPt) - lo) / Self.cellPt + 1)
        }
        return (cell(b.x, frame.x, frame.w), cell(b.x + b.w, frame.x, frame.w), cell(b.y, frame.y, frame.h), cell(b.y + b.h, frame.y, frame.h))
    }

    private mutating func insert(_ b: Box) {
        let index = Int32(placed.count)
        placed.append(b)
        guard let r = cellRange(b) else { return }
        for cy in r.y0...r.y1 { for cx in r.x0...r.x1 { cells[cy &* 100_003 &+ cx, default: []].append(index) } }
    }

    private func firstPlaced(intersecting b: Box, ignoring: Set<Box>) -> Int? {
        guard let r = cellRange(b) else { return placed.firstIndex { $0.intersects(b) && !ignoring.contains($0) } }
        for cy in r.y0...r.y1 {
            for cx in r.x0...r.x1 {
                guard let list = cells[cy &* 100_003 &+ cx] else { continue }
                for i in list where placed[Int(i)].intersects(b) && (ignoring.isEmpty || !ignoring.contains(placed[Int(i)])) { return Int(i) }
            }
        }
        return nil
    }
}
