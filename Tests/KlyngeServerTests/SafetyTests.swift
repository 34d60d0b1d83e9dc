import Foundation
import Hummingbird
import HummingbirdTesting
import KlyngeStudyAnalysis
import KlyngeIngest
import KlyngeJobs
import KlyngeIO
import KlyngeStore
import KlyngeStudy
import KlyngeTestSupport
import KlyngeWork
import KlyngeGeo
import Testing
@testable import KlyngeServer

func errorShape(_ r: TestResponse) -> Bool {
    guard let o = try? JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any],
          let e = o["error"] as? [String: Any], let m = e["message"] as? String, e["status"] as? Int == Int(r.status.code) else { return false }
    // Never a Swift type name in an answer.
    return !m.contains("DecodingError") && !m.contains("CodingKeys") && !m.contains("Swift.")
}

@Suite(.serialized) struct SafetyTests {
    /// Every route and parameter with random, extreme and non-finite numbers and huge or empty texts: the
    /// service answers each (a crash would end this test process), never with a 5xx, and every error in one
    /// JSON shape.
    @Test func fuzzEveryRouteAndParameter() async throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        let hostile = ["nan", "NaN", "inf", "-inf", "Infinity", "1e9", "-1e9", "1e309", "-0", "0", "-5", "9223372036854775807",
                       "-9223372036854775808", "99999999999999999999999", "0x10", "", " ", "1,2", ",,,", "|||", "%00", "%FF%FE",
                       "<img src=x onerror=alert(1)>", "../../etc/passwd", String(repeating: "x", count: 5000),
                       String(repeating: "9", count: 400), "true", "1.5", "2147483648", "1e-320", "∞", "١٢"]
        var rng = SplitMix64(seed: 2026)  // replayable
        func random() -> String {
            switch Int.random(in: 0..<5, using: &rng) {
            case 0: return String(Double.random(in: -1e12...1e12, using: &rng))
            case 1: return String(Int.random(in: Int.min...Int.max, using: &rng))
            case 2: return hostile.randomElement(using: &rng)!
            case 3: return "\(Double.random(in: -200...200, using: &rng)),\(Double.random(in: -100...100, using: &rng)),n"
            default: return String((0..<Int.random(in: 0..<40, using: &rng)).map { _ in "aZ9,.|%-_ æ<>\"'".randomElement(using: &rng)! })
            }
        }
        let routes: [(String, [String])] = [
            ("/collections/demand/items", ["limit", "offset", "bbox"]),
            ("/collections/roads/items", ["limit", "offset", "bbox"]),
            ("/collections/coverage/items", ["limit", "offset", "bbox"]),
            ("/api/coverage", ["scenario", "category", "close", "open", "points"]),
            ("/api/compare", ["scenario", "against", "category", "survey"]),
            ("/api/impact", ["category"]),
            ("/api/profile", ["lang"]),
            ("/maps/overview.png", ["paper", "landscape", "dpi", "width", "height", "lang", "scenario", "category"]),
            ("/maps/coverage.svg", ["paper", "landscape", "dpi", "width", "height", "lang", "scenario", "category"]),
            ("/maps/survey.png", ["width", "height", "category", "survey"]),
            ("/survey/samsoe-2027/results", ["language"]),
            ("/survey/samsoe-2027/export", ["format", "layer"]),
        ]
        var uris: [String] = []
        for (path, params) in routes {
            for p in params {
                for v in hostile + (0..<12).map({ _ in random() }) {
                    let encoded = v.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                    var uri = "\(path)?\(p)=\(encoded)"
                    // Maps at a small size, so the fuzzer tests the checks rather than the renderer's speed.
                    if path.hasPrefix("/maps"), !["width", "height", "paper"].contains(p) { uri += "&width=200&height=150" }
                    uris.append(uri)
                }
            }
        }
        #expect(uris.count > 600)
        let cases = uris
        try await fx.app.test(.router) { client in
            // With the token, so the administrator's routes are fuzzed too, not just refused.
            for uri in cases {
                try await client.execute(uri: uri, method: .get, headers: auth) { r in
                    #expect(r.status.code < 500, "\(uri) → \(r.status)")
                    if r.status.code >= 400 { #expect(errorShape(r), "\(uri): \(String(buffer: r.body))") }
                }
            }
            // Paths and bodies.
            for path in ["/collections/" + String(repeating: "a", count: 3000), "/collections/%00/items", "/collections/demand/items/%2e%2e",
                         "/api/scenarios/" + String(repeating: "z", count: 500), "/maps/" + String(repeating: "m", count: 200) + ".png",
                         "/maps/overview", "/maps/.png", "/maps/a.b.png", "/nowhere", "/app/../etc/passwd"] {
                try await client.execute(uri: path, method: .get) { r in
                    #expect(r.status.code >= 400 && r.status.code < 500 && errorShape(r), "\(path) → \(r.status)")
                }
            }
            let bodies = ["", "null", "[]", "{}", "{\"name\": 5}", "{\"name\": \"x\", \"close\": \"a\"}", "{\"name\": \"x\", \"open\": [{\"name\": \"y\"}]}",
                          "{\"name\": \"x\", \"open\": [{\"name\": \"y\", \"categories\": [\"hall\"], \"lonlat\": [1e308, 1e308]}]}",
                          "{\"name\": \"x\", \"open\": [{\"name\": \"y\", \"categories\": [\"hall\"], \"lonlat\": [10.57, 55.9], \"capacity\": -5}]}",
                          "{\"name\": \"x\", \"open\": [{\"name\": \"y\", \"categories\": [\"hall\"], \"xy\": [1e300, -1e300]}]}",
                          "{\"category\": \"hall\", \"objective\": \"median\", \"facilities\": -1}",
                          "{\"category\": \"hall\", \"objective\": \"coverage\", \"facilities\": 1, \"threshold\": 1e400}",
                          "{\"category\": \"hall\", \"objective\": \"coverage\", \"facilities\": 1, \"share\": -3}",
                          "{\"category\": \"hall\", \"objective\": \"nonsense\"}", "\u{0}\u{1}", String(repeating: "[", count: 3000)]
            for (path, method) in [("/api/scenarios", HTTPRequest.Method.post), ("/api/optimize", .post), ("/api/scenarios/x", .put),
                                   ("/survey/samsoe-2027/answers", .post), ("/api/regions/check", .post)] {
                for b in bodies {
                    try await client.execute(uri: path, method: method, headers: auth, body: ByteBuffer(string: b)) { r in
                        #expect(r.status.code >= 400 && r.status.code < 500 && errorShape(r), "\(method) \(path) \(b.prefix(60)) → \(r.status) \(String(buffer: r.body).prefix(200))")
                    }
                }
            }
            // Still answering.
            try await client.execute(uri: "/conformance", method: .get) { r in #expect(r.status == .ok) }
        }
    }

    /// The requests that ended the process before: each is a 400 naming the parameter.
    @Test func theReportedCrashesAreNamedErrors() async throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        try await fx.app.test(.router) { client in
            for (uri, parameter) in [("/collections/roads/items?offset=9223372036854775807", "offset"),
                                     ("/collections/roads/items?offset=9223372036854775800&limit=10", "offset"),
                                     ("/maps/coverage.png?dpi=nan", "dpi"), ("/maps/coverage.png?dpi=inf", "dpi"),
                                     ("/maps/coverage.png?width=800&height=600&dpi=0", "dpi"), ("/maps/coverage.png?dpi=-5", "dpi"),
                                     ("/maps/coverage.png?dpi=1e9&width=800&height=600", "dpi"),
                                     ("/maps/coverage.png?paper=A1&dpi=600", "dpi")] {
                try await client.execute(uri: uri, method: .get) { r in
                    #expect(r.status == .badRequest, "\(uri)")
                    let e = (try object(r))["error"] as! [String: Any]
                    #expect(e["parameter"] as? String == parameter, "\(uri): \(e)")
                }
            }
            // A large offset within range is an empty page, not an error.
            try await client.execute(uri: "/collections/demand/items?offset=1000000&limit=10", method: .get) { r in
                let o = try object(r)
                #expect(r.status == .ok && o["numberReturned"] as? Int == 0)
            }
            // The same invalid category gets the same answer everywhere.
            var statuses = Set<UInt>()
            for uri in ["/api/coverage?category=nope", "/api/compare?scenario=Multihus%20i%20Nordby&category=nope", "/api/impact?category=nope",
                        "/maps/coverage.png?category=nope&width=200&height=150"] {
                try await client.execute(uri: uri, method: .get) { r in statuses.insert(UInt(r.status.code)) }
            }
            #expect(statuses == [400])
        }
    }

