import Foundation
import KlyngeAnalysis
import KlyngeStudy

/// Alternative clusterings of one study side by side (`klynge regions compare`): sizes, travel to the hubs,
/// facilities and coverage with each cluster's own facilities, and how far each differs from the first.
public struct ClusteringComparison: Sendable, Codable {
    public struct CategoryFigures: Sendable, Codable {
        public var category: String
        public var labelDa: String
        public var labelEn: String
        /// Facilities per 1,000 inhabitants: the lowest and highest cluster.
        public var perThousandMin: Double?
        public var perThousandMax: Double?
        /// Clusters with none of the category.
        public var clustersWithout: Int
        /// Share of all people covered using only their own cluster's facilities.
        public var coveredShareOwn: Double
    }
    public struct Alternative: Sendable, Codable {
        public var name: String
        public var clusters: Int
        public var populationMin: Double
        public var populationMedian: Double
        public var populationMax: Double
        /// Minutes from the villages to their hub: population-weighted mean, and the worst.
        public var meanMinutesToHub: Double?
        public var worstMinutesToHub: Double?
        public var categories: [CategoryFigures]
        /// Against the first alternative: areas in a different cluster (after matching clusters by most shared
        /// areas), and the adjusted Rand index of the two partitions (1 = identical).
        public var areasChanged: Int?
        public var adjustedRand: Double?
    }
    public var study: String
    public var alternatives: [Alternative]

    /// `alternatives`: a name and the clustering (nil: the study's own clusters).
    public init(analysis: StudyAnalysis, alternatives: [(name: String, clustering: SavedClustering?)]) throws {
        study = analysis.study.name
        var out: [Alternative] = []
        var first: [String: String]?
        let areaIds = analysis.study.areas.map(\.id)
        for (name, clustering) in alternatives {
            let report = try ClusterReport(analysis: analysis, clustering: clustering)
            let populations = report.clusters.map(\.population).sorted()
            var weighted = 0.0, people = 0.0, worst: Double?
            for c in report.clusters {
                for v in c.villages {
                    guard let m = v.minutesToHub else { continue }
                    weighted += m * v.population
                    people += v.population
                    worst = max(worst ?? m, m)
                }
            }
            var categories: [CategoryFigures] = []
            for category in analysis.engine.categories {
                let figures = report.clusters.compactMap { c in c.categories.first { $0.category == category }.map { (c, $0) } }
                let per = figures.compactMap(\.1.perThousand)
                let total = figures.reduce(0) { $0 + $1.0.population }
                let covered = figures.reduce(0) { $0 + $1.0.population * $1.1.coveredShareOwn }
                let c = analysis.study.categories.first { $0.key == category }
                categories.append(CategoryFigures(category: category, labelDa: c?.labelDa ?? category, labelEn: c?.labelEn ?? category,
                                                  perThousandMin: per.min(), perThousandMax: per.max(),
                                                  clustersWithout: figures.filter { $0.1.facilities == 0 }.count,
                                                  coveredShareOwn: total > 0 ? covered / total : 0))
            }
            var labels: [String: String] = [:]
            for c in report.clusters { for a in c.areas { labels[a] = c.name } }
            var alternative = Alternative(name: name, clusters: report.clusters.count, populationMin: populations.first ?? 0,
                                          populationMedian: Self.median(populations), populationMax: populations.last ?? 0,
                                          meanMinutesToHub: people > 0 ? (weighted / people * 10).rounded() / 10 : nil,
                                          worstMinutesToHub: worst, categories: categories)
            if let first {
                let a = areaIds.map { first[$0] ?? "–\($0)" }, b = areaIds.map { labels[$0] ?? "–\($0)" }
                alternative.areasChanged = Self.changed(a, b)
                alternative.adjustedRand = (Self.adjustedRand(a, b) * 1000).rounded() / 1000
            } else {
                first = labels
            }
            out.append(alternative)
        }
        self.alternatives = out
    }

