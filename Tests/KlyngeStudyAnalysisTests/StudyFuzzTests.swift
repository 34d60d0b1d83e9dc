import Foundation
import Testing
import Yams
import KlyngeGeo
import KlyngeStudy
import KlyngeTestSupport
@testable import KlyngeStudyAnalysis
@testable import KlyngeIngest
@testable import KlyngeJobs

/// A fixed-seed fuzz of study files: keys dropped, values of the wrong type, numbers extreme or non-finite,
/// aliases and deep nesting, on a small complete study (areas, villages, facilities, roads, rules, scenarios,
/// clusters). Every case must end in a result or an error, never a crash or a hang, and whatever `validate`
/// passes, the main job must accept.
@Suite(.serialized) struct StudyFuzzTests {
    /// Two parishes on Samsø's latitude, a road grid over them, three villages and four facilities.
    static let baseStudy = """
    name: Fuzz
    crs: EPSG:25832
    language: da
    categories:
      hall: { da: Forsamlingshus, en: Community hall }
      school: { da: Skole, en: School }
    layers:
      areas:
        source: areas.geojson
        fields: { id: kode, name: navn, cluster: klynge }
      demand:
        source: byer.geojson
        fields: { id: id, name: navn, weight: folk }
      facilities:
        source: steder.geojson
        fields: { id: id, name: navn, category: kategori }
      roads:
        source: veje.geojson
        fields: { id: id, class: klasse }
    checks: { max_outside_m: 500 }
    network:
      max_snap_m: 800
      suspicious_snap_m: 200
      modes: { car: { speeds_kmh: { tertiary: 60 }, access_speed_kmh: 15 } }
    coverage:
      default: { minutes: 10, mode: car }
      school: { km: 3, mode: walk }
    clusters:
      hubs: { Nord: Nordby }
      candidate_minutes: 4
    scenarios:
      - name: Et hus
        merge: [{ keep: H1, close: [H2] }]
      - name: Ny skole
        open: [{ name: Skolen, categories: [school], at: Sydby, capacity: 80 }]
        close: [S1]
    attribution: [Test]
    """

