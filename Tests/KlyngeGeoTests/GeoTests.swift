import Foundation
import Testing
@testable import KlyngeGeo

private let square: [Coordinate] = [.init(x: 0, y: 0), .init(x: 1, y: 0), .init(x: 1, y: 1), .init(x: 0, y: 1), .init(x: 0, y: 0)]

@Suite struct WKBTests {
    @Test(arguments: [
        Geometry.point(.init(x: 10.5, y: 55.9)),
        .lineString([.init(x: 0, y: 0), .init(x: 1, y: 2)]),
        .polygon([square, square.reversed()]),
        .multiPoint([.init(x: 1, y: 1), .init(x: 2, y: 2)]),
        .multiLineString([[.init(x: 0, y: 0), .init(x: 1, y: 1)], [.init(x: 2, y: 2), .init(x: 3, y: 3)]]),
        .multiPolygon([[square], [square.map { Coordinate(x: $0.x + 5, y: $0.y) }]]),
        .collection([.point(.init(x: 1, y: 2)), .lineString([.init(x: 0, y: 0), .init(x: 1, y: 1)])]),
    ])
    func roundTrip(_ g: Geometry) throws {
        #expect(try WKB.decode(WKB.encode(g)) == g)
    }

    @Test func isoPointZDropsZ() throws {
        // ISO WKB Point Z (type 1001), big-endian.
        var bytes: [UInt8] = [0]
        bytes += [0, 0, 0x03, 0xE9]
        for v in [1.5, 2.5, 99.0] { bytes += withUnsafeBytes(of: v.bitPattern.bigEndian) { Array($0) } }
        #expect(try WKB.decode(bytes) == .point(.init(x: 1.5, y: 2.5)))
    }

    @Test func truncatedInputIsAnError() {
        let bytes = Array(WKB.encode(.lineString([.init(x: 0, y: 0), .init(x: 1, y: 1)])).dropLast(3))
        #expect(throws: WKBError.self) { try WKB.decode(bytes) }
        #expect(throws: WKBError.unsupportedType(99)) { try WKB.decode([1, 99, 0, 0, 0]) }
    }
}

@Suite struct RingTests {
    @Test func signedAreaAndOrientation() {
        #expect(Ring.signedArea(square) == 1)
        #expect(Ring.signedArea(square.reversed()) == -1)
        #expect(Ring.isCounterClockwise(square))
        #expect(Ring.oriented(square, counterClockwise: false) == square.reversed())
    }

    @Test func containsPoint() {
        #expect(Ring.contains(square, .init(x: 0.5, y: 0.5)))
        #expect(!Ring.contains(square, .init(x: 1.5, y: 0.5)))
    }
}

@Suite struct GeoJSONTests {
    /// Parses the writer's output and returns the first feature's geometry coordinates.
    func firstCoordinates(_ text: String) throws -> Any {
        let obj = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        #expect(obj["crs"] == nil)
        #expect(obj["type"] as? String == "FeatureCollection")
        let f = (obj["features"] as! [[String: Any]])[0]
        return (f["geometry"] as! [String: Any])["coordinates"]!
    }

    @Test func windingFollowsRFC7946() throws {
        // Exterior clockwise and hole counter-clockwise on input (as DAGI delivers them).
        let outer = [Coordinate(x: 0, y: 0), .init(x: 0, y: 4), .init(x: 4, y: 4), .init(x: 4, y: 0), .init(x: 0, y: 0)]
        let hole = [Coordinate(x: 1, y: 1), .init(x: 2, y: 1), .init(x: 2, y: 2), .init(x: 1, y: 2), .init(x: 1, y: 1)]
        #expect(!Ring.isCounterClockwise(outer) && Ring.isCounterClockwise(hole))
        let text = GeoJSONWriter().featureCollection([Feature(geometry: .polygon([outer, hole]))])
        let rings = try firstCoordinates(text) as! [[[Double]]]
        let parsed = rings.map { $0.map { Coordinate(x: $0[0], y: $0[1]) } }
        #expect(Ring.isCounterClockwise(parsed[0]))
        #expect(!Ring.isCounterClockwise(parsed[1]))
        #expect(parsed.allSatisfy { $0.first == $0.last })
    }

