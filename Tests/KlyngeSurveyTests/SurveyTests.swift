import Foundation
import Testing
import KlyngeGeo
import KlyngeStudy
@testable import KlyngeSurvey

/// A small survey over three villages and two halls, with hand-counted answers.
enum Fixture {
    static let yaml = """
    id: proeve
    title: { da: Prøve, en: Trial }
    introduction: Indledning
    consent: { da: Ja, en: "Yes" }
    privacy: { da: Anonymt, en: Anonymous }
    opens: 2027-01-11
    closes: 2027-01-31
    languages: [da, en]
    minimum_group_size: 3
    moderation: true
    blocks:
      - id: a
        title: A
        questions:
          - { id: home, type: home_village, required: true, text: Hjem }
          - id: age
            type: single
            text: Alder
            options:
              - { id: young, label: Ung }
              - { id: old, label: Gammel }
          - id: acts
            type: multiple
            max_choices: 2
            text: Aktiviteter
            options:
              - { id: eat, label: Spise }
              - { id: sport, label: Sport }
              - { id: talk, label: Tale }
          - { id: n, type: number, minimum: 1, maximum: 10, text: Antal }
          - { id: hall, type: facility_used, category: hall, text: Hus }
          - { id: why, type: short_text, max_length: 20, text: Hvorfor, show_if: { question: age, equals: old } }
          - { id: pins, type: place_pins, max_pins: 2, text: Steder }
    """

    static func survey() throws -> SurveyDefinition { try SurveyFile.parse(yaml: yaml, file: "proeve.yaml") }

    static let places: SurveyPlaces = {
        var p = SurveyPlaces(
            villageSource: .demand,
            villages: [
                .init(id: "v1", name: "Alby", lon: 10.0, lat: 56.0, areaId: "a1", cluster: "Nord"),
                .init(id: "v2", name: "Bby", lon: 10.1, lat: 56.0, areaId: "a1", cluster: "Nord"),
                .init(id: "v3", name: "Cby", lon: 10.2, lat: 56.1, areaId: "a2", cluster: "Syd"),
            ],
            facilities: ["hall": [.init(id: "h1", name: "Hus 1", lon: 10.0, lat: 56.0), .init(id: "h2", name: "Hus 2", lon: 10.2, lat: 56.1)]],
            categories: [Category(key: "hall", labelDa: "Forsamlingshus", labelEn: "Hall")],
            west: 9.9, south: 55.9, east: 10.3, north: 56.2)
        p.areas = [.init(id: "a1", name: "Nordsogn", cluster: "Nord"), .init(id: "a2", name: "Sydsogn", cluster: "Syd")]
        return p
    }()

    static func submit(_ json: String, source: ResponseSource = .web) throws(SubmissionProblem) -> SurveyResponse {
        try SubmissionCheck(survey: try! survey(), places: places).response(from: Data(json.utf8), id: SurveyResponse.newId(),
                                                                            receivedDay: "2027-01-12", source: source)
    }
}

@Suite struct SurveyDefinitionTests {
    @Test func theFixtureReads() throws {
        let s = try Fixture.survey()
        #expect(s.questions.map(\.id) == ["home", "age", "acts", "n", "hall", "why", "pins"])
        #expect(s.minimumGroupSize == 3 && s.moderation && s.onePerDevice && s.minimumAge == 16)
        #expect(s.questions[5].showIf == SurveyCondition(question: "age", values: ["old"]))
        // Dates are whole days in Copenhagen: opens at local midnight, closes after the last day.
        let iso = ISO8601DateFormatter()
        #expect(iso.string(from: s.opens) == "2027-01-10T23:00:00Z")
        #expect(iso.string(from: s.closes) == "2027-01-31T23:00:00Z")
        #expect(s.isOpen(at: iso.date(from: "2027-01-31T22:59:59Z")!) && !s.isOpen(at: iso.date(from: "2027-01-31T23:00:00Z")!))
        #expect(!s.isOpen(at: iso.date(from: "2027-01-20T12:00:00Z")!, closedEarlyAt: iso.date(from: "2027-01-15T00:00:00Z")!))
    }

    /// A survey closing on the day summer time begins closes at that day's local midnight (22:00 UTC), not an
    /// hour later.
    @Test func aClosingDayEndsAtLocalMidnightAcrossAClockChange() throws {
        let s = try SurveyFile.parse(yaml: Fixture.yaml.replacingOccurrences(of: "closes: 2027-01-31", with: "closes: 2027-03-28"), file: "x.yaml")
        #expect(ISO8601DateFormatter().string(from: s.closes) == "2027-03-28T22:00:00Z")
        let autumn = try SurveyFile.parse(yaml: Fixture.yaml.replacingOccurrences(of: "closes: 2027-01-31", with: "closes: 2027-10-31"), file: "x.yaml")
        #expect(ISO8601DateFormatter().string(from: autumn.closes) == "2027-10-31T23:00:00Z")
    }

