import Foundation
import Testing
import KlyngeGEOS
import KlyngeGeo
import KlyngeNetwork
import KlyngeStudy
import KlyngeTestSupport
@testable import KlyngeStudyAnalysis
@testable import KlyngeIngest
import KlyngeJobs

@Suite struct SamsoeNetworkTests {
    static func loadStudy() throws -> Study {
        let r = try StudyLoader().load(path: TestSupport.data("samsoe/study.yaml"))
        return try #require(r.study)
    }

    @Test func everyPointOfTheSampleAttaches() throws {
        let study = try Self.loadStudy()
        let network = try StudyNetwork(study: study)
        for mode in [TravelMode.car, .walk, .distance] {
            let records = SnapReport.study(study, snapper: network.snapper(mode), suspiciousMeters: network.suspiciousSnapMeters)
            #expect(records.count == 55)
            #expect(records.allSatisfy { $0.snap != nil }, "\(mode): \(records.filter { $0.snap == nil }.map(\.id))")
            #expect(records.allSatisfy { ($0.snap?.distanceMeters ?? 0) < 250 })
        }
    }

    @Test func sampleMatrixIsCompleteAndPlausible() throws {
        let study = try Self.loadStudy()
        let network = try StudyNetwork(study: study)
        let snapper = network.snapper(.car)
        let o = study.demand.map { try? snapper.snap($0.location).get() }
        let d = study.facilities.map { try? snapper.snap($0.location).get() }
        var entries: [MatrixEntry] = []
        let summary = try MatrixEngine(graph: snapper.graph).compute(origins: o, destinations: d) { entries += $0 }
        #expect(entries.count == 28 * 27 && summary.unreachablePairs == 0)
        for e in entries {
            let c = try #require(e.cost)
            // Never shorter than the straight line; no car trip on Samsø takes over an hour.
            let a = study.demand[e.origin].location, b = study.facilities[e.destination].location
            #expect(c.meters >= ((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y)).squareRoot() - 1e-6)
            #expect(c.cost > 0 && c.cost < 3600)
            // No faster than the top speed allowed.
            #expect(c.meters / c.cost <= 130 / 3.6 + 1e-9)
        }
    }

