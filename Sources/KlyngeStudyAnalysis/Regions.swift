import Foundation
import KlyngeAnalysis
import KlyngeGEOS
import KlyngeGeo
import KlyngeIngest
import KlyngeNetwork
import KlyngeStudy
import KlyngeWork

/// What `klynge regions` is asked for: constraints, objective and search, all checked before anything runs.
public struct RegionRequest: Sendable {
    public var objective: RegionObjective = .travel
    public var count: RegionCount = .most
    public var minPopulation: Double?
    public var maxPopulation: Double?
    /// Every village reaches its cluster's hub within this time (timed modes).
    public var maxMinutes: Double?
    public var mode: TravelMode = .car
    /// Categories every cluster must hold an open facility of, under `scenario` (today when nil).
    public var require: [String] = []
    public var scenario: String?
    /// An area attribute whose values clusters never mix (kommune code, school district).
    public var within: String?
    /// Area (id or name) → the cluster it must be in.
    public var locks: [(area: String, cluster: String)] = []
    /// Villages or facilities (ids or names) that must be hubs.
    public var hubs: [String] = []
    /// Neighbours need at least this much shared boundary; corners alone never count.
    public var minSharedMeters: Double = RegionContiguity.defaultMinSharedMeters
    public var solver: RegionSolverChoice = .auto
    public var seed: UInt64 = 1
    public var timeLimitSeconds: Double = 60
    /// `--from`: a clustering the search starts from, and (`--keep`) those of its clusters that stay whole.
    public var start: SavedClustering?
    public var keep: [String] = []

    public init() {}

    /// Every setting that would give a wrong or meaningless answer, by option name.
    public func problems(study: Study) -> [String] {
        var out: [String] = []
        func positive(_ v: Double?, _ name: String) {
            if let v, !(v.isFinite && v > 0) { out.append("\(name) must be a positive finite number") }
        }
        positive(minPopulation, "--min-population")
        positive(maxPopulation, "--max-population")
        positive(maxMinutes, "--max-minutes")
        positive(timeLimitSeconds, "--time-limit")
        if !(minSharedMeters.isFinite && minSharedMeters > 0) { out.append("--min-shared-m must be a positive number of metres") }
        if let lo = minPopulation, let hi = maxPopulation, lo > hi { out.append("--min-population (\(shown(lo))) is above --max-population (\(shown(hi)))") }
        if case .exactly(let k) = count, k < 1 { out.append("--clusters must be at least 1") }
        if case .exactly(let k) = count, k > study.areas.count {
            out.append("--clusters \(k) is more than the study's \(study.areas.count) areas")
        }
        if objective == .count, case .exactly = count { out.append("--objective count asks for the most clusters: use it without --clusters") }
        if objective == .balance, count == .most, minPopulation == nil {
            out.append("--objective balance needs --clusters k, or --min-population to decide how many")
        }
        if maxMinutes != nil, !mode.isTimed { out.append("--max-minutes needs a timed mode (car, bike, walk), not distance") }
        let known = Set(study.categories.map(\.key))
        for c in require where !known.contains(c) { out.append("--require: unknown category `\(c)` (categories: \(known.sorted().joined(separator: ", ")))") }
        if let within, !study.areas.contains(where: { $0.attributes[within] != nil }) {
            let fields = Set(study.areas.flatMap { $0.attributes.keys }).sorted()
            out.append("--within: the areas have no field `\(within)` (fields: \(fields.joined(separator: ", ")))")
        }
        if study.areas.isEmpty { out.append("the study has no areas layer to partition") }
        if !keep.isEmpty && start == nil { out.append("--keep names clusters of a --from clustering: give --from too") }
        if let start {
            let clusters = Set(start.assignments.values)
            for k in keep where !clusters.contains(k) {
                out.append("--keep: the clustering `\(start.name)` has no cluster `\(k)` (its clusters: \(clusters.sorted().joined(separator: ", ")))")
            }
            let ids = Set(study.areas.map(\.id))
            let stale = start.assignments.keys.filter { !ids.contains($0) }.sorted()
            if !stale.isEmpty {
                out.append("--from: the clustering `\(start.name)` places areas the study does not have: \(stale.prefix(10).joined(separator: ", "))"
                           + (stale.count > 10 ? " and \(stale.count - 10) more" : ""))
            }
        }
        return out
    }
}

