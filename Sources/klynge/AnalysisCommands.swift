import ArgumentParser
import Foundation
import KlyngeAnalysis
import KlyngeStudyAnalysis
import KlyngeIngest
import KlyngeJobs
import KlyngeGeo
import KlyngeIO
import KlyngeStore
import KlyngeStudy

/// JSON for people and scripts: sorted keys, indented, non-finite figures as null, fractions as `JSONText.figure`.
func printJSON<T: Encodable>(_ value: T) throws {
    print(try JSONText.encode(value, pretty: true))
}

/// Loads the study with its saved scenarios and builds the analysis (network, access tables, scenarios).
func loadAnalysis(_ options: StudyOptions, clustering: String? = nil) throws -> StudyAnalysis {
    try loadAnalysisKeepingOwn(options, clustering: clustering).analysis
}

/// The analysis with `clustering` in force, and the study (with its saved scenarios) as it is, whose own
/// clusters stay an alternative to compare with.
func loadAnalysisKeepingOwn(_ options: StudyOptions, clustering: String?) throws -> (analysis: StudyAnalysis, own: Study) {
    let loaded = try loadStudyWithSaved(options)
    var study = loaded.set.study
    if let clustering, let saved = try namedClustering(clustering, options) { study = study.using(saved) }
    let analysis = try StudyAnalysis(study: study, network: loaded.network)
    if !analysis.unattached.isEmpty { reportSnapProblems(analysis.unattached, label: "not on the road network (counted as unreachable)") }
    return (analysis, loaded.set.study)
}

func plan(_ analysis: StudyAnalysis, scenario: String?) throws -> Plan {
    guard let scenario else { return analysis.engine.baselinePlan }
    return try analysis.scenario(named: scenario).plan
}

func checkCategory(_ analysis: StudyAnalysis, _ category: String?) throws -> [String]? {
    guard let category else { return nil }
    guard analysis.engine.categories.contains(category) else {
        throw ValidationError("unknown category `\(category)` (the study has: \(analysis.engine.categories.joined(separator: ", ")))")
    }
    return [category]
}

/// A clustering named on the command line: `study` (the study's own clusters: nil), a file (`.gpkg`,
/// `.geojson`, `.csv` from `regions -o` or a GIS: an area id and a cluster per row), or a proposal saved
/// by `regions --save`, by name or id; refused naming the saved ones.
func namedClustering(_ name: String, _ options: StudyOptions, option: String = "--clustering") throws -> SavedClustering? {
    if name == "study" { return nil }
    if ClusteringFile.isFile(name) { return try ClusteringFile.read(name) }
    if ClusteringFile.looksLikeFile(name) { throw ValidationError("\(option): no such file `\(name)`") }
    let store = try options.scenarioStore()
    guard let saved = try store.proposal(name) else {
        let names = try store.proposals().map(\.record.name)
        throw ValidationError("\(option): no saved proposal or clustering file `\(name)` in \(options.storeLabel)"
                              + (names.isEmpty ? " (none saved yet: `klynge regions … --save NAME`)" : " (saved: \(names.joined(separator: ", ")))"))
    }
    return saved
}

/// Writes tables by extension (see `Exporter.writeAny`).
func writeTables(_ tables: [FeatureTable], to path: String) throws {
    guard ExportFormat.from(path: path) != nil else { throw ValidationError("unknown output format `\(path)`; use .geojson, .gpkg or .csv") }
    try Exporter.writeAny(tables, to: URL(fileURLWithPath: path))
}

/// One category's coverage in a line, each figure with what it counts.
/// `--decay` for the access figures: parsed per minute; each category's metric sets its own unit.
func accessDecay(_ text: String?) throws -> DistanceDecay? {
    guard let text else { return nil }
    do { return try DistanceDecay.parse(text, unitCost: 60) } catch let e as LocationError { throw ValidationError(e.message) }
}

