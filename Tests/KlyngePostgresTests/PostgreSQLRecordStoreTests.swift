import Foundation
import Testing
import KlyngeIO
@testable import KlyngePostgres

/// The shared store against a real PostgreSQL (`make test` sets one up and names it in KLYNGE_TEST_PG; as root it
/// always can): migrations once under concurrent start-up, versions from the database, conditional writes decided
/// by the database under concurrent clients, exact round trips, and errors that never show a password.
@Suite(.serialized) struct PostgreSQLRecordStoreTests {
    static let pg = ProcessInfo.processInfo.environment["KLYNGE_TEST_PG"].flatMap { $0.isEmpty ? nil : $0 }

    func study() -> String { "test-\(UUID().uuidString.prefix(8))" }

    /// Runs `body` on `count` threads at once.
    func concurrently(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for i in 0..<count {
            group.enter()
            Thread.detachNewThread {
                body(i)
                group.leave()
            }
        }
        group.wait()
    }

    final class Box<T>: @unchecked Sendable {
        private var items: [T] = []
        private let lock = NSLock()
        func add(_ t: T) { lock.lock(); items.append(t); lock.unlock() }
        var all: [T] { lock.lock(); defer { lock.unlock() }; return items }
    }

    @Test(.enabled(if: Self.pg != nil, "needs KLYNGE_TEST_PG (make test sets it up)"))
    func theSchemaIsMadeOnceWhenInstancesStartTogether() throws {
        // A database of its own, so that no other test's schema is dropped under it.
        let admin = try PostgresConnection(try #require(Self.pg))
        let database = "klynge_migrations_\(UUID().uuidString.prefix(8).lowercased())"
        try admin.execute("CREATE DATABASE \(database)")
        defer { _ = try? admin.execute("DROP DATABASE \(database) WITH (FORCE)") }
        let pg = try #require(Self.pg).replacingOccurrences(of: #"dbname=\S+"#, with: "dbname=\(database)", options: .regularExpression)
        #expect(pg.contains(database), "KLYNGE_TEST_PG names its database with dbname=")
        let errors = Box<String>(), generations = Box<String>()
        let name = study()
        concurrently(6) { _ in
            do { generations.add(try PostgreSQLRecordStore(connection: pg, study: name).generation) } catch { errors.add("\(error)") }
        }
        #expect(errors.all.isEmpty, "\(errors.all)")
        #expect(Set(generations.all).count == 1, "one generation per study: \(generations.all)")
        let applied = try PostgresConnection(pg).execute("SELECT version FROM klynge.schema_migrations ORDER BY version").rows.map { $0[0] }
        #expect(applied == (1...StoreSchema.currentVersion).map { String($0) })
    }

    @Test(.enabled(if: Self.pg != nil, "needs KLYNGE_TEST_PG (make test sets it up)"))
    func versionsComeFromTheDatabaseAndAreNeverReused() throws {
        let pg = try #require(Self.pg)
        let name = study()
        let a = try PostgreSQLRecordStore(connection: pg, study: name), b = try PostgreSQLRecordStore(connection: pg, study: name, kind: "klynge_proposals")
        let first = try a.put(id: "s1", name: "Én", document: "{}")
        let deleted = try a.delete("s1")
        let again = try a.put(id: "s1", name: "Én", document: "{}")
        #expect(deleted && again.version > first.version, "a version is never given twice, not even after a delete")
        // Two writers (two connections) at once: every version distinct.
        let versions = Box<Int64>()
        concurrently(4) { i in
            if let s = try? PostgreSQLRecordStore(connection: pg, study: name, kind: i % 2 == 0 ? "klynge_scenarios" : "klynge_proposals") {
                for k in 0..<25 { if let r = try? s.put(id: "t\(i)-\(k)", name: "x", document: "{}") { versions.add(r.version) } }
            }
        }
        #expect(versions.all.count == 100 && Set(versions.all).count == 100)
        #expect(try a.all().count == 51 && b.all().count == 50, "kinds are kept apart")
        #expect(try PostgreSQLRecordStore(connection: pg, study: study()).all().isEmpty, "studies are kept apart")
    }

    @Test(.enabled(if: Self.pg != nil, "needs KLYNGE_TEST_PG (make test sets it up)"))
    func conditionalWritesAreDecidedByTheDatabase() throws {
        let pg = try #require(Self.pg)
        let name = study()
        let setup = try PostgreSQLRecordStore(connection: pg, study: name)
        try setup.put(id: "counter", name: "Tæller", document: "0")
        // 20 clients, each read-modify-write 10 times with If-Match: no acknowledged write is lost.
        let acknowledged = Box<Int>(), stale = Box<Int>(), created = Box<Int>()
        concurrently(20) { i in
            guard let s = try? PostgreSQLRecordStore(connection: pg, study: name) else { return }
            var done = 0
            while done < 10 {
                guard let r = try? s.get("counter") else { continue }
                let n = Int(r.document) ?? -1000
                if (try? s.replace(id: "counter", name: r.name, document: String(n + 1), ifVersion: r.version)) ?? nil != nil {
                    acknowledged.add(1)
                    done += 1
                } else {
                    stale.add(1)
                }
            }
            // Everyone creates the same new record at once: one wins.
            if (try? s.insertNew(id: "only-once", name: "Én gang", document: "\(i)")) ?? nil != nil { created.add(i) }
        }
        let final = try #require(try setup.get("counter"))
        #expect(acknowledged.all.count == 200 && Int(final.document) == 200, "final \(final.document) after \(acknowledged.all.count) acknowledged writes")
        #expect(!stale.all.isEmpty, "with 20 clients some writes were stale (got 412)")
        #expect(created.all.count == 1)
        // A delete with a stale version does nothing.
        #expect(try !setup.delete("counter", ifVersion: final.version - 1) && setup.delete("counter", ifVersion: final.version))
    }

    @Test(.enabled(if: Self.pg != nil, "needs KLYNGE_TEST_PG (make test sets it up)"))
    func documentsRoundTripExactlyAndTransactionsAreAllOrNothing() throws {
        let pg = try #require(Self.pg)
        let s = try PostgreSQLRecordStore(connection: pg, study: study())
        let text = "{\"navn\": \"Ærø's \\\"hus\\\"\", \"x\": 1.50, \"liste\": [ 1,2 ]}\n" + String(repeating: "ø'\"\\$1 ", count: 100_000)
        let saved = try s.put(id: "lang/æ", name: "Ærø; DROP TABLE klynge.records", document: text)
        let read = try #require(try s.get("lang/æ"))
        #expect(read == saved && read.document == text && read.name == "Ærø; DROP TABLE klynge.records")
        #expect(read.updated.hasSuffix("Z") && read.updated.count == 20)
        let batch = try s.putAll([("a", "A", "1"), ("b", "B", "2")])
        #expect(batch[1].version > batch[0].version)
        // A transaction that fails part-way leaves nothing behind.
        let db = try PostgresConnection(pg)
        #expect(throws: PostgresError.self) {
            try db.transaction {
                try db.execute("INSERT INTO klynge.records VALUES ($1, 'k', 'x', 'x', '{}', 1, now())", [s.study])
                try db.execute("SELECT 1/0")
            }
        }
        #expect(try db.execute("SELECT count(*) FROM klynge.records WHERE study = $1 AND kind = 'k'", [s.study]).rows[0][0] == "0")
    }

