import Foundation
import KlyngeAnalysis
import KlyngeGeo
import KlyngeJobs
import KlyngeRender
import KlyngeStudy
import KlyngeStudyAnalysis
import KlyngeSurvey
import KlyngeWork

/// What a published plan is made from: the study's analysis and the optional parts (a survey's results, the
/// clusterings considered). Chapters whose part is missing are left out.
public struct PlanInputs: Sendable {
    public var analysis: StudyAnalysis
    /// The scenarios to show, in order (the chosen one is marked).
    public var scenarios: [ResolvedScenario]
    public var chosenScenario: String?
    /// The clusterings considered (the study's own and saved proposals), when there are two or more.
    public var alternatives: ClusteringComparison?
    public var survey: (id: String, results: SurveyResults)?
    public var language: String
    /// Looks up a named map style (overview, coverage, scenario, clusters, masterplan).
    public var style: @Sendable (String) throws -> Style
    public var date: Date

    public init(analysis: StudyAnalysis, scenarios: [ResolvedScenario], chosenScenario: String?, alternatives: ClusteringComparison?,
                survey: (id: String, results: SurveyResults)?, language: String, style: @escaping @Sendable (String) throws -> Style, date: Date = Date()) {
        self.analysis = analysis
        self.scenarios = scenarios
        self.chosenScenario = chosenScenario
        self.alternatives = alternatives
        self.survey = survey
        self.language = language == "en" ? "en" : "da"
        self.style = style
        self.date = date
    }
}

/// Builds the published plan (`klynge publish`) as one `ReportDocument`: every figure from the same reports the
/// commands print as JSON (coverage, compare, impact, profile, clusters, regions compare, survey results).
public struct PlanReport: Sendable {
    let input: PlanInputs
    let study: Study
    let engine: CoverageEngine
    let cells: Cells
    let baseline: CoverageReport
    let profile: Profile
    var figureCount = 0

    public static func document(_ input: PlanInputs) throws -> ReportDocument {
        var r = PlanReport(input: input)
        return try r.build()
    }

    init(input: PlanInputs) {
        self.input = input
        study = input.analysis.study
        engine = input.analysis.engine
        cells = Cells(language: input.language)
        baseline = CoverageReport(analysis: input.analysis, plan: input.analysis.engine.baselinePlan, scenario: nil)
        profile = Profile(study: input.analysis.study, language: input.language)
    }

    var lang: String { input.language }
    func t(_ da: String, _ en: String) -> String { lang == "en" ? en : da }
    func label(_ category: String) -> String { study.categories.first { $0.key == category }?.label(language: lang) ?? category }
    var f: Figures { cells.figures }

    mutating func build() throws -> ReportDocument {
        var chapters: [ReportChapter] = [try clusterChapter(), try serviceChapter()]
        if !input.scenarios.isEmpty { chapters.append(try scenarioChapter()) }
        if hasClusters { chapters.append(try geographyChapter()) }
        if let survey = input.survey { chapters.append(surveyChapter(survey.id, survey.results)) }
        if !study.plan.focusAreas.isEmpty || !study.plan.sketches.isEmpty { chapters.append(try masterplanChapter()) }
        let total = profile.rows.first { $0.level == .study }
        var key: [(String, ReportCell)] = []
        if let total { key.append((t("indbyggere", "inhabitants"), cells.people(total.population, "profile", studyRow + [.key("population")]))) }
        key.append((t("byer", "villages"), ReportCell(f.number(Double(study.demand.count)))))
        key.append((t("områder (sogne)", "areas (parishes)"), ReportCell(f.number(Double(study.areas.count)))))
        if !input.scenarios.isEmpty { key.append((t("scenarier vurderet", "scenarios assessed"), ReportCell(f.number(Double(input.scenarios.count))))) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: lang == "en" ? "en_GB" : "da_DK")
        formatter.dateFormat = lang == "en" ? "d MMMM yyyy" : "d. MMMM yyyy"
        return ReportDocument(title: study.name, subtitle: study.description ?? t("Kortlægning, analyse og masterplan", "Mapping, analysis and masterplan"),
                              language: lang, dateText: formatter.string(from: input.date), attribution: study.attribution,
                              keyFigures: key, chapters: chapters)
    }

    var studyRow: [PathStep] { [.key("rows"), .match([("level", "study"), ("id", "study")])] }
    var hasClusters: Bool { study.areas.contains { $0.cluster != nil } || !(study.clusters.assignments ?? [:]).isEmpty }

    // MARK: maps

    /// The figure size: the text block's width, as tall as the study's shape needs (within a page).
    var figurePage: Page {
        let w = DocumentPDF.contentWidthPt
        let e = Envelope(covering: study.areas.flatMap { $0.geometry.allCoordinates }) ?? Envelope(covering: study.demand.map(\.location))
        let aspect = e.map { ($0.maxY - $0.minY) / max(1, $0.maxX - $0.minX) } ?? 1
        return Page(widthPt: w, heightPt: min(DocumentPDF.maxFigureHeightPt * 0.82, max(300, w * aspect * 0.9 + 80)), dpi: 150)
    }

    func request(_ style: String, category: String?, scenario: String?, title: String, threads: Int = coreCount) throws -> MapRequest {
        try MapMaker.request(study: study, analysis: input.analysis, network: input.analysis.network, style: try input.style(style),
                             category: category, scenario: scenario, page: figurePage, kind: .pdf, language: lang, title: title, threads: threads)
    }

    /// Several maps' requests at once, one per core: each coverage map's service areas are built on one thread,
    /// which keeps both cores busy better than one map's three bands over two.
    func requests(_ specs: [(style: String, category: String?, title: String)]) throws -> [MapRequest] {
        let results = ParallelResults<MapRequest>(count: specs.count)
        let me = self
        forEachInParallel(specs.count, threads: coreCount) { i in
            results.set(i, Result { try me.request(specs[i].style, category: specs[i].category, scenario: nil, title: specs[i].title, threads: 1) })
        }
        return try results.all(missing: "a map was not prepared")
    }

