import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import KlyngeIngest
import KlyngeStore
import KlyngeStudyAnalysis
import KlyngeSurvey
import KlyngeTestSupport
@testable import KlyngeServer

/// The survey's routes in process: only the answer route is open without a token, administrator routes need
/// it even to read, unknown surveys are 404, and the page's files carry the strict policy.
@Suite(.serialized) struct SurveyServerTests {
    @Test func onlyTheAnswerRouteIsOpenWithoutAToken() async throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        try await fx.app.test(.router) { client in
            // Public: the page, its definition, approved pins; an answer is judged by the survey, not the token.
            try await client.execute(uri: "/survey/samsoe-2027/", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
                let cookie = r.headers[.setCookie] ?? ""
                #expect(cookie.hasPrefix("klynge_device_samsoe_2027=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "\(cookie)")
            }
            try await client.execute(uri: "/survey/samsoe-2027", method: .get) { r in
                #expect(r.status == .movedPermanently && r.headers[.location] == "/survey/samsoe-2027/")
            }
            try await client.execute(uri: "/survey/samsoe-2027/definition.json", method: .get) { r in
                let d = try object(r)
                #expect(["open", "not_yet_open", "closed"].contains(d["status"] as? String ?? ""))
                #expect((d["villages"] as? [Any])?.count == 28)
            }
            try await client.execute(uri: "/survey/samsoe-2027/pins", method: .get) { r in #expect(r.status == .ok) }
            try await client.execute(uri: "/survey/samsoe-2027/answers", method: .post, body: ByteBuffer(string: "{}")) { r in
                #expect(r.status != .unauthorized && r.status.code >= 400 && r.status.code < 500, "\(r.status)")
            }
            // Everything else that writes or reads results needs the token.
            for (uri, method) in [("/survey/samsoe-2027/close", HTTPRequest.Method.post), ("/survey/samsoe-2027/answers/x", .post),
                                  ("/survey/samsoe-2027/answers/abc", .delete), ("/survey/samsoe-2027/pins/a-b-1/approve", .post),
                                  ("/survey/samsoe-2027/results", .get), ("/survey/samsoe-2027/export?format=csv", .get)] {
                try await client.execute(uri: uri, method: method) { r in #expect(r.status == .unauthorized, "\(method) \(uri): \(r.status)") }
            }
            try await client.execute(uri: "/survey/samsoe-2027/results", method: .get, headers: auth) { r in
                #expect(r.status == .ok)
                let results = try object(r)
                #expect(results["respondents"] as? Int == 0)
            }
            try await client.execute(uri: "/survey/samsoe-2027/export?format=exe", method: .get, headers: auth) { r in #expect(r.status == .badRequest) }
            try await client.execute(uri: "/survey/samsoe-2027/pins/nonsense/approve", method: .post, headers: auth) { r in #expect(r.status == .badRequest) }
            try await client.execute(uri: "/survey/samsoe-2027/pins/abc-steder-1/approve", method: .post, headers: auth) { r in #expect(r.status == .notFound) }
            for uri in ["/survey/nope/", "/survey/%3Cscript%3E/", "/survey/samsoe-2027/admin/x"] {
                try await client.execute(uri: uri, method: .get) { r in #expect(r.status == .notFound, "\(uri)") }
            }
            for file in ["/app/survey.js", "/app/survey.css", "/app/survey-admin.js", "/survey/samsoe-2027/admin/"] {
                try await client.execute(uri: file, method: .get) { r in
                    #expect(r.status == .ok && r.headers[.contentSecurityPolicy] != nil, "\(file)")
                }
            }
        }
    }

    @Test func aReadOnlyServiceTakesNoAnswersAndShowsNoResults() async throws {
        let fx = try Fixture(token: nil)
        defer { fx.cleanup() }
        try await fx.app.test(.router) { client in
            try await client.execute(uri: "/survey/samsoe-2027/results", method: .get) { r in #expect(r.status == .forbidden) }
            // Not the respondent's fault: the service cannot write.
            try await client.execute(uri: "/survey/samsoe-2027/answers", method: .post, body: ByteBuffer(string: "{}")) { r in
                #expect(r.status == .serviceUnavailable, "\(r.status)")
                #expect(String(buffer: r.body).contains("started without a token"))
            }
        }
    }

    /// Behind a proxy on this machine the limit counts the address the proxy appended, not the proxy's own.
    @Test func theRateLimitCountsTheForwardedClientBehindALocalProxy() async throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        try await fx.app.test(.router) { client in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<21 {
                try await client.execute(uri: "/survey/samsoe-2027/answers", method: .post,
                                         headers: [FieldName("X-Forwarded-For")!: "10.0.0.1, 203.0.113.7"], body: ByteBuffer(string: "{}")) { r in
                    statuses.append(r.status)
                }
            }
            #expect(statuses.prefix(20).allSatisfy { $0 != .tooManyRequests } && statuses.last == .tooManyRequests, "\(statuses)")
            // Another client behind the same proxy (a spoofed first entry changes nothing for the first).
            try await client.execute(uri: "/survey/samsoe-2027/answers", method: .post,
                                     headers: [FieldName("X-Forwarded-For")!: "203.0.113.7, 198.51.100.1"], body: ByteBuffer(string: "{}")) { r in
                #expect(r.status != .tooManyRequests)
            }
        }
    }

    /// Users affected over HTTP: the respondents who use what a scenario closes, with the token only.
    @Test func compareReportsUsersAffectedWithTheToken() async throws {
        let folder = try TestSupport.temporaryFolder()
        let study = try #require(try StudyLoader().load(path: TestSupport.data("samsoe/study.yaml")).study)
        let catalog = try SurveyCatalog.load(study)
        let survey = try #require(catalog.survey("samsoe-2027"))
        let check = SubmissionCheck(survey: survey, places: catalog.places)
        // Paper answers: two use Sambiosen (merged away in the scenario), one the Medborgerhus (kept).
        let responses = try ["node/5938809867", "node/5938809867", "way/413945490"].map { hall in
            try check.response(from: Data(#"{"consent": true, "age_confirmed": true, "answers": {"bopael": "node/449179220", "alder": "30-49", "forsamlingshus": {"facility": "\#(hall)", "frequency": "weekly", "mode": "car"}}}"#.utf8),
                               id: SurveyResponse.newId(), receivedDay: "2027-01-12", source: .paper)
        }
        try SurveyStore(path: folder.appendingPathComponent("store.gpkg").path).saveAll(responses)
        let fx = try Fixture(folder: folder)
        defer { fx.cleanup() }
        let uri = "/api/compare?scenario=\("Ét forsamlingshus i Tranebjerg".addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed)!)&category=hall&survey=samsoe-2027"
        try await fx.app.test(.router) { client in
            try await client.execute(uri: uri, method: .get) { r in #expect(r.status == .unauthorized) }
            try await client.execute(uri: uri, method: .get, headers: auth) { r in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let body = try object(r)
                let users = try #require((body["usersAffected"] as? [[String: Any]])?.first)
                #expect(users["affected"] as? Int == 2 && users["respondents"] as? Int == 3, "\(users)")
                #expect(body["comparison"] != nil)
            }
            try await client.execute(uri: "/survey/samsoe-2027/results", method: .get, headers: auth) { r in
                let results = try object(r)
                #expect(results["respondents"] as? Int == 3 && results["paper"] as? Int == 3)
            }
            // Public, for the working group's page: three answers is below the minimum of five, so withheld.
            try await client.execute(uri: "/api/survey-use", method: .get) { r in
                let list = try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [[String: Any]] ?? []
                let hall = try #require(list.first { $0["category"] as? String == "hall" })
                let users = hall["users"] as? [String: Any] ?? [:]
                #expect(hall["respondents"] as? Int == 3 && users["node/5938809867"] is NSNull && users["way/413945490"] is NSNull, "\(hall)")
            }
        }
    }
}

/// The data picture over HTTP: the same as `Profile` in the library, and the areas as an OGC collection.
@Suite struct ProfileServerTests {
    @Test func theProfileIsServedAsJSONAndAsACollection() async throws {
        let fx = try Fixture()
        defer { fx.cleanup() }
        let expected = KlyngeStudyAnalysis.Profile(study: await fx.state.study)
        try await fx.app.test(.router) { client in
            try await client.execute(uri: "/api/profile", method: .get) { r in
                #expect(r.status == .ok)
                let body = try object(r)
                let rows = body["rows"] as? [[String: Any]] ?? []
                #expect(rows.count == expected.rows.count)
                let study = try #require(rows.first { $0["level"] as? String == "study" })
                #expect((study["values"] as? [String: Any])?["erhverv.antal"] as? Double == 64)
            }
            try await client.execute(uri: "/api/profile?lang=xx", method: .get) { r in #expect(r.status == .badRequest) }
            try await client.execute(uri: "/collections/profile/items", method: .get) { r in
                #expect(r.status == .ok)
                let features = (try object(r))["features"] as? [[String: Any]] ?? []
                #expect(features.count == 5)
                let counts = features.compactMap { ($0["properties"] as? [String: Any])?["erhverv_antal"] as? Double }
                #expect(counts.reduce(0, +) == 64)
            }
        }
    }
}
