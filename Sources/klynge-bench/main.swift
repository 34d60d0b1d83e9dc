// Matrix benchmark: the Samsø sample and a scaled case (tens of thousands of origins, a few hundred
// destinations) on the sample's road network. Writes the identical graph and node pairs for
// scripts/bench_scipy.py, which times scipy's Dijkstra on them and checks the values agree.
//
// Usage: klynge-bench STUDY.yaml OUT_FOLDER [ORIGINS] [DESTINATIONS]
import Foundation
import KlyngeAnalysis
import KlyngeStudyAnalysis
import KlyngeIngest
import KlyngeJobs
import KlyngeGeo
import KlyngeGEOS
import KlyngeProj
import KlyngeIO
import KlyngeNetwork
import KlyngeRender
import KlyngeStudy

func peakRSSBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kb * 1024
    }
    return 0
}

func currentRSSBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return (line.split(separator: " ").compactMap { Int($0) }.first ?? 0) * 1024
    }
    return 0
}

func mb(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_048_576) }

/// Runs the matrix `repeats` times and returns the best wall time and the pairs seen.
func timeMatrix(_ graph: ModeGraph, _ origins: [Snap?], _ destinations: [Snap?], repeats: Int,
                capture: ((MatrixEntry) -> Void)? = nil) throws -> (seconds: Double, pairs: Int) {
    var best = Double.infinity
    var pairs = 0
    for r in 0..<repeats {
        var count = 0
        let t0 = DispatchTime.now().uptimeNanoseconds
        _ = try MatrixEngine(graph: graph).compute(origins: origins, destinations: destinations) { (block: MatrixBlock) in
            count += block.count
            if r == 0, let capture { block.forEach { capture(MatrixEntry(origin: $0, destination: $1, cost: $2)) } }
        }
        let t = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        best = min(best, t)
        pairs = count
    }
    return (best, pairs)
}

