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

    @OptionGroup var options: StudyOptions
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
        guard surveyRateLimit != nil else { throw ValidationError("--survey-rate is BURST/SECONDS, e.g. 20/30 (a burst of 1 to 100000, then one per 0.001 to 86400 s)") }
        if let token, let problem = TokenRule.problem(token, source: "--token") { throw ValidationError(problem) }
        if let publicURL, checkedPublicURL(publicURL) == nil {
            throw ValidationError("--public-url must be an http(s) address with a host and no query, e.g. https://klynge.kommune.dk")
        }
    }

    func run() async throws {
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
        let storePath = options.storePath
        var limits = ServiceLimits()
        limits.heavyWorkers = workers
        limits.queueLimit = queueLimit
        limits.surveyRateLimit = surveyRateLimit ?? SurveyRateLimit()
        warn("Building the network and the analysis of \(study.name)…")
        let state: ServiceState
        do {
            state = try ServiceState(study: study, storePath: storePath, writable: theToken != nil, studyPath: options.study, limits: limits)
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
                                  publicURL: publicURL.flatMap(checkedPublicURL), limits: limits)
        let shown = publicURL.flatMap(checkedPublicURL) ?? "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        let storeState = FileManager.default.fileExists(atPath: storePath) ? "saved scenarios in \(storePath)"
            : theToken == nil ? "no saved scenarios at \(storePath)" : "scenarios will be saved in \(storePath)"
        warn(String(format: "Ready in %.1f s: %@/ (%@; %@)", Date().timeIntervalSince(started), shown,
                    theToken == nil ? "read-only" : "writes need the token", storeState))
        for s in state.surveys.catalog.surveys {
            warn("Survey `\(s.id)`: \(shown)/survey/\(s.id)/ (results for the kommune: \(shown)/survey/\(s.id)/admin/)"
                 + (theToken == nil ? "; a read-only service takes no answers" : ""))
        }
        try await buildApplication(state: state, config: config).runService()
    }
}