/// Which areas are neighbours, and why: a shared boundary, a road from one into the other, or a link in the
/// study file. Areas with none are listed: they are never glued to anything silently.
public struct RegionContiguity: Sendable {
    public enum Reason: String, Sendable, Codable { case boundary, road, link }
    public struct Pair: Sendable, Codable, Hashable {
        public var a: Int
        public var b: Int
        public var reason: Reason
        /// Shared boundary in metres (0 for road or link).
        public var sharedMeters: Double
    }
    /// A road may leave every area (a bridge, a causeway) for at most this long and still join two areas.
    public static let roadGapMeters = 2_000.0
    public static let defaultMinSharedMeters = 50.0
    /// Gaps and overlaps of digitising up to this width are ignored when measuring shared boundaries.
    public static let toleranceMeters = 1.0

    public var pairs: [Pair]
    public var neighbours: [[Int]]
    /// Areas with no neighbour at all.
    public var isolated: [Int]

    /// `index`: the study's point-in-area lookup when the caller has one already.
    public init(study: Study, minSharedMeters: Double, links: [(Int, Int)], index given: AreaIndex? = nil) throws {
        let n = study.areas.count
        let geos = try GEOSContext()
        let shared = try SharedBoundaries(study.areas.map(\.geometry), toleranceMeters: Self.toleranceMeters, context: geos)
        var found: [Int: [Int: Pair]] = [:]
        func add(_ a: Int, _ b: Int, _ reason: Reason, _ meters: Double) {
            let (x, y) = (min(a, b), max(a, b))
            if found[x]?[y] == nil { found[x, default: [:]][y] = Pair(a: x, b: y, reason: reason, sharedMeters: meters) }
        }
        let tol = Self.toleranceMeters
        for a in 0..<n {
            guard let ea = shared.envelopes[a] else { continue }
            for b in (a + 1)..<max(a + 1, n) {
                guard let eb = shared.envelopes[b],
                      ea.minX - tol <= eb.maxX, eb.minX - tol <= ea.maxX, ea.minY - tol <= eb.maxY, eb.minY - tol <= ea.maxY else { continue }
                let length = max(try shared.length(a, b), try shared.length(b, a))
                if length >= minSharedMeters { add(a, b, .boundary, length) }
            }
        }
        // Roads: consecutive vertices in two different areas, with at most roadGapMeters outside every area between.
        let index = try given ?? AreaIndex(areas: study.areas, geos: geos)
        let position = Dictionary(uniqueKeysWithValues: study.areas.enumerated().map { ($1.id, $0) })
        func locate(_ c: Coordinate) -> Int? {
            index.areaId(containing: c).flatMap { position[$0] }
        }
        for road in study.roads {
            for part in road.parts {
                // The area of the last vertex inside one, and the length walked outside every area since.
                var last: Int?, outside = 0.0, previous: Coordinate?, previousInside = false
                for c in part {
                    if let p = previous, !previousInside, last != nil { outside += hypot(c.x - p.x, c.y - p.y) }
                    previous = c
                    guard let here = locate(c) else { previousInside = false; continue }
                    if let l = last, l != here, outside <= Self.roadGapMeters { add(l, here, .road, 0) }
                    last = here
                    outside = 0
                    previousInside = true
                }
            }
        }
        for (a, b) in links where a != b { add(a, b, .link, 0) }
        pairs = found.keys.sorted().flatMap { x in found[x]!.keys.sorted().map { found[x]![$0]! } }
        var neighbours = Array(repeating: [Int](), count: n)
        for p in pairs { neighbours[p.a].append(p.b); neighbours[p.b].append(p.a) }
        self.neighbours = neighbours.map { $0.sorted() }
        isolated = (0..<n).filter { neighbours[$0].isEmpty }
    }
}

/// A regionalisation of the study, ready to solve: the pure problem, with what is needed to name its parts.
public struct RegionSetup: Sendable {
    /// Every village is a possible hub up to this many villages; beyond, each area's most populous few.
    public static let allVillagesAsHubsUpTo = 500
    public static let hubsPerAreaInLargeStudies = 5
    public internal(set) var request: RegionRequest
    public internal(set) var problem: RegionProblem
    public let contiguity: RegionContiguity
    /// Demand indexes per area.
    public let villages: [[Int]]
    /// Per area and hub, the travel of each village in seconds (nil unreachable), for messages and figures.
    let villageCost: [[Double?]]
    let study: Study
    /// `--from` as area → cluster index, and why the search cannot start from it (nil when it can).
    public let start: [Int]?
    public let startNote: String?

