import ArgumentParser
import Foundation
import KlyngeAnalysis
import KlyngeGeo
import KlyngeIngest
import KlyngeIO
import KlyngeNetwork
import KlyngeRender
import KlyngeJobs
import KlyngeStore
import KlyngeStudy
import KlyngeStudyAnalysis
import KlyngeWork

extension RegionObjective: ExpressibleByArgument {}
extension RegionSolverChoice: ExpressibleByArgument {}

struct RegionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regions",
        abstract: "Propose clusters of areas (the default), compare clusterings, or delete a saved one.",
        subcommands: [RegionsPropose.self, RegionsCompare.self, RegionsDelete.self],
        defaultSubcommand: RegionsPropose.self
    )
}

struct RegionsDelete: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a saved clustering from the store, by id or name.")
    @OptionGroup var options: StudyOptions
    @Argument(help: "The saved clustering's id or name (see `regions compare`).") var clustering: String

    func run() throws {
        try failing {
            let store = try options.scenarioStore()
            let all = try store.proposals()
            guard let hit = all.first(where: { $0.record.id == clustering }) ?? all.first(where: { $0.record.name == clustering }) else {
                throw ValidationError("no saved clustering `\(clustering)` in \(options.storeLabel)"
                                      + (all.isEmpty ? "" : " (saved: \(all.map(\.record.name).joined(separator: ", ")))"))
            }
            try store.withWriterLock { _ = try store.deleteProposal(hit.record.id) }
            print("Deleted the saved clustering `\(hit.record.name)` (\(hit.record.id)) from \(options.storeLabel)")
        }
    }
}

struct RegionsCompare: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Clusterings side by side: sizes, travel to the hubs, facilities, coverage with own facilities, and changes.",
        discussion: """
        Each --clustering is `study` (the study's own clusters), a proposal saved by `regions --save`, or a \
        file: the .gpkg, .geojson or .csv `regions -o` writes, or any table with `area_id` and `cluster` columns. \
        Without any: the study's own clusters and every saved proposal. Areas changed and the adjusted Rand \
        index are counted against the first. --map draws one panel per clustering.
        """
    )

    @OptionGroup var options: StudyOptions
    @Option(help: "`study`, a saved proposal's name, or a clustering file (repeatable, in the order of the columns).")
    var clustering: [String] = []
    @Option(help: "Language of the table: da or en (default: the study's).")
    var lang: String?
    @Flag(help: "Print JSON.")
    var json = false
    @Option(name: .shortAndLong, help: "Write the table (.md) or the figures (.json).")
    var output: String?
    @Option(help: "Draw the clusterings side by side, one map panel each (.png, .pdf or .svg).")
    var map: String?
    @Option(help: "Paper of the map: A5, A4, A3, A2, A1 (landscape).")
    var paper: String = "A3"
    @Flag(help: "Portrait paper for the map.")
    var portrait = false
    @Option(help: "Resolution of a PNG map (dots per inch).")
    var dpi: Double = 200
    @Option(help: "Folder of named styles (the panels use `clusters`).")
    var styles: String = "styles"

    func validate() throws {
        if let lang, !["da", "en"].contains(lang) { throw ValidationError("--lang is da or en") }
        if let output, !(output.hasSuffix(".md") || output.hasSuffix(".json")) { throw ValidationError("-o writes .md or .json") }
        if let map, OutputKind.from(path: map) == nil { throw ValidationError("--map writes .png, .pdf or .svg") }
    }

    func run() throws {
        try failing {
            let analysis = try loadAnalysis(options)
            let store = try options.scenarioStore()
            var alternatives: [(name: String, clustering: SavedClustering?)] = []
            let language = lang ?? analysis.study.language
            // By default the study's own clusters (when it has any) and every saved proposal.
            let own = (try? SavedClustering.own(analysis.study, name: "study")) != nil ? ["study"] : []
            let names = clustering.isEmpty ? own + (try store.proposals().compactMap { $0.clustering?.name }) : clustering
            guard !names.isEmpty else { throw ValidationError("nothing to compare: the study has no clusters of its own and no saved proposals; name clusterings with --clustering") }
            for name in names {
                if let saved = try namedClustering(name, options) {
                    alternatives.append((saved.name, saved))
                } else {
                    alternatives.append((language == "en" ? "The study's own" : "Studiets egne", nil))
                }
            }
            let comparison = try ClusteringComparison(analysis: analysis, alternatives: alternatives)
            let table = comparison.markdown(language: language)
            // The table and the map are published together, or neither.
            var outputs: [(url: URL, write: (URL) throws -> Void)] = []
            if let output {
                let text = output.hasSuffix(".json") ? try JSONText.encode(comparison, pretty: true) : table
                outputs.append((URL(fileURLWithPath: output), { tmp in try AtomicOutput.writeText(text, to: tmp, shown: output) }))
            }
            if let map {
                let page: Page
                do { page = try Page.checked(paper: paper, landscape: !portrait, dpi: dpi, width: nil, height: nil, defaultDPI: 200, maxPixels: 400_000_000) }
                catch let e as PageError { throw ValidationError("--\(e.parameter): \(e.message)") }
                let style = try Style.load("clusters", stylesFolder: stylesFolder(styles))
                let kind = OutputKind.from(path: map)!
                let (layout, panels) = try MapMaker.clusteringPanels(study: analysis.study, analysis: analysis, style: style, alternatives: alternatives,
                                                                     page: page, kind: kind, language: language)
                let title = language == "en" ? "\(analysis.study.name): clusterings compared" : "\(analysis.study.name): klyngeinddelinger sammenlignet"
                outputs.append((URL(fileURLWithPath: map), { tmp in _ = try MapRenderer.renderPanels(panels, layout: layout, title: title, kind: kind, to: tmp.path) }))
            }
            try AtomicOutput.writeAll(outputs)
            if json { try printJSON(comparison); return }
            print(table, terminator: "")
            if let output { print("Wrote \(output)") }
            if let map { print("Wrote \(map)") }
        }
    }
}

