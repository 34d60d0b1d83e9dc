import Foundation
import Synchronization
import KlyngeAnalysis
import KlyngeStudyAnalysis
import KlyngeIngest
import KlyngeJobs
import KlyngeGeo
import KlyngeIO
import KlyngeProj
import KlyngeStore
import KlyngeStudy
import KlyngeWork

/// A saved scenario as the API shows it. `etag` is never reused by the store; `reason` is set for a
/// record the study cannot use any more (it stays listed, to be edited or deleted).
public struct ScenarioRecord: Sendable, Encodable {
    public var id: String
    public var version: Int64
    public var etag: String
    public var updated: String
    public var scenario: StudyFile.ScenarioSpec?
    public var name: String
    public var valid: Bool
    public var reason: String?
}

/// A saved clustering as the API shows it: with the area → cluster assignments, so the page can draw and
/// edit it. `reason` says why one the study cannot use any more is listed without a collection.
public struct ProposalRecord: Sendable, Encodable {
    public var id: String
    /// The store's version of the record (0 for the study's own clusters); not shown.
    public var version: Int64 = 0
    public var name: String
    public var clustering: SavedClustering
    /// The study's own clusters (read-only), rather than a saved proposal.
    public var ownClusters: Bool
    public var valid: Bool
    public var reason: String?

    enum CodingKeys: String, CodingKey { case id, name, description, assignments, hubs, ownClusters, valid, reason }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encodeIfPresent(clustering.description, forKey: .description)
        try c.encode(clustering.assignments, forKey: .assignments)
        try c.encode(clustering.hubs, forKey: .hubs)
        try c.encode(ownClusters, forKey: .ownClusters)
        try c.encode(valid, forKey: .valid)
        try c.encodeIfPresent(reason, forKey: .reason)
    }

    /// The store's records, each checked against the study's areas.
    static func load(_ store: ScenarioStore, study: Study) throws -> [ProposalRecord] {
        let ids = Set(study.areas.map(\.id))
        return try store.proposals().compactMap { entry in
            guard let c = entry.clustering else { return nil }
            let stale = c.assignments.keys.filter { !ids.contains($0) }.sorted()
            let missing = ids.subtracting(c.assignments.keys).sorted()
            let reason: String? = !stale.isEmpty ? "it places areas the study does not have: \(stale.prefix(5).joined(separator: ", "))"
                : !missing.isEmpty ? "it places no cluster for the areas \(missing.prefix(5).joined(separator: ", "))" : nil
            return ProposalRecord(id: entry.record.id, version: entry.record.version, name: entry.record.name, clustering: c, ownClusters: false,
                                  valid: reason == nil, reason: reason)
        }
    }
}

/// The analysis in force: the study with its own and its valid saved scenarios, and the revision that
/// changes with every save (caches key on it, so they follow content, not names).
public struct AnalysisSnapshot: Sendable {
    public var analysis: StudyAnalysis
    public var revision: Int
    /// Scenario name → its id (collection ids, links).
    public var ids: [String: String]
    public var invalid: [InvalidScenario]
    public var saved: [SavedScenario]
    /// Saved clusterings (`regions --save`, or the page's editor), in id order.
    public var proposals: [ProposalRecord] = []

    /// The study's own clusters and every usable saved clustering, as the page and compare list them.
    public func clusterings() -> [ProposalRecord] {
        let own = (try? SavedClustering.own(analysis.study, name: "Studiets egne")).map {
            ProposalRecord(id: "study", name: $0.name, clustering: $0, ownClusters: true, valid: true, reason: nil)
        }
        return (own.map { [$0] } ?? []) + proposals
    }

    /// A scenario by name or id.
    public func scenario(_ key: String) throws -> ResolvedScenario {
        if let s = analysis.scenarios.first(where: { $0.name == key }) { return s }
        if let name = ids.first(where: { $0.value == key })?.key, let s = analysis.scenarios.first(where: { $0.name == name }) { return s }
        if invalid.contains(where: { $0.saved.record.id == key || $0.saved.record.name == key }) {
            throw ServiceError.unprocessable("the saved scenario `\(key)` cannot be used with the study as it is now; edit or delete it")
        }
        throw ServiceError.badRequest("no scenario `\(key)` (scenarios: \(analysis.scenarios.map(\.name).joined(separator: ", ")))", parameter: "scenario")
    }
}

