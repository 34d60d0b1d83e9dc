import Foundation
import Testing
import KlyngeAnalysis
import KlyngeGeo
import KlyngeIngest
import KlyngeStudy
import KlyngeSurvey
import KlyngeTestSupport
@testable import KlyngeStudyAnalysis

/// The survey's answers in the analysis, on the sample: users affected by a scenario's closures counted by
/// hand, and the map's flows and pins.
@Suite struct SurveyAnalysisTests {
    static let sambiosen = "node/5938809867", medborgerhus = "way/413945490", energiakademi = "way/463402465"

    func setUp() throws -> (StudyAnalysis, SurveyCatalog, SurveyDefinition) {
        let study = try #require(try StudyLoader().load(path: TestSupport.data("samsoe/study.yaml")).study)
        let catalog = try SurveyCatalog.load(study)
        return (try StudyAnalysis(study: study), catalog, try #require(catalog.survey("samsoe-2027")))
    }

    func answers(_ survey: SurveyDefinition, _ places: SurveyPlaces, _ uses: [(home: String, hall: String?)]) throws -> [SurveyResponse] {
        let check = SubmissionCheck(survey: survey, places: places)
        return try uses.map { u in
            let hall = u.hall.map { #"{"facility": "\#($0)", "frequency": "weekly", "mode": "car"}"# } ?? #"{"facility": null}"#
            let body = #"{"consent": true, "age_confirmed": true, "answers": {"bopael": "\#(u.home)", "alder": "30-49", "forsamlingshus": \#(hall),"#
                + #" "steder": [{"lon": 10.6, "lat": 55.9, "kind": "wish", "text": "x"}]}}"#
            return try check.response(from: Data(body.utf8), id: SurveyResponse.newId(), receivedDay: "2027-01-12", source: .paper)
        }
    }

    @Test func usersAffectedAreTheUsersOfWhatTheScenarioCloses() throws {
        let (analysis, catalog, survey) = try setUp()
        let v = catalog.places.villages.map(\.id)
        let rs = try answers(survey, catalog.places, [(v[0], Self.sambiosen), (v[1], Self.sambiosen), (v[2], Self.sambiosen),
                                                      (v[3], Self.energiakademi), (v[4], Self.medborgerhus), (v[5], Self.medborgerhus), (v[6], nil)])
        // "Ét forsamlingshus i Tranebjerg": Sambiosen merged into the Medborgerhus, the Energiakademi no longer a hall.
        let scenario = try analysis.scenario(named: "Ét forsamlingshus i Tranebjerg")
        let u = UsersAffected.between(analysis.engine.baselinePlan, scenario.plan, survey: survey, responses: rs, analysis: analysis, categories: ["hall"])
        let hall = try #require(u.first { $0.question == "forsamlingshus" })
        #expect(hall.respondents == 6 && hall.affected == 4 && hall.share == 4.0 / 6)
        #expect(Set(hall.closed.map(\.id)) == [Self.sambiosen, Self.energiakademi])
        #expect(hall.closed.first { $0.id == Self.sambiosen }?.users == 3)
        // Nothing closes in the baseline against itself.
        let none = UsersAffected.between(analysis.engine.baselinePlan, analysis.engine.baselinePlan, survey: survey, responses: rs, analysis: analysis)
        #expect(none.allSatisfy { $0.affected == 0 && $0.closed.isEmpty })
        #expect(UsersAffected.users(of: "hall", survey: survey, responses: rs) == [Self.sambiosen: 3, Self.energiakademi: 1, Self.medborgerhus: 2])
    }

    @Test func flowsWithholdSmallCountsAndPinsNeedApproval() throws {
        let (analysis, catalog, survey) = try setUp()
        let v = catalog.places.villages.map(\.id)
        var rs = try answers(survey, catalog.places, Array(repeating: (v[0], Self.sambiosen), count: 5) + [(v[1], Self.medborgerhus)])
        // One web pin still pending: not on a map.
        if case .pins(var ps)? = rs[0].answers["steder"] { ps[0].status = .pending; rs[0].answers["steder"] = .pins(ps) }
        let input = SurveyMapInput(survey: survey, places: catalog.places, responses: rs)
        let layers = try MapData.surveyLayers(input, study: analysis.study, category: "hall", language: "da")
        let flows = try #require(layers["survey_flows"])
        #expect(flows.count == 2)
        let big = try #require(flows.first { $0["respondents"] == .int(5) })
        #expect(big["suppressed"] == .bool(false))
        let small = try #require(flows.first { $0["suppressed"] == .bool(true) })
        #expect(small["respondents"] == .null)
        // The flow runs from the village (working CRS) to the hall.
        let home = try #require(analysis.study.demand.first { $0.id == v[0] })
        let hall = try #require(analysis.study.facilities.first { $0.id == Self.sambiosen })
        guard case .lineString(let line)? = big.geometry else { Issue.record("not a line"); return }
        #expect(hypot(line[0].x - home.location.x, line[0].y - home.location.y) < 0.5)
        #expect(line[1] == hall.location)
        #expect(layers["survey_pins"]?.count == 5)
    }
}
