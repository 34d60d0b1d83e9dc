import Foundation
import KlyngeAnalysis
import KlyngeData
import KlyngeGeo
import KlyngeIO
import KlyngeProj
import KlyngeStudy

/// Errors with an HTTP meaning, raised by the service and mapped to responses in one place.
public enum ServiceError: Error, Sendable {
    case badRequest(String)
    case notFound(String)
    case conflict(String)
    case preconditionFailed(String)
    case unauthorized
}

/// A saved scenario as the API shows it.
public struct ScenarioRecord: Sendable, Codable {
    public var id: String
    public var version: Int64
    public var updated: String
    public var scenario: StudyFile.ScenarioSpec
}

/// The study, the analysis built once at start-up (and again when the set of scenarios changes), and the
/// scenario store. An actor: one writer at a time; readers get immutable snapshots.
public actor ServiceState {
    public let study: Study
    public let network: StudyNetwork
    private var analysis: StudyAnalysis
    private let store: any RecordStore
    /// For places put on the web page's map: made once, as creating a PROJ transformation costs milliseconds.
    private let fromLonLat: Transformer

    /// Loads the analysis of the study with the scenarios stored in a GeoPackage.
    public init(study: Study, storePath: String) throws {
        try self.init(study: study, store: GeoPackageRecordStore(path: storePath))
    }

    /// With any record store (e.g. PostgreSQL for a kommune that runs one centrally).
    public init(study: Study, store: any RecordStore) throws {
        self.study = study
        network = try StudyNetwork(study: study)
        self.store = store
        fromLonLat = try Transformer(from: .wgs84, to: study.crs)
        analysis = try Self.build(study: study, network: network, stored: store.all())
    }

    static func decode(_ r: StoredRecord) throws -> StudyFile.ScenarioSpec {
        try JSONDecoder().decode(StudyFile.ScenarioSpec.self, from: Data(r.document.utf8))
    }

    static func build(study: Study, network: StudyNetwork, stored: [StoredRecord]) throws -> StudyAnalysis {
        var s = study
        let own = Set(s.scenarios.map(\.name))
        s.scenarios += try stored.map(decode).filter { !own.contains($0.name) }
        return try StudyAnalysis(study: s, network: network)
    }

    public func snapshot() -> StudyAnalysis { analysis }

    /// A WGS 84 longitude and latitude in the study's working CRS, as `xy` for a new facility.
    public func workingXY(lon: Double, lat: Double) throws -> [Double] {
        guard (-180...180).contains(lon), (-90...90).contains(lat) else { throw ServiceError.badRequest("open: \(lon),\(lat) is not a longitude,latitude") }
        let c = try fromLonLat.transform(Coordinate(x: lon, y: lat))
        return [c.x, c.y]
    }

    public func records() throws -> [ScenarioRecord] {
        try store.all().map { ScenarioRecord(id: $0.id, version: $0.version, updated: $0.updated, scenario: try Self.decode($0)) }
    }

    public func record(_ id: String) throws -> ScenarioRecord {
        guard let r = store.get(id) else { throw ServiceError.notFound("no scenario `\(id)`") }
        return ScenarioRecord(id: r.id, version: r.version, updated: r.updated, scenario: try Self.decode(r))
    }

    /// Validates a scenario against the study (by resolving it with the others) and saves it.
    /// `ifMatch`: the version the client last saw; a different current version is a conflict (412).
    public func save(id: String?, _ spec: StudyFile.ScenarioSpec, ifMatch: Int64?, creating: Bool) throws -> ScenarioRecord {
        let key = id ?? Self.slug(spec.name)
        let existing = store.get(key)
        if creating && existing != nil { throw ServiceError.conflict("a scenario `\(key)` exists already") }
        if !creating {
            guard let existing else { throw ServiceError.notFound("no scenario `\(key)`") }
            guard let v = ifMatch else { throw ServiceError.preconditionFailed("send If-Match with the version you edited (ETag)") }
            guard v == existing.version else {
                throw ServiceError.preconditionFailed("the scenario was changed (version \(existing.version)); reload it and edit again")
            }
        }
        if study.scenarios.contains(where: { $0.name == spec.name }) {
            throw ServiceError.conflict("the study file has a scenario named `\(spec.name)`")
        }
        var others = store.all().filter { $0.id != key }
        if let clash = others.first(where: { (try? Self.decode($0))?.name == spec.name }) {
            throw ServiceError.conflict("the scenario `\(clash.id)` has that name")
        }
        // Resolve first: a scenario the study cannot take is never stored.
        let document = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
        others.append(StoredRecord(id: key, name: spec.name, document: document, version: 0, updated: ""))
        let rebuilt: StudyAnalysis
        do { rebuilt = try Self.build(study: study, network: network, stored: others) } catch let e as ScenarioError {
            throw ServiceError.badRequest(e.description)
        }
        let saved = try store.put(id: key, name: spec.name, document: document)
        analysis = rebuilt
        return ScenarioRecord(id: saved.id, version: saved.version, updated: saved.updated, scenario: spec)
    }

    public func delete(_ id: String, ifMatch: Int64?) throws {
        guard let existing = store.get(id) else { throw ServiceError.notFound("no scenario `\(id)`") }
        if let v = ifMatch, v != existing.version {
            throw ServiceError.preconditionFailed("the scenario was changed (version \(existing.version))")
        }
        let rebuilt = try Self.build(study: study, network: network, stored: store.all().filter { $0.id != id })
        try store.delete(id)
        analysis = rebuilt
    }

    /// An ASCII id from a name ("Én skole" → "en-skole", "Ærø" → "aeroe"), safe in URLs.
    static func slug(_ name: String) -> String {
        var t = name.lowercased()
        for (a, b) in [("æ", "ae"), ("ø", "oe"), ("å", "aa"), ("ß", "ss")] { t = t.replacingOccurrences(of: a, with: b) }
        t = t.folding(options: .diacriticInsensitive, locale: Locale(identifier: "en"))
        let s = t.unicodeScalars.map { $0.isASCII && (CharacterSet.alphanumerics.contains($0)) ? String($0) : "-" }.joined()
        let trimmed = s.split(separator: "-").joined(separator: "-")
        return trimmed.isEmpty ? "scenario" : trimmed
    }
}
