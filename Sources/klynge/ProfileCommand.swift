import ArgumentParser
import Foundation
import KlyngeGeo
import KlyngeIO
import KlyngeStudy
import KlyngeStudyAnalysis

struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "The data picture: people and every fact layer's measures for the study, each cluster, area and village.",
        discussion: "Fact layers are declared under `facts:` in the study file. A figure a place cannot have is empty (null), never zero."
    )

    @OptionGroup var options: StudyOptions
    @Option(help: "A proposal saved by `regions --save` (or a clustering file), in place of the study's own clusters.")
    var clustering: String?
    @Flag(help: "Print JSON.") var json = false
    @Option(name: .shortAndLong, help: "Write .json, .csv (every level), .gpkg (areas, villages and every level) or .geojson.")
    var output: String?
    @Option(help: "Language of labels: da (default) or en.") var lang: String = "da"

    /// A figure as people read it: whole numbers as they are, others to three significant places or so.
    static func figure(_ v: Double) -> String {
        if v.rounded() == v && abs(v) < 1e15 { return String(Int64(v)) }
        return String(format: abs(v) >= 100 ? "%.0f" : abs(v) >= 1 ? "%.1f" : "%.3f", v)
    }

    func validate() throws {
        guard ["da", "en"].contains(lang) else { throw ValidationError("--lang is da or en") }
    }

    func run() throws {
        try failing {
            var study = try loadUsableStudy(options)
            if let clustering, let saved = try namedClustering(clustering, options) { study = study.using(saved) }
            let profile = Profile(study: study, language: lang)
            if let output {
                if output.lowercased().hasSuffix(".json") {
                    try AtomicOutput.writeText(try JSONText.encode(profile, pretty: true) + "\n", to: URL(fileURLWithPath: output), shown: output)
                } else {
                    try writeTables(profile.tables(study: study), to: output)
                }
            }
            if json { try printJSON(profile); return }
            if profile.columns.isEmpty { warn("note: the study declares no fact layers (`facts:`); only people are shown") }
            for level in [Profile.Level.study, .cluster, .area] {
                for r in profile.rows where r.level == level {
                    let figures = profile.columns.map { c -> String in
                        let v = r.values[c.key] ?? nil
                        return "\(c.label) \(v.map(Self.figure) ?? "–")"
                    }
                    print("\(level.rawValue) \(r.name): \(Format.people(r.population)) people" + (figures.isEmpty ? "" : "; " + figures.joined(separator: "; ")))
                }
            }
            if let output { print("Wrote \(output)") }
        }
    }
}
