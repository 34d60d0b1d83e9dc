import Foundation
import KlyngeAnalysis
import KlyngeGeo
import KlyngeIO
import KlyngeIngest
import KlyngeStudy
import KlyngeStudyAnalysis

/// The main job (`klynge report`): baseline coverage, every scenario compared, closure impact, clusters and the
/// summary. Everything is computed and encoded first; the files are then written into a staging folder and
/// published together (`OutputSet`), so a failure at any step leaves the output folder as it was.
public struct MainReport {
    /// The name of the list of files of the last complete report, written last.
    public static let manifestName = "report-files.txt"

    public let summary: String
    public let files: [String]

    /// `name` inserted before the extension, made safe as a file name: `compare.geojson` → `compare-Nordby.geojson`.
    public static func path(_ output: String, inserting name: String) -> String {
        let url = URL(fileURLWithPath: output)
        return url.deletingPathExtension().path + "-" + MainReportNames.safe(name) + "." + url.pathExtension
    }

    public init(analysis: StudyAnalysis, folder: URL, language: String) throws {
        let study = analysis.study
        let engine = analysis.engine
        // 1. Compute and encode everything: any refusal happens here, before a file is touched.
        var texts: [(name: String, text: String)] = []
        var tables: [(name: String, tables: [FeatureTable])] = []
        let baseline = CoverageReport(analysis: analysis, plan: engine.baselinePlan, scenario: nil)
        texts.append(("coverage.json", try JSONText.encode(baseline, pretty: true) + "\n"))
        tables.append(("coverage.geojson", baseline.tables(study: study)))
        var comparisons: [(String, String?, Comparison)] = []
        var taken: [String: String] = [:]
        for s in analysis.scenarios {
            let cmp = engine.compare(engine.baselinePlan, s.plan)
            comparisons.append((s.name, s.description, cmp))
            let file = "compare-" + MainReportNames.safe(s.name) + ".geojson"
            if let other = taken[file] {
                throw AnalysisSetupError("the scenarios `\(other)` and `\(s.name)` would write the same file \(file); rename one")
            }
            taken[file] = s.name
            tables.append((file, [cmp.table(study: study, engine: engine, before: engine.baselinePlan, after: s.plan)]))
            texts.append((String(file.dropLast(".geojson".count)) + ".json", try JSONText.encode(cmp, pretty: true) + "\n"))
        }
        let impacts = engine.categories.compactMap { c -> (String, [ClosureImpact])? in
            let list = engine.impact(category: c)
            return list.count > 1 ? (c, list) : nil
        }
        texts.append(("impact.json", try JSONText.encode(Dictionary(uniqueKeysWithValues: impacts), pretty: true) + "\n"))
        var clusters: ClusterReport?
        if study.areas.contains(where: { $0.cluster != nil }) || !(study.clusters.assignments ?? [:]).isEmpty {
            let report = try ClusterReport(analysis: analysis)
            tables.append(("clusters.geojson", [report.table(crs: study.crs, categories: engine.categories)]))
            texts.append(("clusters.json", try JSONText.encode(report, pretty: true) + "\n"))
            clusters = report
        }
        let summary = SummaryWriter(language: language).write(study: study, baseline: baseline, comparisons: comparisons,
                                                             impacts: impacts, clusters: clusters)
        texts.append((language == "en" ? "summary-en.md" : "summary.md", summary))

        // 2. Write into the staging folder, then publish all together.
        let set = try OutputSet(folder: folder)
        for (name, t) in tables { try Exporter.writeAny(t, to: set.url(name)) }
        for (name, text) in texts { try set.add(text: text, name: name) }
        try set.publish(manifest: Self.manifestName)
        self.summary = summary
        files = (tables.map(\.name) + texts.map(\.name)).sorted()
    }
}