    @Test func headersLinksAndHead() async throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        try await fx.app.test(.router) { client in
            try await client.execute(uri: "/app/", method: .get) { r in
                let csp = r.headers[.contentSecurityPolicy] ?? ""
                #expect(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"))
                #expect(r.headers[.xContentTypeOptions] == "nosniff" && r.headers[.contentType] == "text/html; charset=utf-8")
                let html = String(buffer: r.body)
                // No inline script or style: the policy would block it, and data never becomes markup.
                #expect(!html.contains("<script>") && !html.contains("<style") && !html.contains("style=") && html.contains("<script src=\"app.js\"></script>"))
            }
            try await client.execute(uri: "/app/app.js", method: .get) { r in
                #expect(r.headers[.contentType] == "text/javascript; charset=utf-8")
                let js = String(buffer: r.body)
                #expect(!js.contains("innerHTML") && !js.contains("outerHTML") && !js.contains("insertAdjacentHTML") && !js.contains("eval("))
            }
            try await client.execute(uri: "/app/app.css", method: .get) { r in #expect(r.headers[.contentType] == "text/css; charset=utf-8") }
            try await client.execute(uri: "/collections", method: .head) { r in
                #expect(r.status == .ok && r.body.readableBytes == 0)
            }
            try await client.execute(uri: "/nowhere", method: .get) { r in
                #expect(r.status == .notFound && errorShape(r) && r.headers[.contentSecurityPolicy] != nil)
            }
            // Links follow the client's Host, or a proxy's forwarded headers; never a wildcard address.
            try await client.execute(uri: "/", method: .get, headers: [FieldName("Host")!: "[::1]:8099"]) { r in
                let links = (try object(r))["links"] as! [[String: Any]]
                #expect(links.allSatisfy { ($0["href"] as! String).hasPrefix("http://[::1]:8099/") })
            }
            try await client.execute(uri: "/collections", method: .get,
                                     headers: [FieldName("Host")!: "127.0.0.1:1", FieldName("X-Forwarded-Proto")!: "https", FieldName("X-Forwarded-Host")!: "klynge.kommune.dk"]) { r in
                #expect(String(buffer: r.body).contains("https://klynge.kommune.dk/collections"))
            }
            try await client.execute(uri: "/", method: .get, headers: [FieldName("Host")!: "0.0.0.0:8080"]) { r in
                #expect(!String(buffer: r.body).contains("0.0.0.0"))
            }
        }
    }

