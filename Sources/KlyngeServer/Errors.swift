import Foundation
import Hummingbird
import KlyngeAnalysis
import KlyngeStudyAnalysis
import KlyngeIngest
import KlyngeJobs
import KlyngePostgres
import KlyngeGeo
import KlyngeRender
import KlyngeStore
import KlyngeStudy
import KlyngeWork

/// Errors with an HTTP meaning, raised by the service and turned into responses in one place.
public enum ServiceError: Error, Sendable {
    /// A request the service will not take; `parameter` names the query or body parameter at fault.
    case badRequest(String, parameter: String? = nil)
    case notFound(String)
    case conflict(String)
    case preconditionFailed(String)
    case unprocessable(String)
    case forbidden(String)
    case unavailable(String)
    case tooManyRequests(String, retryAfterSeconds: Int)
    case unauthorized(String)
    /// Every worker is busy and the queue is full: try again after the given seconds.
    case busy(retryAfterSeconds: Int)
    case timedOut(String)
}

/// The one shape of every error answer: `{"error": {"status": 400, "message": "…", "parameter": "dpi"}}`.
struct ErrorBody: Encodable {
    struct Inner: Encodable {
        var status: Int
        var message: String
        var parameter: String?
    }
    var error: Inner
}

/// Turns every error into a JSON answer. Errors the client caused are 4xx and say what was wrong; anything
/// else is a 500 whose detail goes to the service's log, never to the client.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let (status, message, parameter, headers) = Self.describe(error)
            if status == .internalServerError || error is PostgresError {
                ServiceLog.event("error", ["id": .string((context as? KlyngeRequestContext)?.requestId ?? ""), "method": .string(request.method.rawValue),
                                           "path": .string(String(request.uri.path.prefix(200))), "status": .int(Int(status.code)), "detail": .string("\(error)")])
            }
            var h = headers
            h[.contentType] = "application/json"
            let body = JSONBody.encode(ErrorBody(error: .init(status: Int(status.code), message: message, parameter: parameter)))
            return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(string: body)))
        }
    }

    static func describe(_ error: Error) -> (HTTPResponse.Status, String, String?, HTTPFields) {
        switch error {
        case let e as ServiceError:
            switch e {
            case .badRequest(let m, let p): return (.badRequest, m, p, [:])
            case .notFound(let m): return (.notFound, m, nil, [:])
            case .conflict(let m): return (.conflict, m, nil, [:])
            case .preconditionFailed(let m): return (.preconditionFailed, m, nil, [:])
            case .unprocessable(let m): return (.unprocessableContent, m, nil, [:])
            case .forbidden(let m): return (.forbidden, m, nil, [:])
            case .unavailable(let m): return (.serviceUnavailable, m, nil, [:])
            case .tooManyRequests(let m, let s): return (.tooManyRequests, m, nil, [.retryAfter: String(s)])
            case .unauthorized(let m): return (.unauthorized, m, nil, [.wwwAuthenticate: "Bearer"])
            case .busy(let s): return (.serviceUnavailable, "the service is busy; try again in \(s) s", nil, [.retryAfter: String(s)])
            case .timedOut(let m): return (.serviceUnavailable, m, nil, [.retryAfter: "10"])
            }
        case let e as HTTPError:
            return (e.status, e.body ?? Self.phrase(e.status), nil, e.headers)
        case let e as HTTPResponseError:
            return (e.status, Self.phrase(e.status), nil, [:])
        case let e as PageError: return (.badRequest, e.message, e.parameter, [:])
        case let e as ScenarioError: return (.badRequest, e.description, nil, [:])
        case let e as AnalysisSetupError: return (.badRequest, e.message, nil, [:])
        case let e as LocationError: return (.unprocessableContent, e.message, nil, [:])
        case is DecodingError: return (.badRequest, "the body is not the JSON expected: \(DecodingProblem.describe(error))", nil, [:])
        case let e as PostgresError where e.isConnectionProblem:
            // Never the server's words: they name the host, and the log has them.
            return (.serviceUnavailable, "the store's database cannot be reached just now; try again in a moment", nil, [.retryAfter: "2"])
        case let e as WorkStopped:
            return (.serviceUnavailable, e == .cancelled ? "the request was cancelled" : "\(e); ask for less", nil, [.retryAfter: "10"])
        default:
            return (.internalServerError, "internal error; the service's log has the details", nil, [:])
        }
    }

    static func phrase(_ status: HTTPResponse.Status) -> String {
        switch status.code {
        case 404: return "no such resource"
        case 405: return "this method is not allowed here"
        case 413: return "the request body is too large"
        default: return status.reasonPhrase
        }
    }
}

/// The service's one JSON encoder: sorted keys, and every number finite (non-finite figures are null).
enum JSONBody {
    static func encode<T: Encodable>(_ value: T) -> String {
        (try? JSONText.encode(value)) ?? #"{"error":{"status":500,"message":"the answer could not be encoded"}}"#
    }

    /// Untyped values (OGC documents built as dictionaries).
    static func encode(any value: Any) -> String {
        guard let d = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return #"{"error":{"status":500,"message":"the answer could not be encoded"}}"#
        }
        return String(decoding: d, as: UTF8.self)
    }

    static func response(_ text: String, status: HTTPResponse.Status = .ok, type: String = "application/json",
                         headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = type
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        response(encode(value), status: status, headers: headers)
    }
}
