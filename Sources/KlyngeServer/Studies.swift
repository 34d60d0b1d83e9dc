import Foundation
import Hummingbird
import KlyngeStore

/// One study of a service of several, as the studies file gives it.
public struct StudyEntry: Sendable {
    public var id: String
    /// The study's name, for the listing (read from its file at start-up, without loading data).
    public var name: String
    public var file: String
    public var tokens: WriteTokens

    public init(id: String, name: String, file: String, tokens: WriteTokens) {
        self.id = id
        self.name = name
        self.file = file
        self.tokens = tokens
    }
}

/// A loaded study: its state, its router, and the task that follows a shared store.
struct LoadedStudy: Sendable {
    let state: ServiceState
    let responder: RouterResponder<KlyngeRequestContext>
    let following: Task<Void, Never>?
    /// Resident memory the load added (bytes), the unit of the memory bound.
    let bytes: Int
    var lastUsed: ContinuousClock.Instant
}

/// The studies of a service, each loaded on its first request (one load at a time, so its memory can be
/// measured) and kept while the loaded studies fit in the memory bound; beyond it the least recently used
/// are unloaded (requests still running keep theirs until they finish).
public actor StudyRegistry {
    public nonisolated let entries: [StudyEntry]
    private let memoryLimitBytes: Int
    private let load: @Sendable (StudyEntry) async throws -> (ServiceState, Task<Void, Never>?)
    private let config: ServerConfig
    private var loaded: [String: LoadedStudy] = [:]
    private var loading: [String: Task<LoadedStudy, Error>] = [:]
    /// Loads wait for each other, so the memory each adds is its own.
    private var lastLoad: Task<Void, Never>?

    /// `load` makes a study's state (and starts following its store, if shared); `config` is the service's,
    /// each study getting its own tokens and path prefix.
    public init(entries: [StudyEntry], memoryLimitBytes: Int, config: ServerConfig,
                load: @escaping @Sendable (StudyEntry) async throws -> (ServiceState, Task<Void, Never>?)) {
        self.entries = entries
        self.memoryLimitBytes = memoryLimitBytes
        self.config = config
        self.load = load
    }

    public nonisolated func entry(_ id: String) -> StudyEntry? { entries.first { $0.id == id } }

    /// The loaded studies' ids, most recently used first.
    public func loadedIds() -> [String] { loaded.sorted { $0.value.lastUsed > $1.value.lastUsed }.map(\.key) }

    /// Memory the loaded studies are counted at.
    public func loadedBytes() -> Int { loaded.values.reduce(0) { $0 + $1.bytes } }

    /// The study's state and router, loading it when needed.
    func study(_ entry: StudyEntry) async throws -> LoadedStudy {
        if var hit = loaded[entry.id] {
            hit.lastUsed = .now
            loaded[entry.id] = hit
            return hit
        }
        if let running = loading[entry.id] { return try await running.value }
        let previous = lastLoad
        let (load, config) = (self.load, self.config)
        let task = Task<LoadedStudy, Error> {
            await previous?.value
            let before = Self.residentBytes()
            let (state, following) = try await load(entry)
            var c = config
            c.tokens = entry.tokens
            c.pathPrefix = "/studies/\(entry.id)"
            c.studyId = entry.id
            let responder = buildRouter(state: state, config: c).buildResponder()
            return LoadedStudy(state: state, responder: responder, following: following, bytes: max(0, Self.residentBytes() - before), lastUsed: .now)
        }
        loading[entry.id] = task
        lastLoad = Task { _ = try? await task.value }
        defer { loading[entry.id] = nil }
        let made = try await task.value
        loaded[entry.id] = made
        ServiceLog.event("study-loaded", ["study": .string(entry.id), "megabytes": .int(made.bytes >> 20)])
        unloadBeyondLimit(keeping: entry.id)
        return made
    }

    private func unloadBeyondLimit(keeping id: String) {
        while loadedBytes() > memoryLimitBytes, let oldest = loaded.filter({ $0.key != id }).min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
            oldest.value.following?.cancel()
            loaded[oldest.key] = nil
            ServiceLog.event("study-unloaded", ["study": .string(oldest.key), "reason": .string("memory bound")])
        }
    }

    /// The process's resident memory (Linux; 0 elsewhere, which counts every study as free).
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// A service of several studies: `/studies` lists them, `/studies/<id>/…` is each study's own service (its
/// OGC API, analysis, maps, page and surveys, with its own tokens), and with a default study the single-study
/// paths stay as they were. A token of one study is unknown to every other.
public struct StudiesResponder: HTTPResponder {
    public typealias Context = KlyngeRequestContext
    let registry: StudyRegistry
    let defaultStudy: String?
    let top: RouterResponder<KlyngeRequestContext>

    public init(registry: StudyRegistry, defaultStudy: String?, config: ServerConfig, ready: @escaping @Sendable () -> Bool) {
        self.registry = registry
        self.defaultStudy = defaultStudy
        let router = Router(context: KlyngeRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.middlewares.add(RequestLogMiddleware(enabled: config.requestLog))
        router.middlewares.add(SecurityHeadersMiddleware())
        router.middlewares.add(ErrorMiddleware())
        HealthController(ready: ready).add(to: router)
        struct Listed: Encodable {
            var id: String
            var name: String
            var href: String
            var loaded: Bool
        }
        router.get("/studies") { request, _ in
            let ids = Set(await registry.loadedIds())
            let base = Links.origin(request, config: config)
            return JSONBody.response(["studies": registry.entries.map {
                Listed(id: $0.id, name: $0.name, href: "\(base)/studies/\($0.id)/", loaded: ids.contains($0.id))
            }])
        }
        top = router.buildResponder()
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        let prefix = "/studies/"
        guard path.hasPrefix(prefix) else {
            if let defaultStudy, path != "/studies", path != "/health", path != "/ready", let entry = registry.entry(defaultStudy) {
                return try await forward(request, context: context, to: entry, path: path)
            }
            return try await top.respond(to: request, context: context)
        }
        let rest = path.dropFirst(prefix.count)
        let id = String(rest.prefix { $0 != "/" })
        guard let entry = registry.entry(id) else {
            return Self.error(.notFound, "no study `\(id.prefix(64))`; /studies lists them")
        }
        let remainder = String(rest.dropFirst(id.count))
        guard !remainder.isEmpty else {
            return Response(status: .movedPermanently, headers: [.location: "/studies/\(id)/"])
        }
        return try await forward(request, context: context, to: entry, path: remainder == "/" ? "/" : remainder)
    }

    private func forward(_ request: Request, context: Context, to entry: StudyEntry, path: String) async throws -> Response {
        let study: LoadedStudy
        do { study = try await registry.study(entry) } catch {
            ServiceLog.event("study-load-failed", ["study": .string(entry.id), "detail": .string("\(error)")])
            return Self.error(.serviceUnavailable, "the study `\(entry.id)` cannot be loaded just now; the service's log says why")
        }
        var head = request.head
        let query = request.uri.query.map { "?\($0)" } ?? ""
        head.path = path + query
        return try await study.responder.respond(to: Request(head: head, body: request.body), context: context)
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let body = JSONBody.encode(ErrorBody(error: .init(status: Int(status.code), message: message, parameter: nil)))
        return Response(status: status, headers: [.contentType: "application/json", .contentSecurityPolicy: SecurityHeadersMiddleware<Context>.policy],
                        body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
