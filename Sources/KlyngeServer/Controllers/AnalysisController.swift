import Foundation
import Hummingbird
import KlyngeAnalysis
import KlyngeStudyAnalysis
import KlyngeIngest
import KlyngeJobs
import KlyngeNetwork
import KlyngeGeo
import KlyngeStudy
import KlyngeWork

/// Which villages a coverage answer lists.
enum PointSelection: String, CaseIterable {
    case all, changed, none
}

/// Whether a coverage answer carries the access figures (backup coverage, 2SFCA). The page's what-ifs leave
/// them out: closing a hall moves the catchment ratio of most villages, and `points=changed` would list them all.
enum AccessSelection: String, CaseIterable {
    case all, none
}

/// The analysis API: coverage (with unsaved what-ifs), compare, impact, clusters, categories, optimize.
/// Cluster geography is in `RegionsController`.
struct AnalysisController {
    let state: ServiceState
    let config: ServerConfig
    let heavy: HeavyWork

    func add(to router: Router<KlyngeRequestContext>) {
        router.get("/api/openapi.json") { _, _ in JSONBody.response(OpenAPI.document, type: "application/vnd.oai.openapi+json;version=3.0") }
        router.get("/api/coverage", use: coverage)
        router.get("/api/categories") { _, _ in
            JSONBody.response(JSONBody.encode(any: state.study.categories.map { ["key": $0.key, "da": $0.labelDa, "en": $0.labelEn] }))
        }
        router.get("/api/compare", use: compare)
        router.get("/api/profile", use: profile)
        router.get("/api/impact", use: impact)
        router.get("/api/clusters") { request, _ in
            let snapshot = await state.snapshot()
            return JSONBody.response(try await heavy.run(request, lane: .heavy, seconds: config.limits.analysisSeconds) { _ in
                try ClusterReport(analysis: snapshot.analysis)
            })
        }
        router.post("/api/optimize", use: optimize)
    }

    /// A category of the study, checked the same way for every route.
    static func category(_ q: Query, _ analysis: StudyAnalysis, required: Bool = false) throws -> String? {
        guard let c = try q.text("category", maxLength: 100) else {
            if required { throw ServiceError.badRequest("name a category of the study: ?category=…", parameter: "category") }
            return nil
        }
        guard analysis.engine.categories.contains(c) else {
            throw ServiceError.badRequest("unknown category `\(c)` (the study has: \(analysis.engine.categories.joined(separator: ", ")))",
                                          parameter: "category")
        }
        return c
    }

    /// `decay=power:1.5`: the access figures also as gravity and E2SFCA (per minute or km, by each rule).
    static func decay(_ q: Query) throws -> DistanceDecay? {
        guard let text = try q.text("decay", maxLength: 40) else { return nil }
        do { return try DistanceDecay.parse(text, unitCost: 60) } catch let e as LocationError { throw ServiceError.badRequest(e.message, parameter: "decay") }
    }