struct LCG {
    var state: UInt64
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 11
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

let args = CommandLine.arguments
guard args.count >= 3 else {
    FileHandle.standardError.write(Data("usage: klynge-bench STUDY.yaml OUT_FOLDER [ORIGINS] [DESTINATIONS]\n".utf8))
    exit(2)
}
let outFolder = URL(fileURLWithPath: args[2])
try FileManager.default.createDirectory(at: outFolder, withIntermediateDirectories: true)
if ProcessInfo.processInfo.environment["KLYNGE_BENCH_SECTION"] == "parishes" {
    try benchParishes()
    exit(0)
}
let originCount = args.count > 3 ? Int(args[3]) ?? 30000 : 30000
let destinationCount = args.count > 4 ? Int(args[4]) ?? 300 : 300
let threads = ProcessInfo.processInfo.activeProcessorCount

let result = try StudyLoader().load(path: args[1])
guard let study = result.study, result.isUsable else { fatalError("the study has errors") }
let network = try StudyNetwork(study: study)
/// KLYNGE_BENCH_SECTIONS=5,7 runs only those sections (1 and 2 always run: the others use their network).
func wanted(_ section: Int) -> Bool {
    guard let list = ProcessInfo.processInfo.environment["KLYNGE_BENCH_SECTIONS"] else { return true }
    return list.split(separator: ",").contains { Int($0.trimmingCharacters(in: .whitespaces)) == section }
}
print("Klynge matrix benchmark (\(threads) threads)")
print("Network: \(network.roads.nodeCount) nodes, \(network.roads.edgeCount) edges")

// 1. The sample: demand points → facilities, each mode.
for mode in [TravelMode.car, .distance, .walk] {
    let snapper = network.snapper(mode)
    let o = study.demand.map { try? snapper.snap($0.location).get() }
    let d = study.facilities.map { try? snapper.snap($0.location).get() }
    let (t, pairs) = try timeMatrix(snapper.graph, o, d, repeats: 50)
    print(String(format: "Samsø %@: %d × %d = %d pairs in %.3f ms (%.0f pairs/s)", mode.rawValue, o.count, d.count, pairs, t * 1000, Double(pairs) / t))
}

// 2. The scaled case, on graph nodes so scipy gets the identical pairs.
let graph = network.graph(.car)
let mainNodes = (0..<graph.nodeCount).filter { graph.component[$0] == graph.largestComponent }
// A snap that sits exactly on a node: offset 0 on an edge leaving it, or the full length on one entering it.
var atNode = [Snap?](repeating: nil, count: graph.nodeCount)
for e in 0..<graph.network.edgeCount where graph.isUsable(edge: e) {
    let u = Int(graph.network.edgeFrom[e]), v = Int(graph.network.edgeTo[e])
    if atNode[u] == nil {
        atNode[u] = Snap(edge: Int32(e), offsetMeters: 0, point: graph.network.nodes[u], distanceMeters: 0, component: graph.component[u])
    }
    if atNode[v] == nil {
        atNode[v] = Snap(edge: Int32(e), offsetMeters: graph.network.edgeLengthMeters[e], point: graph.network.nodes[v],
                         distanceMeters: 0, component: graph.component[v])
    }
}
var rng = LCG(state: 2026)
let originNodes = (0..<originCount).map { _ in mainNodes[rng.below(mainNodes.count)] }
let destinationNodes = (0..<destinationCount).map { _ in mainNodes[rng.below(mainNodes.count)] }
let rssBefore = currentRSSBytes()
var sample: [(Int, Int, Double)] = []
var sampleRng = LCG(state: 7)
let (t, pairs) = try timeMatrix(graph, originNodes.map { atNode[$0] }, destinationNodes.map { atNode[$0] }, repeats: 3) { e in
    if sampleRng.below(1000) == 0, let c = e.cost { sample.append((e.origin, e.destination, c.cost)) }
}
let peak = peakRSSBytes()
print(String(format: "Scaled car: %d × %d = %d pairs in %.3f s (%.0f pairs/s)", originCount, destinationCount, pairs, t, Double(pairs) / t))
print("Memory: graph \(mb(graph.memoryBytes)); process before the matrix \(mb(rssBefore)), peak \(mb(peak)); matrix working memory ≈ \(mb(max(peak - rssBefore, 0)))")

// The identical graph and pairs for scipy: arcs (tail, head, seconds) and node ids, little-endian binary.
func writeBinary<T>(_ values: [T], _ name: String) throws {
    try values.withUnsafeBytes { Data($0) }.write(to: outFolder.appendingPathComponent(name))
}
var tails: [Int32] = [], heads: [Int32] = [], weights: [Double] = []
for e in 0..<graph.network.edgeCount where graph.isUsable(edge: e) {
    let u = graph.network.edgeFrom[e], v = graph.network.edgeTo[e]
    if graph.edgeForward[e] { tails.append(u); heads.append(v); weights.append(graph.edgeCost[e]) }
    if graph.edgeBackward[e] { tails.append(v); heads.append(u); weights.append(graph.edgeCost[e]) }
}
try writeBinary(tails, "tails.i32")
try writeBinary(heads, "heads.i32")
try writeBinary(weights, "weights.f64")
try writeBinary(originNodes.map(Int32.init), "origins.i32")
try writeBinary(destinationNodes.map(Int32.init), "destinations.i32")
let sampleText = "origin,destination,seconds\n" + sample.map { "\($0.0),\($0.1),\($0.2)" }.joined(separator: "\n") + "\n"
try sampleText.write(to: outFolder.appendingPathComponent("sample.csv"), atomically: true, encoding: .utf8)
let summary = """
{"nodes": \(graph.nodeCount), "pairs": \(pairs), "seconds": \(t), "threads": \(threads), "graph_bytes": \(graph.memoryBytes), "peak_rss_bytes": \(peak), "rss_before_bytes": \(rssBefore)}
"""
try summary.write(to: outFolder.appendingPathComponent("klynge.json"), atomically: true, encoding: .utf8)

// Where the time goes: searches alone, one thread.
do {
    let q = PathQuery(graph: graph)
    let t0 = DispatchTime.now().uptimeNanoseconds
    for d in destinationNodes { q.run(from: graph.arrivalSeeds(atNode[d]!), reverse: true) }
    let t = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    print(String(format: "Searches alone: %d reverse searches in %.3f s on one thread (%.1f µs each)", destinationNodes.count, t, t / Double(destinationNodes.count) * 1e6))
}

// 3. Scenario evaluation: the sample's scenarios, and single changes on a kommune-sized case.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}

if wanted(3) {
    var analysis: StudyAnalysis?
    let setup = try seconds { analysis = try StudyAnalysis(study: study) }
    let a = analysis!
    let rounds = 2000
    let t = seconds {
        for i in 0..<rounds { _ = a.engine.evaluate(a.scenarios[i % a.scenarios.count].plan) }
    }
    print(String(format: "Samsø scenarios: set-up (network, access tables) %.1f ms; %.0f scenario evaluations/s (%.3f ms each, all %d categories)",
                 setup * 1000, Double(rounds) / t, t / Double(rounds) * 1000, a.engine.categories.count))
    // The service's what-if with a new place: before, a fresh analysis over the built network; now one column
    // per mode added to the cost tables. Both timed here, side by side.
    let whatIfs = 50
    let rebuild = try seconds { for _ in 0..<whatIfs { _ = try StudyAnalysis(study: study, network: a.network) } }
    let category = a.engine.categories[0]
    let place = WhatIf.NewPlace(name: "Nyt sted", location: study.demand[study.demand.count / 2].location)
    let added = try seconds {
        for _ in 0..<whatIfs {
            let w = try WhatIf.evaluate(base: a, scenario: nil, close: [], open: [place], category: category)
            _ = w.analysis.engine.evaluate(w.plan)
        }
    }
    print(String(format: "Samsø what-if with a new place: %.2f ms each (columns added to the cost tables); a full rebuild would take %.2f ms",
                 added / Double(whatIfs) * 1000, rebuild / Double(whatIfs) * 1000))
}

if wanted(3) {
    // 30,000 demand points (the scaled origins) and 300 sites in 5 categories, by car.
    let categories = ["hall", "school", "shop", "library", "sports_hall"]
    var r = LCG(state: 99)
    let siteNodes = (0..<300).map { _ in mainNodes[r.below(mainNodes.count)] }
    var sites: [Site] = siteNodes.enumerated().map { i, n in
        Site(id: "s\(i)", name: "Site \(i)", categories: [categories[i % categories.count]], location: graph.network.nodes[n],
             isCandidate: i % 10 == 9)
    }
    for i in stride(from: 0, to: sites.count, by: 7) { sites[i].categories.append(categories[(i + 1) % categories.count]) }
    var tableSeconds = [Float](repeating: .nan, count: originNodes.count * sites.count)
    var tableMeters = tableSeconds
    let width = sites.count
    let build = try seconds {
        _ = try MatrixEngine(graph: graph).compute(origins: originNodes.map { atNode[$0] }, destinations: siteNodes.map { atNode[$0] }) { (block: MatrixBlock) in
            block.forEach { o, d, c in
                if let c { tableSeconds[o * width + d] = CostPrecision.stored(c.cost); tableMeters[o * width + d] = CostPrecision.stored(c.meters) }
            }
        }
    }
    let table = AccessTable(demandCount: originNodes.count, siteCount: sites.count, seconds: tableSeconds, meters: tableMeters)
    let demand = originNodes.indices.map { DemandSite(id: "d\($0)", name: "d\($0)", weight: Double(1 + $0 % 50), areaId: nil) }
    let engine = CoverageEngine(sites: sites, demand: demand, categories: categories,
                                rules: Dictionary(uniqueKeysWithValues: categories.map { ($0, CoverageRule(mode: .car, metric: .duration, threshold: 600)) }),
                                tables: [.car: table])
    var plans: [Plan] = []
    var pr = LCG(state: 5)
    for _ in 0..<200 {
        var p = engine.baselinePlan
        let s = pr.below(sites.count)
        p.open[s].toggle()
        plans.append(p)
    }
    var worst = 0.0
    let total = seconds {
        for p in plans {
            let one = seconds { _ = engine.evaluate(p) }
            worst = max(worst, one)
        }
    }
    print(String(format: "Scaled scenarios: %d demand × %d sites; access table %.0f ms once; one change re-evaluated in %.2f ms on average (worst %.2f ms), %.0f evaluations/s",
                 demand.count, sites.count, build * 1000, total / Double(plans.count) * 1000, worst * 1000, Double(plans.count) / total))
}

// 4. Maps: the Samsø coverage map on A3 at 300 dpi, and a scaled map (tens of thousands of features).
// The same layers go to a GeoPackage for scripts/bench_render_matplotlib.py.
if wanted(4) {
    let stylesFolder = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("styles")
    let coverageStyle = try Style.load("coverage", stylesFolder: stylesFolder)
    let analysis = try StudyAnalysis(study: study)
    let needed = Set(coverageStyle.layers.compactMap(\.data))
    let category = study.categories.first { $0.key == "hall" }?.key ?? study.categories[0].key
    let data = try MapData.layers(study: study, needed: needed, analysis: analysis, category: category, scenario: nil)
    let extent = Envelope(covering: study.areas.flatMap { $0.geometry.allCoordinates })!
    let a3 = Page.paper("A3", landscape: false, dpi: 300)!
    func renderTime(_ style: Style, _ data: [String: [Feature]], _ name: String) throws -> Double {
        let request = MapRequest(style: style, data: data, extent: extent, page: a3, kind: .png, language: "da",
                                 title: study.name, subtitle: name, attribution: study.attribution)
        var best = Double.infinity
        for _ in 0..<3 {
            best = min(best, try seconds { _ = try MapRenderer.render(request, to: outFolder.appendingPathComponent("\(name).png").path) })
        }
        return best
    }
    let sample = try renderTime(coverageStyle, data, "render-samsoe")
    var features = data.values.reduce(0) { $0 + $1.count }
    print(String(format: "Map: Samsø coverage map, A3 at 300 dpi (3508 × 4961 px), %d features: %.3f s", features, sample))
    try VectorWriter.write(["areas", "isochrones", "roads", "coverage"].map { name in
        FeatureTable(name: name, crs: study.crs, fields: [FieldDefinition(name: "value", type: .real), FieldDefinition(name: "name", type: .string),
                                                          FieldDefinition(name: "population", type: .real), FieldDefinition(name: "band", type: .real)],
                     features: data[name] ?? [])
    }, to: outFolder.appendingPathComponent("render-samsoe.gpkg"), format: .geoPackage)

    // Scaled: 40,000 villages and 20,000 roads (the island's roads, shifted copies) in one plain style.
    var r = LCG(state: 77)
    let env = extent
    let points = (0..<40000).map { i -> Feature in
        let x = env.minX + Double(r.below(100_000)) / 100_000 * (env.maxX - env.minX)
        let y = env.minY + Double(r.below(100_000)) / 100_000 * (env.maxY - env.minY)
        return Feature(geometry: .point(Coordinate(x: x, y: y)), attributes: ["population": .double(Double(i % 500)), "value": .double(Double(i % 20))])
    }
    var roads: [Feature] = []
    for k in 0..<11 {
        for road in study.roads {
            let dx = Double(k % 4) * 400 - 600, dy = Double(k / 4) * 400 - 400
            roads.append(Feature(geometry: .multiLineString(road.parts.map { $0.map { Coordinate(x: $0.x + dx, y: $0.y + dy) } }),
                                 attributes: ["class": road.roadClass.map(AttributeValue.string) ?? .null]))
        }
    }
    let plain = try Style.parse(Data(#"""
    {"version": 8, "sources": {"a": {"type": "geojson", "data": "klynge:areas"}, "r": {"type": "geojson", "data": "klynge:roads"},
                               "d": {"type": "geojson", "data": "klynge:demand"}},
     "layers": [{"id": "bg", "type": "background", "paint": {"background-color": "#dce8ee"}},
                {"id": "areas", "type": "fill", "source": "a", "paint": {"fill-color": "#f4f1e8", "fill-outline-color": "#b9ae96"}},
                {"id": "roads", "type": "line", "source": "r", "paint": {"line-color": "#9d9484", "line-width": 0.8}},
                {"id": "points", "type": "circle", "source": "d", "paint": {"circle-radius": 2, "circle-color": ["step", ["get", "value"], "#1a9850", 10, "#d73027"]}}]}
    """#.utf8), name: "plain")
    let scaledData: [String: [Feature]] = ["areas": data["areas"] ?? [], "roads": roads, "demand": points]
    features = scaledData.values.reduce(0) { $0 + $1.count }
    let scaled = try renderTime(plain, scaledData, "render-scaled")
    print(String(format: "Map: scaled, A3 at 300 dpi, %d features: %.3f s", features, scaled))
    try VectorWriter.write([
        FeatureTable(name: "areas", crs: study.crs, fields: [], features: scaledData["areas"]!),
        FeatureTable(name: "roads", crs: study.crs, fields: [], features: roads),
        FeatureTable(name: "points", crs: study.crs, fields: [FieldDefinition(name: "value", type: .real)], features: points),
    ], to: outFolder.appendingPathComponent("render-scaled.gpkg"), format: .geoPackage)
    let json = """
    {"sample_seconds": \(sample), "scaled_seconds": \(scaled), "extent": [\(env.minX), \(env.minY), \(env.maxX), \(env.maxY)]}
    """
    try json.write(to: outFolder.appendingPathComponent("render.json"), atomically: true, encoding: .utf8)
}

// 5. Location-allocation on identical cost matrices, for scripts/bench_optimize_spopt.py:
// the sample (villages × existing halls and villages) and a scaled case on network nodes.
if wanted(5) {
    struct Instance {
        var name: String; var weights: [Double]; var n: Int; var cost: [Double]; var p: Int
        var objectives: [LocationObjective] = [.coverage, .minimum, .median, .center]
        var capacities: [Double]?
    }
    var instances: [Instance] = []
    let setup = try OptimizeSetup(study: study, network: network, query: OptimizeQuery(
        category: study.categories.first { $0.key == "hall" }?.key ?? study.categories[0].key,
        request: LocationRequest(goal: .median(facilities: 1)), candidates: .places))
    instances.append(Instance(name: "samsoe", weights: setup.problem.weights, n: setup.problem.candidateCount, cost: setup.problem.cost, p: 2))
    var r = LCG(state: 404)
    // The scaled case; maximal covering at the size of a large kommune's address points (20,000 × 22), where
    // demand points with the same covering candidates are one row of the model; the exact p-median at 5,000 ×
    // 100; a capacitated p-median (villages whole, capacities that bind).
    for (name, m, n) in [("scaled", 1000, 100), ("mclp", 20_000, 22), ("pmedian", 5000, 100), ("capacitated", 300, 20)] {
        let dNodes = (0..<m).map { _ in mainNodes[r.below(mainNodes.count)] }
        let cNodes = (0..<n).map { _ in mainNodes[r.below(mainNodes.count)] }
        var cost = [Double](repeating: .infinity, count: m * n)
        _ = try MatrixEngine(graph: graph).compute(origins: dNodes.map { atNode[$0] }, destinations: cNodes.map { atNode[$0] }) { (block: MatrixBlock) in
            // Kept as every Klynge command keeps them (CostPrecision), so spopt sees the same numbers.
            block.forEach { o, d, c in if let c { cost[o * n + d] = Double(CostPrecision.stored(c.cost)) } }
        }
        let weights = (0..<m).map { Double(1 + ($0 * 37) % 200) }
        var inst = Instance(name: name, weights: weights, n: n, cost: cost, p: 8)
        switch name {
        case "mclp": inst.objectives = [.coverage]
        case "pmedian": inst.objectives = [.median]; inst.p = 10
        case "capacitated":
            inst.objectives = [.median]
            // Between 0.8 and 1.6 times an even share of the people, so several nearest sites overflow.
            let even = weights.reduce(0, +) / Double(inst.p)
            inst.capacities = (0..<n).map { j -> Double in
                let step = Double((j * 7) % 10) / 10
                return (0.8 + 0.8 * step) * even
            }
        default: break
        }
        instances.append(inst)
    }
    var rows: [String] = []
    for inst in instances {
        var problem = LocationProblem(weights: inst.weights, candidateCount: inst.n, cost: inst.cost)
        problem.capacities = inst.capacities
        try writeBinary(inst.weights, "opt-\(inst.name)-weights.f64")
        try writeBinary(inst.cost.map { $0.isFinite ? $0 : 1e7 }, "opt-\(inst.name)-cost.f64")
        if let caps = inst.capacities { try writeBinary(caps, "opt-\(inst.name)-capacity.f64") }
        let p = inst.p
        // 10 minutes covers all of Samsø from eight sites; the 20,000-point case asks for 4, so not everyone is.
        let threshold = inst.name == "mclp" ? 240.0 : 600.0
        for req in [LocationRequest(goal: .coverage(facilities: p, threshold: threshold), solver: .exact),
                    LocationRequest(goal: .minimum(threshold: threshold, share: 1), solver: .exact),
                    LocationRequest(goal: .median(facilities: p), solver: inst.name == "samsoe" || inst.name == "scaled" ? .auto : .exact,
                                    timeLimitSeconds: 600),
                    LocationRequest(goal: .center(facilities: p), solver: .exact)] where inst.objectives.contains(req.objective) {
            var s: LocationSolution?
            FileHandle.standardError.write(Data("solving \(inst.name) \(req.objective.rawValue)…\n".utf8))
            let t = try seconds { s = try LocationAllocation.solve(problem, req) }
            rows.append("{\"instance\": \"\(inst.name)\", \"m\": \(inst.weights.count), \"n\": \(inst.n), \"objective\": \"\(req.objective.rawValue)\", "
                        + "\"p\": \(p), \"threshold\": \(threshold), \"value\": \(s!.value), \"proven\": \(s!.proven), \"seconds\": \(t), "
                        + "\"solver\": \"\(req.solver.rawValue)\", \"capacitated\": \(inst.capacities != nil), \"method\": \"\(s!.method)\"}")
            print(String(format: "Optimize %@ %@ (%d × %d, p = %d): %.1f, %@, %.3f s (%@%@)", inst.name, req.objective.rawValue, inst.weights.count, inst.n,
                         p, s!.value, s!.proven ? "proven" : "not proven", t, s!.method,
                         s!.gap.map { String(format: ", gap %.3f %%", $0 * 100) } ?? ""))
        }
    }
    // A large p-median for the heuristic and its Lagrangian bound.
    let m = 4000, n = 250
    let dNodes = (0..<m).map { _ in mainNodes[r.below(mainNodes.count)] }
    let cNodes = (0..<n).map { _ in mainNodes[r.below(mainNodes.count)] }
    var cost = [Double](repeating: .infinity, count: m * n)
    _ = try MatrixEngine(graph: graph).compute(origins: dNodes.map { atNode[$0] }, destinations: cNodes.map { atNode[$0] }) { (block: MatrixBlock) in
        block.forEach { o, d, c in if let c { cost[o * n + d] = Double(CostPrecision.stored(c.cost)) } }
    }
    let big = LocationProblem(weights: (0..<m).map { Double(1 + ($0 * 37) % 200) }, candidateCount: n, cost: cost)
    var h: LocationSolution?
    let th = try seconds { h = try LocationAllocation.solve(big, LocationRequest(goal: .median(facilities: 12), solver: .heuristic)) }
    print(String(format: "Optimize large median (%d × %d, p = 12), heuristic: %.0f, bound %.0f, gap %.3f %%, %.2f s",
                 m, n, h!.value, h!.bound ?? .nan, (h!.gap ?? .nan) * 100, th))
    // The same exactly: where the bound alone leaves a gap, the fixing and the radius model close it.
    var e: LocationSolution?
    let te = try seconds { e = try LocationAllocation.solve(big, LocationRequest(goal: .median(facilities: 12), solver: .exact, timeLimitSeconds: 300)) }
    print(String(format: "Optimize large median (%d × %d, p = 12), exact: %.0f, %@, %.2f s (%@)", m, n, e!.value, e!.proven ? "proven" : "not proven",
                 te, e!.method))
    try ("[" + rows.joined(separator: ",\n") + "]\n").write(to: outFolder.appendingPathComponent("optimize.json"), atomically: true, encoding: .utf8)
}

// 6. The whole `klynge matrix` job as a user runs it, for scripts/bench_matrix_job.py: the study's roads as a
// GeoPackage, 20,000 off-road origins and 200 destinations as CSV (x, y in the working CRS), and, for the scipy
// peer, the identical car graph (the arcs above) with its node coordinates.
if wanted(6) {
    let roadFields: [FieldDefinition] = [.init(name: "id", type: .string), .init(name: "highway", type: .string),
                                         .init(name: "maxspeed", type: .string), .init(name: "oneway", type: .string)]
    let roadFeatures = study.roads.map { r in
        Feature(geometry: r.parts.count == 1 ? .lineString(r.parts[0]) : .multiLineString(r.parts), attributes: [
            "id": .string(r.id), "highway": r.roadClass.map(AttributeValue.string) ?? .null,
            "maxspeed": r.maxspeed.map(AttributeValue.string) ?? .null, "oneway": r.oneway.map(AttributeValue.string) ?? .null,
        ])
    }
    try VectorWriter.write([FeatureTable(name: "roads", crs: study.crs, fields: roadFields, features: roadFeatures)],
                           to: outFolder.appendingPathComponent("job-roads.gpkg"), format: .geoPackage)
    // Points up to 150 m off a random node of the main network: off-road, as villages and addresses are.
    var r = LCG(state: 2027)
    func points(_ count: Int, prefix: String) -> String {
        var text = "id,x,y\n"
        for k in 0..<count {
            let n = graph.network.nodes[mainNodes[r.below(mainNodes.count)]]
            let dx = Double(r.below(30_001)) / 100 - 150, dy = Double(r.below(30_001)) / 100 - 150
            text += String(format: "%@%d,%.2f,%.2f\n", prefix, k, n.x + dx, n.y + dy)
        }
        return text
    }
    try points(20_000, prefix: "o").write(to: outFolder.appendingPathComponent("job-origins.csv"), atomically: true, encoding: .utf8)
    try points(200, prefix: "d").write(to: outFolder.appendingPathComponent("job-destinations.csv"), atomically: true, encoding: .utf8)
    try writeBinary(graph.network.nodes.flatMap { [$0.x, $0.y] }, "nodes.f64")
    let access = network.profile(.car).accessSpeedKmh
    try "{\"crs\": \"\(study.crs.definition)\", \"access_speed_kmh\": \(access), \"threads\": \(threads)}"
        .write(to: outFolder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
    print("Matrix job inputs: 20,000 origins × 200 destinations written for scripts/bench_matrix_job.py")
}

// 7. Regionalisation (`klynge regions`) on square grids: travel from each cell to hubs grows with grid steps
// (5 minutes a step, plus a little per cell), populations vary. The exact solver on kommune sizes, the heuristic
// up to national size (about 2,150 parishes in Denmark).
if wanted(7) {
    func grid(_ side: Int, clusters: RegionCount, objective: RegionObjective, minPopulation: Double? = nil) -> RegionProblem {
        var r = LCG(state: UInt64(side) * 7919)
        let n = side * side
        var neighbours = Array(repeating: [Int](), count: n)
        for i in 0..<n {
            if i % side + 1 < side { neighbours[i].append(i + 1); neighbours[i + 1].append(i) }
            if i + side < n { neighbours[i].append(i + side); neighbours[i + side].append(i) }
        }
        let population = (0..<n).map { _ in Double(50 + r.below(450)) }
        let hubs = (0..<n).map { RegionHub(id: "h\($0)", name: "h\($0)", kind: .village, area: $0) }
        // Cells farther than 12 steps from a hub may not join it: keeps the table and the programme local.
        let cost: [[Double]] = (0..<n).map { i in
            (0..<n).map { h in
                let steps = abs(i / side - h / side) + abs(i % side - h % side)
                return steps > 12 ? .infinity : population[i] * (Double(steps) * 300 + Double(i == h ? 0 : r.below(60)))
            }
        }
        return RegionProblem(areaIds: (0..<n).map { "c\($0)" }, areaNames: (0..<n).map { "c\($0)" }, population: population,
                             neighbours: neighbours, hubs: hubs, cost: cost, minPopulation: minPopulation, count: clusters, objective: objective)
    }
    print("Regions (grids; travel objective with k = cells / 9, max-p with a minimum of 2,000 people):")
    for side in [5, 7, 9] {
        let p = grid(side, clusters: .exactly(side * side / 9), objective: .travel)
        let t0 = Date()
        let exact = try RegionExact.solve(p, timeLimitSeconds: 60)
        let te = Date().timeIntervalSince(t0)
        let h = RegionHeuristic.solve(p)
        var line = String(format: "  %d cells, k = %d: ", side * side, side * side / 9)
        if case .solved(let s) = exact {
            line += String(format: "exact %.2f s (%@), travel %.0f", te, s.proven ? "proven" : "not proven", s.objectiveValue / 60)
            if let h { line += String(format: "; heuristic %.2f s, travel %.0f (%.2f %% above)", h.seconds, h.objectiveValue / 60, (h.objectiveValue / s.objectiveValue - 1) * 100) }
        } else {
            line += String(format: "exact: no answer in %.0f s", te)
        }
        print(line)
    }
    // The larger grids also go to scripts/bench_regions_spopt.py: populations and the cost table (person-seconds,
    // infinite beyond reach), with Klynge's answers, for spopt's max-p and SKATER on the same cells.
    var rows: [String] = []
    for side in [20, 46] {
        let k = side * side / 9
        let p = grid(side, clusters: .exactly(k), objective: .travel)
        let h = RegionHeuristic.solve(p)
        if let h {
            print(String(format: "  %d cells, k = %d: heuristic %.2f s, travel %.0f (bound %.0f)", side * side, k, h.seconds, h.objectiveValue / 60, (h.bound ?? 0) / 60))
        }
        let m = grid(side, clusters: .most, objective: .count, minPopulation: 2000)
        let hm = RegionHeuristic.solve(m)
        if let hm {
            print(String(format: "  %d cells, max-p: heuristic %.2f s, %d clusters (at most %.0f)", side * side, hm.seconds, hm.clusterCount, hm.bound ?? 0))
        }
        try writeBinary(p.population, "regions-\(side)-population.f64")
        try writeBinary(p.cost.flatMap { $0 }, "regions-\(side)-cost.f64")
        rows.append("{\"side\": \(side), \"k\": \(k), \"threshold\": 2000, \"travel_seconds\": \(h?.seconds ?? -1), "
                    + "\"travel\": \(h?.objectiveValue ?? -1), \"maxp_seconds\": \(hm?.seconds ?? -1), \"maxp_regions\": \(hm?.clusterCount ?? -1)}")
    }
    try ("[" + rows.joined(separator: ", ") + "]").write(to: outFolder.appendingPathComponent("regions.json"), atomically: true, encoding: .utf8)
}

// 8. Regionalisation of all Danish parishes (DAGI, dissolved by code) with the populations derived in
// data/denmark/sogne_befolkning.csv (scripts/derive_parish_population.py). No national road network is
// bundled, so travel is the straight line from each parish's point on surface to the hub parish's, weighted
// by population; neighbours share at least 50 m of boundary, as `klynge regions` decides by default. Timed as
// a user's run would be: reading and reprojecting, dissolving, contiguity, costs, then each search.
// scripts/bench_regions_parishes_spopt.py runs spopt on the same neighbours, populations and costs.
if wanted(8) { try benchParishes() }

/// Section 8 on its own: `KLYNGE_BENCH_SECTION=parishes klynge-bench STUDY OUT` runs only this.
func benchParishes() throws {
    let denmark = URL(fileURLWithPath: args[1]).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("denmark")
    let t0 = Date()
    let layer = try VectorSource(denmark.appendingPathComponent("sogne_dk.geojson").path).layer(named: nil)
    let toUTM = try Transformer(from: .wgs84, to: .etrs89UTM32)
    var parts: [String: [Geometry]] = [:], names: [String: String] = [:]
    // Keyed by code and name: one code (9179) names two parishes 210 km apart in the source.
    for f in try layer.readFeatures() {
        guard let code = f["SOGNEKODE"].text, let g = f.geometry else { continue }
        let name = f["SOGNENAVN"].text ?? code
        parts[code + "|" + name, default: []].append(try toUTM.transform(g))
        names[code + "|" + name] = name
    }
    var population: [String: Double] = [:]
    let table = try String(contentsOf: denmark.appendingPathComponent("sogne_befolkning.csv"), encoding: .utf8)
    for line in table.split(separator: "\n").dropFirst() {
        let c = line.split(separator: ",", omittingEmptySubsequences: false)
        if c.count >= 4, let p = Double(c[3]) { population[String(c[0]) + "|" + String(c[1])] = p }
    }
    let geos = try GEOSContext()
    let codes = parts.keys.sorted().filter { population[$0] != nil }
    var areas: [Area] = []
    var points: [Coordinate] = []
    var repaired = 0
    for code in codes {
        // Some DAGI polygons self-intersect: repaired first, as the study loader repairs (and reports) them.
        let valid = try parts[code]!.map { g -> Geometry in
            guard try geos.validity(g).isValid else { repaired += 1; return try geos.makeValid(g) }
            return g
        }
        let shape = try geos.unaryUnion(valid)
        areas.append(Area(id: code, name: names[code] ?? code, population: population[code], cluster: nil, geometry: shape))
        points.append(try geos.pointOnSurface(shape))
    }
    let tLoad = Date().timeIntervalSince(t0)
    let study = Study(name: "Danmarks sogne", crs: .etrs89UTM32, language: "da", categories: [], areas: areas, demand: [],
                      demandDerivedFromAreas: true, facilities: [], roads: [])
    let t1 = Date()
    let contiguity = try RegionContiguity(study: study, minSharedMeters: RegionContiguity.defaultMinSharedMeters, links: [])
    let tContiguity = Date().timeIntervalSince(t1)
    let n = areas.count
    let people = codes.map { population[$0]! }
    // Islands reached by ferry share no boundary: each group of areas cut off from the rest is linked to the
    // nearest area outside it (point to point), as a study's `clusters.links` would, until all are one piece.
    var neighbours = contiguity.neighbours
    var ferryLinks = 0
    while true {
        var piece = Array(repeating: -1, count: n), pieces = 0
        for s in 0..<n where piece[s] < 0 {
            var stack = [s]
            piece[s] = pieces
            while let a = stack.popLast() { for b in neighbours[a] where piece[b] < 0 { piece[b] = pieces; stack.append(b) } }
            pieces += 1
        }
        guard pieces > 1 else { break }
        let sizes = (0..<pieces).map { p in piece.filter { $0 == p }.count }
        let main = sizes.indices.max { sizes[$0] < sizes[$1] }!
        for p in 0..<pieces where p != main {
            var best: (Double, Int, Int)?
            for a in 0..<n where piece[a] == p {
                for b in 0..<n where piece[b] != p {
                    let d = hypot(points[a].x - points[b].x, points[a].y - points[b].y)
                    if best == nil || d < best!.0 { best = (d, a, b) }
                }
            }
            if let (_, a, b) = best, !neighbours[a].contains(b) { neighbours[a].append(b); neighbours[b].append(a); ferryLinks += 1 }
        }
    }
    let hubs = (0..<n).map { RegionHub(id: codes[$0], name: areas[$0].name, kind: .village, area: $0) }
    let t2 = Date()
    let cost: [[Double]] = (0..<n).map { i in (0..<n).map { h in people[i] * hypot(points[i].x - points[h].x, points[i].y - points[h].y) } }
    let tCost = Date().timeIntervalSince(t2)
    let k = 98, threshold = 10_000.0
    func problem(_ count: RegionCount, _ objective: RegionObjective, minimum: Double?) -> RegionProblem {
        RegionProblem(areaIds: codes, areaNames: areas.map(\.name), population: people, neighbours: neighbours, hubs: hubs,
                      cost: cost, minPopulation: minimum, count: count, objective: objective)
    }
    print(String(format: "Regions, Danish parishes: %d parishes, %.0f people, %d neighbour pairs, %d ferry links; "
                 + "read + repair %d + dissolve %.2f s, contiguity %.2f s, costs %.2f s", n, people.reduce(0, +), contiguity.pairs.count,
                 ferryLinks, repaired, tLoad, tContiguity, tCost))
    let travel = RegionHeuristic.solve(problem(.exactly(k), .travel, minimum: nil))
    if let travel {
        print(String(format: "  k = %d: heuristic %.2f s, %.4g person-km (bound %.4g)", k, travel.seconds, travel.objectiveValue / 1000, (travel.bound ?? 0) / 1000))
    }
    let maxp = RegionHeuristic.solve(problem(.most, .count, minimum: threshold))
    if let maxp {
        print(String(format: "  max-p, at least %.0f people: heuristic %.2f s, %d clusters (at most %.0f)", threshold, maxp.seconds,
                     maxp.clusterCount, maxp.bound ?? 0))
    } else {
        print("  max-p: no partition found")
    }
    try writeBinary(cost.flatMap { $0 }, "parishes-cost.f64")
    func list(_ v: [Double]) -> String { "[" + v.map { String($0) }.joined(separator: ",") + "]" }
    let json = """
    {"ids": [\(codes.map { "\"\($0)\"" }.joined(separator: ","))], "population": \(list(people)),
     "x": \(list(points.map(\.x))), "y": \(list(points.map(\.y))),
     "neighbours": [\(neighbours.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }.joined(separator: ","))],
     "threshold": \(threshold), "k": \(k), "ferry_links": \(ferryLinks),
     "klynge": {"maxp_regions": \(maxp?.clusterCount ?? -1), "maxp_seconds": \(maxp?.seconds ?? -1), "travel_k": \(k),
                "travel": \(travel?.objectiveValue ?? -1), "travel_seconds": \(travel?.seconds ?? -1),
                "setup_seconds": \(tLoad + tContiguity + tCost)}}
    """
    try json.write(to: outFolder.appendingPathComponent("parishes.json"), atomically: true, encoding: .utf8)
}
