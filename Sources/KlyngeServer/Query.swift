import Foundation
import Hummingbird

/// The one checked path for request parameters: every number finite and in range, every text bounded.
/// A bad value is a 400 that names the parameter.
struct Query {
    private let values: [String: String]

    init(_ request: Request) {
        var v: [String: String] = [:]
        for (k, value) in request.uri.queryParameters { v[String(k)] = String(value) }
        values = v
    }

    /// A text parameter; nil when absent. Longer than `maxLength` characters is refused.
    func text(_ name: String, maxLength: Int = 200) throws -> String? {
        guard let v = values[name] else { return nil }
        guard v.count <= maxLength else { throw ServiceError.badRequest("\(name) is longer than \(maxLength) characters", parameter: name) }
        return v
    }

    func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let raw = values[name] else { return nil }
        return try Checked.int(raw, name, in: range)
    }

    func double(_ name: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let raw = values[name] else { return nil }
        return try Checked.double(Double(raw.trimmingCharacters(in: .whitespaces)), name, in: range, text: raw)
    }

    func bool(_ name: String) throws -> Bool? {
        guard let raw = values[name] else { return nil }
        switch raw.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw ServiceError.badRequest("\(name) is true or false", parameter: name)
        }
    }

    /// One of a fixed set of words.
    func choice<T: RawRepresentable & CaseIterable>(_ name: String, _ type: T.Type) throws -> T? where T.RawValue == String {
        guard let raw = values[name] else { return nil }
        guard let v = T(rawValue: raw) else {
            throw ServiceError.badRequest("\(name) is one of \(T.allCases.map(\.rawValue).joined(separator: ", "))", parameter: name)
        }
        return v
    }

    /// A comma-separated list of at most `maxItems` texts, each at most `maxLength` characters.
    func list(_ name: String, separator: Character = ",", maxItems: Int, maxLength: Int = 200) throws -> [String]? {
        guard let raw = values[name] else { return nil }
        let items = raw.split(separator: separator, omittingEmptySubsequences: true).map(String.init)
        guard items.count <= maxItems else { throw ServiceError.badRequest("\(name) lists more than \(maxItems) items", parameter: name) }
        for i in items where i.count > maxLength {
            throw ServiceError.badRequest("\(name) has an item longer than \(maxLength) characters", parameter: name)
        }
        return items
    }
}

/// Checks for numbers from any source (query, body): finite and within the range.
enum Checked {
    static func int(_ raw: String, _ name: String, in range: ClosedRange<Int>) throws -> Int {
        guard let v = Int(raw.trimmingCharacters(in: .whitespaces)), range.contains(v) else {
            throw ServiceError.badRequest("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)", parameter: name)
        }
        return v
    }

    static func int(_ v: Int?, _ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let v else { return nil }
        guard range.contains(v) else {
            throw ServiceError.badRequest("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)", parameter: name)
        }
        return v
    }

    static func double(_ v: Double?, _ name: String, in range: ClosedRange<Double>, text: String? = nil) throws -> Double {
        guard let v, v.isFinite, range.contains(v) else {
            throw ServiceError.badRequest("\(name) must be a number from \(format(range.lowerBound)) to \(format(range.upperBound))", parameter: name)
        }
        return v
    }

    static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
    }
}
