import Foundation
import KlyngeIO
import KlyngeStudy
import Yams

/// A scenario saved in the store, decoded; a record that is no scenario any more keeps its reason.
public struct SavedScenario: Sendable {
    public var record: StoredRecord
    public var spec: StudyFile.ScenarioSpec?
    /// Why the record cannot be used as it is (nil for a usable record).
    public var problem: String?

    public init(record: StoredRecord, spec: StudyFile.ScenarioSpec?, problem: String?) {
        self.record = record
        self.spec = spec
        self.problem = problem
    }
}

/// The one place scenarios are saved for a study, read and written by the command line and the service:
/// a GeoPackage beside the study (`<study>.scenarios.gpkg`) unless another path is given, or a PostgreSQL
/// database shared by several instances. The file is made on the first save, never by reading. Writers to a
/// file take `StoreLock` first; a database decides between writers itself.
public final class ScenarioStore: @unchecked Sendable {
    public let location: StoreLocation
    /// The store for messages: its path, or the database and study key.
    public var path: String { location.label }
    private var backing: (any RecordStore)?

    public convenience init(path: String) {
        self.init(location: .geoPackage(path: path))
    }

    public init(location: StoreLocation) {
        self.location = location
    }

    public static func defaultPath(forStudy study: String) -> String {
        URL(fileURLWithPath: study).deletingPathExtension().path + ".scenarios.gpkg"
    }

    /// Old stores of `klynge optimize --save-scenario`, imported once into the store.
    public static func legacyYAMLPath(forStudy study: String) -> String {
        URL(fileURLWithPath: study).deletingPathExtension().path + ".scenarios.yaml"
    }

    /// The file, for a GeoPackage store.
    private var filePath: String? {
        if case .geoPackage(let p) = location { return p }
        return nil
    }

    public var exists: Bool { filePath.map { FileManager.default.fileExists(atPath: $0) } ?? true }

    /// A read-only handle until the first write, which reopens the file for update (making it if needed).
    private var reader: (any RecordStore)?