    mutating func map(_ style: String, category: String? = nil, scenario: String? = nil, title: String, caption: String, alt: String,
                      table: ReportTable?, prepared: MapRequest? = nil) throws -> ReportBlock {
        figureCount += 1
        let request = try prepared ?? self.request(style, category: category, scenario: scenario, title: title)
        return .figure(ReportFigure(id: "figur-\(figureCount)", caption: caption, alt: alt, map: request, table: table))
    }

    // MARK: 1 the cluster and its villages

    mutating func clusterChapter() throws -> ReportChapter {
        var blocks: [ReportBlock] = []
        let total = profile.rows.first { $0.level == .study }?.population ?? 0
        blocks.append(.paragraph([ReportCell(t("Området har ", "The area has ")), cells.people(total, "profile", studyRow + [.key("population")]),
                                  ReportCell(t(" indbyggere i \(study.demand.count) byer og \(study.areas.count) områder.",
                                               " inhabitants in \(study.demand.count) villages and \(study.areas.count) areas."))]))
        if let d = study.description { blocks.append(.paragraph([ReportCell(d)])) }
        // The overview map; behind it, the villages and their people.
        let villages = baseline.points.sorted { $0.population > $1.population }
        let areaName = Dictionary(study.areas.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let villageTable = ReportTable(id: "byer", caption: t("Byerne efter indbyggertal", "The villages by population"),
                                       columns: [.init(t("By", "Village")), .init(t("Område", "Area")), .init(t("Indbyggere", "Inhabitants"), numeric: true)],
                                       rows: villages.map { p in
                                           [cells.text(p.name.isEmpty ? p.demandId : p.name), cells.text(p.areaId.flatMap { areaName[$0] } ?? "–"),
                                            cells.people(p.population, "coverage", [.key("points"), .pick("demandId", p.demandId), .key("population")])]
                                       })
        let biggest = villages.prefix(3).map { "\($0.name) (\(f.number($0.population)))" }.joined(separator: ", ")
        blocks.append(try map("overview", title: study.name, caption: t("Oversigt: områder, byer og mødesteder", "Overview: areas, villages and meeting places"),
                              alt: t("Kort over \(study.name) med \(study.areas.count) områder, \(study.demand.count) byer og mødestederne. De største byer er \(biggest). Tabellen under kortet har alle byerne.",
                                     "Map of \(study.name) with \(study.areas.count) areas, \(study.demand.count) villages and the meeting places. The largest villages are \(biggest). The table below the map lists every village."),
                              table: villageTable))
        // The data picture: the whole, each cluster and each area, one table per fact layer.
        blocks.append(.heading(t("Datagrundlag: hele området, klyngerne og områderne", "The data picture: the whole area, the clusters and the areas"), level: 2))
        let rows = profile.rows.filter { $0.level != .village }
        func place(_ r: Profile.Row) -> String {
            switch r.level {
            case .study: t("Hele \(r.name)", "All of \(r.name)")
            case .cluster: t("Klynge \(r.name)", "Cluster \(r.name)")
            default: r.name
            }
        }
        func rowPath(_ r: Profile.Row) -> [PathStep] { [.key("rows"), .match([("level", r.level.rawValue), ("id", r.id)])] }
        let layers = Array(Set(profile.columns.map(\.layer)))
        let layerOrder = study.facts.map(\.id).filter { layers.contains($0) }
        if layerOrder.isEmpty {
            blocks.append(.paragraph([ReportCell(t("Studiet har ingen faktalag (foreningsliv, erhverv, boliger …); tabellen viser indbyggerne.",
                                                   "The study has no fact layers (associations, businesses, dwellings …); the table shows the inhabitants."))]))
        }
        for layer in layerOrder.isEmpty ? [""] : layerOrder {
            let columns = profile.columns.filter { $0.layer == layer }
            let title = columns.first?.layerLabel ?? t("Indbyggere", "Inhabitants")
            let decimals: [String: Int] = Dictionary(uniqueKeysWithValues: columns.map { c in
                let m = study.facts.first { $0.id == c.layer }?.measures.first { $0.id == c.measure }
                let d = switch m?.aggregate { case .mean?, .per1000?: 1; default: 0 }
                return (c.key, d)
            })
            let shares = Set(columns.filter { c in
                if case .share? = study.facts.first(where: { $0.id == c.layer })?.measures.first(where: { $0.id == c.measure })?.aggregate { return true }
                return false
            }.map(\.key))
            func value(_ r: Profile.Row, _ c: Profile.Column) -> ReportCell {
                let v = r.values[c.key] ?? nil
                let p = rowPath(r) + [.key("values"), .key(c.key)]
                return shares.contains(c.key) ? cells.share(v, "profile", p) : cells.figure(v, "profile", p, decimals: decimals[c.key] ?? 0)
            }
            blocks.append(.table(ReportTable(id: "profil-\(layer.isEmpty ? "indbyggere" : layer)", caption: title,
                                             columns: [.init(t("Sted", "Place")), .init(t("Indbyggere", "Inhabitants"), numeric: true)]
                                                + columns.map { .init($0.label, numeric: true) },
                                             rows: rows.map { r in [cells.text(place(r)), cells.people(r.population, "profile", rowPath(r) + [.key("population")])] + columns.map { value(r, $0) } },
                                             emphasised: [0])))
            // The comparison with the whole: the highest and lowest area of each rate against it.
            guard let whole = rows.first(where: { $0.level == .study }) else { continue }
            for c in columns where decimals[c.key] == 1 || shares.contains(c.key) {
                let areas = rows.filter { $0.level == .area }.compactMap { r in (r.values[c.key] ?? nil).map { (r, $0) } }
                guard let hi = areas.max(by: { $0.1 < $1.1 }), let lo = areas.min(by: { $0.1 < $1.1 }), areas.count > 1 else { continue }
                func v(_ r: Profile.Row) -> ReportCell { value(r, c) }
                blocks.append(.paragraph([ReportCell("\(c.label): " + t("højest i ", "highest in ")), ReportCell(hi.0.name), ReportCell(" ("), v(hi.0),
                                          ReportCell("), " + t("lavest i ", "lowest in ")), ReportCell(lo.0.name), ReportCell(" ("), v(lo.0),
                                          ReportCell(t(") mod ", ") against ")), v(whole), ReportCell(t(" for hele \(whole.name).", " for all of \(whole.name)."))]))
            }
        }
        return ReportChapter(id: "klyngen", title: t("Klyngen og dens byer", "The cluster and its villages"), blocks: blocks)
    }

    // MARK: 2 meeting places and services today

    func rule(_ s: CoverageSummary) -> String { SummaryWriter(language: lang).rule(s) }

    /// The categories drawn as maps: those the study gives a rule of its own, else the first with facilities.
    var mappedCategories: [String] {
        let open = Set(baseline.categories.filter { $0.openFacilities > 0 }.map(\.category))
        let own = study.categories.map(\.key).filter { study.coverage[$0] != nil && open.contains($0) }
        return Array((own.isEmpty ? study.categories.map(\.key).filter { open.contains($0) } : own).prefix(6))
    }

    mutating func serviceChapter() throws -> ReportChapter {
        var blocks: [ReportBlock] = []
        blocks.append(.paragraph([ReportCell(t("Hvor langt har indbyggerne til det nærmeste mødested og den nærmeste service? Afstandene er målt ad vejnettet fra hver by. En by regnes som dækket, når den nærmeste facilitet ligger inden for grænsen for sin kategori.",
                                               "How far do people have to the nearest meeting place and service? Distances are measured along the roads from each village. A village counts as covered when the nearest facility lies within its category's limit."))]))
        let src = "coverage"
        func c(_ s: CoverageSummary, _ key: String) -> [PathStep] { [.key("categories"), .pick("category", s.category), .key(key)] }
        let summaries = study.categories.compactMap { cat in baseline.categories.first { $0.category == cat.key } }
        blocks.append(.table(ReportTable(id: "daekning", caption: t("Dækning i dag pr. kategori", "Coverage today by category"),
                                         columns: [.init(t("Kategori", "Category")), .init(t("Åbne", "Open"), numeric: true), .init(t("Grænse", "Limit")),
                                                   .init(t("Dækket", "Covered"), numeric: true), .init(t("Personer dækket", "People covered"), numeric: true),
                                                   .init("Median", numeric: true), .init("90 %", numeric: true)],
                                         rows: summaries.map { s in
                                             [cells.text(label(s.category)), cells.figure(Double(s.openFacilities), src, c(s, "openFacilities")), cells.text(rule(s)),
                                              cells.share(s.coveredShare, src, c(s, "coveredShare")), cells.people(s.coveredPopulation, src, c(s, "coveredPopulation")),
                                              cells.measure(s.median, s.metric, src, c(s, "median")), cells.measure(s.p90, s.metric, src, c(s, "p90"))]
                                         })))
        var worst: [[ReportCell]] = []
        let prepared = try requests(mappedCategories.map { ("coverage", $0, label($0)) })
        for (k, cat) in mappedCategories.enumerated() {
            guard let s = summaries.first(where: { $0.category == cat }) else { continue }
            let name = label(cat)
            blocks.append(.heading(name, level: 2))
            var runs = [cells.share(s.coveredShare, src, c(s, "coveredShare")), ReportCell(t(" af indbyggerne (", " of the inhabitants (")),
                        cells.people(s.coveredPopulation, src, c(s, "coveredPopulation")),
                        ReportCell(t(") har højst \(rule(s)) til nærmeste \(name.lowercased()).", ") have at most \(rule(s)) to the nearest \(name.lowercased()).")), ]
            if let w = s.worstReachableName, let v = s.maxReachable {
                runs += [ReportCell(t(" Længst er der fra \(w) (", " The farthest is \(w) (")), cells.measure(v, s.metric, src, c(s, "maxReachable")), ReportCell(").")]
            }
            blocks.append(.paragraph(runs))
            // Behind the map: every village, farthest first.
            let rows = baseline.points.compactMap { p -> (CoverageReport.PointRow, CoverageReport.PointCategory)? in
                p.categories.first { $0.category == cat }.map { (p, $0) }
            }.sorted { ($0.1.durationSeconds ?? $0.1.distanceMeters ?? .infinity) > ($1.1.durationSeconds ?? $1.1.distanceMeters ?? .infinity) }
            func value(_ p: CoverageReport.PointRow, _ pc: CoverageReport.PointCategory) -> ReportCell {
                let path: [PathStep] = [.key("points"), .pick("demandId", p.demandId), .key("categories"), .pick("category", cat),
                                        .key(s.metric == .duration ? "durationSeconds" : "distanceMeters")]
                return cells.measure(s.metric == .duration ? pc.durationSeconds : pc.distanceMeters, s.metric, src, path)
            }
            let table = ReportTable(id: "daekning-\(cat)", caption: t("Byerne, længst væk først", "The villages, farthest first"),
                                    columns: [.init(t("By", "Village")), .init(t("Indbyggere", "Inhabitants"), numeric: true),
                                              .init(t("Til nærmeste", "To the nearest"), numeric: true), .init(t("Nærmeste", "Nearest")), .init(t("Dækket", "Covered"))],
                                    rows: rows.map { p, pc in
                                        [cells.text(p.name.isEmpty ? p.demandId : p.name),
                                         cells.people(p.population, src, [.key("points"), .pick("demandId", p.demandId), .key("population")]),
                                         value(p, pc), cells.text(pc.facilityName.flatMap { $0.isEmpty ? nil : $0 } ?? pc.facilityId ?? "–"),
                                         cells.text(pc.covered ? t("ja", "yes") : t("nej", "no"))]
                                    })
            let covered = f.percent(s.coveredShare)
            blocks.append(try map("coverage", category: cat, title: name, caption: t("\(name): rejsetid til nærmeste (\(rule(s)))", "\(name): travel to the nearest (\(rule(s)))"),
                                  alt: t("Kort over \(study.name), hvor byerne er farvet efter afstanden til nærmeste \(name.lowercased()), med zoner for halv, hel og halvanden gang grænsen på \(rule(s)). \(covered) af indbyggerne er dækket. Tabellen under kortet har tallet for hver by.",
                                         "Map of \(study.name) with the villages coloured by their distance to the nearest \(name.lowercased()), with bands at half, once and one and a half times the limit of \(rule(s)). \(covered) of the inhabitants are covered. The table below the map gives each village's figure."),
                                  table: table, prepared: prepared[k]))
            for (p, pc) in rows.prefix(3) {
                worst.append([cells.text(name), cells.text(p.name.isEmpty ? p.demandId : p.name),
                              cells.people(p.population, src, [.key("points"), .pick("demandId", p.demandId), .key("population")]), value(p, pc),
                              cells.text(pc.covered ? t("ja", "yes") : t("nej", "no"))])
            }
        }
        if !worst.isEmpty {
            blocks.append(.heading(t("De dårligst betjente byer", "The worst-served villages"), level: 2))
            blocks.append(.table(ReportTable(id: "laengst", caption: t("De tre byer længst fra hver kategori", "The three villages farthest from each category"),
                                             columns: [.init(t("Kategori", "Category")), .init(t("By", "Village")), .init(t("Indbyggere", "Inhabitants"), numeric: true),
                                                       .init(t("Til nærmeste", "To the nearest"), numeric: true), .init(t("Dækket", "Covered"))],
                                             rows: worst)))
        }
        return ReportChapter(id: "service", title: t("Mødesteder og service i dag", "Meeting places and services today"), blocks: blocks)
    }

    // MARK: 3 the scenarios and the chosen plan

    /// Whether a scenario changes a category's summary figures: the share covered, the facilities open or the mean.
    static func figuresChange(_ c: CategoryComparison) -> Bool {
        c.before.coveredShare != c.after.coveredShare || c.before.openFacilities != c.after.openFacilities || c.before.mean != c.after.mean
    }

    mutating func scenarioChapter() throws -> ReportChapter {
        var blocks: [ReportBlock] = []
        let chosen = input.chosenScenario
        let comparisons = input.scenarios.map { ($0, engine.compare(engine.baselinePlan, $0.plan)) }
        var intro = t("Scenarierne er sammenlignet med i dag, kategori for kategori.", "Each scenario is compared with today, category by category.")
        if let chosen { intro += t(" Styregruppen har valgt «\(chosen)».", " The steering group has chosen “\(chosen)”.") }
        blocks.append(.paragraph([ReportCell(intro)]))
        // Annual costs where the facilities have them (`annual_cost`): a column only when some scenario has its figure.
        let costBefore = comparisons.contains { $0.1.annualCostBefore != nil }, costAfter = comparisons.contains { $0.1.annualCostAfter != nil }
        if costBefore || costAfter {
            blocks.append(.paragraph([ReportCell(t("De årlige udgifter er summen af de kendte årlige udgifter (annual_cost) for de faciliteter, der er åbne; en facilitet uden oplyst udgift tæller ikke med.",
                                                   "Annual costs are the sum of the known annual costs (annual_cost) of the facilities that are open; a facility without a stated cost is not counted."))]))
        }
        func name(_ s: ResolvedScenario) -> String { s.name == chosen ? s.name + t(" (valgt plan)", " (chosen plan)") : s.name }
        blocks.append(.table(ReportTable(id: "scenarier", caption: t("Scenarierne: faciliteter og udgifter", "The scenarios: facilities and costs"),
                                         columns: [.init(t("Scenarie", "Scenario")), .init(t("Åbne før", "Open before"), numeric: true), .init(t("Åbne efter", "Open after"), numeric: true)]
                                            + (costBefore ? [.init(t("Årlige udgifter før", "Annual cost before"), numeric: true)] : [])
                                            + (costAfter ? [.init(t("Årlige udgifter efter", "Annual cost after"), numeric: true)] : []),
                                         rows: comparisons.map { s, cmp in
                                             let src = "compare:" + s.name
                                             return [cells.text(name(s)), cells.figure(Double(cmp.openBefore), src, [.key("openBefore")]), cells.figure(Double(cmp.openAfter), src, [.key("openAfter")])]
                                                + (costBefore ? [cells.figure(cmp.annualCostBefore, src, [.key("annualCostBefore")])] : [])
                                                + (costAfter ? [cells.figure(cmp.annualCostAfter, src, [.key("annualCostAfter")])] : [])
                                         },
                                         emphasised: Set(comparisons.indices.filter { comparisons[$0].0.name == chosen }))))
        // Side by side: the share covered per category today and in each scenario (five scenarios a table).
        let changed = study.categories.map(\.key).filter { cat in
            comparisons.contains { _, cmp in cmp.categories.first { $0.category == cat }.map(Self.figuresChange) ?? false }
        }
        if !changed.isEmpty {
            for (k, start) in stride(from: 0, to: comparisons.count, by: 5).enumerated() {
                let part = Array(comparisons[start..<min(start + 5, comparisons.count)])
                blocks.append(.table(ReportTable(id: "side-om-side-\(k + 1)", caption: t("Andel dækket i dag og i scenarierne", "Share covered today and in the scenarios"),
                                                 columns: [.init(t("Kategori", "Category")), .init(t("I dag", "Today"), numeric: true)] + part.map { .init($0.0.name, numeric: true) },
                                                 rows: changed.map { cat in
                                                     [cells.text(label(cat)), cells.share(baseline.categories.first { $0.category == cat }?.coveredShare, "coverage",
                                                                                          [.key("categories"), .pick("category", cat), .key("coveredShare")])]
                                                        + part.map { s, cmp in
                                                            cells.share(cmp.categories.first { $0.category == cat }?.after.coveredShare, "compare:" + s.name,
                                                                        [.key("categories"), .pick("category", cat), .key("after"), .key("coveredShare")])
                                                        }
                                                 })))
            }
        }
        for (s, cmp) in comparisons {
            let src = "compare:" + s.name
            blocks.append(.heading(t("Scenarie: ", "Scenario: ") + name(s), level: 2))
            if let d = s.description { blocks.append(.paragraph([ReportCell(d)])) }
            let moved = cmp.categories.filter { Self.figuresChange($0) || !$0.losing.isEmpty || !$0.gaining.isEmpty }
            guard !moved.isEmpty else {
                blocks.append(.paragraph([ReportCell(t("Scenariet ændrer ingen afstande.", "The scenario changes no distances."))]))
                continue
            }
            func p(_ c: CategoryComparison, _ side: String, _ key: String) -> [PathStep] { [.key("categories"), .pick("category", c.category), .key(side), .key(key)] }
            blocks.append(.table(ReportTable(id: "scenarie-\(MainReportNames.safe(s.name))", caption: t("Før og efter", "Before and after"),
                                             columns: [.init(t("Kategori", "Category")), .init(t("Åbne", "Open"), numeric: true), .init(t("Åbne efter", "Open after"), numeric: true),
                                                       .init(t("Dækket", "Covered"), numeric: true), .init(t("Dækket efter", "Covered after"), numeric: true),
                                                       .init(t("Gennemsnit", "Mean"), numeric: true), .init(t("Gennemsnit efter", "Mean after"), numeric: true)],
                                             rows: moved.map { c in
                                                 [cells.text(label(c.category)), cells.figure(Double(c.before.openFacilities), src, p(c, "before", "openFacilities")),
                                                  cells.figure(Double(c.after.openFacilities), src, p(c, "after", "openFacilities")),
                                                  cells.share(c.before.coveredShare, src, p(c, "before", "coveredShare")), cells.share(c.after.coveredShare, src, p(c, "after", "coveredShare")),
                                                  cells.measure(c.before.mean, c.before.metric, src, p(c, "before", "mean")), cells.measure(c.after.mean, c.after.metric, src, p(c, "after", "mean"))]
                                             })))
            // Who gains and who loses.
            var changes: [[ReportCell]] = []
            for c in moved {
                for (list, word) in [(c.losing, t("mister", "loses")), (c.gaining, t("får", "gains"))] {
                    for pt in list {
                        let path: [PathStep] = [.key("categories"), .pick("category", c.category), .key(list == c.losing ? "losing" : "gaining"), .pick("demandId", pt.demandId)]
                        changes.append([cells.text(pt.name.isEmpty ? pt.demandId : pt.name), cells.text(label(c.category)), cells.text(word),
                                        cells.people(pt.population, src, path + [.key("population")]),
                                        cells.measure(pt.before, c.before.metric, src, path + [.key("before")]), cells.measure(pt.after, c.after.metric, src, path + [.key("after")])])
                    }
                }
            }
            // The map shows the category with the most people changing coverage, else the largest change of the mean.
            func weight(_ c: CategoryComparison) -> (Double, Double) {
                ((c.losing + c.gaining).reduce(0) { $0 + $1.population }, abs((c.after.mean ?? 0) - (c.before.mean ?? 0)))
            }
            let most = moved.max { weight($0) < weight($1) }!
            if changes.isEmpty {
                blocks.append(.paragraph([ReportCell(t("Ingen by mister eller får dækning; kun afstandene ændrer sig.", "No village loses or gains coverage; only the distances change."))]))
            } else {
                blocks.append(.table(ReportTable(id: "vindere-tabere-\(MainReportNames.safe(s.name))", caption: t("Byer der mister eller får dækning", "Villages that lose or gain coverage"),
                                                 columns: [.init(t("By", "Village")), .init(t("Kategori", "Category")), .init(t("Dækning", "Coverage")),
                                                           .init(t("Indbyggere", "Inhabitants"), numeric: true), .init(t("Før", "Before"), numeric: true), .init(t("Efter", "After"), numeric: true)],
                                                 rows: changes)))
            }
            // Behind the map: every village of the category drawn, before (today) and after (the scenario's coverage).
            let after = CoverageReport(analysis: input.analysis, plan: s.plan, scenario: s.name)
            let afterById = Dictionary(after.points.map { ($0.demandId, $0) }, uniquingKeysWith: { a, _ in a })
            let metric = most.before.metric, key = metric == .duration ? "durationSeconds" : "distanceMeters"
            let villageRows = baseline.points.compactMap { p -> [ReportCell]? in
                guard let b = p.categories.first(where: { $0.category == most.category }),
                      let a = afterById[p.demandId]?.categories.first(where: { $0.category == most.category }) else { return nil }
                let status = b.covered == a.covered ? (a.covered ? t("dækket", "covered") : t("ikke dækket", "not covered"))
                    : (b.covered ? t("mister", "loses") : t("får", "gains"))
                let path: [PathStep] = [.key("points"), .pick("demandId", p.demandId), .key("categories"), .pick("category", most.category), .key(key)]
                return [cells.text(p.name.isEmpty ? p.demandId : p.name),
                        cells.people(p.population, "coverage", [.key("points"), .pick("demandId", p.demandId), .key("population")]),
                        cells.measure(metric == .duration ? b.durationSeconds : b.distanceMeters, metric, "coverage", path),
                        cells.measure(metric == .duration ? a.durationSeconds : a.distanceMeters, metric, "coverage:" + s.name, path),
                        cells.text(status)]
            }
            let villageTable = ReportTable(id: "scenarie-byer-\(MainReportNames.safe(s.name))", caption: t("Byerne før og efter (\(label(most.category).lowercased()))", "The villages before and after (\(label(most.category).lowercased()))"),
                                           columns: [.init(t("By", "Village")), .init(t("Indbyggere", "Inhabitants"), numeric: true),
                                                     .init(t("Før", "Before"), numeric: true), .init(t("Efter", "After"), numeric: true), .init(t("Dækning", "Coverage"))],
                                           rows: villageRows)
            let losers = most.losing.count, gainers = most.gaining.count
            blocks.append(try map("scenario", category: most.category, scenario: s.name, title: s.name,
                                  caption: t("\(s.name): hvem mister, og hvem får (\(label(most.category).lowercased()))", "\(s.name): who loses and who gains (\(label(most.category).lowercased()))"),
                                  alt: t("Kort over \(study.name) i scenariet «\(s.name)» for \(label(most.category).lowercased()): \(losers) byer mister dækning og \(gainers) får dækning; lukkede og nye faciliteter er markeret. Tabellen under kortet har hver bys afstand før og efter.",
                                         "Map of \(study.name) in the scenario “\(s.name)” for \(label(most.category).lowercased()): \(losers) villages lose coverage and \(gainers) gain it; closed and new facilities are marked. The table below the map gives each village's distance before and after."),
                                  table: villageTable))
        }
        // If one facility closes: the closure impact of each mapped category with more than one.
        var impactBlocks: [ReportBlock] = []
        for cat in mappedCategories {
            let list = engine.impact(category: cat)
            guard list.count > 1, let rule = engine.rules[cat] else { continue }
            let src = "impact:" + cat
            let unit = rule.metric == .duration ? t("personminutter ekstra", "extra person-minutes") : t("personkm ekstra", "extra person-km")
            impactBlocks.append(.table(ReportTable(id: "lukning-\(cat)", caption: t("Hvis ét sted lukker: \(label(cat).lowercased())", "If one closes: \(label(cat).lowercased())"),
                                                   columns: [.init(t("Facilitet", "Facility")), .init(t("Nærmest for", "Nearest for"), numeric: true),
                                                             .init(t("Mister dækning", "Lose coverage"), numeric: true), .init(t("Uden nogen", "Left without"), numeric: true),
                                                             .init(unit, numeric: true)],
                                                   rows: list.reversed().map { i in
                                                       let path: [PathStep] = [.pick("siteId", i.siteId)]
                                                       return [cells.text(i.name.isEmpty ? i.siteId : i.name), cells.people(i.populationServed, src, path + [.key("populationServed")]),
                                                               cells.people(i.populationLosingCoverage, src, path + [.key("populationLosingCoverage")]),
                                                               cells.people(i.populationLeftWithout, src, path + [.key("populationLeftWithout")]),
                                                               cells.figure(i.addedPersonUnits, src, path + [.key("addedPersonUnits")], scale: rule.metric == .duration ? 1.0 / 60 : 0.001)]
                                                   })))
        }
        if !impactBlocks.isEmpty {
            blocks.append(.heading(t("Hvis ét sted lukker", "If one place closes"), level: 2))
            blocks.append(.paragraph([ReportCell(t("For hver facilitet: hvor mange den er nærmest for, hvor mange der mister dækning, og hvor meget længere de samlet skal rejse, hvis netop den lukker. De mest kritiske står først.",
                                                   "For each facility: how many it is nearest for, how many lose coverage, and how much farther they travel in all if just that one closes. The most critical come first."))]))
            blocks += impactBlocks
        }
        return ReportChapter(id: "scenarier", title: t("Scenarierne og den valgte plan", "The scenarios and the chosen plan"), blocks: blocks)
    }

    // MARK: 4 the cluster geography

    mutating func geographyChapter() throws -> ReportChapter {
        var blocks: [ReportBlock] = []
        let report = try ClusterReport(analysis: input.analysis)
        let src = "clusters"
        blocks.append(.paragraph([ReportCell(t("Områderne er samlet i \(report.clusters.count) klynger, hver med et knudepunkt: den by, hvor klyngens fælles mødesteder samles.",
                                               "The areas form \(report.clusters.count) clusters, each with a hub: the village where the cluster's shared meeting places gather."))]))
        let areaName = Dictionary(study.areas.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let rows = report.clusters.map { c -> [ReportCell] in
            let path: [PathStep] = [.key("clusters"), .pick("name", c.name)]
            let far = c.villages.filter { $0.minutesToHub != nil }.max { $0.minutesToHub! < $1.minutesToHub! }
            return [cells.text(c.name), cells.text(c.areas.map { areaName[$0] ?? $0 }.joined(separator: ", ")),
                    cells.people(c.population, src, path + [.key("population")]), cells.figure(c.areaKm2, src, path + [.key("areaKm2")], decimals: 1),
                    cells.text(c.hub ?? "–"), cells.text(far?.name ?? "–"),
                    far.map { cells.figure($0.minutesToHub, src, path + [.key("villages"), .pick("id", $0.id), .key("minutesToHub")], decimals: 1, unit: " min") } ?? cells.text("–")]
        }
        let table = ReportTable(id: "klynger", caption: t("Klyngerne", "The clusters"),
                                columns: [.init(t("Klynge", "Cluster")), .init(t("Områder", "Areas")), .init(t("Indbyggere", "Inhabitants"), numeric: true),
                                          .init("km²", numeric: true), .init(t("Knudepunkt", "Hub")), .init(t("Længst fra", "Farthest")),
                                          .init(t("Til knudepunkt", "To the hub"), numeric: true)],
                                rows: rows)
        blocks.append(try map("clusters", title: study.name, caption: t("Klyngerne og deres knudepunkter", "The clusters and their hubs"),
                              alt: t("Kort over \(study.name), hvor områderne er farvet efter klynge: \(report.clusters.map(\.name).joined(separator: ", ")). Knudepunkterne er markeret. Tabellen under kortet har klyngernes tal.",
                                     "Map of \(study.name) with the areas coloured by cluster: \(report.clusters.map(\.name).joined(separator: ", ")). The hubs are marked. The table below the map gives the clusters' figures."),
                              table: table))
        // Facilities per cluster, for the mapped categories.
        let cats = mappedCategories
        if !cats.isEmpty {
            blocks.append(.table(ReportTable(id: "klynger-faciliteter", caption: t("Faciliteter pr. klynge (antal og pr. 1.000 indbyggere)", "Facilities per cluster (number and per 1,000 inhabitants)"),
                                             columns: [.init(t("Klynge", "Cluster"))] + cats.flatMap { [.init(label($0), numeric: true), .init(t("pr. 1.000", "per 1,000"), numeric: true)] },
                                             rows: report.clusters.map { c in
                                                 [cells.text(c.name)] + cats.flatMap { cat -> [ReportCell] in
                                                     let path: [PathStep] = [.key("clusters"), .pick("name", c.name), .key("categories"), .pick("category", cat)]
                                                     let fig = c.categories.first { $0.category == cat }
                                                     return [cells.figure(fig.map { Double($0.facilities) }, src, path + [.key("facilities")]),
                                                             cells.figure(fig?.perThousand, src, path + [.key("perThousand")], decimals: 2)]
                                                 }
                                             })))
        }
        if let alternatives = input.alternatives, alternatives.alternatives.count > 1 {
            blocks.append(.heading(t("Alternativerne", "The alternatives considered"), level: 2))
            blocks.append(.paragraph([ReportCell(t("Klyngeinddelingerne, der blev overvejet, side om side. Ændrede områder og det justerede Rand-indeks er regnet mod den første.",
                                                   "The clusterings considered, side by side. Areas changed and the adjusted Rand index are counted against the first."))]))
            blocks.append(.table(ReportTable(id: "alternativer", caption: t("Klyngeinddelinger sammenlignet", "Clusterings compared"),
                                             columns: [.init(t("Inddeling", "Clustering")), .init(t("Klynger", "Clusters"), numeric: true),
                                                       .init(t("Mindste", "Smallest"), numeric: true), .init(t("Største", "Largest"), numeric: true),
                                                       .init(t("Middel til knudepunkt", "Mean to hub"), numeric: true), .init(t("Længst til knudepunkt", "Farthest to hub"), numeric: true),
                                                       .init(t("Ændrede områder", "Areas changed"), numeric: true)],
                                             rows: alternatives.alternatives.map { a in
                                                 let path: [PathStep] = [.key("alternatives"), .pick("name", a.name)]
                                                 return [cells.text(a.name), cells.figure(Double(a.clusters), "regions", path + [.key("clusters")]),
                                                         cells.people(a.populationMin, "regions", path + [.key("populationMin")]), cells.people(a.populationMax, "regions", path + [.key("populationMax")]),
                                                         cells.figure(a.meanMinutesToHub, "regions", path + [.key("meanMinutesToHub")], decimals: 1, unit: " min"),
                                                         cells.figure(a.worstMinutesToHub, "regions", path + [.key("worstMinutesToHub")], decimals: 1, unit: " min"),
                                                         cells.figure(a.areasChanged.map(Double.init), "regions", path + [.key("areasChanged")])]
                                             })))
        }
        return ReportChapter(id: "geografi", title: t("Klyngens geografi", "The cluster geography"), blocks: blocks)
    }

    // MARK: 5 what citizens said

    func surveyChapter(_ id: String, _ r: SurveyResults) -> ReportChapter {
        var blocks: [ReportBlock] = []
        let src = "survey:" + id
        blocks.append(.paragraph([ReportCell(t("Borgerundersøgelsen «\(r.title)» fik ", "The citizen survey “\(r.title)” had ")), cells.people(Double(r.respondents), src, [.key("respondents")]),
                                  ReportCell(t(" besvarelser (", " responses (")), cells.people(Double(r.web), src, [.key("web")]), ReportCell(t(" på nettet og ", " online and ")),
                                  cells.people(Double(r.paper), src, [.key("paper")]),
                                  ReportCell(t(" på papir). Grupper med færre end \(r.minimumGroupSize) svar vises ikke, så ingen kan genkendes.",
                                               " on paper). Groups of fewer than \(r.minimumGroupSize) answers are not shown, so no one can be recognised."))]))
        func groups(_ list: [GroupCount], key: String, id tableId: String, caption: String, column: String) -> ReportBlock {
            .table(ReportTable(id: tableId, caption: caption, columns: [.init(column), .init(t("Svar", "Responses"), numeric: true)],
                               rows: list.map { g in
                                   [cells.text(g.name), g.suppressed ? cells.text(t("færre end \(r.minimumGroupSize)", "fewer than \(r.minimumGroupSize)"))
                                        : cells.people(g.respondents.map(Double.init), src, [.key(key), .pick("id", g.id), .key("respondents")])]
                               }))
        }
        if !r.byArea.isEmpty { blocks.append(groups(r.byArea, key: "byArea", id: "svar-omraader", caption: t("Svar pr. område", "Responses by area"), column: t("Område", "Area"))) }
        if !r.byCluster.isEmpty { blocks.append(groups(r.byCluster, key: "byCluster", id: "svar-klynger", caption: t("Svar pr. klynge", "Responses by cluster"), column: t("Klynge", "Cluster"))) }
        for block in r.blocks {
            let questions = block.questions.filter { !($0.options ?? []).isEmpty }
            guard !questions.isEmpty else { continue }
            blocks.append(.heading(block.title, level: 2))
            for q in questions {
                blocks.append(.table(ReportTable(id: "svar-\(block.id)-\(q.id)", caption: q.text,
                                                 columns: [.init(t("Svar", "Answer")), .init(t("Antal", "Count"), numeric: true)],
                                                 rows: (q.options ?? []).map { o in
                                                     [cells.text(o.label), cells.people(Double(o.count), src, [.key("blocks"), .pick("id", block.id), .key("questions"), .pick("id", q.id),
                                                                                                             .key("options"), .pick("id", o.id), .key("count")])]
                                                 })))
            }
        }
        for use in r.facilityUse where !use.facilities.isEmpty {
            blocks.append(.heading(t("Hvilke steder bruges: ", "Which places are used: ") + use.categoryLabel, level: 2))
            blocks.append(.table(ReportTable(id: "brug-\(use.question)", caption: t("Brugere pr. sted blandt de adspurgte", "Users per place among the respondents"),
                                             columns: [.init(t("Sted", "Place")), .init(t("Brugere", "Users"), numeric: true)],
                                             rows: use.facilities.map { fu in
                                                 [cells.text(fu.name), cells.people(Double(fu.users), src, [.key("facilityUse"), .pick("question", use.question),
                                                                                                          .key("facilities"), .pick("id", fu.id), .key("users")])]
                                             })))
        }
        return ReportChapter(id: "borgerne", title: t("Hvad borgerne sagde", "What citizens said"), blocks: blocks)
    }

    // MARK: 6 the idea catalogue and the masterplan

    mutating func masterplanChapter() throws -> ReportChapter {
        var blocks: [ReportBlock] = []
        let plan = study.plan
        func priority(_ p: PlanPriority?) -> String {
            switch p {
            case .high?: t("Høj", "High")
            case .medium?: t("Middel", "Medium")
            case .low?: t("Lav", "Low")
            case nil: "–"
            }
        }
        if !plan.focusAreas.isEmpty {
            blocks.append(.paragraph([ReportCell(t("Styregruppens idékatalog samler indsatsen i \(plan.focusAreas.count) indsatsområder.",
                                                   "The steering group's idea catalogue gathers the work in \(plan.focusAreas.count) focus areas."))]))
            blocks.append(.table(ReportTable(id: "indsatsomraader", caption: t("Indsatsområderne", "The focus areas"),
                                             columns: [.init(t("Indsatsområde", "Focus area")), .init(t("Prioritet", "Priority")), .init(t("Tidsplan", "Timeline")),
                                                       .init(t("Scenarie", "Scenario"))],
                                             rows: plan.focusAreas.map { [cells.text($0.title), cells.text(priority($0.priority)), cells.text($0.timeline ?? "–"), cells.text($0.scenario ?? "–")] })))
            for fa in plan.focusAreas {
                blocks.append(.heading(fa.title, level: 2))
                blocks.append(.paragraph([ReportCell(t("Prioritet: ", "Priority: ") + priority(fa.priority) + (fa.timeline.map { t(" · Tidsplan: ", " · Timeline: ") + $0 } ?? ""))]))
                for (title, text) in [(t("Vision", "Vision"), fa.vision), (t("Potentiale", "Potential"), fa.potential)] {
                    guard let text else { continue }
                    blocks.append(.heading(title, level: 3))
                    blocks.append(.paragraph([ReportCell(text)]))
                }
                for (title, items) in [(t("Fordele", "Advantages"), fa.advantages), (t("Udfordringer", "Obstacles"), fa.obstacles)] where !items.isEmpty {
                    blocks.append(.heading(title, level: 3))
                    blocks.append(.bullets(items))
                }
            }
        }
        if !plan.sketches.isEmpty || input.chosenScenario != nil {
            blocks.append(.heading(t("Masterplanen", "The masterplan"), level: 2))
            let items = plan.sketches.flatMap { layer in layer.items.map { (layer, $0) } }
            let table = ReportTable(id: "skitser", caption: t("Planens skitser", "The plan's sketches"),
                                    columns: [.init(t("Lag", "Layer")), .init(t("Navn", "Name")), .init(t("Art", "Kind")), .init(t("Form", "Shape"))],
                                    rows: items.map { layer, item in
                                        let shape = !item.geometry.polygons.isEmpty ? t("område", "area") : item.geometry.typeName.contains("Line") ? t("linje", "line") : t("punkt", "point")
                                        return [cells.text(layer.label(language: lang)), cells.text(item.name ?? "–"), cells.text(item.kind ?? "–"), cells.text(shape)]
                                    })
            let names = plan.sketches.map { $0.label(language: lang).lowercased() }.joined(separator: ", ")
            blocks.append(try map("masterplan", title: study.name, caption: t("Masterplan: mødesteder, byer og planens skitser", "Masterplan: meeting places, villages and the plan's sketches"),
                                  alt: t("Masterplankort over \(study.name) med byerne, mødestederne og planens skitser (\(names.isEmpty ? "ingen" : names)). Tabellen under kortet har skitserne.",
                                         "Masterplan map of \(study.name) with the villages, meeting places and the plan's sketches (\(names.isEmpty ? "none" : names)). The table below the map lists the sketches."),
                                  table: items.isEmpty ? nil : table))
        }
        return ReportChapter(id: "masterplan", title: t("Idékatalog og masterplan", "Idea catalogue and masterplan"), blocks: blocks)
    }
}