    public init(analysis: StudyAnalysis, request given: RegionRequest) throws {
        let study = analysis.study
        var request = given
        var seen = Set<String>()
        request.require = given.require.filter { seen.insert($0).inserted }  // `hall,hall` asks for one hall
        let problems = request.problems(study: study)
        guard problems.isEmpty else { throw AnalysisSetupError(problems.joined(separator: "\n")) }
        self.request = request
        self.study = study
        let areas = study.areas
        let position = Dictionary(uniqueKeysWithValues: areas.enumerated().map { ($1.id, $0) })
        func area(_ key: String, option: String) throws -> Int {
            let match = study.area(matching: key)
            guard case .found(let i) = match else { throw AnalysisSetupError("\(option): \(match.problem(key) ?? "")") }
            return i
        }
        var links: [(Int, Int)] = []
        for (k, pair) in (study.clusters.links ?? []).enumerated() {
            guard pair.count == 2 else { throw AnalysisSetupError("clusters.links[\(k)]: a link is a pair of two areas, not \(pair.count)") }
            links.append((try area(pair[0], option: "clusters.links[\(k)]"), try area(pair[1], option: "clusters.links[\(k)]")))
        }
        let geos = try GEOSContext()
        let index = try AreaIndex(areas: areas, geos: geos)
        contiguity = try RegionContiguity(study: study, minSharedMeters: request.minSharedMeters, links: links, index: index)

        // Villages per area, and the areas' populations from them (as every other figure of the study).
        var villages = Array(repeating: [Int](), count: areas.count)
        for (d, v) in study.demand.enumerated() { if let a = v.areaId.flatMap({ position[$0] }) { villages[a].append(d) } }
        self.villages = villages
        let population = villages.map { $0.reduce(0) { $0 + study.demand[$1].weight } }

        // Hubs: every village (each area's most populous few in a large study, as each candidate costs a
        // search), and the facilities named in --hubs.
        var hubs: [RegionHub] = []
        var sites: [Site] = []
        let many = study.demand.count > Self.allVillagesAsHubsUpTo
        for (a, vs) in villages.enumerated() {
            let candidates = many ? Array(vs.sorted { (study.demand[$0].weight, $1) > (study.demand[$1].weight, $0) }.prefix(Self.hubsPerAreaInLargeStudies)) : vs
            for d in candidates {
                let v = study.demand[d]
                hubs.append(RegionHub(id: v.id, name: v.name.isEmpty ? v.id : v.name, kind: .village, area: a))
                sites.append(Site(id: v.id, name: v.name, categories: [], location: v.location, isCandidate: true))
            }
        }
        var fixed = Set<Int>()
        for key in request.hubs {
            // A named village that is not a candidate yet becomes one.
            if many, !hubs.contains(where: { $0.id == key || $0.name == key }),
               let d = study.demand.indices.first(where: { study.demand[$0].id == key }) ?? {
                   let named = study.demand.indices.filter { study.demand[$0].name == key }
                   return named.count == 1 ? named[0] : nil
               }(), let a = study.demand[d].areaId.flatMap({ position[$0] }) {
                let v = study.demand[d]
                hubs.append(RegionHub(id: v.id, name: v.name.isEmpty ? v.id : v.name, kind: .village, area: a))
                sites.append(Site(id: v.id, name: v.name, categories: [], location: v.location, isCandidate: true))
            }
            if let h = hubs.firstIndex(where: { $0.id == key }) ?? {
                let named = hubs.indices.filter { hubs[$0].name == key }
                return named.count == 1 ? named[0] : nil
            }() {
                fixed.insert(h)
                continue
            }
            let facilities = study.facilities.filter { $0.id == key || $0.name == key }
            guard facilities.count == 1, let f = facilities.first else {
                throw AnalysisSetupError(facilities.count > 1
                    ? "--hubs: `\(key)` names \(facilities.count) facilities (ids \(facilities.map(\.id).joined(separator: ", "))); use an id"
                    : "--hubs: no village or facility has the id or name `\(key)`")
            }
            guard let a = index.areaId(containing: f.location).flatMap({ position[$0] }) else {
                throw AnalysisSetupError("--hubs: the facility `\(key)` lies in no area")
            }
            fixed.insert(hubs.count)
            hubs.append(RegionHub(id: f.id, name: f.name.isEmpty ? f.id : f.name, kind: .facility, area: a))
            sites.append(Site(id: f.id, name: f.name, categories: [], location: f.location, isCandidate: true))
        }
        // Travel from every village to every hub: one search per hub on the study's cost tables.
        let table = try analysis.tables.including(request.mode).columns(for: sites, mode: request.mode, layer: "hubs").table
        let limit = request.maxMinutes.map { CostPrecision.limit($0 * 60) }
        var villageCost: [[Double?]] = Array(repeating: Array(repeating: nil, count: hubs.count), count: study.demand.count)
        var cost = Array(repeating: Array(repeating: 0.0, count: hubs.count), count: areas.count)
        for a in areas.indices {
            for d in villages[a] {
                let w = study.demand[d].weight
                for h in hubs.indices {
                    let seconds = table.cost(d, h)?.cost
                    villageCost[d][h] = seconds
                    guard var s = seconds, limit.map({ s <= $0 }) ?? true else { cost[a][h] = .infinity; continue }
                    if hubs[h].kind == .village, hubs[h].id == study.demand[d].id { s = 0 }
                    cost[a][h] += w * s
                }
            }
        }
        self.villageCost = villageCost

        // Required categories: open facilities (under the scenario) inside each area.
        let plan = try request.scenario.map { try analysis.scenario(named: $0).plan } ?? analysis.engine.baselinePlan
        var areaHas = Array(repeating: Array(repeating: false, count: request.require.count), count: areas.count)
        for (s, site) in analysis.engine.sites.enumerated() {
            guard let a = index.areaId(containing: site.location).flatMap({ position[$0] }) else { continue }
            for (r, c) in request.require.enumerated() where plan.serves(s, c) { areaHas[a][r] = true }
        }
        var group = Array(repeating: 0, count: areas.count)
        if let field = request.within {
            var codes: [String: Int] = [:]
            for (a, area) in areas.enumerated() {
                let key = area.attributes[field]?.text ?? ""
                group[a] = codes[key] ?? codes.count
                codes[key] = group[a]
            }
        }
        var locks: [Int: String] = [:]
        // --keep: every area of a kept cluster is locked to it, under its name.
        let kept = Set(request.keep)
        for (id, cluster) in (request.start?.assignments ?? [:]).sorted(by: { $0.key < $1.key }) where kept.contains(cluster) {
            if let a = position[id] { locks[a] = cluster }
        }
        for lock in request.locks {
            let a = try area(lock.area, option: "--lock")
            if let other = locks[a], other != lock.cluster {
                throw AnalysisSetupError("--lock: \(areas[a].name) (\(areas[a].id)) is locked to both \(other) and \(lock.cluster)"
                                         + (kept.contains(other) ? " (kept whole from --from)" : ""))
            }
            locks[a] = lock.cluster
        }
        problem = RegionProblem(areaIds: areas.map(\.id), areaNames: areas.map(\.name), population: population,
                                neighbours: contiguity.neighbours, hubs: hubs, cost: cost, required: request.require,
                                areaHas: areaHas, group: group, locks: locks, fixedHubs: fixed,
                                minPopulation: request.minPopulation, maxPopulation: request.maxPopulation,
                                count: request.count, objective: request.objective)
        (start, startNote) = Self.start(request.start, problem: problem, areas: areas)
    }

