import Foundation
import KlyngeAnalysis
import KlyngeGeo
import KlyngeIngest
import KlyngeStudyAnalysis
import KlyngeRender
import KlyngeStudy
import KlyngeWork

/// Everything between a style and a map request: the data layers the style needs, the category and
/// scenario, the page and the texts. The CLI and the server both use it.
public enum MapMaker {
    /// `network`: one built already (so the analysis, when the style needs one, does not build it again).
    public static func request(study: Study, analysis: StudyAnalysis?, network: StudyNetwork? = nil, style: Style, category: String?, scenario: String?,
                               page: Page, kind: OutputKind, language: String?, title: String? = nil,
                               extent: Envelope? = nil, clustering: SavedClustering? = nil, survey: SurveyMapInput? = nil, control: WorkControl = .unlimited,
                               threads: Int = coreCount) throws -> MapRequest {
        let needed = Set(style.layers.compactMap(\.data) + style.layers.compactMap(\.ifData))
        let cat = category ?? study.categories.first?.key ?? ""
        guard study.categories.contains(where: { $0.key == cat }) else {
            throw AnalysisSetupError("unknown category `\(cat)` (the study has: \(study.categories.map(\.key).joined(separator: ", ")))")
        }
        let needsAnalysis = !needed.isDisjoint(with: MapData.analysisLayers)
        let analysis = needsAnalysis ? (try analysis ?? StudyAnalysis(study: study, network: network ?? StudyNetwork(study: study))) : analysis
        var chosen: ResolvedScenario?
        if let analysis, needed.contains("scenario") || needed.contains("scenario_facilities") {
            if let scenario { chosen = try analysis.scenario(named: scenario) } else {
                guard let first = analysis.scenarios.first else { throw AnalysisSetupError("the study has no scenarios to draw") }
                chosen = first
            }
        } else if let scenario, let analysis {
            chosen = try analysis.scenario(named: scenario)
        }
        let lang = language ?? study.language
        // The study's areas carry the clustering too (their `cluster` field), as the clusters layer does.
        let data = try MapData.layers(study: clustering.map(study.using) ?? study, needed: needed, analysis: analysis, category: cat,
                                      scenario: chosen, language: lang, clustering: clustering, survey: survey, control: control, threads: threads)
        guard let frame = extent ?? Envelope(covering: study.areas.flatMap { $0.geometry.allCoordinates })
                ?? Envelope(covering: study.demand.map(\.location) + study.facilities.map(\.location)) else {
            throw AnalysisSetupError("the study has nothing to draw")
        }
        let label = study.categories.first { $0.key == cat }?.label(language: lang) ?? cat
        let date = ISO8601DateFormatter.string(from: Date(), timeZone: .current, formatOptions: [.withFullDate])
        let needsCategory = !needed.isDisjoint(with: ["coverage", "isochrones", "scenario", "scenario_facilities", "survey_flows"])
        let subtitle = [style.title?.text(lang), chosen.map { (lang == "en" ? "Scenario: " : "Scenarie: ") + $0.name },
                        needsCategory ? label : nil, date].compactMap { $0 }.joined(separator: " · ")
        var request = MapRequest(style: style, data: data, extent: frame, page: page, kind: kind, language: lang, title: title ?? study.name,
                                 subtitle: subtitle, attribution: study.attribution)
        request.control = control
        request.threads = threads
        return request
    }

    /// Small multiples of clusterings: one panel per alternative, in the same frame and style, each titled
    /// with its name (nil clustering: the study's own clusters).
    public static func clusteringPanels(study: Study, analysis: StudyAnalysis, style: Style,
                                        alternatives: [(name: String, clustering: SavedClustering?)], page: Page, kind: OutputKind,
                                        language: String?) throws -> (layout: MapRenderer.PanelLayout, panels: [MapRequest]) {
        let frame = Envelope(covering: study.areas.flatMap { $0.geometry.allCoordinates })
        let aspect = frame.map { ($0.maxX - $0.minX) / max(1e-9, $0.maxY - $0.minY) } ?? 1
        let layout = MapRenderer.PanelLayout(page: page, count: alternatives.count, contentAspect: aspect)
        let panels = try alternatives.map { alternative in
            try request(study: study, analysis: analysis, style: style, category: nil, scenario: nil, page: layout.panel, kind: kind,
                        language: language, title: alternative.name, clustering: alternative.clustering)
        }
        return (layout, panels)
    }
}
