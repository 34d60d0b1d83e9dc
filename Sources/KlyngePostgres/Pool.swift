import Foundation
import Synchronization

/// Connections to one database, shared by the threads of a service. A connection is used by one caller at a
/// time; one that failed for a connection problem is dropped, so the next call connects afresh and the
/// service recovers by itself once the server is back. Idle connections are checked before they are used: a
/// server restart closes them without a word.
public final class PostgresPool: Sendable {
    public let connection: String
    private let idle = Mutex<[PostgresConnection.Sendable]>([])
    private let maxIdle: Int
    /// Whether this pool has brought the schema up to date (once per process and database is enough).
    private let migrated = Mutex(false)

    public init(connection: String, maxIdle: Int = 8) {
        self.connection = connection
        self.maxIdle = maxIdle
    }

    /// Runs `body` with a connection. Errors pass through; a connection problem drops the connection.
    public func with<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let db = try checkout()
        do {
            let value = try body(db)
            checkin(db)
            return value
        } catch let e as PostgresError {
            if !e.isConnectionProblem, db.isUsable { checkin(db) }
            throw e
        } catch {
            if db.isUsable { checkin(db) }
            throw error
        }
    }

    /// Runs the schema migrations on the first call only.
    func migrateOnce(_ db: PostgresConnection) throws {
        guard !migrated.withLock({ $0 }) else { return }
        try StoreSchema.migrate(db)
        migrated.withLock { $0 = true }
    }

    /// Whether the database answers now (readiness).
    public func ping() -> Bool {
        (try? with { try $0.execute("SELECT 1") }) != nil
    }

    private func checkout() throws -> PostgresConnection {
        while let held = idle.withLock({ $0.popLast() }) {
            // A connection idle across a server restart fails on its first use: find that out here, where
            // nothing has been sent yet, rather than on the caller's statement.
            if (try? held.connection.execute("SELECT 1")) != nil { return held.connection }
        }
        return try PostgresConnection(connection)
    }

    private func checkin(_ db: PostgresConnection) {
        idle.withLock { list in
            if list.count < maxIdle { list.append(.init(connection: db)) }
        }
    }
}

extension PostgresConnection {
    /// A connection parked in the pool: no thread uses it while it is there.
    struct Sendable: @unchecked Swift.Sendable {
        let connection: PostgresConnection
    }
}
