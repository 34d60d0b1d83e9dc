import Foundation

/// A line chart (the location-allocation trade-off curve), drawn by the same canvas as the maps.
public struct LineChart: Sendable {
    public var title: String
    public var subtitle: String?
    public var xLabel: String
    public var yLabel: String
    public var points: [(x: Double, y: Double)]
    /// Formats a y value for the axis and the point labels.
    public var format: @Sendable (Double) -> String

    public init(title: String, subtitle: String?, xLabel: String, yLabel: String, points: [(x: Double, y: Double)],
                format: @escaping @Sendable (Double) -> String) {
        self.title = title
        self.subtitle = subtitle
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.points = points
        self.format = format
    }

    /// Round tick values covering lo…hi (1-2-5 steps).
    static func ticks(_ lo: Double, _ hi: Double, count: Int = 5) -> [Double] {
        guard hi > lo else { return [lo] }
        let raw = (hi - lo) / Double(count)
        let mag = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
        var t = (lo / step).rounded(.down) * step
        var out: [Double] = []
        while t <= hi + step * 1e-9 { out.append(t); t += step }
        return out
    }

    public func render(kind: OutputKind, page: Page, to path: String) throws {
        let canvas = try Canvas(kind: kind, path: path, widthPt: page.widthPt, heightPt: page.heightPt, dpi: page.dpi)
        let W = page.widthPt, H = page.heightPt
        let base = min(W, H) / 30
        canvas.color(.white)
        canvas.rectangle(0, 0, W, H)
        canvas.fill()
        let ink = RGBA(0.15, 0.15, 0.15)
        let title = canvas.layout(self.title, size: base * 1.1, bold: true)
        canvas.draw(title, x: base, y: base * 0.8, color: ink)
        var top = base * 0.8 + title.height + base * 0.4
        if let subtitle {
            let s = canvas.layout(subtitle, size: base * 0.7)
            canvas.draw(s, x: base, y: top - base * 0.3, color: RGBA(0.35, 0.35, 0.35))
            top += s.height
        }
        guard let xmin = points.map(\.x).min(), let xmax = points.map(\.x).max(),
              let ymin0 = points.map(\.y).min(), let ymax0 = points.map(\.y).max() else { try canvas.finish(); return }
        let yt = Self.ticks(min(ymin0, 0), ymax0 == ymin0 ? ymax0 + 1 : ymax0)
        let ymin = yt.first!, ymax = max(yt.last!, ymax0)
        let yTickTexts = yt.map { canvas.layout(format($0), size: base * 0.6) }
        let left = base * 1.6 + (yTickTexts.map(\.width).max() ?? 0)
        let bottom = H - base * 2.6, right = W - base * 2.2
        let plotTop = top + base * 2.2
        func px(_ x: Double) -> Double { xmax == xmin ? (left + right) / 2 : left + (x - xmin) / (xmax - xmin) * (right - left) }
        func py(_ y: Double) -> Double { bottom - (y - ymin) / (ymax - ymin) * (bottom - plotTop) }
        canvas.lineWidth(0.4)
        for (v, t) in zip(yt, yTickTexts) {
            canvas.color(RGBA(0.85, 0.85, 0.85))
            canvas.newPath(); canvas.moveTo(left, py(v)); canvas.lineTo(right, py(v)); canvas.stroke()
            canvas.draw(t, x: left - t.width - base * 0.3, y: py(v) - t.height / 2, color: ink)
        }
        for p in points {
            let t = canvas.layout(String(Int(p.x)), size: base * 0.6)
            canvas.draw(t, x: px(p.x) - t.width / 2, y: bottom + base * 0.3, color: ink)
        }
        canvas.color(ink)
        canvas.lineWidth(0.8)
        canvas.newPath(); canvas.moveTo(left, plotTop); canvas.lineTo(left, bottom); canvas.lineTo(right, bottom); canvas.stroke()
        let xl = canvas.layout(xLabel, size: base * 0.7)
        canvas.draw(xl, x: (left + right - xl.width) / 2, y: bottom + base * 1.3, color: ink)
        let yl = canvas.layout(yLabel, size: base * 0.7)
        canvas.draw(yl, x: left, y: plotTop - yl.height - base * 0.2, color: ink)
        // The curve, its points and their values.
        canvas.color(RGBA(0.13, 0.4, 0.67))
        canvas.lineWidth(2)
        canvas.newPath()
        for (k, p) in points.enumerated() { k == 0 ? canvas.moveTo(px(p.x), py(p.y)) : canvas.lineTo(px(p.x), py(p.y)) }
        canvas.stroke()
        for p in points {
            canvas.newPath()
            canvas.circle(px(p.x), py(p.y), base * 0.22)
            canvas.color(RGBA(0.13, 0.4, 0.67))
            canvas.fill()
            let t = canvas.layout(format(p.y), size: base * 0.55)
            canvas.draw(t, x: px(p.x) - t.width / 2, y: py(p.y) - t.height - base * 0.3, color: ink, halo: .white, haloWidth: 1.5)
        }
        try canvas.finish()
    }
}
