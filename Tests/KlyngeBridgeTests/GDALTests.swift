import Foundation
import Testing
import KlyngeGeo
import KlyngeTestSupport
@testable import KlyngeIO

private let pointsGeoJSON = """
{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"navn":"Tranebjerg","indbyggere":827,"areal":1.5,"aktiv":true},"geometry":{"type":"Point","coordinates":[10.5985,55.8331]}},
{"type":"Feature","properties":{"navn":"Ballen","indbyggere":168,"areal":null,"aktiv":false},"geometry":{"type":"Point","coordinates":[10.6440,55.8170]}}
]}
"""

@Suite struct GDALTests {
    @Test func readsTypedAttributesInLonLatOrder() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("byer.geojson")
        try TestSupport.write(pointsGeoJSON, to: file)
        let layer = try VectorSource(file.path).layer(named: nil)
        #expect(layer.crs == CRS("EPSG:4326"))
        let fs = try layer.readFeatures()
        #expect(fs.count == 2)
        #expect(fs[0]["navn"] == .string("Tranebjerg"))
        #expect(fs[0]["indbyggere"] == .int(827))
        #expect(fs[0]["areal"] == .double(1.5))
        #expect(fs[1]["areal"] == .null)
        #expect(fs[0].geometry == .point(.init(x: 10.5985, y: 55.8331)))
        #expect(try layer.readFeatures(where: "indbyggere > 500").count == 1)
    }

    @Test func missingFileAndTruncatedGeoJSONAreErrorsNamingTheFile() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = folder.appendingPathComponent("findes-ikke.gpkg").path
        #expect { try VectorSource(missing) } throws: { ($0 as? GDALError)?.source == missing }
        let truncated = folder.appendingPathComponent("halv.geojson")
        try TestSupport.write(String(pointsGeoJSON.prefix(150)), to: truncated)
        #expect { try VectorSource(truncated.path).layer(named: nil).readFeatures() } throws: { e in
            guard let e = e as? GDALError else { return false }
            return e.source == truncated.path && !e.message.isEmpty
        }
    }

    @Test func unknownLayerListsTheLayersThereAre() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("byer.geojson")
        try TestSupport.write(pointsGeoJSON, to: file)
        #expect { try VectorSource(file.path).layer(named: "sogne") } throws: { e in
            (e as? GDALError)?.message.contains("byer") == true
        }
    }

    @Test func geoPackageRoundTripInAProjectedCRS() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("ud.gpkg")
        let table = FeatureTable(
            name: "sogne", crs: .etrs89UTM32,
            fields: [.init(name: "navn", type: .string), .init(name: "indbyggere", type: .integer), .init(name: "andel", type: .real)],
            features: [
                Feature(geometry: .polygon([[.init(x: 600000, y: 6190000), .init(x: 601000, y: 6190000), .init(x: 601000, y: 6191000), .init(x: 600000, y: 6190000)]]),
                        attributes: ["navn": .string("Ørby"), "indbyggere": .int(91), "andel": .double(0.25)]),
                Feature(geometry: .multiPolygon([[[.init(x: 0, y: 0), .init(x: 1, y: 0), .init(x: 1, y: 1), .init(x: 0, y: 0)]]]),
                        attributes: ["navn": .string("Æble"), "indbyggere": .null, "andel": .null]),
            ])
        try VectorWriter.write([table], to: url, format: .geoPackage)
        let layer = try VectorSource(url.path).layer(named: "sogne")
        #expect(layer.crs == .etrs89UTM32)
        #expect(layer.geometryTypeName == "MultiPolygon")  // single and multi mixed → multi
        let fs = try layer.readFeatures()
        #expect(fs.map { $0["navn"] } == [.string("Ørby"), .string("Æble")])
        #expect(fs[0]["indbyggere"] == .int(91) && fs[1]["indbyggere"] == .null)
        #expect(fs[0].geometry?.polygons == table.features[0].geometry?.polygons)
        let info = try Inspector.inspect(url.path)
        #expect(info.layers == [LayerInfo(name: "sogne", geometryType: "MultiPolygon", featureCount: 2, crs: "EPSG:25832",
                                          extent: [0, 0, 601000, 6191000])])
    }

    @Test func flatGeobufRoundTrip() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("veje.fgb")
        let table = FeatureTable(name: "veje", crs: .etrs89UTM32, fields: [.init(name: "vejklasse", type: .string)],
                                 features: [Feature(geometry: .lineString([.init(x: 600000, y: 6190000), .init(x: 600500, y: 6190250)]),
                                                    attributes: ["vejklasse": .string("Lokalvej")])])
        try VectorWriter.write([table], to: url, format: .flatGeobuf)
        let layer = try VectorSource(url.path).layer(named: nil)
        #expect(layer.crs == .etrs89UTM32)
        #expect(try layer.readFeatures().map(\.geometry) == table.features.map(\.geometry))
    }

    @Test func aSecondWriteReplacesTheFirst() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("ud.txt")
        try AtomicOutput.write(text: "første", to: url)
        try AtomicOutput.write(text: "anden", to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == "anden")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["ud.txt"])
    }

    @Test func aFailedWriteLeavesNoFile() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("ud.gpkg")
        // The same field twice: GDAL refuses the second after the file was created.
        let table = FeatureTable(name: "x", crs: .etrs89UTM32,
                                 fields: [.init(name: "a", type: .string), .init(name: "a", type: .string)],
                                 features: [Feature(geometry: .point(.init(x: 1, y: 1)))])
        #expect(throws: GDALError.self) { try VectorWriter.write([table], to: url, format: .geoPackage) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
        // An existing file is left as it was.
        try TestSupport.write("gammel", to: url)
        #expect(throws: GDALError.self) { try VectorWriter.write([table], to: url, format: .geoPackage) }
        #expect(try String(contentsOf: url, encoding: .utf8) == "gammel")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["ud.gpkg"])
    }

    @Test func shapefileWithoutPrjHasNoCRSAndESRIPrjIsIdentified() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let shp = folder.appendingPathComponent("byer.shp")
        let table = FeatureTable(name: "byer", crs: .etrs89UTM32, fields: [.init(name: "navn", type: .string)],
                                 features: [Feature(geometry: .point(.init(x: 600000, y: 6190000)), attributes: ["navn": .string("Kolby")])])
        try VectorWriter.write([table], to: shp, format: .shapefile)
        #expect(try VectorSource(shp.path).layer(named: nil).crs == .etrs89UTM32)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("byer.prj"))
        #expect(try VectorSource(shp.path).layer(named: nil).crs == nil)
    }

    @Test func csvWithLonLatColumnsAndWKT() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let lonlat = folder.appendingPathComponent("byer.csv")
        try TestSupport.write("navn,lon,lat,indbyggere\nTranebjerg,10.5985,55.8331,827\n", to: lonlat)
        let l1 = try VectorSource(lonlat.path).layer(named: nil)
        #expect(l1.crs == nil)
        let f1 = try l1.readFeatures()
        #expect(f1[0].geometry == .point(.init(x: 10.5985, y: 55.8331)))
        #expect(f1[0]["indbyggere"] == .int(827))
        let wkt = folder.appendingPathComponent("veje.csv")
        try TestSupport.write("id,WKT\n1,\"LINESTRING (0 0,1 1)\"\n", to: wkt)
        #expect(try VectorSource(wkt.path).layer(named: nil).readFeatures()[0].geometry == .lineString([.init(x: 0, y: 0), .init(x: 1, y: 1)]))
    }

    @Test func aGeometryGDALCannotParseNamesTheFeature() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("byer.csv")
        try TestSupport.write("id,WKT\n1,\"POINT (1 2)\"\n2,\"POINT (np.float64(1.5) 2)\"\n", to: file)
        #expect { try VectorSource(file.path).layer(named: nil).readFeatures() } throws: { e in
            (e as? GDALError)?.message.hasPrefix("feature 2:") == true
        }
    }

    @Test func handlesOutliveTheirOwners() throws {
        // A layer keeps its dataset alive after the caller drops the dataset.
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("byer.geojson")
        try TestSupport.write(pointsGeoJSON, to: file)
        var layer: VectorLayer?
        do { layer = try VectorSource(file.path).layer(named: nil) }
        #expect(try layer?.readFeatures().count == 2)
        let mem = try InMemoryFile(name: "x.txt", contents: "hej")
        #expect(mem.path.hasPrefix("/vsimem/"))
    }
}
