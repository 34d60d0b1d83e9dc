import Foundation

/// A colour with alpha, components 0…1.
public struct RGBA: Hashable, Sendable {
    public var r: Double
    public var g: Double
    public var b: Double
    public var a: Double

    public init(_ r: Double, _ g: Double, _ b: Double, _ a: Double = 1) {
        self.r = r
        self.g = g
        self.b = b
        self.a = a
    }

    public static let black = RGBA(0, 0, 0)
    public static let white = RGBA(1, 1, 1)
    public static let transparent = RGBA(0, 0, 0, 0)

    static let named: [String: RGBA] = [
        "black": .black, "white": .white, "transparent": .transparent, "red": RGBA(1, 0, 0), "green": RGBA(0, 0.5, 0),
        "blue": RGBA(0, 0, 1), "gray": RGBA(0.5, 0.5, 0.5), "grey": RGBA(0.5, 0.5, 0.5), "orange": RGBA(1, 0.647, 0),
        "yellow": RGBA(1, 1, 0), "purple": RGBA(0.5, 0, 0.5), "navy": RGBA(0, 0, 0.5), "teal": RGBA(0, 0.5, 0.5),
    ]

    /// CSS forms: `#rgb`, `#rrggbb`, `#rrggbbaa`, `rgb(…)`, `rgba(…)`, `hsl(…)`, `hsla(…)`, a few names.
    public init?(css: String) {
        let s = css.trimmingCharacters(in: .whitespaces).lowercased()
        if let n = RGBA.named[s] { self = n; return }
        if s.hasPrefix("#") {
            let hex = Array(s.dropFirst())
            func h(_ i: Int, _ len: Int) -> Double? {
                let part = String(hex[i..<(i + len)])
                guard let v = Int(len == 1 ? part + part : part, radix: 16) else { return nil }
                return Double(v) / 255
            }
            switch hex.count {
            case 3: guard let r = h(0, 1), let g = h(1, 1), let b = h(2, 1) else { return nil }; self.init(r, g, b)
            case 6: guard let r = h(0, 2), let g = h(2, 2), let b = h(4, 2) else { return nil }; self.init(r, g, b)
            case 8: guard let r = h(0, 2), let g = h(2, 2), let b = h(4, 2), let a = h(6, 2) else { return nil }; self.init(r, g, b, a)
            default: return nil
            }
            return
        }
        guard let open = s.firstIndex(of: "("), s.hasSuffix(")") else { return nil }
        let fn = String(s[..<open])
        let args = s[s.index(after: open)..<s.index(before: s.endIndex)].split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }
        func num(_ t: String) -> Double? { Double(t.replacingOccurrences(of: "%", with: "")) }
        switch fn {
        case "rgb", "rgba":
            guard args.count >= 3, let r = num(args[0]), let g = num(args[1]), let b = num(args[2]) else { return nil }
            self.init(r / 255, g / 255, b / 255, args.count > 3 ? (num(args[3]) ?? 1) : 1)
        case "hsl", "hsla":
            guard args.count >= 3, let hue = num(args[0]), let sat = num(args[1]), let light = num(args[2]) else { return nil }
            let (r, g, b) = RGBA.hsl(hue / 360, sat / 100, light / 100)
            self.init(r, g, b, args.count > 3 ? (num(args[3]) ?? 1) : 1)
        default: return nil
        }
    }

    static func hsl(_ h: Double, _ s: Double, _ l: Double) -> (Double, Double, Double) {
        guard s > 0 else { return (l, l, l) }
        let q = l < 0.5 ? l * (1 + s) : l + s - l * s, p = 2 * l - q
        func hue(_ t0: Double) -> Double {
            var t = t0
            if t < 0 { t += 1 }
            if t > 1 { t -= 1 }
            if t < 1 / 6 { return p + (q - p) * 6 * t }
            if t < 1 / 2 { return q }
            if t < 2 / 3 { return p + (q - p) * (2 / 3 - t) * 6 }
            return p
        }
        return (hue(h + 1 / 3), hue(h), hue(h - 1 / 3))
    }

    public var hex: String {
        func c(_ v: Double) -> String { String(format: "%02x", Int((min(max(v, 0), 1) * 255).rounded())) }
        return "#" + c(r) + c(g) + c(b)
    }

    public func withAlpha(_ factor: Double) -> RGBA { RGBA(r, g, b, a * factor) }

    static func mix(_ x: RGBA, _ y: RGBA, _ t: Double) -> RGBA {
        RGBA(x.r + (y.r - x.r) * t, x.g + (y.g - x.g) * t, x.b + (y.b - x.b) * t, x.a + (y.a - x.a) * t)
    }
}
