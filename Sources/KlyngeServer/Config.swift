import Foundation

/// How much work the service takes on: the sizes that drive cost, and the pool for heavy requests.
public struct ServiceLimits: Sendable {
    /// Threads for heavy work (maps, optimisation, clusters, rebuilds after a save).
    public var heavyWorkers: Int = max(1, min(2, ProcessInfo.processInfo.activeProcessorCount))
    /// Heavy requests that may wait for a worker; more get 503 with Retry-After.
    public var queueLimit: Int = 8
    /// Threads for analysis requests (what-ifs, comparisons, closure impact): each takes milliseconds to
    /// tens of milliseconds at kommune size, so they queue deeper than maps but never run on the threads
    /// that answer light requests.
    public var analysisWorkers: Int = max(1, min(2, ProcessInfo.processInfo.activeProcessorCount))
    public var analysisQueueLimit: Int = 512
    /// Per-request time limits, counted from arrival (queueing included).
    public var mapSeconds: Double = 30
    public var analysisSeconds: Double = 20
    /// Largest map image in pixels (A2 at 300 dpi is 35 million).
    public var maxMapPixels: Int = 40_000_000
    /// New places in one what-if.
    public var maxNewPlaces: Int = 25
    /// Facility ids closed in one what-if.
    public var maxClosedIds: Int = 2_000
    /// Features in one page of OGC items.
    public var maxItems: Int = 10_000
    /// Survey answers one address may send.
    public var surveyRateLimit = SurveyRateLimit()
    public init() {}
}

/// How the service runs.
public struct ServerConfig: Sendable {
    public var host: String
    public var port: Int
    /// Who may write (digests of the tokens); none makes the service read-only.
    public var tokens: WriteTokens
    /// Where the study's paths start: "" for one study, `/studies/<id>` in a service of several (links and
    /// Location headers carry it).
    public var pathPrefix = ""
    /// The study's id in a service of several (in its log lines).
    public var studyId: String?
    public var maxBodyBytes: Int
    /// Folder of named styles for /maps.
    public var stylesFolder: URL
    /// The address clients reach the service at (behind a proxy); otherwise links follow the request's Host.
    public var publicURL: String?
    public var limits: ServiceLimits
    /// Cancel heavy work when its client disconnects (needs a live connection; in-process router tests have none).
    public var cancelWhenClientLeaves: Bool
    /// One JSON line per request on standard error.
    public var requestLog: Bool

    public init(host: String = "127.0.0.1", port: Int = 8080, token: String? = nil, tokens: WriteTokens? = nil, maxBodyBytes: Int = 256 * 1024,
                stylesFolder: URL, publicURL: String? = nil, limits: ServiceLimits = ServiceLimits(), cancelWhenClientLeaves: Bool = true,
                requestLog: Bool = false) {
        self.host = host
        self.port = port
        self.tokens = tokens ?? token.map { WriteTokens(plain: [$0]) } ?? .none
        self.maxBodyBytes = maxBodyBytes
        self.stylesFolder = stylesFolder
        self.publicURL = publicURL
        self.limits = limits
        self.cancelWhenClientLeaves = cancelWhenClientLeaves
        self.requestLog = requestLog
    }
}

/// The one rule for write tokens, whether given with --token or KLYNGE_TOKEN.
public enum TokenRule {
    public static let minimumLength = 12

    /// Why the token cannot be used (nil when it can). `source` names where it came from.
    public static func problem(_ token: String, source: String) -> String? {
        if token.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return "\(source) is empty or only spaces" }
        if token.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value >= 0x7F }) {
            return "\(source) may hold only visible ASCII characters (no spaces), as it travels in an HTTP header"
        }
        if token.count < minimumLength { return "\(source) must have at least \(minimumLength) characters" }
        return nil
    }
}

/// Public URL given by the operator: http(s), a host, no query; trailing slash removed.
public func checkedPublicURL(_ text: String) -> String? {
    guard let u = URL(string: text), let scheme = u.scheme?.lowercased(), ["http", "https"].contains(scheme), u.host != nil,
          u.query == nil, u.fragment == nil else { return nil }
    var s = text
    while s.hasSuffix("/") { s.removeLast() }
    return s
}
