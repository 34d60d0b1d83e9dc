import ArgumentParser
import Foundation
import KlyngeStudyAnalysis
import KlyngeIngest
import KlyngeJobs
import KlyngeGeo
import KlyngeIO
import KlyngeNetwork
import KlyngeStudy

extension TravelMode: ExpressibleByArgument {}

/// Loads a study and stops with the report on stderr if it has errors.
func loadUsableStudy(_ options: StudyOptions) throws -> Study { try loadUsableStudy(options.source) }

func loadUsableStudy(_ source: StudySource) throws -> Study {
    let result = try source.load()
    guard let study = result.study, result.isUsable else {
        printReport(result.report, lines: { warn($0) })
        warn("klynge: error: the study has errors")
        throw ExitCode.failure
    }
    return study
}

/// A duration: seconds, or with a unit (`15min`, `1h`, `90s`).
func parseDuration(_ text: String) throws -> Double {
    let t = text.trimmingCharacters(in: .whitespaces).lowercased()
    for (suffix, factor) in [("min", 60.0), ("h", 3600.0), ("s", 1.0)] where t.hasSuffix(suffix) {
        if let v = Double(t.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), v >= 0 { return v * factor }
    }
    if let v = Double(t), v >= 0 { return v }
    throw ValidationError("`\(text)` is not a duration (seconds, or e.g. 15min, 1h)")
}

func parseList(_ text: String, name: String) throws -> [Double] {
    let values = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ ($0 ?? -1) > 0 }) else {
        throw ValidationError("\(name) takes positive numbers separated by commas, not `\(text)`")
    }
    return values.map { $0! }
}

func writeSnapRecords(_ records: [SnapRecord], crs: CRS, to url: URL) throws {
    let fields = ["layer", "id", "name", "status", "off_network_m", "snap_x", "snap_y", "edge", "component", "warning"]
    let features = records.map { r -> Feature in
        var a: [String: AttributeValue] = ["layer": .string(r.layer), "id": .string(r.id), "name": .string(r.name),
                                           "status": .string(r.snap == nil ? "not attached" : (r.warning == nil ? "ok" : "check")),
                                           "warning": r.warning.map(AttributeValue.string) ?? .null]
        if let s = r.snap {
            a["off_network_m"] = .double((s.distanceMeters * 100).rounded() / 100)
            a["snap_x"] = .double((s.point.x * 100).rounded() / 100)
            a["snap_y"] = .double((s.point.y * 100).rounded() / 100)
            a["edge"] = .int(Int64(s.edge))
            a["component"] = .int(Int64(s.component))
        }
        // The off-network leg as a line, so it maps directly.
        let g: Geometry = r.snap.map { .lineString([r.location, $0.point]) } ?? .point(r.location)
        return Feature(geometry: g, attributes: a)
    }
    let types: [String: FieldType] = ["off_network_m": .real, "snap_x": .real, "snap_y": .real, "edge": .integer, "component": .integer]
    let table = FeatureTable(name: "snap", crs: crs, fields: fields.map { FieldDefinition(name: $0, type: types[$0] ?? .string) },
                             features: features)
    try Exporter.write([table], to: url)
}

/// Road classes the mode's profile does not know are travelled at its unclassified speed: say so.
func warnUnknownClasses(_ network: StudyNetwork, _ mode: TravelMode) {
    let unknown = network.unknownClasses(mode)
    guard !unknown.isEmpty else { return }
    let speed = network.profile(mode).unclassifiedSpeedKmh.map { String(format: "%.0f km/h", $0) } ?? "not used"
    let list = unknown.prefix(8).map { "\($0.roadClass) (\($0.lines))" }.joined(separator: ", ")
    warn("warning: \(mode.rawValue): road classes without a speed, travelled as unclassified (\(speed)): \(list)"
         + (unknown.count > 8 ? ", …" : "") + "; map them with network.class_values or set network.modes.\(mode.rawValue).speeds_kmh")
}