    @Sendable func coverage(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        let snapshot = await state.snapshot()
        let analysis = snapshot.analysis
        let q = Query(request)
        let scenario = try q.text("scenario").map { try snapshot.scenario($0) }
        let category = try Self.category(q, analysis)
        let cats = category.map { [$0] }
        let selection = try q.choice("points", PointSelection.self) ?? .all
        let withAccess = (try q.choice("access", AccessSelection.self) ?? .all) == .all
        let decay = try Self.decay(q)
        if decay != nil && !withAccess { throw ServiceError.badRequest("decay weighs the access figures: leave out access=none", parameter: "decay") }
        let close = try q.list("close", maxItems: config.limits.maxClosedIds) ?? []
        var places: [WhatIf.NewPlace] = []
        for (k, item) in (try q.list("open", separator: "|", maxItems: config.limits.maxNewPlaces, maxLength: 300) ?? []).enumerated() {
            let parts = item.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 2 else { throw ServiceError.badRequest("open is lon,lat,name|… (WGS 84)", parameter: "open") }
            let lon = try Checked.double(Double(parts[0]), "open", in: -180...180)
            let lat = try Checked.double(Double(parts[1]), "open", in: -90...90)
            let name = parts.count > 2 ? parts[2].trimmingCharacters(in: .whitespacesAndNewlines) : ""
            places.append(WhatIf.NewPlace(name: name.isEmpty ? "Nyt mødested \(k + 1)" : String(name.prefix(120)),
                                          location: try await state.workingXY(lon: lon, lat: lat)))
        }
        if !places.isEmpty && category == nil { throw ServiceError.badRequest("new places need a category", parameter: "category") }
        let answers = state.answers, revision = snapshot.revision
        // Today's report, once per category and revision: what `points=changed` is measured against.
        let baseline: @Sendable () -> CoverageReport = {
            answers.report("baseline|\(category ?? "*")|\(withAccess)|\(decay?.description ?? "")", revision: revision) {
                CoverageReport(analysis: analysis, plan: analysis.engine.baselinePlan, scenario: nil, categories: cats, access: withAccess, decay: decay)
            }
        }
        let newPlaces = places
        let key = "coverage|\(scenario?.name ?? "")|\(category ?? "*")|\(selection.rawValue)|\(withAccess)|\(decay?.description ?? "")"
        let isWhatIf = !close.isEmpty || !places.isEmpty
        let limit = config.limits.analysisSeconds, heavy = self.heavy
        let answer: @Sendable () async throws -> String = { try await heavy.run(request, lane: .analysis, seconds: limit) { control in
            let w = try WhatIf.evaluate(base: analysis, scenario: scenario, close: close, open: newPlaces, category: category ?? "",
                                        control: control)
            var report = CoverageReport(analysis: w.analysis, plan: w.plan, scenario: isWhatIf ? nil : scenario?.name, categories: cats,
                                        access: withAccess, decay: decay)
            switch selection {
            case .all: break
            case .none: report.points = []
            case .changed: report = report.keepingChangedPoints(against: baseline())
            }
            return try report.jsonText()
        } }
        // Saved scenarios change only with a save: their answers are kept per revision.
        return JSONBody.response(isWhatIf ? try await answer() : try await answers.text(key, revision: revision, make: answer))
    }

    /// An answer kept per revision, computed on the analysis threads when missing.
    func cached(_ request: Request, _ key: String, _ snapshot: AnalysisSnapshot,
                _ make: @escaping @Sendable () throws -> String) async throws -> Response {
        let limit = config.limits.analysisSeconds, heavy = self.heavy
        return JSONBody.response(try await state.answers.text(key, revision: snapshot.revision) {
            try await heavy.run(request, lane: .analysis, seconds: limit) { _ in try make() }
        })
    }

    @Sendable func compare(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        let snapshot = await state.snapshot()
        let q = Query(request)
        guard let name = try q.text("scenario") else { throw ServiceError.badRequest("name the scenario: ?scenario=…", parameter: "scenario") }
        let after = try snapshot.scenario(name)
        let against = try q.text("against").map { try snapshot.scenario($0) }
        let category = try Self.category(q, snapshot.analysis)
        let decay = try Self.decay(q)
        let engine = snapshot.analysis.engine
        if let id = try q.text("survey", maxLength: 64) {
            // Users affected come from the answers, which change without a save: computed each time (milliseconds),
            // and only with the token, as every survey figure.
            try SurveysController(state: state, config: config, heavy: heavy).requireToken(request)
            let survey = try state.surveys.survey(id)
            let responses = try state.surveys.responses(survey)
            let analysis = snapshot.analysis
            struct WithUsers: Encodable { var comparison: Comparison; var usersAffected: [UsersAffected] }
            let text = try await heavy.run(request, lane: .analysis, seconds: config.limits.analysisSeconds) { _ in
                let before = against?.plan ?? engine.baselinePlan
                return JSONBody.encode(WithUsers(comparison: engine.compare(before, after.plan, categories: category.map { [$0] }, decay: decay),
                                                 usersAffected: UsersAffected.between(before, after.plan, survey: survey, responses: responses,
                                                                                      analysis: analysis, categories: category.map { [$0] })))
            }
            return JSONBody.response(text, headers: [.cacheControl: "no-store"])
        }
        return try await cached(request, "compare|\(after.name)|\(against?.name ?? "")|\(category ?? "*")|\(decay?.description ?? "")", snapshot) {
            JSONBody.encode(engine.compare(against?.plan ?? engine.baselinePlan, after.plan, categories: category.map { [$0] }, decay: decay))
        }
    }

