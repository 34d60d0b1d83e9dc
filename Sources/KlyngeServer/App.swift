import Foundation
import Hummingbird
import KlyngeAnalysis
import KlyngeData
import KlyngeGeo
import KlyngeIO
import KlyngeRender
import KlyngeStudy

/// How the service runs.
public struct ServerConfig: Sendable {
    public var host: String
    public var port: Int
    /// Bearer token for writes; nil makes the service read-only.
    public var token: String?
    public var maxBodyBytes: Int
    /// Folder of named styles for /maps.
    public var stylesFolder: URL

    public init(host: String = "127.0.0.1", port: Int = 8080, token: String? = nil, maxBodyBytes: Int = 256 * 1024,
                stylesFolder: URL) {
        self.host = host
        self.port = port
        self.token = token
        self.maxBodyBytes = maxBodyBytes
        self.stylesFolder = stylesFolder
    }
}

/// Refuses writes without the bearer token; a service without a token is read-only.
struct TokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard [.post, .put, .delete, .patch].contains(request.method) else { return try await next(request, context) }
        guard let token else { throw HTTPError(.forbidden, message: "this service is read-only (started without a token)") }
        guard let auth = request.headers[.authorization], auth == "Bearer \(token)" else {
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"], message: "writes need the bearer token")
        }
        return try await next(request, context)
    }
}

func json(_ text: String, status: HTTPResponse.Status = .ok, type: String = "application/json", headers: HTTPFields = [:]) -> Response {
    var h = headers
    h[.contentType] = type
    return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(string: text)))
}

func encode<T: Encodable>(_ value: T) throws -> String {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys]
    e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return String(decoding: try e.encode(value), as: UTF8.self)
}

func anyJSON(_ value: Any) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]), as: UTF8.self)
}

/// Maps service errors to HTTP errors with a JSON body; other errors become 400 with their message
/// (library errors name what was wrong, never a stack trace).
func http(_ error: Error) -> Error {
    switch error {
    case let e as HTTPResponseError: return e  // e.g. a body over the limit: 413
    case let e as ServiceError:
        switch e {
        case .badRequest(let m): return HTTPError(.badRequest, message: m)
        case .notFound(let m): return HTTPError(.notFound, message: m)
        case .conflict(let m): return HTTPError(.conflict, message: m)
        case .preconditionFailed(let m): return HTTPError(.preconditionFailed, message: m)
        case .unauthorized: return HTTPError(.unauthorized, message: "writes need the bearer token")
        }
    case is DecodingError: return HTTPError(.badRequest, message: "the body is not the JSON expected: \(error)")
    case let e as LocationError: return HTTPError(.unprocessableContent, message: e.message)
    case let e as ScenarioError: return HTTPError(.badRequest, message: e.description)
    default: return HTTPError(.badRequest, message: "\(error)")
    }
}

/// Runs a handler body, mapping its errors.
func handling(_ body: () async throws -> Response) async throws -> Response {
    do { return try await body() } catch { throw http(error) }
}

/// Collections are rebuilt when the scenarios change; keyed by the analysis' scenario names.
actor CollectionCache {
    private var key: [String] = []
    private var value: [String: FeatureCollection] = [:]

    func get(_ analysis: StudyAnalysis) throws -> [String: FeatureCollection] {
        let k = analysis.scenarios.map(\.name)
        if k != key || value.isEmpty {
            value = try Collections.build(analysis)
            key = k
        }
        return value
    }
}

