import Foundation
import Testing
import KlyngeGeo
import KlyngeTestSupport
@testable import KlyngeRender

/// Colour differences as readers with the common colour-vision deficiencies see them: CIEDE2000 (Sharma, Wu
/// and Dalal 2005) between colours simulated with Machado, Oliveira and Fernandes (2009) at full severity.
enum ColourVision: CaseIterable {
    case normal, protanopia, deuteranopia, tritanopia

    /// Machado et al. 2009, severity 1.0, applied to linear sRGB.
    var matrix: [[Double]]? {
        switch self {
        case .normal: nil
        case .protanopia: [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
        case .deuteranopia: [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
        case .tritanopia: [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]
        }
    }

    static func linear(_ c: Double) -> Double { c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4) }

    /// CIELAB (D65) of an sRGB colour as this reader sees it.
    func lab(_ c: RGBA) -> (l: Double, a: Double, b: Double) {
        var rgb = [Self.linear(c.r), Self.linear(c.g), Self.linear(c.b)]
        if let m = matrix { rgb = m.map { row in min(1, max(0, row[0] * rgb[0] + row[1] * rgb[1] + row[2] * rgb[2])) } }
        let x = 0.4124564 * rgb[0] + 0.3575761 * rgb[1] + 0.1804375 * rgb[2]
        let y = 0.2126729 * rgb[0] + 0.7151522 * rgb[1] + 0.0721750 * rgb[2]
        let z = 0.0193339 * rgb[0] + 0.1191920 * rgb[1] + 0.9503041 * rgb[2]
        func f(_ t: Double) -> Double { t > 216.0 / 24389 ? cbrt(t) : (24389.0 / 27 * t + 16) / 116 }
        let (fx, fy, fz) = (f(x / 0.95047), f(y), f(z / 1.08883))
        return (116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz))
    }

    static func deltaE2000(_ p: (l: Double, a: Double, b: Double), _ q: (l: Double, a: Double, b: Double)) -> Double {
        let rad = Double.pi / 180
        let c1 = hypot(p.a, p.b), c2 = hypot(q.a, q.b), cMean = (c1 + c2) / 2
        let g = 0.5 * (1 - sqrt(pow(cMean, 7) / (pow(cMean, 7) + pow(25, 7))))
        let a1 = (1 + g) * p.a, a2 = (1 + g) * q.a
        let c1p = hypot(a1, p.b), c2p = hypot(a2, q.b)
        func hue(_ b: Double, _ a: Double) -> Double { (b == 0 && a == 0) ? 0 : (atan2(b, a) / rad + 360).truncatingRemainder(dividingBy: 360) }
        let h1 = hue(p.b, a1), h2 = hue(q.b, a2)
        let dL = q.l - p.l, dC = c2p - c1p
        var dh = 0.0
        if c1p * c2p != 0 { dh = h2 - h1; if dh > 180 { dh -= 360 } else if dh < -180 { dh += 360 } }
        let dH = 2 * sqrt(c1p * c2p) * sin(dh / 2 * rad)
        let lMean = (p.l + q.l) / 2, cpMean = (c1p + c2p) / 2
        var hMean = h1 + h2
        if c1p * c2p != 0 {
            hMean = abs(h1 - h2) <= 180 ? (h1 + h2) / 2 : (h1 + h2 < 360 ? (h1 + h2 + 360) / 2 : (h1 + h2 - 360) / 2)
        }
        let t = 1 - 0.17 * cos((hMean - 30) * rad) + 0.24 * cos(2 * hMean * rad) + 0.32 * cos((3 * hMean + 6) * rad) - 0.20 * cos((4 * hMean - 63) * rad)
        let dTheta = 30 * exp(-pow((hMean - 275) / 25, 2))
        let rc = 2 * sqrt(pow(cpMean, 7) / (pow(cpMean, 7) + pow(25, 7)))
        let sl = 1 + 0.015 * pow(lMean - 50, 2) / sqrt(20 + pow(lMean - 50, 2))
        let sc = 1 + 0.045 * cpMean, sh = 1 + 0.015 * cpMean * t
        let rt = -sin(2 * dTheta * rad) * rc
        return sqrt(pow(dL / sl, 2) + pow(dC / sc, 2) + pow(dH / sh, 2) + rt * (dC / sc) * (dH / sh))
    }