/// The study, the analysis built at start-up (and again after each save), and the scenario store. Reads
/// take an immutable snapshot; writes are serialised, and the rebuild runs on the work pool so that reads
/// never wait for it. With a shared store (PostgreSQL) other instances write too: every write is conditional
/// in the database (a new id, or the version the client edited), and the snapshot follows the store's changes
/// (`followStore`, before each write and every `followSeconds`).
public actor ServiceState {
    public let study: Study
    public let network: StudyNetwork
    public nonisolated let storeLocation: StoreLocation
    private var current: AnalysisSnapshot
    private let store: ScenarioStore
    /// Whether this service writes (it was given a token).
    private let writable: Bool
    /// Held for the service's life when it writes to a file: one writer per GeoPackage.
    private let lock: StoreLock?
    /// The store's stamp when the snapshot was last made from it (shared stores).
    private var seenStamp: String?
    /// Maps, optimisation, clusters and rebuilds.
    let pool: WorkPool
    /// What-ifs, comparisons and closure impact.
    let analysisPool: WorkPool
    /// Answers that only change with a save: coverage of named scenarios, comparisons, impact.
    let answers = AnswerCache()
    /// The OGC collections of the analysis in force.
    let collections = CollectionCache()
    /// For places put on the web page's map: made once, as creating a PROJ transformation costs milliseconds.
    private let fromLonLat: Transformer
    private var writing = false
    private var writers: [CheckedContinuation<Void, Never>] = []
    /// The study's citizen surveys and their answers.
    public nonisolated let surveys: SurveyState
    /// What the start-up wants to tell the operator (imports, invalid records).
    public private(set) var notes: [String] = []

    /// `writable`: the service writes (it has a token); for a file it takes the store's writer lock.
    public init(study: Study, storePath: String, writable: Bool, studyPath: String? = nil, limits: ServiceLimits = ServiceLimits()) throws {
        try self.init(study: study, store: .geoPackage(path: storePath), writable: writable, studyPath: studyPath, limits: limits)
    }

    /// `pools`: the heavy and analysis pools of a service of several studies, shared so that its limits hold for
    /// the whole process; nil makes this study's own.
    public init(study: Study, store location: StoreLocation, writable: Bool, studyPath: String? = nil, limits: ServiceLimits = ServiceLimits(),
                pools: (heavy: WorkPool, analysis: WorkPool)? = nil) throws {
        self.study = study
        storeLocation = location
        self.writable = writable
        network = try StudyNetwork(study: study)
        store = ScenarioStore(location: location)
        if writable, case .geoPackage(let path) = location { lock = try StoreLock(storePath: path) } else { lock = nil }
        pool = pools?.heavy ?? Self.heavyPool(limits)
        analysisPool = pools?.analysis ?? Self.analysisPool(limits)
        fromLonLat = try Transformer(from: .wgs84, to: study.crs)
        surveys = try SurveyState(study: study, store: location, writable: writable, rateLimit: limits.surveyRateLimit)
        var notes: [String] = []
        if let studyPath, FileManager.default.fileExists(atPath: ScenarioStore.legacyYAMLPath(forStudy: studyPath)) {
            if writable, let note = try store.importLegacyYAML(forStudy: studyPath) { notes.append(note) } else {
                notes.append("\(ScenarioStore.legacyYAMLPath(forStudy: studyPath)) is not imported by a read-only service; "
                             + "run `klynge scenarios import` or start with a token")
            }
        }
        if location.isShared {
            // The database learns the study's CRS and areas, for the geometries QGIS reads.
            if writable { try location.describe(study) }
            seenStamp = try store.stamp()
        }
        current = try Self.build(study: study, network: network, saved: store.all(), revision: 0, control: .unlimited)
        current.proposals = try ProposalRecord.load(store, study: study)
        for i in current.invalid { notes.append("saved scenario `\(i.saved.record.id)` is listed as invalid: \(i.reason)") }
        self.notes = notes
    }

    public static func heavyPool(_ limits: ServiceLimits) -> WorkPool { WorkPool(workers: limits.heavyWorkers, queueLimit: limits.queueLimit) }
    public static func analysisPool(_ limits: ServiceLimits) -> WorkPool {
        WorkPool(workers: limits.analysisWorkers, queueLimit: limits.analysisQueueLimit, niceness: 5)
    }

    /// The study with the valid saved scenarios; the others are listed with their reason.
    static func build(study: Study, network: StudyNetwork, saved: [SavedScenario], revision: Int, control: WorkControl) throws -> AnalysisSnapshot {
        let set = StoredScenarios.merge(study: study, network: network, saved: saved)
        let analysis = try StudyAnalysis(study: set.study, network: network, control: control)
        return AnalysisSnapshot(analysis: analysis, revision: revision, ids: set.ids, invalid: set.invalid, saved: set.valid)
    }

    public func snapshot() -> AnalysisSnapshot { current }

    /// A WGS 84 longitude and latitude in the study's working CRS.
    public func workingXY(lon: Double, lat: Double) throws -> Coordinate {
        try fromLonLat.transform(Coordinate(x: lon, y: lat))
    }

    // MARK: records

    func etag(_ r: StoredRecord) -> String { "\(store.generation)-\(r.version)" }

    func apiRecord(_ s: SavedScenario, reason: String?) -> ScenarioRecord {
        ScenarioRecord(id: s.record.id, version: s.record.version, etag: etag(s.record), updated: s.record.updated, scenario: s.spec,
                       name: s.spec?.name ?? s.record.name, valid: reason == nil, reason: reason)
    }

    public func records() -> (valid: [ScenarioRecord], invalid: [ScenarioRecord]) {
        (current.saved.map { apiRecord($0, reason: nil) }, current.invalid.map { apiRecord($0.saved, reason: $0.reason) })
    }

    public func record(_ id: String) throws -> ScenarioRecord {
        if let s = current.saved.first(where: { $0.record.id == id }) { return apiRecord(s, reason: nil) }
        if let i = current.invalid.first(where: { $0.saved.record.id == id }) { return apiRecord(i.saved, reason: i.reason) }
        throw ServiceError.notFound("no saved scenario `\(id)`")
    }

    // MARK: writes (one at a time)

    private func beginWrite() async {
        if !writing {
            writing = true
            return
        }
        await withCheckedContinuation { writers.append($0) }
    }

    private func endWrite() {
        if writers.isEmpty { writing = false } else { writers.removeFirst().resume() }
    }

    private func allSaved() -> [SavedScenario] { current.saved + current.invalid.map(\.saved) }

    /// Validates a scenario against the study (resolving it with the others) and saves it. `precondition`
    /// is the client's If-Match; creating refuses an id in use, replacing needs a matching ETag.
    public func save(id: String?, _ given: StudyFile.ScenarioSpec, precondition: IfMatch, creating: Bool) async throws -> ScenarioRecord {
        guard writable else { throw ServiceError.preconditionFailed("this service is read-only") }
        await beginWrite()
        defer { endWrite() }
        var spec = given
        spec.name = given.name.trimmingCharacters(in: .whitespacesAndNewlines)
        let name = spec.name
        guard !name.isEmpty else { throw ServiceError.badRequest("a scenario needs a name", parameter: "name") }
        let key = id ?? ScenarioNaming.id(for: name)
        try await followStore()
        let existing = allSaved().first { $0.record.id == key }
        if creating {
            if existing != nil { throw ServiceError.conflict("a saved scenario has the id `\(key)` already") }
        } else {
            guard let existing else { throw ServiceError.notFound("no saved scenario `\(key)`") }
            try precondition.check(etag: etag(existing.record))
        }
        // Build first, with the same rules as at start-up (unique ids, fit to the study): a scenario the
        // study cannot take is never stored.
        let provisional = StoredRecord(id: key, name: name, document: "", version: 0, updated: "")
        let rebuilt = try await rebuild(allSaved().filter { $0.record.id != key } + [SavedScenario(record: provisional, spec: spec, problem: nil)])
        if let refused = rebuilt.invalid.first(where: { $0.saved.record.id == key }) {
            throw refused.kind == .nameTaken ? ServiceError.conflict("scenario \(name): \(refused.reason)")
                : ServiceError.badRequest("scenario \(name): \(refused.reason)")
        }
        // The database (or the file's one writer) decides: a new id, or the version the client edited.
        let record: StoredRecord
        if let existing {
            guard let r = try store.replace(spec, id: key, ifVersion: existing.record.version) else {
                throw ServiceError.preconditionFailed("the scenario was changed by another user a moment ago; reload it and edit again")
            }
            record = r
        } else {
            guard let r = try store.create(spec, id: key) else { throw ServiceError.conflict("a saved scenario has the id `\(key)` already") }
            record = r
        }
        var next = Self.renumber(rebuilt, replacing: key, with: record, revision: current.revision + 1)
        next.proposals = current.proposals
        // The answer waits for the new collections, so no reader ever waits for them.
        _ = try? await collections.get(next, pool: pool)
        current = next
        return apiRecord(SavedScenario(record: record, spec: spec, problem: nil), reason: nil)
    }

    public func delete(_ id: String, precondition: IfMatch) async throws {
        guard writable else { throw ServiceError.preconditionFailed("this service is read-only") }
        await beginWrite()
        defer { endWrite() }
        try await followStore()
        guard let existing = allSaved().first(where: { $0.record.id == id }) else { throw ServiceError.notFound("no saved scenario `\(id)`") }
        try precondition.check(etag: etag(existing.record), required: false)
        let rebuilt = try await rebuild(allSaved().filter { $0.record.id != id })
        guard try store.delete(id, ifVersion: existing.record.version) else {
            throw ServiceError.preconditionFailed("the scenario was changed by another user a moment ago; reload it and try again")
        }
        let next = AnalysisSnapshot(analysis: rebuilt.analysis, revision: current.revision + 1, ids: rebuilt.ids, invalid: rebuilt.invalid,
                                    saved: rebuilt.saved, proposals: current.proposals)
        _ = try? await collections.get(next, pool: pool)
        current = next
    }

    /// Saves a clustering made on the page (checked by the caller); a name whose id is taken is refused.
    public func saveProposal(_ clustering: SavedClustering) async throws -> ProposalRecord {
        guard writable else { throw ServiceError.preconditionFailed("this service is read-only") }
        await beginWrite()
        defer { endWrite() }
        let id = ScenarioNaming.id(for: clustering.name)
        guard id != "study" else { throw ServiceError.conflict("`\(clustering.name)` is the name of the study's own clusters; choose another name") }
        try await followStore()
        let taken = ServiceError.conflict("a clustering called `\(clustering.name)` is saved already; choose another name")
        guard !current.proposals.contains(where: { $0.id == id || $0.name == clustering.name }) else { throw taken }
        guard let record = try store.createProposal(clustering) else { throw taken }
        var next = current
        next.revision += 1
        next.proposals = (current.proposals + [ProposalRecord(id: record.id, version: record.version, name: record.name, clustering: clustering,
                                                              ownClusters: false, valid: true, reason: nil)]).sorted { $0.id < $1.id }
        _ = try? await collections.get(next, pool: pool)
        current = next
        return next.proposals.first { $0.id == record.id }!
    }

    /// Deletes a saved clustering (the study's own clusters are part of the study file and stay).
    public func deleteProposal(_ id: String) async throws {
        guard writable else { throw ServiceError.preconditionFailed("this service is read-only") }
        guard id != "study" else { throw ServiceError.conflict("the study's own clusters are set in the study file and cannot be deleted here") }
        await beginWrite()
        defer { endWrite() }
        try await followStore()
        guard try store.deleteProposal(id) else { throw ServiceError.notFound("no saved clustering `\(id.prefix(80))`") }
        var next = current
        next.revision += 1
        next.proposals = current.proposals.filter { $0.id != id }
        _ = try? await collections.get(next, pool: pool)
        current = next
    }

    /// Builds the OGC collections of the analysis before the service opens, so the first readers do not wait.
    public func prepare() async throws {
        _ = try await collections.get(current, pool: pool)
    }

    // MARK: following a shared store

    /// Makes the snapshot from the store again when another process has changed it (a shared store): the
    /// saved scenarios and proposals are read, the analysis rebuilt, and the caches start over with the new
    /// revision. Nothing is rebuilt when the records are the ones in memory (this instance's own writes).
    /// The caller holds the write turn (`beginWrite`).
    private func followStore() async throws {
        guard storeLocation.isShared else { return }
        let stamp = try store.stamp()
        guard stamp != seenStamp else { return }
        let saved = try store.all()
        let proposals = try ProposalRecord.load(store, study: study)
        func versions(_ list: [SavedScenario]) -> [String: Int64] { Dictionary(list.map { ($0.record.id, $0.record.version) }, uniquingKeysWith: max) }
        let scenariosSame = versions(saved) == versions(allSaved())
        let proposalsSame = proposals.map { "\($0.id)@\($0.version)" } == current.proposals.map { "\($0.id)@\($0.version)" }
        if scenariosSame && proposalsSame {
            seenStamp = stamp
            return
        }
        var next = scenariosSame ? current : try await rebuild(saved)
        next.revision = current.revision + 1
        next.proposals = proposals
        _ = try? await collections.get(next, pool: pool)
        current = next
        seenStamp = stamp
        ServiceLog.event("store-changed", ["revision": .int(next.revision), "scenarios": .int(saved.count), "proposals": .int(proposals.count)])
    }

    /// Follows a shared store until the task is cancelled: every `seconds`, one cheap query (the store's
    /// stamp), and a rebuild only when another instance changed something. A database that cannot be
    /// reached is tried again on the next round; the service keeps answering from its snapshot meanwhile.
    public func followStore(every seconds: Double) async {
        guard storeLocation.isShared else { return }
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            await beginWrite()
            do { try await followStore() } catch {}
            endWrite()
            surveys.follow()
        }
    }

    /// Follows the store once now (tests, and readiness).
    public func followStoreNow() async throws {
        await beginWrite()
        defer { endWrite() }
        try await followStore()
        surveys.follow()
    }

    private func rebuild(_ saved: [SavedScenario]) async throws -> AnalysisSnapshot {
        let (study, network) = (self.study, self.network)
        return try await pool.run(control: WorkControl(timeLimitSeconds: 120)) { control in
            try Self.build(study: study, network: network, saved: saved, revision: 0, control: control)
        }
    }

    /// The stored record (with its real version) in place of the provisional one.
    static func renumber(_ s: AnalysisSnapshot, replacing id: String, with record: StoredRecord, revision: Int) -> AnalysisSnapshot {
        var out = s
        out.revision = revision
        out.saved = s.saved.map { $0.record.id == id ? SavedScenario(record: record, spec: $0.spec, problem: nil) : $0 }
        return out
    }
}

