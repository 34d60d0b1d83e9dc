import Foundation
import Testing
import KlyngeGeo
import KlyngeTestSupport
@testable import KlyngeRender

func style(_ json: String) throws -> Style { try Style.parse(Data(json.utf8), name: "test") }

@Suite struct ExpressionTests {
    func eval(_ json: String, _ props: [String: AttributeValue] = [:]) throws -> StyleValue {
        let v = try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))
        return try Expression.compile(StyleValue.from(json: v), layer: "l", property: "p").evaluate(props)
    }

    @Test func dataDrivenExpressions() throws {
        let p: [String: AttributeValue] = ["cat": .string("hall"), "pop": .double(250), "covered": .bool(true), "name": .string("Ørby")]
        #expect(try eval(#"["get", "pop"]"#, p) == .number(250))
        #expect(try eval(#"["match", ["get", "cat"], "hall", "red", ["school", "shop"], "blue", "grey"]"#, p) == .string("red"))
        #expect(try eval(#"["match", ["get", "cat"], "school", 1, 0]"#, p) == .number(0))
        #expect(try eval(#"["case", ["<", ["get", "pop"], 100], "small", ["<", ["get", "pop"], 500], "medium", "large"]"#, p) == .string("medium"))
        #expect(try eval(#"["step", ["get", "pop"], 1, 100, 2, 1000, 3]"#, p) == .number(2))
        #expect(try eval(#"["interpolate", ["linear"], ["get", "pop"], 0, 0, 1000, 10]"#, p) == .number(2.5))
        #expect(try eval(##"["interpolate", ["linear"], ["get", "pop"], 0, "#000000", 500, "#ffffff"]"##, p).color == RGBA(0.5, 0.5, 0.5))
        #expect(try eval(#"["all", ["get", "covered"], [">=", ["get", "pop"], 250]]"#, p) == .bool(true))
        #expect(try eval(#"["any", ["==", ["get", "cat"], "x"], ["!", ["get", "covered"]]]"#, p) == .bool(false))
        #expect(try eval(#"["in", ["get", "cat"], ["literal", ["hall", "school"]]]"#, p) == .bool(true))
        #expect(try eval(#"["coalesce", ["get", "missing"], ["get", "name"]]"#, p) == .string("Ørby"))
        #expect(try eval(#"["concat", ["get", "name"], " ", ["to-string", ["*", ["get", "pop"], 2]]]"#, p) == .string("Ørby 500"))
        #expect(try eval(#"["has", "missing"]"#, p) == .bool(false))
    }

    @Test func colours() {
        #expect(RGBA(css: "#f00") == RGBA(1, 0, 0))
        #expect(RGBA(css: "rgba(0, 0, 255, 0.5)") == RGBA(0, 0, 1, 0.5))
        #expect(RGBA(css: "hsl(0, 100%, 50%)") == RGBA(1, 0, 0))
        #expect(RGBA(css: "not a colour") == nil)
    }
}

@Suite struct StyleErrorTests {
    let valid = #"{"version": 8, "sources": {"a": {"type": "geojson", "data": "klynge:areas"}}, "layers": [LAYER]}"#

    func error(_ layer: String) -> StyleError? {
        do { _ = try style(valid.replacingOccurrences(of: "LAYER", with: layer)); return nil } catch let e as StyleError { return e } catch { return nil }
    }