    static func writeData(in folder: URL) throws {
        func poly(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double) -> String {
            "{\"type\":\"Polygon\",\"coordinates\":[[[\(x0),\(y0)],[\(x1),\(y0)],[\(x1),\(y1)],[\(x0),\(y1)],[\(x0),\(y0)]]]}"
        }
        func point(_ x: Double, _ y: Double) -> String { "{\"type\":\"Point\",\"coordinates\":[\(x),\(y)]}" }
        func collection(_ features: [String]) -> String { "{\"type\":\"FeatureCollection\",\"features\":[" + features.joined(separator: ",") + "]}" }
        try TestSupport.write(collection([
            "{\"type\":\"Feature\",\"properties\":{\"kode\":\"N\",\"navn\":\"Nord\",\"klynge\":\"Nord\"},\"geometry\":\(poly(10.55, 55.85, 10.65, 55.90))}",
            "{\"type\":\"Feature\",\"properties\":{\"kode\":\"S\",\"navn\":\"Syd\",\"klynge\":\"Syd\"},\"geometry\":\(poly(10.55, 55.80, 10.65, 55.85))}",
        ]), to: folder.appendingPathComponent("areas.geojson"))
        try TestSupport.write(collection([
            "{\"type\":\"Feature\",\"properties\":{\"id\":\"B1\",\"navn\":\"Nordby\",\"folk\":400},\"geometry\":\(point(10.60, 55.88))}",
            "{\"type\":\"Feature\",\"properties\":{\"id\":\"B2\",\"navn\":\"Midtby\",\"folk\":150},\"geometry\":\(point(10.58, 55.86))}",
            "{\"type\":\"Feature\",\"properties\":{\"id\":\"B3\",\"navn\":\"Sydby\",\"folk\":250},\"geometry\":\(point(10.61, 55.82))}",
        ]), to: folder.appendingPathComponent("byer.geojson"))
        try TestSupport.write(collection([
            "{\"type\":\"Feature\",\"properties\":{\"id\":\"H1\",\"navn\":\"Nordhuset\",\"kategori\":\"hall\"},\"geometry\":\(point(10.601, 55.881))}",
            "{\"type\":\"Feature\",\"properties\":{\"id\":\"H2\",\"navn\":\"Sydhuset\",\"kategori\":\"hall\"},\"geometry\":\(point(10.611, 55.821))}",
            "{\"type\":\"Feature\",\"properties\":{\"id\":\"S1\",\"navn\":\"Skolen\",\"kategori\":\"school\"},\"geometry\":\(point(10.59, 55.87))}",
            "{\"type\":\"Feature\",\"properties\":{\"id\":\"M1\",\"navn\":\"Multi\",\"kategori\":\"hall;school\"},\"geometry\":\(point(10.58, 55.861))}",
        ]), to: folder.appendingPathComponent("steder.geojson"))
        // A grid of roads every 0.01°, both ways.
        var roads: [String] = []
        var k = 0
        for i in 0...10 {
            let x = 10.55 + Double(i) * 0.01
            roads.append("{\"type\":\"Feature\",\"properties\":{\"id\":\"v\(k)\",\"klasse\":\"tertiary\"},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[\(x),55.80],[\(x),55.90]]}}")
            k += 1
        }
        for j in 0...10 {
            let y = 55.80 + Double(j) * 0.01
            var coords: [String] = []
            for i in 0...10 { coords.append("[\(10.55 + Double(i) * 0.01),\(y)]") }
            roads.append("{\"type\":\"Feature\",\"properties\":{\"id\":\"v\(k)\",\"klasse\":\"residential\"},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[\(coords.joined(separator: ","))]}}")
            k += 1
        }
        try TestSupport.write(collection(roads), to: folder.appendingPathComponent("veje.geojson"))
    }

    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    }

    /// Every path to a node of the tree, for picking one to change.
    static func paths(_ node: Node, _ prefix: [Node] = []) -> [[Node]] {
        var out: [[Node]] = [prefix]
        switch node {
        case .mapping(let m): for (k, v) in m { out += paths(v, prefix + [k]) }
        case .sequence(let s): for (i, v) in s.enumerated() { out += paths(v, prefix + [Node(String(i))]) }
        default: break
        }
        return out
    }

    static func scalars(_ node: Node) -> [Node] {
        switch node {
        case .mapping(let m): return m.flatMap { scalars($0.value) }
        case .sequence(let s): return s.flatMap { scalars($0) }
        default: return [node]
        }
    }

    /// The tree with the node at `path` replaced (nil: removed).
    static func replacing(_ node: Node, at path: ArraySlice<Node>, with new: Node?) -> Node? {
        guard let head = path.first else { return new }
        switch node {
        case .mapping(var m):
            guard let old = m[head] else { return node }
            if let changed = replacing(old, at: path.dropFirst(), with: new) { m[head] = changed } else {
                m = Node.Mapping(m.filter { $0.key != head }, m.tag, m.style)
            }
            return .mapping(m)
        case .sequence(var s):
            guard let i = Int(head.string ?? ""), i < s.count else { return node }
            if let changed = replacing(s[i], at: path.dropFirst(), with: new) { s[i] = changed } else { s.remove(at: i) }
            return .sequence(s)
        default:
            return node
        }
    }

    static var odd: [Node] { [
        "", "-1", "0", "-0", "1e308", "-1e308", ".nan", ".inf", "-.inf", "1e-320", "999999999999999999999", "abc", "null", "~",
        "true", "[]", "{}", "ÆØÅ", "\"; DROP TABLE\"", "../../etc/passwd", "PG:dbname=x",
        .sequence([]), .mapping([:]), .sequence(["1", "2"]), .mapping(["a": "b"]),
    ] }

    static func mutate(_ root: Node, _ r: inout Rng) -> String {
        var node = root
        // Scalars of the study itself: an id, a name or a number in the wrong place is the likeliest mistake.
        let own = scalars(root)
        for _ in 0..<(r.below(4) == 0 ? 2 : 1) {
            let all = paths(node).filter { !$0.isEmpty }
            let path = all[r.below(all.count)]
            switch r.below(7) {
            case 5, 6: node = replacing(node, at: path[...], with: own[r.below(own.count)]) ?? node
            case 0: node = replacing(node, at: path[...], with: nil) ?? node
            case 1, 2:
                let values = odd
                node = replacing(node, at: path[...], with: values[r.below(values.count)]) ?? node
            case 3:
                // Deep nesting.
                var deep: Node = "x"
                for _ in 0..<(50 + r.below(400)) { deep = .sequence([deep]) }
                node = replacing(node, at: path[...], with: deep) ?? node
            default:
                // A number nudged to an extreme.
                let v = [Double.greatestFiniteMagnitude, -1, 0, 1e-9, 1e9, -1e9][r.below(6)]
                node = replacing(node, at: path[...], with: Node(String(v))) ?? node
            }
        }
        var text = (try? Yams.serialize(node: node)) ?? ""
        if r.below(8) == 0 {
            // Aliases: a small fan-out, legal, and a large one, refused.
            let fan = 2 + r.below(12)
            text += "\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
            for k in 1...(3 + r.below(6)) { text += "x\(k): &a\(k) [" + Array(repeating: "*a\(k - 1)", count: fan).joined(separator: ", ") + "]\n" }
        }
        return text
    }

    @Test func fixedSeedFuzzEndsInAnswersOrErrors() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.writeData(in: folder)
        let root = try #require(try Yams.compose(yaml: Self.baseStudy))
        // The unchanged study passes both, so the fuzz starts from something that works.
        let path = folder.appendingPathComponent("study.yaml").path
        try TestSupport.write(Self.baseStudy, to: URL(fileURLWithPath: path))
        #expect(try Self.outcome(path: path, folder: folder).0 == .accepted)
        // A fixed seed and size in CI; KLYNGE_FUZZ_SEED and KLYNGE_FUZZ_CASES run a longer, different fuzz by hand.
        let env = ProcessInfo.processInfo.environment
        var r = Rng(state: env["KLYNGE_FUZZ_SEED"].flatMap(UInt64.init) ?? 20261203)
        var counts: [Outcome: Int] = [:]
        for _ in 0..<(env["KLYNGE_FUZZ_CASES"].flatMap(Int.init) ?? 220) {
            try TestSupport.write(Self.mutate(root, &r), to: URL(fileURLWithPath: path))
            let (o, why) = try Self.outcome(path: path, folder: folder)
            counts[o, default: 0] += 1
            if o == .validatedButReportFailed {
                Issue.record("validate passed what report refused:\n\(try String(contentsOfFile: path, encoding: .utf8))\n\(why ?? "")")
            }
        }
        // The fuzz reaches both sides: some mutants load and report, many are refused.
        #expect((counts[.accepted] ?? 0) > 10 && (counts[.refused] ?? 0) > 10, "\(counts)")
    }

    enum Outcome: Hashable { case refused, accepted, validatedButReportFailed }

    /// What `validate` says, and, when it passes, whether the main job runs.
    static func outcome(path: String, folder: URL) throws -> (Outcome, String?) {
        let loaded: LoadResult
        do { loaded = try StudyLoader().load(path: path) } catch { return (.refused, nil) }
        guard loaded.isUsable, let study = loaded.study else { return (.refused, nil) }
        if StudyCheck.findings(study, file: path).contains(where: { $0.severity == .error }) { return (.refused, nil) }
        let out = folder.appendingPathComponent("out")
        do {
            let analysis = try StudyAnalysis(study: study)
            _ = try MainReport(analysis: analysis, folder: out, language: study.language)
            return (.accepted, nil)
        } catch {
            return (.validatedButReportFailed, "\(error)")
        }
    }
}