    /// `--from` as area → cluster index when the search can start from it, else why not.
    static func start(_ from: SavedClustering?, problem: RegionProblem, areas: [Area]) -> ([Int]?, String?) {
        guard let from else { return (nil, nil) }
        let (assignment, names) = problem.indexed(from.assignments)
        let missing = areas.indices.filter { assignment[$0] < 0 }
        if !missing.isEmpty {
            return (nil, "the search does not start from `\(from.name)`: it places no cluster for "
                    + missing.prefix(5).map { "\(areas[$0].name) (\(areas[$0].id))" }.joined(separator: ", ")
                    + (missing.count > 5 ? " and \(missing.count - 5) more" : ""))
        }
        let wrong = problem.unmendable(assignment)
        guard !wrong.isEmpty else { return (assignment, nil) }
        return (nil, "the search does not start from `\(from.name)`: " + wrong.prefix(3).map { problem.describe($0) { names[$0] } }.joined(separator: "; "))
    }

    /// The obstacles in words, with the villages behind a missing hub named.
    public func explain(_ obstacles: [RegionObstacle]) -> [String] {
        obstacles.map { o in
            var text = problem.describe(o)
            if case .noHub(let areas) = o {
                // Per area, the hub that comes closest to reaching every village, and the village it misses most.
                let limit = request.maxMinutes.map { $0 * 60 }
                let details = areas.prefix(8).compactMap { a -> String? in
                    var best: (hub: Int, worst: Double, village: Int)?
                    for h in problem.hubs.indices where problem.group[problem.hubs[h].area] == problem.group[a] {
                        var worst = (0.0, -1)
                        for d in villages[a] {
                            let t = problem.hubs[h].kind == .village && problem.hubs[h].id == study.demand[d].id ? 0 : (villageCost[d][h] ?? .infinity)
                            if t > worst.0 || worst.1 < 0 { worst = (t, d) }
                        }
                        if worst.1 >= 0, best == nil || worst.0 < best!.worst { best = (h, worst.0, worst.1) }
                    }
                    guard let best else { return nil }
                    let village = study.demand[best.village].name.isEmpty ? study.demand[best.village].id : study.demand[best.village].name
                    let reach = best.worst.isFinite ? "\(shown(tenths(best.worst / 60))) min from \(village)" : "not reached at all from \(village)"
                    let limitText = limit.map { " (limit \(shown($0 / 60)) min)" } ?? ""
                    return "\(study.areas[a].name): the best hub, \(problem.hubs[best.hub].name), is \(reach)\(limitText)"
                }
                if !details.isEmpty { text += "; " + details.joined(separator: "; ") }
            }
            return text
        }
    }