    @Test func errorsNameTheLayerAndProperty() throws {
        var e = error(#"{"id": "x", "type": "hexbin", "source": "a"}"#)
        #expect(e?.layer == "x" && e?.property == "type")
        e = error(#"{"id": "x", "type": "fill", "source": "a", "paint": {"fill-colour": "red"}}"#)
        #expect(e?.layer == "x" && e?.property == "fill-colour" && e?.message.contains("unknown paint property") == true)
        e = error(#"{"id": "x", "type": "fill", "source": "a", "paint": {"fill-color": ["lookup", "x"]}}"#)
        #expect(e?.layer == "x" && e?.property == "fill-color" && e?.message.contains("lookup") == true)
        e = error(#"{"id": "x", "type": "fill", "source": "nowhere"}"#)
        #expect(e?.layer == "x" && e?.property == "source")
        e = error(#"{"id": "x", "type": "line", "source": "a", "paint": {"line-width": "thick"}}"#)
        #expect(e?.property == "line-width")
        e = error(##"{"id": "x", "type": "circle", "source": "a", "paint": {"circle-color": "#zzzzzz"}}"##)
        #expect(e?.property == "circle-color")
        e = error(#"{"id": "x", "type": "fill", "source": "a", "filter": ["step", ["get", "p"], 1, 5, 2, 3, 4]}"#)
        #expect(e?.property == "filter" && e?.message.contains("increase") == true)
        #expect(throws: StyleError.self) { try style(#"{"version": 8, "sources": {"a": {"type": "geojson", "data": "klynge:lakes"}}, "layers": []}"#) }
        #expect(throws: StyleError.self) { try style(#"{"version": 8, "layers": [], "transition": {}}"#) }
    }

    @Test func theShippedStylesParse() throws {
        let folder = TestSupport.packageRoot.appendingPathComponent("styles")
        for name in ["overview", "coverage", "scenario", "clusters", "masterplan"] {
            let s = try Style.load(name, stylesFolder: folder)
            #expect(!s.layers.isEmpty && s.title != nil, "\(name)")
        }
    }
}

/// A small fixed map: two squares, a road, five villages with long names crowded together.
func smallMap(kind: OutputKind, page: Page) throws -> MapRequest {
    let s = try style(##"""
    {"version": 8, "metadata": {"klynge:title": "Test"},
     "sources": {"a": {"type": "geojson", "data": "klynge:areas"}, "r": {"type": "geojson", "data": "klynge:roads"},
                 "d": {"type": "geojson", "data": "klynge:demand"}},
     "layers": [
      {"id": "bg", "type": "background", "paint": {"background-color": "#dde8ee"}},
      {"id": "areas", "type": "fill", "source": "a", "paint": {"fill-color": ["match", ["get", "id"], "A", "#f0e6d2", "#dfeedd"], "fill-outline-color": "#888888"},
       "metadata": {"klynge:legend": {"da": "Sogn", "en": "Parish"}}},
      {"id": "road", "type": "line", "source": "r", "paint": {"line-color": "#c0392b", "line-width": 3},
       "metadata": {"klynge:legend": {"da": "Vej", "en": "Road"}}},
      {"id": "dots", "type": "circle", "source": "d", "paint": {"circle-radius": 4, "circle-color": "#333333"}},
      {"id": "names", "type": "symbol", "source": "d", "layout": {"text-field": ["get", "name"], "text-anchor": "left", "text-offset": [0.5, 0],
       "text-size": 14, "symbol-sort-key": ["-", 0, ["get", "population"]]}, "paint": {"text-color": "#111111", "text-halo-color": "#ffffff", "text-halo-width": 1.5}}
     ]}
    """##)
    func sq(_ x: Double, _ id: String) -> Feature {
        Feature(geometry: .polygon([[.init(x: x, y: 0), .init(x: x + 5000, y: 0), .init(x: x + 5000, y: 5000), .init(x: x, y: 5000), .init(x: x, y: 0)]]),
                attributes: ["id": .string(id)])
    }
    let names = ["Æbelø Nørreby", "Østerbølle", "Åkirkeby Strand", "Vesterø Havn", "Tranebjerg"]
    let villages = names.enumerated().map { i, n in
        Feature(geometry: .point(.init(x: 4000 + Double(i) * 350, y: 2500 + Double(i % 2) * 150)),
                attributes: ["name": .string(n), "population": .double(Double(100 * (i + 1)))])
    }
    return MapRequest(style: s, data: ["areas": [sq(0, "A"), sq(5000, "B")],
                                       "roads": [Feature(geometry: .lineString([.init(x: 0, y: 1000), .init(x: 10000, y: 4000)]))],
                                       "demand": villages],
                      extent: Envelope(minX: 0, minY: 0, maxX: 10000, maxY: 5000), page: page, kind: kind, language: "da",
                      title: "Prøvekort", subtitle: "Æ ø å · test", attribution: ["© OpenStreetMap contributors"])
}

@Suite struct RenderTests {
    /// A long title wraps at its size instead of shrinking to fit one line (issue 13, defect 15).
    @Test func longTitlesWrap() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let a5 = try #require(Page.paper("A5", landscape: false, dpi: 72))
        let short = try smallMap(kind: .pdf, page: a5)
        var long = short
        long.title = "Landsbyklyngen Nord og Syd: mødesteder, byer og veje i hele kommunen, forslag til høring 2026"
        let a = try MapRenderer.render(short, to: folder.appendingPathComponent("a.pdf").path)
        let b = try MapRenderer.render(long, to: folder.appendingPathComponent("b.pdf").path)
        // Two more lines of the title's size push the frame down by about two title heights (14 pt × 1.35 each).
        #expect(b.viewport.frame.y - a.viewport.frame.y > 2 * 14 * 1.35 * 0.9, "\(a.viewport.frame.y) → \(b.viewport.frame.y)")
    }

    /// The scale ratio beside the bar, rounded as maps print it (issue 13, defect 15).
    @Test func scaleRatiosAreRounded() {
        #expect(Context.scaleText(110_674, language: "da") == "110.000")
        #expect(Context.scaleText(110_674, language: "en") == "110,000")
        #expect(Context.scaleText(5_432, language: "da") == "5.400")
        #expect(Context.scaleText(987, language: "da") == "990")
        #expect(Context.scaleText(Double.nan, language: "da") == "–")
    }

    /// Type is set in points and stays put from A5 to A2; a larger sheet shows more, not bigger (issue 13,
    /// defect 11).
    @Test func typeStaysPutAcrossSheets() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var heights: [String: [Double]] = [:], counts: [Int] = []
        for paper in ["A5", "A4", "A3", "A2"] {
            let page = try #require(Page.paper(paper, landscape: true, dpi: 72))
            let r = try MapRenderer.render(try smallMap(kind: .pdf, page: page), to: folder.appendingPathComponent("\(paper).pdf").path)
            for l in r.labels { heights[l.text, default: []].append(l.box.h) }
            counts.append(r.labels.count)
        }
        for (text, hs) in heights { #expect(hs.allSatisfy { abs($0 - hs[0]) < 0.01 }, "\(text): \(hs)") }
        #expect(counts == counts.sorted(), "\(counts)")
        #expect(MapRenderer.baseTypePt(595.28, 841.89) == MapRenderer.baseTypePt(1190.55, 1683.78))
    }

    /// One layout, one map: PNG at any resolution, PDF and SVG have the same frame, scale and labels (issue 13,
    /// defect 14: text measured with hinted metrics used to differ between the surfaces).
    @Test func everyFormatGivesTheSameMap() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let a4 = try #require(Page.paper("A4", landscape: false, dpi: 72))
        var reports: [(String, RenderReport)] = []
        for (kind, dpi) in [(OutputKind.pdf, 72.0), (.svg, 72), (.png, 96), (.png, 300)] {
            let page = Page(widthPt: a4.widthPt, heightPt: a4.heightPt, dpi: dpi)
            let path = folder.appendingPathComponent("m\(Int(dpi)).\(kind.rawValue)").path
            reports.append(("\(kind.rawValue) \(Int(dpi))", try MapRenderer.render(try smallMap(kind: kind, page: page), to: path)))
        }
        let (_, first) = reports[0]
        for (name, r) in reports.dropFirst() {
            #expect(abs(r.viewport.scaleDenominator - first.viewport.scaleDenominator) < 1e-6, "\(name): scale")
            #expect(r.labels.map(\.text) == first.labels.map(\.text), "\(name): \(r.labels.map(\.text)) vs \(first.labels.map(\.text))")
            for (a, b) in zip(r.labels, first.labels) { #expect(abs(a.box.x - b.box.x) < 0.01 && abs(a.box.w - b.box.w) < 0.01, "\(name): \(a.text)") }
        }
    }

    /// Dots are obstacles for labels: a label does not sit on a neighbouring village's dot when there is room
    /// elsewhere, but may sit beside its own (issue 13, defect 6).
    @Test func labelsKeepOffOtherDots() throws {
        let s = try style(##"""
        {"version": 8, "sources": {"d": {"type": "geojson", "data": "klynge:demand"}},
         "layers": [
          {"id": "dots", "type": "circle", "source": "d", "paint": {"circle-radius": 8, "circle-color": "#333333"}},
          {"id": "names", "type": "symbol", "source": "d", "layout": {"text-field": ["get", "name"], "text-anchor": "left", "text-offset": [0.8, 0],
           "text-size": 14, "symbol-sort-key": ["-", 0, ["get", "population"]]}}
         ]}
        """##)
        // Alfa's label would run right, across Beta's dot just east of it.
        let alfa = Feature(geometry: .point(Coordinate(x: 5000, y: 5000)), attributes: ["name": .string("Alfa Storeby"), "population": .double(900)])
        let beta = Feature(geometry: .point(Coordinate(x: 5600, y: 5000)), attributes: ["name": .string("B"), "population": .double(10)])
        let request = MapRequest(style: s, data: ["demand": [alfa, beta]], extent: Envelope(minX: 0, minY: 0, maxX: 10000, maxY: 10000),
                                 page: Page.pixels(width: 600, height: 600, dpi: 72), kind: .png, language: "da", title: "Kort", subtitle: nil,
                                 attribution: ["test"])
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let report = try MapRenderer.render(request, to: folder.appendingPathComponent("d.png").path)
        let label = try #require(report.labels.first { $0.text == "Alfa Storeby" })
        let b = report.viewport.page(Coordinate(x: 5600, y: 5000))
        let radius = 8 * 0.75
        let betaDot = LabelPlacer.Box(x: b.x - radius, y: b.y - radius, w: 2 * radius, h: 2 * radius)
        #expect(!label.box.intersects(betaDot), "Alfa's label \(label.box) covers Beta's dot \(betaDot)")
    }

    /// Legend dots have one size when the map's dots are sized by the data, whichever feature a swatch
    /// matched (issue 13, defect 10): a hamlet and a town in two classes draw equal swatches.
    @Test func legendDotsDoNotVaryByChance() throws {
        let s = try style(##"""
        {"version": 8, "sources": {"d": {"type": "geojson", "data": "klynge:demand"}},
         "layers": [
          {"id": "dots", "type": "circle", "source": "d",
           "paint": {"circle-radius": ["interpolate", ["linear"], ["get", "share"], 0, 2, 1, 12],
                     "circle-color": ["match", ["get", "kind"], "a", "#000000", "#010101"]},
           "metadata": {"klynge:legend-items": [{"label": "A", "properties": {"kind": "a"}}, {"label": "B", "properties": {"kind": "b"}}]}}
         ]}
        """##)
        // Sized by a share (0–1): too small a range for a size key, so the legend holds just the two swatches.
        let hamlet = Feature(geometry: .point(Coordinate(x: 2000, y: 8000)), attributes: ["kind": .string("a"), "share": .double(0.01)])
        let town = Feature(geometry: .point(Coordinate(x: 2500, y: 8000)), attributes: ["kind": .string("b"), "share": .double(1)])
        let request = MapRequest(style: s, data: ["demand": [hamlet, town]], extent: Envelope(minX: 0, minY: 0, maxX: 10000, maxY: 10000),
                                 page: Page.pixels(width: 900, height: 900, dpi: 72), kind: .png, language: "da", title: "Kort", subtitle: nil,
                                 attribution: ["test"])
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("s.png").path
        let report = try MapRenderer.render(request, to: path)
        #expect(report.legend == ["A", "B"])
        let box = try #require(report.legendBox)
        // Dark pixels in the swatch column of the legend, counted per row half: both swatches alike.
        let (w, _, px) = try PNGPixels.read(path: path)
        func dark(_ y0: Double, _ y1: Double) -> Int {
            var n = 0
            for y in Int(y0)..<Int(y1) { for x in Int(box.x)..<Int(box.x + box.w * 0.3) { let i = (y * w + x) * 4; if px[i] < 60 && px[i + 1] < 60 && px[i + 2] < 60 { n += 1 } } }
            return n
        }
        let mid = box.y + box.h * 0.62
        let a = dark(box.y + box.h * 0.3, mid), b = dark(mid, box.y + box.h)
        #expect(a > 0 && abs(a - b) <= max(2, a / 10), "swatch pixels \(a) and \(b)")
    }

    /// The legend goes to the corner that hides the fewest points, is opaque, and nothing is drawn over it
    /// (issue 13, defect 4): red points crowd the bottom right, the legend moves; a point under it is covered.
    @Test func theLegendHidesTheLeastData() throws {
        let s = try style(##"""
        {"version": 8, "sources": {"a": {"type": "geojson", "data": "klynge:areas"}, "d": {"type": "geojson", "data": "klynge:demand"}},
         "layers": [
          {"id": "bg", "type": "background", "paint": {"background-color": "#dde8ee"}},
          {"id": "areas", "type": "fill", "source": "a", "paint": {"fill-color": "#f0e6d2"}, "metadata": {"klynge:legend": "Sogn"}},
          {"id": "dots", "type": "circle", "source": "d", "paint": {"circle-radius": 6, "circle-color": "#ff0000"}}
         ]}
        """##)
        let ring: [Coordinate] = [Coordinate(x: 0, y: 0), Coordinate(x: 10000, y: 0), Coordinate(x: 10000, y: 10000), Coordinate(x: 0, y: 10000), Coordinate(x: 0, y: 0)]
        let square = Feature(geometry: .polygon([ring]))
        // Twenty points in the bottom right, one in each other corner.
        var dots: [Feature] = []
        for i in 0..<20 {
            let x = 8500.0 + Double(i % 5) * 300, y = 300.0 + Double(i / 5) * 300
            dots.append(Feature(geometry: .point(Coordinate(x: x, y: y))))
        }
        for (x, y) in [(300.0, 300.0), (300.0, 9700.0), (9700.0, 9700.0)] { dots.append(Feature(geometry: .point(Coordinate(x: x, y: y)))) }
        let page = Page.pixels(width: 800, height: 800, dpi: 72)
        let request = MapRequest(style: s, data: ["areas": [square], "demand": dots], extent: Envelope(minX: 0, minY: 0, maxX: 10000, maxY: 10000),
                                 page: page, kind: .png, language: "da", title: "Kort", subtitle: nil, attribution: ["test"])
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("l.png").path
        let report = try MapRenderer.render(request, to: path)
        let box = try #require(report.legendBox)
        let crowded = report.viewport.page(Coordinate(x: 9000, y: 600))
        let onCrowded = crowded.x >= box.x && crowded.x <= box.x + box.w && crowded.y >= box.y && crowded.y <= box.y + box.h
        #expect(!onCrowded, "the legend sits on the crowded corner: \(box)")
        // Opaque, and drawn last: no red pixel inside it.
        let (w, _, px) = try PNGPixels.read(path: path)
        var red = 0
        let x0 = Int(box.x) + 1, x1 = Int(box.x + box.w), y0 = Int(box.y) + 1, y1 = Int(box.y + box.h)
        for y in y0..<y1 {
            for x in x0..<x1 {
                let i = (y * w + x) * 4
                if px[i + 2] > 200 && px[i + 1] < 80 && px[i] < 80 { red += 1 }
            }
        }
        #expect(red == 0, "\(red) red pixels inside the legend")
        // Every corner holds a point, so the legend makes room for itself outside the map and hides nothing.
        let f = report.viewport.frame
        #expect(!box.intersects(LabelPlacer.Box(x: f.x, y: f.y, w: f.w, h: f.h)), "the legend \(box) hides a corner of the map \(f)")
        #expect(box.x >= 0 && box.y >= 0 && box.x + box.w <= page.widthPt && box.y + box.h <= page.heightPt)
        // With the top left corner empty, the legend goes there, inside the map.
        var sparse = request
        sparse.data["demand"] = dots.filter { $0.geometry != .point(Coordinate(x: 300, y: 9700)) }
        let inside = try MapRenderer.render(sparse, to: path)
        let b = try #require(inside.legendBox)
        let g = inside.viewport.frame
        #expect(b.x >= g.x && b.y >= g.y && b.x + b.w <= g.x + g.w && b.y + b.h <= g.y + g.h, "\(b) is not inside \(g)")
        #expect(b.x < g.x + g.w / 2 && b.y < g.y + g.h / 2, "not in the top left: \(b)")
    }

    /// Small multiples: the grid that draws the content largest, and every panel drawn inside its own cell.
    @Test func panelsFillTheirCells() throws {
        let a4 = try #require(Page.paper("A4", landscape: true, dpi: 72))
        #expect(MapRenderer.PanelLayout(page: a4, count: 3, contentAspect: 0.5).columns == 3)   // tall island: side by side
        #expect(MapRenderer.PanelLayout(page: a4, count: 3, contentAspect: 4).columns == 1)     // long coast: stacked
        #expect(MapRenderer.PanelLayout(page: a4, count: 4, contentAspect: 1.4).columns == 2)
        let layout = MapRenderer.PanelLayout(page: Page.pixels(width: 900, height: 500, dpi: 72), count: 2, contentAspect: 1)
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("p.png").path
        let panels = [try smallMap(kind: .png, page: layout.panel), try smallMap(kind: .png, page: layout.panel)]
        let reports = try MapRenderer.renderPanels(panels, layout: layout, title: "To kort", kind: .png, to: path)
        #expect(reports.count == 2)
        let (w, h, px) = try PNGPixels.read(path: path)
        #expect(w == 900 && h == 500)
        // The sample's red road crosses each panel: red pixels in both halves, none in the gutter between them.
        // Cairo's ARGB32 words are B, G, R, A in memory here.
        func red(_ x: Int, _ y: Int) -> Bool { let i = (y * w + x) * 4; return px[i + 2] > 150 && px[i + 1] < 100 && px[i] < 100 }
        let half = w / 2
        let left = (0..<h).contains { y in (0..<half).contains { red($0, y) } }
        let right = (0..<h).contains { y in (half..<w).contains { red($0, y) } }
        #expect(left && right)
        let gutter = Int(layout.gutterPt + layout.panel.widthPt) + 1
        #expect(!(0..<h).contains { red(gutter, $0) })
        #expect(throws: RenderError.self) { try MapRenderer.renderPanels([try smallMap(kind: .png, page: a4)], layout: layout, title: "x", kind: .png, to: path) }
    }

    @Test func labelsNeverOverlapAndStayInsideTheFrame() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var request = try smallMap(kind: .png, page: .pixels(width: 400, height: 300, dpi: 96))
        // Thirty villages within 600 m: most labels must be left out rather than overlap.
        var crowd: [Feature] = []
        for i in 0..<30 {
            let x: Double = 4500 + Double(i % 6) * 100
            let y: Double = 2200 + Double(i / 6) * 120
            let population: Double = i == 17 ? 5000 : Double(i)
            crowd.append(Feature(geometry: .point(Coordinate(x: x, y: y)),
                                 attributes: ["name": .string("Landsby \(i)"), "population": .double(population)]))
        }
        request.data["demand"] = crowd
        let r = try MapRenderer.render(request, to: folder.appendingPathComponent("m.png").path)
        #expect(!r.labels.isEmpty && r.labels.count < 30)
        #expect(r.labels.first?.text == "Landsby 17")   // the most populous is placed first
        let f = r.viewport.frame
        for (i, a) in r.labels.enumerated() {
            #expect(a.box.x >= f.x && a.box.y >= f.y && a.box.x + a.box.w <= f.x + f.w && a.box.y + a.box.h <= f.y + f.h)
            for b in r.labels[(i + 1)...] { #expect(!a.box.intersects(b.box), "\(a.text) overlaps \(b.text)") }
        }
        #expect(r.legend == ["Vej", "Sogn"])
    }

    @Test func scaleBarMeasuresTheMap() throws {
        let v = Viewport(extent: Envelope(minX: 0, minY: 0, maxX: 10000, maxY: 5000), frame: (x: 0, y: 0, w: 500, h: 250), padding: 0)
        #expect(abs(v.scale - 0.05) < 1e-12)   // 500 pt for 10 km
        let bar = ScaleBar(viewport: v, maxWidthPt: 125)   // at most 2.5 km
        #expect(bar.meters == 2000 && bar.label == "2 km" && abs(bar.widthPt - 100) < 1e-9)
        // Two points 2 km apart on the map are exactly the bar's width apart.
        let a = v.page(Coordinate(x: 1000, y: 2000)), b = v.page(Coordinate(x: 3000, y: 2000))
        #expect(abs((b.x - a.x) - bar.widthPt) < 1e-9)
        #expect(ScaleBar(viewport: v, maxWidthPt: 30).label == "500 m")
        // 1 : N on paper: 0.05 pt per metre = 1 : 56,693.
        #expect(abs(v.scaleDenominator - 1 / (0.05 * 0.0254 / 72)) < 1e-6)
    }

    @Test func outputsHaveTheSizeAskedFor() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let png = folder.appendingPathComponent("m.png").path
        _ = try MapRenderer.render(smallMap(kind: .png, page: Page.paper("A5", landscape: true, dpi: 150)!), to: png)
        let px = try PNGPixels.read(path: png)
        #expect(px.width == 1240 && px.height == 874)
        #expect(abs(PNGMetadata.dpi(path: png)! - 150) < 0.02)  // pixels per metre are whole numbers
        let pdf = folder.appendingPathComponent("m.pdf").path
        _ = try MapRenderer.render(smallMap(kind: .pdf, page: Page.paper("A4", landscape: false, dpi: 300)!), to: pdf)
        let pdfText = String(decoding: try Data(contentsOf: URL(fileURLWithPath: pdf)), as: UTF8.self)
        #expect(pdfText.contains("/MediaBox [ 0 0 595.28 841.89 ]"))
        let svg = folder.appendingPathComponent("m.svg").path
        _ = try MapRenderer.render(smallMap(kind: .svg, page: Page.paper("A4", landscape: true, dpi: 300)!), to: svg)
        let svgText = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(svgText.contains("width=\"841.89pt\"") || svgText.contains("width=\"841.89\""))
        #expect(!svgText.contains("<image"))
        #expect(svgText.contains("<path"))
        #expect(svgText.contains("<text") && !svgText.contains("glyph"))  // text as text (SVGTests)
    }

    @Test func matchesTheGoldenImage() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let png = folder.appendingPathComponent("m.png").path
        _ = try MapRenderer.render(smallMap(kind: .png, page: .pixels(width: 400, height: 300, dpi: 96)), to: png)
        // The golden image is a declared resource of this test target.
        let golden = try #require(Bundle.module.url(forResource: "small", withExtension: "png", subdirectory: "golden")).path
        // KLYNGE_UPDATE_GOLDEN=1 replaces the golden image in the source tree (look at it before committing it).
        if ProcessInfo.processInfo.environment["KLYNGE_UPDATE_GOLDEN"] == "1" {
            let source = TestSupport.packageRoot.appendingPathComponent("Tests/KlyngeRenderTests/golden/small.png").path
            try? FileManager.default.removeItem(atPath: source)
            try FileManager.default.copyItem(atPath: png, toPath: source)
        }
        let a = try PNGPixels.read(path: png), b = try PNGPixels.read(path: golden)
        #expect(a.width == b.width && a.height == b.height)
        try #require(a.pixels.count == b.pixels.count)
        // Tolerance for anti-aliasing and font hinting: mean difference under 1 %, few pixels far off.
        var sum = 0, far = 0
        for i in 0..<a.pixels.count {
            let d = abs(Int(a.pixels[i]) - Int(b.pixels[i]))
            sum += d
            if d > 64 { far += 1 }
        }
        let mean = Double(sum) / Double(a.pixels.count) / 255
        #expect(mean < 0.01, "mean difference \(mean)")
        #expect(Double(far) / Double(a.pixels.count) < 0.01, "\(far) channels far off")
    }
}
