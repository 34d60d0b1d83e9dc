import Foundation

/// A typed attribute value as read from a source.
public enum AttributeValue: Hashable, Sendable {
    case null
    case int(Int64)
    case double(Double)
    case string(String)
    case bool(Bool)

    public var isNull: Bool { if case .null = self { true } else { false } }

    /// Text form for ids, names and CSV output (`nil` for null).
    public var text: String? {
        switch self {
        case .null: nil
        case .int(let v): String(v)
        case .double(let v):
            v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
        case .string(let s): s
        case .bool(let b): b ? "true" : "false"
        }
    }

    /// A numeric reading: numbers as they are, text parsed if it is a plain number
    /// (a decimal comma and spaces or dots as thousands separators are accepted).
    public var number: Double? {
        switch self {
        case .null: return nil
        case .int(let v): return Double(v)
        case .double(let v): return v
        case .bool: return nil
        case .string(let s): return AttributeValue.parseNumber(s)
        }
    }

    /// A numeric reading of text in the Danish convention: `.` groups thousands, `,` is the decimal mark
    /// ("632.340" is 632340, "12,5" is 12.5). Numbers that are numbers already stay as they are.
    public var danishNumber: Double? {
        guard case .string(let raw) = self else { return number }
        let s = raw.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: " ", with: "")
            .replacingOccurrences(of: "\u{00A0}", with: "")
        guard s.range(of: #"^-?[0-9.]*(,[0-9]+)?$"#, options: .regularExpression) != nil, s.contains(where: \.isNumber) else { return nil }
        return Double(s.replacingOccurrences(of: ".", with: "").replacingOccurrences(of: ",", with: "."))
    }

    static func parseNumber(_ raw: String) -> Double? {
        var s = raw.trimmingCharacters(in: .whitespaces)
        guard !s.isEmpty else { return nil }
        if let v = Double(s), v.isFinite { return v }
        s = s.replacingOccurrences(of: " ", with: "").replacingOccurrences(of: "\u{00A0}", with: "")
        // Danish number format: "1.234,5" → 1234.5; "1.234" → 1234 (a dot followed by 3 digits is a thousands separator).
        if s.contains(",") {
            s = s.replacingOccurrences(of: ".", with: "").replacingOccurrences(of: ",", with: ".")
        } else if s.range(of: #"^-?\d{1,3}(\.\d{3})+$"#, options: .regularExpression) != nil {
            s = s.replacingOccurrences(of: ".", with: "")
        }
        if let v = Double(s), v.isFinite { return v }
        return nil
    }
}

/// The type of a field, as it will be written.
public enum FieldType: String, Sendable, Codable, Hashable {
    case integer, real, string, boolean
}

public struct FieldDefinition: Hashable, Sendable {
    public var name: String
    public var type: FieldType
    public init(name: String, type: FieldType) {
        self.name = name
        self.type = type
    }
}

/// A feature: an optional geometry and named attribute values.
public struct Feature: Hashable, Sendable {
    /// The source's feature id (OGR FID), for messages.
    public var fid: Int64?
    public var geometry: Geometry?
    public var attributes: [String: AttributeValue]

    public init(fid: Int64? = nil, geometry: Geometry?, attributes: [String: AttributeValue] = [:]) {
        self.fid = fid
        self.geometry = geometry
        self.attributes = attributes
    }

    public subscript(_ field: String) -> AttributeValue {
        attributes[field] ?? .null
    }
}

/// Features with a schema and a CRS: what a reader returns and a writer takes.
public struct FeatureTable: Sendable {
    public var name: String
    public var crs: CRS
    public var fields: [FieldDefinition]
    public var features: [Feature]

    public init(name: String, crs: CRS, fields: [FieldDefinition], features: [Feature]) {
        self.name = name
        self.crs = crs
        self.fields = fields
        self.features = features
    }
}