    /// Each bad definition is refused with the question named and the reason in words.
    @Test(arguments: [
        ("type: single\n", "type: singel\n", "unknown question type `singel`"),
        ("id: why,", "id: age,", "the question id `age` is used twice"),
        ("show_if: { question: age, equals: old }", "show_if: { question: nope, equals: old }", "`nope`, which is not asked before this one"),
        ("show_if: { question: age, equals: old }", "show_if: { question: pins, equals: old }", "`pins`, which is not asked before this one"),
        ("show_if: { question: age, equals: old }", "show_if: { question: n, equals: old }", "a condition needs a single or multiple choice question"),
        ("show_if: { question: age, equals: old }", "show_if: { question: age, equals: ancient }", "`ancient` is not an option of `age`"),
        ("closes: 2027-01-31", "closes: 2027-01-01", "the survey closes before it opens"),
        ("max_choices: 2", "max_choise: 2", "unknown key `max_choise`"),
        ("{ id: eat, label: Spise }", "{ id: Eat!, label: Spise }", "is not a usable id"),
        ("minimum_group_size: 3", "minimum_group_size: 0", "must be from 1 to 1000"),
        ("{ id: n, type: number, minimum: 1, maximum: 10", "{ id: n, type: number, minimum: 10, maximum: 1", "must be larger than `minimum`"),
        ("consent: { da: Ja, en: \"Yes\" }", "consent: Ja", "`consent` needs an `en` text"),
    ])
    func badDefinitionsAreNamed(_ edit: (String, String, String)) throws {
        let yaml = Fixture.yaml.replacingOccurrences(of: edit.0, with: edit.1)
        #expect(yaml != Fixture.yaml, "the edit \(edit.0) did not apply")
        do {
            _ = try SurveyFile.parse(yaml: yaml, file: "proeve.yaml")
            Issue.record("accepted: \(edit.1)")
        } catch let e as SurveyDefinitionError {
            #expect(e.description.contains(edit.2), "\(e)")
            #expect(e.description.hasPrefix("proeve.yaml"), "\(e)")
        }
    }

    @Test func anUnknownCategoryIsNamed() throws {
        let p = try Fixture.survey().problems(categories: ["school"], hasVillages: true)
        #expect(p == ["survey `proeve`, question `hall`: the study has no facility category `hall` (categories: school)"])
        #expect(try Fixture.survey().problems(categories: ["hall"], hasVillages: true).isEmpty)
    }

    @Test func aSecondHomeQuestionIsRefused() throws {
        let yaml = Fixture.yaml.replacingOccurrences(of: "{ id: n, type: number, minimum: 1, maximum: 10, text: Antal }",
                                                     with: "{ id: home2, type: home_village, text: Igen }")
        #expect(throws: SurveyDefinitionError.self) { try SurveyFile.parse(yaml: yaml, file: "x.yaml") }
    }
}

@Suite struct SubmissionTests {
    let ok = #"{"consent": true, "age_confirmed": true, "answers": {"home": "v1"}}"#

