import Foundation
import KlyngeAnalysis
import KlyngeGeo
import KlyngeIngest
import KlyngeProj
import KlyngeStudy
import KlyngeSurvey
import KlyngeWork

/// A survey's answers for a map: its pins and the flows from homes to the facilities people use.
public struct SurveyMapInput: Sendable {
    public var survey: SurveyDefinition
    public var places: SurveyPlaces
    public var responses: [SurveyResponse]
    public init(survey: SurveyDefinition, places: SurveyPlaces, responses: [SurveyResponse]) {
        self.survey = survey
        self.places = places
        self.responses = responses
    }
}

/// The data layers a style draws, built from the study and, when the style asks for them, the analysis.
public enum MapData {
    /// Which layers need the analysis (network and coverage) to be built.
    public static let analysisLayers: Set<String> = ["coverage", "isochrones", "scenario", "scenario_facilities", "clusters", "hubs", "access", "access_facilities"]
    /// Which layers draw a survey's answers.
    public static let surveyLayers: Set<String> = ["survey_pins", "survey_flows"]

    public static func layers(study: Study, needed: Set<String>, analysis: StudyAnalysis?, category: String,
                              scenario: ResolvedScenario?, language: String? = nil, clustering: SavedClustering? = nil,
                              survey: SurveyMapInput? = nil,
                              control: WorkControl = .unlimited, threads: Int = coreCount) throws -> [String: [Feature]] {
        let lang = language ?? study.language
        /// "7,5 min" / "3.2 km" in the map's language.
        func valueText(_ v: Double, _ unit: String) -> String { Figures(language: lang, grouping: false).value(v, unit: unit) }
        var out: [String: [Feature]] = [:]
        let labels = Dictionary(uniqueKeysWithValues: study.categories.map { ($0.key, $0.label(language: study.language)) })
        let areaPopulation = study.areaPopulations()
        if needed.contains("locator") {
            out["locator"] = study.locator.map { Feature(geometry: $0, attributes: [:]) }
        }
        if needed.contains("land") {
            out["land"] = study.land.map { Feature(geometry: $0, attributes: [:]) }
        }
        if needed.contains("areas") {
            out["areas"] = study.areas.map { a in
                Feature(geometry: a.geometry, attributes: [
                    "id": .string(a.id), "name": label(a.name, a.id),
                    "population": .double(areaPopulation[a.id] ?? 0),
                    "cluster": (a.cluster ?? study.clusters.assignments?[a.id]).map(AttributeValue.string) ?? .null,
                ])
            }
        }
        if needed.contains("demand") {
            out["demand"] = study.demand.map { d in
                Feature(geometry: .point(d.location), attributes: [
                    "id": .string(d.id), "name": label(d.name, d.id), "population": .double(d.weight),
                    "area_id": d.areaId.map(AttributeValue.string) ?? .null,
                ])
            }
        }
        if needed.contains("facilities") {
            out["facilities"] = study.facilities.map { f in
                Feature(geometry: .point(f.location), attributes: [
                    "id": .string(f.id), "name": label(f.name, f.id),
                    "category": .string(f.categories.first ?? ""), "categories": .string(f.categories.joined(separator: ";")),
                    "label": .string(f.categories.map { labels[$0] ?? $0 }.joined(separator: ", ")),
                    "multi": .bool(f.categories.count > 1),
                    "selected": .bool(f.categories.contains(category)),
                ])
            }
        }
        if needed.contains("sketches") {
            // `shape` (point, line, area) lets a style draw each kind of sketch with the layer type it needs.
            out["sketches"] = study.plan.sketches.flatMap { layer in
                layer.items.map { item in
                    let shape = !item.geometry.polygons.isEmpty ? "area" : item.geometry.typeName.contains("Line") ? "line" : "point"
                    return Feature(geometry: item.geometry, attributes: [
                        "layer": .string(layer.id), "layer_label": .string(layer.label(language: lang)), "shape": .string(shape),
                        "name": item.name.map(AttributeValue.string) ?? .null, "kind": item.kind.map(AttributeValue.string) ?? .null,
                    ])
                }
            }
        }
        if needed.contains("roads") {
            out["roads"] = study.roads.map { r in
                Feature(geometry: r.parts.count == 1 ? .lineString(r.parts[0]) : .multiLineString(r.parts), attributes: [
                    "id": .string(r.id), "class": r.roadClass.map(AttributeValue.string) ?? .null,
                    "name": r.name.map(AttributeValue.string) ?? .null,
                ])
            }
        }
        if !needed.isDisjoint(with: surveyLayers) {
            guard let survey else { throw AnalysisSetupError("this style draws a survey's answers; name the survey (--survey)") }
            let layers = try surveyLayers(survey, study: study, category: category, language: lang)
            for (k, v) in layers where needed.contains(k) { out[k] = v }
        }
        guard let analysis, !needed.isDisjoint(with: analysisLayers) else { return out }
        let engine = analysis.engine
        guard let rule = engine.rules[category] else { throw AnalysisSetupError("unknown category `\(category)`") }
        let scale = rule.metric == .duration ? 60.0 : 1000.0
        let unit = rule.metric == .duration ? "min" : "km"
        if needed.contains("coverage") {
            let cov = engine.evaluate(scenario?.plan ?? engine.baselinePlan, categories: [category])[category]!
            out["coverage"] = study.demand.indices.map { d in
                let s = Int(cov.site[d])
                return Feature(geometry: .point(study.demand[d].location), attributes: [
                    "id": .string(study.demand[d].id), "name": label(study.demand[d].name, study.demand[d].id), "population": .double(study.demand[d].weight),
                    "value": cov.value[d].isFinite ? .double((cov.value[d] / scale * 10).rounded() / 10) : .null,
                    "value_text": cov.value[d].isFinite ? .string(valueText(cov.value[d] / scale, unit)) : .string("–"),
                    "ratio": cov.value[d].isFinite ? .double(cov.value[d] / rule.threshold) : .null,
                    "threshold": .double(rule.threshold / scale),
                    "threshold_text": .string(valueText(rule.threshold / scale, unit)),
                    "covered": .bool(cov.isCovered(d)),
                    "facility": s >= 0 ? .string(engine.sites[s].name) : .null,
                ])
            }
        }
        if needed.contains("access_facilities") {
            // The facilities open for the category in the plan drawn (a scenario's closures and new sites included).
            let plan = scenario?.plan ?? engine.baselinePlan
            out["access_facilities"] = engine.sites.indices.filter { plan.serves($0, category) }.map { s in
                Feature(geometry: .point(engine.sites[s].location), attributes: [
                    "id": .string(engine.sites[s].id), "name": label(engine.sites[s].name, engine.sites[s].id),
                    "capacity": engine.sites[s].capacity.map(AttributeValue.double) ?? .null,
                ])
            }
        }
        // Each village's 2SFCA ratio against today's population-weighted mean: the map reads "half of what the
        // island has today", not a number of seats per 1,000 a reader has no feeling for, and a scenario's map
        // shows the loss. Both in one unit, as a comparison counts them.
        if needed.contains("access"), let (today, access) = engine.access(engine.baselinePlan, scenario?.plan ?? engine.baselinePlan, category: category) {
            let mean = today.meanRatioPer1000 ?? 0
            out["access"] = study.demand.indices.map { d in
                let ratio = access.ratioPer1000[d]
                return Feature(geometry: .point(study.demand[d].location), attributes: [
                    "id": .string(study.demand[d].id), "name": label(study.demand[d].name, study.demand[d].id),
                    "population": .double(study.demand[d].weight),
                    "within": .int(Int64(access.opportunities[d])),
                    "access_per_1000": ratio.map { .double(($0 * 1e4).rounded() / 1e4) } ?? .null,
                    "relative": ratio.flatMap { mean > 0 ? .double($0 / mean) : nil } ?? .null,
                    "value_text": ratio.map { .string(Figures(language: lang, grouping: false).number($0, decimals: 2)) } ?? .string("–"),
                    "unit": .string(access.unit.rawValue),
                ])
            }
        }
        if needed.contains("isochrones") {
            let t = rule.threshold
            let budgets = [t / 2, t, t * 1.5]
            var request = Isochrones.Request(mode: rule.mode, budgets: budgets, category: category, union: true, bufferMeters: 150)
            // A km rule: bands in metres along the mode's routes, as its coverage is measured.
            request.budgetsInMeters = rule.metric == .distance
            request.control = control
            request.threads = threads
            let result = try Isochrones.build(study: study, network: analysis.network, request: request)
            out["isochrones"] = result.table.features.map { f in
                var g = f
                let v = rule.metric == .duration ? (f["minutes"].number ?? 0) : (f["meters"].number ?? 0) / 1000
                g.attributes["value"] = .double((v * 10).rounded() / 10)
                g.attributes["value_text"] = .string(valueText(v, unit))
                g.attributes["band"] = .double((v / (t / scale) * 100).rounded() / 100)
                return g
            }
        }
        if let scenario, needed.contains("scenario") || needed.contains("scenario_facilities") {
            let before = engine.evaluate(engine.baselinePlan, categories: [category])[category]!
            let after = engine.evaluate(scenario.plan, categories: [category])[category]!
            out["scenario"] = study.demand.indices.map { d in
                let status = before.isCovered(d) == after.isCovered(d) ? (after.isCovered(d) ? "covered" : "not covered")
                    : (before.isCovered(d) ? "loses" : "gains")
                func v(_ x: Double) -> AttributeValue { x.isFinite ? .double((x / scale * 10).rounded() / 10) : .null }
                return Feature(geometry: .point(study.demand[d].location), attributes: [
                    "id": .string(study.demand[d].id), "name": label(study.demand[d].name, study.demand[d].id), "population": .double(study.demand[d].weight),
                    "status": .string(status), "before": v(before.value[d]), "after": v(after.value[d]),
                    "delta": before.value[d].isFinite && after.value[d].isFinite ? v(after.value[d] - before.value[d]) : .null,
                    "delta_text": before.value[d].isFinite && after.value[d].isFinite && abs(after.value[d] - before.value[d]) >= scale * 0.05
                        ? .string((after.value[d] >= before.value[d] ? "+" : "−") + valueText(abs(after.value[d] - before.value[d]) / scale, unit))
                        : .null,
                    "threshold_text": .string(valueText(rule.threshold / scale, unit)),
                ])
            }
            let base = engine.baselinePlan, plan = scenario.plan
            // Status for the category drawn: a facility that stops serving it is closed only when it closes;
            // one that stays open for other uses is recategorised.
            out["scenario_facilities"] = engine.sites.indices.compactMap { s in
                guard base.open[s] || plan.open[s] else { return nil }
                let before = base.serves(s, category), after = plan.serves(s, category)
                let status: String
                switch (before, after) {
                case (true, false): status = plan.open[s] ? "recategorised" : "closed"
                case (false, true): status = "new"
                case (true, true): status = base.categories[s] != plan.categories[s] ? "changed" : "kept"
                default: status = !plan.open[s] ? "closed" : "other"
                }
                return Feature(geometry: .point(engine.sites[s].location), attributes: [
                    "id": .string(engine.sites[s].id), "name": label(engine.sites[s].name, engine.sites[s].id), "status": .string(status),
                    "category": .string(category), "serves_category": .bool(before || after),
                ])
            }
        }
        if needed.contains("clusters") || needed.contains("hubs") {
            // A saved clustering in place of the study's own (the analysis is the same for every clustering).
            let report = try ClusterReport(analysis: analysis, clustering: clustering)
            out["clusters"] = report.table(crs: study.crs, categories: engine.categories).features.enumerated().map { i, f in
                var g = f
                g.attributes["color_index"] = .int(Int64(i % 8))
                return g
            }
            var hubs: [Feature] = []
            for c in report.clusters {
                for v in c.villages {
                    guard let d = study.demand.first(where: { $0.id == v.id }) else { continue }
                    hubs.append(Feature(geometry: .point(d.location), attributes: [
                        "id": .string(v.id), "name": label(v.name, v.id), "cluster": .string(c.name), "population": .double(v.population),
                        "hub": .bool(v.name == c.hub), "minutes_to_hub": v.minutesToHub.map(AttributeValue.double) ?? .null,
                        "minutes_text": v.minutesToHub.map { .string(valueText($0, "min")) } ?? .null,
                    ]))
                }
            }
            out["hubs"] = hubs
        }
        return out
    }
}