func reportSnapProblems(_ records: [SnapRecord], label: String) {
    let failed = records.filter { $0.snap == nil }
    let flagged = records.filter { $0.snap != nil && $0.warning != nil }
    if !failed.isEmpty || !flagged.isEmpty {
        warn("\(label): \(failed.count) point(s) not attached, \(flagged.count) to check")
        for r in (failed + flagged).prefix(10) {
            // A point read without a name is named by its id; say it once.
            let who = r.name.isEmpty || r.name == r.id ? r.id : "\(r.id) (\(r.name))"
            warn("  \(r.layer) \(who): \(r.warning ?? "")")
        }
        if failed.count + flagged.count > 10 { warn("  … (all of them with --snap-report FILE)") }
    }
}

struct SnapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snap",
        abstract: "Show where each demand point and facility joins the road network, and which need a look."
    )

    @OptionGroup var options: StudyOptions

    @Option(help: "Travel mode: distance, car, bike, walk.")
    var mode: TravelMode = .car

    @Option(name: .shortAndLong, help: "Write the report (.csv, .geojson with the off-network legs as lines, .gpkg).")
    var output: String?

    func run() throws {
        try failing {
            let study = try loadUsableStudy(options)
            let network = try StudyNetwork(study: study)
            warnUnknownClasses(network, mode)
            let snapper = network.snapper(mode)
            let records = SnapReport.study(study, snapper: snapper, suspiciousMeters: network.suspiciousSnapMeters)
            if let output {
                try writeSnapRecords(records, crs: study.crs, to: URL(fileURLWithPath: output))
                print("Wrote \(output): \(records.count) points")
            } else {
                for r in records {
                    let where_ = r.snap.map { String(format: "%.1f m to (%.1f, %.1f), component %d", $0.distanceMeters, $0.point.x, $0.point.y, $0.component) } ?? "—"
                    print("\(r.layer)\t\(r.id)\t\(r.name)\t\(where_)\(r.warning.map { "\t\($0)" } ?? "")")
                }
            }
            let g = snapper.graph
            print("Network (\(mode.rawValue)): \(g.network.nodeCount) nodes, \(g.network.edgeCount) edges, "
                  + "\(g.componentSizes.count) components (largest \(g.largestComponent >= 0 ? g.componentSizes[Int(g.largestComponent)] : 0) nodes)")
            let failed = records.filter { $0.snap == nil }.count, flagged = records.filter { $0.snap != nil && $0.warning != nil }.count
            print("\(records.count) points: \(records.count - failed) attached, \(failed) not attached, \(flagged) to check")
        }
    }
}

