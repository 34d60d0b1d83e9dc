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
        (2, [
            // Geometries in the study's CRS, for QGIS: the study's SRID, its areas, and each record's places (a
            // scenario's new meeting places, a survey answer's pins) kept by a trigger from the document itself,
            // so every writer (each instance, `klynge store import`) stores them the same way and in the same statement.
            "CREATE EXTENSION IF NOT EXISTS postgis",
            "ALTER TABLE klynge.stores ADD COLUMN srid integer",
            "ALTER TABLE klynge.records ADD COLUMN geom geometry",
            "CREATE INDEX records_geom ON klynge.records USING gist (geom)",
            "CREATE TABLE klynge.areas (study text NOT NULL, id text NOT NULL, name text NOT NULL, geom geometry NOT NULL, PRIMARY KEY (study, id))",
            "CREATE INDEX areas_geom ON klynge.areas USING gist (geom)",
            // A document as JSON, or null when it is not (device marks and early closes are plain text).
            """
            CREATE FUNCTION klynge.json_or_null(document text) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
            BEGIN
                RETURN document::jsonb;
            EXCEPTION WHEN others THEN
                RETURN NULL;
            END $$
            """,
            """
            CREATE FUNCTION klynge.record_geometry() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                target integer;
                doc jsonb;
                points geometry[];
            BEGIN
                NEW.geom := NULL;
                IF NEW.kind NOT IN ('klynge_scenarios', 'klynge_survey_responses') OR NEW.id LIKE 'device:%' OR NEW.id LIKE 'state:%' THEN
                    RETURN NEW;
                END IF;
                SELECT srid INTO target FROM klynge.stores WHERE study = NEW.study;
                IF target IS NULL THEN
                    RETURN NEW;
                END IF;
                BEGIN
                    doc := NEW.document::jsonb;
                    IF NEW.kind = 'klynge_scenarios' THEN
                        SELECT array_agg(CASE
                            WHEN jsonb_typeof(o->'xy') = 'array' THEN ST_SetSRID(ST_MakePoint((o->'xy'->>0)::float8, (o->'xy'->>1)::float8), target)
                            WHEN jsonb_typeof(o->'lonlat') = 'array' THEN
                                ST_Transform(ST_SetSRID(ST_MakePoint((o->'lonlat'->>0)::float8, (o->'lonlat'->>1)::float8), 4326), target)
                            END) INTO points
                        FROM jsonb_array_elements(CASE jsonb_typeof(doc->'open') WHEN 'array' THEN doc->'open' ELSE '[]'::jsonb END) AS o;
                    ELSE
                        SELECT array_agg(ST_Transform(ST_SetSRID(ST_MakePoint((p->>'lon')::float8, (p->>'lat')::float8), 4326), target)) INTO points
                        FROM jsonb_each(CASE jsonb_typeof(doc->'answers') WHEN 'object' THEN doc->'answers' ELSE '{}'::jsonb END) AS a(key, value),
                             jsonb_array_elements(CASE WHEN a.value->>'type' = 'pins' AND jsonb_typeof(a.value->'value') = 'array'
                                                       THEN a.value->'value' ELSE '[]'::jsonb END) AS p;
                    END IF;
                EXCEPTION WHEN others THEN
                    -- A document the service cannot read keeps no geometry; the write itself goes through.
                    RETURN NEW;
                END;
                points := array_remove(points, NULL);
                IF cardinality(points) > 0 THEN
                    NEW.geom := ST_Multi(ST_Collect(points));
                END IF;
                RETURN NEW;
            END $$
            """,
            "CREATE TRIGGER records_geometry BEFORE INSERT OR UPDATE OF document ON klynge.records FOR EACH ROW EXECUTE FUNCTION klynge.record_geometry()",
            // What QGIS opens: one view per kind, with the document as JSON and the geometry.
            """
            CREATE VIEW klynge.scenarios AS
            SELECT study, id, name, klynge.json_or_null(document) AS scenario, version, updated, geom
            FROM klynge.records WHERE kind = 'klynge_scenarios'
            """,
            """
            CREATE VIEW klynge.survey_responses AS
            SELECT study, id, name AS survey, klynge.json_or_null(document) AS response, version, updated, geom
            FROM klynge.records WHERE kind = 'klynge_survey_responses' AND id NOT LIKE 'device:%' AND id NOT LIKE 'state:%'
            """,
            """
            CREATE VIEW klynge.proposals AS
            SELECT study, id, name, klynge.json_or_null(document) AS proposal, version, updated
            FROM klynge.records WHERE kind = 'klynge_proposals'
            """,
            // Each saved proposal's clusters, dissolved from the study's areas.
            """
            CREATE VIEW klynge.proposal_clusters AS
            SELECT r.study, r.id AS proposal, r.name AS proposal_name, a.cluster, count(*) AS areas, ST_Multi(ST_Union(ar.geom)) AS geom
            FROM klynge.records r
            CROSS JOIN LATERAL jsonb_each_text(coalesce(klynge.json_or_null(r.document)->'assignments', '{}'::jsonb)) AS a(area, cluster)
            JOIN klynge.areas ar ON ar.study = r.study AND ar.id = a.area
            WHERE r.kind = 'klynge_proposals'
            GROUP BY r.study, r.id, r.name, a.cluster
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
            try pool.migrateOnce(db)
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

    /// Tells the database the study's CRS (an EPSG code; nil when it has none) and its areas (WKB in that CRS),
    /// for the geometry of records and the QGIS views. Records are given their geometry again when the CRS
    /// changed. One transaction, one writer at a time per study.
    public func describeStudy(srid: Int?, areas: [(id: String, name: String, wkb: [UInt8])]) throws {
        try pool.with { db in
            try db.transaction {
                try db.execute("SELECT pg_advisory_xact_lock(hashtext('klynge-study:' || $1))", [study])
                let old = try db.execute("SELECT srid FROM klynge.stores WHERE study = $1", [study]).rows.first?[0] ?? nil
                try db.execute("UPDATE klynge.stores SET srid = $2::integer WHERE study = $1", [study, srid.map(String.init)])
                if old != srid.map(String.init) {
                    // Touching the document runs the geometry trigger again, in the new CRS (versions stay).
                    try db.execute("UPDATE klynge.records SET document = document WHERE study = $1", [study])
                }
                try db.execute("DELETE FROM klynge.areas WHERE study = $1", [study])
                guard let srid else { return }
                for a in areas {
                    let hex = a.wkb.map { String(format: "%02x", $0) }.joined()
                    try db.execute("INSERT INTO klynge.areas (study, id, name, geom) VALUES ($1, $2, $3, ST_SetSRID(ST_GeomFromWKB(decode($4, 'hex')), $5::integer))",
                                   [study, a.id, a.name, hex, String(srid)])
                }
            }
        }
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
