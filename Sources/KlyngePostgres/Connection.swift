import CPQ
import Foundation

/// A PostgreSQL error in words: the server's message and SQLSTATE, never the connection string or its password.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    public let message: String
    /// The five-character SQLSTATE (`23505` unique violation, `40001` serialization failure …), when the server sent one.
    public let sqlState: String?
    /// The connection could not be made or was lost (the service answers 503 and tries again).
    public let isConnectionProblem: Bool
    public var description: String { "PostgreSQL: \(message)" + (sqlState.map { " (SQLSTATE \($0))" } ?? "") }
}

/// Rows of a result, as text (libpq's text format; the caller reads the types it asked for).
public struct PostgresRows: Sendable {
    public let columns: [String]
    public let rows: [[String?]]
    /// Rows changed by an INSERT, UPDATE or DELETE.
    public let affected: Int
}

/// One connection (libpq, through its C API; the handle stays inside). A `postgresql://` URI or a `PG:` string
/// as GDAL takes it (`PG:dbname=… host=…`). Statements take parameters (`$1`), never interpolated text.
/// Use from one thread at a time.
public final class PostgresConnection {
    private let conn: OpaquePointer
    /// Words to keep out of any message (the password, were libpq to repeat it).
    private let secrets: [String]

    public init(_ connection: String) throws {
        let conninfo = Self.withConnectTimeout(Self.conninfo(connection))
        secrets = Self.secrets(in: conninfo)
        guard let c = PQconnectdb(conninfo) else {
            throw PostgresError(message: "cannot allocate a connection", sqlState: nil, isConnectionProblem: true)
        }
        guard PQstatus(c) == CONNECTION_OK else {
            let message = Self.redact(String(cString: PQerrorMessage(c)), secrets)
            PQfinish(c)
            throw PostgresError(message: "cannot connect: \(message)", sqlState: nil, isConnectionProblem: true)
        }
        conn = c
        // Messages in English, timestamps in UTC whatever the server's settings, and no NOTICE chatter on stderr.
        _ = try? execute("SET lc_messages TO 'C'")
        try execute("SET TIME ZONE 'UTC'")
        try execute("SET client_min_messages TO WARNING")
        // No statement of the service holds a connection for long; one that would is a fault, not a wait.
        try execute("SET statement_timeout TO '30s'")
    }

    deinit { PQfinish(conn) }

    /// Whether the connection is still open (a lost one is dropped by the pool, never reused).
    public var isUsable: Bool { PQstatus(conn) == CONNECTION_OK }

    /// A server that does not answer is given up on after 5 s (a request then fails with 503), unless the
    /// connection string sets its own `connect_timeout`.
    static func withConnectTimeout(_ conninfo: String) -> String {
        guard !conninfo.contains("connect_timeout") else { return conninfo }
        if conninfo.hasPrefix("postgresql://") || conninfo.hasPrefix("postgres://") {
            return conninfo + (conninfo.contains("?") ? "&" : "?") + "connect_timeout=5"
        }
        return conninfo + " connect_timeout=5"
    }

    /// The database for people to read: host, port and database name, never a user or password.
    public static func label(_ connection: String) -> String {
        let info = conninfo(connection)
        if info.hasPrefix("postgresql://") || info.hasPrefix("postgres://"), let u = URLComponents(string: info) {
            let db = u.path.hasPrefix("/") ? String(u.path.dropFirst()) : u.path
            let host = u.host.map { $0.isEmpty ? "local socket" : $0 } ?? "local socket"
            return "PostgreSQL database `\(db.isEmpty ? "(default)" : db)` on \(host)\(u.port.map { ":\($0)" } ?? "")"
        }
        var pairs: [String: String] = [:]
        for part in info.split(whereSeparator: \.isWhitespace) {
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            if kv.count == 2 { pairs[kv[0]] = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "'")) }
        }
        let host = pairs["host"].map { $0.hasPrefix("/") ? "local socket" : $0 } ?? "local socket"
        return "PostgreSQL database `\(pairs["dbname"] ?? "(default)")` on \(host)\(pairs["port"].map { ":\($0)" } ?? "")"
    }

    /// Whether a string names a PostgreSQL database (rather than a file).
    public static func isConnectionString(_ s: String) -> Bool {
        s.hasPrefix("postgresql://") || s.hasPrefix("postgres://") || s.hasPrefix("PG:")
    }

    /// libpq's conninfo: a URI as it is, a GDAL `PG:` string without its prefix.
    static func conninfo(_ s: String) -> String { s.hasPrefix("PG:") ? String(s.dropFirst(3)) : s }

    static func secrets(in conninfo: String) -> [String] {
        var out: [String] = []
        if let r = conninfo.range(of: #"password\s*=\s*'?([^'\s]+)"#, options: .regularExpression) {
            let kv = conninfo[r]
            if let eq = kv.firstIndex(of: "=") { out.append(kv[kv.index(after: eq)...].trimmingCharacters(in: CharacterSet(charactersIn: " '"))) }
        }
        if let url = URL(string: conninfo), let p = url.password, !p.isEmpty { out.append(p) }
        return out.filter { !$0.isEmpty }
    }

    static func redact(_ message: String, _ secrets: [String]) -> String {
        // One line: libpq's messages run over several, indented with tabs.
        var m = message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
        for s in secrets { m = m.replacingOccurrences(of: s, with: "***") }
        return m
    }

    /// Runs one statement with text parameters (nil is SQL NULL).
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = []) throws -> PostgresRows {
        let result: OpaquePointer? = withParameters(parameters) { values in
            PQexecParams(conn, sql, Int32(parameters.count), nil, values, nil, nil, 0)
        }
        guard let result else { throw failure(nil) }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else { throw failure(result) }
        let n = Int(PQntuples(result)), m = Int(PQnfields(result))
        let columns = (0..<m).map { String(cString: PQfname(result, Int32($0))) }
        var rows: [[String?]] = []
        rows.reserveCapacity(n)
        for r in 0..<n {
            rows.append((0..<m).map { c in
                PQgetisnull(result, Int32(r), Int32(c)) == 1 ? nil : String(cString: PQgetvalue(result, Int32(r), Int32(c)))
            })
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresRows(columns: columns, rows: rows, affected: affected)
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            _ = try? execute("ROLLBACK")
            throw error
        }
    }

    private func failure(_ result: OpaquePointer?) -> PostgresError {
        let lost = PQstatus(conn) != CONNECTION_OK
        var state: String?
        var message = String(cString: PQerrorMessage(conn))
        if let result {
            if let s = PQresultErrorField(result, Int32(UInt8(ascii: "C"))) { state = String(cString: s) }
            if let m = PQresultErrorField(result, Int32(UInt8(ascii: "M"))) { message = String(cString: m) }
        }
        return PostgresError(message: Self.redact(message, secrets), sqlState: state, isConnectionProblem: lost || (state?.hasPrefix("08") ?? false))
    }

    /// The parameters as C strings for the duration of the call.
    private func withParameters<R>(_ parameters: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        let owned: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { for p in owned { free(p) } }
        return body(owned.map { $0.map { UnsafePointer($0) } })
    }
}