/// An If-Match header: `*` (the record exists), a list of strong tags, or absent. Weak tags never match a write.
public enum IfMatch: Sendable {
    case absent
    case any
    case tags([String])

    public init(_ header: String?) {
        guard let h = header?.trimmingCharacters(in: .whitespaces), !h.isEmpty else { self = .absent; return }
        if h == "*" { self = .any; return }
        self = .tags(h.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.compactMap { t in
            guard !t.hasPrefix("W/"), t.count >= 2, t.hasPrefix("\""), t.hasSuffix("\"") else { return nil }
            return String(t.dropFirst().dropLast())
        })
    }

    func check(etag: String, required: Bool = true) throws {
        switch self {
        case .absent:
            if required { throw ServiceError.preconditionFailed("send If-Match with the ETag of the version you edited") }
        case .any: return
        case .tags(let tags):
            guard tags.contains(etag) else {
                throw ServiceError.preconditionFailed("the scenario was changed since that version (its ETag is now \"\(etag)\"); reload it and edit again")
            }
        }
    }
}

/// Answers computed once per revision of the analysis (a save starts a new one), so repeated reads of saved
/// scenarios cost a lookup, not an evaluation over every village. Concurrent first requests share one
/// computation.
final class AnswerCache: Sendable {
    private struct Entries {
        var revision = -1
        var texts: [String: Task<String, Error>] = [:]
        var reports: [String: CoverageReport] = [:]
    }
    private let entries = Mutex(Entries())
    /// Enough for every category × scenario × selection of a large study; beyond it the cache starts over.
    private let capacity = 4096

