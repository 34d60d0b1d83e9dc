import Hummingbird

/// The working group's page: HTML, CSS and JavaScript compiled into the binary, served under a strict
/// Content-Security-Policy (no inline script or style; data reaches the page only as text).
struct PageController {
    func add(to router: Router<KlyngeRequestContext>) {
        router.get("/app/") { _, _ in Self.file(PackageResources.index_html, "text/html; charset=utf-8") }
        router.get("/app/app.css") { _, _ in Self.file(PackageResources.app_css, "text/css; charset=utf-8") }
        router.get("/app/app.js") { _, _ in Self.file(PackageResources.app_js, "text/javascript; charset=utf-8") }
        router.get("/app/survey.css") { _, _ in Self.file(PackageResources.survey_css, "text/css; charset=utf-8") }
        router.get("/app/survey.js") { _, _ in Self.file(PackageResources.survey_js, "text/javascript; charset=utf-8") }
        router.get("/app/survey-map.js") { _, _ in Self.file(PackageResources.survey_map_js, "text/javascript; charset=utf-8") }
        router.get("/app/survey-admin.js") { _, _ in Self.file(PackageResources.survey_admin_js, "text/javascript; charset=utf-8") }
    }

    static func file(_ bytes: [UInt8], _ type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// Headers on every answer: the page's policy (which also forbids framing), no MIME sniffing, no referrer.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var policy: String {
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; "
            + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = Self.policy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[FieldName("Referrer-Policy")!] = "no-referrer"
        response.headers[FieldName("X-Frame-Options")!] = "DENY"
        return response
    }
}
