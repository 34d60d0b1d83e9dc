import Foundation
import KlyngeGeo

/// A value in a style: what JSON holds, plus colours.
public indirect enum StyleValue: Hashable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case color(RGBA)
    case array([StyleValue])

    /// As the style's JSON would write it, for messages.
    public var description: String {
        switch self {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .number(let n): n == n.rounded() && abs(n) < 1e15 ? String(Int(n)) : String(n)
        case .string(let s): "\"\(s)\""
        case .color(let c): "\"\(c.hex)\""
        case .array(let a): "[" + a.map(\.description).joined(separator: ", ") + "]"
        }
    }

    public var number: Double? {
        switch self {
        case .number(let n): n
        case .bool(let b): b ? 1 : 0
        case .string(let s): Double(s)
        default: nil
        }
    }

    public var string: String? {
        switch self {
        case .string(let s): s
        case .number(let n): n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .bool(let b): b ? "true" : "false"
        case .color(let c): c.hex
        default: nil
        }
    }

    public var color: RGBA? {
        switch self {
        case .color(let c): c
        case .string(let s): RGBA(css: s)
        default: nil
        }
    }

    public var truthy: Bool {
        switch self {
        case .null: false
        case .bool(let b): b
        case .number(let n): n != 0
        case .string(let s): !s.isEmpty
        default: true
        }
    }

    /// From parsed JSON.
    static func from(json: JSONValue) -> StyleValue {
        switch json {
        case .null, .object: return .null
        case .bool(let b): return .bool(b)
        case .number(let n): return .number(n)
        case .string(let s): return .string(s)
        case .array(let a): return .array(a.map(from(json:)))
        }
    }

    static func from(attribute: AttributeValue) -> StyleValue {
        switch attribute {
        case .null: .null
        case .int(let i): .number(Double(i))
        case .double(let d): .number(d)
        case .string(let s): .string(s)
        case .bool(let b): .bool(b)
        }
    }
}

/// A style error, naming the layer and property.
public struct StyleError: Error, CustomStringConvertible, Hashable, Sendable {
    public var layer: String?
    public var property: String?
    public var message: String
    public init(layer: String?, property: String?, _ message: String) {
        self.layer = layer
        self.property = property
        self.message = message
    }
    public var description: String {
        var at: [String] = []
        if let layer { at.append("layer `\(layer)`") }
        if let property { at.append("property `\(property)`") }
        return (at.isEmpty ? "" : at.joined(separator: ", ") + ": ") + message
    }
}

