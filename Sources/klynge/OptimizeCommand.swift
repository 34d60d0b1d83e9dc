import ArgumentParser
import Foundation
import KlyngeAnalysis
import KlyngeStudyAnalysis
import KlyngeIngest
import KlyngeJobs
import KlyngeIO
import KlyngeRender
import KlyngeStore
import KlyngeStudy

extension LocationObjective: ExpressibleByArgument {}
extension SolverChoice: ExpressibleByArgument {}

struct OptimizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optimize",
        abstract: "Which facilities to keep (or where to put them): covering, p-median, p-center, attendance and market share on road travel.",
        discussion: """
        Objectives: coverage (most people within the threshold with p facilities), minimum (fewest facilities covering \
        everyone or --share), median (least total travel with p), center (smallest worst-case travel with p), backup \
        (most people with two within reach), attendance (most expected visitors with p, --decay), market-share (most \
        people captured with p against --competitors, Huff) and target-share (fewest capturing --share). \
        Costs follow the category's coverage rule (its mode, and minutes or km).
        """
    )

    @OptionGroup var options: StudyOptions
    @Option(help: "The category.")
    var category: String
    @Option(help: "coverage, minimum, median, center, backup (the most people with two facilities within reach), attendance, market-share or target-share.")
    var objective: LocationObjective
    @Option(name: .customLong("facilities"), help: "p: how many facilities (coverage, median, center, backup).")
    var p: Int?
    @Option(help: "Threshold (coverage, minimum): minutes or km by the category's rule, e.g. 10, 10min, 5km. Default: the rule's.")
    var threshold: String?
    @Option(help: "Share of the population the minimum set must cover (0–1, default 1).")
    var share: Double?
    @Option(help: "Facility ids that must be kept (comma-separated).")
    var keep: String?
    @Option(help: "Facility or site ids that must not be chosen (comma-separated).")
    var exclude: String?
    @Option(help: "Candidate sites: existing, places (also every village), or a points file.")
    var candidates: String = "existing"
    @Option(name: .customLong("candidate-id"), help: "Id field of a candidate file.")
    var candidateId: String?
    @Option(name: .customLong("candidate-name"), help: "Name field of a candidate file.")
    var candidateName: String?
    @Option(help: "exact (GLPK, with proof), heuristic (with a bound), or auto.")
    var solver: SolverChoice = .auto
    @Option(name: .customLong("time-limit"), help: "Seconds for the solver.")
    var timeLimit: Double = 60
    @Option(help: "Solve for each number of facilities in a range, e.g. 1..6 (coverage, median, center).")
    var sweep: String?
    @Option(help: "With --sweep: draw the trade-off curve (.png, .svg, .pdf).")
    var chart: String?
    @Flag(help: "Print JSON.")
    var json = false
    @Option(name: .customLong("save-scenario"), help: "Save the answer as a scenario of this name (in the study's scenario store).")
    var saveScenario: String?
    @Flag(name: .customLong("skip-unreachable"), help: "median, center: leave out villages no candidate reaches (they are listed) instead of refusing.")
    var skipUnreachable = false
    @Option(help: "Capacities (median, coverage, minimum): `mapped` uses each facility's mapped capacity; a number is the places of every candidate without one.")
    var capacity: String?
    @Flag(help: "With --capacity: a village may be split between sites (else each goes whole to one).")
    var split = false
    @Option(help: "attendance, market-share, target-share: how the pull falls with travel: linear:CUTOFF (minutes or km), power:BETA or exponential:BETA (per minute or km). --threshold is then a cutoff.")
    var decay: String?
    @Option(help: "market-share, target-share: the category whose facilities (those that are not candidates) compete.")
    var competitors: String?
    @Option(help: "market-share, target-share: the attractiveness of every candidate and competitor without a mapped one.")
    var attractiveness: Double?


    /// `--capacity`: nil without one; `.some(nil)` for `mapped`; a number for the sites without their own.
    var capacityFallback: Double?? {
        guard let capacity else { return nil }
        if capacity == "mapped" { return .some(nil) }
        return .some(Double(capacity))
    }

    func validate() throws {
        if let sweep { _ = try Self.range(sweep) }
        if chart != nil && sweep == nil { throw ValidationError("--chart draws a --sweep") }
        if sweep != nil && objective == .minimum { throw ValidationError("--sweep varies p: use coverage, median or center") }
        if sweep != nil && saveScenario != nil { throw ValidationError("--save-scenario takes one answer, not a sweep") }
        if let chart, OutputKind.from(path: chart) == nil { throw ValidationError("the chart is .png, .svg or .pdf") }
        guard timeLimit > 0 && timeLimit <= 86_400 else { throw ValidationError("--time-limit is seconds, from above 0 to 86400") }
        if let share, !(share > 0 && share <= 1) { throw ValidationError("--share is a share of the population, above 0 and at most 1") }
        if let p, !(1...100_000).contains(p) { throw ValidationError("--facilities is a number of facilities from 1") }
        if let capacity {
            if capacity != "mapped" {
                guard let v = Double(capacity), v.isFinite, v > 0, v <= 1e9 else { throw ValidationError("--capacity is `mapped` or a number of places above 0") }
            }
            guard objective.takesCapacities else { throw ValidationError("--capacity is for the median, coverage and minimum objectives") }
        }
        if split && capacity == nil { throw ValidationError("--split divides villages between sites with capacities: give --capacity") }
        if objective.followsDecay {
            guard decay != nil else { throw ValidationError("the \(objective.rawValue) objective needs --decay, e.g. linear:15, power:1.5 or exponential:0.1") }
            if objective == .targetShare && share == nil { throw ValidationError("target-share needs --share, the share of the people to capture (0–1)") }
            if objective == .attendance && (competitors != nil || attractiveness != nil) {
                throw ValidationError("attendance goes to the nearest site, with no competitors or attractiveness; use market-share")
            }
            if objective == .targetShare && sweep != nil { throw ValidationError("--sweep varies p: use attendance or market-share") }
        } else if decay != nil || competitors != nil || attractiveness != nil {
            throw ValidationError("--decay, --competitors and --attractiveness are for attendance, market-share and target-share")
        }
        if let attractiveness, !(attractiveness.isFinite && attractiveness >= 0 && attractiveness <= 1e9) {
            throw ValidationError("--attractiveness is a number of 0 or more")
        }
        if sweep == nil && objective != .minimum && objective != .targetShare && p == nil { throw ValidationError("the \(objective.rawValue) objective needs --facilities p") }
        if skipUnreachable && (objective == .coverage || objective == .minimum || objective == .backup) {
            throw ValidationError("--skip-unreachable is for median and center (coverage, minimum and backup count such villages as not covered)")
        }
    }

    static func range(_ text: String) throws -> ClosedRange<Int> {
        let parts = text.components(separatedBy: "..")
        guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), a >= 1, b >= a, b - a <= 100 else {
            throw ValidationError("--sweep takes a range like 1..8")
        }
        return a...b
    }

    /// The objective with what it needs: p facilities and/or the threshold (the rule's unless given) and share.
    func goal(_ rule: CoverageRule, p: Int) throws -> LocationGoal {
        switch objective {
        case .coverage: .coverage(facilities: p, threshold: try thresholdValue(rule))
        case .minimum: .minimum(threshold: try thresholdValue(rule), share: share ?? 1)
        case .median: .median(facilities: p)
        case .center: .center(facilities: p)
        case .backup: .backup(facilities: p, threshold: try thresholdValue(rule))
        case .attendance: .attendance(facilities: p, decay: try decayValue(rule))
        case .marketShare: .marketShare(facilities: p, decay: try decayValue(rule))
        case .targetShare: .targetShare(share: share ?? 1, decay: try decayValue(rule))
        }
    }

    /// `--decay` in the rule's units; `--threshold`, when given, cuts it off.
    func decayValue(_ rule: CoverageRule) throws -> DistanceDecay {
        do {
            return try DistanceDecay.parse(decay ?? "", unitCost: rule.metric == .duration ? 60 : 1000,
                                           cutoffCost: threshold == nil ? nil : try thresholdValue(rule))
        } catch let e as LocationError { throw ValidationError(e.message) }
    }

    func thresholdValue(_ rule: CoverageRule) throws -> Double {
        guard let threshold else { return rule.threshold }
        let t = threshold.trimmingCharacters(in: .whitespaces).lowercased()
        if t.hasSuffix("km"), let v = Double(t.dropLast(2)) {
            guard rule.metric == .distance else { throw ValidationError("the \(category) rule measures time: give minutes") }
            return v * 1000
        }
        if t.hasSuffix("min"), let v = Double(t.dropLast(3)) {
            guard rule.metric == .duration else { throw ValidationError("the \(category) rule measures distance: give km") }
            return v * 60
        }
        guard let v = Double(t), v > 0 else { throw ValidationError("`\(threshold)` is not a threshold (10, 10min, 5km)") }
        return rule.metric == .duration ? v * 60 : v * 1000
    }

    func run() throws {
        try failing {
            let loaded = try loadStudyWithSaved(options)
            let study = loaded.own, network = loaded.network
            let source: CandidateSource
            switch candidates {
            case "existing": source = .existing
            case "places": source = .places
            default: source = .points(try PointFile.read(candidates, idField: candidateId, nameField: candidateName, crs: study.crs))
            }
            func list(_ s: String?) -> [String] { s?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? [] }
            let rules = try StudyAnalysis.rules(study)
            let rule = rules[category] ?? .standard
            let request = LocationRequest(goal: try goal(rule, p: p ?? Self.range(sweep ?? "1..1").lowerBound), solver: solver,
                                          timeLimitSeconds: timeLimit, skipUnreachable: skipUnreachable)
            let query = OptimizeQuery(category: category, request: request, keep: list(keep), exclude: list(exclude), candidates: source,
                                      competitors: competitors)
            let setup = try OptimizeSetup(study: study, network: network, query: query)
            let unit = rule.metric == .duration ? 60.0 : 1000.0, unitName = rule.metric == .duration ? "min" : "km"
            let problem = try capacityFallback.map { try setup.capacitated(fallback: $0, split: split) }
                ?? (objective.isHuff ? try setup.attracting(fallback: attractiveness) : setup.problem)
            if let sweep {
                try runSweep(setup, problem, query, range: try Self.range(sweep), unit: unit, unitName: unitName)
                return
            }
            let solution = try LocationAllocation.solve(problem, query.request)
            if json {
                struct Out: Encodable {
                    var solution: LocationSolution; var chosen: [CandidateSite]; var threshold: Double?; var leftOut: [String]
                    var decay: DistanceDecay?; var competitors: [CandidateSite]?; var attractiveness: [Double]?; var competitorAttractiveness: [Double]?
                }
                try printJSON(Out(solution: solution, chosen: solution.chosen.map { setup.sites[$0] }, threshold: query.request.goal.threshold,
                                  leftOut: solution.leftOut.map { setup.study.demand[$0].id }, decay: query.request.goal.decay,
                                  competitors: competitors == nil ? nil : setup.competitors,
                                  attractiveness: problem.attractiveness.map { a in solution.chosen.map { a[$0] } },
                                  competitorAttractiveness: problem.competitors?.attractiveness))
            } else {
                printSolution(solution, setup, query.request, unit: unit, unitName: unitName)
            }
            if let name = saveScenario {
                let spec = setup.scenario(named: name, solution: solution)
                let id = ScenarioNaming.id(for: name)
                if let clash = study.scenarios.first(where: { ScenarioNaming.id(for: $0.name) == id }) {
                    throw ValidationError("the study file's own scenario `\(clash.name)` has that name or id; choose another name")
                }
                if let problem = StudyAnalysis.problem(with: spec, study: study, network: network) {
                    throw ValidationError("the answer cannot be saved as a scenario: \(problem)")
                }
                let store = try options.scenarioStore()
                try store.withWriterLock { _ = try store.put(spec, id: id) }
                if !json { print("Saved as scenario `\(name)` (id \(id)) in the scenario store \(store.path)") }
            }
        }
    }

    func describe(_ s: LocationSolution, _ setup: OptimizeSetup, unit: Double, unitName: String) -> String {
        // Those left out (--skip-unreachable) are not in the answer's figures.
        let total = setup.problem.totalWeight - s.leftOutWeight
        switch s.objective {
        case .coverage: return String(format: "%.0f of %.0f people covered (%.1f %%)", s.value, total, s.value / total * 100)
        case .minimum: return "\(Int(s.value)) facilities"
        case .median: return String(format: "%.0f person-%@ in all, %.1f %@ on average", s.value / unit, unitName, s.value / total / unit, unitName)
        case .center: return String(format: "nobody farther than %.1f %@", s.value / unit, unitName)
        case .backup:
            return String(format: "%.0f of %.0f people with two or more within reach (%.1f %%), %.0f covered at all (%.1f %%)", s.value, total,
                          s.value / total * 100, s.coveredWeight ?? 0, (s.coveredWeight ?? 0) / total * 100)
        case .attendance: return String(format: "%.1f expected visitors of %.0f people (%.1f %%)", s.value, total, s.value / total * 100)
        case .marketShare: return String(format: "%.1f of %.0f people captured (market share %.2f %%)", s.value, total, s.value / total * 100)
        case .targetShare: return String(format: "%d facilities capture %.2f %% of the people", Int(s.value), (s.capturedShare ?? 0) * 100)
        }
    }

    func printSolution(_ s: LocationSolution, _ setup: OptimizeSetup, _ request: LocationRequest, unit: Double, unitName: String) {
        print("\(s.objective.rawValue) for \(setup.category): \(describe(s, setup, unit: unit, unitName: unitName))")
        let proof = s.proven ? "proven optimal" : "not proven optimal"
        let bound = s.bound.map { b in String(format: "; bound %@%@", s.objective == .median ? String(format: "%.0f person-%@", b / unit, unitName)
                                                : s.objective == .center ? String(format: "%.1f %@", b / unit, unitName) : String(format: "%.1f", b),
                                             s.gap.map { ", " + Self.gapText($0, proven: s.proven) } ?? "") } ?? ""
        print("  \(proof) (\(s.method), \(String(format: "%.2f", s.seconds)) s)\(bound)")
        for (k, j) in s.chosen.enumerated() {
            let site = setup.sites[j]
            var load = ""
            if let loads = s.loads, let cap = capacityFallback.map({ site.capacity ?? $0 ?? 0 }) {
                load = String(format: " — %.0f of %.0f places (%.0f %%)", loads[k], cap, cap > 0 ? loads[k] / cap * 100 : 0)
            }
            if let visitors = s.visitors { load = String(format: " — %.1f expected visitors", visitors[k]) }
            print("  keep: \(site.name.isEmpty ? site.id : site.name) [\(site.id)]\(site.existing ? "" : " (new site)")\(load)")
        }
        if let u = s.unassignedWeight, u > 0 {
            print(String(format: "  without a place within reach: %.0f people (the chosen sites within reach are full)", u))
        }
        for (j, site) in setup.sites.enumerated() where site.existing && !s.chosen.contains(j) {
            print("  drop: \(site.name.isEmpty ? site.id : site.name) [\(site.id)]")
        }
        if let t = request.goal.threshold, let c = s.coveredWeight, s.objective != .coverage {
            print(String(format: "  covered within %.1f %@: %.0f of %.0f", t / unit, unitName, c, setup.problem.totalWeight))
        }
        if let mean = s.meanCost {
            let worst = s.maxCost.map { String(format: "worst %.1f %@", $0 / unit, unitName) }
                ?? String(format: "%.0f people reach none of the chosen sites", s.unreachedWeight)
            // With capacities a village may be assigned farther than its nearest chosen site (the objective counts that).
            print(String(format: "  travel%@: mean %.1f %@ (of those who reach one), %@", s.loads == nil ? "" : " to the nearest chosen site",
                         mean / unit, unitName, worst))
        }
        if !s.leftOut.isEmpty {
            let names = s.leftOut.prefix(8).map { setup.study.demand[$0].name }.joined(separator: ", ")
            print(String(format: "  left out (no candidate reaches them): %d villages, %.0f people: %@%@", s.leftOut.count, s.leftOutWeight, names,
                         s.leftOut.count > 8 ? " and \(s.leftOut.count - 8) more" : ""))
        }
    }

    /// The gap with the digits it needs: a heuristic's gap never reads as a flat 0.00 % when it is not proven.
    static func gapText(_ gap: Double, proven: Bool) -> String {
        // A proof allows a relative difference of 1e-6 (floating point); below that the gap is noise.
        if proven && gap < 1e-6 { return "gap 0 %" }
        if gap == 0 { return "gap 0 % (bound and answer equal within rounding, though the solver did not prove it)" }
        for digits in 2...8 {
            let text = String(format: "%.\(digits)f", gap * 100)
            if Double(text) != 0 { return "gap \(text) %" }
        }
        return String(format: "gap %.2e %%", gap * 100)
    }

    func runSweep(_ setup: OptimizeSetup, _ problem: LocationProblem, _ query: OptimizeQuery, range: ClosedRange<Int>, unit: Double, unitName: String) throws {
        struct Row: Encodable {
            var p: Int; var value: Double; var coveredShare: Double?; var meanCost: Double?; var maxCost: Double?; var proven: Bool; var chosen: [String]
            /// Backup, attendance, market share: the objective as a share of the population.
            var share: Double?
        }
        var rows: [Row] = []
        let total = setup.problem.totalWeight
        for p in range where p >= setup.problem.required.count && p <= setup.problem.candidateCount - setup.problem.excluded.count {
            var r = query.request
            r.goal = r.goal.with(facilities: p)
            let s = try LocationAllocation.solve(problem, r)
            let share: Double? = [.backup, .attendance, .marketShare].contains(objective) && total > 0 ? s.value / total : nil
            rows.append(Row(p: p, value: s.value, coveredShare: s.coveredWeight.map { $0 / total },
                            meanCost: s.meanCost, maxCost: s.maxCost, proven: s.proven, chosen: s.chosen.map { setup.sites[$0].id }, share: share))
        }
        guard !rows.isEmpty else { throw ValidationError("no p in \(range) is possible with these candidates") }
        // What each objective is read as: a share of the people in per cent, or minutes/km.
        let asShare = objective != .median && objective != .center
        func shown(_ r: Row) -> Double {
            switch objective {
            case .coverage: (r.coveredShare ?? 0) * 100
            case .median: (r.meanCost ?? 0) / unit
            case .center: (r.maxCost ?? 0) / unit
            default: (r.share ?? 0) * 100
            }
        }
        let heading: String = switch objective {
        case .coverage: "covered"
        case .median: "mean \(unitName)"
        case .center: "worst \(unitName)"
        case .backup: "with backup"
        case .attendance: "attendance"
        default: "captured"
        }
        if json { try printJSON(["sweep": rows]) } else {
            print("facilities\t\(heading)\tproven")
            for r in rows {
                print("\(r.p)\t\(String(format: asShare ? "%.1f %%" : "%.1f", shown(r)))\t\(r.proven ? "yes" : "no")")
            }
        }
        if let chartPath = chart {
            let language = setup.study.language
            let label = setup.study.categories.first { $0.key == setup.category }?.label(language: language) ?? setup.category
            let da = language != "en"
            let points = rows.map { r -> (x: Double, y: Double) in (Double(r.p), shown(r)) }
            let yLabel: String = switch objective {
            case .coverage: da ? "Dækket befolkning (%)" : "Population covered (%)"
            case .median: da ? "Gennemsnitlig rejsetid (\(unitName))" : "Mean travel (\(unitName))"
            case .center: da ? "Længste rejsetid (\(unitName))" : "Longest travel (\(unitName))"
            case .backup: da ? "Befolkning med to inden for rækkevidde (%)" : "Population with two within reach (%)"
            case .attendance: da ? "Forventet fremmøde (% af befolkningen)" : "Expected attendance (% of the population)"
            default: da ? "Markedsandel (%)" : "Market share (%)"
            }
            let chart = LineChart(title: "\(setup.study.name): \(label)",
                                  subtitle: da ? "Hvor mange skal vi have? Bedste placering for hvert antal (\(objective.rawValue))"
                                                : "How many do we need? The best sites for each number (\(objective.rawValue))",
                                  xLabel: da ? "Antal faciliteter" : "Number of facilities", yLabel: yLabel, points: points,
                                  format: { v in
                                      let s = String(format: "%.1f", v)
                                      return da ? s.replacingOccurrences(of: ".", with: ",") : s
                                  })
            let kind = OutputKind.from(path: chartPath)!
            try AtomicOutput.write(to: URL(fileURLWithPath: chartPath)) { tmp in
                try chart.render(kind: kind, page: .pixels(width: 1200, height: 800, dpi: 144), to: tmp.path)
            }
            if !json { print("Wrote \(chartPath)") }
        }
    }
}
