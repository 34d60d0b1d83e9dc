import Foundation
import Testing
import KlyngeGeo
import KlyngeTestSupport

/// End-to-end runs of the real `klynge` binary, checked against GDAL's own tools where they exist.
@Suite(.serialized) struct CLITests {
    let klynge = TestSupport.klyngeBinary
    let study = TestSupport.data("samsoe/study.yaml")
    let pbf = TestSupport.data("samsoe/samsoe-2020-03-09.osm.pbf")

    func inspectLayers() throws -> [[String: Any]] {
        let r = try TestSupport.run(klynge, ["inspect", pbf, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        return obj["layers"] as! [[String: Any]]
    }

    @Test func inspectJSONListsEveryLayer() throws {
        let layers = try inspectLayers()
        #expect(layers.map { $0["name"] as! String } == ["points", "lines", "multilinestrings", "multipolygons", "other_relations"])
        #expect(layers.allSatisfy { $0["crs"] as? String == "EPSG:4326" && ($0["extent"] as? [Double])?.count == 4 })
    }

    @Test(.enabled(if: TestSupport.isAvailable("ogrinfo"), "needs ogrinfo (gdal-bin)"))
    func inspectCountsAgreeWithOgrinfo() throws {
        for layer in try inspectLayers() {
            let name = layer["name"] as! String
            let o = try TestSupport.run("sh", ["-c", "ogrinfo -q '\(pbf)' \(name) | grep -c '^OGRFeature'"])
            #expect(Int(o.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) == layer["featureCount"] as? Int, "\(name)")
        }
    }

    func exportEveryLayer(to folder: URL) throws {
        for layer in ["areas", "demand", "facilities", "roads"] {
            let out = folder.appendingPathComponent("\(layer).geojson").path
            let r = try TestSupport.run(klynge, ["export", study, "--layer", layer, "-o", out])
            #expect(r.status == 0, "\(r.stderr)")
            try RFC7946.check(file: out)
        }
    }

    @Test func exportedGeoJSONIsRFC7946() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try exportEveryLayer(to: folder)
    }

    @Test(.enabled(if: TestSupport.isAvailable("ogr2ogr"), "needs ogr2ogr (gdal-bin)"))
    func exportedGeoJSONMatchesOgr2ogr() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try exportEveryLayer(to: folder)
        // Facilities: the same points, reprojected by GDAL straight to EPSG:4326.
        let reference = folder.appendingPathComponent("ref.geojson").path
        let o = try TestSupport.run("ogr2ogr", ["-f", "GeoJSON", "-t_srs", "EPSG:4326", reference,
                                               TestSupport.data("samsoe/samsoe-osm.gpkg"), "facilities"])
        #expect(o.status == 0, "\(o.stderr)")
        let ours = try GeoJSONFile(folder.appendingPathComponent("facilities.geojson").path).points(keyedBy: "id")
        let theirs = try GeoJSONFile(reference).points(keyedBy: "osm_id")
        #expect(ours.count == theirs.count && ours.count > 0)
        for (id, p) in ours {
            let q = try #require(theirs[id])
            #expect(abs(p.x - q.x) <= 1.0001e-7 && abs(p.y - q.y) <= 1.0001e-7, "\(id): \(p) vs \(q)")
        }
        // Parishes without dissolve: the same rings as ogr2ogr (winding aside).
        let parts = folder.appendingPathComponent("parts.yaml")
        let text = try String(contentsOfFile: study, encoding: .utf8)
            .replacingOccurrences(of: "    dissolve: SOGNEKODE\n", with: "")
            .replacingOccurrences(of: "fields: { id: SOGNEKODE, name: SOGNENAVN }", with: "fields: { id: FEAT_ID, name: SOGNENAVN }")
            .replacingOccurrences(of: "source: ", with: "source: \(TestSupport.data("samsoe"))/")
        try TestSupport.write(text, to: parts)
        let areas = folder.appendingPathComponent("parts.geojson").path
        #expect(try TestSupport.run(klynge, ["export", parts.path, "--layer", "areas", "-o", areas]).status == 0)
        try RFC7946.check(file: areas)
        let refAreas = folder.appendingPathComponent("ref-areas.geojson").path
        #expect(try TestSupport.run("ogr2ogr", ["-f", "GeoJSON", "-t_srs", "EPSG:4326", refAreas,
                                                TestSupport.data("samsoe/samsoe_sogne.geojson")]).status == 0)
        let ourRings = try GeoJSONFile(areas).rings(keyedBy: "id")
        let refRings = try GeoJSONFile(refAreas).rings(keyedBy: "FEAT_ID")
        #expect(ourRings.count == 20 && refRings.count == 20)
        for (id, rings) in ourRings {
            let ref = try #require(refRings[id])
            #expect(rings.count == ref.count)
            for (a, b) in zip(rings, ref) {
                // Same ring, possibly reversed (DAGI is clockwise), starting at the same vertex.
                let bb = Ring.isCounterClockwise(a) == Ring.isCounterClockwise(b) ? b : b.reversed()
                #expect(a.count == bb.count)
                #expect(zip(a, bb).allSatisfy { abs($0.x - $1.x) <= 1.0001e-7 && abs($0.y - $1.y) <= 1.0001e-7 }, "feature \(id)")
            }
        }
    }

    @Test func exportFormatsAndLayers() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let gpkg = folder.appendingPathComponent("s.gpkg").path
        let r = try TestSupport.run(klynge, ["export", study, "--layer", "areas", "facilities", "-o", gpkg])
        #expect(r.status == 0, "\(r.stderr)")
        let info = try TestSupport.run(klynge, ["inspect", gpkg, "--json"])
        let layers = (try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as! [String: Any])["layers"] as! [[String: Any]]
        #expect(layers.map { $0["name"] as! String } == ["areas", "facilities"])
        #expect(layers.map { $0["crs"] as! String } == ["EPSG:25832", "EPSG:25832"])
        #expect(layers.map { $0["featureCount"] as! Int } == [5, 27])
        let csv = folder.appendingPathComponent("f.csv").path
        #expect(try TestSupport.run(klynge, ["export", study, "--layer", "facilities", "-o", csv]).status == 0)
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 28 && lines[0].hasPrefix("WKT,id,name,category"))
        // Bad arguments are refused with a message and no file.
        let bad = try TestSupport.run(klynge, ["export", study, "--layer", "roads", "facilities", "-o", folder.appendingPathComponent("x.geojson").path])
        #expect(bad.status != 0 && bad.stderr.contains(".gpkg"))
        let unknown = try TestSupport.run(klynge, ["export", study, "--layer", "veje", "-o", folder.appendingPathComponent("x.geojson").path])
        #expect(unknown.status != 0 && unknown.stderr.contains("veje"))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("x.geojson").path))
    }

    @Test func aBrokenStudyFailsWithAMessageAndWritesNothing() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // The sample with a category it does not define.
        let text = try String(contentsOfFile: study, encoding: .utf8)
            .replacingOccurrences(of: "  music_school: { da: Musikskole,     en: Music school }\n", with: "")
            .replacingOccurrences(of: "source: ", with: "source: \(TestSupport.data("samsoe"))/")
        let broken = folder.appendingPathComponent("broken.yaml")
        try TestSupport.write(text, to: broken)
        let out = folder.appendingPathComponent("facilities.geojson").path
        let r = try TestSupport.run(klynge, ["export", broken.path, "--layer", "facilities", "-o", out])
        #expect(r.status == 1)
        #expect(r.stderr.contains("samsoe-osm.gpkg") && r.stderr.contains("layer facilities")
                && r.stderr.contains("feature way/106619913") && r.stderr.contains("field category")
                && r.stderr.contains("music_school"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["broken.yaml"])
        let v = try TestSupport.run(klynge, ["validate", broken.path])
        #expect(v.status == 1 && v.stdout.contains("1 error(s)"))
        let missing = try TestSupport.run(klynge, ["validate", folder.appendingPathComponent("nope.yaml").path])
        #expect(missing.status == 1 && missing.stderr.contains("nope.yaml"))
    }

    @Test func validateReportsWhatWasRead() throws {
        let r = try TestSupport.run(klynge, ["validate", study])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Working CRS: EPSG:25832"))
        #expect(r.stdout.contains("areas:") && r.stdout.contains("read 20, loaded 5"))
        #expect(r.stdout.contains("0 error(s)"))
        let j = try TestSupport.run(klynge, ["validate", study, "--json"])
        let obj = try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as! [String: Any]
        // areas, demand, facilities, roads, the locator outline, the land around, and the businesses as facts.
        #expect((obj["layers"] as! [[String: Any]]).compactMap { $0["role"] as? String }.sorted() == ["areas", "demand", "facilities", "facts", "land", "locator", "roads", "sketch", "sketch", "sketch"])
    }
}