struct MatrixCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matrix",
        abstract: "Travel distances and times between points along the roads, as CSV (from_id,to_id,distance_m,duration_s).",
        discussion: """
        With a study: from its demand points to its facilities (or as --from/--to say). Without one: \
        --roads FILE --from FILE --to FILE. An unreachable pair has empty distance_m and duration_s; \
        `distance` mode leaves duration_s empty. With --nearest or a cut-off, rows beyond it are left out.
        """
    )

    @Argument(help: "A study file (optional: without it give --roads, --from and --to as files).")
    var study: String?

    @Option(name: .customLong("assume-crs"), help: "CRS for layers that declare none.")
    var assumeCRS: String?

    @Option(help: "Travel mode: distance, car, bike, walk.")
    var mode: TravelMode = .car

    @Option(help: "With a study: demand or facilities (default demand). Without: a points file.")
    var from: String?

    @Option(help: "With a study: facilities or demand (default facilities). Without: a points file.")
    var to: String?

    @Option(help: "With a study: only facilities of this category.")
    var category: String?

    @Option(help: "Without a study: the roads file.")
    var roads: String?

    @Option(name: .customLong("from-id"), help: "Id field of --from (default: the feature id).")
    var fromId: String?

    @Option(name: .customLong("to-id"), help: "Id field of --to (default: the feature id).")
    var toId: String?

    @Option(name: .customLong("class-field"), help: "Without a study: road class field (default highway, if present).")
    var classField: String?

    @Option(name: .customLong("maxspeed-field"), help: "Without a study: speed-limit field (default maxspeed, if present).")
    var maxspeedField: String?

    @Option(name: .customLong("oneway-field"), help: "Without a study: one-way field (default oneway, if present).")
    var onewayField: String?

    @Option(help: "Without a study: working CRS (default EPSG:25832 in Denmark, else the UTM zone).")
    var crs: String?

    @Option(help: "Keep only the k nearest destinations per origin.")
    var nearest: Int?

    @Option(name: .customLong("max-duration"), help: "Leave out pairs slower than this (seconds, or 15min, 1h).")
    var maxDuration: String?

    @Option(name: .customLong("max-distance"), help: "Leave out pairs longer than this many metres.")
    var maxDistance: Double?

    @Option(name: .customLong("max-snap"), help: "Maximum off-network distance in metres (default 1000, or the study's).")
    var maxSnap: Double?

    @Option(name: .customLong("snap-report"), help: "Also write the snap report (.csv, .geojson, .gpkg).")
    var snapReport: String?

    @Option(name: .shortAndLong, help: "The CSV file to write.")
    var output: String

    func validate() throws {
        if study == nil {
            guard roads != nil, from != nil, to != nil else {
                throw ValidationError("without a study file, give --roads, --from and --to")
            }
        } else if roads != nil {
            throw ValidationError("--roads is for use without a study file")
        }
        guard output.lowercased().hasSuffix(".csv") else { throw ValidationError("the matrix is written as .csv") }
        if let nearest, nearest < 1 { throw ValidationError("--nearest must be at least 1") }
        if let maxDuration { _ = try parseDuration(maxDuration) }
        if maxDuration != nil && mode == .distance { throw ValidationError("--max-duration needs a timed mode (car, bike, walk)") }
    }

    func run() throws {
        try failing {
            let started = Date()
            let loaded = try loadInputs()
            var settings = loaded.study.network
            if let maxSnap { settings.maxSnapMeters = maxSnap }
            let network = try StudyNetwork(roads: loaded.study.roads, settings: settings)
            warnUnknownClasses(network, mode)
            let snapper = network.snapper(mode)
            let fromRecords = SnapReport.snap(layer: loaded.fromLabel, points: loaded.from, snapper: snapper,
                                              suspiciousMeters: network.suspiciousSnapMeters)
            let toRecords = SnapReport.snap(layer: loaded.toLabel, points: loaded.to, snapper: snapper,
                                            suspiciousMeters: network.suspiciousSnapMeters)
            reportSnapProblems(fromRecords + toRecords, label: "snapping")
            if let snapReport { try writeSnapRecords(fromRecords + toRecords, crs: loaded.study.crs, to: URL(fileURLWithPath: snapReport)) }
            let opts = MatrixOptions(nearest: nearest, maxDurationSeconds: try maxDuration.map(parseDuration), maxDistanceMeters: maxDistance)
            let tty = isatty(2) != 0
            let summary = try MatrixCSV.write(
                to: URL(fileURLWithPath: output), fromIds: loaded.from.map(\.id), toIds: loaded.to.map(\.id),
                origins: fromRecords.map(\.snap), destinations: toRecords.map(\.snap), graph: snapper.graph, options: opts,
                progress: tty ? { done, total in FileHandle.standardError.write(Data("\r\(done)/\(total) searches".utf8)) } : nil)
            if tty { warn("") }
            let seconds = Date().timeIntervalSince(started)
            warn(String(format: "%@: %d × %d, %d rows; %d unreachable, %d with an end not attached; %.2f s",
                        output, summary.origins, summary.destinations, summary.pairsWritten, summary.unreachablePairs,
                        summary.unattachedPairs, seconds))
        }
    }

    struct Inputs {
        var study: Study
        var from: [(id: String, name: String, location: Coordinate)]
        var to: [(id: String, name: String, location: Coordinate)]
        var fromLabel: String
        var toLabel: String
    }

    func loadInputs() throws -> Inputs {
        if let study {
            let options = try StudyOptions.parse([study] + (assumeCRS.map { ["--assume-crs", $0] } ?? []))
            let s = try loadUsableStudy(options)
            func side(_ name: String) throws -> [(id: String, name: String, location: Coordinate)] {
                switch name {
                case "demand": return s.demand.map { ($0.id, $0.name, $0.location) }
                case "facilities":
                    return s.facilities.filter { f in category.map { f.categories.contains($0) } ?? true }.map { ($0.id, $0.name, $0.location) }
                default: throw ValidationError("with a study, --from and --to are `demand` or `facilities`, not `\(name)`")
                }
            }
            if let category, !s.categories.contains(where: { $0.key == category }) {
                throw ValidationError("unknown category `\(category)`")
            }
            let f = from ?? "demand", t = to ?? "facilities"
            return Inputs(study: s, from: try side(f), to: try side(t), fromLabel: f, toLabel: t)
        }
        // No study: a study file made of the three files.
        let roadsPath = roads!
        let fields = try VectorSource(roadsPath).layer(named: nil).fields.map(\.name)
        func pick(_ explicit: String?, _ candidates: [String]) -> String? {
            explicit ?? candidates.first { c in fields.contains { $0.lowercased() == c } }
        }
        var roadFields: [String: String] = [:]
        roadFields["class"] = pick(classField, ["highway", "fclass", "vejklasse", "class"])
        roadFields["maxspeed"] = pick(maxspeedField, ["maxspeed", "hastighed", "max_speed"])
        roadFields["oneway"] = pick(onewayField, ["oneway", "ensrettet"])
        func spec(_ source: String, id: String?) -> StudyFile.LayerSpec {
            StudyFile.LayerSpec(source: source, fields: id.map { ["id": $0] } ?? [:])
        }
        let file = StudyFile(name: "matrix", crs: crs, categories: [:],
                             layers: .init(areas: nil, demand: spec(from!, id: fromId), facilities: spec(to!, id: toId),
                                           roads: StudyFile.LayerSpec(source: roadsPath, fields: roadFields)))
        let result = try StudyLoader(options: LoadOptions(assumeCRS: assumeCRS.map(CRS.init)))
            .load(file, baseFolder: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        guard let s = result.study, result.isUsable else {
            printReport(result.report, lines: { warn($0) })
            warn("klynge: error: the inputs have errors")
            throw ExitCode.failure
        }
        return Inputs(study: s, from: s.demand.map { ($0.id, $0.name, $0.location) },
                      to: s.facilities.map { ($0.id, $0.name, $0.location) }, fromLabel: "from", toLabel: "to")
    }
}

