import Foundation
import KlyngeIO

/// The schema of the shared store, as numbered migrations. Each runs once, in order, in one transaction under
/// an advisory lock, so two instances starting at once neither race nor run one twice.
enum StoreSchema {
    static let lockKey = "7410741"
    static let migrations: [(version: Int, sql: [String])] = [
        (1, [
            // Versions come from one sequence: never reused, not even after a delete (an ETag stays unique).
            "CREATE SEQUENCE klynge.revision",
            // One row per study: the generation tells two stores made under one name apart.
            "CREATE TABLE klynge.stores (study text PRIMARY KEY, generation text NOT NULL)",
            // The records of every study and kind (scenarios, proposals, survey responses …): the document as the
            // service wrote it (text, so it round-trips byte for byte), and its row version.
            """
            CREATE TABLE klynge.records (
                study text NOT NULL, kind text NOT NULL, id text NOT NULL, name text NOT NULL,
                document text NOT NULL, version bigint NOT NULL, updated timestamptz NOT NULL,
                PRIMARY KEY (study, kind, id))
            """,
        ]),
    ]

    /// Creates or brings the schema up to date.
    static func migrate(_ db: PostgresConnection) throws {
        try db.transaction {
            try db.execute("SELECT pg_advisory_xact_lock($1::bigint)", [lockKey])
            try db.execute("CREATE SCHEMA IF NOT EXISTS klynge")
            try db.execute("CREATE TABLE IF NOT EXISTS klynge.schema_migrations (version integer PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())")
            let done = Set(try db.execute("SELECT version FROM klynge.schema_migrations").rows.compactMap { $0[0].flatMap(Int.init) })
            guard let newest = migrations.last?.version else { return }
            if let highest = done.max(), highest > newest {
                throw PostgresError(message: "the database's Klynge schema is version \(highest), newer than this program knows (\(newest)); update Klynge",
                                    sqlState: nil, isConnectionProblem: false)
            }
            for m in migrations where !done.contains(m.version) {
                for statement in m.sql { try db.execute(statement) }
                try db.execute("INSERT INTO klynge.schema_migrations (version) VALUES ($1)", [String(m.version)])
            }
        }
    }

    static var currentVersion: Int { migrations.last?.version ?? 0 }
}

/// Saved records of one study and kind in PostgreSQL, shared by every instance of the service. Each write is
/// one statement or one transaction; versions come from the database's sequence, and the conditional writes
/// (`replace(…ifVersion:)`, `insertNew`) are decided by the database, not by a check in the process.
/// Connections come from a pool, so the store may be used from several threads at once.
public final class PostgreSQLRecordStore: RecordStore, Sendable {
    public let study: String
    public let kind: String
    public let generation: String
    private let pool: PostgresPool

    /// Connects, brings the schema up to date and registers the study (its generation is kept).
    public convenience init(connection: String, study: String, kind: String = "klynge_scenarios") throws {
        try self.init(pool: PostgresPool(connection: connection), study: study, kind: kind)
    }

    public init(pool: PostgresPool, study: String, kind: String) throws {
        self.study = study
        self.kind = kind
        self.pool = pool
        let fresh = String(UUID().uuidString.prefix(8)).lowercased()
        generation = try pool.with { db in
            try StoreSchema.migrate(db)
            try db.execute("INSERT INTO klynge.stores (study, generation) VALUES ($1, $2) ON CONFLICT (study) DO NOTHING", [study, fresh])
            return try db.execute("SELECT generation FROM klynge.stores WHERE study = $1", [study]).rows.first?[0] ?? fresh
        }
    }

    static let columns = "id, name, document, version, to_char(updated, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

    static func record(_ row: [String?]) -> StoredRecord {
        StoredRecord(id: row[0] ?? "", name: row[1] ?? "", document: row[2] ?? "", version: Int64(row[3] ?? "") ?? 0, updated: row[4] ?? "")
    }

    public func all() throws -> [StoredRecord] {
        try pool.with { try $0.execute("SELECT \(Self.columns) FROM klynge.records WHERE study = $1 AND kind = $2 ORDER BY id", [study, kind]).rows.map(Self.record) }
    }

