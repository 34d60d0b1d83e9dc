import Foundation
import Testing
import KlyngeAnalysis
import KlyngeGeo
import KlyngeStudy
import KlyngeTestSupport
@testable import KlyngeStudyAnalysis
@testable import KlyngeIngest
import KlyngeJobs

/// Outputs a planner can trust at a glance: nobody dropped silently, every definition stated.
@Suite struct OutputTrustTests {
    static func sample() throws -> Study {
        try #require(try StudyLoader().load(path: TestSupport.data("samsoe/study.yaml")).study)
    }

    @Test func everyAreaIsListedWithItsPopulations() throws {
        var study = try Self.sample()
        // An area with no village (a copy of a parish under another id), and one whose own population disagrees.
        var empty = study.areas[0]
        empty.id = "9999"
        empty.name = "Ingen byer"
        empty.population = 12
        study.areas.append(empty)
        let i = try #require(study.areas.firstIndex { $0.id == "7240" })
        study.areas[i].population = 174
        let analysis = try StudyAnalysis(study: study)
        let report = CoverageReport(analysis: analysis, plan: analysis.engine.baselinePlan, scenario: nil)
        #expect(report.areas.count == 6)
        let row = try #require(report.areas.first { $0.areaId == "9999" })
        #expect(row.villages == 0 && row.population == 0 && row.populationInAreaLayer == 12 && row.categories.isEmpty)
        let tranebjerg = try #require(report.areas.first { $0.areaId == "7240" })
        #expect(tranebjerg.population == 1424 && tranebjerg.populationInAreaLayer == 174)
        #expect(report.notes.count == 2)
        #expect(report.notes.contains { $0.contains("7240") && $0.contains("174") && $0.contains("1424") })
        // The same rows reach the map file.
        let areaTable = report.tables(study: study)[0]
        #expect(areaTable.features.count == 6)
        // And the JSON.
        let json = try JSONSerialization.jsonObject(with: Data(try report.jsonText().utf8)) as! [String: Any]
        #expect((json["areas"] as! [Any]).count == 6 && (json["notes"] as! [Any]).count == 2)
    }

    @Test func unreachablePeopleAreCountedApartFromTheFarAway() throws {
        var study = try Self.sample()
        // A village far out at sea that no road reaches, and a doctor nobody has.
        study.demand.append(DemandPoint(id: "hav", name: "Havet", location: Coordinate(x: 580_000, y: 6_190_000), weight: 50, areaId: "7240"))
        let analysis = try StudyAnalysis(study: study)
        let s = try #require(CoverageReport(analysis: analysis, plan: analysis.engine.baselinePlan, scenario: nil).categories.first { $0.category == "hall" })
        #expect(s.populationUnreachable == 50 && s.pointsUnreachable == 1)
        #expect(s.populationBeyond == s.populationBeyondReachable + 50)
        // Coverage by hand: covered + reachable beyond + unreachable = everyone.
        #expect(abs(s.coveredPopulation + s.populationBeyondReachable + s.populationUnreachable - s.population) < 1e-9)
        #expect(s.max == nil && s.worstServedName == "Havet")
        let worst = try #require(s.maxReachable)
        #expect(worst.isFinite && worst > 0 && s.worstReachableName != "Havet")
        // The summary states both kinds in words, in Danish and English.
        let report = CoverageReport(analysis: analysis, plan: analysis.engine.baselinePlan, scenario: nil)
        let da = SummaryWriter(language: "da").write(study: study, baseline: report, comparisons: [], impacts: [], clusters: nil)
        let en = SummaryWriter(language: "en").write(study: study, baseline: report, comparisons: [], impacts: [], clusters: nil)
        #expect(da.contains("50 i 1 byer når ingen ad vejene") && da.contains("længst (blandt dem, der når frem)"))
        #expect(en.contains("50 in 1 villages reach none by road") && en.contains("farthest (of those who reach one)"))
    }

    @Test func anAmbiguousPlaceNameIsRefusedWithTheCandidates() throws {
        var study = try Self.sample()
        let nordby = try #require(study.demand.first { $0.name == "Nordby" })
        study.demand.append(DemandPoint(id: "node/twin", name: "Nordby", location: nordby.location, weight: 1, areaId: nordby.areaId))
        let spec = try #require(study.scenarios.first { $0.name == "Multihus i Nordby" })
        let network = try StudyNetwork(study: study)
        let problem = try #require(StudyAnalysis.problem(with: spec, study: study, network: network))
        #expect(problem.contains("names 2 places") && problem.contains(nordby.id) && problem.contains("node/twin"), "\(problem)")
        // By id, it is one place again.
        var byId = spec
        byId.open![0].at = nordby.id
        #expect(StudyAnalysis.problem(with: byId, study: study, network: network) == nil)
    }
}
