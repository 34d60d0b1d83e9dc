import Foundation
import Hummingbird

/// The service's structured log: one JSON object per line on standard error, for journald, Docker or a
/// log shipper. Never a token, a connection string or a request body.
public enum ServiceLog {
    public enum Value: Sendable {
        case string(String)
        case int(Int)
        case double(Double)

        var json: Any {
            switch self {
            case .string(let s): return s
            case .int(let i): return i
            case .double(let d): return d.isFinite ? (d * 10).rounded() / 10 : 0
            }
        }
    }

    /// Writes `{"time": …, "event": …, …fields}` as one line (one write, so lines from threads never mix).
    public static func event(_ event: String, _ fields: [String: Value] = [:]) {
        // A format style, not a formatter object made per line: every request writes one.
        var object: [String: Any] = ["time": Date().formatted(.iso8601), "event": event]
        for (k, v) in fields { object[k] = v.json }
        guard var data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        data.append(0x0A)
        FileHandle.standardError.write(data)
    }
}

/// Gives every request an id (the proxy's `X-Request-Id` when it sent a sane one, else a new one), returns it
/// in the answer's `X-Request-Id`, and logs one line per request: id, method, path (no query), status and
/// milliseconds. Outermost, so it sees the status of error answers too.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = KlyngeRequestContext
    static var header: FieldName { FieldName("X-Request-Id")! }
    let enabled: Bool
    /// The study's id in a service of several.
    var study: String?

    /// The proxy's id when it is 1–64 characters of letters, digits, `-` and `_`; otherwise a new one.
    static func id(from given: String?) -> String {
        if let given, (1...64).contains(given.count),
           given.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_") }) {
            return given
        }
        return String((0..<16).map { _ in "0123456789abcdef".randomElement()! })
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let id = Self.id(from: request.headers[Self.header])
        var context = context
        context.requestId = id
        let started = ContinuousClock.now
        var status = 500
        defer {
            if enabled {
                let elapsed = ContinuousClock.now - started
                let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
                var fields: [String: ServiceLog.Value] = ["id": .string(id), "method": .string(request.method.rawValue),
                                                          "path": .string(String(request.uri.path.prefix(200))), "status": .int(status), "ms": .double(ms)]
                if let study { fields["study"] = .string(study) }
                ServiceLog.event("request", fields)
            }
        }
        var response = try await next(request, context)
        status = Int(response.status.code)
        response.headers[Self.header] = id
        return response
    }
}

/// Liveness and readiness for a proxy or an orchestrator: `/health` answers while the process runs;
/// `/ready` answers 200 only while the store can be reached (503 with a JSON error otherwise), so a proxy
/// sends requests elsewhere while this instance cannot write.
struct HealthController {
    /// Whether the store can be reached now.
    let ready: @Sendable () -> Bool

    func add(to router: Router<KlyngeRequestContext>) {
        router.get("/health") { _, _ in JSONBody.response(["status": "ok"]) }
        router.get("/ready") { _, _ in
            guard ready() else {
                throw ServiceError.unavailable("the store cannot be reached; this instance is not ready")
            }
            return JSONBody.response(["status": "ready"])
        }
    }
}
