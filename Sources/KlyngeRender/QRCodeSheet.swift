import Foundation

/// A QR code for posters and flyers: the code with its quiet zone, a title above and the address below,
/// as PNG, PDF or SVG. In a PNG every module is a whole number of pixels, so scanners see sharp edges.
public struct QRCodeSheet: Sendable {
    /// Modules, row by row (`width` × `width`), true for dark.
    public var modules: [Bool]
    public var width: Int
    public var title: String?
    /// Printed under the code (the address, for those who type it).
    public var caption: String?
    /// The code's side including its quiet zone.
    public var sideMillimeters: Double
    /// Light modules around the code, as the QR standard asks.
    public static let quietZone = 4

    public init(modules: [Bool], width: Int, title: String?, caption: String?, sideMillimeters: Double) {
        self.modules = modules
        self.width = width
        self.title = title
        self.caption = caption
        self.sideMillimeters = sideMillimeters
    }

    public func render(kind: OutputKind, dpi: Double, to path: String) throws {
        guard modules.count == width * width, width > 0 else { throw RenderError("the QR code's modules do not form a square") }
        let cells = width + 2 * Self.quietZone
        // Whole pixels per module in a PNG; vector outputs keep the asked size.
        let sidePt = sideMillimeters / 25.4 * 72
        var modulePt = sidePt / Double(cells)
        if kind == .png {
            let px = max(1, (modulePt * dpi / 72).rounded(.down))
            modulePt = px * 72 / dpi
        }
        let codePt = modulePt * Double(cells)
        let marginPt = (kind == .png ? (8 * dpi / 72).rounded() * 72 / dpi : 8)
        let pageWidth = codePt + 2 * marginPt
        let ink = RGBA(0, 0, 0)
        // Measure the texts on a scratch canvas first, so the page is as tall as it needs.
        let measure = try Canvas(kind: .svg, path: "", widthPt: pageWidth, heightPt: pageWidth, dpi: 72)
        let titleLayout = title.map { measure.layout($0, size: 10, bold: true, wrapWidth: codePt) }
        let captionLayout = caption.map { measure.layout($0, size: 8, wrapWidth: codePt) }
        func snap(_ v: Double) -> Double { kind == .png ? (v * dpi / 72).rounded() * 72 / dpi : v }
        let titleHeight = snap(titleLayout.map { $0.height + 4 } ?? 0)
        let captionHeight = captionLayout.map { $0.height + 4 } ?? 0
        let pageHeight = marginPt + titleHeight + codePt + captionHeight + marginPt

        let canvas = try Canvas(kind: kind, path: path, widthPt: pageWidth, heightPt: pageHeight, dpi: dpi)
        canvas.setDocumentInfo(title: title ?? "QR code", subject: caption)
        canvas.color(.white)
        canvas.rectangle(0, 0, pageWidth, pageHeight)
        canvas.fill()
        if let titleLayout, let title {
            let t = canvas.layout(title, size: 10, bold: true, wrapWidth: codePt)
            canvas.draw(t, x: marginPt + (codePt - titleLayout.width) / 2, y: marginPt, color: ink)
        }
        let top = marginPt + titleHeight
        canvas.beginGroup(id: "qr", label: "QR code")
        canvas.nonZero()
        canvas.color(ink)
        canvas.newPath()
        // One path of row runs, filled once: no seams between neighbouring modules in any viewer.
        for y in 0..<width {
            var x = 0
            while x < width {
                guard modules[y * width + x] else { x += 1; continue }
                var end = x
                while end < width && modules[y * width + end] { end += 1 }
                canvas.rectangle(marginPt + Double(Self.quietZone + x) * modulePt, top + Double(Self.quietZone + y) * modulePt,
                                 Double(end - x) * modulePt, modulePt)
                x = end
            }
        }
        canvas.fill()
        canvas.endGroup()
        if let captionLayout, let caption {
            let c = canvas.layout(caption, size: 8, wrapWidth: codePt)
            canvas.draw(c, x: marginPt + (codePt - captionLayout.width) / 2, y: top + codePt + 2, color: ink)
        }
        try canvas.finish()
    }
}
