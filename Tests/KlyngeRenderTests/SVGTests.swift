import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import KlyngeGeo
import KlyngeTestSupport
@testable import KlyngeRender

/// SVG for illustrators (issue 13, defect 15): text is editable text in a named font, each style layer and
/// piece of furniture a named group, and the SVG shows the same map as the PNG.
@Suite struct SVGTests {
    /// Elements of an SVG: the text of each <text> with its font and first position, and the groups' ids.
    final class Reader: NSObject, XMLParserDelegate {
        var texts: [(text: String, font: String, x: Double, y: Double)] = []
        var groups: [(id: String, label: String?)] = []
        private var current: (text: String, font: String, x: Double, y: Double)?
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes a: [String: String]) {
            switch name {
            case "text": current = ("", a["font-family"] ?? "", .nan, .nan)
            case "tspan": if current?.x.isNaN == true { current?.x = Double(a["x"] ?? "") ?? .nan; current?.y = Double(a["y"] ?? "") ?? .nan }
            case "g": if let id = a["id"] { groups.append((id, a["inkscape:label"])) }
            default: break
            }
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { current?.text += string }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "text", let c = current { texts.append(c); current = nil }
        }
    }

    @Test func textIsTextAndLayersAreNamedGroups() throws {
        let s = try style(##"""
        {"version": 8, "sources": {"a": {"type": "geojson", "data": "klynge:areas"}, "d": {"type": "geojson", "data": "klynge:demand"}},
         "layers": [
          {"id": "sea", "type": "background", "paint": {"background-color": "#dde8ee"}},
          {"id": "parishes", "type": "fill", "source": "a", "paint": {"fill-color": "#f0ede4", "fill-outline-color": "#9a8f7a"}, "metadata": {"klynge:legend": "Sogn"}},
          {"id": "towns", "type": "circle", "source": "d", "paint": {"circle-radius": 5, "circle-color": "#333333"}, "metadata": {"klynge:legend": "By"}},
          {"id": "town names", "type": "symbol", "source": "d", "layout": {"text-field": ["get", "name"], "text-anchor": "left", "text-offset": [0.8, 0]},
           "paint": {"text-halo-color": "#ffffff", "text-halo-width": 1.5}}
         ]}
        """##)
        let square = Geometry.polygon([[Coordinate(x: 1000, y: 1000), Coordinate(x: 9000, y: 1000), Coordinate(x: 9000, y: 9000),
                                        Coordinate(x: 1000, y: 9000), Coordinate(x: 1000, y: 1000)]])
        let names = ["Bro & Bæk <Syd>", "Ærø \"Øst\"", "Sønder Ås"]
        let towns = names.enumerated().map { i, n in
            Feature(geometry: .point(Coordinate(x: 2500 + Double(i) * 2500, y: 3000 + Double(i) * 2000)), attributes: ["name": .string(n)])
        }
        func request(_ kind: OutputKind) -> MapRequest {
            MapRequest(style: s, data: ["areas": [Feature(geometry: square, attributes: ["name": .string("Sogn")])], "demand": towns],
                       extent: Envelope(minX: 0, minY: 0, maxX: 10000, maxY: 10000), page: Page.paper("A5", landscape: false, dpi: 72)!,
                       kind: kind, language: "da", title: "Kort & plan", subtitle: "Prøve", attribution: ["test"])
        }
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let svgPath = folder.appendingPathComponent("m.svg").path
        let svgReport = try MapRenderer.render(request(.svg), to: svgPath)
        let pngReport = try MapRenderer.render(request(.png), to: folder.appendingPathComponent("m.png").path)

        let parser = try #require(XMLParser(contentsOf: URL(fileURLWithPath: svgPath)))
        let reader = Reader()
        parser.delegate = reader
        #expect(parser.parse(), "the SVG is not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "")")
        // Every label, the title and the legend are text in the named font, escaped characters and all.
        let texts = reader.texts.map(\.text)
        for n in names + ["Kort & plan", "Prøve", "Signaturforklaring", "Sogn", "By"] { #expect(texts.contains(n), "\(n) is not SVG text: \(texts)") }
        #expect(reader.texts.allSatisfy { $0.font == "DejaVu Sans" })
        // The labels sit where the PNG puts them (same layout, same place).
        #expect(svgReport.labels.map(\.text) == pngReport.labels.map(\.text))
        for label in svgReport.labels {
            let t = try #require(reader.texts.first { $0.text == label.text })
            #expect(abs(t.x - label.box.x) < 0.6, "\(label.text): x \(t.x) vs \(label.box.x)")
            #expect(t.y > label.box.y && t.y < label.box.y + label.box.h, "\(label.text): baseline \(t.y) outside \(label.box)")
        }
        // Each style layer and piece of furniture is a named group (an Inkscape layer), ids unique.
        let ids = reader.groups.map(\.id)
        for id in ["layer-sea", "layer-parishes", "layer-towns", "labels-town_names", "legend", "scale-bar", "north-arrow", "frame"] {
            #expect(ids.contains(id), "no group \(id): \(ids)")
        }
        #expect(Set(ids).count == ids.count)
        #expect(reader.groups.contains { $0.id == "labels-town_names" && $0.label?.hasPrefix("town names") == true })
    }
}

/// The overview's locator inset (issue 13, defect 16): the wider region in a free corner, the map's frame
/// marked in red, opaque, clear of the legend, and not part of the map's own layers.
@Suite struct LocatorInsetTests {
    @Test func theInsetShowsWhereTheMapIs() throws {
        let s = try style(##"""
        {"version": 8, "sources": {"a": {"type": "geojson", "data": "klynge:areas"}, "l": {"type": "geojson", "data": "klynge:locator"}},
         "layers": [
          {"id": "country", "type": "fill", "source": "l", "paint": {"fill-color": "#d9d4c7"}, "metadata": {"klynge:inset": true}},
          {"id": "parishes", "type": "fill", "source": "a", "paint": {"fill-color": "#f0ede4"}, "metadata": {"klynge:legend": "Sogn"}}
         ]}
        """##)
        func square(_ x0: Double, _ y0: Double, _ side: Double) -> Geometry {
            .polygon([[Coordinate(x: x0, y: y0), Coordinate(x: x0 + side, y: y0), Coordinate(x: x0 + side, y: y0 + side),
                       Coordinate(x: x0, y: y0 + side), Coordinate(x: x0, y: y0)]])
        }
        let request = MapRequest(style: s, data: ["areas": [Feature(geometry: square(40_000, 40_000, 10_000), attributes: [:])],
                                                  "locator": [Feature(geometry: square(0, 0, 200_000), attributes: [:])]],
                                 extent: Envelope(minX: 40_000, minY: 40_000, maxX: 50_000, maxY: 50_000),
                                 page: Page.pixels(width: 800, height: 800, dpi: 72), kind: .png, language: "da", title: "Kort", subtitle: nil,
                                 attribution: ["test"])
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = ProcessInfo.processInfo.environment["KLYNGE_KEEP_MAP"] ?? folder.appendingPathComponent("i.png").path
        let report = try MapRenderer.render(request, to: path)
        let inset = try #require(report.insetBox)
        let legend = try #require(report.legendBox)
        #expect(!inset.intersects(legend))
        let frame = report.viewport.frame
        #expect(inset.x >= frame.x && inset.y >= frame.y && inset.x + inset.w <= frame.x + frame.w && inset.y + inset.h <= frame.y + frame.h)
        // Red pixels (the map's frame) only inside the inset, around the region's 20–25 % mark (pixels are BGRA).
        let (w, h, px) = try PNGPixels.read(path: path)
        var red: [(Int, Int)] = []
        for y in 0..<h { for x in 0..<w { let i = (y * w + x) * 4; if Int(px[i + 2]) - Int(px[i + 1]) > 60 && Int(px[i + 2]) - Int(px[i]) > 60 { red.append((x, y)) } } }
        #expect(!red.isEmpty)
        #expect(red.allSatisfy { Double($0.0) >= inset.x && Double($0.0) <= inset.x + inset.w && Double($0.1) >= inset.y && Double($0.1) <= inset.y + inset.h })
        let meanX = Double(red.map(\.0).reduce(0, +)) / Double(red.count)
        #expect(meanX > inset.x + inset.w * 0.15 && meanX < inset.x + inset.w * 0.35, "the red mark at \(meanX) in \(inset)")
        // The inset is not one of the map's layers.
        #expect(!MapRenderer.styledFeatures(request).contains { $0.layer == "country" })
        // No locator data, no inset.
        var bare = request
        bare.data["locator"] = []
        #expect(try MapRenderer.render(bare, to: folder.appendingPathComponent("bare.png").path).insetBox == nil)
    }

    @Test func insetsAreFillsAndLines() throws {
        #expect(throws: StyleError.self) {
            try style(#"{"version": 8, "sources": {"l": {"type": "geojson", "data": "klynge:locator"}}, "layers": [{"id": "x", "type": "circle", "source": "l", "metadata": {"klynge:inset": true}}]}"#)
        }
        #expect(throws: StyleError.self) {
            try style(#"{"version": 8, "sources": {"l": {"type": "geojson", "data": "klynge:locator"}}, "layers": [{"id": "x", "type": "fill", "source": "l", "metadata": {"klynge:inset": "yes"}}]}"#)
        }
        // A layer drawn only with some data names a Klynge layer.
        #expect(throws: StyleError.self) {
            try style(#"{"version": 8, "layers": [{"id": "sea", "type": "background", "metadata": {"klynge:if-data": "lakes"}}]}"#)
        }
        #expect(try style(#"{"version": 8, "layers": [{"id": "sea", "type": "background", "metadata": {"klynge:if-data": "land"}}]}"#).layers[0].ifData == "land")
    }
}
