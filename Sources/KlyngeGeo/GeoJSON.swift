import Foundation

/// Writes RFC 7946 GeoJSON: WGS 84 longitude/latitude input, exterior rings counter-clockwise,
/// holes clockwise, rings closed, no `crs` member, coordinates rounded to `decimals`.
public struct GeoJSONWriter: Sendable {
    public var decimals: Int
    /// Field order for properties; fields not listed follow in name order.
    public var fieldOrder: [String]

    public init(decimals: Int = 7, fieldOrder: [String] = []) {
        self.decimals = decimals
        self.fieldOrder = fieldOrder
    }

    /// A FeatureCollection from features whose coordinates are longitude/latitude.
    public func featureCollection(_ features: [Feature]) -> String {
        var out = "{\"type\":\"FeatureCollection\",\"features\":["
        out.reserveCapacity(features.count * 256)
        for (i, f) in features.enumerated() {
            if i > 0 { out += "," }
            out += "\n"
            appendFeature(f, to: &out)
        }
        out += "\n]}\n"
        return out
    }

    public func appendFeature(_ f: Feature, id: AttributeValue? = nil, to out: inout String) {
        out += "{\"type\":\"Feature\","
        if let id, !id.isNull { out += "\"id\":" + JSONText.value(id) + "," }
        out += "\"properties\":"
        appendProperties(f.attributes, to: &out)
        out += ",\"geometry\":"
        if let g = f.geometry { appendGeometry(g, to: &out) } else { out += "null" }
        out += "}"
    }

    public func appendProperties(_ attrs: [String: AttributeValue], to out: inout String) {
        out += "{"
        var first = true
        let listed = fieldOrder.filter { attrs[$0] != nil }
        let rest = attrs.keys.filter { !fieldOrder.contains($0) }.sorted()
        for key in listed + rest {
            if !first { out += "," }
            first = false
            out += JSONText.string(key)
            out += ":"
            out += JSONText.value(attrs[key] ?? .null)
        }
        out += "}"
    }

    public func appendGeometry(_ g: Geometry, to out: inout String) {
        switch g {
        case .point(let c):
            out += "{\"type\":\"Point\",\"coordinates\":"; position(c, &out); out += "}"
        case .multiPoint(let cs):
            out += "{\"type\":\"MultiPoint\",\"coordinates\":"; positions(cs, &out); out += "}"
        case .lineString(let cs):
            out += "{\"type\":\"LineString\",\"coordinates\":"; positions(cs, &out); out += "}"
        case .multiLineString(let ls):
            out += "{\"type\":\"MultiLineString\",\"coordinates\":["
            for (i, l) in ls.enumerated() { if i > 0 { out += "," }; positions(l, &out) }
            out += "]}"
        case .polygon(let rings):
            out += "{\"type\":\"Polygon\",\"coordinates\":"; polygon(rings, &out); out += "}"
        case .multiPolygon(let ps):
            out += "{\"type\":\"MultiPolygon\",\"coordinates\":["
            for (i, p) in ps.enumerated() { if i > 0 { out += "," }; polygon(p, &out) }
            out += "]}"
        case .collection(let gs):
            out += "{\"type\":\"GeometryCollection\",\"geometries\":["
            for (i, g) in gs.enumerated() { if i > 0 { out += "," }; appendGeometry(g, to: &out) }
            out += "]}"
        }
    }

    /// Rounds first, then orients: orientation is decided on the coordinates that are written.
    private func polygon(_ rings: [[Coordinate]], _ out: inout String) {
        out += "["
        for (i, ring) in rings.enumerated() {
            if i > 0 { out += "," }
            var r = ring.map(rounded)
            if let f = r.first, r.last != f { r.append(f) }
            positions(Ring.oriented(r, counterClockwise: i == 0), &out, alreadyRounded: true)
        }
        out += "]"
    }

    private func rounded(_ c: Coordinate) -> Coordinate {
        let scale = pow(10.0, Double(decimals))
        return Coordinate(x: (c.x * scale).rounded() / scale, y: (c.y * scale).rounded() / scale)
    }