    @Test func whatIfsSendOnlyChangedVillages() async throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        try await fx.app.test(.router) { client in
            func points(_ uri: String) async throws -> [[String: Any]] {
                try await client.execute(uri: uri, method: .get) { r in ((try object(r))["points"] as! [[String: Any]]) }
            }
            // Exactly the villages whose answer differs from today's, brute force over the full answers: without the
            // access figures (as the page asks), and with them (a closure moves the catchment ratio of more villages).
            func key(_ p: [String: Any]) -> String { "\(p["demandId"]!)" + "\((p["categories"] as! [[String: Any]])[0].sorted { $0.key < $1.key })" }
            var counts: [Int] = []
            for access in ["&access=none", ""] {
                let all = try await points("/api/coverage?category=hall&close=node/5938809867" + access)
                let base = try await points("/api/coverage?category=hall" + access)
                let changed = try await points("/api/coverage?category=hall&close=node/5938809867&points=changed" + access)
                let differing = zip(all, base).filter { key($0) != key($1) }.map { $0.0["demandId"] as! String }
                #expect(!differing.isEmpty && changed.map { $0["demandId"] as! String } == differing, "\(access)")
                #expect(all.allSatisfy { (($0["categories"] as! [[String: Any]])[0]["opportunities"] == nil) == (access != "") })
                counts.append(differing.count)
                if access != "" { #expect(differing.count < all.count) }
            }
            #expect(counts[0] <= counts[1])
            try await client.execute(uri: "/api/coverage?category=hall&points=some", method: .get) { r in #expect(r.status == .badRequest) }
            let many = (0..<30).map { "10.57,55.9\($0 % 10),p\($0)" }.joined(separator: "|")
            try await client.execute(uri: "/api/coverage?category=hall&open=\(many.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)", method: .get) { r in
                let e = (try object(r))["error"] as! [String: Any]
                #expect(r.status == .badRequest && e["parameter"] as? String == "open")
            }
        }
    }
}

/// The scenario API's correctness: caches follow content, ids are unique, ETags are never reused, one
/// writer per store, and a broken record never stops the service.
@Suite(.serialized) struct ScenarioStoreTests {
    func put(_ client: some TestClientProtocol, _ uri: String, _ body: String, ifMatch: String?) async throws -> (HTTPResponse.Status, String) {
        var h = auth
        if let ifMatch { h[.ifMatch] = ifMatch }
        return try await client.execute(uri: uri, method: .put, headers: h, body: ByteBuffer(string: body)) { r in (r.status, r.headers[.eTag] ?? "") }
    }

