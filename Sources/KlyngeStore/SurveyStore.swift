import Foundation
import KlyngeIO
import KlyngeSurvey

/// Survey responses in the study's store (a third table of the scenario store's file, or the store that
/// takes its place). Each save is one transaction: an acknowledged response survives `kill -9`, and a
/// response and its device mark are kept together or not at all.
///
/// Records: a response under its id (name: the survey id); a device that has answered under
/// `device:<survey>:<token>`; an early close under `state:<survey>`. The device token is the random value of
/// the page's cookie, not derived from the device or its owner, and nothing ties it to the response.
/// Calls to a file are serialised (one GDAL handle, used by one thread at a time); a database takes them at once.
public final class SurveyStore: @unchecked Sendable {
    public static let table = "klynge_survey_responses"
    public let location: StoreLocation
    /// The store for messages: its path, or the database and study key.
    public var path: String { location.label }
    private let lock = NSLock()
    private var records: (any RecordStore)?
    private var writable = false

    public convenience init(path: String) {
        self.init(location: .geoPackage(path: path))
    }

    public init(location: StoreLocation) {
        self.location = location
    }

    private func opened(forWriting: Bool) throws -> (any RecordStore)? {
        if let records, writable || !forWriting { return records }
        guard case .geoPackage(let path) = location else {
            records = try location.databaseRecords(kind: Self.table)
            writable = true
            return records
        }
        guard forWriting || FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            // A new store gets its scenario table too, so readers of scenarios find the file as they expect.
            if forWriting { _ = try GeoPackageRecordStore(path: path, readOnly: false) }
            let s = try GeoPackageRecordStore(path: path, table: Self.table, readOnly: !forWriting)
            records = s
            writable = forWriting
            return s
        } catch let e as GDALError {
            // A store made before surveys has no such table: no responses yet.
            if !forWriting { return nil }
            throw StoreError(path: path, message: e.message)
        }
    }

    /// Runs `body` with the store opened. A file's GDAL handle serves one thread at a time, so its calls are
    /// serialised; a database's pool serves many at once, and its conditional writes need no lock here.
    private func with<T>(forWriting: Bool, _ body: ((any RecordStore)?) throws -> T) throws -> T {
        lock.lock()
        let s: (any RecordStore)?
        do { s = try opened(forWriting: forWriting) } catch {
            lock.unlock()
            throw error
        }
        if location.isShared {
            lock.unlock()
            return try body(s)
        }
        defer { lock.unlock() }
        return try body(s)
    }

    /// As `with`, for a write: the store must open.
    private func writing<T>(_ body: (any RecordStore) throws -> T) throws -> T {
        try with(forWriting: true) { s in
            guard let s else { throw StoreError(path: path, message: "cannot open the store") }
            return try body(s)
        }
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    static func deviceKey(survey: String, token: String) -> String { "device:\(survey):\(token)" }
    static func stateKey(survey: String) -> String { "state:\(survey)" }

    /// What the store holds of one survey, from one read of the table: its responses in id order (a record
    /// that cannot be read is named, never dropped silently), the device tokens that have answered, and when an
    /// administrator closed it early, if they did.
    public struct Contents: Sendable {
        public var responses: [SurveyResponse] = []
        public var unreadable: [String] = []
        public var devices: Set<String> = []
        public var closedEarly: Date?
    }

    public func contents(survey: String) throws -> Contents {
        try with(forWriting: false) { s in
            var out = Contents()
            guard let s else { return out }
            let devicePrefix = "device:\(survey):", state = Self.stateKey(survey: survey)
            for r in try s.all() {
                if r.name == survey {
                    if let resp = try? JSONDecoder().decode(SurveyResponse.self, from: Data(r.document.utf8)) { out.responses.append(resp) } else { out.unreadable.append(r.id) }
                } else if r.id.hasPrefix(devicePrefix) {
                    out.devices.insert(String(r.id.dropFirst(devicePrefix.count)))
                } else if r.id == state {
                    out.closedEarly = ISO8601DateFormatter().date(from: r.document)
                }
            }
            out.responses.sort { $0.id < $1.id }
            out.unreadable.sort()
            return out
        }
    }

    /// The survey's responses, in id order, and the records that cannot be read.
    public func responses(survey: String) throws -> (responses: [SurveyResponse], unreadable: [String]) {
        let c = try contents(survey: survey)
        return (c.responses, c.unreadable)
    }

    /// Saves a response, with the device's mark when given, in one transaction: false (and nothing saved)
    /// when the device has answered already. The store decides, so two processes taking answers never let one
    /// device answer twice.
    public func save(_ response: SurveyResponse, device: String?) throws -> Bool {
        let document = String(decoding: try Self.encoder.encode(response), as: UTF8.self)
        var items: [(id: String, name: String, document: String)] = [(response.id, response.survey, document)]
        if let device { items.append((Self.deviceKey(survey: response.survey, token: device), response.survey + "#device", "")) }
        return try writing { try $0.insertNew(items) != nil }
    }

    /// When the survey was closed early, if it was (one record read).
    public func closedEarly(survey: String) throws -> Date? {
        try with(forWriting: false) { s in
            guard let r = try s?.get(Self.stateKey(survey: survey)) else { return nil }
            return ISO8601DateFormatter().date(from: r.document)
        }
    }

    /// Changes whenever a response, device mark or early close is written or deleted, by any process.
    public func stamp() throws -> String {
        try with(forWriting: false) { try $0?.stamp() ?? "none" }
    }

    /// Saves many responses (an import) in one transaction: all of them, or none.
    public func saveAll(_ responses: [SurveyResponse]) throws {
        let items = try responses.map { r in (id: r.id, name: r.survey, document: String(decoding: try Self.encoder.encode(r), as: UTF8.self)) }
        try writing { _ = try $0.putAll(items) }
    }

    /// Closes the survey now (answers are refused from then on).
    public func closeEarly(survey: String, at date: Date) throws {
        try writing { s in
            _ = try s.put(id: Self.stateKey(survey: survey), name: survey + "#state", document: ISO8601DateFormatter().string(from: date))
        }
    }

    /// Sets a pin's moderation status; false when the response or pin does not exist.
    public func setPinStatus(survey: String, response id: String, question: String, pin index: Int, to status: PlacePin.Status) throws -> Bool {
        try writing { s in
            guard let r = try s.get(id), r.name == survey,
                  var response = try? JSONDecoder().decode(SurveyResponse.self, from: Data(r.document.utf8)),
                  case .pins(var pins)? = response.answers[question], pins.indices.contains(index) else { return false }
            pins[index].status = status
            response.answers[question] = .pins(pins)
            try s.put(id: id, name: survey, document: String(decoding: try Self.encoder.encode(response), as: UTF8.self))
            return true
        }
    }

    /// Deletes a response (spam, or a respondent's request); false when there is none.
    public func delete(survey: String, response id: String) throws -> Bool {
        try writing { s in
            guard let r = try s.get(id), r.name == survey else { return false }
            return try s.delete(id)
        }
    }
}
