import Foundation
import Testing
import KlyngeGeo
import KlyngeTestSupport

@Suite(.serialized) struct RenderCLITests {
    let klynge = TestSupport.klyngeBinary
    let study = TestSupport.data("samsoe/study.yaml")
    let styles = TestSupport.packageRoot.appendingPathComponent("styles").path

    @Test func theDefaultMapsRender() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for (style, ext) in [("overview", "png"), ("coverage", "svg"), ("scenario", "pdf"), ("clusters", "png"), ("masterplan", "pdf")] {
            let out = folder.appendingPathComponent("\(style).\(ext)").path
            let r = try TestSupport.run(klynge, ["render", study, "--style", style, "--styles", styles, "--category", "hall",
                                                 "--dpi", "72", "-o", out])
            #expect(r.status == 0, "\(style): \(r.stderr)")
            #expect(r.stderr.isEmpty, "\(style) warned: \(r.stderr)")
            #expect(FileManager.default.fileExists(atPath: out))
        }
    }

    @Test func styledGeoJSONLooksLikeTheMap() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("map.geojson").path
        let r = try TestSupport.run(klynge, ["render", study, "--style", "overview", "--styles", styles, "--geojson", out])
        #expect(r.status == 0, "\(r.stderr)")
        try RFC7946.check(file: out)
        let props = try GeoJSONFile(out).features.map { $0["properties"] as! [String: Any] }
        #expect(props.contains { $0["klynge_layer"] as? String == "areas" && $0["fill"] as? String == "#f4f1e8" })
        #expect(props.contains { $0["klynge_layer"] as? String == "main-roads" || $0["klynge_layer"] as? String == "minor-roads" })
        #expect(props.contains { $0["klynge_layer"] as? String == "facilities" && $0["marker-color"] as? String == "#c0392b" })
        #expect(props.contains { $0["title"] as? String == "Tranebjerg" })
        // Each village once: its dot carries its name as the title, no second label feature (issue 13, defect 15).
        #expect(!props.contains { $0["klynge_layer"] as? String == "village-names" })
        #expect(props.filter { $0["klynge_layer"] as? String == "villages" }.allSatisfy { $0["title"] is String && $0["marker-symbol"] as? String == "circle" })
        #expect(props.contains { $0["klynge_layer"] as? String == "facilities" && $0["marker-symbol"] as? String == "house" })
    }

    /// The access style: villages by their 2SFCA against today's mean. Today the halls give most villages
    /// 1.22 per 1,000 (above the mean of 1.08) and Stauns 0.81 (below it); merging into one hall leaves
    /// 0.41 (under half today's mean), and the facilities drawn are the plan's.
    @Test func theAccessStyleShowsWhoLosesAccess() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        func layers(_ extra: [String]) throws -> [[String: Any]] {
            let out = folder.appendingPathComponent("access-\(extra.count).geojson").path
            let r = try TestSupport.run(klynge, ["render", study, "--style", "access", "--styles", styles, "--category", "hall", "--geojson", out] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            return try GeoJSONFile(out).features.map { $0["properties"] as! [String: Any] }
        }
        let today = try layers([])
        let villageColours = { (props: [[String: Any]]) in Set(props.filter { $0["klynge_layer"] as? String == "villages" }.compactMap { $0["marker-color"] as? String }) }
        #expect(villageColours(today) == ["#6baed6", "#fdb863", "#525252"], "\(villageColours(today))")
        #expect(today.filter { $0["klynge_layer"] as? String == "facilities" }.count == 3)
        let merged = try layers(["--scenario", "Ét forsamlingshus i Tranebjerg"])
        #expect(villageColours(merged) == ["#b35806", "#525252"], "\(villageColours(merged))")
        #expect(merged.filter { $0["klynge_layer"] as? String == "facilities" }.count == 1)
    }

    @Test func styleErrorsStopTheRunAndWriteNothing() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cases: [(String, String)] = [
            (#"{"id": "veje", "type": "lines", "source": "r"}"#, "layer `veje`, property `type`"),
            (#"{"id": "veje", "type": "line", "source": "r", "paint": {"line-color": ["farve", 1]}}"#, "layer `veje`, property `line-color`"),
            (#"{"id": "veje", "type": "line", "source": "vandløb"}"#, "layer `veje`, property `source`"),
            (#"{"id": "veje", "type": "line", "source": "r", "paint": {"line-blur": 2}}"#, "layer `veje`, property `line-blur`"),
            // Issue 13, defect 9: mistakes that used to pass silently.
            (#"{"id": "ikon", "type": "symbol", "source": "r", "layout": {"icon-image": "stjerne"}}"#, "layer `ikon`, property `icon-image`"),
            (#"{"id": "ikon", "type": "symbol", "source": "r", "layout": {"icon-image": ["match", ["get", "k"], "a", "circle", "kirke"]}}"#, "unknown icon `kirke`"),
            (#"{"id": "veje", "type": "line", "source": "r", "metadata": {"klynge:legend-itmes": []}}"#, "layer `veje`, property `metadata.klynge:legend-itmes`"),
            (#"{"id": "prik", "type": "circle", "source": "r", "paint": {"circle-radius": -2}}"#, "layer `prik`, property `circle-radius`"),
            (#"{"id": "prik", "type": "circle", "source": "r", "paint": {"circle-opacity": 1.5}}"#, "must be from 0 to 1"),
        ]
        for (layer, message) in cases {
            let file = folder.appendingPathComponent("bad.json")
            try TestSupport.write(#"{"version": 8, "sources": {"r": {"type": "geojson", "data": "klynge:roads"}}, "layers": ["# + layer + "]}", to: file)
            let out = folder.appendingPathComponent("map.png").path
            let r = try TestSupport.run(klynge, ["render", study, "--style", file.path, "-o", out])
            #expect(r.status == 1)
            #expect(r.stderr.contains(message), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
        // Whole-style mistakes: the version, and JSON syntax with the line and column.
        let file = folder.appendingPathComponent("bad.json")
        for (text, message) in [(#"{"version": 7, "sources": {}, "layers": []}"#, "version 8, got 7"),
                                ("{\"version\": 8,\n \"layers\": [\n  {\"id\": x}\n ]}", "line 3, column 10")] {
            try TestSupport.write(text, to: file)
            let r = try TestSupport.run(klynge, ["render", study, "--style", file.path, "-o", folder.appendingPathComponent("map.png").path])
            #expect(r.status == 1 && r.stderr.contains(message), "\(r.stderr)")
        }
        let missing = try TestSupport.run(klynge, ["render", study, "--style", "findes-ikke", "--styles", styles, "-o", folder.appendingPathComponent("m.png").path])
        #expect(missing.status == 1 && missing.stderr.contains("overview"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["bad.json"])
    }

    /// A map and its GeoJSON are published together: a GeoJSON path that cannot be written leaves the map as it
    /// was (issue 13, defect 8), and a map that cannot be drawn leaves no GeoJSON.
    @Test func aFailingOutputLeavesEveryOutputAsItWas() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let png = folder.appendingPathComponent("m.png")
        try Data("old map".utf8).write(to: png)
        let r = try TestSupport.run(klynge, ["render", study, "--style", "overview", "--styles", styles, "--dpi", "72", "-o", png.path,
                                             "--geojson", "/nonexistent-folder/x.geojson"])
        #expect(r.status == 1 && r.stderr.contains("/nonexistent-folder"), "\(r.stderr)")
        #expect(try String(contentsOf: png, encoding: .utf8) == "old map")
        let geojson = folder.appendingPathComponent("m.geojson").path
        let r2 = try TestSupport.run(klynge, ["render", study, "--style", "overview", "--styles", styles, "-o", "/nonexistent-folder/m.png",
                                              "--geojson", geojson])
        #expect(r2.status == 1 && !FileManager.default.fileExists(atPath: geojson))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["m.png"])
        // Both written when both can be.
        let ok = try TestSupport.run(klynge, ["render", study, "--style", "overview", "--styles", styles, "--dpi", "72", "-o", png.path, "--geojson", geojson])
        #expect(ok.status == 0, "\(ok.stderr)")
        try RFC7946.check(file: geojson)
        #expect(try Data(contentsOf: png).prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))
    }

    /// A hall that becomes a town hall is put to other use, not closed; the subtitle names the scenario once
    /// (issue 13, defect 7).
    @Test func aRecategorisedFacilityIsNotClosed() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let pdf = folder.appendingPathComponent("s.pdf").path, geojson = folder.appendingPathComponent("s.geojson").path
        let r = try TestSupport.run(klynge, ["render", study, "--style", "scenario", "--styles", styles, "--category", "hall",
                                             "--scenario", "Ét forsamlingshus i Tranebjerg", "-o", pdf, "--geojson", geojson])
        #expect(r.status == 0, "\(r.stderr)")
        let features = try GeoJSONFile(geojson).features.map { $0["properties"] as! [String: Any] }
        let status = Dictionary(features.filter { $0["klynge_layer"] as? String == "facilities" }.compactMap { p in
            (p["id"] as? String).map { ($0, p["status"] as? String ?? "") } }, uniquingKeysWith: { a, _ in a })
        #expect(status["way/463402465"] == "recategorised", "\(status)")   // Samsø Energiakademi: a town hall now
        #expect(status["node/5938809867"] == "closed")                      // merged into Medborgerhuset
        if TestSupport.isAvailable("pdftotext") {
            let text = try TestSupport.run("pdftotext", [pdf, "-"]).stdout
            #expect(text.components(separatedBy: "Scenarie").count - 1 == 1, "\(text.prefix(300))")
            #expect(text.contains("Bruges til andet"))
        }
    }

    /// OpenStreetMap is credited whenever a layer comes from it, even when the study file names no
    /// attribution; a map that credits nothing says so (issue 13, defect 13).
    @Test func mapsCreditTheirSources() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = try TestSupport.sampleStudy(in: folder)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let cut = try #require(text.range(of: "\nattribution:"))
        try TestSupport.write(String(text[..<cut.lowerBound]) + "\n", to: URL(fileURLWithPath: path))
        let pdf = folder.appendingPathComponent("m.pdf").path
        let r = try TestSupport.run(klynge, ["render", path, "--style", "overview", "--styles", styles, "-o", pdf])
        #expect(r.status == 0 && !r.stderr.contains("credits no data source"), "\(r.stderr)")
        if TestSupport.isAvailable("pdftotext") {
            #expect(try TestSupport.run("pdftotext", [pdf, "-"]).stdout.contains("© OpenStreetMap contributors"))
        }
        // Parishes (DAGI) and a hall of the kommune's own register, nothing from OSM, and no attribution: drawn, with a warning.
        let hall = folder.appendingPathComponent("hal.geojson")
        try TestSupport.write(#"{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"nr": "h1", "navn": "Hallen", "type": "hall"}, "geometry": {"type": "Point", "coordinates": [10.59, 55.87]}}]}"#, to: hall)
        let village = folder.appendingPathComponent("by.geojson")
        try TestSupport.write(#"{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"nr": "b1", "navn": "Byen", "indb": 120}, "geometry": {"type": "Point", "coordinates": [10.6, 55.88]}}]}"#, to: village)
        let areasOnly = folder.appendingPathComponent("sogne.yaml")
        try TestSupport.write("""
        name: Sogne
        crs: EPSG:25832
        categories: { hall: { da: Forsamlingshus, en: Hall } }
        layers:
          areas: { source: \(TestSupport.data("samsoe/samsoe_sogne.geojson")), dissolve: SOGNEKODE, fields: { id: SOGNEKODE, name: SOGNENAVN } }
          demand: { source: \(village.path), fields: { id: nr, name: navn, weight: indb } }
          facilities: { source: \(hall.path), fields: { id: nr, name: navn, category: type } }
        """, to: areasOnly)
        let bare = try TestSupport.run(klynge, ["render", areasOnly.path, "--style", "overview", "--styles", styles, "-o", folder.appendingPathComponent("s.pdf").path])
        #expect(bare.status == 0 && bare.stderr.contains("credits no data source"), "\(bare.stderr)")
    }

    /// Villages without names get no label: never their id, nor a bare "6.2 min" (issue 13, defect 2).
    @Test func unnamedFeaturesAreNotLabelledWithTheirIds() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = try TestSupport.sampleStudy(in: folder)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        // No village names (and so no hubs named by them).
        try TestSupport.write(text.replacingOccurrences(of: "fields: { id: osm_id, name: name, weight: population }", with: "fields: { id: osm_id, weight: population }")
                                  .replacingOccurrences(of: "  hubs: { Nordøen: Nordby, Midtøen: Tranebjerg, Sydøen: Kolby }\n", with: ""),
                              to: URL(fileURLWithPath: path))
        for (style, scenario) in [("coverage", nil), ("scenario", "Multihus i Nordby"), ("clusters", nil), ("overview", nil), ("masterplan", nil)] {
            let geojson = folder.appendingPathComponent("\(style).geojson").path
            let r = try TestSupport.run(klynge, ["render", path, "--style", style, "--styles", styles, "--category", "hall", "--geojson", geojson]
                                        + (scenario.map { ["--scenario", $0] } ?? []))
            #expect(r.status == 0, "\(style): \(r.stderr)")
            let titles = try GeoJSONFile(geojson).features.compactMap { ($0["properties"] as! [String: Any])["title"] as? String }
            // An id (node/…, way/…, or a bare number) or a label that starts with a blank where the name was.
            func meaningless(_ t: String) -> Bool {
                t.contains("node/") || t.contains("way/") || t.hasPrefix(" ") || t.range(of: #"^[0-9]+( |$)"#, options: .regularExpression) != nil
            }
            #expect(!titles.contains(where: meaningless), "\(style): \(titles.filter(meaningless).prefix(5))")
            // Parishes and halls keep their names.
            if style == "overview" { #expect(titles.contains("Nordby")) }
            if style == "coverage" { #expect(titles.contains("Sambiosen")) }
        }
    }

    /// A PDF says what it is: Title (the study), Subject (style, category, date), Author (issue 13, defect 15).
    @Test func pdfsCarryTheirTitle() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let pdf = folder.appendingPathComponent("m.pdf").path
        #expect(try TestSupport.run(klynge, ["render", study, "--style", "overview", "--styles", styles, "-o", pdf]).status == 0)
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: pdf)), as: UTF8.self)
        // Cairo writes non-ASCII entries as UTF-16BE hex with a byte-order mark.
        func entry(_ key: String) -> String? {
            guard let r = text.range(of: "/\(key) <FEFF") else { return nil }
            let hex = text[r.upperBound...].prefix { $0 != ">" }
            var units: [UInt16] = [], i = hex.startIndex
            while let j = hex.index(i, offsetBy: 4, limitedBy: hex.endIndex), i < hex.endIndex { units.append(UInt16(hex[i..<j], radix: 16) ?? 0); i = j }
            return String(decoding: units, as: UTF16.self)
        }
        #expect(entry("Title") == "Samsø")
        #expect(entry("Subject")?.hasPrefix("Oversigt") == true, "\(entry("Subject") ?? "none")")
        #expect(text.contains("/Author (Klynge)"))
    }

    /// `--paper` turns the sheet to fit the frame unless told (issue 13, defect 16).
    @Test func thePaperTurnsToFitTheFrame() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let pdf = folder.appendingPathComponent("m.pdf").path
        let wide = ["--frame", "bbox:590000,6180000,640000,6200000"]
        for (extra, size) in [([], "595 × 842 pt"), (wide, "842 × 595 pt"), (wide + ["--portrait"], "595 × 842 pt"), (["--landscape"], "842 × 595 pt")] {
            let r = try TestSupport.run(klynge, ["render", study, "--style", "overview", "--styles", styles, "--paper", "A4", "-o", pdf] + extra)
            #expect(r.status == 0 && r.stdout.contains(size), "\(extra): \(r.stdout) \(r.stderr)")
        }
        let both = try TestSupport.run(klynge, ["render", study, "--style", "overview", "--landscape", "--portrait", "-o", pdf])
        #expect(both.status != 0 && both.stderr.contains("exclude each other"))
    }
}

extension RenderCLITests {
    /// The sample's overview has a locator inset of Denmark (issue 13, defect 16); a locator layer of points is
    /// refused, naming the layer.
    @Test func theOverviewHasALocatorInset() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let svg = folder.appendingPathComponent("o.svg").path
        let r = try TestSupport.run(klynge, ["render", study, "--style", "overview", "--styles", styles, "-o", svg])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try String(contentsOfFile: svg, encoding: .utf8).contains("<g id=\"locator\""))
        let path = try TestSupport.sampleStudy(in: folder)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try TestSupport.write(text.replacingOccurrences(of: "danmark_omrids.geojson", with: "dk_geonames_cities500.geojson"), to: URL(fileURLWithPath: path))
        let bad = try TestSupport.run(klynge, ["validate", path])
        #expect(bad.status != 0 && (bad.stdout + bad.stderr).contains("locator layer holds areas"), "\(bad.stdout)\(bad.stderr)")
        // A self-crossing outline is repaired and reported, like the study's own areas.
        let bowtie = folder.appendingPathComponent("bowtie.geojson")
        try TestSupport.write(#"{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "x"}, "geometry": {"type": "Polygon", "coordinates": [[[10.0, 55.0], [11.0, 56.0], [11.0, 55.0], [10.0, 56.0], [10.0, 55.0]]]}}]}"#, to: bowtie)
        try TestSupport.write(text.replacingOccurrences(of: TestSupport.data("samsoe") + "/../denmark/danmark_omrids.geojson", with: bowtie.path), to: URL(fileURLWithPath: path))
        let repaired = try TestSupport.run(klynge, ["validate", path])
        #expect(repaired.status == 0 && repaired.stdout.contains("1 repair(s)"), "\(repaired.stdout)\(repaired.stderr)")
    }
}