func summaryLine(_ s: CoverageSummary, label: String) -> String {
    var line = "\(label): \(s.openFacilities) open; \(Format.people(s.coveredPopulation)) of \(Format.people(s.population)) covered "
        + "(\(Format.percent(s.coveredShare))) within \(Format.value(s.threshold, metric: s.metric))"
    if s.populationBeyond > 0 {
        line += "; \(Format.people(s.populationBeyondReachable)) reach one farther away"
        if s.populationUnreachable > 0 {
            line += ", \(Format.people(s.populationUnreachable)) in \(s.pointsUnreachable) village\(s.pointsUnreachable == 1 ? "" : "s") reach none at all"
        }
    }
    line += "; mean \(Format.value(s.mean, metric: s.metric))" + (s.populationUnreachable > 0 ? " (of those who reach one)" : "")
    line += ", median \(Format.value(s.median, metric: s.metric)), p90 \(Format.value(s.p90, metric: s.metric))"
    if let worst = s.maxReachable {
        line += ", worst \(Format.value(worst, metric: s.metric))" + (s.worstReachableName.map { " (\($0))" } ?? "")
    }
    if let backup = s.backupShare { line += "; \(Format.percent(backup)) with two or more within reach" }
    if let a = s.accessPer1000, let unit = s.accessUnit {
        line += String(format: "; %.2f %@ per 1,000 people within reach (2SFCA)", a, unit == .capacity ? "places" : "facilities")
    }
    if let e = s.enhancedAccessPer1000, let g = s.gravity, let d = s.decay {
        line += String(format: ", %.2f with %@ (E2SFCA), gravity %.3f", e, d.description, g)
    }
    return line
}