    /// The data picture (`klynge profile --json`): it changes with the study only, so it is kept per revision.
    @Sendable func profile(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        let snapshot = await state.snapshot()
        let lang = try Query(request).text("lang", maxLength: 5) ?? "da"
        guard ["da", "en"].contains(lang) else { throw ServiceError.badRequest("lang is da or en", parameter: "lang") }
        let study = state.study
        return try await cached(request, "profile|\(lang)", snapshot) { JSONBody.encode(Profile(study: study, language: lang)) }
    }

    @Sendable func impact(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        let snapshot = await state.snapshot()
        let c = try Self.category(Query(request), snapshot.analysis, required: true)!
        let engine = snapshot.analysis.engine
        return try await cached(request, "impact|\(c)", snapshot) { JSONBody.encode(engine.impact(category: c)) }
    }

    struct OptimizeBody: Decodable {
        var category: String
        var objective: String
        var facilities: Int?
        /// Seconds or metres, by the category's rule (default: the rule's threshold).
        var threshold: Double?
        var share: Double?
        var candidates: String?
        var keep: [String]?
        var exclude: [String]?
        /// Median and center: leave out villages no candidate reaches (listed in the answer).
        var skipUnreachable: Bool?
        /// Places of every candidate without a mapped capacity (median, coverage, minimum); `mappedCapacities`
        /// alone uses the mapped ones only. `split`: a village may be shared between sites.
        var capacity: Double?
        var mappedCapacities: Bool?
        var split: Bool?
        /// Attendance and market share: `linear:15`, `power:1.5` or `exponential:0.1` (per minute or km);
        /// `threshold`, when given, is then the cutoff. `competitors`: a category; `attractiveness`: the value of
        /// every candidate and competitor without a mapped one.
        var decay: String?
        var competitors: String?
        var attractiveness: Double?
    }

