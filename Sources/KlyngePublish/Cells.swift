import Foundation
import KlyngeAnalysis
import KlyngeGeo
import KlyngeRender
import KlyngeStudyAnalysis

/// One step of a path into a JSON output: an object key, or the one list element whose fields have these values.
enum PathStep: Sendable {
    case key(String)
    case match([(String, String)])

    static func pick(_ field: String, _ value: String) -> PathStep { .match([(field, value)]) }
}

/// Figures as report cells: the text people read, and where the number comes from, so the site and the PDF
/// can be held to the JSON outputs of `coverage`, `compare`, `profile`, `clusters`, `impact`, `regions` and `survey`.
struct Cells: Sendable {
    let figures: Figures

    init(language: String) { figures = Figures(language: language) }

    static func path(_ steps: [PathStep]) -> String {
        "[" + steps.map { step -> String in
            switch step {
            case .key(let k): return JSONText.string(k)
            case .match(let pairs): return "{" + pairs.map { JSONText.string($0.0) + ":" + JSONText.string($0.1) }.joined(separator: ",") + "}"
            }
        }.joined(separator: ",") + "]"
    }

    /// A figure: `value × scale` with `decimals`, then the unit; `–` for none.
    func figure(_ value: Double?, _ source: String, _ path: [PathStep], scale: Double = 1, decimals: Int = 0, unit: String = "",
                bold: Bool = false) -> ReportCell {
        let shown = value.map { $0.isFinite ? figures.number($0 * scale, decimals: decimals) + unit : "–" } ?? "–"
        let finite = value.flatMap { $0.isFinite ? $0 : nil }
        return ReportCell(shown, source: FigureSource(source: source, path: Self.path(path), value: finite, scale: scale, decimals: decimals), bold: bold)
    }

    func people(_ v: Double?, _ source: String, _ path: [PathStep], bold: Bool = false) -> ReportCell {
        figure(v, source, path, bold: bold)
    }

    func share(_ v: Double?, _ source: String, _ path: [PathStep], bold: Bool = false) -> ReportCell {
        figure(v, source, path, scale: 100, decimals: 1, unit: " %", bold: bold)
    }

    /// Seconds as minutes, metres as km, by the metric.
    func measure(_ v: Double?, _ metric: Metric, _ source: String, _ path: [PathStep]) -> ReportCell {
        metric == .duration ? figure(v, source, path, scale: 1.0 / 60, decimals: 1, unit: " min")
            : figure(v, source, path, scale: 0.001, decimals: 1, unit: " km")
    }

    func text(_ s: String, bold: Bool = false) -> ReportCell { ReportCell(s, bold: bold) }
}
