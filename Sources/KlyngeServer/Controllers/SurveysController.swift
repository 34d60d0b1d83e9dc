import Foundation
import Hummingbird
import KlyngeJobs
import KlyngeSurvey

/// The citizen survey: the public page and its answers (no token), and the administrator's results,
/// exports, moderation and early close (the bearer token, also for reading).
struct SurveysController {
    let state: ServiceState
    let config: ServerConfig
    /// Results and exports grow with the answers: they run on the analysis threads, bounded in time.
    let heavy: HeavyWork

    /// Answers are small: a few hundred words and five pins.
    static let maxAnswerBytes = 64 * 1024
    static let cookiePrefix = "klynge_device_"

    func add(to router: Router<KlyngeRequestContext>) {
        router.get("/survey/:id/", use: page)
        router.get("/survey/:id/definition.json", use: definition)
        router.post("/survey/:id/answers", use: answer)
        router.get("/survey/:id/pins", use: publicPins)
        router.get("/api/survey-use", use: facilityUse)
        router.get("/survey/:id/admin/", use: adminPage)
        router.get("/survey/:id/results", use: results)
        router.get("/survey/:id/export", use: export)
        router.post("/survey/:id/pins/:pin/:decision", use: moderate)
        router.post("/survey/:id/close", use: close)
        router.delete("/survey/:id/answers/:response", use: deleteResponse)
    }

