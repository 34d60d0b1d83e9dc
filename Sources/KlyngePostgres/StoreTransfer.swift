import Foundation
import KlyngeIO

/// Moving a study's store between a GeoPackage and PostgreSQL (`klynge store export|import`): every record of
/// every kind, in one transaction on the database side, then read back and compared record by record (id,
/// name, document and time of the last change). Versions are the receiving store's own: an ETag never travels.
public enum StoreTransfer {
    /// The record tables of a store: scenarios, saved proposals, survey responses (with their device marks).
    public static let kinds = ["klynge_scenarios", "klynge_proposals", "klynge_survey_responses"]

    public struct Mismatch: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Makes or updates the schema; returns its version.
    public static func migrate(connection: String) throws -> Int {
        try StoreSchema.migrate(try PostgresConnection(connection))
        return StoreSchema.currentVersion
    }

    /// Every record of the study in PostgreSQL, by kind.
    public static func read(connection: String, study: String) throws -> [String: [StoredRecord]] {
        let db = try PostgresConnection(connection)
        try StoreSchema.migrate(db)
        var out: [String: [StoredRecord]] = [:]
        for kind in kinds {
            out[kind] = try db.execute("SELECT \(PostgreSQLRecordStore.columns) FROM klynge.records WHERE study = $1 AND kind = $2 ORDER BY id",
                                       [study, kind]).rows.map(PostgreSQLRecordStore.record)
        }
        return out
    }

    /// Writes the records into PostgreSQL for the study, all or nothing. A study that has records already is
    /// refused unless `replace`, which deletes them in the same transaction.
    @discardableResult
    public static func write(connection: String, study: String, records: [String: [StoredRecord]], replace: Bool) throws -> [String: Int] {
        let db = try PostgresConnection(connection)
        try StoreSchema.migrate(db)
        try db.transaction {
            let existing = Int(try db.execute("SELECT count(*) FROM klynge.records WHERE study = $1", [study]).rows[0][0] ?? "0") ?? 0
            if existing > 0 {
                guard replace else {
                    throw Mismatch(message: "the database holds \(existing) record(s) of the study `\(study)` already; add --replace to replace them")
                }
                try db.execute("DELETE FROM klynge.records WHERE study = $1", [study])
            }
            let generation = String(UUID().uuidString.prefix(8)).lowercased()
            try db.execute("INSERT INTO klynge.stores (study, generation) VALUES ($1, $2) ON CONFLICT (study) DO UPDATE SET generation = EXCLUDED.generation",
                           [study, generation])
            for kind in kinds {
                for r in records[kind] ?? [] {
                    try db.execute("""
                        INSERT INTO klynge.records (study, kind, id, name, document, version, updated)
                        VALUES ($1, $2, $3, $4, $5, nextval('klynge.revision'), COALESCE(NULLIF($6, '')::timestamptz, now()))
                        """, [study, kind, r.id, r.name, r.document, r.updated])
                }
            }
        }
        let back = try read(connection: connection, study: study)
        try compare(records, back, what: "the database")
        return back.mapValues(\.count)
    }

    /// Every record of a GeoPackage store, by kind (a table the file lacks has none).
    public static func read(geoPackage path: String) throws -> [String: [StoredRecord]] {
        var out: [String: [StoredRecord]] = [:]
        for kind in kinds {
            do { out[kind] = try GeoPackageRecordStore(path: path, table: kind, readOnly: true).all() } catch let e as GDALError {
                // An older store, or one without proposals or answers: that kind is empty.
                if e.message.contains("does not exist") { throw e }
                out[kind] = []
            }
        }
        return out
    }

    /// Writes the records into a new GeoPackage at `path` (the caller makes it atomic), then reads it back.
    /// Each record keeps the time of its last change.
    @discardableResult
    public static func write(geoPackage path: String, records: [String: [StoredRecord]]) throws -> [String: Int] {
        for kind in kinds {
            let store = try GeoPackageRecordStore(path: path, table: kind)
            if let list = records[kind], !list.isEmpty { try store.restoreAll(list) }
        }
        let back = try read(geoPackage: path)
        try compare(records, back, what: path)
        return back.mapValues(\.count)
    }

    /// The same records by kind: ids, names and documents (and times of the last change, where kept).
    public static func compare(_ a: [String: [StoredRecord]], _ b: [String: [StoredRecord]], what: String) throws {
        for kind in kinds {
            let x = (a[kind] ?? []).sorted { $0.id < $1.id }, y = (b[kind] ?? []).sorted { $0.id < $1.id }
            guard x.count == y.count else {
                throw Mismatch(message: "\(what): \(kind) has \(y.count) record(s), not \(x.count)")
            }
            for (r, s) in zip(x, y) where r.id != s.id || r.name != s.name || r.document != s.document || (!r.updated.isEmpty && r.updated != s.updated) {
                throw Mismatch(message: "\(what): the \(kind) record `\(r.id)` did not arrive unchanged")
            }
        }
    }
}
