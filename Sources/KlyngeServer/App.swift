import Foundation
import Hummingbird

/// Refuses writes without one of the study's bearer tokens; a study without tokens is read-only.
struct TokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let tokens: WriteTokens
    /// POST routes that only compute (a check), open to every reader.
    var readOnlyPosts: Set<String> = []

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard [.post, .put, .delete, .patch].contains(request.method) else { return try await next(request, context) }
        if request.method == .post, readOnlyPosts.contains(request.uri.path) { return try await next(request, context) }
        // Survey answers come from residents, who have no token; the survey's own checks guard them.
        if request.method == .post, SurveysController.isPublicPost(request.uri.path) { return try await next(request, context) }
        guard tokens.canWrite else { throw HTTPError(.forbidden, message: "this service is read-only (started without a token)") }
        guard tokens.accepts(authorization: request.headers[.authorization]) else {
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"], message: "writes need the bearer token")
        }
        return try await next(request, context)
    }
}

/// The router of the service: errors and headers first, then the token, then one controller per job.
/// Tests build it directly.
public func buildRouter(state: ServiceState, config: ServerConfig) -> Router<KlyngeRequestContext> {
    let router = Router(context: KlyngeRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.middlewares.add(RequestLogMiddleware(enabled: config.requestLog, study: config.studyId))
    router.middlewares.add(SecurityHeadersMiddleware())
    router.middlewares.add(ErrorMiddleware())
    router.middlewares.add(TokenMiddleware(tokens: config.tokens, readOnlyPosts: RegionsController.readOnlyPosts))
    let heavy = HeavyWork(heavy: state.pool, analysis: state.analysisPool, watchClient: config.cancelWhenClientLeaves)
    FeaturesController(state: state, config: config).add(to: router)
    AnalysisController(state: state, config: config, heavy: heavy).add(to: router)
    ScenariosController(state: state, config: config).add(to: router)
    RegionsController(state: state, config: config, heavy: heavy).add(to: router)
    MapsController(state: state, config: config, heavy: heavy).add(to: router)
    SurveysController(state: state, config: config, heavy: heavy).add(to: router)
    PageController().add(to: router)
    HealthController(ready: { state.storeLocation.isReachable() }).add(to: router)
    return router
}

/// Builds the application: binds to the configured host (127.0.0.1 by default).
public func buildApplication(state: ServiceState, config: ServerConfig) -> some ApplicationProtocol {
    Application(router: buildRouter(state: state, config: config),
                configuration: .init(address: .hostname(config.host, port: config.port), serverName: "Klynge"))
}

/// The request context of the service: Hummingbird's, plus the client's address (for the survey's
/// per-address rate limit; nil in in-process tests).
public struct KlyngeRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's IP address as text (nil when the connection has none, as in in-process tests).
    public let clientAddress: String?
    /// The request's id in logs and in the answer's X-Request-Id (set by the outermost middleware).
    public var requestId = ""

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress
    }
}