struct IsochronesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "isochrones",
        abstract: "Service areas: where a facility is reached from within each time (or distance), as polygons.",
        discussion: """
        Built from the network reachable toward each facility, cut at the exact point and buffered by --buffer \
        metres. A demand point whose matrix time is within T lies on the T-area's network, up to its own \
        off-network leg.
        """
    )

    @OptionGroup var options: StudyOptions

    @Option(help: "Only facilities of this category.")
    var category: String?

    @Option(help: "Travel times in minutes, e.g. 5,10,15 (timed modes).")
    var minutes: String?

    @Option(help: "Distances in metres, e.g. 1000,2000 (distance mode).")
    var meters: String?

    @Option(help: "Travel mode: distance, car, bike, walk.")
    var mode: TravelMode = .car

    @Flag(help: "One area per time for all the facilities together.")
    var union = false

    @Option(help: "Buffer around the reachable roads, metres.")
    var buffer: Double = 100

    @Option(name: .shortAndLong, help: "Output: .geojson (RFC 7946) or .gpkg.")
    var output: String

    func validate() throws {
        if mode == .distance {
            guard meters != nil, minutes == nil else { throw ValidationError("distance mode takes --meters") }
        } else {
            guard minutes != nil, meters == nil else { throw ValidationError("\(mode.rawValue) takes --minutes") }
        }
        if let minutes { _ = try parseList(minutes, name: "--minutes") }
        if let meters { _ = try parseList(meters, name: "--meters") }
        guard buffer > 0 else { throw ValidationError("--buffer must be positive") }
        guard let f = ExportFormat.from(path: output), f != .csv else { throw ValidationError("write .geojson or .gpkg") }
    }

    func run() throws {
        try failing {
            let study = try loadUsableStudy(options)
            let network = try StudyNetwork(study: study)
            warnUnknownClasses(network, mode)
            let budgets = try minutes.map { try parseList($0, name: "--minutes").map { $0 * 60 } } ?? parseList(meters!, name: "--meters")
            let result = try Isochrones.build(study: study, network: network, request: .init(
                mode: mode, budgets: budgets, category: category, union: union, bufferMeters: buffer))
            reportSnapProblems(result.unattached, label: "facilities left out")
            try Exporter.write([result.table], to: URL(fileURLWithPath: output))
            print("Wrote \(output): \(result.table.features.count) areas")
        }
    }
}