/// A compiled expression of the MapLibre style specification (the documented subset).
public indirect enum Expression: Hashable, Sendable {
    case literal(StyleValue)
    case get(String)
    case has(String)
    case match(Expression, [([StyleValue], Expression)], Expression)
    case caseOf([(Expression, Expression)], Expression)
    case step(Expression, Expression, [(Double, Expression)])
    case interpolate(Expression, [(Double, Expression)])
    case compare(String, Expression, Expression)
    case all([Expression])
    case any([Expression])
    case not(Expression)
    case isIn(Expression, Expression)
    case coalesce([Expression])
    case toString(Expression)
    case toNumber(Expression)
    case concat([Expression])
    case arithmetic(String, [Expression])

    public static func == (a: Expression, b: Expression) -> Bool { "\(a)" == "\(b)" }
    public func hash(into h: inout Hasher) { h.combine("\(self)") }

    static let operators: Set<String> = ["get", "has", "match", "case", "step", "interpolate", "==", "!=", "<", "<=", ">", ">=",
                                         "all", "any", "!", "in", "coalesce", "literal", "to-string", "to-number", "concat",
                                         "+", "-", "*", "/", "%", "min", "max", "round"]

    /// Compiles JSON; a JSON array whose first element is an operator name is an expression, else a literal.
    public static func compile(_ json: StyleValue, layer: String?, property: String?) throws -> Expression {
        func fail(_ m: String) -> StyleError { StyleError(layer: layer, property: property, m) }
        func c(_ v: StyleValue) throws -> Expression { try compile(v, layer: layer, property: property) }
        guard case .array(let items) = json, case .string(let op)? = items.first else {
            if case .array(let items) = json, !items.isEmpty, case .array = items[0] { throw fail("an expression must start with an operator name") }
            return .literal(json)
        }
        guard operators.contains(op) else {
            // A plain array of strings/numbers (e.g. a dash array, a font list) is a literal.
            if items.allSatisfy({ if case .number = $0 { return true }; return false }) { return .literal(json) }
            throw fail("unknown expression operator `\(op)`")
        }
        let args = Array(items.dropFirst())
        func need(_ n: Int) throws { if args.count < n { throw fail("`\(op)` needs at least \(n) argument(s), got \(args.count)") } }
        switch op {
        case "literal": try need(1); return .literal(args[0])
        case "get":
            try need(1)
            guard case .string(let key) = args[0] else { throw fail("`get` takes a property name") }
            return .get(key)
        case "has":
            try need(1)
            guard case .string(let key) = args[0] else { throw fail("`has` takes a property name") }
            return .has(key)
        case "match":
            try need(3)
            guard args.count % 2 == 0 else { throw fail("`match` needs label/output pairs and a fallback") }
            var pairs: [([StyleValue], Expression)] = []
            var i = 1
            while i < args.count - 1 {
                let labels: [StyleValue]
                if case .array(let a) = args[i] { labels = a } else { labels = [args[i]] }
                pairs.append((labels, try c(args[i + 1])))
                i += 2
            }
            return .match(try c(args[0]), pairs, try c(args[args.count - 1]))
        case "case":
            try need(1)
            guard args.count % 2 == 1 else { throw fail("`case` needs condition/output pairs and a fallback") }
            var pairs: [(Expression, Expression)] = []
            var i = 0
            while i < args.count - 1 { pairs.append((try c(args[i]), try c(args[i + 1]))); i += 2 }
            return .caseOf(pairs, try c(args[args.count - 1]))
        case "step":
            try need(2)
            guard args.count % 2 == 0 else { throw fail("`step` needs an input, a base output and stop/output pairs") }
            var stops: [(Double, Expression)] = []
            var i = 2
            while i < args.count {
                guard let s = args[i].number else { throw fail("`step` stops must be numbers") }
                if let last = stops.last, s <= last.0 { throw fail("`step` stops must increase") }
                stops.append((s, try c(args[i + 1])))
                i += 2
            }
            return .step(try c(args[0]), try c(args[1]), stops)
        case "interpolate":
            try need(4)
            guard case .array(let kind) = args[0], kind.first == .string("linear") else {
                throw fail("only [\"linear\"] interpolation is supported")
            }
            guard (args.count - 2) % 2 == 0 else { throw fail("`interpolate` needs stop/output pairs") }
            var stops: [(Double, Expression)] = []
            var i = 2
            while i < args.count {
                guard let s = args[i].number else { throw fail("`interpolate` stops must be numbers") }
                if let last = stops.last, s <= last.0 { throw fail("`interpolate` stops must increase") }
                stops.append((s, try c(args[i + 1])))
                i += 2
            }
            return .interpolate(try c(args[1]), stops)
        case "==", "!=", "<", "<=", ">", ">=":
            guard args.count == 2 else { throw fail("`\(op)` compares two values") }
            return .compare(op, try c(args[0]), try c(args[1]))
        case "all": return .all(try args.map(c))
        case "any": return .any(try args.map(c))
        case "!": try need(1); return .not(try c(args[0]))
        case "in":
            guard args.count == 2 else { throw fail("`in` takes a value and a list") }
            let haystack: Expression
            if case .array(let a) = args[1], !(a.first.map { if case .string(let s) = $0 { return operators.contains(s) }; return false } ?? false) {
                haystack = .literal(.array(a))
            } else {
                haystack = try c(args[1])
            }
            return .isIn(try c(args[0]), haystack)
        case "coalesce": return .coalesce(try args.map(c))
        case "to-string": try need(1); return .toString(try c(args[0]))
        case "to-number": try need(1); return .toNumber(try c(args[0]))
        case "concat": return .concat(try args.map(c))
        default: try need(1); return .arithmetic(op, try args.map(c))
        }
    }

    /// The same expression with every literal string that is a colour parsed once (for colour properties,
    /// so drawing does not parse "#1a9850" for every feature).
    public func resolvingColors() -> Expression {
        func lit(_ v: StyleValue) -> StyleValue {
            if case .string(let s) = v, let c = RGBA(css: s) { return .color(c) }
            return v
        }
        switch self {
        case .literal(let v): return .literal(lit(v))
        case .match(let i, let pairs, let f): return .match(i, pairs.map { ($0.0, $0.1.resolvingColors()) }, f.resolvingColors())
        case .caseOf(let pairs, let f): return .caseOf(pairs.map { ($0.0, $0.1.resolvingColors()) }, f.resolvingColors())
        case .step(let i, let b, let stops): return .step(i, b.resolvingColors(), stops.map { ($0.0, $0.1.resolvingColors()) })
        case .interpolate(let i, let stops): return .interpolate(i, stops.map { ($0.0, $0.1.resolvingColors()) })
        case .coalesce(let es): return .coalesce(es.map { $0.resolvingColors() })
        default: return self
        }
    }

    /// Evaluates against a feature's properties.
    public func evaluate(_ props: [String: AttributeValue]) -> StyleValue {
        switch self {
        case .literal(let v): return v
        case .get(let k): return props[k].map(StyleValue.from(attribute:)) ?? .null
        case .has(let k): return .bool(props[k].map { !$0.isNull } ?? false)
        case .match(let input, let pairs, let fallback):
            let v = input.evaluate(props)
            for (labels, out) in pairs where labels.contains(where: { Self.equal($0, v) }) { return out.evaluate(props) }
            return fallback.evaluate(props)
        case .caseOf(let pairs, let fallback):
            for (cond, out) in pairs where cond.evaluate(props).truthy { return out.evaluate(props) }
            return fallback.evaluate(props)
        case .step(let input, let base, let stops):
            guard let x = input.evaluate(props).number else { return base.evaluate(props) }
            var out = base
            for (s, e) in stops where x >= s { out = e }
            return out.evaluate(props)
        case .interpolate(let input, let stops):
            guard let x = input.evaluate(props).number else { return stops[0].1.evaluate(props) }
            if x <= stops[0].0 { return stops[0].1.evaluate(props) }
            if x >= stops[stops.count - 1].0 { return stops[stops.count - 1].1.evaluate(props) }
            for i in 1..<stops.count where x <= stops[i].0 {
                let (x0, e0) = stops[i - 1], (x1, e1) = stops[i]
                let t = (x - x0) / (x1 - x0)
                let a = e0.evaluate(props), b = e1.evaluate(props)
                if let na = a.number, let nb = b.number, a.color == nil { return .number(na + (nb - na) * t) }
                if let ca = a.color, let cb = b.color { return .color(RGBA.mix(ca, cb, t)) }
                return a
            }
            return stops[stops.count - 1].1.evaluate(props)
        case .compare(let op, let l, let r):
            let a = l.evaluate(props), b = r.evaluate(props)
            switch op {
            case "==": return .bool(Self.equal(a, b))
            case "!=": return .bool(!Self.equal(a, b))
            default:
                if let x = a.number, let y = b.number, !(a.string != nil && a.number == nil) {
                    switch op {
                    case "<": return .bool(x < y)
                    case "<=": return .bool(x <= y)
                    case ">": return .bool(x > y)
                    default: return .bool(x >= y)
                    }
                }
                if case .string(let x) = a, case .string(let y) = b {
                    switch op {
                    case "<": return .bool(x < y)
                    case "<=": return .bool(x <= y)
                    case ">": return .bool(x > y)
                    default: return .bool(x >= y)
                    }
                }
                return .bool(false)
            }
        case .all(let es): return .bool(es.allSatisfy { $0.evaluate(props).truthy })
        case .any(let es): return .bool(es.contains { $0.evaluate(props).truthy })
        case .not(let e): return .bool(!e.evaluate(props).truthy)
        case .isIn(let needle, let haystack):
            let n = needle.evaluate(props)
            switch haystack.evaluate(props) {
            case .array(let a): return .bool(a.contains { Self.equal($0, n) })
            case .string(let s): return .bool(n.string.map { s.contains($0) } ?? false)
            default: return .bool(false)
            }
        case .coalesce(let es):
            for e in es { let v = e.evaluate(props); if v != .null { return v } }
            return .null
        case .toString(let e): return .string(e.evaluate(props).string ?? "")
        case .toNumber(let e): return e.evaluate(props).number.map(StyleValue.number) ?? .null
        case .concat(let es): return .string(es.map { $0.evaluate(props).string ?? "" }.joined())
        case .arithmetic(let op, let es):
            let ns = es.map { $0.evaluate(props).number }
            guard ns.allSatisfy({ $0 != nil }), !ns.isEmpty else { return .null }
            let v = ns.map { $0! }
            switch op {
            case "+": return .number(v.reduce(0, +))
            case "*": return .number(v.reduce(1, *))
            case "-": return .number(v.count == 1 ? -v[0] : v[0] - v[1])
            case "/": return .number(v[0] / v[1])
            case "%": return .number(v[0].truncatingRemainder(dividingBy: v[1]))
            case "min": return .number(v.min()!)
            case "max": return .number(v.max()!)
            default: return .number(v[0].rounded())
            }
        }
    }

    static func equal(_ a: StyleValue, _ b: StyleValue) -> Bool {
        if case .number(let x) = a, case .number(let y) = b { return x == y }
        if a == b { return true }
        if case .string(let x) = a, case .string(let y) = b { return x == y }
        return false
    }
}

/// JSON as parsed for styles: booleans kept apart from numbers.
public indirect enum JSONValue: Decodable, Hashable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public subscript(_ key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var number: Double? { if case .number(let n) = self { n } else { nil } }
    public var object: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
}
