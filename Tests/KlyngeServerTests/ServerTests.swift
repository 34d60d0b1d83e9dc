import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import KlyngeAnalysis
import KlyngeStudyAnalysis
import KlyngeIngest
import KlyngeJobs
import KlyngeStudy
import KlyngeStore
import KlyngeTestSupport
@testable import KlyngeServer

/// The service on the Samsø sample with a store in a temporary folder.
struct Fixture {
    let folder: URL
    let state: ServiceState
    let config: ServerConfig
    static let token = "hemmelig-token"

    init(token: String? = Fixture.token, folder: URL? = nil) throws {
        self.folder = try folder ?? TestSupport.temporaryFolder()
        let study = try #require(try StudyLoader().load(path: TestSupport.data("samsoe/study.yaml")).study)
        state = try ServiceState(study: study, storePath: self.folder.appendingPathComponent("store.gpkg").path, writable: token != nil)
        // In-process router tests have no connection to watch.
        config = ServerConfig(token: token, maxBodyBytes: 4096, stylesFolder: TestSupport.packageRoot.appendingPathComponent("styles"),
                              cancelWhenClientLeaves: false)
    }

    var app: some ApplicationProtocol { Application(router: buildRouter(state: state, config: config)) }
    func cleanup() { try? FileManager.default.removeItem(at: folder) }
}

func object(_ r: TestResponse) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as! [String: Any]
}

let auth: HTTPFields = [.authorization: "Bearer \(Fixture.token)", .contentType: "application/json"]
let closeHall = #"{"name": "Luk Sambiosen", "close": ["node/5938809867"]}"#

