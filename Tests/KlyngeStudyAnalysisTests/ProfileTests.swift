import Foundation
import Testing
import KlyngeGeo
import KlyngeIngest
import KlyngeStudy
import KlyngeTestSupport
@testable import KlyngeStudyAnalysis

/// The data picture on the sample with fact layers written here: figures counted by hand per village, area,
/// cluster and study; a table joined by parish code; and bad fact layers refused with the layer and field named.
@Suite struct ProfileTests {
    /// The sample with `facts` appended; `points` is CSV in EPSG:25832 (x, y, n, v).
    func study(facts: String, points: String = "x,y,n,v\n", table: String = "sogn,boliger\n") throws -> (LoadResult, URL) {
        let folder = try TestSupport.temporaryFolder()
        let path = try TestSupport.sampleStudy(in: folder)
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = String(text[..<text.range(of: "\nfacts:")!.lowerBound]) + "\nfacts:\n" + facts
        try TestSupport.write(text, to: URL(fileURLWithPath: path))
        try TestSupport.write(points, to: folder.appendingPathComponent("p.csv"))
        try TestSupport.write(table, to: folder.appendingPathComponent("t.csv"))
        return (try StudyLoader().load(path: path), folder)
    }

    static let pointLayer = """
      - id: prove
        source: p.csv
        assume_crs: EPSG:25832
        open_options: [X_POSSIBLE_NAMES=x, Y_POSSIBLE_NAMES=y]
        fields: { n: n, v: v }
        measures:
          - { id: antal, aggregate: count }
          - { id: n_sum, aggregate: sum, field: n }
          - { id: n_snit, aggregate: mean, field: n }
          - { id: pr_1000, aggregate: per_1000 }
          - { id: andel, aggregate: share, field: n, of: v }
      - id: boliger
        source: t.csv
        fields: { boliger: boliger }
        join: { to: areas, key: sogn }
        measures:
          - { id: boliger, aggregate: sum, field: boliger }

    """

    @Test func figuresMatchAHandCount() throws {
        let base = try #require(try StudyLoader().load(path: TestSupport.data("samsoe/study.yaml")).study)
        let a = try #require(base.demand.first { $0.name == "Nordby" }), b = try #require(base.demand.first { $0.name == "Kolby" })
        // Two facts a metre from Nordby (one without n), one at Kolby.
        // And one far out in the Kattegat, 50 km away: left out with a warning, not refused.
        let points = "x,y,n,v\n\(a.location.x + 1),\(a.location.y),2,10\n\(a.location.x - 1),\(a.location.y),,20\n\(b.location.x),\(b.location.y + 1),5,5\n"
            + "\(a.location.x + 50_000),\(a.location.y),9,9\n"
        let (result, folder) = try study(facts: Self.pointLayer, points: points, table: "sogn,boliger\n07244,100\n7243,50\n")
        defer { try? FileManager.default.removeItem(at: folder) }
        let s = try #require(result.study, "\(result.report.issues)")
        #expect(!result.report.hasErrors, "\(result.report.issues)")
        #expect(result.report.issues.contains { $0.severity == .warning && $0.description.contains("1 feature(s) lie outside the study area") })
        let p = Profile(study: s)
        func row(_ level: Profile.Level, _ id: String) -> Profile.Row? { p.rows.first { $0.level == level && $0.id == id } }
        func v(_ r: Profile.Row?, _ key: String) -> Double?? { r?.values[key] }
        let na = try #require(row(.village, a.id))
        #expect(v(na, "prove.antal") == 2 && v(na, "prove.n_sum") == 2 && v(na, "prove.n_snit") == 2)
        #expect(v(na, "prove.pr_1000") == .some(2 / a.weight * 1000) && v(na, "prove.andel") == .some(2.0 / 30))
        let kb = try #require(row(.village, b.id))
        #expect(v(kb, "prove.antal") == 1 && v(kb, "prove.andel") == .some(1.0))
        // A village with no facts: a count of 0, no mean, no share.
        let other = try #require(p.rows.first { $0.level == .village && $0.id != a.id && $0.id != b.id })
        #expect(v(other, "prove.antal") == 0 && v(other, "prove.n_snit") == .some(nil) && v(other, "prove.andel") == .some(nil))
        // The joined table: by parish code ("07244" is 7244), with no village figures.
        #expect(v(row(.area, "7244"), "boliger.boliger") == 100 && v(row(.area, "7243"), "boliger.boliger") == 50)
        #expect(v(row(.area, "7240"), "boliger.boliger") == 0)
        #expect(v(na, "boliger.boliger") == .some(nil))
        // The study: every fact, every table row.
        let all = try #require(row(.study, "study"))
        #expect(v(all, "prove.antal") == 3 && v(all, "prove.n_sum") == 7 && v(all, "prove.n_snit") == 3.5 && v(all, "boliger.boliger") == 150)
        #expect(v(all, "prove.andel") == .some(7.0 / 35))
        // Clusters add their areas: Nordøen holds Nordby's parish (7244).
        #expect(v(row(.cluster, "Nordøen"), "prove.antal") == 2 && v(row(.cluster, "Sydøen"), "prove.antal") == 1)
        // The tables: one row per area with columns `<layer>_<measure>`, and every level for a CSV.
        let tables = p.tables(study: s)
        #expect(tables.map(\.name) == ["profile_areas", "profile_villages", "profile"])
        #expect(tables[2].features.count == p.rows.count && tables[0].fields.contains { $0.name == "prove_n_snit" })
    }

    @Test func badFactLayersNameTheLayerAndField() throws {
        let bad: [(String, String, String)] = [
            (Self.pointLayer.replacingOccurrences(of: "fields: { n: n, v: v }", with: "fields: { n: antal, v: v }"), "x,y,n,v\n600000,6190000,1,1\n", "antal"),
            (Self.pointLayer, "x,y,n,v\n600000,6190000,mange,1\n", "`mange` is not a number"),
            (Self.pointLayer.replacingOccurrences(of: "aggregate: count", with: "aggregate: median"), "x,y,n,v\n", "`median` is not an aggregation"),
            (Self.pointLayer.replacingOccurrences(of: "aggregate: sum, field: n }", with: "aggregate: sum, field: w }"), "x,y,n,v\n", "`w` is not one of the layer's `fields`"),
            (Self.pointLayer.replacingOccurrences(of: "join: { to: areas, key: sogn }", with: "join: { to: parishes, key: sogn }"), "x,y,n,v\n", "joins to `areas` or `villages`"),
        ]
        for (facts, points, words) in bad {
            do {
                let (result, folder) = try study(facts: facts, points: points, table: "sogn,boliger\n7244,1\n")
                defer { try? FileManager.default.removeItem(at: folder) }
                let said = result.report.issues.filter { $0.severity == .error }.map(\.description).joined(separator: "\n")
                #expect(result.report.hasErrors && said.contains(words), "\(words): \(said)")
                if words == "antal" || words.contains("mange") { #expect(said.contains("p.csv"), "\(said)") }
            } catch {
                #expect("\(error)".contains(words), "\(words): \(error)")
            }
        }
        // A table row whose code no parish has.
        let (result, folder) = try study(facts: Self.pointLayer, table: "sogn,boliger\n9999,1\n")
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(result.report.issues.contains { $0.severity == .error && $0.description.contains("9999") && $0.description.contains("no area of the study has this code") })
    }
}
