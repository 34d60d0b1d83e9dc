import Foundation
import Testing
import KlyngeGeo
import KlyngeIO
import KlyngeStudy
import KlyngeTestSupport

@testable import KlyngeIngest


/// A small study in a temporary folder, with Danish field names, that each test breaks in one way.
struct Fixture {
    let folder: URL

    static let areas = """
    {"type":"FeatureCollection","features":[
    {"type":"Feature","properties":{"SOGNEKODE":"7240","SOGNENAVN":"Vest","indbyggere":"500"},"geometry":{"type":"Polygon","coordinates":[[[10.55,55.80],[10.55,55.85],[10.60,55.85],[10.60,55.80],[10.55,55.80]]]}},
    {"type":"Feature","properties":{"SOGNEKODE":"7241","SOGNENAVN":"Øst","indbyggere":"300"},"geometry":{"type":"Polygon","coordinates":[[[10.60,55.80],[10.60,55.85],[10.65,55.85],[10.65,55.80],[10.60,55.80]]]}}
    ]}
    """
    static let facilities = """
    {"type":"FeatureCollection","features":[
    {"type":"Feature","properties":{"kode":"F1","navn":"Vest Forsamlingshus","kategori":"forsamlingshus","kapacitet":120},"geometry":{"type":"Point","coordinates":[10.57,55.82]}},
    {"type":"Feature","properties":{"kode":"F2","navn":"Øst Skole","kategori":"skole","kapacitet":300},"geometry":{"type":"Point","coordinates":[10.62,55.83]}},
    {"type":"Feature","properties":{"kode":"F3","navn":"Multihuset","kategori":"forsamlingshus;bibliotek","kapacitet":null},"geometry":{"type":"Point","coordinates":[10.63,55.84]}}
    ]}
    """
    static let demand = """
    {"type":"FeatureCollection","features":[
    {"type":"Feature","properties":{"by_id":1,"navn":"Vestby","indbyggere":420},"geometry":{"type":"Point","coordinates":[10.56,55.81]}},
    {"type":"Feature","properties":{"by_id":2,"navn":"Østby","indbyggere":250},"geometry":{"type":"Point","coordinates":[10.64,55.82]}}
    ]}
    """

    var study: [String: Any] = [:]

    init() throws {
        folder = try TestSupport.temporaryFolder()
        try write("sogne.geojson", Self.areas)
        try write("faciliteter.geojson", Self.facilities)
        try write("byer.geojson", Self.demand)
    }

    func write(_ name: String, _ text: String) throws {
        try TestSupport.write(text, to: folder.appendingPathComponent(name))
    }

    func cleanup() { try? FileManager.default.removeItem(at: folder) }

    /// The study file text, with the given layer blocks replaced.
    func studyYAML(areas: String? = nil, demand: String? = nil, facilities: String? = nil, extra: String = "") -> String {
        """
        name: Test
        crs: EPSG:25832
        categories:
          hall: { da: Forsamlingshus, en: Community hall }
          school: { da: Skole, en: School }
          library: { da: Bibliotek, en: Library }
        layers:
          areas:
        \(areas ?? """
            source: sogne.geojson
            fields: { id: SOGNEKODE, name: SOGNENAVN, population: indbyggere }
        """)
          demand:
        \(demand ?? """
            source: byer.geojson
            fields: { id: by_id, name: navn, weight: indbyggere }
        """)
          facilities:
        \(facilities ?? """
            source: faciliteter.geojson
            fields: { id: kode, name: navn, category: kategori }
            category_values: { forsamlingshus: hall, skole: school, bibliotek: library }
        """)
        \(extra)
        """
    }

    func load(_ yaml: String, assume: CRS? = nil) throws -> LoadResult {
        let path = folder.appendingPathComponent("study.yaml")
        try TestSupport.write(yaml, to: path)
        return try StudyLoader(options: LoadOptions(assumeCRS: assume)).load(path: path.path)
    }
}