    @Test func openRingsAreClosedAndCoordinatesRoundedToSevenDecimals() throws {
        let open = [Coordinate(x: 10.123456789, y: 55.987654321), .init(x: 10.2, y: 55.9), .init(x: 10.3, y: 56.0)]
        let text = GeoJSONWriter().featureCollection([Feature(geometry: .multiPolygon([[open]]))])
        let polys = try firstCoordinates(text) as! [[[[Double]]]]
        let ring = polys[0][0]
        #expect(ring.count == 4)
        #expect(ring.first! == ring.last!)
        #expect(text.contains("10.1234568"))
        #expect(text.contains("55.9876543"))
        #expect(!text.contains("10.12345678"))
    }

    @Test func propertiesAreTypedAndEscaped() throws {
        let f = Feature(geometry: .point(.init(x: 1, y: 2)),
                        attributes: ["navn": .string("Ærø \"by\"\n"), "n": .int(3), "x": .double(2.5), "z": .null, "b": .bool(true)])
        let text = GeoJSONWriter(fieldOrder: ["navn"]).featureCollection([f])
        let obj = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        let props = ((obj["features"] as! [[String: Any]])[0]["properties"]) as! [String: Any]
        #expect(props["navn"] as? String == "Ærø \"by\"\n")
        #expect(props["n"] as? Int == 3)
        #expect(props["x"] as? Double == 2.5)
        #expect(props["z"] is NSNull)
        #expect(props["b"] as? Bool == true)
    }
}

@Suite struct AttributeTests {
    @Test(arguments: [("827", 827.0), ("1.234", 1.234), ("1.234.567", 1234567.0), ("12,5", 12.5), ("1.234,5", 1234.5), (" 42 ", 42.0), ("3 670", 3670.0)])
    func numbersIncludingDanishFormat(_ text: String, _ value: Double) {
        #expect(AttributeValue.string(text).number == value)
    }

    @Test(arguments: ["mange", "", "12 huse", "NaN"])
    func textIsNotANumber(_ text: String) {
        #expect(AttributeValue.string(text).number == nil)
    }

    @Test func textForms() {
        #expect(AttributeValue.double(7240).text == "7240")
        #expect(AttributeValue.int(-3).text == "-3")
        #expect(AttributeValue.null.text == nil)
    }
}

@Suite struct CRSDefaultTests {
    @Test func denmarkUsesETRS89UTM32EvenOnBornholm() {
        #expect(CRS.defaultWorkingCRS(forLongitude: 10.6, latitude: 55.9) == .etrs89UTM32)  // Samsø
        #expect(CRS.defaultWorkingCRS(forLongitude: 14.9, latitude: 55.1) == .etrs89UTM32)  // Bornholm
    }

    @Test func elsewhereTheUTMZone() {
        #expect(CRS.defaultWorkingCRS(forLongitude: 18.07, latitude: 59.33) == .epsg(32634))  // Stockholm
        #expect(CRS.defaultWorkingCRS(forLongitude: -58.4, latitude: -34.6) == .epsg(32721))  // Buenos Aires
        #expect(CRS.defaultWorkingCRS(forLongitude: 5.3, latitude: 60.4) == .epsg(32632))   // Bergen (Norway exception)
        #expect(CRS("EPSG:25832").epsgCode == 25832)
    }
}

/// Figures leave through one encoder: finite, sorted, and without Float noise.
@Suite struct JSONFigureTests {
    @Test func floatValuesPrintAsTheirFloat() {
        let v = Double(Float(275.6282))
        #expect("\(v)" == "275.6282043457031")
        #expect(JSONText.figure(v) == "275.6282")
        #expect(JSONText.figure(600) == "600")
        #expect(JSONText.figure(0.1) == "0.1")
        #expect(JSONText.figure(1.0 / 3.0) == "0.3333333333")
        #expect(JSONText.figure(6170123.456789123) == "6170123.457")
        #expect(JSONText.figure(.infinity) == "null")
    }

    @Test func encodeRoundsNumbersButNotStrings() throws {
        struct Row: Encodable { var name: String; var seconds: Double; var worst: Double; var count: Int }
        let text = try JSONText.encode(Row(name: "x 275.6282043457031 \"1.23456789012345\"", seconds: Double(Float(275.6282)), worst: .infinity, count: -3))
        #expect(text == #"{"count":-3,"name":"x 275.6282043457031 \"1.23456789012345\"","seconds":275.6282,"worst":null}"#)
    }
}