@Suite(.serialized) struct ServerTests {
    /// The page's cluster editor: clusterings listed with their assignments, a hand-made one checked without
    /// a token, and saved with one as a new alternative that becomes a collection and a stored proposal.
    @Test func clusteringsAreCheckedAndSaved() async throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        let analysis = await fx.state.snapshot().analysis
        var req = RegionRequest()
        req.count = .exactly(2)
        let optimum = try RegionSetup(analysis: analysis, request: req).solve()
        let encoded = String(decoding: try JSONEncoder().encode(optimum.assignments), as: UTF8.self)
        let body: @Sendable (String) -> ByteBuffer = { extra in ByteBuffer(string: #"{"assignments": "# + encoded + extra + "}") }
        let json: HTTPFields = [.contentType: "application/json"]
        let own = String(decoding: try JSONEncoder().encode(try SavedClustering.own(analysis.study, name: "own").assignments), as: UTF8.self)
        try await fx.app.test(.router) { client in
            try await client.execute(uri: "/api/clusterings", method: .get) { r in
                let list = (try object(r))["clusterings"] as! [[String: Any]]
                #expect(list.map { $0["id"] as! String } == ["study"] && list[0]["ownClusters"] as? Bool == true)
                #expect((list[0]["assignments"] as! [String: String])["7243"] == "Sydøen")
            }
            // The study's own clusters: Nordby and Besser do not touch.
            try await client.execute(uri: "/api/regions/check", method: .post, headers: json,
                                     body: ByteBuffer(string: #"{"assignments": "# + own + "}")) { r in
                #expect(r.status == .ok)
                let o = try object(r)
                #expect(o["valid"] as? Bool == false)
                let problems = o["problems"] as! [[String: Any]]
                #expect(problems.contains { $0["kind"] as? String == "notContiguous" && $0["cluster"] as? String == "Nordøen" })
                #expect((o["neighbours"] as! [String: [String]])["7244"] == ["7242"])
            }
            // The proven optimum, drawn by hand: valid, with the hubs and figures the solver gave it.
            try await client.execute(uri: "/api/regions/check", method: .post, headers: json, body: body("")) { r in
                let o = try object(r)
                #expect(o["valid"] as? Bool == true && (o["problems"] as! [Any]).isEmpty)
                let clusters = o["clusters"] as! [[String: Any]]
                for c in optimum.clusters {
                    let mine = try #require(clusters.first { $0["name"] as? String == c.name })
                    #expect((mine["hub"] as! [String: Any])["id"] as? String == c.hub?.id)
                    #expect(mine["meanToHub"] as? Double == c.meanToHub && mine["population"] as? Double == c.population)
                }
            }
            try await client.execute(uri: "/api/regions/check", method: .post, headers: json, body: body(#", "maxPopulation": 100, "require": ["library"]"#)) { r in
                let problems = (try object(r))["problems"] as! [[String: Any]]
                #expect(problems.filter { $0["kind"] as? String == "tooManyPeople" && $0["limit"] as? Double == 100 }.count == 2)
                #expect(problems.filter { $0["kind"] as? String == "missing" && $0["category"] as? String == "library" }.count == 1)
            }
            for bad in [#"{"assignments": {"7240": "A", "Atlantis": "B"}}"#, #"{"assignments": {"7240": ""}}"#, #"{}"#, #"{"assignments": {}, "clusters": 2}"#,
                        #"{"assignments": {}, "maxMinutes": 1e308}"#, #"{"assignments": 5}"#] {
                try await client.execute(uri: "/api/regions/check", method: .post, headers: json, body: ByteBuffer(string: bad)) { r in
                    #expect(r.status == .badRequest, "\(bad): \(r.status)")
                }
            }
            // Saving needs the token, a name, and a clustering the check finds nothing wrong with.
            try await client.execute(uri: "/api/clusterings", method: .post, headers: json, body: body(#", "name": "To""#)) { r in
                #expect(r.status == .unauthorized)
            }
            try await client.execute(uri: "/api/clusterings", method: .post, headers: auth, body: body(#", "name": "To", "maxPopulation": 100"#)) { r in
                #expect(r.status == .unprocessableContent && String(buffer: r.body).contains("more than 100"))
            }
            try await client.execute(uri: "/api/clusterings", method: .post, headers: auth, body: body(#", "name": "  ""#)) { r in
                #expect(r.status == .badRequest)
            }
            try await client.execute(uri: "/api/clusterings", method: .post, headers: auth, body: body(#", "name": "To klynger""#)) { r in
                #expect(r.status == .created && r.headers[.location] == "/collections/clustering-to-klynger")
            }
            try await client.execute(uri: "/api/clusterings", method: .post, headers: auth, body: body(#", "name": "To klynger""#)) { r in
                #expect(r.status == .conflict)
            }
            try await client.execute(uri: "/collections/clustering-to-klynger/items", method: .get) { r in
                #expect(r.status == .ok)
                let features = (try object(r))["features"] as! [[String: Any]]
                #expect(Set(features.map { ($0["properties"] as! [String: Any])["cluster"] as! String }) == Set(optimum.clusters.map(\.name)))
            }
            try await client.execute(uri: "/api/clusterings", method: .get) { r in
                let ids = ((try object(r))["clusterings"] as! [[String: Any]]).map { $0["id"] as! String }
                #expect(ids == ["study", "to-klynger"])
            }
        }
        // The command line finds it in the store, as `regions --save` would have left it.
        let stored = try #require(try ScenarioStore(path: fx.folder.appendingPathComponent("store.gpkg").path).proposal("To klynger"))
        #expect(stored.assignments == optimum.assignments)
        // Deleting: with the token only, never the study's own, and gone from the list, the collections and the store.
        try await fx.app.test(.router) { client in
            try await client.execute(uri: "/api/clusterings/to-klynger", method: .delete) { r in #expect(r.status == .unauthorized) }
            try await client.execute(uri: "/api/clusterings/study", method: .delete, headers: auth) { r in #expect(r.status == .conflict) }
            try await client.execute(uri: "/api/clusterings/to-klynger", method: .delete, headers: auth) { r in #expect(r.status == .noContent) }
            try await client.execute(uri: "/api/clusterings/to-klynger", method: .delete, headers: auth) { r in #expect(r.status == .notFound) }
            try await client.execute(uri: "/collections/clustering-to-klynger/items", method: .get) { r in #expect(r.status == .notFound) }
            try await client.execute(uri: "/api/clusterings", method: .get) { r in
                let ids = ((try object(r))["clusterings"] as! [[String: Any]]).map { $0["id"] as! String }
                #expect(ids == ["study"])
            }
        }
        #expect(try ScenarioStore(path: fx.folder.appendingPathComponent("store.gpkg").path).proposal("To klynger") == nil)
    }

    @Test func ogcAPIFeatures() async throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        try await fx.app.test(.router) { client in
            try await client.execute(uri: "/", method: .get) { r in
                #expect(r.status == .ok)
                let links = (try object(r))["links"] as! [[String: Any]]
                #expect(Set(links.map { $0["rel"] as! String }).isSuperset(of: ["self", "conformance", "data", "service-desc"]))
            }
            try await client.execute(uri: "/conformance", method: .get) { r in
                let o = try object(r)
                #expect((o["conformsTo"] as! [String]).contains("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"))
            }
            try await client.execute(uri: "/collections", method: .get) { r in
                let ids = ((try object(r))["collections"] as! [[String: Any]]).map { $0["id"] as! String }
                #expect(Set(ids).isSuperset(of: ["areas", "demand", "facilities", "roads", "coverage", "clusters", "coverage-multihus-i-nordby", "coverage-en-skole"]))
            }
            // Paging: 28 villages in pages of 10.
            var seen: [String] = []
            var next: String? = "/collections/demand/items?limit=10"
            while let uri = next {
                next = try await client.execute(uri: uri, method: .get) { r -> String? in
                    #expect(r.status == .ok && r.headers[.contentType] == "application/geo+json")
                    let o = try object(r)
                    #expect(o["numberMatched"] as? Int == 28)
                    seen += (o["features"] as! [[String: Any]]).map { $0["id"] as! String }
                    let links = o["links"] as! [[String: Any]]
                    return (links.first { $0["rel"] as? String == "next" }?["href"] as? String).map { URL(string: $0)!.path + "?" + URL(string: $0)!.query! }
                }
            }
            #expect(seen.count == 28 && Set(seen).count == 28)
            // bbox around Nordby only.
            try await client.execute(uri: "/collections/demand/items?bbox=10.55,55.93,10.62,55.98", method: .get) { r in
                let names = ((try object(r))["features"] as! [[String: Any]]).map { ($0["properties"] as! [String: Any])["name"] as! String }
                #expect(names.contains("Nordby") && !names.contains("Tranebjerg"))
            }
            try await client.execute(uri: "/collections/facilities/items/way%2F106619916", method: .get) { r in
                let o = try object(r)
                #expect(r.status == .ok && (o["properties"] as! [String: Any])["name"] as? String == "Tranebjerg Skole")
            }
            for bad in ["/collections/findes-ikke/items", "/collections/demand/items/findes-ikke"] {
                try await client.execute(uri: bad, method: .get) { r in #expect(r.status == .notFound) }
            }
            for bad in ["/collections/demand/items?limit=0", "/collections/demand/items?bbox=1,2,3"] {
                try await client.execute(uri: bad, method: .get) { r in
                    #expect(r.status == .badRequest)
                    let o = try object(r)
                    #expect((o["error"] as! [String: Any])["message"] != nil)
                }
            }
        }
    }

    @Test func scenariosNeedTheTokenAndEditsNeverOverwriteSilently() async throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // The first service, released (with its store lock) before the restart.
        try await { () async throws in
        let fx = try Fixture(folder: folder)
        try await fx.app.test(.router) { client in
            try await client.execute(uri: "/api/scenarios", method: .post, headers: [.contentType: "application/json"],
                                     body: ByteBuffer(string: closeHall)) { r in #expect(r.status == .unauthorized) }
            try await client.execute(uri: "/api/scenarios", method: .post, headers: [.authorization: "Bearer forkert", .contentType: "application/json"],
                                     body: ByteBuffer(string: closeHall)) { r in #expect(r.status == .unauthorized) }
            try await client.execute(uri: "/api/scenarios", method: .post, headers: auth, body: ByteBuffer(string: "{\"name\": ")) { r in
                #expect(r.status == .badRequest)
                let o = try object(r)
                #expect(((o["error"] as! [String: Any])["message"] as! String).contains("JSON"))
            }
            try await client.execute(uri: "/api/scenarios", method: .post, headers: auth,
                                     body: ByteBuffer(string: String(repeating: " ", count: 5000) + closeHall)) { r in #expect(r.status == .contentTooLarge) }
            try await client.execute(uri: "/api/scenarios", method: .post, headers: auth,
                                     body: ByteBuffer(string: #"{"name": "X", "close": ["way/0"]}"#)) { r in
                #expect(r.status == .badRequest)
                let o = try object(r)
                #expect(((o["error"] as! [String: Any])["message"] as! String).contains("way/0"))
            }
            let etag = try await client.execute(uri: "/api/scenarios", method: .post, headers: auth, body: ByteBuffer(string: closeHall)) { r -> String in
                #expect(r.status == .created)
                return r.headers[.eTag] ?? ""
            }
            #expect(etag.hasPrefix("\"") && etag.hasSuffix("-1\""))
            try await client.execute(uri: "/api/scenarios", method: .post, headers: auth, body: ByteBuffer(string: closeHall)) { r in #expect(r.status == .conflict) }
            // The scenario is usable at once.
            try await client.execute(uri: "/api/coverage?scenario=Luk%20Sambiosen&category=hall", method: .get) { r in
                #expect(r.status == .ok)
                let cat = ((try object(r))["categories"] as! [[String: Any]])[0]
                #expect(cat["openFacilities"] as? Int == 2)
            }
            // An edit with the version seen succeeds; a second edit with the same (now stale) version gets 412.
            let edited = #"{"name": "Luk Sambiosen", "close": ["node/5938809867", "way/463402465"]}"#
            var h = auth
            h[.ifMatch] = etag
            try await client.execute(uri: "/api/scenarios/luk-sambiosen", method: .put, headers: h, body: ByteBuffer(string: edited)) { r in
                #expect(r.status == .ok && r.headers[.eTag] == etag.replacingOccurrences(of: "-1\"", with: "-2\""))
            }
            try await client.execute(uri: "/api/scenarios/luk-sambiosen", method: .put, headers: h, body: ByteBuffer(string: edited)) { r in
                #expect(r.status == .preconditionFailed)
            }
            // Renaming another scenario to a name in use is a conflict.
            try await client.execute(uri: "/api/scenarios", method: .post, headers: auth,
                                     body: ByteBuffer(string: #"{"name": "Anden", "close": ["way/463402465"]}"#)) { r in #expect(r.status == .created) }
            var h1 = auth
            h1[.ifMatch] = "*"
            try await client.execute(uri: "/api/scenarios/anden", method: .put, headers: h1, body: ByteBuffer(string: edited)) { r in
                #expect(r.status == .conflict)
            }
            try await client.execute(uri: "/api/scenarios/luk-sambiosen", method: .put, headers: auth, body: ByteBuffer(string: edited)) { r in
                #expect(r.status == .preconditionFailed)  // no If-Match at all
            }
            try await client.execute(uri: "/api/scenarios/luk-sambiosen", method: .get) { r in
                #expect(r.headers[.eTag] == etag.replacingOccurrences(of: "-1\"", with: "-2\""))
            }
        }
        }()
        // A restart keeps the saved scenario.
        let again = try Fixture(folder: folder)
        try await again.app.test(.router) { client in
            try await client.execute(uri: "/api/scenarios/luk-sambiosen", method: .get) { r in
                #expect(r.status == .ok)
                let closed = ((try object(r))["scenario"] as! [String: Any])["close"] as! [String]
                #expect(closed == ["node/5938809867", "way/463402465"])
            }
            try await client.execute(uri: "/api/scenarios/luk-sambiosen", method: .delete, headers: auth) { r in #expect(r.status == .noContent) }
            try await client.execute(uri: "/api/scenarios/luk-sambiosen", method: .get) { r in #expect(r.status == .notFound) }
        }
    }

    @Test func readOnlyWithoutAToken() async throws {
        let fx = try Fixture(token: nil)
        defer { fx.cleanup() }
        try await fx.app.test(.router) { client in
            try await client.execute(uri: "/api/scenarios", method: .post, headers: auth, body: ByteBuffer(string: closeHall)) { r in
                #expect(r.status == .forbidden)
            }
            try await client.execute(uri: "/api/coverage", method: .get) { r in #expect(r.status == .ok) }
        }
    }

    @Test func analysisAndMapsOverHTTPMatchTheLibrary() async throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        let analysis = await fx.state.snapshot().analysis
        let want = analysis.engine.compare(analysis.engine.baselinePlan, try analysis.scenario(named: "Multihus i Nordby").plan, categories: ["hall"])
        try await fx.app.test(.router) { client in
            try await client.execute(uri: "/api/compare?scenario=Multihus%20i%20Nordby&category=hall", method: .get) { r in
                #expect(r.status == .ok)
                let c = ((try object(r))["categories"] as! [[String: Any]])[0]
                #expect((c["gaining"] as! [[String: Any]]).count == want.categories[0].gaining.count)
            }
            // A place put on the page's map gives what the library gives for the same lon/lat.
            var study = analysis.study
            study.scenarios = [StudyFile.ScenarioSpec(name: "what-if", open: [StudyFile.NewFacility(name: "Ny", categories: ["hall"], lonlat: [10.575, 55.95])])]
            let lib = try StudyAnalysis(study: study, network: analysis.network)
            let libReport = CoverageReport(analysis: lib, plan: lib.scenarios[0].plan, scenario: nil, categories: ["hall"])
            let libSeconds = libReport.points.map { $0.categories[0].durationSeconds }
            #expect(libReport.points.contains { $0.categories[0].facilityName == "Ny" })
            try await client.execute(uri: "/api/coverage?category=hall&open=10.575,55.95,Ny", method: .get) { r in
                #expect(r.status == .ok)
                let points = (try object(r))["points"] as! [[String: Any]]
                let seconds = points.map { (($0["categories"] as! [[String: Any]])[0]["durationSeconds"] as? Double) }
                #expect(seconds.count == libSeconds.count)
                for (a, b) in zip(seconds, libSeconds) { #expect(abs((a ?? -1) - (b ?? -1)) < 1e-6) }
            }
            try await client.execute(uri: "/api/coverage?category=hall&open=200,55.95,Ny", method: .get) { r in #expect(r.status == .badRequest) }
            try await client.execute(uri: "/api/impact?category=shop", method: .get) { r in #expect(r.status == .ok) }
            try await client.execute(uri: "/api/impact?category=svømmehal", method: .get) { r in #expect(r.status == .badRequest) }
            try await client.execute(uri: "/api/clusters", method: .get) { r in #expect(r.status == .ok) }
            try await client.execute(uri: "/api/optimize", method: .post, headers: auth,
                                     body: ByteBuffer(string: #"{"category": "hall", "objective": "coverage", "facilities": 2, "candidates": "places"}"#)) { r in
                #expect(r.status == .ok)
                let o = try object(r)
                #expect((o["solution"] as! [String: Any])["value"] as? Double == 2774)
            }
            try await client.execute(uri: "/api/optimize", method: .post, headers: auth,
                                     body: ByteBuffer(string: #"{"category": "hall", "objective": "median", "facilities": 1, "keep": ["way/413945490", "node/5938809867"]}"#)) { r in
                #expect(r.status == .unprocessableContent)
            }
            // Capacities: the library's answer on the same setup, with loads; too few places is a 422 in words.
            let setup = try OptimizeSetup(study: analysis.study, tables: analysis.tables, query: OptimizeQuery(
                category: "hall", request: LocationRequest(goal: .median(facilities: 2)), candidates: .places))
            let capacitated = try LocationAllocation.solve(try setup.capacitated(fallback: 1500, split: false), .init(goal: .median(facilities: 2)))
            try await client.execute(uri: "/api/optimize", method: .post, headers: auth,
                                     body: ByteBuffer(string: #"{"category": "hall", "objective": "median", "facilities": 2, "candidates": "places", "capacity": 1500}"#)) { r in
                #expect(r.status == .ok)
                let s = (try object(r))["solution"] as! [String: Any]
                #expect(abs((s["value"] as? Double ?? 0) - capacitated.value) <= 1e-9 * capacitated.value && (s["loads"] as? [Double])?.count == 2, "\(s) vs \(capacitated.value)")
            }
            try await client.execute(uri: "/api/optimize", method: .post, headers: auth,
                                     body: ByteBuffer(string: #"{"category": "hall", "objective": "median", "facilities": 2, "candidates": "places", "capacity": 100}"#)) { r in
                #expect(r.status == .unprocessableContent && String(buffer: r.body).contains("exceeds total capacity"))
            }
            try await client.execute(uri: "/api/optimize", method: .post, headers: auth,
                                     body: ByteBuffer(string: #"{"category": "hall", "objective": "center", "facilities": 2, "capacity": 100}"#)) { r in
                #expect(r.status == .badRequest)
            }
            // Market share and attendance: the library's answer on the same setup; bad decays are 400s naming it.
            let shops = try OptimizeSetup(study: analysis.study, tables: analysis.tables, query: OptimizeQuery(
                category: "shop", request: LocationRequest(goal: .median(facilities: 1)), candidates: .places, competitors: "shop"))
            let huff = try LocationAllocation.solve(try shops.attracting(fallback: nil),
                                                    .init(goal: .marketShare(facilities: 2, decay: try DistanceDecay.parse("power:2", unitCost: 60))))
            try await client.execute(uri: "/api/optimize", method: .post, headers: auth, body: ByteBuffer(string:
                #"{"category": "shop", "objective": "market-share", "facilities": 2, "candidates": "places", "competitors": "shop", "decay": "power:2"}"#)) { r in
                #expect(r.status == .ok)
                let o = try object(r)
                let s = o["solution"] as! [String: Any]
                #expect(abs((s["value"] as? Double ?? 0) - huff.value) <= 1e-9 * huff.value && (o["competitors"] as? [Any])?.count == shops.competitors.count)
            }
            let attendance = try LocationAllocation.solve(setup.problem, .init(goal: .attendance(facilities: 2, decay: try DistanceDecay.parse("linear:15", unitCost: 60))))
            try await client.execute(uri: "/api/optimize", method: .post, headers: auth, body: ByteBuffer(string:
                #"{"category": "hall", "objective": "attendance", "facilities": 2, "candidates": "places", "decay": "linear:15"}"#)) { r in
                #expect(r.status == .ok)
                let s = (try object(r))["solution"] as! [String: Any]
                #expect(abs((s["value"] as? Double ?? 0) - attendance.value) <= 1e-9 * attendance.value && (s["visitors"] as? [Double])?.count == 2)
            }
            for bad in [#"{"category": "hall", "objective": "attendance", "facilities": 2}"#,
                        #"{"category": "hall", "objective": "attendance", "facilities": 2, "decay": "power:nan"}"#,
                        #"{"category": "hall", "objective": "market-share", "facilities": 2, "decay": "power:1", "competitors": "svømmehal"}"#,
                        #"{"category": "hall", "objective": "median", "facilities": 2, "decay": "power:1"}"#,
                        #"{"category": "hall", "objective": "target-share", "decay": "power:1"}"#] {
                try await client.execute(uri: "/api/optimize", method: .post, headers: auth, body: ByteBuffer(string: bad)) { r in
                    #expect(r.status == .badRequest || r.status == .unprocessableContent, "\(bad): \(r.status)")
                    #expect(!String(buffer: r.body).contains("LocationError"))
                }
            }
            // Gravity and E2SFCA: the library's figures; a bad decay is a 400.
            let decayed = CoverageReport(analysis: analysis, plan: analysis.engine.baselinePlan, scenario: nil, categories: ["hall"],
                                         decay: try DistanceDecay.parse("exponential:0.1", unitCost: 60))
            try await client.execute(uri: "/api/coverage?category=hall&decay=exponential:0.1", method: .get) { r in
                #expect(r.status == .ok)
                let summary = ((try object(r))["categories"] as! [[String: Any]])[0]
                #expect(summary["gravity"] as? Double == decayed.categories[0].gravity && summary["enhancedAccessPer1000"] as? Double == decayed.categories[0].enhancedAccessPer1000)
            }
            try await client.execute(uri: "/api/coverage?category=hall&decay=gauss:1", method: .get) { r in #expect(r.status == .badRequest) }
            try await client.execute(uri: "/api/compare?scenario=Multihus%20i%20Nordby&category=hall&decay=power:1", method: .get) { r in
                #expect(r.status == .ok)
                let first = (try object(r))["categories"] as! [[String: Any]]
                #expect(first[0]["losingAccess"] is [Any])
            }
            // Cluster proposals: the same answer as the command line's library call, every number checked.
            try await client.execute(uri: "/api/regions", method: .post, headers: auth,
                                     body: ByteBuffer(string: #"{"clusters": 3, "maxMinutes": 12}"#)) { r in
                #expect(r.status == .ok)
                let o = try object(r)
                var req = RegionRequest()
                req.count = .exactly(3)
                req.maxMinutes = 12
                let lib = try RegionSetup(analysis: analysis, request: req).solve()
                #expect(o["assignments"] as? [String: String] == lib.assignments)
                #expect((o["search"] as! [String: Any])["proven"] as? Bool == true)
            }
            for bad in [#"{"clusters": 0}"#, #"{"clusters": 99}"#, #"{"maxClusters": true, "minPopulation": -1}"#, #"{"clusters": 2, "maxMinutes": 1e308}"#,
                        #"{"clusters": 2, "objective": "nej"}"#, #"{"clusters": 2, "seed": -1}"#, #"{}"#, #"{"clusters": 2, "maxClusters": true}"#,
                        #"{"clusters": 2, "require": ["svømmehal"]}"#, #"{"clusters": 2, "lock": 5}"#, #"[1]"#] {
                try await client.execute(uri: "/api/regions", method: .post, headers: auth, body: ByteBuffer(string: bad)) { r in
                    #expect(r.status == .badRequest, "\(bad): \(r.status)")
                }
            }
            try await client.execute(uri: "/api/regions", method: .post, headers: auth,
                                     body: ByteBuffer(string: #"{"clusters": 3, "maxMinutes": 4}"#)) { r in
                #expect(r.status == .unprocessableContent)
                #expect(String(buffer: r.body).contains("Langør"))
            }
            try await client.execute(uri: "/api/regions", method: .post, body: ByteBuffer(string: #"{"clusters": 3}"#)) { r in
                #expect(r.status == .unauthorized)
            }
            try await client.execute(uri: "/maps/overview.png?width=400&height=300", method: .get) { r in
                #expect(r.status == .ok && r.headers[.contentType] == "image/png")
                #expect(r.body.readableBytes > 1000 && r.body.getBytes(at: 1, length: 3) == Array("PNG".utf8))
            }
            try await client.execute(uri: "/maps/coverage.svg?category=hall&paper=A4", method: .get) { r in
                #expect(r.status == .ok && String(buffer: r.body).contains("<svg"))
            }
            for bad in ["/maps/..%2Fetc.png", "/maps/findes-ikke.png", "/maps/overview.gif", "/maps/overview.png?width=5&height=5"] {
                try await client.execute(uri: bad, method: .get) { r in #expect(r.status == .badRequest || r.status == .notFound, "\(bad)") }
            }
            try await client.execute(uri: "/api/openapi.json", method: .get) { r in
                let o = try object(r)
                #expect(o["openapi"] as? String == "3.0.3")
            }
        }
    }
}
