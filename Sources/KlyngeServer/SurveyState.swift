import Foundation
import Synchronization
import KlyngeStore
import KlyngeStudy
import KlyngeStudyAnalysis
import KlyngeSurvey

/// How many answers one address may send: a burst, then one per interval. A village hall's shared
/// connection on a survey evening stays well within it; a script sending hundreds does not.
public struct SurveyRateLimit: Sendable {
    public var burst: Double = 20
    public var intervalSeconds: Double = 30
    public init() {}
}

/// A token bucket per client address, kept in memory (addresses are never stored).
final class AddressRateLimiter: Sendable {
    let limit: SurveyRateLimit
    private let buckets = Mutex<[String: (tokens: Double, at: Double)]>([:])

    init(limit: SurveyRateLimit) { self.limit = limit }

    /// Takes one token for `address`; false when its bucket is empty.
    func take(_ address: String, now: Double = Date().timeIntervalSinceReferenceDate) -> Bool {
        buckets.withLock { b in
            // Forget addresses whose buckets are full again, so the table stays small.
            if b.count > 10_000 {
                b = b.filter { now - $0.value.at < limit.burst * limit.intervalSeconds }
            }
            var entry = b[address] ?? (limit.burst, now)
            entry.tokens = min(limit.burst, entry.tokens + (now - entry.at) / limit.intervalSeconds)
            entry.at = now
            guard entry.tokens >= 1 else {
                b[address] = entry
                return false
            }
            entry.tokens -= 1
            b[address] = entry
            return true
        }
    }
}

/// The study's surveys as the service runs them: their definitions and places, the store of answers, which
/// devices have answered, early closes, and the address rate limit. Writes go through one lock; the store
/// itself refuses a second answer from one device, so several instances sharing a database cannot let one
/// through either. With a shared store, `follow()` drops what other instances have made stale.
public final class SurveyState: Sendable {
    public let catalog: SurveyCatalog
    let outlines: [[[Double]]]
    let store: SurveyStore
    let writable: Bool
    let limiter: AddressRateLimiter
    private let devices: Mutex<[String: Set<String>]>
    /// Each survey's responses as stored, read once by a writing service. With a file it is the store's only
    /// writer (it holds the writer's lock), so the copy changes only through it; with a shared store `follow()`
    /// drops the copy when another instance has written. Page loads and results read this.
    private let cached: Mutex<[String: [SurveyResponse]]>
    private let closed: Mutex<[String: Date]>
    /// Serialises check-and-save.
    private let writeLock = Mutex(())
    private let shared: Bool
    /// The store's stamp when the copies were last made good (shared stores).
    private let seenStamp = Mutex<String?>(nil)

    init(study: Study, store location: StoreLocation, writable: Bool, rateLimit: SurveyRateLimit) throws {
        catalog = try SurveyCatalog.load(study)
        outlines = catalog.surveys.isEmpty ? [] : try SurveyPlaces.outlines(of: study)
        store = SurveyStore(location: location)
        shared = location.isShared
        self.writable = writable
        limiter = AddressRateLimiter(limit: rateLimit)
        // One read of the store per survey at start-up: its devices, an early close, and (for a writer) its answers.
        var devices: [String: Set<String>] = [:], closed: [String: Date] = [:], answers: [String: [SurveyResponse]] = [:]
        let stamp = shared && !catalog.surveys.isEmpty ? try store.stamp() : nil
        for s in catalog.surveys {
            let c = try store.contents(survey: s.id)
            devices[s.id] = c.devices
            if let d = c.closedEarly { closed[s.id] = d }
            if writable { answers[s.id] = c.responses }
        }
        self.devices = Mutex(devices)
        self.closed = Mutex(closed)
        cached = Mutex(answers)
        seenStamp.withLock { $0 = stamp }
    }

    func survey(_ id: String) throws -> SurveyDefinition {
        guard let s = catalog.survey(id) else { throw ServiceError.notFound("no survey `\(id)`") }
        return s
    }

    func closedEarly(_ id: String) -> Date? { closed.withLock { $0[id] } }

    func pageData(_ survey: SurveyDefinition, now: Date = Date()) -> SurveyPageData {
        SurveyPageData(survey: survey, places: catalog.places, outlines: outlines, now: now, closedEarlyAt: closedEarly(survey.id))
    }

