import CGDAL
import Foundation
import KlyngeGeo

/// One saved record: a key, a name, a JSON document and a version that grows with every write.
public struct StoredRecord: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var document: String
    public var version: Int64
    public var updated: String

    public init(id: String, name: String, document: String, version: Int64, updated: String) {
        self.id = id
        self.name = name
        self.document = document
        self.version = version
        self.updated = updated
    }
}

/// Where saved records live. The GeoPackage store is the default; a PostgreSQL store can take its place.
/// Versions come from one counter per store that only grows, so a version (an ETag) is never reused, not
/// even after a record is deleted and made again; `generation` tells apart two stores made at one path.
public protocol RecordStore: AnyObject {
    var generation: String { get }
    func all() throws -> [StoredRecord]
    func get(_ id: String) throws -> StoredRecord?
    /// Inserts or replaces atomically; the version becomes the store's next revision.
    @discardableResult func put(id: String, name: String, document: String) throws -> StoredRecord
    /// Inserts or replaces several records in one transaction (all or none), each with its own next revision.
    @discardableResult func putAll(_ items: [(id: String, name: String, document: String)]) throws -> [StoredRecord]
    @discardableResult func delete(_ id: String) throws -> Bool
    /// Inserts the records only if none of their ids is in use, all in one transaction: nil (and nothing
    /// written) when one is. The database decides, so two writers creating one id get exactly one success.
    func insertNew(_ items: [(id: String, name: String, document: String)]) throws -> [StoredRecord]?
    /// Replaces a record only while it still has `version` (If-Match): nil when it changed or is gone.
    func replace(id: String, name: String, document: String, ifVersion version: Int64) throws -> StoredRecord?
    /// Deletes a record only while it still has `version`: false when it changed or is gone.
    func delete(_ id: String, ifVersion version: Int64) throws -> Bool
    /// A value that changes with every write or deletion, cheap to read: other processes poll it to learn
    /// that their copies are out of date.
    func stamp() throws -> String
}

/// Why a conditional write wrote nothing (its transaction is rolled back).
private struct ConditionNotMet: Error {}

/// A table of records in a GeoPackage (SQLite), each change in its own transaction: a killed process
/// loses nothing committed and never leaves a half-written record. Use from one task at a time.
public final class GeoPackageRecordStore: RecordStore {
    public let path: String
    public let table: String
    static let metaTable = "klynge_store_meta"
    private let handle: GDALDatasetH
    private let layer: OGRLayerH
    /// The revision counter and generation; nil in an older store opened read-only.
    private let meta: OGRLayerH?
    public private(set) var generation: String

    /// Opens the store; `readOnly` opens an existing file without writing anything.
    /// The table of saved scenarios (other kinds of record have tables of their own).
    public static let defaultTable = "klynge_scenarios"

    public init(path: String, table: String = defaultTable, readOnly: Bool = false) throws {
        GDAL.ensureRegistered()
        self.path = path
        self.table = table
        CPLErrorReset()
        var ds: GDALDatasetH?
        if FileManager.default.fileExists(atPath: path) {
            let flags = GDAL_OF_VECTOR | GDAL_OF_VERBOSE_ERROR | (readOnly ? 0 : GDAL_OF_UPDATE)
            ds = GDALOpenEx(path, UInt32(flags), nil, nil, nil)
        } else if readOnly {
            throw GDALError(source: path, message: "the scenario store does not exist")
        } else if let driver = GDALGetDriverByName("GPKG") {
            ds = GDALCreate(driver, path, 0, 0, 0, GDT_Unknown, nil)
        }
        guard let ds else { throw GDALError(source: path, message: GDAL.lastMessage("cannot open or create the scenario store")) }
        handle = ds
        // Several handles share the file (scenarios, proposals, survey answers; a CLI reader beside the service):
        // a writer waits up to 5 s for another's transaction instead of failing at once with "database is locked".
        if let r = GDALDatasetExecuteSQL(ds, "PRAGMA busy_timeout = 5000", nil, nil) { GDALDatasetReleaseResultSet(ds, r) }
        func make(_ name: String, _ fields: [(String, OGRFieldType)]) throws -> OGRLayerH {
            guard let l = GDALDatasetCreateLayer(ds, name, nil, wkbNone, nil) else {
                throw GDALError(source: path, layer: name, message: GDAL.lastMessage("cannot create the table"))
            }
            for (fname, type) in fields {
                let f = OGR_Fld_Create(fname, type)
                defer { OGR_Fld_Destroy(f) }
                guard OGR_L_CreateField(l, f, 1) == OGRERR_NONE else {
                    throw GDALError(source: path, layer: name, message: "cannot create the field \(fname)")
                }
            }
            return l
        }
        do {
            if let l = GDALDatasetGetLayerByName(ds, table) {
                layer = l
            } else if readOnly {
                throw GDALError(source: path, layer: table, message: "the file has no scenario table")
            } else {
                layer = try make(table, [("id", OFTString), ("name", OFTString), ("document", OFTString), ("version", OFTInteger64),
                                         ("updated", OFTString)])
            }
            if !readOnly {
                // Lookups by id (every put) use an index, not a scan of every record.
                let safe = table.filter { $0.isLetter || $0.isNumber || $0 == "_" }
                if let r = GDALDatasetExecuteSQL(ds, "CREATE INDEX IF NOT EXISTS \"\(safe)_id\" ON \"\(safe)\"(id)", nil, nil) {
                    GDALDatasetReleaseResultSet(ds, r)
                }
            }
            if let m = GDALDatasetGetLayerByName(ds, Self.metaTable) {
                meta = m
            } else if readOnly {
                meta = nil
            } else {
                meta = try make(Self.metaTable, [("key", OFTString), ("value", OFTString)])
            }
        } catch {
            GDALClose(ds)
            throw error
        }
        generation = "0"
        if let g = metaValue("generation") {
            generation = g
        } else if !readOnly {
            // A new store, or one from before the counter: a fresh generation, the counter past every version.
            let g = String(UUID().uuidString.prefix(8)).lowercased()
            let highest = try all().map(\.version).max() ?? 0
            try transaction {
                try setMeta("generation", g)
                try setMeta("revision", String(highest))
            }
            generation = g
        }
    }