    /// Runs `body` on the entries of `revision` (those of an older one are dropped first).
    private func locked<T>(_ revision: Int, _ body: (inout Entries) -> T) -> T {
        entries.withLock { e in
            if revision != e.revision { e = Entries(revision: revision) }
            return body(&e)
        }
    }

    /// The answer's text, computed by the first caller; a failed computation is forgotten.
    func text(_ key: String, revision: Int, make: @escaping @Sendable () async throws -> String) async throws -> String {
        let capacity = capacity
        let task: Task<String, Error> = locked(revision) { e in
            if let t = e.texts[key] { return t }
            if e.texts.count >= capacity { e.texts = [:] }
            let t = Task { try await make() }
            e.texts[key] = t
            return t
        }
        do {
            return try await task.value
        } catch {
            locked(revision) { e in if e.texts[key] == task { e.texts[key] = nil } }
            throw error
        }
    }

    /// A report, made (outside the lock) when missing.
    func report(_ key: String, revision: Int, make: () throws -> CoverageReport) rethrows -> CoverageReport {
        if let r = locked(revision, { $0.reports[key] }) { return r }
        let r = try make()
        let capacity = capacity
        locked(revision) { e in
            if e.reports.count >= capacity { e.reports = [:] }
            e.reports[key] = r
        }
        return r
    }
}