    /// Solves, and names the result; throws with every known reason when there is none.
    public func solve(control: WorkControl = .unlimited) throws -> RegionProposal {
        let options = RegionSearchOptions(seed: request.seed, control: control, start: start)
        switch try Regionalisation.solve(problem, solver: request.solver, options: options, timeLimitSeconds: request.timeLimitSeconds) {
        case .solved(let s):
            let wrong = problem.violations(assignment: s.assignment, hubs: s.hubs)
            guard wrong.isEmpty else { throw AnalysisSetupError("internal check failed: " + wrong.joined(separator: "; ")) }
            return try RegionProposal(setup: self, solution: s)
        case .unsolved(let reasons, let proven):
            var lines = explain(reasons)
            if lines.isEmpty {
                lines = [proven
                    ? "no partition meets all the constraints together (proven by the exact solver); loosen one of them"
                    : "no partition meeting all the constraints was found (not proven impossible: try a longer --time-limit, another --solver, or looser constraints)"]
            }
            throw RegionsInfeasible(reasons: lines, proven: proven)
        }
    }
}

/// No partition: the reasons, each naming areas, villages or categories.
public struct RegionsInfeasible: Error, CustomStringConvertible {
    public let reasons: [String]
    public let proven: Bool
    public var description: String { "no clusters can be proposed:\n" + reasons.map { "  - " + $0 }.joined(separator: "\n") }
}

/// A proposed clustering, named and with its figures: what `regions` prints, writes and saves.
public struct RegionProposal: Sendable, Codable {
    public struct Member: Sendable, Codable { public var id: String; public var name: String }
    public struct Hub: Sendable, Codable { public var id: String; public var name: String; public var kind: RegionHub.Kind }
    public struct Cluster: Sendable, Codable {
        public var name: String
        /// Nil only in a check of a hand-made partition, for a cluster no hub fits.
        public var hub: Hub?
        public var areas: [Member]
        public var population: Double
        /// Population-weighted mean and worst travel from the villages to the hub, minutes (km in distance mode).
        public var meanToHub: Double?
        public var worstToHub: Double?
        public var worstVillage: String?
        /// Open facilities of each required category inside the cluster.
        public var required: [String: Int]
    }
    public struct Search: Sendable, Codable {
        public var solver: RegionSolverChoice
        public var proven: Bool
        public var objective: RegionObjective
        /// Travel in person-minutes (person-km in distance mode), balance in people, count in clusters.
        public var value: Double
        public var bound: Double?
        public var seconds: Double
        public var stoppedEarly: String?
        public var seed: UInt64
    }
    public var study: String
    public var mode: TravelMode
    public var constraints: [String]
    public var search: Search
    public var clusters: [Cluster]
    /// Two neighbouring areas, by id, and why they are neighbours.
    public struct Neighbours: Sendable, Codable {
        public var a: String
        public var b: String
        public var reason: RegionContiguity.Reason
        public var sharedMeters: Double
    }
    /// Areas with no neighbour (each its own cluster unless linked).
    public var isolatedAreas: [Member]
    public var contiguity: [Neighbours]
    /// Area id → cluster name.
    public var assignments: [String: String]