    @Test func collectionsFollowContentNotNames() async throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        try await fx.app.test(.router) { client in
            let etag = try await client.execute(uri: "/api/scenarios", method: .post, headers: auth, body: ByteBuffer(string: closeHall)) { r in
                r.headers[.eTag] ?? ""
            }
            func covered() async throws -> Int {
                try await client.execute(uri: "/collections/coverage-luk-sambiosen/items?limit=100", method: .get) { r in
                    ((try object(r))["features"] as! [[String: Any]]).filter { ($0["properties"] as! [String: Any])["hall_covered"] as? Bool == true }.count
                }
            }
            let before = try await covered()
            // Same name, more closed: the collection must change with it.
            let (status, _) = try await put(client, "/api/scenarios/luk-sambiosen",
                                            #"{"name": "Luk Sambiosen", "close": ["node/5938809867", "way/413945490", "way/463402465"]}"#, ifMatch: etag)
            #expect(status == .ok)
            let after = try await covered()
            #expect(after < before, "covered villages \(before) → \(after)")
        }
    }

    @Test func idsAreUniqueAcrossStudyAndSaved() async throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        try await fx.app.test(.router) { client in
            // "En skole" would take the id of the study's "Én skole".
            try await client.execute(uri: "/api/scenarios", method: .post, headers: auth,
                                     body: ByteBuffer(string: #"{"name": "En skole", "close": ["node/5938809867"]}"#)) { r in #expect(r.status == .conflict) }
            try await client.execute(uri: "/collections/coverage-en-skole", method: .get) { r in
                let o = try object(r)
                #expect(o["title"] as? String == "Coverage: Én skole")
            }
            try await client.execute(uri: "/api/scenarios", method: .post, headers: auth, body: ByteBuffer(string: closeHall)) { r in #expect(r.status == .created) }
            // Another saved scenario whose name slugs the same.
            try await client.execute(uri: "/api/scenarios", method: .post, headers: auth,
                                     body: ByteBuffer(string: #"{"name": "Luk  SAMBIOSEN!", "close": ["way/413945490"]}"#)) { r in #expect(r.status == .conflict) }
        }
    }

    @Test func etagsAreNeverReused() async throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        try await fx.app.test(.router) { client in
            let first = try await client.execute(uri: "/api/scenarios", method: .post, headers: auth, body: ByteBuffer(string: closeHall)) { r in r.headers[.eTag] ?? "" }
            var h = auth
            h[.ifMatch] = first
            try await client.execute(uri: "/api/scenarios/luk-sambiosen", method: .delete, headers: h) { r in #expect(r.status == .noContent) }
            let second = try await client.execute(uri: "/api/scenarios", method: .post, headers: auth, body: ByteBuffer(string: closeHall)) { r in r.headers[.eTag] ?? "" }
            #expect(first != second)
            let edit = #"{"name": "Luk Sambiosen", "close": ["way/413945490"]}"#
            // The old tag, a weak tag and garbage never match; `*` means "exists".
            for tag in [first, "W/" + second, "\"\"", "garbage"] {
                let (status, _) = try await put(client, "/api/scenarios/luk-sambiosen", edit, ifMatch: tag)
                #expect(status == .preconditionFailed, "\(tag)")
            }
            let (ok, third) = try await put(client, "/api/scenarios/luk-sambiosen", edit, ifMatch: "\"nope\", \(second)")
            #expect(ok == .ok && third != second && third != first)
            let (any, _) = try await put(client, "/api/scenarios/luk-sambiosen", edit, ifMatch: "*")
            #expect(any == .ok)
            let (missing, _) = try await put(client, "/api/scenarios/findes-ikke", edit, ifMatch: "*")
            #expect(missing == .notFound)
        }
    }

    @Test func oneWriterPerStore() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let study = try #require(try StudyLoader().load(path: TestSupport.data("samsoe/study.yaml")).study)
        let path = folder.appendingPathComponent("store.gpkg").path
        let first = try ServiceState(study: study, storePath: path, writable: true)
        #expect {
            _ = try ServiceState(study: study, storePath: path, writable: true)
        } throws: { error in
            "\(error)".contains("another klynge process") && "\(error)".contains("pid \(getpid())")
        }
        // A read-only service may start beside the writer; and the store file is not made by starting.
        _ = try ServiceState(study: study, storePath: path, writable: false)
        #expect(!FileManager.default.fileExists(atPath: path))
        withExtendedLifetime(first) {}
        // Once the writer is gone, another may start.
        _ = try ServiceState(study: study, storePath: folder.appendingPathComponent("other.gpkg").path, writable: true)
    }

    @Test func brokenRecordsAreListedNotFatal() async throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("store.gpkg").path
        do {
            // Written behind the service's back: a facility that is gone from the data, and a corrupt document.
            let store = ScenarioStore(path: path)
            try store.put(StudyFile.ScenarioSpec(name: "Gammel hal", close: ["way/999999"]))
            try GeoPackageRecordStore(path: path).put(id: "oedelagt", name: "Ødelagt", document: "{not json")
            try store.put(StudyFile.ScenarioSpec(name: "God", close: ["node/5938809867"]))
        }
        let fx = try Fixture(folder: folder)
        try await fx.app.test(.router) { client in
            let listing = try await client.execute(uri: "/api/scenarios", method: .get) { r in try object(r) }
            let saved = (listing["saved"] as! [[String: Any]]).map { $0["id"] as! String }
            let invalid = listing["invalid"] as! [[String: Any]]
            #expect(saved == ["god"])
            #expect(Set(invalid.map { $0["id"] as! String }) == ["gammel-hal", "oedelagt"])
            #expect(invalid.allSatisfy { !($0["reason"] as! String).isEmpty })
            #expect(invalid.first { $0["id"] as? String == "gammel-hal" }?["reason"] as? String ?? "" == "close: no facility has the id `way/999999`")
            try await client.execute(uri: "/api/coverage?scenario=gammel-hal", method: .get) { r in #expect(r.status == .unprocessableContent) }
            // It can be mended …
            let etag = try await client.execute(uri: "/api/scenarios/gammel-hal", method: .get) { r in r.headers[.eTag] ?? "" }
            let (status, _) = try await put(client, "/api/scenarios/gammel-hal", #"{"name": "Gammel hal", "close": ["way/413945490"]}"#, ifMatch: etag)
            #expect(status == .ok)
            try await client.execute(uri: "/api/coverage?scenario=gammel-hal&category=hall", method: .get) { r in #expect(r.status == .ok) }
            // … or deleted.
            try await client.execute(uri: "/api/scenarios/oedelagt", method: .delete, headers: auth) { r in #expect(r.status == .noContent) }
            let left = try await client.execute(uri: "/api/scenarios", method: .get) { r in (try object(r))["invalid"] as! [[String: Any]] }
            #expect(left.isEmpty)
        }
        fx.cleanup()
    }

    @Test func tokensFollowOneRule() {
        #expect(TokenRule.problem("   \t  ", source: "KLYNGE_TOKEN") != nil)
        #expect(TokenRule.problem("short", source: "KLYNGE_TOKEN") != nil)
        #expect(TokenRule.problem("has a space in it", source: "--token") != nil)
        #expect(TokenRule.problem("æøå-æøå-æøå-æøå", source: "--token") != nil)
        #expect(TokenRule.problem("hemmelig-token", source: "--token") == nil)
    }
}

/// The work pool sheds load and stops abandoned work.
@Suite struct WorkPoolTests {
    @Test func fullQueueAnswersBusyAndCancelledWorkStops() async throws {
        let pool = WorkPool(workers: 1, queueLimit: 0)
        let started = WorkControl()
        let slow = Task {
            try await pool.run(control: WorkControl(timeLimitSeconds: 30)) { control -> Int in
                started.cancel()  // tells the test the job runs
                var loops = 0
                while !control.isStopped { loops += 1; usleep(1000) }
                try control.check()
                return loops
            }
        }
        while !started.isStopped { try await Task.sleep(for: .milliseconds(5)) }
        await #expect(throws: ServiceError.self) {
            _ = try await pool.run(control: WorkControl(timeLimitSeconds: 5)) { _ in 1 }
        }
        // Cancelling the waiting task stops the running job (how fast is measured by `make load`, not here).
        slow.cancel()
        await #expect(throws: WorkStopped.cancelled) { _ = try await slow.value }
        // A time limit stops work the same way.
        await #expect(throws: WorkStopped.timedOut(limitSeconds: 0.1)) {
            _ = try await pool.run(control: WorkControl(timeLimitSeconds: 0.1)) { control -> Int in
                while !control.isStopped { usleep(1000) }
                try control.check()
                return 0
            }
        }
    }
}

/// The hand-written coverage JSON is the encoder's document.
@Suite struct CoverageJSONTests {
    @Test func jsonTextEqualsTheEncoder() throws {
        let study = try #require(try StudyLoader().load(path: TestSupport.data("samsoe/study.yaml")).study)
        let analysis = try StudyAnalysis(study: study)
        for (plan, name, cats) in [(analysis.engine.baselinePlan, nil as String?, nil as [String]?),
                                   (try analysis.scenario(named: "Én skole").plan, "Én skole", ["school", "hall"])] {
            let report = CoverageReport(analysis: analysis, plan: plan, scenario: name, categories: cats)
            let mine = try JSONSerialization.jsonObject(with: Data(try report.jsonText().utf8)) as! NSDictionary
            let theirs = try JSONSerialization.jsonObject(with: Data(try JSONText.encode(report).utf8)) as! NSDictionary
            #expect(mine == theirs)
            // Figures are rounded at the boundary: no Float noise such as 275.6282043457031.
            let long = try NSRegularExpression(pattern: #"[0-9]\.[0-9]{11,}"#)
            let text = try report.jsonText()
            #expect(long.numberOfMatches(in: text, range: NSRange(text.startIndex..., in: text)) == 0)
            #expect((mine["points"] as! [Any]).count == 28)
        }
    }
}
