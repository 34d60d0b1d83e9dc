import Foundation
import Hummingbird
import KlyngeStudy

/// Saved scenarios: list, read, create, replace (If-Match), delete. Records the study can no longer use are
/// listed as invalid with their reason, and can be replaced or deleted.
struct ScenariosController {
    let state: ServiceState
    let config: ServerConfig

    func add(to router: Router<KlyngeRequestContext>) {
        router.get("/api/scenarios", use: list)
        router.post("/api/scenarios", use: create)
        router.get("/api/scenarios/:id", use: get)
        router.put("/api/scenarios/:id", use: replace)
        router.delete("/api/scenarios/:id", use: delete)
    }

    struct Listing: Encodable {
        struct Own: Encodable {
            var name: String
            var id: String
            var readOnly = true
        }
        var study: [Own]
        var saved: [ScenarioRecord]
        var invalid: [ScenarioRecord]
    }

    @Sendable func list(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        let snapshot = await state.snapshot()
        let records = await state.records()
        let own = state.study.scenarios.map { Listing.Own(name: $0.name, id: snapshot.ids[$0.name] ?? "") }
        return JSONBody.response(Listing(study: own, saved: records.valid, invalid: records.invalid))
    }

    func spec(_ request: inout Request) async throws -> StudyFile.ScenarioSpec {
        let body = try await request.collectBody(upTo: config.maxBodyBytes)
        let spec = try JSONDecoder().decode(StudyFile.ScenarioSpec.self, from: Data(buffer: body))
        guard spec.name.count <= 200 else { throw ServiceError.badRequest("a scenario name has at most 200 characters", parameter: "name") }
        return spec
    }

    func headers(_ r: ScenarioRecord) -> HTTPFields {
        [.eTag: "\"\(r.etag)\"", .location: "\(config.pathPrefix)/api/scenarios/\(r.id)"]
    }

    @Sendable func create(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        var r = request
        let saved = try await state.save(id: nil, try await spec(&r), precondition: .absent, creating: true)
        return JSONBody.response(saved, status: .created, headers: headers(saved))
    }

    @Sendable func get(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        let saved = try await state.record(try pathParameter(context, "id"))
        return JSONBody.response(saved, headers: [.eTag: "\"\(saved.etag)\""])
    }

    @Sendable func replace(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        var r = request
        let id = try pathParameter(context, "id")
        let saved = try await state.save(id: id, try await spec(&r), precondition: IfMatch(request.headers[.ifMatch]), creating: false)
        return JSONBody.response(saved, headers: headers(saved))
    }

    @Sendable func delete(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        try await state.delete(try pathParameter(context, "id"), precondition: IfMatch(request.headers[.ifMatch]))
        return Response(status: .noContent)
    }
}
