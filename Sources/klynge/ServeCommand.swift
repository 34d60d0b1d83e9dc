import ArgumentParser
import Foundation
import Hummingbird
import KlyngeStudyAnalysis
import KlyngeIngest
import KlyngeJobs
import KlyngeServer
import KlyngeStore
import KlyngeStudy

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the study over HTTP: OGC API Features, the analysis API and maps.",
        discussion: "Binds to 127.0.0.1 unless --host says otherwise. Writes need the bearer token (--token or KLYNGE_TOKEN); without one the service is read-only."
    )

    @Argument(help: "The study file (YAML); leave it out with --studies.")
    var study: String?
    @OptionGroup var more: StudyMoreOptions
    @Option(help: "Serve several studies, each under /studies/<id>/ with its own tokens: a studies file (YAML) or a folder of study folders (see the README).")
    var studies: String?
    @Option(help: "Address to bind.")
    var host: String = "127.0.0.1"
    @Option(help: "Port.")
    var port: Int = 8080
    @Option(help: "Bearer token for writes (default: the KLYNGE_TOKEN environment variable).")
    var token: String?
    @Option(help: "Folder of named styles.")
    var styles: String = "styles"
    @Option(name: .customLong("max-body"), help: "Largest request body in bytes.")
    var maxBody: Int = 256 * 1024
    @Option(name: .customLong("public-url"), help: "The address clients reach the service at (behind a proxy), e.g. https://klynge.kommune.dk; links use it.")
    var publicURL: String?
    @Option(help: "Threads for heavy work: maps, optimisation, clusters, rebuilds after a save.")
    var workers: Int = ServiceLimits().heavyWorkers
    @Option(name: .customLong("queue-limit"), help: "Heavy requests that may wait for a worker; more are answered 503 with Retry-After.")
    var queueLimit: Int = ServiceLimits().queueLimit
    @Option(name: .customLong("survey-rate"),
            help: "Survey answers one address may send: BURST/SECONDS, a burst and then one per SECONDS (default 20/30).")
    var surveyRate: String = "20/30"
    @Flag(name: .customLong("no-request-log"), help: "Log no line per request (errors and store changes are still logged).")
    var noRequestLog = false
    @Option(name: .customLong("follow-seconds"),
            help: "With a PostgreSQL store: how often to look for changes made by other instances (default 1 s).")
    var followSeconds: Double = 1

    /// `--survey-rate` as a limit, or nil when it cannot be read.
    var surveyRateLimit: SurveyRateLimit? {
        let parts = surveyRate.split(separator: "/").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let burst = parts[0], let seconds = parts[1], burst.isFinite, seconds.isFinite,
              (1...100_000).contains(burst), (0.001...86_400).contains(seconds) else { return nil }
        var l = SurveyRateLimit()
        l.burst = burst.rounded(.down)
        l.intervalSeconds = seconds
        return l
    }

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port goes from 1 to 65535") }
        guard (1...64).contains(workers) else { throw ValidationError("--workers goes from 1 to 64") }
        guard (0...1000).contains(queueLimit) else { throw ValidationError("--queue-limit goes from 0 to 1000") }
        guard (1024...(64 << 20)).contains(maxBody) else { throw ValidationError("--max-body goes from 1024 to 67108864 bytes") }
        guard (study == nil) != (studies == nil) else { throw ValidationError("give a study file, or --studies, but not both") }
        if studies != nil {
            if token != nil { throw ValidationError("with --studies each study has its own tokens, in the studies file; --token is for one study") }
            if more.studyKey != nil { throw ValidationError("with --studies each study's key in the store is its id; leave out --study-key") }
            if let store = more.store, !StoreLocation.isDatabase(store) {
                throw ValidationError("with --studies, --store names a PostgreSQL database (each study keeps its own GeoPackage otherwise)")
            }
            if !more.sources.isEmpty || more.assumeCRS != nil { throw ValidationError("--source and --assume-crs are for one study; set them in each study file") }
        }
        guard followSeconds.isFinite, (0.1...60).contains(followSeconds) else { throw ValidationError("--follow-seconds goes from 0.1 to 60") }
        guard surveyRateLimit != nil else { throw ValidationError("--survey-rate is BURST/SECONDS, e.g. 20/30 (a burst of 1 to 100000, then one per 0.001 to 86400 s)") }
        if let token, let problem = TokenRule.problem(token, source: "--token") { throw ValidationError(problem) }
        if let publicURL, checkedPublicURL(publicURL) == nil {
            throw ValidationError("--public-url must be an http(s) address with a host and no query, e.g. https://klynge.kommune.dk")
        }
    }

    var limits: ServiceLimits {
        var limits = ServiceLimits()
        limits.heavyWorkers = workers
        limits.queueLimit = queueLimit
        limits.surveyRateLimit = surveyRateLimit ?? SurveyRateLimit()
        return limits
    }

    func run() async throws {
        if let studies { return try await runStudies(studies) }
        let options = more.source(study: study ?? "")
        let started = Date()
        let study: KlyngeStudy.Study
        do { study = try loadUsableStudy(options) } catch let e as ExitCode { throw e } catch {
            warn("klynge: error: \(error)")
            throw ExitCode.failure
        }
        // One rule for the token, wherever it comes from.
        var theToken = token
        if theToken == nil, let env = ProcessInfo.processInfo.environment["KLYNGE_TOKEN"] {
            if let problem = TokenRule.problem(env, source: "KLYNGE_TOKEN") {
                warn("klynge: error: \(problem)")
                throw ExitCode.failure
            }
            theToken = env
        }
        let location: StoreLocation
        do { location = try options.storeLocation() } catch {
            warn("klynge: error: \(error)")
            throw ExitCode.failure
        }
        let limits = self.limits
        warn("Building the network and the analysis of \(study.name)…")
        let state: ServiceState
        do {
            state = try ServiceState(study: study, store: location, writable: theToken != nil, studyPath: options.study, limits: limits)
        } catch {
            warn("klynge: error: \(error)")
            throw ExitCode.failure
        }
        for note in await state.notes { warn(note) }
        do { try await state.prepare() } catch {
            warn("klynge: error: \(error)")
            throw ExitCode.failure
        }
        let folder = stylesFolder(styles)
        let config = ServerConfig(host: host, port: port, token: theToken, maxBodyBytes: maxBody, stylesFolder: folder,
                                  publicURL: publicURL.flatMap(checkedPublicURL), limits: limits, requestLog: !noRequestLog)
        let shown = publicURL.flatMap(checkedPublicURL) ?? "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        let storeState: String
        switch location {
        case .geoPackage(let storePath):
            storeState = FileManager.default.fileExists(atPath: storePath) ? "saved scenarios in \(storePath)"
                : theToken == nil ? "no saved scenarios at \(storePath)" : "scenarios will be saved in \(storePath)"
        case .postgreSQL:
            storeState = "the shared store \(location.label), followed every \(followSeconds) s"
        }
        warn(String(format: "Ready in %.1f s: %@/ (%@; %@)", Date().timeIntervalSince(started), shown,
                    theToken == nil ? "read-only" : "writes need the token", storeState))
        for s in state.surveys.catalog.surveys {
            warn("Survey `\(s.id)`: \(shown)/survey/\(s.id)/ (results for the kommune: \(shown)/survey/\(s.id)/admin/)"
                 + (theToken == nil ? "; a read-only service takes no answers" : ""))
        }
        // Other instances' changes reach this one's snapshot within about --follow-seconds plus a rebuild.
        let following = Task { await state.followStore(every: followSeconds) }
        defer { following.cancel() }
        try await buildApplication(state: state, config: config).runService()
    }

    /// Several studies: each loaded on its first request, under /studies/<id>/, with its own tokens.
    func runStudies(_ path: String) async throws {
        let file: StudiesFile
        var entries: [StudyEntry] = []
        do {
            file = try StudiesFile.load(path: path)
            for s in file.studies {
                let tokens: WriteTokens
                do { tokens = try WriteTokens(hashed: s.tokens) } catch { throw ValidationError("\(path): study `\(s.id)`: \(error)") }
                entries.append(StudyEntry(id: s.id, name: try StudyFile.load(path: s.file).name, file: s.file, tokens: tokens))
            }
        } catch {
            warn("klynge: error: \(error)")
            throw ExitCode.failure
        }
        let limits = self.limits
        let pools = (heavy: ServiceState.heavyPool(limits), analysis: ServiceState.analysisPool(limits))
        let shared = more.store ?? file.store
        let own = Dictionary(uniqueKeysWithValues: file.studies.map { ($0.id, $0.store) })
        let followSeconds = self.followSeconds
        let config = ServerConfig(host: host, port: port, maxBodyBytes: maxBody, stylesFolder: stylesFolder(styles),
                                  publicURL: publicURL.flatMap(checkedPublicURL), limits: limits, requestLog: !noRequestLog)
        let registry = StudyRegistry(entries: entries, memoryLimitBytes: (file.memoryMegabytes ?? 4096) << 20, config: config) { entry in
            // The study's own store, else the shared database (each study under its id), else the GeoPackage beside it.
            let place: String? = (own[entry.id] ?? nil) ?? shared
            let source = StudySource(study: entry.file, store: place, studyKey: entry.id)
            let study = try loadUsableStudy(source)
            let location = place.map { StoreLocation($0, study: entry.id) } ?? .geoPackage(path: source.storePath)
            let state = try ServiceState(study: study, store: location, writable: entry.tokens.canWrite, studyPath: entry.file, limits: limits, pools: pools)
            for note in await state.notes { ServiceLog.event("note", ["study": .string(entry.id), "text": .string(note)]) }
            try await state.prepare()
            return (state, location.isShared ? Task { await state.followStore(every: followSeconds) } : nil)
        }
        let ready: @Sendable () -> Bool
        if let shared, StoreLocation.isDatabase(shared) {
            let location = StoreLocation(shared, study: "")
            ready = { location.isReachable() }
        } else {
            ready = { true }
        }
        let responder = StudiesResponder(registry: registry, defaultStudy: file.defaultStudy, config: config, ready: ready)
        let shown = publicURL.flatMap(checkedPublicURL) ?? "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        warn("Ready: \(shown)/studies lists \(entries.count) studies, each at \(shown)/studies/<id>/ and loaded on its first request"
             + (file.defaultStudy.map { "; `\($0)` also at \(shown)/" } ?? ""))
        for e in entries { warn("  \(e.id): \(e.name) (\(e.tokens.canWrite ? "writes need one of its tokens" : "read-only"))") }
        let app = Application(responder: responder, configuration: .init(address: .hostname(host, port: port), serverName: "Klynge"))
        try await app.runService()
    }
}

/// Write tokens for a studies file, which keeps only their digests.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Make a write token for a study of `serve --studies`, or hash one: the studies file keeps only the `sha256:` line.",
        subcommands: [New.self, Hash.self]
    )

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a new random token (give it to the study's editors) and the line for the studies file.")
        func run() throws {
            var g = SystemRandomNumberGenerator()
            let token = (0..<2).map { _ in String(format: "%016llx", g.next() as UInt64) }.joined()
            print("token: \(token)")
            print("for the studies file: \(WriteTokens.line(for: token))")
        }
    }

    struct Hash: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Read a token on standard input and print the line for the studies file.")
        func run() throws {
            guard let line = readLine(strippingNewline: true) else {
                throw ValidationError("give the token on standard input, e.g. `klynge token hash < token.txt`")
            }
            if let problem = TokenRule.problem(line, source: "the token") { throw ValidationError(problem) }
            print(WriteTokens.line(for: line))
        }
    }
}