extension LoadResult {
    /// How many findings of a severity match every given part (file by suffix, message by substring).
    func count(_ severity: ValidationIssue.Severity = .error, file: String? = nil, layer: String? = nil,
               featureId: String? = nil, field: String? = nil, message: String? = nil) -> Int {
        report.issues.filter { i in
            guard i.severity == severity else { return false }
            if let file, i.file?.hasSuffix(file) != true { return false }
            if let layer, i.layer != layer { return false }
            if let featureId, i.featureId != featureId { return false }
            if let field, i.field != field { return false }
            if let message, !i.message.contains(message) { return false }
            return true
        }.count
    }
}

@Suite struct ValidationCorpusTests {
    @Test func theFixtureIsClean() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        let r = try fx.load(fx.studyYAML())
        #expect(r.report.issues.isEmpty, "\(r.report.issues)")
        let study = try #require(r.study)
        #expect(study.areas.map(\.id) == ["7240", "7241"])
        #expect(study.areas.map(\.population) == [500, 300])
        #expect(study.demand.map(\.weight) == [420, 250])
        #expect(study.demand.map(\.areaId) == ["7240", "7241"])
        #expect(study.facilities.map(\.categories) == [["hall"], ["school"], ["hall", "library"]])
        #expect(study.facilities[0].attributes["kapacitet"] == .int(120))
        // Reprojected into the working CRS.
        #expect(study.facilities[0].location.x > 590_000 && study.facilities[0].location.y > 6_180_000)
    }

    @Test func missingFile() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        let r = try fx.load(fx.studyYAML(demand: "    source: findes_ikke.gpkg\n    fields: { id: id }"))
        #expect(!r.isUsable)
        #expect(r.count(file: "findes_ikke.gpkg", message: "no such file") == 1)
    }

    @Test func truncatedGeoJSON() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        try fx.write("byer.geojson", String(Fixture.demand.prefix(120)))
        let r = try fx.load(fx.studyYAML())
        #expect(!r.isUsable)
        #expect(r.count(file: "byer.geojson") == 1)
    }

    @Test func shapefileWithoutPrjNeedsAnAssumedCRS() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        let src = try VectorSource(fx.folder.appendingPathComponent("byer.geojson").path).layer(named: nil)
        let table = FeatureTable(name: "byer", crs: .wgs84, fields: src.fields, features: try src.readFeatures())
        try VectorWriter.write([table], to: fx.folder.appendingPathComponent("byer.shp"), format: .shapefile)
        try FileManager.default.removeItem(at: fx.folder.appendingPathComponent("byer.prj"))
        let demand = "    source: byer.shp\n    fields: { id: by_id, name: navn, weight: indbyggere }"
        let r = try fx.load(fx.studyYAML(demand: demand))
        #expect(r.count(file: "byer.shp", layer: "byer", message: "no CRS") == 1)
        // Stated on the command line, or in the study file: it loads.
        #expect(try fx.load(fx.studyYAML(demand: demand), assume: .wgs84).isUsable)
        #expect(try fx.load(fx.studyYAML(demand: demand + "\n    assume_crs: EPSG:4326")).isUsable)
    }

    @Test func bowTieIsRepairedAndReported() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        try fx.write("sogne.geojson", Fixture.areas.replacingOccurrences(
            of: "[[[10.55,55.80],[10.55,55.85],[10.60,55.85],[10.60,55.80],[10.55,55.80]]]",
            with: "[[[10.55,55.80],[10.60,55.85],[10.60,55.80],[10.55,55.85],[10.55,55.80]]]"))
        let r = try fx.load(fx.studyYAML())
        #expect(r.count(.repaired) == 1)
        #expect(r.count(.repaired, featureId: "7240", message: "Self-intersection") == 1)
        #expect(r.isUsable)
        let area = try #require(r.study?.areas.first { $0.id == "7240" })
        #expect(area.geometry.polygons.count == 2)  // both lobes kept
    }

    @Test func duplicateIds() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        try fx.write("faciliteter.geojson", Fixture.facilities.replacingOccurrences(of: "\"F2\"", with: "\"F1\""))
        let r = try fx.load(fx.studyYAML())
        #expect(r.count(featureId: "F1", field: "kode", message: "unique") == 1)
    }

    @Test func missingId() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        try fx.write("faciliteter.geojson", Fixture.facilities.replacingOccurrences(of: "\"kode\":\"F2\",", with: ""))
        let r = try fx.load(fx.studyYAML())
        #expect(r.count(featureId: "FID 1", field: "kode", message: "missing") == 1)
    }

    @Test func emptyLayer() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        try fx.write("byer.geojson", #"{"type":"FeatureCollection","features":[]}"#)
        let r = try fx.load(fx.studyYAML())
        #expect(r.count(file: "byer.geojson", message: "empty") == 1)
    }

    @Test func textInThePopulationField() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        try fx.write("byer.geojson", Fixture.demand.replacingOccurrences(of: "\"indbyggere\":250", with: "\"indbyggere\":\"mange\""))
        let r = try fx.load(fx.studyYAML())
        #expect(r.count(featureId: "2", field: "indbyggere", message: "not a number") == 1)
        try fx.write("sogne.geojson", Fixture.areas.replacingOccurrences(of: "\"300\"", with: "\"cirka 300\""))
        try fx.write("byer.geojson", Fixture.demand)
        let r2 = try fx.load(fx.studyYAML())
        #expect(r2.count(featureId: "7241", field: "indbyggere") == 1)
    }

    @Test func categoryTheStudyDoesNotDefine() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        try fx.write("faciliteter.geojson", Fixture.facilities.replacingOccurrences(of: "\"skole\"", with: "\"svømmehal\""))
        let r = try fx.load(fx.studyYAML())
        #expect(r.count(featureId: "F2", field: "kategori", message: "svømmehal") == 1)
    }

    @Test func pointsOutsideTheArea() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        // F2 moved to Aarhus (~60 km away): an error. F1 just off the coast (~300 m): a warning.
        try fx.write("faciliteter.geojson", Fixture.facilities
            .replacingOccurrences(of: "[10.62,55.83]", with: "[10.2,56.15]")
            .replacingOccurrences(of: "[10.57,55.82]", with: "[10.57,55.7975]"))
        let r = try fx.load(fx.studyYAML())
        #expect(r.count(featureId: "F2", message: "outside the study area") == 1)
        #expect(r.count(.warning, featureId: "F1", message: "outside") == 1)
    }

    @Test func wrongGeometryType() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        let r = try fx.load(fx.studyYAML(areas: "    source: byer.geojson\n    fields: { id: by_id }"))
        #expect(r.count(message: "wrong geometry type Point") == 2)
    }

    @Test func mappedFieldMissingFromTheSource() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        let r = try fx.load(fx.studyYAML(demand: "    source: byer.geojson\n    fields: { id: by_id, weight: befolkning }"))
        #expect(r.count(field: "befolkning", message: "no such field") == 1)
    }

    @Test func overridesByNameAndId() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        let facilities = """
            source: faciliteter.geojson
            fields: { id: kode, name: navn, category: kategori }
            category_values: { forsamlingshus: hall, skole: school, bibliotek: library }
            overrides:
              - { name: Øst Skole, category: library }
              - { id: F1, exclude: true }
              - { name: Findes Ikke, category: hall }
        """
        let r = try fx.load(fx.studyYAML(facilities: facilities))
        let study = try #require(r.study)
        #expect(study.facilities.map(\.id) == ["F2", "F3"])
        #expect(study.facilities[0].categories == ["library"])
        #expect(r.count(.warning, featureId: "Findes Ikke") == 1)
    }

    @Test func demandDerivedFromAreasWhenAbsent() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        var yaml = fx.studyYAML()
        let start = yaml.range(of: "  demand:")!, end = yaml.range(of: "  facilities:")!
        yaml.removeSubrange(start.lowerBound..<end.lowerBound)
        let r = try fx.load(yaml)
        let study = try #require(r.study)
        #expect(study.demandDerivedFromAreas)
        #expect(study.demand.map(\.weight) == [500, 300])
        #expect(study.demand.map(\.areaId) == ["7240", "7241"])
    }

    @Test func studyFileErrors() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        #expect { try fx.load("name: x\n  bad: [") } throws: { ($0 as? StudyFileError)?.message.contains("YAML") == true }
        #expect { try fx.load(fx.studyYAML().replacingOccurrences(of: "fields: { id: kode, name: navn, category: kategori }", with: "fields: { id: kode, name: navn }")) } throws: {
            ($0 as? StudyFileError)?.message.contains("`category` field must be mapped") == true
        }
        #expect { try fx.load(fx.studyYAML().replacingOccurrences(of: "crs: EPSG:25832", with: "crs: EPSG:4326")) } throws: {
            ($0 as? StudyFileError)?.message.contains("geographic") == true
        }
    }

    @Test func workingCRSDefaultsByLocation() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        let noCRS = fx.studyYAML().replacingOccurrences(of: "crs: EPSG:25832\n", with: "")
        #expect(try fx.load(noCRS).study?.crs == .etrs89UTM32)
        // The same study moved to Sweden (18.6° E, 59.8° N): UTM zone 34N.
        for name in ["sogne.geojson", "faciliteter.geojson", "byer.geojson"] {
            let url = fx.folder.appendingPathComponent(name)
            let text = try String(contentsOf: url, encoding: .utf8)
                .replacingOccurrences(of: "[10.", with: "[18.").replacingOccurrences(of: ",55.", with: ",59.")
            try TestSupport.write(text, to: url)
        }
        let r = try fx.load(noCRS)
        #expect(r.study?.crs == .epsg(32634))
        #expect(r.report.issues.isEmpty, "\(r.report.issues)")
    }

    @Test func csvWithLonLatColumnsLoadsWithAStatedCRS() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        try fx.write("byer.csv", "by_id;navn;lon;lat;indbyggere\n1;Vestby;10.56;55.81;420\n2;Østby;10.64;55.82;250\n")
        let demand = "    source: byer.csv\n    assume_crs: EPSG:4326\n    fields: { id: by_id, name: navn, weight: indbyggere }"
        let r = try fx.load(fx.studyYAML(demand: demand))
        #expect(r.report.issues.isEmpty, "\(r.report.issues)")
        #expect(r.study?.demand.map(\.name) == ["Vestby", "Østby"])
        #expect(r.study?.demand.map(\.areaId) == ["7240", "7241"])
    }

    @Test func fieldNamesMatchWithoutRegardToCaseWhenUnambiguous() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        // As after a PostgreSQL import: SOGNEKODE → sognekode.
        try fx.write("sogne.geojson", Fixture.areas.replacingOccurrences(of: "SOGNEKODE", with: "sognekode")
            .replacingOccurrences(of: "SOGNENAVN", with: "sognenavn"))
        let r = try fx.load(fx.studyYAML())
        #expect(r.isUsable, "\(r.report.issues)")
        #expect(r.study?.areas.map(\.name) == ["Vest", "Øst"])
    }

    @Test func misspeltKeysAreErrorsNotSilence() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        #expect { try fx.load(fx.studyYAML().replacingOccurrences(of: "fields: { id: by_id", with: "feilds: { id: by_id")) } throws: {
            ($0 as? StudyFileError)?.message.contains("unknown key `layers.demand.feilds`") == true
        }
        #expect { try fx.load(fx.studyYAML(extra: "network: { max_snap: 500 }")) } throws: {
            ($0 as? StudyFileError)?.message.contains("`network.max_snap`") == true
        }
        #expect { try fx.load(fx.studyYAML(extra: "scenarios:\n  - { name: X, closed: [F1] }")) } throws: {
            ($0 as? StudyFileError)?.message.contains("`scenarios[0].closed`") == true
        }
        // Free-form maps (field mappings, speeds, assignments) take any key.
        #expect(try fx.load(fx.studyYAML(extra: "network: { modes: { car: { speeds_kmh: { Lokalvej: 40 } } } }")).study != nil)
    }

    /// Settings that would silently change every figure are refused, naming the key.
    @Test func settingsThatGiveWrongNumbersAreRefused() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        let cases = [
            ("network: { modes: { car: { speeds_kmh: { Lokalvej: -40 } } } }", "network.modes.car.speeds_kmh.Lokalvej"),
            ("network: { modes: { bike: { speeds_kmh: { path: .nan } } } }", "network.modes.bike.speeds_kmh.path"),
            ("network: { max_snap_m: -1 }", "network.max_snap_m"),
            ("network: { modes: { walk: { access_speed_kmh: -1 } } }", "network.modes.walk.access_speed_kmh"),
            ("network: { modes: { walk: { access_speed_kmh: .nan } } }", "network.modes.walk.access_speed_kmh"),
            ("checks: { max_outside_m: -5 }", "checks.max_outside_m"),
            ("checks: { max_outside_m: .nan }", "checks.max_outside_m"),
            ("coverage: { default: { minutes: .inf } }", "coverage.default.minutes"),
            ("coverage: { default: { km: -2 } }", "coverage.default.km"),
            ("clusters: { candidate_minutes: .nan }", "clusters.candidate_minutes"),
        ]
        for (yaml, key) in cases {
            #expect(throws: StudyFileError.self, "\(yaml)") { try fx.load(fx.studyYAML(extra: yaml)) }
            do { _ = try fx.load(fx.studyYAML(extra: yaml)) } catch let e as StudyFileError {
                #expect(e.message.contains("`\(key)`"), "\(yaml): \(e.message)")
            }
        }
        // A forbidden class (speed 0) is a setting, not an error.
        #expect(try fx.load(fx.studyYAML(extra: "network: { modes: { car: { speeds_kmh: { track: 0 } } } }")).study != nil)
    }

    /// "Billion laughs": nine levels of aliases, each ten times the one below, are refused before expansion.
    @Test func yamlAliasBombsAreRefusedAtOnce() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        var bomb = "x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for k in 1...8 { bomb += "x\(k): &a\(k) [" + Array(repeating: "*a\(k - 1)", count: 10).joined(separator: ", ") + "]\n" }
        #expect { try fx.load(fx.studyYAML() + "\n" + bomb) } throws: {
            ($0 as? StudyFileError)?.message.contains("YAML aliases") == true
        }
    }

    @Test func danishNumbersInACSV() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        // As Danish statistics tables write them: "." groups thousands.
        try fx.write("byer.csv", "by_id;navn;lon;lat;indbyggere\n1;Vestby;10.56;55.81;1.234\n2;Østby;10.64;55.82;  250\n")
        let base = "    source: byer.csv\n    assume_crs: EPSG:4326\n    fields: { id: by_id, name: navn, weight: indbyggere }"
        let da = try fx.load(fx.studyYAML(demand: base + "\n    number_format: da"))
        #expect(da.study?.demand.map(\.weight) == [1234, 250])
        let plain = try fx.load(fx.studyYAML(demand: base))
        #expect(plain.study?.demand.map(\.weight) == [1.234, 250])
        #expect(AttributeValue.string(" 632.340").danishNumber == 632340)
        #expect(AttributeValue.string("12,5").danishNumber == 12.5)
        #expect(AttributeValue.string("mange").danishNumber == nil)
        let bad = try fx.load(fx.studyYAML(demand: base + "\n    number_format: fr"))
        #expect(bad.count(field: "number_format") == 1)
    }

    @Test func populationJoinedFromAStatisticsTable() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        // A Danmarks Statistik-style table: ";"-separated, Danish thousands, parish codes as text.
        try fx.write("befolkning.csv", "SOGN;Befolkningstal;Klynge\n7240;1.204;Vest\n7241; 812;Øst\n9999;10;Andet\n")
        var yaml = fx.studyYAML(areas: """
            source: sogne.geojson
            fields: { id: SOGNEKODE, name: SOGNENAVN }
            join: { source: befolkning.csv, key: SOGN, fields: { population: Befolkningstal, cluster: Klynge }, number_format: da }
        """)
        // Demand from the areas, weighted by the joined population.
        let start = yaml.range(of: "  demand:")!, end = yaml.range(of: "  facilities:")!
        yaml.removeSubrange(start.lowerBound..<end.lowerBound)
        let r = try fx.load(yaml)
        let study = try #require(r.study)
        #expect(study.areas.map(\.population) == [1204, 812])
        #expect(study.areas.map(\.cluster) == ["Vest", "Øst"])
        #expect(study.demand.map(\.weight) == [1204, 812])
        #expect(r.count(.warning, featureId: "9999", message: "no area") == 1)
        // Codes match as codes: a zero-padded "07240" is parish 7240.
        try fx.write("befolkning.csv", "SOGN;Befolkningstal;Klynge\n07240;1.204;Vest\n7241; 812;Øst\n")
        #expect(try fx.load(yaml).study?.areas.map(\.population) == [1204, 812])
        // A join elsewhere than on the areas, or an unknown number format, is an error, not ignored.
        let badFormat = try fx.load(yaml.replacingOccurrences(of: "number_format: da }", with: "number_format: dk }"))
        #expect(badFormat.count(field: "number_format") == 1)
        let onFacilities = try fx.load(fx.studyYAML(facilities: """
            source: faciliteter.geojson
            fields: { id: kode, name: navn, category: kategori }
            category_values: { forsamlingshus: hall, skole: school, bibliotek: library }
            join: { source: befolkning.csv, key: SOGN, fields: { population: Befolkningstal } }
        """))
        #expect(onFacilities.count(field: "join") == 1)
    }
}