    init(setup: RegionSetup, solution s: RegionSolution) throws {
        let p = setup.problem, study = setup.study, request = setup.request
        let unit = request.mode.isTimed ? 60.0 : 1000.0
        self.study = study.name
        mode = request.mode
        constraints = setup.constraintTexts
        let value = s.objective == .travel ? s.objectiveValue / unit : s.objectiveValue
        let bound = s.bound.map { s.objective == .travel ? $0 / unit : $0 }
        search = Search(solver: s.method, proven: s.proven, objective: s.objective, value: value, bound: bound,
                        seconds: s.seconds, stoppedEarly: s.stoppedEarly, seed: request.seed)
        var used = Set<String>()
        var out: [Cluster] = []
        var assignments: [String: String] = [:]
        for (k, members) in s.members.enumerated() {
            let h = p.hubs[s.hubs[k]]
            let lock = members.compactMap { p.locks[$0] }.first
            var name = lock ?? h.name
            var n = 2
            while used.contains(name) { name = "\(lock ?? h.name) \(n)"; n += 1 }
            used.insert(name)
            for a in members { assignments[p.areaIds[a]] = name }
            out.append(setup.figures(name: name, members: members, hub: s.hubs[k]))
        }
        clusters = out
        self.assignments = assignments
        isolatedAreas = setup.contiguity.isolated.map { Member(id: p.areaIds[$0], name: p.areaNames[$0]) }
        contiguity = setup.contiguity.pairs.map {
            Neighbours(a: p.areaIds[$0.a], b: p.areaIds[$0.b], reason: $0.reason, sharedMeters: $0.sharedMeters.rounded())
        }
    }
}

extension RegionSetup {
    /// The constraints in force, in words, as a proposal lists them.
    public var constraintTexts: [String] {
        var c: [String] = []
        switch request.count { case .exactly(let k): c.append("clusters: \(k)"); case .most: c.append("clusters: as many as possible") }
        if let v = request.minPopulation { c.append("min population: \(shown(v))") }
        if let v = request.maxPopulation { c.append("max population: \(shown(v))") }
        if let v = request.maxMinutes { c.append("max minutes to hub (\(request.mode.rawValue)): \(shown(v))") }
        if !request.require.isEmpty { c.append("require: \(request.require.joined(separator: ", "))" + (request.scenario.map { " (scenario \($0))" } ?? "")) }
        if let w = request.within { c.append("within: \(w)") }
        if let from = request.start { c.append("from: \(from.name)" + (start == nil ? " (not used as a start)" : "")) }
        if !request.keep.isEmpty { c.append("kept whole: \(request.keep.joined(separator: ", "))") }
        for l in request.locks { c.append("lock: \(l.area)=\(l.cluster)") }
        if !request.hubs.isEmpty { c.append("hubs: \(request.hubs.joined(separator: ", "))") }
        c.append("neighbours: shared boundary ≥ \(shown(request.minSharedMeters)) m, or a road, or a link")
        if study.demand.count > RegionSetup.allVillagesAsHubsUpTo {
            c.append("possible hubs: the \(RegionSetup.hubsPerAreaInLargeStudies) most populous villages of each area (the study has \(study.demand.count) villages)")
        }
        return c
    }