    /// Checks and stores one answer from the page; the error says why nothing was stored.
    func submit(_ survey: SurveyDefinition, body: Data, device: String?, now: Date = Date()) throws -> SurveyResponse {
        guard writable else {
            throw ServiceError.unavailable("this service does not take answers (it was started without a token, so it cannot write to the store)")
        }
        guard survey.isOpen(at: now, closedEarlyAt: closedEarly(survey.id)) else {
            throw ServiceError.forbidden(now < survey.opens ? "the survey is not open yet" : "the survey is closed")
        }
        if survey.onePerDevice, device == nil {
            throw ServiceError.badRequest("the page could not be identified as a device (allow cookies for this page and reload it)", parameter: "cookie")
        }
        let response: SurveyResponse
        do {
            response = try SubmissionCheck(survey: survey, places: catalog.places)
                .response(from: body, id: SurveyResponse.newId(), receivedDay: survey.day(of: now), source: .web)
        } catch {
            throw ServiceError.unprocessable(error.description)
        }
        try serialisedWithAFile {
            let mark = survey.onePerDevice ? device : nil
            let answered = ServiceError.conflict("this device has already answered the survey; thank you")
            if let mark, devices.withLock({ $0[survey.id]?.contains(mark) ?? false }) { throw answered }
            guard try store.save(response, device: mark) else {
                if let mark { devices.withLock { _ = $0[survey.id, default: []].insert(mark) } }
                throw answered
            }
            if let mark { devices.withLock { _ = $0[survey.id, default: []].insert(mark) } }
            cached.withLock { c in if c[survey.id] != nil { c[survey.id]!.append(response) } }
        }
        return response
    }

    func responses(_ survey: SurveyDefinition) throws -> [SurveyResponse] {
        // A read-only service holds no lock: the command line may import answers beside it, so it reads each time.
        guard writable else { return try store.responses(survey: survey.id).responses }
        if let hit = cached.withLock({ $0[survey.id] }) { return hit }
        // Read under the write lock, so no answer can be saved between the read and the copy.
        return try writeLock.withLock { _ in
            if let hit = cached.withLock({ $0[survey.id] }) { return hit }
            let read = try store.responses(survey: survey.id).responses
            cached.withLock { $0[survey.id] = read }
            return read
        }
    }

    /// A file's answers are saved one at a time, so the copy in memory and the file never differ. A database
    /// decides between concurrent answers itself (one per device), and the copy is dropped whenever the store
    /// changes (`follow`), so answers to a shared store are not held up behind each other.
    private func serialisedWithAFile<T>(_ body: () throws -> T) throws -> T {
        if shared { return try body() }
        return try writeLock.withLock { _ in try body() }
    }

    /// After a change made in place (moderation, a deletion), the next read comes from the store.
    private func forget(_ survey: SurveyDefinition) { cached.withLock { _ = $0.removeValue(forKey: survey.id) } }

    /// With a shared store: when another instance has written (the store's stamp moved), the copies of the
    /// answers are dropped and early closes read again. One cheap query when nothing changed; a database that
    /// cannot be reached leaves the copies as they are until the next round.
    func follow() {
        guard shared, !catalog.surveys.isEmpty, let stamp = try? store.stamp() else { return }
        guard stamp != seenStamp.withLock({ $0 }) else { return }
        var closedNow: [String: Date] = [:]
        do {
            for s in catalog.surveys { closedNow[s.id] = try store.closedEarly(survey: s.id) }
        } catch { return }
        writeLock.withLock { _ in
            cached.withLock { $0 = [:] }
            closed.withLock { c in for (k, v) in closedNow { c[k] = v } }
        }
        seenStamp.withLock { $0 = stamp }
    }

    func closeNow(_ survey: SurveyDefinition, now: Date = Date()) throws {
        guard writable else { throw ServiceError.forbidden("this service is read-only (started without a token)") }
        try writeLock.withLock { _ in
            try store.closeEarly(survey: survey.id, at: now)
            closed.withLock { $0[survey.id] = now }
        }
    }

    func moderate(_ survey: SurveyDefinition, pin: String, status: PlacePin.Status) throws {
        guard writable else { throw ServiceError.forbidden("this service is read-only (started without a token)") }
        // `<response>-<question>-<n>`: the response id is hex, the question id has no `-` at its ends.
        let parts = pin.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 3, let n = Int(parts.last!), n >= 1, n <= 50 else { throw ServiceError.badRequest("`\(pin.prefix(80))` is not a pin id", parameter: "pin") }
        let question = parts[1..<(parts.count - 1)].joined(separator: "-")
        let done = try writeLock.withLock { _ in
            defer { forget(survey) }
            return try store.setPinStatus(survey: survey.id, response: parts[0], question: question, pin: n - 1, to: status)
        }
        guard done else { throw ServiceError.notFound("no pin `\(pin.prefix(80))` in the survey") }
    }

    func delete(_ survey: SurveyDefinition, response: String) throws {
        guard writable else { throw ServiceError.forbidden("this service is read-only (started without a token)") }
        let done = try writeLock.withLock { _ in
            defer { forget(survey) }
            return try store.delete(survey: survey.id, response: response)
        }
        guard done else { throw ServiceError.notFound("no response `\(response.prefix(80))` in the survey") }
    }
}