    /// The public answer route, which the token middleware lets through.
    static func isPublicPost(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0].isEmpty && parts[1] == "survey" && parts[3] == "answers"
    }

    func survey(_ context: KlyngeRequestContext) throws -> SurveyDefinition {
        let id = try pathParameter(context, "id")
        guard SurveyIds.isValid(id) else { throw ServiceError.notFound("no survey `\(id.prefix(64))`") }
        return try state.surveys.survey(id)
    }

    /// Administrator routes need the bearer token even to read: results hold free texts and pins not yet public.
    func requireToken(_ request: Request) throws {
        guard config.tokens.canWrite else { throw ServiceError.forbidden("this service has no token, so its survey results cannot be opened over HTTP; use `klynge survey results`") }
        guard config.tokens.accepts(authorization: request.headers[.authorization]) else {
            throw ServiceError.unauthorized("the survey's results need the bearer token")
        }
    }

    /// The page; a device without the survey's cookie gets one (a random value, for one answer per device).
    @Sendable func page(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        let s = try survey(context)
        // The page fetches its data by relative address, so it must be opened at the folder.
        guard request.uri.path.hasSuffix("/") else { return Response(status: .movedPermanently, headers: [.location: "\(config.pathPrefix)/survey/\(s.id)/"]) }
        var response = PageController.file(PackageResources.survey_html, "text/html; charset=utf-8")
        if s.onePerDevice, deviceToken(request, survey: s.id) == nil {
            var g = SystemRandomNumberGenerator()
            let token = (0..<2).map { _ in String(format: "%016llx", g.next() as UInt64) }.joined()
            response.headers[.setCookie] = "\(Self.cookiePrefix)\(s.id.replacingOccurrences(of: "-", with: "_"))=\(token); Path=/survey/\(s.id)/; "
                + "Max-Age=\(120 * 24 * 3600); HttpOnly; SameSite=Strict"
        }
        return response
    }

    /// Whom the rate limit counts: the connection's address, or behind a proxy on this machine (a loopback
    /// peer) the address that proxy appended last to X-Forwarded-For; an address a client wrote itself comes
    /// earlier in that list and is never used.
    static func clientKey(_ request: Request, _ context: KlyngeRequestContext) -> String {
        let peer = context.clientAddress ?? "local"
        guard peer == "127.0.0.1" || peer == "::1" || peer == "local",
              let forwarded = request.headers[values: FieldName("X-Forwarded-For")!].last?.split(separator: ",").last else { return peer }
        let last = forwarded.trimmingCharacters(in: .whitespaces)
        return last.isEmpty || last.count > 64 ? peer : last
    }

    func deviceToken(_ request: Request, survey id: String) -> String? {
        let name = Self.cookiePrefix + id.replacingOccurrences(of: "-", with: "_")
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1).map(String.init)
                guard kv.count == 2, kv[0] == name else { continue }
                // Only a value the page could have set: 32 hex digits.
                let v = kv[1]
                guard v.count == 32, v.allSatisfy(\.isHexDigit) else { return nil }
                return v.lowercased()
            }
        }
        return nil
    }

    @Sendable func definition(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        let s = try survey(context)
        return JSONBody.response(JSONBody.encode(state.surveys.pageData(s)), headers: [.cacheControl: "no-cache"])
    }

    @Sendable func answer(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        let s = try survey(context)
        if !state.surveys.limiter.take(Self.clientKey(request, context)) {
            throw ServiceError.tooManyRequests("too many answers from this address; try again in a minute", retryAfterSeconds: 60)
        }
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: Self.maxAnswerBytes) } catch {
            throw HTTPError(.contentTooLarge, message: "an answer is at most \(Self.maxAnswerBytes / 1024) KB")
        }
        let device = deviceToken(request, survey: s.id)
        let saved = try state.surveys.submit(s, body: Data(buffer: body), device: device)
        struct Receipt: Encodable { var id: String; var message: String }
        return JSONBody.response(JSONBody.encode(Receipt(id: saved.id, message: "Tak for dit svar")), status: .created)
    }

    @Sendable func publicPins(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        let s = try survey(context)
        let pins = SurveyResults.pins(survey: s, responses: try state.surveys.responses(s), everyStatus: false)
        return JSONBody.response(JSONBody.encode(pins), headers: [.cacheControl: "no-cache"])
    }

    /// Users per facility from every survey, small counts withheld: public, for the working group's page.
    @Sendable func facilityUse(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        var out: [PublicFacilityUse] = []
        for s in state.surveys.catalog.surveys {
            out += PublicFacilityUse.of(survey: s, responses: try state.surveys.responses(s), language: .da)
        }
        return JSONBody.response(JSONBody.encode(out), headers: [.cacheControl: "no-cache"])
    }

    @Sendable func adminPage(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        let s = try survey(context)
        // The page loads its files by relative address, so it must be opened at the folder.
        guard request.uri.path.hasSuffix("/") else {
            return Response(status: .movedPermanently, headers: [.location: "\(config.pathPrefix)/survey/\(s.id)/admin/"])
        }
        return PageController.file(PackageResources.survey_admin_html, "text/html; charset=utf-8")
    }

    @Sendable func results(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        let s = try survey(context)
        try requireToken(request)
        let language = try Query(request).text("language", maxLength: 2).map { l -> SurveyLanguage in
            guard let v = SurveyLanguage(rawValue: l) else { throw ServiceError.badRequest("language is da or en", parameter: "language") }
            return v
        } ?? .da
        let analysis = await state.snapshot().analysis
        let places = state.surveys.catalog.places, responses = try state.surveys.responses(s)
        let text = try await heavy.run(request, lane: .analysis, seconds: config.limits.analysisSeconds) { _ in
            JSONBody.encode(try SurveyJobs.results(survey: s, places: places, responses: responses, analysis: analysis, language: language, administrator: true))
        }
        return JSONBody.response(text, headers: [.cacheControl: "no-store"])
    }

    @Sendable func export(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        let s = try survey(context)
        try requireToken(request)
        let q = Query(request)
        let format = try q.text("format", maxLength: 10) ?? "geojson"
        guard ["geojson", "gpkg", "csv"].contains(format) else { throw ServiceError.badRequest("format is geojson, gpkg or csv", parameter: "format") }
        let layer = try q.text("layer", maxLength: 20) ?? "responses"
        guard ["responses", "pins"].contains(layer) else { throw ServiceError.badRequest("layer is responses or pins", parameter: "layer") }
        let places = state.surveys.catalog.places, responses = try state.surveys.responses(s)
        let data = try await heavy.run(request, lane: .analysis, seconds: config.limits.analysisSeconds) { _ in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("klynge-export-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let file = folder.appendingPathComponent("\(s.id).\(format)")
            try SurveyJobs.export(survey: s, places: places, responses: responses, to: file, csvLayer: layer)
            return try Data(contentsOf: file)
        }
        let type = ["geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3", "csv": "text/csv; charset=utf-8"][format]!
        return Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-store",
                                               .contentDisposition: "attachment; filename=\"\(s.id).\(format)\""],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    @Sendable func moderate(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        let s = try survey(context)
        let decision = try pathParameter(context, "decision")
        let status: PlacePin.Status
        switch decision {
        case "approve": status = .approved
        case "reject": status = .rejected
        default: throw ServiceError.notFound("a pin is approved or rejected (…/approve, …/reject)")
        }
        try state.surveys.moderate(s, pin: try pathParameter(context, "pin"), status: status)
        return Response(status: .noContent)
    }

    @Sendable func close(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        let s = try survey(context)
        try state.surveys.closeNow(s)
        return Response(status: .noContent)
    }

    @Sendable func deleteResponse(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        let s = try survey(context)
        try state.surveys.delete(s, response: try pathParameter(context, "response"))
        return Response(status: .noContent)
    }
}
