import Foundation
import Hummingbird
import Synchronization
import KlyngeAnalysis
import KlyngeNetwork
import KlyngeStudy
import KlyngeStudyAnalysis
import KlyngeWork

/// Cluster geography: proposals computed on request (`POST /api/regions`), the clusterings there are
/// (`GET /api/clusterings`), a hand-edited clustering checked against constraints (`POST /api/regions/check`,
/// read-only, no token) and saved as a new alternative (`POST /api/clusterings`, token).
struct RegionsController {
    let state: ServiceState
    let config: ServerConfig
    let heavy: HeavyWork
    let setups = RegionSetupCache()

    /// POST routes that change nothing, so need no token.
    static let readOnlyPosts: Set<String> = ["/api/regions/check"]

    func add(to router: Router<KlyngeRequestContext>) {
        router.post("/api/regions", use: propose)
        router.post("/api/regions/check", use: check)
        router.get("/api/clusterings") { _, _ in
            let snapshot = await state.snapshot()
            return JSONBody.response(["clusterings": snapshot.clusterings()])
        }
        router.post("/api/clusterings", use: save)
        router.delete("/api/clusterings/:id") { _, context in
            try await state.deleteProposal(try pathParameter(context, "id"))
            return Response(status: .noContent)
        }
    }

    /// Every key any of the three bodies takes; each route names the ones it accepts.
    struct Body: Decodable {
        var clusters: Int?
        var maxClusters: Bool?
        var objective: String?
        var minPopulation: Double?
        var maxPopulation: Double?
        var maxMinutes: Double?
        var mode: String?
        var require: [String]?
        var scenario: String?
        var within: String?
        /// Area id or name → cluster name.
        var locks: [String: String]?
        var hubs: [String]?
        var minSharedMeters: Double?
        var solver: String?
        var seed: UInt64?
        /// Area id → cluster name: a clustering to check or save.
        var assignments: [String: String]?
        var name: String?
    }
    static let constraintKeys: Set<String> = ["minPopulation", "maxPopulation", "maxMinutes", "mode", "require", "scenario", "within", "minSharedMeters"]
    static let proposeKeys = constraintKeys.union(["clusters", "maxClusters", "objective", "locks", "hubs", "solver", "seed"])

    /// The body, refusing keys the route does not take: a misspelt one would be ignored silently and change the answer.
    func body(_ request: Request, keys: Set<String>) async throws -> Body {
        var r = request
        let data = Data(buffer: try await r.collectBody(upTo: config.maxBodyBytes))
        if let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
           let unknown = object.keys.sorted().first(where: { !keys.contains($0) }) {
            throw ServiceError.badRequest("unknown key `\(unknown)` (keys: \(keys.sorted().joined(separator: ", ")))", parameter: unknown)
        }
        return try JSONDecoder().decode(Body.self, from: data)
    }

    /// The constraints every route shares, each number checked finite and in range.
    func constraints(_ q: Body, _ snapshot: AnalysisSnapshot) throws -> RegionRequest {
        var req = RegionRequest()
        req.minPopulation = try q.minPopulation.map { try Checked.double($0, "minPopulation", in: 0.001...1e9) }
        req.maxPopulation = try q.maxPopulation.map { try Checked.double($0, "maxPopulation", in: 0.001...1e9) }
        req.maxMinutes = try q.maxMinutes.map { try Checked.double($0, "maxMinutes", in: 0.01...10_000) }
        req.minSharedMeters = try Checked.double(q.minSharedMeters ?? RegionContiguity.defaultMinSharedMeters, "minSharedMeters", in: 0.01...1_000_000)
        if let m = q.mode {
            guard let mode = TravelMode(rawValue: m) else { throw ServiceError.badRequest("mode is car, bike, walk or distance", parameter: "mode") }
            req.mode = mode
        }
        if (q.require?.count ?? 0) > 50 { throw ServiceError.badRequest("require lists more than 50 items", parameter: "require") }
        req.require = q.require ?? []
        req.scenario = try q.scenario.map { try snapshot.scenario($0).name }
        req.within = q.within
        return req
    }

