import Foundation
import Testing
import KlyngeGEOS
import KlyngeGeo
import KlyngeIO
import KlyngeStudy
import KlyngeTestSupport
@testable import KlyngeStudyAnalysis
@testable import KlyngeIngest
import KlyngeJobs

@Suite struct SamsoeSampleTests {
    @Test func theSampleStudyLoadsClean() throws {
        let r = try StudyLoader().load(path: TestSupport.data("samsoe/study.yaml"))
        #expect(r.report.issues.isEmpty, "\(r.report.issues)")
        let study = try #require(r.study)
        #expect(study.crs == .etrs89UTM32)
        // 20 DAGI polygons dissolved into the 5 parishes.
        #expect(r.report.layers.first { $0.role == .areas }?.featuresRead == 20)
        #expect(study.areas.map(\.id).sorted() == ["7240", "7241", "7242", "7243", "7244"])
        #expect(study.demand.count == 28)
        #expect(study.demand.reduce(0) { $0 + $1.weight } == 2774)
        #expect(study.demand.allSatisfy { $0.areaId != nil })
        #expect(study.facilities.count == 27)
        #expect(study.facilities.first { $0.name == "Samsø Musikskole" }?.categories == ["music_school"])
        #expect(study.facilities.first { $0.name == "Tranebjerg Skole" }?.categories == ["school"])
        #expect(study.roads.count == 1929)
        // Every area of the study lies inside Samsø's UTM 32 extent.
        let env = try #require(Envelope(covering: study.areas.flatMap { $0.geometry.allCoordinates }))
        #expect(env.minX > 590_000 && env.maxX < 615_000 && env.minY > 6_175_000 && env.maxY < 6_210_000)
    }

    @Test func dissolveKeepsTheWholeParish() throws {
        // The dissolved parishes cover the same area as the 20 source polygons.
        let r = try StudyLoader().load(path: TestSupport.data("samsoe/study.yaml"))
        let study = try #require(r.study)
        let geos = try GEOSContext()
        let dissolved = try study.areas.reduce(0) { $0 + (try geos.area($1.geometry)) }
        var file = try StudyFile.load(path: TestSupport.data("samsoe/study.yaml"))
        file.layers.areas?.dissolve = nil
        file.layers.areas?.fields["id"] = "FEAT_ID"
        let parts = try StudyLoader().load(file, baseFolder: URL(fileURLWithPath: TestSupport.data("samsoe")))
        #expect(parts.study?.areas.count == 20)
        let sum = try parts.study!.areas.reduce(0) { $0 + (try geos.area($1.geometry)) }
        #expect(abs(dissolved - sum) / sum < 1e-6)
    }
}

@Suite struct OSMImportTests {
    @Test func importTurnsOutlinesIntoPointsInsideThem() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("samsoe.gpkg")
        let pbf = TestSupport.data("samsoe/samsoe-2020-03-09.osm.pbf")
        let summary = try OSMImporter().run(input: pbf, output: out)
        #expect(summary.roads > 1500)
        #expect(summary.placesWithPopulation == 28)
        #expect(summary.populationTotal == 2774)
        let ds = try VectorSource(out.path)
        #expect(Set(ds.layerNames) == ["roads", "places", "facilities"])
        let facilities = try ds.layer(named: "facilities").readFeatures()
        #expect(facilities.allSatisfy { $0.geometry?.kind == .point })

        // Outlines as GDAL's OSM driver (default configuration) reads them, by way id.
        let osm = try VectorSource(pbf).layer(named: "multipolygons")
        var outlines: [String: Geometry] = [:]
        for f in try osm.readFeatures(where: "osm_way_id IS NOT NULL") {
            if let id = f["osm_way_id"].text, let g = f.geometry { outlines["way/\(id)"] = g }
        }
        let geos = try GEOSContext()
        var checked = 0
        for f in facilities where f["osm_geometry"] == .string("polygon") {
            guard let id = f["osm_id"].text, let outline = outlines[id], case .point(let p)? = f.geometry else { continue }
            #expect(try PreparedGeometry(outline, context: geos).covers(p), "\(id) is outside its outline")
            checked += 1
        }
        #expect(checked >= 15)
        // The committed sample is what the import makes today (rebuild it with scripts/build-samsoe-sample.sh).
        let committed = try VectorSource(TestSupport.data("samsoe/samsoe-osm.gpkg"))
        for name in ["roads", "places", "facilities"] {
            #expect(try committed.layer(named: name).readFeatures().count == ds.layer(named: name).readFeatures().count, "\(name)")
        }
        // The school mapped as a building outline is one facility.
        #expect(facilities.filter { $0["name"] == .string("Tranebjerg Skole") }.count == 1)
    }

    @Test func tagTableIsOverridable() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let table = try TagTable.parse(yaml: """
            facilities:
              - match: amenity=school
                category: skole
            places: [village]
            road_exclude: []
            """, path: "tags.yaml")
        let out = folder.appendingPathComponent("x.gpkg")
        let s = try OSMImporter(tags: table).run(input: TestSupport.data("samsoe/samsoe-2020-03-09.osm.pbf"), output: out)
        #expect(s.facilitiesByCategory.keys.sorted() == ["skole"])
        #expect(s.facilitiesByCategory["skole"] == 4)  // the music school too, now
        #expect(throws: ImportError.self) { try TagTable.parse(yaml: "facilities: [{match: amenity, category: x}]\nplaces: []\nroad_exclude: []", path: "t") }
    }

    @Test func hstoreParsing() {
        #expect(HStore.parse(#""population"=>"827","name"=>"Tranebjerg \"by\"","a"=>"b=>c""#)
                == ["population": "827", "name": "Tranebjerg \"by\"", "a": "b=>c"])
        #expect(HStore.parse("").isEmpty)
    }

    @Test func notAnOSMFileIsRefusedBeforeAnythingIsWritten() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("x.gpkg")
        #expect(throws: ImportError.self) { try OSMImporter().run(input: TestSupport.data("samsoe/samsoe_sogne.geojson"), output: out) }
        #expect(throws: ImportError.self) { try OSMImporter().run(input: folder.appendingPathComponent("none.osm.pbf").path, output: out) }
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }
}
