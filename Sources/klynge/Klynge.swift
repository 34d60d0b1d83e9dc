import ArgumentParser
import Foundation
import KlyngeStudyAnalysis
import KlyngeIngest
import KlyngeJobs
import KlyngeGeo
import KlyngeIO
import KlyngeStore
import KlyngeStudy

@main
struct Klynge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "klynge",
        abstract: "Village clusters and shared meeting places: load, check and export geodata; road travel times.",
        subcommands: [Inspect.self, ImportOSM.self, Validate.self, Export.self, SnapCommand.self, MatrixCommand.self, IsochronesCommand.self,
                      RegionsCommand.self,
                      CoverageCommand.self, CompareCommand.self, ImpactCommand.self, ClustersCommand.self, ReportCommand.self,
                      RenderCommand.self, OptimizeCommand.self, ScenariosCommand.self, SurveyCommand.self, ProfileCommand.self, PublishCommand.self, StoreCommand.self, ServeCommand.self, TokenCommand.self]
    )
}

/// Prints to standard error.
func warn(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Runs a body, turning any error into a one-line message on stderr and exit status 1.
func failing(_ body: () throws -> Void) throws {
    do { try body() } catch let e as ExitCode {
        throw e
    } catch {
        warn("klynge: error: \(error)")
        throw ExitCode.failure
    }
}

struct StudyOptions: ParsableArguments {
    @Argument(help: "The study file (YAML).")
    var study: String

    @OptionGroup var more: StudyMoreOptions

    var source: StudySource { more.source(study: study) }
    var storePath: String { source.storePath }
    var storeLabel: String { source.storeLabel }
    func storeLocation() throws -> StoreLocation { try source.storeLocation() }
    func key() throws -> String { try source.key() }
    func scenarioStore() throws -> ScenarioStore { try source.scenarioStore() }
    func surveyStore() throws -> SurveyStore { try source.surveyStore() }
    func load() throws -> LoadResult { try source.load() }
}

/// The options that come with a study file (`serve` takes them without one when it serves several studies).
struct StudyMoreOptions: ParsableArguments {
    @Option(name: .customLong("assume-crs"), help: "CRS for layers that declare none (e.g. EPSG:4326 for a lon/lat CSV).")
    var assumeCRS: String?

    @Option(name: .customLong("source"),
            help: "Replace a layer's source: ROLE=SOURCE, e.g. areas=PG:\"dbname=kommune\" (repeatable).")
    var sources: [String] = []

    @Option(help: "The store of saved scenarios, proposals and survey answers: a GeoPackage (default: <study>.scenarios.gpkg beside the study file), or a PostgreSQL database shared by several instances (postgresql://USER@HOST/DB or PG:dbname=…).")
    var store: String?

    @Option(name: .customLong("study-key"), help: "The study's key in a PostgreSQL store (default: made from the study's name, `Samsø` → `samsoe`).")
    var studyKey: String?

    func validate() throws {
        for s in sources where !s.contains("=") {
            throw ValidationError("--source takes ROLE=SOURCE, got `\(s)`")
        }
    }

    func source(study: String) -> StudySource {
        StudySource(study: study, assumeCRS: assumeCRS, sources: sources, store: store, studyKey: studyKey)
    }
}

/// A study file with its options: how to load it and where its records are.
struct StudySource {
    var study: String
    var assumeCRS: String?
    var sources: [String] = []
    var store: String?
    var studyKey: String?

    var storePath: String { store ?? ScenarioStore.defaultPath(forStudy: study) }

    /// Where the study's records are; a database keeps them under the study's key.
    func storeLocation() throws -> StoreLocation {
        guard StoreLocation.isDatabase(storePath) else { return .geoPackage(path: storePath) }
        return StoreLocation(storePath, study: try key())
    }

    /// The study's key in a database: --study-key, or its name as an id.
    func key() throws -> String {
        if let studyKey {
            guard !studyKey.isEmpty, studyKey.count <= 80 else { throw ValidationError("--study-key is 1 to 80 characters") }
            return studyKey
        }
        return ScenarioNaming.id(for: try StudyFile.load(path: study).name)
    }

    /// The store for messages: the path, or the database without user or password.
    var storeLabel: String { (try? storeLocation().label) ?? storePath }

    func scenarioStore() throws -> ScenarioStore { ScenarioStore(location: try storeLocation()) }
    func surveyStore() throws -> SurveyStore { SurveyStore(location: try storeLocation()) }

    func load() throws -> LoadResult {
        var overrides: [String: String] = [:]
        for s in sources {
            let parts = s.split(separator: "=", maxSplits: 1)
            overrides[String(parts[0])] = String(parts[1])
        }
        return try StudyLoader(options: LoadOptions(assumeCRS: assumeCRS.map(CRS.init), sourceOverrides: overrides))
            .load(path: study)
    }
}

/// Prints a validation report: what was read on stdout (or `lines`), the findings (errors first) on stderr.
func printReport(_ report: ValidationReport, lines print: (String) -> Void = { Swift.print($0) }) {
    print("Working CRS: \(report.workingCRS)")
    for l in report.layers {
        let ext = l.extent.map { e in e.map { String(format: "%.1f", $0) }.joined(separator: ", ") } ?? "—"
        print("  \(l.role): \(l.source)\(l.layer.map { " [\($0)]" } ?? "") — read \(l.featuresRead), loaded \(l.featuresLoaded); "
            + "\(l.geometryTypes.joined(separator: "/")); source CRS \(l.sourceCRS ?? "none"); extent \(ext)")
    }
    for issue in report.issues.sorted(by: { $0.severity < $1.severity }) { warn("  \(issue)") }
    let e = report.issues.filter { $0.severity == .error }.count
    let w = report.issues.filter { $0.severity == .warning }.count
    let r = report.issues.filter { $0.severity == .repaired }.count
    print("\(e) error(s), \(w) warning(s), \(r) repair(s)")
}

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the layers of any source GDAL reads: geometry type, count, CRS, extent.")

    @Argument(help: "A file, or a PG: connection string.")
    var source: String

    @Flag(help: "Print JSON: {\"layers\":[{\"name\",\"geometryType\",\"featureCount\",\"crs\",\"extent\"}]}.")
    var json = false

    func run() throws {
        try failing {
            let info = try Inspector.inspect(source)
            if json {
                struct Out: Encodable { var layers: [LayerInfo] }
                print(try JSONText.encode(Out(layers: info.layers)))
            } else {
                print("\(SourcePath.display(info.source)) (\(info.driver))")
                for l in info.layers {
                    let crs = l.crs.map { $0.count > 60 ? String($0.prefix(57)) + "…" : $0 } ?? "no CRS"
                    let ext = l.extent.map { $0.map { String(format: "%.6f", $0) }.joined(separator: ", ") } ?? "empty"
                    print("  \(l.name): \(l.geometryType), \(l.featureCount) features, \(crs), extent \(ext)")
                }
            }
        }
    }
}