    @Test(.enabled(if: Self.pg != nil, "needs KLYNGE_TEST_PG (make test sets it up)"))
    func insertNewIsAllOrNothingAndTheStampFollowsEveryChange() throws {
        let s = try PostgreSQLRecordStore(connection: try #require(Self.pg), study: study())
        var stamps = [try s.stamp()]
        let made = try #require(try s.insertNew([("r", "R", "1"), ("device:x", "d", "")]))
        stamps.append(try s.stamp())
        #expect(made.count == 2 && made[1].version > made[0].version)
        #expect(try s.insertNew([("r2", "R2", "2"), ("device:x", "d", "")]) == nil, "a device mark in use: the answer is not kept either")
        #expect(try s.get("r2") == nil)
        _ = try #require(try s.replace(id: "r", name: "R", document: "3", ifVersion: made[0].version))
        stamps.append(try s.stamp())
        #expect(try s.delete("device:x"))
        stamps.append(try s.stamp())
        #expect(Set(stamps).count == 4, "\(stamps)")
    }

    /// A connection the server drops (a restart, a proxy's idle timeout) is noticed before it is used: the next
    /// call connects afresh and succeeds, with no error for the caller.
    @Test(.enabled(if: Self.pg != nil, "needs KLYNGE_TEST_PG (make test sets it up)"))
    func thePoolRecoversFromADroppedConnection() throws {
        let pg = try #require(Self.pg)
        let pool = PostgresPool(connection: pg)
        let s = try PostgreSQLRecordStore(pool: pool, study: study(), kind: "klynge_scenarios")
        try s.put(id: "a", name: "A", document: "1")
        let pid = try pool.with { try $0.execute("SELECT pg_backend_pid()").rows[0][0] ?? "" }
        let admin = try PostgresConnection(pg)
        #expect(try admin.execute("SELECT pg_terminate_backend($1::int)", [pid]).rows[0][0] == "t")
        #expect(try s.get("a")?.document == "1", "the dropped connection was replaced")
        #expect(try pool.with { try $0.execute("SELECT pg_backend_pid()").rows[0][0] } != pid)
        #expect(pool.ping())
        #expect(!PostgresPool(connection: "postgresql://nobody:pw@127.0.0.1:1/none").ping())
        #expect(PostgresConnection.label("postgresql://u:s3cret@db.kommune.dk:5433/klynge") == "PostgreSQL database `klynge` on db.kommune.dk:5433")
        #expect(PostgresConnection.label("PG:dbname=k host=/var/run/postgresql password=s3cret") == "PostgreSQL database `k` on local socket")
    }

    @Test func errorsNeverShowThePassword() throws {
        for connection in ["postgresql://klynge:s3cret-pw@127.0.0.1:1/klynge?connect_timeout=2",
                           "PG:host=127.0.0.1 port=1 dbname=klynge user=klynge password=s3cret-pw connect_timeout=2"] {
            do {
                _ = try PostgreSQLRecordStore(connection: connection, study: "x")
                Issue.record("connected to a closed port")
            } catch let e as PostgresError {
                #expect(e.isConnectionProblem && !"\(e)".contains("s3cret-pw"), "\(e)")
            }
        }
        #expect(PostgresConnection.isConnectionString("postgresql://h/db") && PostgresConnection.isConnectionString("PG:dbname=x")
                && !PostgresConnection.isConnectionString("out/store.gpkg"))
    }
}