    public func get(_ id: String) throws -> StoredRecord? {
        try pool.with {
            try $0.execute("SELECT \(Self.columns) FROM klynge.records WHERE study = $1 AND kind = $2 AND id = $3", [study, kind, id]).rows.first.map(Self.record)
        }
    }

    @discardableResult
    public func put(id: String, name: String, document: String) throws -> StoredRecord {
        try pool.with { try upsert($0, id: id, name: name, document: document) }
    }

    @discardableResult
    public func putAll(_ items: [(id: String, name: String, document: String)]) throws -> [StoredRecord] {
        try pool.with { db in try db.transaction { try items.map { try upsert(db, id: $0.id, name: $0.name, document: $0.document) } } }
    }

    private func upsert(_ db: PostgresConnection, id: String, name: String, document: String) throws -> StoredRecord {
        let rows = try db.execute("""
            INSERT INTO klynge.records (study, kind, id, name, document, version, updated)
            VALUES ($1, $2, $3, $4, $5, nextval('klynge.revision'), now())
            ON CONFLICT (study, kind, id) DO UPDATE SET name = EXCLUDED.name, document = EXCLUDED.document,
                version = EXCLUDED.version, updated = EXCLUDED.updated
            RETURNING \(Self.columns)
            """, [study, kind, id, name, document]).rows
        return Self.record(rows[0])
    }

    /// Why a conditional write wrote nothing (its transaction is rolled back).
    private struct Taken: Error {}

    /// Inserts records only when none has their ids, all or none: nil when one exists (the service's 409),
    /// decided by the primary key, so two instances creating one name at once get exactly one success.
    public func insertNew(_ items: [(id: String, name: String, document: String)]) throws -> [StoredRecord]? {
        do {
            return try pool.with { db in
                try db.transaction {
                    try items.map { item in
                        guard let row = try db.execute("""
                            INSERT INTO klynge.records (study, kind, id, name, document, version, updated)
                            VALUES ($1, $2, $3, $4, $5, nextval('klynge.revision'), now())
                            ON CONFLICT (study, kind, id) DO NOTHING
                            RETURNING \(Self.columns)
                            """, [study, kind, item.id, item.name, item.document]).rows.first else { throw Taken() }
                        return Self.record(row)
                    }
                }
            }
        } catch is Taken { return nil }
    }

    /// One record made only when its id is free.
    public func insertNew(id: String, name: String, document: String) throws -> StoredRecord? {
        try insertNew([(id, name, document)])?.first
    }

    /// Replaces a record only if it still has `version` (If-Match): nil when another write came first (412).
    public func replace(id: String, name: String, document: String, ifVersion version: Int64) throws -> StoredRecord? {
        try pool.with {
            try $0.execute("""
                UPDATE klynge.records SET name = $4, document = $5, version = nextval('klynge.revision'), updated = now()
                WHERE study = $1 AND kind = $2 AND id = $3 AND version = $6
                RETURNING \(Self.columns)
                """, [study, kind, id, name, document, String(version)]).rows.first.map(Self.record)
        }
    }

    /// Deletes a record only if it still has `version`: false when it changed or is gone.
    public func delete(_ id: String, ifVersion version: Int64) throws -> Bool {
        try pool.with {
            try $0.execute("DELETE FROM klynge.records WHERE study = $1 AND kind = $2 AND id = $3 AND version = $4",
                           [study, kind, id, String(version)]).affected == 1
        }
    }

    @discardableResult
    public func delete(_ id: String) throws -> Bool {
        try pool.with { try $0.execute("DELETE FROM klynge.records WHERE study = $1 AND kind = $2 AND id = $3", [study, kind, id]).affected == 1 }
    }

    /// The highest version and the number of records: any insert, update or delete changes one of them,
    /// as versions only grow. One index range scan.
    public func stamp() throws -> String {
        try pool.with {
            let row = try $0.execute("SELECT coalesce(max(version), 0), count(*) FROM klynge.records WHERE study = $1 AND kind = $2", [study, kind]).rows[0]
            return "\(row[0] ?? "0")-\(row[1] ?? "0")"
        }
    }
}
