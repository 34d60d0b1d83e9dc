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
public protocol RecordStore: AnyObject {
    func all() -> [StoredRecord]
    func get(_ id: String) -> StoredRecord?
    /// Inserts or replaces atomically; the version becomes `previous + 1`.
    @discardableResult func put(id: String, name: String, document: String) throws -> StoredRecord
    @discardableResult func delete(_ id: String) throws -> Bool
}

/// A table of records in a GeoPackage (SQLite), each change in its own transaction: a killed process
/// loses nothing committed and never leaves a half-written record. Use from one task at a time.
public final class GeoPackageRecordStore: RecordStore {
    public let path: String
    public let table: String
    private let handle: GDALDatasetH
    private let layer: OGRLayerH

    public init(path: String, table: String = "klynge_scenarios") throws {
        GDAL.ensureRegistered()
        self.path = path
        self.table = table
        CPLErrorReset()
        var ds: GDALDatasetH?
        if FileManager.default.fileExists(atPath: path) {
            ds = GDALOpenEx(path, UInt32(GDAL_OF_VECTOR | GDAL_OF_UPDATE | GDAL_OF_VERBOSE_ERROR), nil, nil, nil)
        } else if let driver = GDALGetDriverByName("GPKG") {
            ds = GDALCreate(driver, path, 0, 0, 0, GDT_Unknown, nil)
        }
        guard let ds else { throw GDALError(source: path, message: GDAL.lastMessage("cannot open or create the scenario store")) }
        handle = ds
        if let l = GDALDatasetGetLayerByName(ds, table) {
            layer = l
        } else {
            guard let l = GDALDatasetCreateLayer(ds, table, nil, wkbNone, nil) else {
                GDALClose(ds)
                throw GDALError(source: path, layer: table, message: GDAL.lastMessage("cannot create the table"))
            }
            for (name, type) in [("id", OFTString), ("name", OFTString), ("document", OFTString), ("version", OFTInteger64), ("updated", OFTString)] {
                let f = OGR_Fld_Create(name, type)
                defer { OGR_Fld_Destroy(f) }
                guard OGR_L_CreateField(l, f, 1) == OGRERR_NONE else {
                    GDALClose(ds)
                    throw GDALError(source: path, layer: table, message: "cannot create the field \(name)")
                }
            }
            layer = l
        }
    }

    deinit { GDALClose(handle) }

    private func record(_ f: OGRFeatureH) -> StoredRecord {
        func s(_ name: String) -> String {
            let i = OGR_F_GetFieldIndex(f, name)
            return i >= 0 ? GDAL.string(OGR_F_GetFieldAsString(f, i)) ?? "" : ""
        }
        return StoredRecord(id: s("id"), name: s("name"), document: s("document"),
                            version: OGR_F_GetFieldAsInteger64(f, OGR_F_GetFieldIndex(f, "version")), updated: s("updated"))
    }

    public func all() -> [StoredRecord] {
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

    public func get(_ id: String) -> StoredRecord? { find(id)?.record }

    /// Inserts or replaces a record in one transaction; the version becomes `previous + 1`.
    @discardableResult
    public func put(id: String, name: String, document: String) throws -> StoredRecord {
        let existing = find(id)
        let now = ISO8601DateFormatter().string(from: Date())
        let record = StoredRecord(id: id, name: name, document: document, version: (existing?.record.version ?? 0) + 1, updated: now)
        try transaction {
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
        }
        return record
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

    private func transaction(_ body: () throws -> Void) throws {
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