    /// The least difference between two colours over normal vision and the three simulations.
    static func leastDifference(_ x: RGBA, _ y: RGBA) -> (Double, ColourVision) {
        allCases.map { (deltaE2000($0.lab(x), $0.lab(y)), $0) }.min { $0.0 < $1.0 }!
    }
}

@Suite struct ColourVisionTests {
    /// Sharma, Wu and Dalal (2005), pairs 1, 7, 17 and 25 of their test data.
    @Test func ciede2000MatchesThePublishedPairs() {
        let pairs: [((Double, Double, Double), (Double, Double, Double), Double)] = [
            ((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425),
            ((50, 0, 0), (50, -1, 2), 2.3669),
            ((50, 2.5, 0), (73, 25, -18), 27.1492),
            ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
        ]
        for (p, q, want) in pairs {
            let got = ColourVision.deltaE2000((p.0, p.1, p.2), (q.0, q.1, q.2))
            #expect(abs(got - want) < 0.0001, "\(p) \(q): \(got), not \(want)")
        }
        // sRGB white is L 100, a 0, b 0 for every reader.
        for v in ColourVision.allCases { let w = v.lab(.white); #expect(abs(w.l - 100) < 0.01 && abs(w.a) < 0.01 && abs(w.b) < 0.01) }
        // The issue's example: the old "within" green and "up to 1.5×" orange nearly merge under deuteranopia.
        let old = ColourVision.deltaE2000(ColourVision.deuteranopia.lab(RGBA(css: "#a6d96a")!), ColourVision.deuteranopia.lab(RGBA(css: "#fdae61")!))
        #expect(old < 5, "\(old)")
    }

    /// Every legend of the shipped styles: two entries of one layer differ in shape, or in colour by at least
    /// 10 ΔE2000 for normal vision and under protanopia, deuteranopia and tritanopia (issue 13, defect 5).
    @Test func theShippedLegendsStayApartForColourBlindReaders() throws {
        let folder = TestSupport.packageRoot.appendingPathComponent("styles")
        var failures: [String] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path).filter({ $0.hasSuffix(".json") }).sorted() {
            let style = try Style.load(folder.appendingPathComponent(file).path, stylesFolder: folder)
            for layer in style.layers where layer.legendItems.count > 1 {
                let drawn = layer.legendItems.map { item -> DrawnFeature in
                    let props = item.properties.mapValues { v -> AttributeValue in
                        switch v {
                        case .number(let n): .double(n)
                        case .string(let s): .string(s)
                        case .bool(let b): .bool(b)
                        default: .null
                        }
                    }
                    var w = Warnings()
                    return Context.styled(layer, Feature(geometry: .point(Coordinate(x: 0, y: 0)), attributes: props), language: "da", warnings: &w)
                }
                for i in drawn.indices {
                    for j in drawn.indices where j > i {
                        let (x, y) = (drawn[i], drawn[j])
                        if let a = x.icon, let b = y.icon, a != b { continue }
                        guard let cx = x.marker ?? x.fill ?? x.stroke, let cy = y.marker ?? y.fill ?? y.stroke else { continue }
                        // As printed on white paper: translucent fills are blended with it.
                        func onWhite(_ c: RGBA) -> RGBA { RGBA(c.r * c.a + 1 - c.a, c.g * c.a + 1 - c.a, c.b * c.a + 1 - c.a) }
                        let (d, vision) = ColourVision.leastDifference(onWhite(cx), onWhite(cy))
                        if d < 10 {
                            failures.append("\(file) \(layer.id): \(layer.legendItems[i].label.da) \(cx.hex) / \(layer.legendItems[j].label.da) \(cy.hex): "
                                            + String(format: "%.1f", d) + " under \(vision)")
                        }
                    }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    /// A village that reaches no hub is not "over 15 min": it has its own colour and legend entry (issue 13, defect 10).
    @Test func aVillageWithoutRoadToItsHubIsSaidSo() throws {
        let folder = TestSupport.packageRoot.appendingPathComponent("styles")
        let style = try Style.load("clusters", stylesFolder: folder)
        let layer = try #require(style.layers.first { $0.id == "villages" })
        var w = Warnings()
        func colour(_ props: [String: AttributeValue]) -> String? {
            Context.styled(layer, Feature(geometry: .point(Coordinate(x: 0, y: 0)), attributes: props), language: "da", warnings: &w).marker?.hex
        }
        let far = colour(["minutes_to_hub": .double(20), "population": .double(50)])
        let none = colour(["minutes_to_hub": .null, "population": .double(50)])
        #expect(far != none && none == "#252525")
        #expect(layer.legendItems.contains { $0.label.da == "Ingen vejforbindelse til knudepunktet" && $0.properties.isEmpty })
    }

    /// Outside the study is not sea: without a coastline layer the background is a neutral grey, so a study
    /// inland does not read as a lake (issue 13, defect 12).
    @Test func theBackgroundIsNeutral() throws {
        let folder = TestSupport.packageRoot.appendingPathComponent("styles")
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path).filter({ $0.hasSuffix(".json") }) {
            let style = try Style.load(folder.appendingPathComponent(file).path, stylesFolder: folder)
            // A background shown whatever the data is neutral; a sea colour needs the land to be known.
            for layer in style.layers where layer.type == .background && layer.ifData == nil {
                var w = Warnings()
                let c = try #require(Context.color(layer, "background-color", [:], nil, &w))
                let lab = ColourVision.normal.lab(c)
                #expect(hypot(lab.a, lab.b) < 3, "\(file) \(layer.id): \(c.hex) has chroma \(hypot(lab.a, lab.b))")
            }
            #expect(style.layers.filter { $0.type == .background && $0.ifData != nil }.allSatisfy { $0.ifData == "land" }, "\(file)")
        }
    }

    /// With land around the study the sea is blue and the land neutral; without it everything outside the
    /// study is neutral (issue 13, defect 12: an inland German study read as a lake).
    @Test func seaOnlyWhereThereIsSea() throws {
        let folder = TestSupport.packageRoot.appendingPathComponent("styles")
        let style = try Style.load("coverage", stylesFolder: folder)
        func square(_ x0: Double, _ y0: Double, _ side: Double) -> Geometry {
            .polygon([[Coordinate(x: x0, y: y0), Coordinate(x: x0 + side, y: y0), Coordinate(x: x0 + side, y: y0 + side),
                       Coordinate(x: x0, y: y0 + side), Coordinate(x: x0, y: y0)]])
        }
        // The study in the middle, land on the left third, sea on the right.
        let area = Feature(geometry: square(4000, 4000, 2000), attributes: ["id": .string("a"), "name": .string("Sogn")])
        let land = Feature(geometry: square(-5000, -5000, 8000), attributes: [:])
        func chroma(withLand: Bool, at c: Coordinate) throws -> Double {
            let request = MapRequest(style: style, data: ["areas": [area], "land": withLand ? [land] : []],
                                     extent: Envelope(minX: 0, minY: 0, maxX: 10000, maxY: 10000), page: Page.pixels(width: 500, height: 500, dpi: 72),
                                     kind: .png, language: "da", title: "Kort", subtitle: nil, attribution: ["test"])
            let tmp = try TestSupport.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: tmp) }
            let path = tmp.appendingPathComponent("m.png").path
            let report = try MapRenderer.render(request, to: path)
            let (w, _, px) = try PNGPixels.read(path: path)
            let p = report.viewport.page(c)
            let i = (Int(p.y) * w + Int(p.x)) * 4
            let lab = ColourVision.normal.lab(RGBA(Double(px[i + 2]) / 255, Double(px[i + 1]) / 255, Double(px[i]) / 255))
            return hypot(lab.a, lab.b)
        }
        #expect(try chroma(withLand: true, at: Coordinate(x: 9000, y: 9000)) > 4, "the sea is not blue")
        #expect(try chroma(withLand: true, at: Coordinate(x: 1000, y: 1500)) < 3, "the land is not neutral")
        #expect(try chroma(withLand: false, at: Coordinate(x: 9000, y: 9000)) < 3, "without land the outside is not neutral")
    }
}
