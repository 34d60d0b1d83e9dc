import Foundation
import Hummingbird
import KlyngeGeo

/// OGC API Features (core, GeoJSON, OpenAPI 3.0): landing page, conformance, collections and items.
struct FeaturesController {
    let state: ServiceState
    let config: ServerConfig

    func add(to router: Router<KlyngeRequestContext>) {
        router.get("/", use: landing)
        router.get("/conformance") { _, _ in
            JSONBody.response(JSONBody.encode(any: ["conformsTo": [
                "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
                "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
                "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30"]]))
        }
        router.get("/collections", use: collections)
        router.get("/collections/:id", use: collection)
        router.get("/collections/:id/items", use: items)
        router.get("/collections/:id/items/:fid", use: item)
    }

    @Sendable func landing(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        let base = Links.base(request, config: config)
        let study = state.study
        return JSONBody.response(JSONBody.encode(any: [
            "title": "Klynge: \(study.name)", "description": study.description ?? "Village clusters and shared meeting places",
            "links": [
                ["href": "\(base)/", "rel": "self", "type": "application/json", "title": "This document"],
                ["href": "\(base)/api/openapi.json", "rel": "service-desc", "type": "application/vnd.oai.openapi+json;version=3.0", "title": "The API"],
                ["href": "\(base)/conformance", "rel": "conformance", "type": "application/json", "title": "Conformance"],
                ["href": "\(base)/collections", "rel": "data", "type": "application/json", "title": "Collections"],
                ["href": "\(base)/app/", "rel": "alternate", "type": "text/html", "title": "The working group's page"],
            ],
        ]))
    }

    func all() async throws -> [String: FeatureCollection] {
        try await state.collections.get(await state.snapshot(), pool: state.pool)
    }

    func named(_ context: KlyngeRequestContext) async throws -> FeatureCollection {
        let id = try pathParameter(context, "id")
        guard let c = try await all()[id] else { throw ServiceError.notFound("no collection `\(id)`") }
        return c
    }

    @Sendable func collections(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        let base = Links.base(request, config: config)
        let all = try await all()
        return JSONBody.response(JSONBody.encode(any: [
            "links": [["href": "\(base)/collections", "rel": "self", "type": "application/json"]],
            "collections": all.keys.sorted().map { all[$0]!.metadata(baseURL: base) },
        ]))
    }

    @Sendable func collection(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        JSONBody.response(JSONBody.encode(any: try await named(context).metadata(baseURL: Links.base(request, config: config))))
    }

    @Sendable func items(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        let c = try await named(context)
        let q = Query(request)
        let limit = try q.int("limit", in: 1...config.limits.maxItems) ?? 100
        let offset = try q.int("offset", in: 0...1_000_000_000) ?? 0
        var bbox: Envelope?
        if let b = try q.text("bbox") {
            let parts = b.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 4 else { throw ServiceError.badRequest("bbox is minLon,minLat,maxLon,maxLat (WGS 84)", parameter: "bbox") }
            let lon = -180.0...180.0, lat = -90.0...90.0
            let v = try zip(parts, [lon, lat, lon, lat]).map { try Checked.double(Double($0.0), "bbox", in: $0.1) }
            guard v[0] <= v[2], v[1] <= v[3] else { throw ServiceError.badRequest("bbox: the minimum must not exceed the maximum", parameter: "bbox") }
            bbox = Envelope(minX: v[0], minY: v[1], maxX: v[2], maxY: v[3])
        }
        return JSONBody.response(c.items(limit: limit, offset: offset, bbox: bbox, baseURL: Links.base(request, config: config)),
                                 type: "application/geo+json")
    }

    @Sendable func item(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        let c = try await named(context)
        let fid = try pathParameter(context, "fid")
        guard let item = c.item(fid) else { throw ServiceError.notFound("no feature `\(fid)` in `\(c.id)`") }
        return JSONBody.response(item, type: "application/geo+json")
    }
}

/// A path parameter, percent-decoded and bounded.
func pathParameter(_ context: KlyngeRequestContext, _ name: String) throws -> String {
    let raw = try context.parameters.require(name)
    let value = raw.removingPercentEncoding ?? raw
    guard value.count <= 300 else { throw ServiceError.notFound("no such resource") }
    return value
}