    @Sendable func propose(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        let q = try await body(request, keys: Self.proposeKeys)
        let snapshot = await state.snapshot()
        let analysis = snapshot.analysis
        let areaCount = max(1, analysis.study.areas.count)
        var req = try constraints(q, snapshot)
        switch (q.clusters, q.maxClusters ?? false) {
        case (let k?, false): req.count = .exactly(try Checked.int(k, "clusters", in: 1...areaCount)!)
        case (nil, true): req.count = .most
        default: throw ServiceError.badRequest("give clusters (a number), or maxClusters: true", parameter: "clusters")
        }
        if let o = q.objective {
            guard let objective = RegionObjective(rawValue: o) else {
                throw ServiceError.badRequest("objective is travel, balance or count", parameter: "objective")
            }
            req.objective = objective
        } else {
            req.objective = q.clusters == nil ? .count : .travel
        }
        if let s = q.solver {
            guard let solver = RegionSolverChoice(rawValue: s) else { throw ServiceError.badRequest("solver is exact, heuristic or auto", parameter: "solver") }
            req.solver = solver
        }
        for (name, count, limit) in [("hubs", q.hubs?.count ?? 0, 100), ("locks", q.locks?.count ?? 0, areaCount)] where count > limit {
            throw ServiceError.badRequest("\(name) lists more than \(limit) items", parameter: name)
        }
        req.locks = (q.locks ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        req.hubs = q.hubs ?? []
        req.seed = q.seed ?? 1
        let checked = req
        let limit = config.limits.analysisSeconds
        let setups = self.setups, revision = snapshot.revision
        let out = try await heavy.run(request, lane: .heavy, seconds: limit) { control in
            var bounded = checked
            bounded.timeLimitSeconds = max(1, (control.remainingSeconds ?? limit) - 0.5)
            let setup = try setups.get(RegionSetup.key(bounded), revision: revision) { try RegionSetup(analysis: analysis, request: bounded) }
                .retargeted(bounded)
            do { return try setup.solve(control: control) } catch let e as RegionsInfeasible {
                throw ServiceError.unprocessable(e.description)
            }
        }
        return JSONBody.response(out)
    }

    /// The set-up for a check or save: contiguity and travel to every hub are kept per revision and per
    /// the settings they depend on; population limits are applied to the kept one.
    func setup(_ q: Body, _ snapshot: AnalysisSnapshot, _ request: Request) async throws -> (RegionSetup, [String: String]) {
        let areaCount = snapshot.analysis.study.areas.count
        guard let assignments = q.assignments else { throw ServiceError.badRequest("send assignments: {area id: cluster name}", parameter: "assignments") }
        guard assignments.count <= areaCount else {
            throw ServiceError.badRequest("assignments lists \(assignments.count) areas; the study has \(areaCount)", parameter: "assignments")
        }
        for (area, cluster) in assignments where area.count > 200 || cluster.isEmpty || cluster.count > 200 {
            throw ServiceError.badRequest("assignments: area ids and cluster names have 1 to 200 characters", parameter: "assignments")
        }
        let req = try constraints(q, snapshot)
        let analysis = snapshot.analysis
        let limit = config.limits.analysisSeconds, heavy = self.heavy, setups = self.setups
        let base = try await heavy.run(request, lane: .analysis, seconds: limit) { _ in
            try setups.get(RegionSetup.key(req), revision: snapshot.revision) { try RegionSetup(analysis: analysis, request: req) }
        }
        // A check has no count to meet: any number of clusters is fine.
        return (base.retargeted(req), assignments)
    }

    @Sendable func check(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        let q = try await body(request, keys: Self.constraintKeys.union(["assignments"]))
        let snapshot = await state.snapshot()
        let (setup, assignments) = try await setup(q, snapshot, request)
        return JSONBody.response(try setup.check(assignments))
    }

    @Sendable func save(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        let q = try await body(request, keys: Self.constraintKeys.union(["assignments", "name"]))
        let name = (q.name ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 200 else { throw ServiceError.badRequest("a clustering needs a name of 1 to 200 characters", parameter: "name") }
        let snapshot = await state.snapshot()
        let (setup, assignments) = try await setup(q, snapshot, request)
        let clustering: SavedClustering
        do { clustering = try setup.saving(assignments, name: name, note: "edited on the web page") } catch let e as AnalysisSetupError {
            throw ServiceError.unprocessable(e.message)
        }
        let record = try await state.saveProposal(clustering)
        return JSONBody.response(record, status: .created, headers: [.location: "\(config.pathPrefix)/collections/clustering-\(record.id)"])
    }
}

/// Region set-ups of the current revision, by `RegionSetup.key`: a set-up costs one search per possible
/// hub, and the page's editor checks after every move.
final class RegionSetupCache: Sendable {
    private struct Entries {
        var revision = -1
        var setups: [String: RegionSetup] = [:]
    }
    private let entries = Mutex(Entries())
    private let capacity = 8

    func get(_ key: String, revision: Int, make: () throws -> RegionSetup) throws -> RegionSetup {
        if let s = entries.withLock({ e -> RegionSetup? in
            if e.revision != revision { e = Entries(revision: revision) }
            return e.setups[key]
        }) { return s }
        let made = try make()
        let capacity = capacity
        entries.withLock { e in
            guard e.revision == revision else { return }
            if e.setups.count >= capacity { e.setups = [:] }
            e.setups[key] = made
        }
        return made
    }
}