    deinit { GDALClose(handle) }

    private func metaValue(_ key: String) -> String? {
        guard let meta else { return nil }
        OGR_L_SetAttributeFilter(meta, "key = '\(key)'")
        defer { OGR_L_SetAttributeFilter(meta, nil) }
        OGR_L_ResetReading(meta)
        guard let f = OGR_L_GetNextFeature(meta) else { return nil }
        defer { OGR_F_Destroy(f) }
        return GDAL.string(OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "value")))
    }

    private func setMeta(_ key: String, _ value: String) throws {
        guard let meta else { throw GDALError(source: path, message: "the store is read-only") }
        OGR_L_SetAttributeFilter(meta, "key = '\(key)'")
        OGR_L_ResetReading(meta)
        let existing = OGR_L_GetNextFeature(meta)
        OGR_L_SetAttributeFilter(meta, nil)
        let f = existing ?? OGR_F_Create(OGR_L_GetLayerDefn(meta))
        guard let f else { throw GDALError(source: path, message: "cannot write the store's counter") }
        defer { OGR_F_Destroy(f) }
        OGR_F_SetFieldString(f, OGR_F_GetFieldIndex(f, "key"), key)
        OGR_F_SetFieldString(f, OGR_F_GetFieldIndex(f, "value"), value)
        let err = existing == nil ? OGR_L_CreateFeature(meta, f) : OGR_L_SetFeature(meta, f)
        guard err == OGRERR_NONE else { throw GDALError(source: path, layer: Self.metaTable, message: GDAL.lastMessage("cannot write the counter")) }
    }

    private func record(_ f: OGRFeatureH) -> StoredRecord {
        func s(_ name: String) -> String {
            let i = OGR_F_GetFieldIndex(f, name)
            return i >= 0 ? GDAL.string(OGR_F_GetFieldAsString(f, i)) ?? "" : ""
        }
        return StoredRecord(id: s("id"), name: s("name"), document: s("document"),
                            version: OGR_F_GetFieldAsInteger64(f, OGR_F_GetFieldIndex(f, "version")), updated: s("updated"))
    }

    public func all() throws -> [StoredRecord] {
        OGR_L_SetAttributeFilter(layer, nil)
        OGR_L_ResetReading(layer)
        var out: [StoredRecord] = []
        while let f = OGR_L_GetNextFeature(layer) {
            out.append(record(f))
            OGR_F_Destroy(f)
        }
        return out
    }

    private func find(_ id: String) -> (fid: Int64, record: StoredRecord)? {
        let quoted = id.replacingOccurrences(of: "'", with: "''")
        OGR_L_SetAttributeFilter(layer, "id = '\(quoted)'")
        defer { OGR_L_SetAttributeFilter(layer, nil) }
        OGR_L_ResetReading(layer)
        guard let f = OGR_L_GetNextFeature(layer) else { return nil }
        defer { OGR_F_Destroy(f) }
        return (OGR_F_GetFID(f), record(f))
    }

    public func get(_ id: String) throws -> StoredRecord? { find(id)?.record }

    /// Inserts or replaces a record in one transaction; its version is the store's next revision.
    @discardableResult
    public func put(id: String, name: String, document: String) throws -> StoredRecord {
        try putAll([(id, name, document)])[0]
    }

    /// Inserts or replaces several records in one transaction: all are kept, or none.
    @discardableResult
    public func putAll(_ items: [(id: String, name: String, document: String)]) throws -> [StoredRecord] {
        try write(items.map { ($0.id, $0.name, $0.document, nil) })
    }

    public func insertNew(_ items: [(id: String, name: String, document: String)]) throws -> [StoredRecord]? {
        do { return try write(items.map { ($0.id, $0.name, $0.document, nil) }, expect: { $0 == nil }) } catch is ConditionNotMet { return nil }
    }

    public func replace(id: String, name: String, document: String, ifVersion version: Int64) throws -> StoredRecord? {
        do { return try write([(id, name, document, nil)], expect: { $0?.version == version })[0] } catch is ConditionNotMet { return nil }
    }

    public func delete(_ id: String, ifVersion version: Int64) throws -> Bool {
        do {
            try transaction {
                guard let existing = find(id), existing.record.version == version else { throw ConditionNotMet() }
                guard OGR_L_DeleteFeature(layer, existing.fid) == OGRERR_NONE else {
                    throw GDALError(source: path, layer: table, message: GDAL.lastMessage("cannot delete the record"))
                }
            }
            return true
        } catch is ConditionNotMet { return false }
    }

    public func stamp() throws -> String {
        OGR_L_SetAttributeFilter(layer, nil)
        return "\(metaValue("revision") ?? "0")-\(OGR_L_GetFeatureCount(layer, 1))"
    }

    /// Writes records moved from another store (`klynge store export`), keeping the time of each one's last
    /// change; versions are this store's own, as always.
    @discardableResult
    public func restoreAll(_ records: [StoredRecord]) throws -> [StoredRecord] {
        try write(records.map { ($0.id, $0.name, $0.document, $0.updated.isEmpty ? nil : $0.updated) })
    }

    /// Writes the records in one transaction; `expect` sees each one's current record and refuses the whole
    /// write (`ConditionNotMet`) when it returns false.
    private func write(_ items: [(id: String, name: String, document: String, updated: String?)],
                       expect: (StoredRecord?) -> Bool = { _ in true }) throws -> [StoredRecord] {
        let now = ISO8601DateFormatter().string(from: Date())
        var out: [StoredRecord] = []
        try transaction {
            out.removeAll()  // a retried transaction starts again
            var revision = Int64(metaValue("revision") ?? "") ?? 0
            for item in items {
                let existing = find(item.id)
                guard expect(existing?.record) else { throw ConditionNotMet() }
                revision += 1
                let record = StoredRecord(id: item.id, name: item.name, document: item.document, version: revision, updated: item.updated ?? now)
                guard let defn = OGR_L_GetLayerDefn(layer), let f = OGR_F_Create(defn) else { throw GDALError(source: path, message: "cannot create a record") }
                defer { OGR_F_Destroy(f) }
                if let existing { OGR_F_SetFID(f, existing.fid) }
                OGR_F_SetFieldString(f, OGR_F_GetFieldIndex(f, "id"), record.id)
                OGR_F_SetFieldString(f, OGR_F_GetFieldIndex(f, "name"), record.name)
                OGR_F_SetFieldString(f, OGR_F_GetFieldIndex(f, "document"), record.document)
                OGR_F_SetFieldInteger64(f, OGR_F_GetFieldIndex(f, "version"), record.version)
                OGR_F_SetFieldString(f, OGR_F_GetFieldIndex(f, "updated"), record.updated)
                let err = existing == nil ? OGR_L_CreateFeature(layer, f) : OGR_L_SetFeature(layer, f)
                guard err == OGRERR_NONE else { throw GDALError(source: path, layer: table, message: GDAL.lastMessage("cannot write the record")) }
                out.append(record)
            }
            try setMeta("revision", String(revision))
        }
        return out
    }

    /// Deletes a record; false if there was none.
    @discardableResult
    public func delete(_ id: String) throws -> Bool {
        guard let existing = find(id) else { return false }
        try transaction {
            guard OGR_L_DeleteFeature(layer, existing.fid) == OGRERR_NONE else {
                throw GDALError(source: path, layer: table, message: GDAL.lastMessage("cannot delete the record"))
            }
        }
        return true
    }

    /// One write transaction, tried again while the file is locked by another writer. SQLite answers "database
    /// is locked" at once, without waiting out the busy timeout, when two writers would deadlock (each holds the
    /// read lock the other's write needs): the one refused rolls back, which lets the other finish, and tries again
    /// after a short, growing pause, for up to 30 s.
    private func transaction(_ body: () throws -> Void) throws {
        let deadline = Date().addingTimeInterval(30)
        var attempt = 0
        while true {
            do {
                try transactionOnce(body)
                return
            } catch let e as GDALError where e.message.contains("locked") && Date() < deadline {
                attempt += 1
                usleep(UInt32(min(200, 5 * attempt)) * 1000 + UInt32.random(in: 0...5000))
            }
        }
    }

    private func transactionOnce(_ body: () throws -> Void) throws {
        CPLErrorReset()
        guard GDALDatasetStartTransaction(handle, 1) == OGRERR_NONE else {
            throw GDALError(source: path, message: GDAL.lastMessage("cannot start a transaction"))
        }
        do { try body() } catch {
            _ = GDALDatasetRollbackTransaction(handle)
            throw error
        }
        guard GDALDatasetCommitTransaction(handle) == OGRERR_NONE else {
            throw GDALError(source: path, message: GDAL.lastMessage("cannot commit"))
        }
        // Commit is durable in SQLite; flush GDAL's own caches too.
        GDALFlushCache(handle)
    }
}