    static func median(_ sorted: [Double]) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let m = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2
    }

    /// Areas outside the cluster they best match: each cluster of `b` is matched with the cluster of `a`
    /// it shares most areas with (one to one, largest overlaps first); the rest have changed.
    static func changed(_ a: [String], _ b: [String]) -> Int {
        var overlap: [String: [String: Int]] = [:]
        for (x, y) in zip(a, b) { overlap[y, default: [:]][x, default: 0] += 1 }
        let pairs = overlap.flatMap { y, xs in xs.map { (y: y, x: $0.key, n: $0.value) } }
            .sorted { ($0.n, $1.y, $1.x) > ($1.n, $0.y, $0.x) }
        var usedX = Set<String>(), usedY = Set<String>(), kept = 0
        for p in pairs where !usedX.contains(p.x) && !usedY.contains(p.y) {
            usedX.insert(p.x); usedY.insert(p.y); kept += p.n
        }
        return a.count - kept
    }

    /// Hubert and Arabie's adjusted Rand index from the contingency table.
    static func adjustedRand(_ a: [String], _ b: [String]) -> Double {
        func pairs(_ n: Int) -> Double { Double(n) * Double(n - 1) / 2 }
        var table: [String: [String: Int]] = [:], rows: [String: Int] = [:], cols: [String: Int] = [:]
        for (x, y) in zip(a, b) { table[x, default: [:]][y, default: 0] += 1; rows[x, default: 0] += 1; cols[y, default: 0] += 1 }
        let index = table.values.flatMap(\.values).reduce(0) { $0 + pairs($1) }
        let sumRows = rows.values.reduce(0) { $0 + pairs($1) }, sumCols = cols.values.reduce(0) { $0 + pairs($1) }
        let expected = sumRows * sumCols / max(pairs(a.count), 1)
        let maximum = (sumRows + sumCols) / 2
        guard maximum != expected else { return 1 }
        return (index - expected) / (maximum - expected)
    }

    /// The table in Danish (or English), as Markdown: one column per alternative.
    public func markdown(language: String) -> String {
        let da = language != "en"
        let f = Figures(language: language)
        var lines = ["| \(da ? "Klyngeinddeling" : "Clustering") | " + alternatives.map(\.name).joined(separator: " | ") + " |",
                     "|---|" + alternatives.map { _ in "---:|" }.joined()]
        func row(_ label: String, _ cell: (Alternative) -> String) { lines.append("| \(label) | " + alternatives.map(cell).joined(separator: " | ") + " |") }
        row(da ? "Klynger" : "Clusters") { "\($0.clusters)" }
        row(da ? "Indbyggere pr. klynge (mindst / median / flest)" : "People per cluster (fewest / median / most)") {
            "\(f.people($0.populationMin)) / \(f.people($0.populationMedian)) / \(f.people($0.populationMax))"
        }
        row(da ? "Rejsetid til knudepunktet, gennemsnit" : "Travel to the hub, mean") { $0.meanMinutesToHub.map { f.value($0, unit: "min") } ?? "–" }
        row(da ? "Rejsetid til knudepunktet, længst" : "Travel to the hub, longest") { $0.worstMinutesToHub.map { f.value($0, unit: "min") } ?? "–" }
        for (k, c) in (alternatives.first?.categories ?? []).enumerated() {
            let label = da ? c.labelDa : c.labelEn
            row(da ? "\(label): pr. 1.000 indbyggere (laveste–højeste klynge)" : "\(label): per 1,000 people (lowest–highest cluster)") { a in
                let x = a.categories[k]
                guard let lo = x.perThousandMin, let hi = x.perThousandMax else { return "–" }
                return "\(f.number(lo, decimals: 2))–\(f.number(hi, decimals: 2))"
            }
            row(da ? "\(label): klynger uden" : "\(label): clusters without") { "\($0.categories[k].clustersWithout)" }
            row(da ? "\(label): dækket med klyngens egne" : "\(label): covered by the cluster's own") { f.percent($0.categories[k].coveredShareOwn) }
        }
        row(da ? "Områder i en anden klynge end i \(alternatives.first?.name ?? "")" : "Areas in another cluster than in \(alternatives.first?.name ?? "")") {
            $0.areasChanged.map { "\($0)" } ?? "–"
        }
        row(da ? "Justeret Rand-indeks (1 = ens)" : "Adjusted Rand index (1 = identical)") { $0.adjustedRand.map { f.number($0, decimals: 3) } ?? "–" }
        return lines.joined(separator: "\n") + "\n"
    }
}