struct CoverageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coverage",
        abstract: "Who reaches a facility of each category within its threshold, now or under a scenario."
    )

    @OptionGroup var options: StudyOptions
    @Option(help: "A scenario of the study file (default: the baseline).")
    var scenario: String?
    @Option(help: "Only this category.")
    var category: String?
    @Flag(help: "Print the summary, per-area and per-village rows as JSON.")
    var json = false
    @Option(name: .shortAndLong, help: "Write areas and villages with their figures (.geojson, .gpkg) or villages (.csv).")
    var output: String?
    @Option(help: "With --scenario, a citizen survey of the study: the respondents who use a facility the scenario closes.")
    var survey: String?
    @Option(help: "Also the gravity index and the enhanced 2SFCA with this decay: linear:CUTOFF, power:BETA or exponential:BETA (per minute or km).")
    var decay: String?

    func validate() throws {
        if survey != nil && scenario == nil { throw ValidationError("--survey reports the users a scenario affects: give --scenario too") }
        _ = try accessDecay(decay)
    }

    func run() throws {
        try failing {
            let analysis = try loadAnalysis(options)
            let cats = try checkCategory(analysis, category)
            let thePlan = try plan(analysis, scenario: scenario)
            let report = CoverageReport(analysis: analysis, plan: thePlan, scenario: scenario, categories: cats, decay: try accessDecay(decay))
            for note in report.notes { warn("note: \(note)") }
            if let output { try writeTables(report.tables(study: analysis.study), to: output) }
            if let survey {
                let a = try surveyAnswers(options, study: analysis.study, id: survey)
                let users = UsersAffected.between(analysis.engine.baselinePlan, thePlan, survey: a.survey, responses: a.responses, analysis: analysis, categories: cats)
                if json {
                    struct WithUsers: Encodable { var coverage: CoverageReport; var usersAffected: [UsersAffected] }
                    try printJSON(WithUsers(coverage: report, usersAffected: users))
                    return
                }
                print("Coverage — \(analysis.study.name), scenario \(scenario ?? "")")
                for s in report.categories {
                    print("  " + summaryLine(s, label: s.category))
                    for u in users where u.category == s.category {
                        print("    users affected (survey \(u.survey), `\(u.question)`): \(u.affected) of \(u.respondents) respondents" + (u.share.map { " (\(Format.percent($0)))" } ?? ""))
                    }
                }
                if let output { print("Wrote \(output)") }
                return
            }
            if json { try printJSON(report); return }
            print("Coverage — \(analysis.study.name)\(scenario.map { ", scenario \($0)" } ?? ", baseline")")
            for s in report.categories { print("  " + summaryLine(s, label: s.category)) }
            if let output { print("Wrote \(output)") }
        }
    }
}

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "A scenario against the baseline (or --against another): who loses and who gains coverage."
    )

    @OptionGroup var options: StudyOptions
    @Option(help: "Scenario(s) to compare (repeatable).")
    var scenario: [String] = []
    @Option(help: "Compare against this scenario instead of the baseline.")
    var against: String?
    @Option(help: "Only this category.")
    var category: String?
    @Flag(help: "Print the comparison as JSON.")
    var json = false
    @Option(name: .shortAndLong, help: "Write the villages with before, after and change (.geojson, .gpkg, .csv); with several scenarios, one file each (NAME inserted before the extension).")
    var output: String?
    @Option(help: "A citizen survey of the study: report the respondents who use the facilities a scenario closes (users affected).")
    var survey: String?
    @Option(help: "Also the gravity index and the enhanced 2SFCA with this decay: linear:CUTOFF, power:BETA or exponential:BETA (per minute or km).")
    var decay: String?

    func validate() throws {
        guard !scenario.isEmpty else { throw ValidationError("name a scenario with --scenario") }
        _ = try accessDecay(decay)
    }

    func run() throws {
        try failing {
            let analysis = try loadAnalysis(options)
            let cats = try checkCategory(analysis, category)
            let base = try plan(analysis, scenario: against)
            let answers = try survey.map { try surveyAnswers(options, study: analysis.study, id: $0) }
            var results: [String: Comparison] = [:]
            var users: [String: [UsersAffected]] = [:]
            for name in scenario {
                let target = try analysis.scenario(named: name).plan
                let cmp = analysis.engine.compare(base, target, categories: cats, decay: try accessDecay(decay))
                results[name] = cmp
                if let answers {
                    users[name] = UsersAffected.between(base, target, survey: answers.survey, responses: answers.responses, analysis: analysis, categories: cats)
                }
                if let output {
                    let path = scenario.count == 1 ? output : MainReport.path(output, inserting: name)
                    try writeTables([cmp.table(study: analysis.study, engine: analysis.engine, before: base, after: target)], to: path)
                }
            }
            if json {
                // With a survey, each comparison is printed with its users affected beside it.
                struct WithUsers: Encodable { var comparison: Comparison; var usersAffected: [UsersAffected] }
                if answers != nil {
                    try printJSON(Dictionary(uniqueKeysWithValues: results.map { ($0.key, WithUsers(comparison: $0.value, usersAffected: users[$0.key] ?? [])) }))
                } else {
                    try printJSON(results)
                }
                return
            }
            for name in scenario {
                let cmp = results[name]!
                print("\(name) against \(against ?? "the baseline"): open facilities \(cmp.openBefore) → \(cmp.openAfter)"
                      + (cmp.annualCostBefore != nil && cmp.annualCostAfter != nil
                         ? String(format: ", annual cost %.0f → %.0f", cmp.annualCostBefore!, cmp.annualCostAfter!) : ""))
                for c in cmp.categories {
                    print(String(format: "  %@: covered %@ → %@; mean %@ → %@; %d villages lose coverage, %d gain",
                                 c.category, Format.percent(c.before.coveredShare), Format.percent(c.after.coveredShare),
                                 Format.value(c.before.mean, metric: c.before.metric), Format.value(c.after.mean, metric: c.after.metric),
                                 c.losing.count, c.gaining.count))
                    for p in c.losing {
                        print("    loses: \(p.name) (\(Format.people(p.population))): \(Format.value(p.before, metric: c.before.metric)) → \(Format.value(p.after, metric: c.after.metric))")
                    }
                    for p in c.gaining {
                        print("    gains: \(p.name) (\(Format.people(p.population))): \(Format.value(p.before, metric: c.before.metric)) → \(Format.value(p.after, metric: c.after.metric))")
                    }
                    if !c.losingAccess.isEmpty {
                        let unit = c.after.accessUnit == .capacity ? "places" : "facilities"
                        let shown = c.losingAccess.prefix(5).map { a in
                            String(format: "%@ %.2f → %.2f", a.name, a.before ?? 0, a.after ?? 0)
                        }.joined(separator: ", ")
                        print("    \(c.losingAccess.count) villages lose access (\(unit) per 1,000 people within reach): \(shown)"
                              + (c.losingAccess.count > 5 ? " …" : ""))
                    }
                    if let l = c.largestIncrease {
                        print("    largest increase: \(l.name): \(Format.value(l.before, metric: c.before.metric)) → \(Format.value(l.after, metric: c.after.metric))")
                    }
                    for u in users[name] ?? [] where u.category == c.category {
                        let names = u.closed.map { "\($0.name.isEmpty ? $0.id : $0.name) \($0.users)" }.joined(separator: ", ")
                        print("    users affected (survey \(u.survey), `\(u.question)`): \(u.affected) of \(u.respondents) respondents"
                              + (u.share.map { " (\(Format.percent($0)))" } ?? "") + (names.isEmpty ? "" : ": \(names)"))
                    }
                }
            }
        }
    }

}

