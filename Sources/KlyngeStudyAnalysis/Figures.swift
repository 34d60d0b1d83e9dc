import Foundation
import KlyngeAnalysis

/// The one formatter for the figures people read: durations in minutes, distances in km, shares in per cent and
/// head counts, in Danish (`12.345,6`) or English (`12,345.6`), without relying on the platform's locale data.
public struct Figures: Sendable {
    public var language: String
    /// Thousands grouped (the summary, the maps) or not (the command line's plain lines, which scripts read).
    public var grouping: Bool

    public init(language: String, grouping: Bool = true) {
        self.language = language == "en" ? "en" : "da"
        self.grouping = grouping
    }

    /// Plain English figures: the command line's text.
    public static let plain = Figures(language: "en", grouping: false)

    public func number(_ v: Double, decimals: Int = 0) -> String {
        let fixed = String(format: "%.\(decimals)f", abs(v))
        let parts = fixed.split(separator: ".")
        var whole = String(parts[0])
        let group = language == "en" ? "," : ".", point = language == "en" ? "." : ","
        var grouped = ""
        while grouping && whole.count > 3 {
            grouped = group + whole.suffix(3) + grouped
            whole = String(whole.dropLast(3))
        }
        let sign = v < 0 && fixed.contains(where: { $0 != "0" && $0 != "." }) ? "-" : ""
        return sign + whole + grouped + (parts.count > 1 ? point + parts[1] : "")
    }

    /// Seconds as minutes, metres as km; nil as `–`.
    public func measure(_ v: Double?, _ metric: Metric, decimals: Int = 1) -> String {
        guard let v, v.isFinite else { return "–" }
        return metric == .duration ? number(v / 60, decimals: decimals) + " min" : number(v / 1000, decimals: decimals) + " km"
    }

    /// A share (0–1) as per cent, with one decimal.
    public func percent(_ share: Double) -> String { number(share * 100, decimals: 1) + " %" }

    public func people(_ n: Double) -> String { number(n) }

    /// A value already in the unit, with it: `7,5 min`.
    public func value(_ v: Double, unit: String, decimals: Int = 1) -> String { number(v, decimals: decimals) + " " + unit }
}