    private func opened(forWriting: Bool) throws -> (any RecordStore)? {
        if let backing { return backing }
        guard let path = filePath else {
            backing = try location.databaseRecords(kind: GeoPackageRecordStore.defaultTable)
            return backing
        }
        if !forWriting, let reader { return reader }
        guard forWriting || FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            let s = try GeoPackageRecordStore(path: path, readOnly: !forWriting)
            if forWriting {
                backing = s
                reader = nil
            } else {
                reader = s
            }
            return s
        } catch let e as GDALError {
            throw StoreError(path: path, message: e.message)
        }
    }

    private func writable() throws -> any RecordStore {
        guard let s = try opened(forWriting: true) else { throw StoreError(path: path, message: "cannot open the store") }
        return s
    }

    /// Every record, decoded; corrupt records are listed with their problem, never dropped.
    public func all() throws -> [SavedScenario] {
        guard let s = try opened(forWriting: false) else { return [] }
        return try s.all().map(Self.decode).sorted { $0.record.id < $1.record.id }
    }

    public func get(_ id: String) throws -> SavedScenario? {
        try opened(forWriting: false)?.get(id).map(Self.decode)
    }

    public var generation: String { (try? opened(forWriting: false))??.generation ?? "0" }

    static func document(_ spec: StudyFile.ScenarioSpec) throws -> String { String(decoding: try encoder.encode(spec), as: UTF8.self) }

    /// Saves a scenario under `id` (made from its name when nil); the caller holds the writer's lock.
    @discardableResult
    public func put(_ spec: StudyFile.ScenarioSpec, id: String? = nil) throws -> StoredRecord {
        try writable().put(id: id ?? ScenarioNaming.id(for: spec.name), name: spec.name, document: try Self.document(spec))
    }

    /// Saves a new scenario only while no record has `id`: nil when one has (another writer came first).
    public func create(_ spec: StudyFile.ScenarioSpec, id: String) throws -> StoredRecord? {
        try writable().insertNew([(id, spec.name, try Self.document(spec))])?.first
    }

    /// Replaces a scenario only while it still has `version`: nil when another write came first.
    public func replace(_ spec: StudyFile.ScenarioSpec, id: String, ifVersion version: Int64) throws -> StoredRecord? {
        try writable().replace(id: id, name: spec.name, document: try Self.document(spec), ifVersion: version)
    }

    @discardableResult
    public func delete(_ id: String) throws -> Bool {
        guard exists, let s = try opened(forWriting: true) else { return false }
        return try s.delete(id)
    }

    /// Deletes a scenario only while it still has `version`.
    public func delete(_ id: String, ifVersion version: Int64) throws -> Bool {
        guard exists else { return false }
        return try writable().delete(id, ifVersion: version)
    }

    /// Changes whenever a scenario or proposal is written or deleted, by any process.
    public func stamp() throws -> String {
        let scenarios = try opened(forWriting: false)?.stamp() ?? "none"
        let proposals = try openedProposals(forWriting: false)?.stamp() ?? "none"
        return scenarios + "/" + proposals
    }

    // MARK: proposals (saved clusterings), a second table of the same store

    public static let proposalTable = "klynge_proposals"
    private var proposalRecords: (any RecordStore)?
    private var proposalsWritable = false

    private func openedProposals(forWriting: Bool) throws -> (any RecordStore)? {
        if let proposalRecords, proposalsWritable || !forWriting { return proposalRecords }
        guard let path = filePath else {
            proposalRecords = try location.databaseRecords(kind: Self.proposalTable)
            proposalsWritable = true
            return proposalRecords
        }
        guard forWriting || FileManager.default.fileExists(atPath: path) else { return nil }
        // A new store gets its scenario table too, so readers of scenarios find the file as they expect.
        if forWriting { _ = try opened(forWriting: true) }
        do {
            let s = try GeoPackageRecordStore(path: path, table: Self.proposalTable, readOnly: !forWriting)
            proposalRecords = s
            proposalsWritable = forWriting
            return s
        } catch let e as GDALError {
            // A store made before proposals existed has no such table: no proposals.
            if !forWriting { return nil }
            throw StoreError(path: path, message: e.message)
        }
    }

    /// Every saved clustering; a record that cannot be read is named with its problem.
    public func proposals() throws -> [(record: StoredRecord, clustering: SavedClustering?, problem: String?)] {
        guard let s = try openedProposals(forWriting: false) else { return [] }
        return try s.all().sorted { $0.id < $1.id }.map { r in
            do { return (r, try JSONDecoder().decode(SavedClustering.self, from: Data(r.document.utf8)), nil) } catch {
                return (r, nil, "the stored record is not a readable clustering (\(DecodingProblem.describe(error)))")
            }
        }
    }

    /// A saved clustering by id or name; nil when there is none.
    public func proposal(_ key: String) throws -> SavedClustering? {
        let all = try proposals()
        guard let hit = all.first(where: { $0.record.id == key }) ?? all.first(where: { $0.record.name == key }) else { return nil }
        guard let c = hit.clustering else { throw StoreError(path: path, message: "proposal `\(key)`: \(hit.problem ?? "unreadable")") }
        return c
    }

    /// Saves a clustering under an id made from its name (replacing one of the same name); the caller holds the writer's lock.
    @discardableResult
    public func putProposal(_ clustering: SavedClustering) throws -> StoredRecord {
        guard let s = try openedProposals(forWriting: true) else { throw StoreError(path: path, message: "cannot open the store") }
        let document = String(decoding: try Self.encoder.encode(clustering), as: UTF8.self)
        return try s.put(id: ScenarioNaming.id(for: clustering.name), name: clustering.name, document: document)
    }

    /// Saves a new clustering only while its id is free: nil when another writer saved one of that name first.
    public func createProposal(_ clustering: SavedClustering) throws -> StoredRecord? {
        guard let s = try openedProposals(forWriting: true) else { throw StoreError(path: path, message: "cannot open the store") }
        let document = String(decoding: try Self.encoder.encode(clustering), as: UTF8.self)
        return try s.insertNew([(ScenarioNaming.id(for: clustering.name), clustering.name, document)])?.first
    }

    /// Deletes a saved clustering by id; false when there is none. The caller holds the writer's lock.
    @discardableResult
    public func deleteProposal(_ id: String) throws -> Bool {
        guard let s = try openedProposals(forWriting: false), try s.get(id) != nil else { return false }
        guard let w = try openedProposals(forWriting: true) else { return false }
        return try w.delete(id)
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    public static func decode(_ r: StoredRecord) -> SavedScenario {
        do {
            let spec = try JSONDecoder().decode(StudyFile.ScenarioSpec.self, from: Data(r.document.utf8))
            return SavedScenario(record: r, spec: spec, problem: nil)
        } catch {
            return SavedScenario(record: r, spec: nil, problem: "the stored record is not a readable scenario (\(DecodingProblem.describe(error)))")
        }
    }

    /// Runs `body` holding the store's writer lock; refused while another process writes (a running service).
    /// A database needs no lock: its conditional writes decide between writers.
    public func withWriterLock<T>(_ body: () throws -> T) throws -> T {
        guard let path = filePath else { return try body() }
        let lock = try StoreLock(storePath: path)
        return try withExtendedLifetime(lock) { try body() }
    }

    /// Imports `<study>.scenarios.yaml` (from before the store) once: its scenarios are saved in the store
    /// and the file is renamed `.imported`, so it is never read twice. Returns what to tell the user. The
    /// caller holds the writer lock.
    public func importLegacyYAML(forStudy study: String) throws -> String? {
        let yaml = Self.legacyYAMLPath(forStudy: study)
        guard let data = FileManager.default.contents(atPath: yaml) else { return nil }
        let specs: [StudyFile.ScenarioSpec]
        do { specs = try YAMLDecoder().decode([StudyFile.ScenarioSpec].self, from: String(decoding: data, as: UTF8.self)) } catch {
            throw StoreError(path: yaml, message: "not a list of scenarios, so it was not imported: \(error)")
        }
        let existing = Set(try all().map(\.record.id))
        var imported: [String] = []
        for spec in specs where !existing.contains(ScenarioNaming.id(for: spec.name)) {
            try put(spec)
            imported.append(spec.name)
        }
        try FileManager.default.moveItem(atPath: yaml, toPath: yaml + ".imported")
        return "Imported \(imported.count) scenario(s) from \(yaml) into the scenario store \(path); the YAML file is now \(yaml).imported"
    }
}

/// Scenario ids: ASCII slugs of names, unique across the study's own scenarios and the saved ones, so a
/// saved "En skole" can never hide the study's "Én skole".
public enum ScenarioNaming {
    /// "Én skole" → "en-skole", "Ærø" → "aeroe".
    public static func id(for name: String) -> String {
        var t = name.lowercased()
        for (a, b) in [("æ", "ae"), ("ø", "oe"), ("å", "aa"), ("ß", "ss")] { t = t.replacingOccurrences(of: a, with: b) }
        t = t.folding(options: .diacriticInsensitive, locale: Locale(identifier: "en"))
        let s = t.unicodeScalars.map { $0.isASCII && CharacterSet.alphanumerics.contains($0) ? String($0) : "-" }.joined()
        let trimmed = String(s.split(separator: "-").joined(separator: "-").prefix(80))
        return trimmed.isEmpty ? "scenario" : trimmed
    }
}

/// A store that cannot be read or written, naming the file.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let message: String
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(path): \(message)" }
}
