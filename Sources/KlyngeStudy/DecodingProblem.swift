/// Decoding errors in words, without Swift type names: which field, and what was wrong.
public enum DecodingProblem {
    public static func describe(_ error: Error, document: String = "JSON") -> String {
        guard let e = error as? DecodingError else { return "not valid \(document)" }
        func path(_ keys: [CodingKey]) -> String {
            let p = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return p.isEmpty ? "the document" : "`" + String(p.drop(while: { $0 == "." })) + "`"
        }
        switch e {
        case .keyNotFound(let key, let ctx): return "\(path(ctx.codingPath + [key])) is missing"
        case .typeMismatch(let type, let ctx): return "\(path(ctx.codingPath)) should be \(kind(type))"
        case .valueNotFound(let type, let ctx): return "\(path(ctx.codingPath)) should be \(kind(type)), not null"
        case .dataCorrupted(let ctx):
            return ctx.codingPath.isEmpty ? "not valid \(document)" : "\(path(ctx.codingPath)) has a value that cannot be read"
        @unknown default: return "the \(document) does not have the expected shape"
        }
    }

    static func kind(_ type: Any.Type) -> String {
        let n = String(describing: type)
        if n.hasPrefix("Array") || n.hasPrefix("[") { return "a list" }
        if n.hasPrefix("Dictionary") || n.hasSuffix("Mapping") { return "an object (a set of keys)" }
        // YAML decoders name their node kinds.
        if n.hasSuffix("Scalar") { return "a single value (a text or a number)" }
        if n.hasSuffix("Sequence") { return "a list" }
        switch n {
        case "String": return "a text"
        case "Double", "Float": return "a number"
        case "Int", "Int64", "Int32": return "a whole number"
        case "Bool": return "true or false"
        default: return "an object"
        }
    }
}