    @Test func isochronesAgreeWithTheMatrixOnTheSample() throws {
        let study = try Self.loadStudy()
        let network = try StudyNetwork(study: study)
        let graph = network.graph(.car)
        let snapper = Snapper(graph: graph, options: network.snapOptions)
        let halls = study.facilities.filter { $0.categories.contains("hall") }
        let hallSnaps = halls.compactMap { try? snapper.snap($0.location).get() }
        let demandSnaps = study.demand.map { try? snapper.snap($0.location).get() }
        var best = [Double](repeating: .infinity, count: study.demand.count)
        _ = try MatrixEngine(graph: graph).compute(origins: demandSnaps, destinations: hallSnaps) { entries in
            for e in entries { if let c = e.cost { best[e.origin] = min(best[e.origin], c.cost) } }
        }
        let budgets = [300.0, 600.0]
        let lines = graph.reachableLines(toward: hallSnaps, budgets: budgets, query: PathQuery(graph: graph))
        let polygons = try Isochrones.build(study: study, network: network, request: .init(
            mode: .car, budgets: budgets, category: "hall", union: true, bufferMeters: 100))
        let geos = try GEOSContext()
        for (bi, budget) in budgets.enumerated() {
            let area = try #require(polygons.table.features.first { $0["minutes"] == .double(budget / 60) }?.geometry)
            #expect(try geos.validity(area).isValid)
            let prepared = try PreparedGeometry(area, context: geos)
            let reach = try PreparedGeometry(.multiLineString(lines[bi]), context: geos)
            for (i, s) in demandSnaps.enumerated() {
                let s = try #require(s)
                let network = best[i] - graph.legCost(s)
                let onLines = try reach.distance(to: s.point) < 0.01
                if network <= budget - 1e-6 {
                    #expect(onLines, "\(study.demand[i].name): \(best[i]) s but its road is not in the \(budget) s area")
                    // The point itself is inside the polygon, or no farther from it than its own off-network leg.
                    #expect(try prepared.distance(to: study.demand[i].location) <= s.distanceMeters + 1e-6)
                }
                if onLines { #expect(network <= budget + 1e-6, "\(study.demand[i].name) on the area's roads but \(best[i]) s") }
            }
        }
    }
}

extension SamsoeNetworkTests {
    /// A km rule on a timed mode (3 km by bike): the bands are metres along the bike's fastest routes, as the
    /// matrix measures them, never seconds (issue 13, defect 1: they used to be 50/100/150-minute areas).
    @Test func kmBandsFollowTheMatrixMetres() throws {
        var study = try Self.loadStudy()
        study.coverage["hall"] = StudyFile.CoverageRule(km: 3, mode: "bike")
        let network = try StudyNetwork(study: study)
        let graph = network.graph(.bike)
        let snapper = Snapper(graph: graph, options: network.snapOptions)
        let halls = study.facilities.filter { $0.categories.contains("hall") }.compactMap { try? snapper.snap($0.location).get() }
        let villages = study.demand.map { try? snapper.snap($0.location).get() }
        var best = [Double](repeating: .infinity, count: study.demand.count)
        _ = try MatrixEngine(graph: graph).compute(origins: villages, destinations: halls) { entries in
            for e in entries { if let c = e.cost { best[e.origin] = min(best[e.origin], c.meters) } }
        }
        let budgets = [1500.0, 3000.0, 4500.0]
        let lines = graph.reachableLines(toward: halls, budgets: budgets, query: PathQuery(graph: graph), inMeters: true)
        let geos = try GEOSContext()
        var inside = 0
        for (bi, budget) in budgets.enumerated() {
            let reach = try PreparedGeometry(.multiLineString(lines[bi]), context: geos)
            for (i, s) in villages.enumerated() {
                let s = try #require(s)
                let network = best[i] - s.distanceMeters
                let onLines = try reach.distance(to: s.point) < 0.01
                if network <= budget - 1e-6 { #expect(onLines, "\(study.demand[i].name): \(best[i]) m, but not in the \(budget) m band"); inside += 1 }
                if onLines { #expect(network <= budget + 1e-6, "\(study.demand[i].name) in the \(budget) m band but \(best[i]) m") }
            }
        }
        #expect(inside > 0)
        // The map's layer: three bands, labelled in km, half, once and one and a half times the rule.
        let analysis = try StudyAnalysis(study: study, network: network)
        let layer = try MapData.layers(study: study, needed: ["isochrones"], analysis: analysis, category: "hall", scenario: nil)["isochrones"] ?? []
        #expect(layer.map { $0["value"].number ?? -1 }.sorted() == [1.5, 3, 4.5])
        #expect(layer.map { $0["band"].number ?? -1 }.sorted() == [0.5, 1, 1.5])
        #expect(layer.allSatisfy { ($0["value_text"].text ?? "").hasSuffix("km") })
    }
}

@Suite struct NetworkSettingsTests {
    func road(_ id: String, _ cls: String?, _ x0: Double, _ x1: Double) -> Road {
        Road(id: id, parts: [[Coordinate(x: x0, y: 0), Coordinate(x: x1, y: 0)]], roadClass: cls, maxspeed: nil, oneway: nil, name: nil)
    }

    @Test func aKommunesOwnClassesMapOntoTheProfile() throws {
        // Road-register classes: mapped ones get their speed, unknown ones are reported and driven as unclassified.
        let roads = [road("1", "Motorvej", 0, 1000), road("2", "Lokalvej", 1000, 2000), road("3", "Privat fællesvej", 2000, 3000)]
        var settings = StudyFile.NetworkSettings()
        settings.classValues = ["Motorvej": "motorway", "Lokalvej": "residential"]
        let network = try StudyNetwork(roads: roads, settings: settings)
        #expect(network.unknownClasses(.car).map(\.roadClass) == ["Privat fællesvej"])
        let g = network.graph(.car)
        #expect(abs(g.edgeCost[0] - 1000 / (110 / 3.6)) < 1e-9)
        #expect(abs(g.edgeCost[1] - 1000 / (40 / 3.6)) < 1e-9)
        #expect(abs(g.edgeCost[2] - 1000 / (50 / 3.6)) < 1e-9)
        // Walking may not use the motorway.
        #expect(!network.graph(.walk).isUsable(edge: 0))
    }

    @Test func speedsOverrideForbidAndAllow() throws {
        let roads = [road("1", "track", 0, 1000), road("2", "primary", 1000, 2000)]
        var settings = StudyFile.NetworkSettings()
        var car = StudyFile.ModeSettings()
        car.speedsKmh = ["track": 10, "primary": 0]
        settings.modes = ["car": car]
        let g = try StudyNetwork(roads: roads, settings: settings).graph(.car)
        #expect(g.isUsable(edge: 0) && abs(g.edgeCost[0] - 360) < 1e-9)
        #expect(!g.isUsable(edge: 1))
        settings.modes = ["boat": car]
        #expect(throws: NetworkSetupError.self) { try StudyNetwork(roads: roads, settings: settings) }
    }
}

extension SamsoeNetworkTests {
    /// The service draws the same bands again and again: the second time they come from the dissolve cache,
    /// identical; a change of buffer (or of anything the lines depend on) is never answered from it.
    @Test func isochronesComeBackFromTheCacheOnlyForTheSameInput() throws {
        let study = try Self.loadStudy()
        let network = try StudyNetwork(study: study)
        var request = Isochrones.Request(mode: .car, budgets: [300, 600], category: "hall", union: true, bufferMeters: 120)
        request.threads = 2
        let first = try Isochrones.build(study: study, network: network, request: request).table.features
        let hits = DissolveCache.shared.hits
        let again = try Isochrones.build(study: study, network: network, request: request).table.features
        #expect(DissolveCache.shared.hits >= hits + 2)
        #expect(again.map(\.geometry) == first.map(\.geometry))
        // Built without the cache, by a fresh single-threaded run on another buffer: larger areas.
        request.bufferMeters = 121
        request.threads = 1
        let wider = try Isochrones.build(study: study, network: network, request: request).table.features
        let geos = try GEOSContext()
        for (a, b) in zip(first, wider) { #expect(try geos.area(b.geometry!) > geos.area(a.geometry!)) }
        // A small cache keeps within its bound, dropping the least recently used first.
        let small = DissolveCache(maxVertices: 40)
        func key(_ i: Int) -> DissolveCache.Key { DissolveCache.Key(lines: [[Coordinate(x: Double(i), y: 0), Coordinate(x: 1, y: 0)]], bufferMeters: 1) }
        func square(_ i: Int) -> Geometry { .polygon([[Coordinate(x: 0, y: 0), Coordinate(x: Double(i), y: 0), Coordinate(x: Double(i), y: 1), Coordinate(x: 0, y: 1), Coordinate(x: 0, y: 0)]]) }
        for i in 1...9 { small.keep(square(i), for: key(i)) }
        #expect(small.geometry(for: key(1)) == nil && small.geometry(for: key(9)) == square(9))
        #expect((1...9).filter { small.geometry(for: key($0)) != nil }.count == 8)
        #expect(small.geometry(for: DissolveCache.Key(lines: [[Coordinate(x: 9, y: 0), Coordinate(x: 1, y: 0)]], bufferMeters: 2)) == nil)
    }
}