    @Sendable func optimize(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        var r = request
        let body = try await r.collectBody(upTo: config.maxBodyBytes)
        let q = try JSONDecoder().decode(OptimizeBody.self, from: Data(buffer: body))
        let snapshot = await state.snapshot()
        let analysis = snapshot.analysis
        guard analysis.engine.categories.contains(q.category) else {
            throw ServiceError.badRequest("unknown category `\(q.category)` (the study has: \(analysis.engine.categories.joined(separator: ", ")))",
                                          parameter: "category")
        }
        guard let objective = LocationObjective(rawValue: q.objective) else {
            throw ServiceError.badRequest("objective is " + LocationObjective.allCases.map(\.rawValue).joined(separator: ", "), parameter: "objective")
        }
        let capacity = try q.capacity.map { try Checked.double($0, "capacity", in: 1...1_000_000_000) }
        let capacitated = capacity != nil || q.mappedCapacities == true
        if capacitated && !objective.takesCapacities {
            throw ServiceError.badRequest("capacities are taken by the median, coverage and minimum objectives", parameter: "capacity")
        }
        if q.split == true && !capacitated { throw ServiceError.badRequest("split divides villages between sites with capacities", parameter: "split") }
        let candidates: CandidateSource
        switch q.candidates ?? "existing" {
        case "existing": candidates = .existing
        case "places": candidates = .places
        default: throw ServiceError.badRequest("candidates is existing or places", parameter: "candidates")
        }
        let p = try Checked.int(q.facilities, "facilities", in: 1...max(1, analysis.sites.count + analysis.study.demand.count))
        let threshold = try q.threshold.map { try Checked.double($0, "threshold", in: 1...10_000_000) }
            ?? analysis.engine.rules[q.category]?.threshold
        let share = try q.share.map { try Checked.double($0, "share", in: 0.000001...1) }
        let attractiveness = try q.attractiveness.map { try Checked.double($0, "attractiveness", in: 0...1_000_000_000) }
        let decayGoal = objective.followsDecay
        if !decayGoal && (q.decay != nil || q.competitors != nil || q.attractiveness != nil) {
            throw ServiceError.badRequest("decay, competitors and attractiveness are for attendance, market-share and target-share", parameter: "decay")
        }
        if decayGoal && capacitated { throw ServiceError.badRequest("capacities are taken by the median, coverage and minimum objectives", parameter: "capacity") }
        if (q.competitors != nil || q.attractiveness != nil) && objective == .attendance {
            throw ServiceError.badRequest("attendance goes to the nearest site, with no competitors or attractiveness; use market-share",
                                          parameter: q.competitors != nil ? "competitors" : "attractiveness")
        }
        var decay: DistanceDecay?
        if decayGoal {
            guard let text = q.decay, text.count <= 40 else { throw ServiceError.badRequest("the \(objective.rawValue) objective needs a decay such as power:1.5", parameter: "decay") }
            let unit = analysis.engine.rules[q.category]?.metric == .distance ? 1000.0 : 60.0
            let cutoff = try q.threshold.map { try Checked.double($0, "threshold", in: 1...10_000_000) }
            do { decay = try DistanceDecay.parse(text, unitCost: unit, cutoffCost: cutoff) } catch let e as LocationError {
                throw ServiceError.badRequest(e.message, parameter: "decay")
            }
        }
        let goal: LocationGoal
        switch objective {
        case .attendance, .marketShare:
            guard let p else { throw ServiceError.badRequest("the \(objective.rawValue) objective needs facilities", parameter: "facilities") }
            goal = objective == .attendance ? .attendance(facilities: p, decay: decay!) : .marketShare(facilities: p, decay: decay!)
        case .targetShare:
            guard let share else { throw ServiceError.badRequest("the target-share objective needs a share", parameter: "share") }
            goal = .targetShare(share: share, decay: decay!)
        case .minimum:
            guard let threshold else { throw ServiceError.badRequest("the minimum objective needs a threshold", parameter: "threshold") }
            goal = .minimum(threshold: threshold, share: share ?? 1)
        case .coverage, .median, .center, .backup:
            guard let p else { throw ServiceError.badRequest("the \(objective.rawValue) objective needs facilities", parameter: "facilities") }
            switch objective {
            case .coverage, .backup:
                guard let threshold else { throw ServiceError.badRequest("the \(objective.rawValue) objective needs a threshold", parameter: "threshold") }
                goal = objective == .backup ? .backup(facilities: p, threshold: threshold) : .coverage(facilities: p, threshold: threshold)
            case .median: goal = .median(facilities: p)
            default: goal = .center(facilities: p)
            }
        }
        for (name, list) in [("keep", q.keep ?? []), ("exclude", q.exclude ?? [])] where list.count > config.limits.maxClosedIds {
            throw ServiceError.badRequest("\(name) lists more than \(config.limits.maxClosedIds) ids", parameter: name)
        }
        let limit = config.limits.analysisSeconds
        let study = analysis.study, tables = analysis.tables
        struct Out: Encodable, Sendable { var solution: LocationSolution; var chosen: [CandidateSite]; var competitors: [CandidateSite]? }
        let out = try await heavy.run(r, lane: .heavy, seconds: limit) { control in
            var req = LocationRequest(goal: goal, solver: .auto, timeLimitSeconds: max(1, (control.remainingSeconds ?? limit) - 0.5),
                                      skipUnreachable: q.skipUnreachable ?? false)
            req.control = control
            let query = OptimizeQuery(category: q.category, request: req, keep: q.keep ?? [], exclude: q.exclude ?? [], candidates: candidates,
                                      competitors: q.competitors)
            let setup = try OptimizeSetup(study: study, tables: tables, query: query, control: control)
            let problem = capacitated ? try setup.capacitated(fallback: capacity, split: q.split ?? false)
                : objective.isHuff ? try setup.attracting(fallback: attractiveness) : setup.problem
            let solution = try LocationAllocation.solve(problem, query.request)
            return Out(solution: solution, chosen: solution.chosen.map { setup.sites[$0] }, competitors: q.competitors == nil ? nil : setup.competitors)
        }
        return JSONBody.response(out)
    }
}