/// Inputs found on data we do not have: text encodings, degenerate roads, distorting CRSs.
@Suite struct IngestFaultTests {
    static func latin1(_ text: String) -> Data { text.data(using: .isoLatin1)! }

    @Test func latin1TextIsDetectedAndReadWhenDeclared() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        try Self.latin1("by_id;navn;lon;lat;indbyggere\n1;Vestby Ågård;10.56;55.81;420\n2;Østby;10.64;55.82;250\n")
            .write(to: fx.folder.appendingPathComponent("byer.csv"))
        let base = "    source: byer.csv\n    assume_crs: EPSG:4326\n    fields: { id: by_id, name: navn, weight: indbyggere }"
        let plain = try fx.load(fx.studyYAML(demand: base))
        let warning = try #require(plain.report.issues.first { $0.message.contains("not valid UTF-8") })
        #expect(warning.severity == .warning && warning.message.contains("encoding: latin1"))
        let declared = try fx.load(fx.studyYAML(demand: base + "\n    encoding: latin1"))
        #expect(declared.study?.demand.map(\.name) == ["Vestby Ågård", "Østby"])
        #expect(!declared.report.issues.contains { $0.message.contains("not valid") })
        let unknown = try fx.load(fx.studyYAML(demand: base + "\n    encoding: klingon"))
        #expect(unknown.report.issues.contains { $0.field == "encoding" && $0.severity == .error })
    }

    @Test func zeroLengthRoadsAreSkippedByName() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        try fx.write("veje.geojson", """
        {"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"vid":"V1","klasse":"tertiary"},"geometry":{"type":"LineString","coordinates":[[10.56,55.81],[10.64,55.82]]}},
        {"type":"Feature","properties":{"vid":"V2","klasse":"tertiary"},"geometry":{"type":"LineString","coordinates":[[10.57,55.81],[10.57,55.81]]}}
        ]}
        """)
        let r = try fx.load(fx.studyYAML(extra: "  roads:\n    source: veje.geojson\n    fields: { id: vid, class: klasse }"))
        let s = try #require(r.study)
        #expect(s.roads.map(\.id) == ["V1"])
        let w = try #require(r.report.issues.first { $0.featureId == "V2" })
        #expect(w.severity == .warning && w.message.contains("zero length") && !w.message.contains("must be lines"))
    }

    @Test func aDistortingWorkingCRSIsRefusedWithTheRightZone() throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        let mercator = fx.studyYAML().replacingOccurrences(of: "crs: EPSG:25832", with: "crs: EPSG:3857")
        #expect { try fx.load(mercator) } throws: {
            let m = ($0 as? StudyFileError)?.message ?? ""
            return m.contains("EPSG:3857") && m.contains("EPSG:25832") && m.contains("0.5 %")
        }
        // A neighbouring UTM zone is within the limit at this longitude; two zones off is not.
        #expect(try fx.load(fx.studyYAML().replacingOccurrences(of: "crs: EPSG:25832", with: "crs: EPSG:25833")).study != nil)
        #expect(throws: StudyFileError.self) { try fx.load(fx.studyYAML().replacingOccurrences(of: "crs: EPSG:25832", with: "crs: EPSG:32630")) }
    }
}