struct ImpactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "impact",
        abstract: "Rank each open facility of a category by what closing it alone would cost."
    )

    @OptionGroup var options: StudyOptions
    @Option(help: "The category.")
    var category: String
    @Option(help: "Start from this scenario instead of the baseline.")
    var scenario: String?
    @Flag(help: "Print JSON.")
    var json = false
    @Option(help: "A citizen survey of the study: give each facility's users among the respondents.")
    var survey: String?

    func run() throws {
        try failing {
            let analysis = try loadAnalysis(options)
            _ = try checkCategory(analysis, category)
            let list = analysis.engine.impact(category: category, plan: try plan(analysis, scenario: scenario))
            let users = try survey.map { id -> [String: Int] in
                let a = try surveyAnswers(options, study: analysis.study, id: id)
                return UsersAffected.users(of: category, survey: a.survey, responses: a.responses)
            }
            if json {
                struct WithUsers: Encodable { var impact: ClosureImpact; var surveyUsers: Int }
                if let users { try printJSON(list.map { WithUsers(impact: $0, surveyUsers: users[$0.siteId] ?? 0) }) } else { try printJSON(list) }
                return
            }
            let metric = analysis.engine.rules[category]!.metric
            print("Closing one \(category) alone, least critical first (added \(metric == .duration ? "person-minutes" : "person-km")):")
            for i in list {
                let added = metric == .duration ? i.addedPersonUnits / 60 : i.addedPersonUnits / 1000
                print(String(format: "  %@ %@: serves %@; %@ lose coverage; %@ left without any; +%.0f",
                             i.siteId, i.name.isEmpty ? "(unnamed)" : i.name, Format.people(i.populationServed),
                             Format.people(i.populationLosingCoverage), Format.people(i.populationLeftWithout), added)
                      + (users.map { "; \($0[i.siteId] ?? 0) respondents use it" } ?? ""))
            }
        }
    }
}

struct ClustersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clusters",
        abstract: "Per cluster of areas: people, facilities, coverage with its own facilities, travel to its hub."
    )

    @OptionGroup var options: StudyOptions
    @Flag(help: "Print JSON.")
    var json = false
    @Option(name: .shortAndLong, help: "Write the dissolved clusters with their figures (.geojson, .gpkg, .csv).")
    var output: String?
    @Option(help: "A proposal saved by `regions --save`, in place of the study's own clusters.")
    var clustering: String?

    func run() throws {
        try failing {
            let analysis = try loadAnalysis(options, clustering: clustering)
            let report = try ClusterReport(analysis: analysis)
            if let output { try writeTables([report.table(crs: analysis.study.crs, categories: analysis.engine.categories)], to: output) }
            if json { try printJSON(report); return }
            for c in report.clusters {
                print("\(c.name): \(Format.people(c.population)) people in \(c.areas.count) areas, \(c.areaKm2) km², hub \(c.hub ?? "–")")
                for f in c.categories where f.facilities > 0 || f.coveredShareAll > 0 {
                    print(String(format: "  %@: %d (%@ per 1,000); covered %@ with all facilities, %@ with its own",
                                 f.category, f.facilities, f.perThousand.map { String(format: "%.2f", $0) } ?? "–",
                                 Format.percent(f.coveredShareAll), Format.percent(f.coveredShareOwn)))
                }
                for v in c.villages { print("  \(v.name) (\(Format.people(v.population))): \(v.minutesToHub.map { String(format: "%.1f min", $0) } ?? "unreachable") to the hub") }
                for k in c.consolidationCandidates { print("  consolidation candidate (\(k.category)): \(k.a) + \(k.b), \(k.minutes) min apart") }
            }
            if let output { print("Wrote \(output)") }
        }
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The main job: baseline coverage, every scenario compared, closure impact, clusters, and a summary."
    )

    @OptionGroup var options: StudyOptions
    @Option(name: .customLong("out-dir"), help: "Folder for the results.")
    var outDir: String = "out"
    @Option(help: "Language of the summary: da or en (default: the study's).")
    var lang: String?
    @Option(help: "A proposal saved by `regions --save`, in place of the study's own clusters.")
    var clustering: String?

    func validate() throws {
        if let lang, !["da", "en"].contains(lang) { throw ValidationError("--lang is da or en") }
    }

    func run() throws {
        try failing {
            let analysis = try loadAnalysis(options, clustering: clustering)
            let report = try MainReport(analysis: analysis, folder: URL(fileURLWithPath: outDir), language: lang ?? analysis.study.language)
            print(report.summary)
            print("Results in \(outDir)/ (\(report.files.count) files, listed in \(MainReport.manifestName))")
        }
    }
}
