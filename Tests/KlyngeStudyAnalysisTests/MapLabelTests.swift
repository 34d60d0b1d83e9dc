import Foundation
import Testing
import KlyngeGeo
import KlyngeJobs
import KlyngeRender
import KlyngeStudy
import KlyngeTestSupport
@testable import KlyngeStudyAnalysis
@testable import KlyngeIngest

/// What a map names first: its subject (issue 13, defect 3). The category's facilities on a coverage map,
/// and the facilities a scenario changes, are labelled before the villages around them; parish names before
/// villages on the overview.
@Suite struct MapLabelTests {
    func render(_ styleName: String, scenario: String? = nil, paper: String = "A4", landscape: Bool = false, frame area: String? = nil) throws -> RenderReport {
        let study = try #require(try StudyLoader().load(path: TestSupport.data("samsoe/study.yaml")).study)
        let analysis = try StudyAnalysis(study: study, network: StudyNetwork(study: study))
        let style = try Style.load(styleName, stylesFolder: TestSupport.packageRoot.appendingPathComponent("styles"))
        let page = try #require(Page.paper(paper, landscape: landscape, dpi: 72))
        let extent = area.flatMap { id in study.areas.first { $0.id == id }?.geometry.envelope }
        let request = try MapMaker.request(study: study, analysis: analysis, style: style, category: "hall", scenario: scenario, page: page,
                                           kind: .pdf, language: "da", extent: extent)
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        return try MapRenderer.render(request, to: folder.appendingPathComponent("m.pdf").path)
    }

    @Test func theSubjectIsNamedFirst() throws {
        for (paper, landscape) in [("A5", false), ("A4", false), ("A3", true)] {
            let coverage = try render("coverage", paper: paper, landscape: landscape).labels.map(\.text)
            for hall in ["Sambiosen", "Medborgerhuset-Samsø", "Samsø Energiakademi"] {
                #expect(coverage.contains(hall), "\(paper): \(hall) missing from \(coverage)")
            }
            let scenario = try render("scenario", scenario: "Ét forsamlingshus i Tranebjerg", paper: paper, landscape: landscape).labels.map(\.text)
            // The merged hall that closes and the one put to other use are both named.
            #expect(scenario.contains("Sambiosen") && scenario.contains("Samsø Energiakademi"), "\(paper): \(scenario)")
            let overview = try render("overview", paper: paper, landscape: landscape).labels.map(\.text)
            for parish in ["NORDBY", "ONSBJERG", "KOLBY"] { #expect(overview.contains(parish), "\(paper): \(parish) missing from \(overview)") }
        }
    }

    /// One legend entry per cluster, and only for what the frame shows (issue 13, defect 10).
    @Test func theLegendListsWhatTheMapShows() throws {
        let all = try render("clusters").legend
        #expect(["Klynge Midtøen", "Klynge Nordøen", "Klynge Sydøen"].allSatisfy(all.contains), "\(all)")
        // Framed on Nordby parish in the north: Kolby's Sydøen is not on the map, so not in the legend.
        let north = try render("clusters", frame: "7244").legend
        #expect(north.contains("Klynge Nordøen") && !north.contains("Klynge Sydøen"), "\(north)")
    }
}