    @Test func aFullAnswerIsTyped() throws {
        let r = try Fixture.submit(#"""
        {"language": "en", "consent": true, "age_confirmed": true, "answers": {"home": "v2", "age": "old", "acts": ["talk", "eat"], "n": 3,
         "hall": {"facility": "h1", "frequency": "weekly", "mode": "bike"}, "why": "  <b>fordi</b>  ",
         "pins": [{"lon": 10.123456789, "lat": 56.05, "kind": "wish", "text": "<script>x</script>"}]}}
        """#)
        #expect(r.language == .en && r.homeVillage == "v2" && r.source == .web && r.receivedDay == "2027-01-12")
        #expect(r.answers["age"] == .choice("old"))
        // Choices in the definition's order, whatever order they were sent in.
        #expect(r.answers["acts"] == .choices(["eat", "talk"]))
        #expect(r.answers["n"] == .number(3))
        #expect(r.answers["hall"] == .facilityUse(FacilityUse(facility: "h1", frequency: .weekly, mode: .bike)))
        // Text kept as written (trimmed), to be escaped wherever shown.
        #expect(r.answers["why"] == .text("<b>fordi</b>"))
        // Pins to about a metre, pending moderation.
        #expect(r.answers["pins"] == .pins([PlacePin(lon: 10.12346, lat: 56.05, kind: .wish, text: "<script>x</script>", status: .pending)]))
    }

    @Test func paperAnswersNeedNoModeration() throws {
        let r = try Fixture.submit(#"{"consent": true, "age_confirmed": true, "answers": {"home": "v1", "pins": [{"lon": 10, "lat": 56, "kind": "problem"}]}}"#,
                                   source: .paper)
        #expect(r.answers["pins"] == .pins([PlacePin(lon: 10, lat: 56, kind: .problem, text: "", status: .approved)]))
    }

    @Test(arguments: [
        (#""nope": 1"#, "nope", "the survey has no such question"),
        (#""age": "ancient""#, "age", "is not one of its options"),
        (#""acts": ["eat", "sport", "talk"]"#, "acts", "at most 2 choices"),
        (#""acts": ["eat", "eat"]"#, "acts", "names `eat` twice"),
        (#""n": 11"#, "n", "from 1 to 10"),
        (#""n": 2.5"#, "n", "whole number"),
        (#""n": "3""#, "n", "should be a number"),
        (#""why": "x""#, "why", "is not asked with the answer given to `age`"),
        (#""age": "old", "why": "abcdefghijklmnopqrstuvwxyz""#, "why", "longer than 20 characters"),
        (#""age": "old", "why": "a\u0007b""#, "why", "control characters"),
        (#""hall": {"facility": "h9", "frequency": "weekly", "mode": "car"}"#, "hall", "not a facility of the category `hall`"),
        (#""hall": {"facility": "h1"}"#, "hall", "needs `frequency`"),
        (#""hall": {"facility": null, "mode": "car"}"#, "hall", "but no facility"),
        (#""hall": {"facility": "h1", "frequency": "weekly", "mode": "rocket"}"#, "hall", "`mode` must be one of"),
        (#""pins": [{"lon": 12, "lat": 56, "kind": "wish"}]"#, "pins", "outside the study's area"),
        (#""pins": [{"lon": 10, "lat": 56, "kind": "party"}]"#, "pins", "`kind` must be one of"),
        (#""pins": [{"lon": 10, "lat": 56, "kind": "wish"}, {"lon": 10, "lat": 56, "kind": "wish"}, {"lon": 10, "lat": 56, "kind": "wish"}]"#, "pins", "at most 2 pins"),
    ])
    func badAnswersAreNamed(_ c: (String, String, String)) throws {
        let body = ok.replacingOccurrences(of: #""home": "v1""#, with: #""home": "v1", "# + c.0)
        do {
            _ = try Fixture.submit(body)
            Issue.record("accepted: \(c.0)")
        } catch {
            #expect(error.question == c.1, "\(error)")
            #expect(error.message.contains(c.2), "\(error)")
        }
    }

    @Test func consentAgeAndTheRequiredQuestionAreNeeded() {
        for (body, words) in [(#"{"consent": false, "age_confirmed": true, "answers": {"home": "v1"}}"#, "consent"),
                              (#"{"consent": true, "answers": {"home": "v1"}}"#, "aged 16"),
                              (#"{"consent": true, "age_confirmed": true, "answers": {}}"#, "must be answered"),
                              (#"{"consent": true, "age_confirmed": true, "answers": {"home": "v9"}}"#, "not one of the study's villages"),
                              (#"{"consent": true, "age_confirmed": true, "answers": {"home": "v1"}, "extra": 1}"#, "unknown key `extra`"),
                              (#"[1, 2]"#, "JSON object"), ("not json", "not valid JSON"),
                              (String(repeating: "[", count: 100) + String(repeating: "]", count: 100), "nested deeper")] {
            #expect(throws: SubmissionProblem.self) { try Fixture.submit(body) }
            do { _ = try Fixture.submit(body) } catch { #expect(error.description.contains(words), "\(body): \(error)") }
        }
    }
}

@Suite struct SurveyResultsTests {
    /// Seven answers counted by hand: villages v1 ×4, v2 ×2, v3 ×1 with a minimum group of 3.
    @Test func talliesMatchAHandCount() throws {
        let bodies = [
            #""home": "v1", "age": "young", "acts": ["eat"], "n": 2, "hall": {"facility": "h1", "frequency": "daily", "mode": "walk"}"#,
            #""home": "v1", "age": "young", "acts": ["eat", "sport"], "n": 4, "hall": {"facility": "h1", "frequency": "weekly", "mode": "car"}"#,
            #""home": "v1", "age": "old", "why": "tæt på", "hall": {"facility": "h2", "frequency": "weekly", "mode": "car"}"#,
            #""home": "v1", "acts": ["talk"], "hall": {"facility": null}"#,
            #""home": "v2", "age": "old", "n": 1, "hall": {"facility": "h1", "frequency": "monthly", "mode": "bike"}"#,
            #""home": "v2", "age": "young", "pins": [{"lon": 10.05, "lat": 56.0, "kind": "wish", "text": "en bænk"}]"#,
            #""home": "v3", "acts": ["eat"], "hall": {"facility": "h2", "frequency": "daily", "mode": "car"}"#,
        ]
        let responses = try bodies.map { try Fixture.submit(#"{"consent": true, "age_confirmed": true, "answers": {"# + $0 + "}}") }
        let r = SurveyResults(survey: try Fixture.survey(), places: Fixture.places, responses: responses, language: .da, includeTexts: true)
        #expect(r.respondents == 7 && r.web == 7 && r.paper == 0 && r.noVillage == 0)
        #expect(r.byVillage.map(\.respondents) == [4, nil, nil])
        #expect(r.byVillage.map(\.suppressed) == [false, true, true])
        #expect(r.byArea.map(\.respondents) == [6, nil] && r.byArea[1].suppressed)
        #expect(r.byCluster.map(\.id) == ["Nord", "Syd"] && r.byCluster.map(\.respondents) == [6, nil])
        let q = Dictionary(uniqueKeysWithValues: r.blocks[0].questions.map { ($0.id, $0) })
        #expect(q["age"]?.options?.map(\.count) == [3, 2] && q["age"]?.answered == 5)
        #expect(q["acts"]?.options?.map(\.count) == [3, 1, 1])
        #expect(q["n"]?.number == NumberSummary(count: 3, mean: 7.0 / 3, median: 2, minimum: 1, maximum: 4))
        #expect(q["why"]?.texts == ["tæt på"])
        let use = try #require(r.facilityUse.first)
        #expect(use.answered == 6 && use.usingNone == 1)
        #expect(use.facilities.map(\.users) == [3, 2])
        #expect(use.modes.first { $0.id == "car" }?.count == 3 && use.modes.first { $0.id == "car" }?.share == 0.6)
        // Hus 1's users come from v1 (2, suppressed) and v2 (1, suppressed).
        let allSuppressed = use.facilities[0].villages.allSatisfy { $0.suppressed }
        #expect(allSuppressed)
        // The pin is pending: in the administrator's view only.
        #expect(r.pins.count == 1 && r.pins[0].status == .pending)
        let publicView = SurveyResults(survey: try Fixture.survey(), places: Fixture.places, responses: responses, language: .da, includeTexts: false)
        #expect(publicView.pins.isEmpty)
        #expect(q["why"]?.texts != nil && publicView.blocks[0].questions[5].texts == nil)
    }

    /// The public per-facility counts withhold small groups: 3 users shown, 2 withheld, with a minimum of 3.
    @Test func publicFacilityUseWithholdsSmallCounts() throws {
        let bodies = [#""home": "v1", "hall": {"facility": "h1", "frequency": "daily", "mode": "walk"}"#,
                      #""home": "v2", "hall": {"facility": "h1", "frequency": "daily", "mode": "walk"}"#,
                      #""home": "v3", "hall": {"facility": "h1", "frequency": "daily", "mode": "walk"}"#,
                      #""home": "v1", "hall": {"facility": "h2", "frequency": "daily", "mode": "car"}"#,
                      #""home": "v1", "hall": {"facility": "h2", "frequency": "daily", "mode": "car"}"#,
                      #""home": "v1", "hall": {"facility": null}"#]
        let responses = try bodies.map { try Fixture.submit(#"{"consent": true, "age_confirmed": true, "answers": {"# + $0 + "}}") }
        let use = try #require(PublicFacilityUse.of(survey: try Fixture.survey(), responses: responses, language: .da).first)
        #expect(use.category == "hall" && use.respondents == 5)
        let expected: [String: Int?] = ["h1": 3, "h2": nil]
        #expect(use.users == expected)
        let json = String(decoding: try JSONEncoder().encode(use), as: UTF8.self)
        #expect(json.contains(#""h2":null"#) && json.contains(#""h1":3"#), "\(json)")
    }

    @Test func theExportIsFlatWithOneRowPerResponse() throws {
        let r = try Fixture.submit(#"{"consent": true, "age_confirmed": true, "answers": {"home": "v3", "acts": ["eat", "talk"], "hall": {"facility": "h2", "frequency": "daily", "mode": "car"}, "pins": [{"lon": 10.2, "lat": 56.1, "kind": "problem", "text": "hul i vejen"}]}}"#)
        let t = SurveyExport.responses(survey: try Fixture.survey(), places: Fixture.places, responses: [r])
        let f = try #require(t.features.first)
        #expect(f.geometry == .point(Coordinate(x: 10.2, y: 56.1)))
        #expect(f["village"] == .string("Cby") && f["cluster"] == .string("Syd") && f["acts"] == .string("eat;talk"))
        #expect(f["hall_facility"] == .string("h2") && f["hall_mode"] == .string("car") && f["pins_pins"] == .int(1))
        let pins = SurveyExport.pins(survey: try Fixture.survey(), responses: [r])
        #expect(pins.features.count == 1 && pins.features[0]["text"] == .string("hul i vejen") && pins.features[0]["status"] == .string("pending"))
    }
}