/// The router of the service: OGC API Features, the analysis API and maps. Tests build it directly.
public func buildRouter(state: ServiceState, config: ServerConfig) -> Router<BasicRequestContext> {
    let router = Router()
    router.middlewares.add(TokenMiddleware(token: config.token))
    let cache = CollectionCache()
    let base = "http://\(config.host):\(config.port)"

    // MARK: OGC API Features
    router.get("/") { _, _ in
        try await handling {
            let study = await state.study
            return json(try anyJSON([
                "title": "Klynge: \(study.name)", "description": study.description ?? "Village clusters and shared meeting places",
                "links": [
                    ["href": "\(base)/", "rel": "self", "type": "application/json", "title": "This document"],
                    ["href": "\(base)/api/openapi.json", "rel": "service-desc", "type": "application/vnd.oai.openapi+json;version=3.0", "title": "The API"],
                    ["href": "\(base)/conformance", "rel": "conformance", "type": "application/json", "title": "Conformance"],
                    ["href": "\(base)/collections", "rel": "data", "type": "application/json", "title": "Collections"],
                ],
            ]))
        }
    }
    router.get("/conformance") { _, _ in
        json(try anyJSON(["conformsTo": ["http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
                                         "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
                                         "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30"]]))
    }
    router.get("/collections") { _, _ in
        try await handling {
            let all = try await cache.get(await state.snapshot())
            return json(try anyJSON([
                "links": [["href": "\(base)/collections", "rel": "self", "type": "application/json"]],
                "collections": all.keys.sorted().map { all[$0]!.metadata(baseURL: base) },
            ]))
        }
    }
    router.get("/collections/:id") { _, context in
        try await handling {
            let id = try param(context, "id")
            guard let c = try await cache.get(await state.snapshot())[id] else { throw ServiceError.notFound("no collection `\(id)`") }
            return json(try anyJSON(c.metadata(baseURL: base)))
        }
    }
    router.get("/collections/:id/items") { request, context in
        try await handling {
            let id = try param(context, "id")
            guard let c = try await cache.get(await state.snapshot())[id] else { throw ServiceError.notFound("no collection `\(id)`") }
            let q = request.uri.queryParameters
            let limit = try q["limit"].map { s -> Int in
                guard let v = Int(s), v >= 1 else { throw ServiceError.badRequest("limit must be a whole number from 1") }
                return min(v, 10_000)
            } ?? 100
            let offset = try q["offset"].map { s -> Int in
                guard let v = Int(s), v >= 0 else { throw ServiceError.badRequest("offset must be a whole number from 0") }
                return v
            } ?? 0
            var bbox: Envelope?
            if let b = q["bbox"] {
                let v = b.split(separator: ",").compactMap { Double($0) }
                guard v.count == 4, v[0] <= v[2], v[1] <= v[3] else {
                    throw ServiceError.badRequest("bbox is minLon,minLat,maxLon,maxLat (WGS 84)")
                }
                bbox = Envelope(minX: v[0], minY: v[1], maxX: v[2], maxY: v[3])
            }
            return json(c.items(limit: limit, offset: offset, bbox: bbox, baseURL: base), type: "application/geo+json")
        }
    }
    router.get("/collections/:id/items/:fid") { _, context in
        try await handling {
            let id = try param(context, "id"), fid = try param(context, "fid")
            guard let c = try await cache.get(await state.snapshot())[id] else { throw ServiceError.notFound("no collection `\(id)`") }
            guard let item = c.item(fid) else { throw ServiceError.notFound("no feature `\(fid)` in `\(id)`") }
            return json(item, type: "application/geo+json")
        }
    }

    // MARK: analysis API
    router.get("/api/openapi.json") { _, _ in json(OpenAPI.document, type: "application/vnd.oai.openapi+json;version=3.0") }
    router.get("/api/coverage") { request, _ in
        try await handling {
            let analysis = await state.snapshot()
            let q = request.uri.queryParameters
            let scenario = q["scenario"].map(String.init)
            var plan = try scenario.map { try analysis.scenario(named: $0).plan } ?? analysis.engine.baselinePlan
            // An unsaved what-if from the web page: `close=id,id` on top of the plan (nothing is stored).
            if let close = q["close"], !close.isEmpty {
                for id in close.split(separator: ",").map(String.init) {
                    guard let s = analysis.sites.firstIndex(where: { $0.id == id && !$0.isCandidate }) else {
                        throw ServiceError.badRequest("no facility has the id `\(id)`")
                    }
                    plan.open[s] = false
                }
            }
            let cats = try q["category"].map { c -> [String] in
                guard analysis.engine.categories.contains(String(c)) else { throw ServiceError.badRequest("unknown category `\(c)`") }
                return [String(c)]
            }
            // New facilities placed on the page: `open=lon,lat,name|…` (they serve the category asked for).
            if let open = q["open"], !open.isEmpty {
                guard let cat = cats?.first else { throw ServiceError.badRequest("new facilities need a category") }
                var spec = StudyFile.ScenarioSpec(name: "what-if", close: [], open: [])
                if let scenario { spec = try analysis.study.scenarios.first { $0.name == scenario }.map { var s = $0; s.name = "what-if"; return s } ?? spec }
                spec.close = (spec.close ?? []) + (q["close"].map { $0.split(separator: ",").map(String.init) } ?? [])
                for (k, item) in open.split(separator: "|").enumerated() {
                    let parts = item.split(separator: ",", maxSplits: 2).map(String.init)
                    guard parts.count >= 2, let lon = Double(parts[0]), let lat = Double(parts[1]) else {
                        throw ServiceError.badRequest("open is lon,lat,name|…")
                    }
                    let name = parts.count > 2 && !parts[2].isEmpty ? parts[2] : "Nyt mødested \(k + 1)"
                    let xy = try await state.workingXY(lon: lon, lat: lat)
                    spec.open = (spec.open ?? []) + [StudyFile.NewFacility(name: name, categories: [cat], xy: xy)]
                }
                if spec.close?.isEmpty == true { spec.close = nil }
                var study = analysis.study
                study.scenarios = [spec]
                let whatIf = try StudyAnalysis(study: study, network: analysis.network)
                return json(try encode(CoverageReport(analysis: whatIf, plan: whatIf.scenarios[0].plan, scenario: nil, categories: cats)))
            }
            return json(try encode(CoverageReport(analysis: analysis, plan: plan, scenario: scenario, categories: cats)))
        }
    }
    router.get("/api/categories") { _, _ in
        try await handling {
            let study = await state.study
            return json(try anyJSON(study.categories.map { ["key": $0.key, "da": $0.labelDa, "en": $0.labelEn] }))
        }
    }
    router.get("/api/compare") { request, _ in
        try await handling {
            let analysis = await state.snapshot()
            let q = request.uri.queryParameters
            guard let name = q["scenario"] else { throw ServiceError.badRequest("name the scenario: ?scenario=…") }
            let after = try analysis.scenario(named: String(name)).plan
            let before = try q["against"].map { try analysis.scenario(named: String($0)).plan } ?? analysis.engine.baselinePlan
            let cats = q["category"].map { [String($0)] }
            return json(try encode(analysis.engine.compare(before, after, categories: cats)))
        }
    }
    router.get("/api/impact") { request, _ in
        try await handling {
            let analysis = await state.snapshot()
            guard let c = request.uri.queryParameters["category"], analysis.engine.categories.contains(String(c)) else {
                throw ServiceError.badRequest("name a category of the study: ?category=…")
            }
            return json(try encode(analysis.engine.impact(category: String(c))))
        }
    }
    router.get("/api/clusters") { _, _ in
        try await handling { json(try encode(try ClusterReport(analysis: await state.snapshot()))) }
    }
    router.post("/api/optimize") { request, context in
        try await handling {
            var r = request
            let body = try await r.collectBody(upTo: config.maxBodyBytes)
            let q = try JSONDecoder().decode(OptimizeBody.self, from: Data(buffer: body))
            let analysis = await state.snapshot()
            guard let objective = LocationObjective(rawValue: q.objective) else {
                throw ServiceError.badRequest("objective is coverage, minimum, median or center")
            }
            let candidates: CandidateSource = q.candidates == "places" ? .places : .existing
            let query = OptimizeQuery(category: q.category, request: LocationRequest(objective: objective, p: q.facilities,
                                      threshold: q.threshold, share: q.share, solver: .auto, timeLimitSeconds: 20),
                                      keep: q.keep ?? [], exclude: q.exclude ?? [], candidates: candidates)
            var fixed = query
            if fixed.request.threshold == nil { fixed.request.threshold = analysis.engine.rules[q.category]?.threshold }
            let setup = try OptimizeSetup(study: analysis.study, network: await state.network, query: fixed)
            let solution = try LocationAllocation.solve(setup.problem, fixed.request)
            struct Out: Encodable { var solution: LocationSolution; var chosen: [CandidateSite] }
            _ = context
            return json(try encode(Out(solution: solution, chosen: solution.chosen.map { setup.sites[$0] })))
        }
    }

    // MARK: scenarios
    router.get("/api/scenarios") { _, _ in
        try await handling {
            let analysis = await state.snapshot()
            let stored = try await state.records()
            let own = analysis.study.scenarios.map { ["name": $0.name, "readOnly": true] as [String: Any] }
            let saved = try stored.map { try JSONSerialization.jsonObject(with: Data(encode($0).utf8)) }
            return json(try anyJSON(["study": own, "saved": saved]))
        }
    }
    router.post("/api/scenarios") { request, _ in
        try await handling {
            var r = request
            let body = try await r.collectBody(upTo: config.maxBodyBytes)
            let spec = try JSONDecoder().decode(StudyFile.ScenarioSpec.self, from: Data(buffer: body))
            let saved = try await state.save(id: nil, spec, ifMatch: nil, creating: true)
            return json(try encode(saved), status: .created,
                        headers: [.eTag: "\"\(saved.version)\"", .location: "/api/scenarios/\(saved.id)"])
        }
    }
    router.get("/api/scenarios/:id") { _, context in
        try await handling {
            let saved = try await state.record(try param(context, "id"))
            return json(try encode(saved), headers: [.eTag: "\"\(saved.version)\""])
        }
    }
    router.put("/api/scenarios/:id") { request, context in
        try await handling {
            let id = try param(context, "id")
            var r = request
            let body = try await r.collectBody(upTo: config.maxBodyBytes)
            let spec = try JSONDecoder().decode(StudyFile.ScenarioSpec.self, from: Data(buffer: body))
            let saved = try await state.save(id: id, spec, ifMatch: version(request.headers[.ifMatch]), creating: false)
            return json(try encode(saved), headers: [.eTag: "\"\(saved.version)\""])
        }
    }
    router.delete("/api/scenarios/:id") { request, context in
        try await handling {
            try await state.delete(try param(context, "id"), ifMatch: version(request.headers[.ifMatch]))
            return Response(status: .noContent)
        }
    }

    // MARK: the web page
    router.get("/app/") { _, _ in json(WebPage.html, type: "text/html; charset=utf-8") }
    router.get("/app/app.js") { _, _ in json(WebPage.script, type: "text/javascript; charset=utf-8") }

    // MARK: maps
    router.get("/maps/:file") { request, context in
        try await handling {
            let file = try param(context, "file")
            let parts = file.split(separator: ".")
            guard parts.count == 2, let kind = OutputKind(rawValue: String(parts[1])),
                  parts[0].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw ServiceError.badRequest("ask for /maps/STYLE.png, .svg or .pdf")
            }
            let q = request.uri.queryParameters
            let bytes = try await MapService.render(state: state, config: config, style: String(parts[0]), kind: kind,
                                                    scenario: q["scenario"].map(String.init), category: q["category"].map(String.init),
                                                    paper: q["paper"].map(String.init), landscape: q["landscape"] == "true",
                                                    width: q["width"].flatMap { Int($0) }, height: q["height"].flatMap { Int($0) },
                                                    dpi: q["dpi"].flatMap { Double($0) }, language: q["lang"].map(String.init))
            let type = ["png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"][kind.rawValue]!
            return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
    return router
}

/// A path parameter, percent-decoded.
func param(_ context: BasicRequestContext, _ name: String) throws -> String {
    let raw = try context.parameters.require(name)
    return raw.removingPercentEncoding ?? raw
}

/// `"3"` or `3` from an If-Match header.
func version(_ header: String?) -> Int64? {
    header.flatMap { Int64($0.trimmingCharacters(in: CharacterSet(charactersIn: "\" W/"))) }
}

struct OptimizeBody: Decodable {
    var category: String
    var objective: String
    var facilities: Int?
    /// Seconds or metres, by the category's rule (default: the rule's threshold).
    var threshold: Double?
    var share: Double?
    var candidates: String?
    var keep: [String]?
    var exclude: [String]?
}

/// Builds the application: binds to the configured host (127.0.0.1 by default).
public func buildApplication(state: ServiceState, config: ServerConfig) -> some ApplicationProtocol {
    Application(router: buildRouter(state: state, config: config),
                configuration: .init(address: .hostname(config.host, port: config.port), serverName: "Klynge"))
}