/// Reads a GeoJSON file written by anyone.
struct GeoJSONFile {
    let features: [[String: Any]]

    init(_ path: String) throws {
        let obj = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        features = obj["features"] as! [[String: Any]]
    }

    static func key(_ v: Any?) -> String { v.map { "\($0)" } ?? "" }

    func points(keyedBy field: String) throws -> [String: Coordinate] {
        var out: [String: Coordinate] = [:]
        for f in features {
            let c = (f["geometry"] as! [String: Any])["coordinates"] as! [Double]
            out[Self.key((f["properties"] as! [String: Any])[field])] = Coordinate(x: c[0], y: c[1])
        }
        return out
    }

    /// Rings of a Polygon or MultiPolygon feature, flattened.
    func rings(keyedBy field: String) throws -> [String: [[Coordinate]]] {
        var out: [String: [[Coordinate]]] = [:]
        for f in features {
            let g = f["geometry"] as! [String: Any]
            let polys: [[[[Double]]]] = g["type"] as! String == "Polygon" ? [g["coordinates"] as! [[[Double]]]] : g["coordinates"] as! [[[[Double]]]]
            out[Self.key((f["properties"] as! [String: Any])[field])] = polys.flatMap { $0.map { $0.map { Coordinate(x: $0[0], y: $0[1]) } } }
        }
        return out
    }
}

