import Foundation
import Testing
import KlyngeGeo
import KlyngeTestSupport
@testable import KlyngeRender

/// Many unnamed demand points are merged per cell and colour class, never across classes, and keep their
/// people (issue 13, defect 2). Checked against an independent binning of the same points.
@Suite struct AggregationTests {
    let json = ##"""
    {"version": 8, "sources": {"d": {"type": "geojson", "data": "klynge:coverage"}},
     "layers": [
      {"id": "dots", "type": "circle", "source": "d",
       "metadata": {"klynge:aggregate": {"cell-mm": 6, "above": ABOVE, "sum": ["population"]}},
       "paint": {"circle-radius": ["interpolate", ["linear"], ["get", "population"], 0, 2, 1000, 10],
                 "circle-color": ["case", ["!", ["has", "ratio"]], "#bdbdbd", ["step", ["get", "ratio"], "#08306b", 1, "#fdb863", 1.5, "#b35806"]]}},
      {"id": "names", "type": "symbol", "source": "d", "layout": {"text-field": ["get", "name"]}}
     ]}
    """##

    /// The class the style gives a ratio (nil: no road), written out independently of the renderer.
    func colourClass(_ ratio: Double?) -> Int { guard let ratio else { return -1 }; return ratio < 1 ? 0 : ratio < 1.5 ? 1 : 2 }

    func points(_ n: Int) -> [Feature] {
        var seed: UInt64 = 0x9E3779B97F4A7C15
        func next() -> Double { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return Double(seed >> 11) / Double(1 << 53) }
        var out: [Feature] = []
        for i in 0..<n {
            // Two dense towns and a scatter, some without a road (no ratio).
            let town = i % 3
            let (cx, cy, spread) = town == 0 ? (3000.0, 3000.0, 800.0) : town == 1 ? (7000.0, 6500.0, 500.0) : (5000.0, 5000.0, 4500.0)
            let x = cx + (next() - 0.5) * 2 * spread, y = cy + (next() - 0.5) * 2 * spread
            var a: [String: AttributeValue] = ["id": .string("p\(i)"), "population": .double(Double(1 + Int(next() * 30)))]
            if i % 17 != 0 { a["ratio"] = .double(next() * 2.2) }
            out.append(Feature(geometry: .point(Coordinate(x: x, y: y)), attributes: a))
        }
        return out
    }

    func request(above: Int, _ data: [Feature]) throws -> MapRequest {
        MapRequest(style: try style(json.replacingOccurrences(of: "ABOVE", with: "\(above)")), data: ["coverage": data],
                   extent: Envelope(minX: 0, minY: 0, maxX: 10000, maxY: 10000), page: Page.pixels(width: 800, height: 800, dpi: 72),
                   kind: .png, language: "da", title: "Kort", subtitle: nil, attribution: ["test"])
    }

    @Test func manyUnnamedPointsAreMergedPerCellAndClass() throws {
        let anonymous = points(3000)
        let named = [("Alfa", 2000.0, 2000.0, 0.4), ("Beta", 2010.0, 2005.0, 0.45), ("Gamma", 8000.0, 8000.0, 1.7)].map { n, x, y, r in
            Feature(geometry: .point(Coordinate(x: x, y: y)), attributes: ["name": .string(n), "population": .double(100), "ratio": .double(r)])
        }
        let r = try request(above: 1000, anonymous + named)
        let styled = MapRenderer.styledFeatures(r)
        let dots = styled.filter { $0.layer == "dots" }
        // Unnamed points' empty labels are not features of the styled GeoJSON: they draw nothing.
        #expect(styled.filter { $0.layer == "names" }.count == named.count)
        // Named points stay themselves, where they are.
        for n in named {
            #expect(dots.contains { $0.feature["name"].text == n["name"].text && $0.feature.geometry == n.geometry }, "\(n["name"].text ?? "")")
        }
        let merged = dots.filter { $0.feature["klynge_points"] != .null }
        let cell = try #require(merged.first?.feature["klynge_cell_m"].number)
        #expect(cell > 0)
        // The independent binning: cell and colour class per unnamed point.
        struct Key: Hashable { var cx: Int, cy: Int, cls: Int }
        var groups: [Key: (count: Int, people: Double)] = [:]
        for f in anonymous {
            let c = f.geometry!.pointParts[0]
            let k = Key(cx: Int(floor(c.x / cell)), cy: Int(floor(c.y / cell)), cls: colourClass(f["ratio"].number))
            groups[k, default: (0, 0)].count += 1
            groups[k, default: (0, 0)].people += f["population"].number!
        }
        #expect(merged.count == groups.count, "\(merged.count) dots for \(groups.count) cell-class groups")
        #expect(merged.count < anonymous.count / 2 && merged.count >= 1000)
        for d in merged {
            let c = d.feature.geometry!.pointParts[0]
            // The dot lies in its cell and keeps its members' class, count and people.
            let k = Key(cx: Int(floor(c.x / cell)), cy: Int(floor(c.y / cell)), cls: colourClass(d.feature["ratio"].number))
            let g = try #require(groups[k], "a dot at \(c) with class \(k.cls) matches no group")
            #expect(Int(d.feature["klynge_points"].number ?? 0) == g.count)
            #expect(abs((d.feature["population"].number ?? 0) - g.people) < 1e-6)
        }
        #expect(abs(merged.reduce(0) { $0 + ($1.feature["population"].number ?? 0) } - anonymous.reduce(0) { $0 + $1["population"].number! }) < 1e-6)

        // The legend says what happened.
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let report = try MapRenderer.render(r, to: folder.appendingPathComponent("m.png").path)
        #expect(report.legend.contains { $0.contains("Punkter uden navn samlet") && $0.contains("3.000 til \(merged.count / 1000).\(String(format: "%03d", merged.count % 1000)) prikker") }, "\(report.legend)")
    }

    @Test func fewUnnamedPointsAreDrawnAsTheyAre() throws {
        let anonymous = points(500)
        let dots = MapRenderer.styledFeatures(try request(above: 1000, anonymous)).filter { $0.layer == "dots" }
        #expect(dots.count == 500 && dots.allSatisfy { $0.feature["klynge_points"] == .null })
    }

    @Test func badAggregationSettingsAreRefused() throws {
        func error(_ meta: String, type: String = "circle") -> StyleError? {
            let s = #"{"version": 8, "sources": {"a": {"type": "geojson", "data": "klynge:demand"}}, "layers": [{"id": "x", "type": "TYPE", "source": "a", "metadata": {"klynge:aggregate": META}}]}"#
            do { _ = try style(s.replacingOccurrences(of: "TYPE", with: type).replacingOccurrences(of: "META", with: meta)); return nil } catch let e as StyleError { return e } catch { return nil }
        }
        #expect(error(#"{"cell-mm": 0}"#)?.property == "metadata.klynge:aggregate.cell-mm")
        #expect(error(#"{"above": -1}"#)?.property == "metadata.klynge:aggregate.above")
        #expect(error(#"{"sum": "population"}"#)?.property == "metadata.klynge:aggregate.sum")
        #expect(error(#"{"cell": 3}"#)?.property == "metadata.klynge:aggregate.cell")
        #expect(error(#"{"cell-mm": 3}"#, type: "fill")?.message.contains("circle") == true)
        #expect(error(#"{"cell-mm": 3, "above": 10, "sum": ["population"]}"#) == nil)
    }
}

/// Icons at one place are moved apart so none hides another, and each name goes with its icon (issue 13,
/// defect 6: the Tranebjerg library in the town hall).
@Suite struct StackedIconTests {
    @Test func iconsAtOnePlaceAreMovedApart() throws {
        let s = try style(##"""
        {"version": 8, "sources": {"f": {"type": "geojson", "data": "klynge:facilities"}},
         "layers": [
          {"id": "icons", "type": "symbol", "source": "f", "layout": {"icon-image": ["match", ["get", "category"], "library", "square", "house"], "icon-size": 1.5}},
          {"id": "names", "type": "symbol", "source": "f", "layout": {"text-field": ["get", "name"], "text-anchor": "top", "text-offset": [0, 1.1], "text-size": 10}}
         ]}
        """##)
        func facility(_ id: String, _ name: String, _ category: String, _ x: Double, _ y: Double) -> Feature {
            Feature(geometry: .point(Coordinate(x: x, y: y)), attributes: ["id": .string(id), "name": .string(name), "category": .string(category)])
        }
        let together = [facility("1", "Rådhuset", "hall", 5000, 5000), facility("2", "Biblioteket", "library", 5004, 4998),
                        facility("3", "Borgerhuset", "hall", 5001, 5002)]
        let alone = facility("4", "Skolen", "school", 8000, 2000)
        let request = MapRequest(style: s, data: ["facilities": together + [alone]], extent: Envelope(minX: 0, minY: 0, maxX: 10000, maxY: 10000),
                                 page: Page.pixels(width: 700, height: 700, dpi: 72), kind: .png, language: "da", title: "Kort", subtitle: nil,
                                 attribution: ["test"])
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let report = try MapRenderer.render(request, to: ProcessInfo.processInfo.environment["KLYNGE_KEEP_MAP"] ?? folder.appendingPathComponent("i.png").path)
        #expect(report.icons.count == 4)
        for (i, a) in report.icons.enumerated() {
            for b in report.icons[(i + 1)...] { #expect(!a.intersects(b), "icons \(a) and \(b) overlap") }
        }
        // Each moved icon stays near its place; the lone school's icon is where it is.
        let place = report.viewport.page(Coordinate(x: 5000, y: 5000))
        let school = report.viewport.page(Coordinate(x: 8000, y: 2000))
        func centre(_ b: LabelPlacer.Box) -> (x: Double, y: Double) { (b.x + b.w / 2, b.y + b.h / 2) }
        func distance(_ a: (x: Double, y: Double), _ b: (x: Double, y: Double)) -> Double { ((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y)).squareRoot() }
        let iconSize = report.icons[0].w
        #expect(report.icons.filter { distance(centre($0), place) < 3 * iconSize }.count == 3)
        #expect(report.icons.contains { distance(centre($0), school) < 1 })
        // Every name is drawn, beside its own icon: the icon nearest to the label's box is its own.
        func gap(_ icon: LabelPlacer.Box, _ label: LabelPlacer.Box) -> Double {
            let c = centre(icon)
            let x = min(max(c.x, label.x), label.x + label.w), y = min(max(c.y, label.y), label.y + label.h)
            return distance(c, (x, y))
        }
        var nearestIcons: [Int] = []
        for name in ["Rådhuset", "Biblioteket", "Borgerhuset", "Skolen"] {
            let label = try #require(report.labels.first { $0.text == name }, "\(name) has no label")
            let nearest = report.icons.indices.min { gap(report.icons[$0], label.box) < gap(report.icons[$1], label.box) }!
            #expect(gap(report.icons[nearest], label.box) < 1.5 * iconSize, "\(name)")
            nearestIcons.append(nearest)
        }
        #expect(Set(nearestIcons).count == 4, "two names sit by one icon: \(nearestIcons)")
    }
}

/// Dots sized by population get a size key with round values up to the largest drawn (issue 13, defect 10).
@Suite struct SizeKeyTests {
    @Test func sizeKeyValuesAreRoundAndWithinTheData() {
        #expect(Context.sizeKeyValues(upTo: 1234) == [10, 100, 1000])
        #expect(Context.sizeKeyValues(upTo: 640) == [5, 50, 500])
        #expect(Context.sizeKeyValues(upTo: 60) == [5, 50])
        #expect(Context.sizeKeyValues(upTo: 0.4).isEmpty)
    }

    @Test func dotsSizedByTheDataHaveASizeKey() throws {
        func legend(_ radius: String) throws -> [String] {
            let s = try style(##"""
            {"version": 8, "sources": {"d": {"type": "geojson", "data": "klynge:demand"}},
             "layers": [{"id": "dots", "type": "circle", "source": "d", "paint": {"circle-radius": RADIUS, "circle-color": "#333333"},
                         "metadata": {"klynge:legend": "By"}}]}
            """##.replacingOccurrences(of: "RADIUS", with: radius))
            let towns = [(2000.0, 40.0), (5000.0, 420.0), (8000.0, 1234.0)].map { x, p in
                Feature(geometry: .point(Coordinate(x: x, y: 5000)), attributes: ["population": .double(p)])
            }
            let request = MapRequest(style: s, data: ["demand": towns], extent: Envelope(minX: 0, minY: 0, maxX: 10000, maxY: 10000),
                                     page: Page.pixels(width: 600, height: 600, dpi: 72), kind: .png, language: "da", title: "Kort", subtitle: nil,
                                     attribution: ["test"])
            let folder = try TestSupport.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            return try MapRenderer.render(request, to: folder.appendingPathComponent("k.png").path).legend
        }
        #expect(try legend(#"["interpolate", ["linear"], ["get", "population"], 0, 2, 1000, 10]"#) == ["By", "Indbyggere"])
        #expect(try legend("5") == ["By"])
    }
}