    private func positions(_ cs: [Coordinate], _ out: inout String, alreadyRounded: Bool = false) {
        out += "["
        for (i, c) in cs.enumerated() {
            if i > 0 { out += "," }
            position(alreadyRounded ? c : rounded(c), &out, alreadyRounded: true)
        }
        out += "]"
    }

    private func position(_ c: Coordinate, _ out: inout String, alreadyRounded: Bool = false) {
        let r = alreadyRounded ? c : rounded(c)
        out += "[" + JSONText.number(r.x) + "," + JSONText.number(r.y) + "]"
    }
}

/// Minimal JSON text helpers shared by writers.
public enum JSONText {
    public static func string(_ s: String) -> String {
        // Most names need no escaping: one pass over the bytes decides.
        if !s.utf8.contains(where: { $0 == 0x22 || $0 == 0x5C || $0 < 0x20 }) { return "\"" + s + "\"" }
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let u where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// An Encodable value as JSON with sorted keys (compact, or indented for people). JSON has no infinities or
    /// NaN: such a figure is written as null. The first attempt encodes strictly; only when that fails does a
    /// second pass mark the non-finite numbers with a control character (escaped by the encoder, so no text can
    /// look like it) and replace them, so ordinary answers are never scanned for them. Fractions are then
    /// written as `figure` writes them.
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        if let d = try? e.encode(value) { return roundingFractions(d) }
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "\u{1}nf", negativeInfinity: "\u{1}nf", nan: "\u{1}nf")
        let text = roundingFractions(try e.encode(value))
        return text.replacingOccurrences(of: #""\u0001nf""#, with: "null")
    }

    /// A figure for a report: integers as integers; a value that is exactly a `Float` (the access tables store
    /// costs as Float) as that Float's shortest text, so `275.6282` and not `275.6282043457031`; any other
    /// fraction to 10 significant digits, which keeps millimetres in projected metres and 7 decimals of degrees.
    public static func figure(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        let f = Float(v)
        if f.isFinite && Double(f) == v { return "\(f)" }
        let short = String(format: "%.10g", v)
        return Double(short) == v ? "\(v)" : short
    }

    /// Rewrites the fractional number tokens of encoder output (outside strings) through `figure`.
    static func roundingFractions(_ data: Data) -> String {
        let bytes = [UInt8](data)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var i = 0
        var inString = false
        while i < bytes.count {
            let b = bytes[i]
            if inString {
                out.append(b)
                if b == 0x5C, i + 1 < bytes.count { out.append(bytes[i + 1]); i += 2; continue }
                if b == 0x22 { inString = false }
                i += 1
                continue
            }
            if b == 0x22 { inString = true; out.append(b); i += 1; continue }
            if b == 0x2D || (0x30...0x39).contains(b) {
                var j = i
                var fractional = false
                while j < bytes.count, let c = Optional(bytes[j]),
                      c == 0x2D || c == 0x2B || c == 0x2E || c == 0x65 || c == 0x45 || (0x30...0x39).contains(c) {
                    if c == 0x2E || c == 0x65 || c == 0x45 { fractional = true }
                    j += 1
                }
                if fractional, let v = Double(String(decoding: bytes[i..<j], as: UTF8.self)) {
                    out += Array(figure(v).utf8)
                } else {
                    out += bytes[i..<j]
                }
                i = j
                continue
            }
            out.append(b)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func number(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }

    public static func value(_ v: AttributeValue) -> String {
        switch v {
        case .null: "null"
        case .int(let i): String(i)
        case .double(let d): number(d)
        case .string(let s): string(s)
        case .bool(let b): b ? "true" : "false"
        }
    }
}

/// A coding key made from a string at run time: for objects whose keys are data (ids, column names).
public struct DynamicCodingKey: CodingKey {
    public var stringValue: String
    public var intValue: Int? { nil }
    public init(_ s: String) { stringValue = s }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}