/// The RFC 7946 rules checked on any file: FeatureCollection, no `crs`, longitude/latitude
/// ranges, at most 7 decimals, closed rings of 4+ positions, exteriors CCW and holes CW.
enum RFC7946 {
    struct Violation: Error, CustomStringConvertible { let description: String }

    static func check(file: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        let obj = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        guard obj["type"] as? String == "FeatureCollection" else { throw Violation(description: "\(file): not a FeatureCollection") }
        guard obj["crs"] == nil else { throw Violation(description: "\(file): has a crs member") }
        let text = String(decoding: data, as: UTF8.self)
        if text.range(of: #"\d\.\d{8,}"#, options: .regularExpression) != nil {
            throw Violation(description: "\(file): a number with more than 7 decimals")
        }
        for f in obj["features"] as! [[String: Any]] {
            guard let g = f["geometry"] as? [String: Any] else { continue }
            try geometry(g, file)
        }
    }

    static func position(_ p: [Double], _ file: String) throws {
        guard p.count >= 2, (-180...180).contains(p[0]), (-90...90).contains(p[1]) else {
            throw Violation(description: "\(file): position \(p) out of longitude/latitude range")
        }
    }

    static func polygon(_ rings: [[[Double]]], _ file: String) throws {
        for (i, ring) in rings.enumerated() {
            try ring.forEach { try position($0, file) }
            guard ring.count >= 4, ring.first! == ring.last! else { throw Violation(description: "\(file): ring not closed or too short") }
            let ccw = Ring.isCounterClockwise(ring.map { Coordinate(x: $0[0], y: $0[1]) })
            guard ccw == (i == 0) else { throw Violation(description: "\(file): ring \(i) wound the wrong way") }
        }
    }

    static func geometry(_ g: [String: Any], _ file: String) throws {
        switch g["type"] as! String {
        case "Point": try position(g["coordinates"] as! [Double], file)
        case "MultiPoint", "LineString": try (g["coordinates"] as! [[Double]]).forEach { try position($0, file) }
        case "MultiLineString": try (g["coordinates"] as! [[[Double]]]).forEach { try $0.forEach { try position($0, file) } }
        case "Polygon": try polygon(g["coordinates"] as! [[[Double]]], file)
        case "MultiPolygon": try (g["coordinates"] as! [[[[Double]]]]).forEach { try polygon($0, file) }
        case "GeometryCollection": try (g["geometries"] as! [[String: Any]]).forEach { try geometry($0, file) }
        case let t: throw Violation(description: "\(file): unknown geometry type \(t)")
        }
    }
}