struct ImportOSM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-osm",
        abstract: "Turn an OSM extract into roads, places and facilities layers of one GeoPackage."
    )

    @Argument(help: "An OSM extract: .osm.pbf, .osm or .osm.gz.")
    var input: String?

    @Option(name: .shortAndLong, help: "The GeoPackage to write.")
    var output: String?

    @Option(help: "A tag table (YAML) replacing the built-in one.")
    var tags: String?

    @Flag(name: .customLong("print-tags"), help: "Print the built-in tag table and exit.")
    var printTags = false

    @Flag(name: .customLong("allow-empty"), help: "Write the output even when the extract has no roads (refused otherwise).")
    var allowEmpty = false

    func validate() throws {
        if printTags { return }
        guard input != nil else { throw ValidationError("name the OSM extract to import") }
        guard let output else { throw ValidationError("name the output with -o OUT.gpkg") }
        guard output.lowercased().hasSuffix(".gpkg") else { throw ValidationError("the output must be a .gpkg file") }
    }

    func run() throws {
        if printTags {
            print(TagTable.defaultYAML, terminator: "")
            return
        }
        try failing {
            var table = TagTable.defaultTable
            if let tags {
                guard let text = try? String(contentsOfFile: tags, encoding: .utf8) else {
                    throw ImportError(path: tags, message: "cannot read the tag table")
                }
                table = try TagTable.parse(yaml: text, path: tags)
            }
            let s = try OSMImporter(tags: table).run(input: input!, output: URL(fileURLWithPath: output!), allowEmpty: allowEmpty)
            print("Wrote \(output!):")
            print("  roads: \(s.roads)")
            print("  places: \(s.places) (\(s.placesWithPopulation) with population, total \(s.populationTotal))")
            let cats = s.facilitiesByCategory.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            print("  facilities: \(s.facilities) (\(cats))")
            for m in s.merged { print("  merged: \(m)") }
            for w in s.warnings { warn("warning: \(w)") }
        }
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read every layer of a study and report what was read, repaired and wrong. Exit 1 on errors; writes nothing."
    )

    @OptionGroup var options: StudyOptions

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        try failing {
            var result = try options.load()
            // The layers first; with usable layers, everything the analysis and the report would refuse.
            if result.isUsable, let study = result.study {
                result.report.issues += StudyCheck.findings(study, file: SourcePath.display(options.study))
            }
            if json {
                try printJSON(result.report)
            } else {
                printReport(result.report)
            }
            if result.report.hasErrors { throw ExitCode.failure }
        }
    }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write study layers: .geojson (RFC 7946, WGS 84), .gpkg (working CRS), .csv (working CRS, WKT)."
    )

    @OptionGroup var options: StudyOptions

    @Option(name: .long, parsing: .upToNextOption,
            help: "Layer(s) to write: areas, demand, facilities, roads (several only into a .gpkg).")
    var layer: [String] = []

    @Option(name: .shortAndLong, help: "Output file; the format follows the extension.")
    var output: String

    func validate() throws {
        guard !layer.isEmpty else { throw ValidationError("name the layer with --layer (areas, demand, facilities, roads)") }
        for l in layer where StudyLayer(rawValue: l) == nil {
            throw ValidationError("unknown layer `\(l)`; use areas, demand, facilities or roads")
        }
        guard let format = ExportFormat.from(path: output) else {
            throw ValidationError("unknown output format `\(output)`; use .geojson, .gpkg or .csv")
        }
        if layer.count > 1 && format != .gpkg { throw ValidationError("several layers go only into a .gpkg") }
    }

    func run() throws {
        try failing {
            let result = try options.load()
            guard let study = result.study, result.isUsable else {
                printReport(result.report, lines: { warn($0) })
                warn("klynge: error: the study has errors; nothing was written")
                throw ExitCode.failure
            }
            for issue in result.report.issues { warn("\(issue)") }
            let tables = try layer.compactMap(StudyLayer.init(rawValue:)).map { try StudyTables.table($0, of: study) }
            try Exporter.write(tables, to: URL(fileURLWithPath: output))
            print("Wrote \(output): " + tables.map { "\($0.name) \($0.features.count)" }.joined(separator: ", "))
        }
    }
}