    /// A cluster's figures: population, travel from its villages to the hub, required categories.
    func figures(name: String, members: [Int], hub: Int?) -> RegionProposal.Cluster {
        let p = problem
        let unit = request.mode.isTimed ? 60.0 : 1000.0
        var worst: (Double, Int)?
        var weighted = 0.0, people = 0.0
        if let hub {
            let h = p.hubs[hub]
            for a in members {
                for d in villages[a] {
                    let v = study.demand[d]
                    let t = (h.kind == .village && h.id == v.id) ? 0 : (villageCost[d][hub] ?? .infinity)
                    weighted += v.weight * t
                    people += v.weight
                    if worst == nil || t > worst!.0 { worst = (t, d) }
                }
            }
        }
        let required = Dictionary(uniqueKeysWithValues: request.require.enumerated().map { r, cat in
            (cat, members.filter { p.areaHas[$0][r] }.count)
        })
        return RegionProposal.Cluster(
            name: name, hub: hub.map { RegionProposal.Hub(id: p.hubs[$0].id, name: p.hubs[$0].name, kind: p.hubs[$0].kind) },
            areas: members.map { RegionProposal.Member(id: p.areaIds[$0], name: p.areaNames[$0]) },
            population: members.reduce(0) { $0 + p.population[$1] },
            meanToHub: people > 0 ? tenths(weighted / people / unit) : nil,
            worstToHub: worst.map { tenths($0.0 / unit) },
            worstVillage: worst.map { study.demand[$0.1].name.isEmpty ? study.demand[$0.1].id : study.demand[$0.1].name },
            required: required)
    }
}

/// A setting as typed: whole numbers without decimals.
private func shown(_ v: Double) -> String {
    Figures.plain.number(v, decimals: v == v.rounded() ? 0 : (v * 10 == (v * 10).rounded() ? 1 : 2))
}

private func tenths(_ v: Double) -> Double { (v * 10).rounded() / 10 }

extension RegionProposal {
    /// The clusters dissolved from their areas, with their figures, in the study's CRS.
    public func table(study: Study) throws -> FeatureTable {
        let geos = try GEOSContext()
        let byId = Dictionary(uniqueKeysWithValues: study.areas.map { ($0.id, $0) })
        let unit = mode.isTimed ? "min" : "km"
        var fields: [FieldDefinition] = [
            .init(name: "cluster", type: .string), .init(name: "hub", type: .string), .init(name: "hub_id", type: .string),
            .init(name: "hub_kind", type: .string), .init(name: "areas", type: .string), .init(name: "area_count", type: .integer),
            .init(name: "population", type: .real), .init(name: "mean_\(unit)_to_hub", type: .real),
            .init(name: "worst_\(unit)_to_hub", type: .real), .init(name: "worst_village", type: .string),
        ]
        let required = clusters.first?.required.keys.sorted() ?? []
        for c in required { fields.append(.init(name: "\(c)_count", type: .integer)) }
        let features = try clusters.map { c -> Feature in
            let shape = try geos.unaryUnion(c.areas.compactMap { byId[$0.id]?.geometry })
            var a: [String: AttributeValue] = [
                "cluster": .string(c.name), "hub": c.hub.map { .string($0.name) } ?? .null, "hub_id": c.hub.map { .string($0.id) } ?? .null,
                "hub_kind": c.hub.map { .string($0.kind.rawValue) } ?? .null,
                "areas": .string(c.areas.map(\.id).joined(separator: ";")), "area_count": .int(Int64(c.areas.count)),
                "population": .double(c.population),
                "mean_\(unit)_to_hub": c.meanToHub.map(AttributeValue.double) ?? .null,
                "worst_\(unit)_to_hub": c.worstToHub.flatMap { $0.isFinite ? AttributeValue.double($0) : nil } ?? .null,
                "worst_village": c.worstVillage.map(AttributeValue.string) ?? .null,
            ]
            for r in required { a["\(r)_count"] = .int(Int64(c.required[r] ?? 0)) }
            return Feature(geometry: shape, attributes: a)
        }
        return FeatureTable(name: "regions", crs: study.crs, fields: fields, features: features)
    }

    /// One row per area with its cluster, for joins in a GIS.
    public func areaTable(study: Study) -> FeatureTable {
        let features = study.areas.map { a in
            Feature(geometry: a.geometry, attributes: ["area_id": .string(a.id), "area_name": .string(a.name),
                                                       "cluster": assignments[a.id].map(AttributeValue.string) ?? .null])
        }
        return FeatureTable(name: "region_areas", crs: study.crs,
                            fields: [.init(name: "area_id", type: .string), .init(name: "area_name", type: .string), .init(name: "cluster", type: .string)],
                            features: features)
    }
}

extension RegionProposal {
    /// What the store keeps of it.
    public func saved(name: String) -> SavedClustering {
        SavedClustering(name: name, description: (["\(search.objective.rawValue), \(search.solver.rawValue)"] + constraints).joined(separator: "; "),
                        assignments: assignments, hubs: Dictionary(uniqueKeysWithValues: clusters.compactMap { c in c.hub.map { (c.name, $0.id) } }))
    }
}
