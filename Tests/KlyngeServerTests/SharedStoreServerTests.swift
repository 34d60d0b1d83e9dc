import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import KlyngeIngest
import KlyngeStudyAnalysis
import KlyngeStore
import KlyngeStudy
import KlyngeSurvey
import KlyngeTestSupport
@testable import KlyngePostgres
@testable import KlyngeServer

/// Two services on one PostgreSQL store, in one process (the loopback check with nginx, `kill -9` and a
/// restarted database is scripts/check_shared_store.py): what one writes the other follows, and the database
/// decides between their writes — one creation of a name, a stale ETag refused, one answer per device.
@Suite(.serialized) struct SharedStoreServerTests {
    static let pg = ProcessInfo.processInfo.environment["KLYNGE_TEST_PG"].flatMap { $0.isEmpty ? nil : $0 }

    static func pair() throws -> (ServiceState, ServiceState, ServerConfig) {
        let study = try #require(try StudyLoader().load(path: TestSupport.data("samsoe/study.yaml")).study)
        let key = "shared-\(UUID().uuidString.prefix(8).lowercased())"
        let location = StoreLocation(try #require(pg), study: key)
        let a = try ServiceState(study: study, store: location, writable: true)
        // The second instance: its own connections, as another process would have.
        let b = try ServiceState(study: study, store: StoreLocation(try #require(pg), study: key), writable: true)
        let config = ServerConfig(token: Fixture.token, maxBodyBytes: 4096, stylesFolder: TestSupport.packageRoot.appendingPathComponent("styles"),
                                  cancelWhenClientLeaves: false)
        return (a, b, config)
    }

    /// One request to a service: its status, ETag and the description of the scenario it answered with.
    struct Answer: Sendable {
        var status: HTTPResponse.Status
        var etag: String?
        var description: String?
    }

    static func send(_ state: ServiceState, _ config: ServerConfig, _ method: HTTPRequest.Method, _ uri: String,
                     ifMatch: String? = nil, body: String? = nil) async throws -> Answer {
        var headers = auth
        if let ifMatch { headers[.ifMatch] = ifMatch }
        let h = headers
        return try await Application(router: buildRouter(state: state, config: config)).test(.router) { c in
            try await c.execute(uri: uri, method: method, headers: h, body: body.map { ByteBuffer(string: $0) }) { r in
                let o = try? JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any]
                return Answer(status: r.status, etag: r.headers[.eTag], description: (o?["scenario"] as? [String: Any])?["description"] as? String)
            }
        }
    }

    @Test(.enabled(if: Self.pg != nil, "needs KLYNGE_TEST_PG (make test sets it up)"))
    func writesThroughEitherServiceAreDecidedByTheDatabase() async throws {
        let (a, b, config) = try Self.pair()
        let uri = "/api/scenarios/luk-sambiosen"
        // One name created through both at once: one 201, one 409.
        async let first = Self.send(a, config, .post, "/api/scenarios", body: closeHall)
        async let second = Self.send(b, config, .post, "/api/scenarios", body: closeHall)
        let statuses = try await [first.status, second.status]
        #expect(statuses.sorted { $0.code < $1.code } == [.created, .conflict], "\(statuses)")

        // Each follows what the other wrote: the same record and ETag through both.
        try await a.followStoreNow()
        try await b.followStoreNow()
        let tagA = try await Self.send(a, config, .get, uri).etag
        let tagB = try await Self.send(b, config, .get, uri).etag
        #expect(tagA != nil && tagA == tagB)

        // A replaces it; B, with the old ETag, is refused (412); with the new one it writes.
        let edited = #"{"name": "Luk Sambiosen", "description": "A", "close": ["node/5938809867"]}"#
        let byA = try await Self.send(a, config, .put, uri, ifMatch: tagA, body: edited)
        #expect(byA.status == .ok && byA.etag != tagA)
        #expect(try await Self.send(b, config, .put, uri, ifMatch: tagA, body: edited).status == .preconditionFailed)
        let byB = try await Self.send(b, config, .put, uri, ifMatch: byA.etag, body: edited.replacingOccurrences(of: "\"A\"", with: "\"B\""))
        #expect(byB.status == .ok && byB.description == "B")

        // A follows B's write: its analysis has the changed scenario, under a new revision.
        let before = await a.snapshot().revision
        try await a.followStoreNow()
        let after = await a.snapshot()
        #expect(after.revision > before && after.saved.first { $0.record.id == "luk-sambiosen" }?.spec?.description == "B")
        #expect(try await Self.send(a, config, .get, uri).etag == byB.etag)

        // A delete with A's own, now stale, ETag is refused; with B's it goes, and B follows.
        #expect(try await Self.send(a, config, .delete, uri, ifMatch: byA.etag).status == .preconditionFailed)
        #expect(try await Self.send(a, config, .delete, uri, ifMatch: byB.etag).status == .noContent)
        try await b.followStoreNow()
        #expect(await b.records().valid.isEmpty)
    }

    @Test(.enabled(if: Self.pg != nil, "needs KLYNGE_TEST_PG (make test sets it up)"))
    func oneDeviceAnswersOnceThroughEitherStore() throws {
        let key = "survey-\(UUID().uuidString.prefix(8).lowercased())"
        let one = SurveyStore(location: StoreLocation(try #require(Self.pg), study: key))
        let two = SurveyStore(location: StoreLocation(try #require(Self.pg), study: key))
        func response(_ id: String) -> SurveyResponse {
            SurveyResponse(id: id, survey: "s", receivedDay: "2026-12-01", source: .web, language: .da, answers: [:])
        }
        #expect(try one.save(response("r1"), device: "dev-1"))
        #expect(try !two.save(response("r2"), device: "dev-1"), "the device has answered through the other store")
        #expect(try two.save(response("r3"), device: "dev-2"))
        #expect(try one.responses(survey: "s").responses.map(\.id) == ["r1", "r3"])
        let stamp = try one.stamp()
        try two.closeEarly(survey: "s", at: Date(timeIntervalSince1970: 1_800_000_000))
        #expect(try one.stamp() != stamp && one.closedEarly(survey: "s") == Date(timeIntervalSince1970: 1_800_000_000))
    }

    /// What QGIS opens: a scenario's new place and a survey answer's pins as PostGIS points in the study's CRS
    /// (the same point PROJ gives through Klynge's own transformation), and each saved proposal's clusters
    /// dissolved from the study's areas, with every area in one cluster and no area lost.
    @Test(.enabled(if: Self.pg != nil, "needs KLYNGE_TEST_PG (make test sets it up)"))
    func recordsHaveGeometriesInTheStudysCRSForQGIS() async throws {
        let (a, _, config) = try Self.pair()
        guard case .postgreSQL(_, let key) = a.storeLocation else { throw TokenError(message: "not a database") }
        let db = try PostgresConnection(try #require(Self.pg))
        let place = #"{"name": "Nyt hus", "open": [{"name": "Hus", "categories": ["hall"], "lonlat": [10.6, 55.85]}]}"#
        #expect(try await Self.send(a, config, .post, "/api/scenarios", body: place).status == .created)
        let row = try db.execute("SELECT ST_SRID(geom), ST_X(ST_GeometryN(geom, 1)), ST_Y(ST_GeometryN(geom, 1)) FROM klynge.scenarios WHERE study = $1 AND id = 'nyt-hus'",
                                 [key]).rows
        let expected = try await a.workingXY(lon: 10.6, lat: 55.85)
        #expect(row.first?[0] == "25832")
        #expect(abs((Double(row.first?[1] ?? "") ?? 0) - expected.x) < 0.001 && abs((Double(row.first?[2] ?? "") ?? 0) - expected.y) < 0.001, "\(row) vs \(expected)")

        // Pins of a survey answer.
        let pins = SurveyResponse(id: "p1", survey: "s", receivedDay: "2026-12-01", source: .web, language: .da,
                                  answers: ["steder": .pins([PlacePin(lon: 10.6, lat: 55.85, kind: .wish, text: "her", status: .pending),
                                                            PlacePin(lon: 10.62, lat: 55.86, kind: .wish, text: "der", status: .approved)])])
        #expect(try SurveyStore(location: a.storeLocation).save(pins, device: nil))
        #expect(try db.execute("SELECT ST_NumGeometries(geom), ST_SRID(geom) FROM klynge.survey_responses WHERE study = $1 AND id = 'p1'",
                               [key]).rows.first == ["2", "25832"])

        // A proposal's clusters: every area once, and their area adds up to the study's.
        let snapshot = await a.snapshot()
        var request = RegionRequest()
        request.count = .exactly(3)
        let proposal = try RegionSetup(analysis: snapshot.analysis, request: request).solve()
        let clustering = SavedClustering(name: "Tre", description: nil, assignments: proposal.assignments, hubs: [:])
        _ = try await a.saveProposal(clustering)
        let clusters = try db.execute("""
            SELECT cluster, areas, ST_Area(geom) FROM klynge.proposal_clusters WHERE study = $1 AND proposal = 'tre' ORDER BY cluster
            """, [key]).rows
        let total = try db.execute("SELECT sum(ST_Area(geom)) FROM klynge.areas WHERE study = $1", [key]).rows[0][0].flatMap(Double.init) ?? 0
        #expect(clusters.count == Set(proposal.assignments.values).count)
        #expect(clusters.compactMap { $0[1].flatMap(Int.init) }.reduce(0, +) == snapshot.analysis.study.areas.count)
        let summed = clusters.compactMap { $0[2].flatMap(Double.init) }.reduce(0, +)
        #expect(total > 0 && abs(summed - total) / total < 1e-6, "\(summed) vs \(total)")
    }

    /// A database that cannot be reached is a 503 with a JSON error that names neither the server nor the password.
    @Test func anUnreachableDatabaseIsA503WithoutItsAddress() throws {
        let e = PostgresError(message: "cannot connect: connection to server at \"10.0.0.5\", port 5432 failed: password s3cret", sqlState: nil,
                              isConnectionProblem: true)
        let (status, message, _, headers) = ErrorMiddleware<KlyngeRequestContext>.describe(e)
        #expect(status == .serviceUnavailable && headers[.retryAfter] != nil)
        #expect(!message.contains("10.0.0.5") && !message.contains("s3cret") && !message.contains("5432"))
    }
}