struct RegionsPropose: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "propose",
        abstract: "Propose clusters: partition the study's areas into contiguous clusters, each with a hub, under constraints.",
        discussion: """
        Areas are neighbours when they share at least --min-shared-m of boundary (corners never count), when a \
        road runs from one into the other, or when `clusters.links` in the study file pairs them. Every village \
        is costed to every possible hub on the roads. Give --clusters k, or --max-clusters for as many as the \
        constraints allow. --solver auto proves the optimum with the exact solver on kommune-sized inputs and \
        uses the heuristic (deterministic for a --seed) on larger ones. Nothing is written when no partition \
        fits: the reasons name the areas, villages or categories at fault.
        """
    )

    @OptionGroup var options: StudyOptions

    @Option(help: "Number of clusters.")
    var clusters: Int?
    @Flag(name: .customLong("max-clusters"), help: "As many clusters as the constraints allow (max-p).")
    var maxClusters = false
    @Option(help: "travel (least population-weighted travel to the hub), balance (populations closest to equal) or count (most clusters).")
    var objective: RegionObjective?
    @Option(name: .customLong("min-population"), help: "Least population of a cluster.")
    var minPopulation: Double?
    @Option(name: .customLong("max-population"), help: "Largest population of a cluster.")
    var maxPopulation: Double?
    @Option(name: .customLong("max-minutes"), help: "Every village reaches its cluster's hub within this many minutes.")
    var maxMinutes: Double?
    @Option(help: "Travel mode for the hub: car, bike, walk or distance.")
    var mode: TravelMode = .car
    @Option(help: "Categories every cluster must hold an open facility of, comma-separated (e.g. hall,school).")
    var require: String?
    @Option(help: "With --require: facilities as under this scenario.")
    var scenario: String?
    @Option(help: "An area field whose values clusters never mix (a kommune code, a school district).")
    var within: String?
    @Option(help: "AREA=CLUSTER: the area (id or name) belongs to that cluster (repeatable).")
    var lock: [String] = []
    @Option(help: "Start from a clustering: `study`, a saved proposal, or a clustering file (its cluster count is the default --clusters).")
    var from: String?
    @Option(help: "With --from: its clusters (names, comma-separated) that stay whole, each under its own name.")
    var keep: String?
    @Option(help: "Villages or facilities (ids or names) that must be hubs, comma-separated.")
    var hubs: String?
    @Option(name: .customLong("min-shared-m"), help: "Least shared boundary, in metres, for two areas to be neighbours.")
    var minSharedMeters: Double = RegionContiguity.defaultMinSharedMeters
    @Option(help: "exact, heuristic or auto.")
    var solver: RegionSolverChoice = .auto
    @Option(help: "Seed of the heuristic search (same seed, same answer).")
    var seed: UInt64 = 1
    @Option(name: .customLong("time-limit"), help: "Seconds the search may take.")
    var timeLimit: Double = 60
    @Flag(help: "Print JSON.")
    var json = false
    @Option(name: .shortAndLong, help: "Write the clusters (.gpkg with the areas too, .geojson, .csv).")
    var output: String?
    @Option(help: "Save the proposal in the study's store under this name.")
    var save: String?

    func validate() throws {
        if clusters == nil && !maxClusters && from == nil {
            throw ValidationError("give --clusters k, or --max-clusters for as many as the constraints allow (or --from a clustering to keep its count)")
        }
        if keep != nil && from == nil { throw ValidationError("--keep names clusters of a --from clustering: give --from too") }
        if clusters != nil && maxClusters { throw ValidationError("--clusters and --max-clusters exclude each other") }
        for l in lock where !l.contains("=") { throw ValidationError("--lock takes AREA=CLUSTER, got `\(l)`") }
        if let output, ExportFormat.from(path: output) == nil { throw ValidationError("unknown output format `\(output)`; use .gpkg, .geojson or .csv") }
        if let save, save.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--save needs a name") }
    }

    func request(start: SavedClustering?) -> RegionRequest {
        var r = RegionRequest()
        let startCount = start.map { Set($0.assignments.values).count }
        r.count = (clusters ?? (maxClusters ? nil : startCount)).map { .exactly($0) } ?? .most
        r.objective = objective ?? (r.count == .most ? .count : .travel)
        r.start = start
        r.keep = list(keep)
        r.minPopulation = minPopulation
        r.maxPopulation = maxPopulation
        r.maxMinutes = maxMinutes
        r.mode = mode
        r.require = list(require)
        r.scenario = scenario
        r.within = within
        r.locks = lock.map { l in
            let parts = l.split(separator: "=", maxSplits: 1).map(String.init)
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }
        r.hubs = list(hubs)
        r.minSharedMeters = minSharedMeters
        r.solver = solver
        r.seed = seed
        r.timeLimitSeconds = timeLimit
        return r
    }

    /// A comma-separated option as its items.
    func list(_ text: String?) -> [String] {
        text.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } } ?? []
    }

    func run() throws {
        try failing {
            let analysis = try loadAnalysis(options)
            let start = try from.map { key in try namedClustering(key, options, option: "--from") ?? SavedClustering.own(analysis.study, name: "study") }
            let setup = try RegionSetup(analysis: analysis, request: request(start: start))
            if let note = setup.startNote { warn("note: \(note)") }
            for i in setup.contiguity.isolated {
                let a = analysis.study.areas[i]
                warn("note: \(a.name) (\(a.id)) has no neighbour (no shared boundary, road or link): it can only be a cluster of its own; "
                     + "pair it with another area under `clusters.links` in the study file to join them")
            }
            let proposal: RegionProposal
            // --time-limit bounds the whole search: the exact solver, and the heuristic after it.
            do { proposal = try setup.solve(control: WorkControl(timeLimitSeconds: timeLimit)) } catch let e as RegionsInfeasible {
                warn("klynge: error: \(e)")
                throw ExitCode.failure
            }
            let store = try options.scenarioStore()
            func publish() throws {
                if let output {
                    // A GeoPackage gets the areas with their cluster as a second layer; other formats hold one.
                    let clusters = try proposal.table(study: analysis.study)
                    let tables = ExportFormat.from(path: output) == .gpkg ? [clusters, proposal.areaTable(study: analysis.study)] : [clusters]
                    try writeTables(tables, to: output)
                }
                if let save {
                    let record = try store.putProposal(proposal.saved(name: save))
                    if !json { print("Saved as \(record.id) in \(options.storeLabel)") }
                }
            }
            // With --save the store's lock comes first: when a running service holds it, nothing is written.
            if save != nil { try store.withWriterLock(publish) } else { try publish() }
            if json { try printJSON(proposal); return }
            print(summary(proposal))
            if let output { print("Wrote \(output)") }
        }
    }

    func summary(_ p: RegionProposal) -> String {
        let s = p.search
        let unit = p.mode.isTimed ? "min" : "km"
        var how = s.solver == .exact ? (s.proven ? "exact, proven optimal" : "exact, not proven optimal") : "heuristic, seed \(s.seed)"
        if let stop = s.stoppedEarly { how += "; \(stop)" }
        let value: String
        switch s.objective {
        case .travel: value = "travel \(Format.people(s.value)) person-\(unit)" + (s.proven ? "" : s.bound.map { " (bound \(Format.people($0)))" } ?? "")
        case .balance: value = "total deviation from the mean population \(Format.people(s.value))"
        case .count: value = "\(p.clusters.count) clusters" + (s.proven ? "" : s.bound.map { " (at most \(Format.people($0)))" } ?? "")
        }
        var lines = ["\(p.clusters.reduce(0) { $0 + $1.areas.count }) areas in \(p.clusters.count) clusters (\(how); \(value); \(String(format: "%.2f", s.seconds)) s)"]
        lines.append("Constraints: " + p.constraints.joined(separator: "; "))
        for c in p.clusters {
            let areas = c.areas.map { $0.name == $0.id ? $0.id : "\($0.name) (\($0.id))" }.joined(separator: ", ")
            var line = "\(c.name): hub \(c.hub?.name ?? "–") (\(c.hub?.kind.rawValue ?? "none")); \(Format.people(c.population)) people in \(c.areas.count) area\(c.areas.count == 1 ? "" : "s"): \(areas)"
            if let mean = c.meanToHub, let worst = c.worstToHub {
                line += "; to the hub \(String(format: "%.1f", mean)) \(unit) on average, at most \(String(format: "%.1f", worst)) \(unit) (\(c.worstVillage ?? "–"))"
            }
            if !c.required.isEmpty { line += "; " + c.required.keys.sorted().map { "\($0): \(c.required[$0]!)" }.joined(separator: ", ") }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