/// A feature's name for labels: null when it has none (the loader gives unnamed features their id as name),
/// so maps never print an id as if it were a place name.
extension MapData {
    /// Approved pins, and flows from home villages to the facilities of `category` respondents use, weighted
    /// by respondents; a flow with fewer than the survey's minimum group size has its count withheld.
    static func surveyLayers(_ input: SurveyMapInput, study: Study, category: String, language: String) throws -> [String: [Feature]] {
        let toStudy = try Transformer(from: .wgs84, to: study.crs)
        let lang: SurveyLanguage = language == "en" ? .en : .da
        var pins: [Feature] = []
        for r in input.responses {
            for q in input.survey.questions {
                guard case .pins(let ps)? = r.answers[q.id] else { continue }
                for p in ps where p.status == .approved {
                    pins.append(Feature(geometry: .point(try toStudy.transform(Coordinate(x: p.lon, y: p.lat))), attributes: [
                        "kind": .string(p.kind.rawValue), "kind_label": .string(p.kind.label(lang)), "question": .string(q.id),
                    ]))
                }
            }
        }
        var flows: [Feature] = []
        let minimum = input.survey.minimumGroupSize
        let facilities = Dictionary(study.facilities.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        if let q = input.survey.questions.first(where: { $0.kind == .facilityUsed(category: category) }) {
            var counts: [String: [String: Int]] = [:]
            for r in input.responses {
                guard case .facilityUse(let u)? = r.answers[q.id], let f = u.facility, let home = r.homeVillage else { continue }
                counts[home, default: [:]][f, default: 0] += 1
            }
            for home in counts.keys.sorted() {
                guard let v = input.places.village(home) else { continue }
                let from = try toStudy.transform(Coordinate(x: v.lon, y: v.lat))
                for (f, n) in counts[home]!.sorted(by: { $0.key < $1.key }) {
                    guard let facility = facilities[f] else { continue }
                    let withheld = n < minimum
                    flows.append(Feature(geometry: .lineString([from, facility.location]), attributes: [
                        "village": .string(v.name), "facility": .string(facility.name.isEmpty ? facility.id : facility.name),
                        "respondents": withheld ? .null : .int(Int64(n)), "suppressed": .bool(withheld),
                    ]))
                }
            }
        }
        return ["survey_pins": pins, "survey_flows": flows]
    }
}

private func label(_ name: String, _ id: String) -> AttributeValue {
    let n = name.trimmingCharacters(in: .whitespacesAndNewlines)
    return n.isEmpty || n == id ? .null : .string(n)
}
