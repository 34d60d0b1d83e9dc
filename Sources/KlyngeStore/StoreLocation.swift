import Foundation
import KlyngeGeo
import KlyngeIO
import KlyngePostgres
import KlyngeStudy

/// Where a study's records live: a GeoPackage file (one writer, the default), or a PostgreSQL database shared
/// by several processes, the study's records under its key. `--store` takes either; a `postgresql://` address
/// or a `PG:` string names the database.
public enum StoreLocation: Sendable {
    case geoPackage(path: String)
    case postgreSQL(PostgresPool, study: String)

    /// `text` is a file path or a connection string; `study` is the study's key in a database.
    public init(_ text: String, study: String) {
        if PostgresConnection.isConnectionString(text) {
            self = .postgreSQL(PostgresPool(connection: text), study: study)
        } else {
            self = .geoPackage(path: text)
        }
    }

    public static func isDatabase(_ text: String) -> Bool { PostgresConnection.isConnectionString(text) }

    /// For messages: the path, or the database and study without user or password.
    public var label: String {
        switch self {
        case .geoPackage(let path): return path
        case .postgreSQL(let pool, let study): return "\(PostgresConnection.label(pool.connection)), study `\(study)`"
        }
    }

    /// Shared by several processes: writes are decided by the database, and copies in memory must follow it.
    public var isShared: Bool {
        if case .postgreSQL = self { return true }
        return false
    }

    /// The records of one kind in the database (nil for a file, whose tables open on demand).
    func databaseRecords(kind: String) throws -> PostgreSQLRecordStore? {
        guard case .postgreSQL(let pool, let study) = self else { return nil }
        return try PostgreSQLRecordStore(pool: pool, study: study, kind: kind)
    }

    /// Gives a database the study's CRS and areas, so that records get their geometries and QGIS's views their
    /// clusters (nothing for a file, whose tables hold no geometry).
    public func describe(_ study: Study) throws {
        guard let records = try databaseRecords(kind: GeoPackageRecordStore.defaultTable) else { return }
        try records.describeStudy(srid: study.crs.epsgCode, areas: study.areas.map { ($0.id, $0.name, WKB.encode($0.geometry)) })
    }

    /// Whether the database answers (always true for a file).
    public func isReachable() -> Bool {
        guard case .postgreSQL(let pool, _) = self else { return true }
        return pool.ping()
    }
}
