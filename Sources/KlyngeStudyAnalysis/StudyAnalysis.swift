import Foundation
import KlyngeAnalysis
import KlyngeGEOS
import KlyngeGeo
import KlyngeIngest
import KlyngeNetwork
import KlyngeProj
import KlyngeStudy
import KlyngeWork

/// A scenario resolved against the study: its changes on site indexes.
public struct ResolvedScenario: Sendable {
    public var name: String
    public var description: String?
    public var changes: [Change]
    public var plan: Plan
}

/// Everything an analysis of the study needs, built once: the network, the sites (facilities and the
/// sites scenarios open), the access tables demand × sites per mode, the coverage engine and the
/// resolved scenarios. Scenario evaluations after this touch no network.
public struct StudyAnalysis: Sendable {
    public let study: Study
    public let network: StudyNetwork
    public let engine: CoverageEngine
    public let scenarios: [ResolvedScenario]
    /// The costs behind the engine: snapped once, shared by what-ifs, optimize and clusters.
    public let tables: CostTables
    /// Demand points and sites that could not be attached, per mode (they count as unreachable).
    public var unattached: [SnapRecord] { tables.unattached }

    public var sites: [Site] { engine.sites }

    public static func rules(_ study: Study) throws -> [String: CoverageRule] {
        let checked = ruleCheck(study)
        if let p = checked.problems.first { throw AnalysisSetupError("\(p.key): \(p.message)") }
        return checked.rules
    }

    /// The coverage rule of every category, with every problem of the `coverage` settings (a broken rule
    /// falls back to the standard one, so the others can still be checked).
    static func ruleCheck(_ study: Study) -> (rules: [String: CoverageRule], problems: [(key: String, message: String)]) {
        var problems: [(key: String, message: String)] = []
        let keys = study.categories.map(\.key)
        for key in study.coverage.keys.sorted() where !(key == "default" || keys.contains(key)) {
            problems.append(("coverage.\(key)", "`\(key)` is not a category of the study (\(keys.joined(separator: ", ")))"))
        }
        func rule(_ spec: StudyFile.CoverageRule, _ key: String) -> CoverageRule? {
            guard let mode = TravelMode(rawValue: spec.mode ?? "car") else {
                problems.append(("coverage.\(key).mode", "`\(spec.mode ?? "")` is not a mode (car, bike, walk, distance)"))
                return nil
            }
            switch (spec.minutes, spec.km) {
            case (let m?, nil):
                guard m > 0 else { problems.append(("coverage.\(key).minutes", "must be positive")); return nil }
                guard mode != .distance else { problems.append(("coverage.\(key)", "the distance mode takes `km`, not `minutes`")); return nil }
                return CoverageRule(mode: mode, metric: .duration, threshold: m * 60)
            case (nil, let km?):
                guard km > 0 else { problems.append(("coverage.\(key).km", "must be positive")); return nil }
                return CoverageRule(mode: mode, metric: .distance, threshold: km * 1000)
            default:
                problems.append(("coverage.\(key)", "give either `minutes` or `km`"))
                return nil
            }
        }
        let fallback = study.coverage["default"].flatMap { rule($0, "default") } ?? .standard
        var rules: [String: CoverageRule] = [:]
        for key in keys { rules[key] = study.coverage[key].flatMap { rule($0, key) } ?? fallback }
        return (rules, problems)
    }

    public init(study: Study) throws {
        try self.init(study: study, network: StudyNetwork(study: study))
    }

    /// With a network built before (the server keeps one for the study's life).
    public init(study: Study, network: StudyNetwork, control: WorkControl = .unlimited) throws {
        self.study = study
        self.network = network
        let rules = try Self.rules(study)
        let facilitySites = Self.sites(of: study)
        var sites = facilitySites
        // Scenarios: new sites first (so the access tables include them), then changes on indexes.
        var specs: [(StudyFile.ScenarioSpec, [Change])] = []
        var names = Set<String>()
        for spec in study.scenarios {
            guard names.insert(spec.name).inserted else { throw ScenarioError(scenario: spec.name, message: "two scenarios have this name") }
            let prepared = try Self.prepare(spec, study: study, network: network, rules: rules, facilitySites: facilitySites,
                                            firstSite: sites.count)
            sites += prepared.newSites
            specs.append((spec, prepared.changes))
        }
        try control.check()
        // Cost tables for every mode a rule uses.
        tables = try CostTables(network: network, demand: study.demand, sites: sites, modes: Set(rules.values.map(\.mode)), control: control)
        engine = CoverageEngine(sites: sites, demand: tables.demand, categories: study.categories.map(\.key), rules: rules,
                                tables: tables.modes.mapValues(\.table))
        var resolved: [ResolvedScenario] = []
        for (spec, changes) in specs {
            let plan = try engine.baselinePlan.applying(changes, sites: sites, scenario: spec.name)
            resolved.append(ResolvedScenario(name: spec.name, description: spec.description, changes: changes, plan: plan))
        }
        scenarios = resolved
    }

    private init(study: Study, network: StudyNetwork, engine: CoverageEngine, scenarios: [ResolvedScenario], tables: CostTables) {
        self.study = study
        self.network = network
        self.engine = engine
        self.scenarios = scenarios
        self.tables = tables
    }

    /// The analysis with more candidate sites (closed until a plan opens them): their columns are searched, one
    /// search per site and mode; nothing else is built again. Scenario plans keep them closed.
    public func adding(candidates: [Site], control: WorkControl = .unlimited) throws -> StudyAnalysis {
        guard !candidates.isEmpty else { return self }
        let more = try tables.adding(candidates, control: control)
        let engine = engine.adding(candidates: candidates, tables: more.modes.mapValues(\.table))
        let scenarios = scenarios.map { s in
            var s = s
            s.plan = s.plan.appending(candidates)
            return s
        }
        return StudyAnalysis(study: study, network: network, engine: engine, scenarios: scenarios, tables: more)
    }

    /// The study's facilities as sites (open today), in the study's order.
    static func sites(of study: Study) -> [Site] {
        study.facilities.map {
            Site(id: $0.id, name: $0.name, categories: $0.categories, location: $0.location, capacity: $0.capacity, annualCost: $0.annualCost,
                 attractiveness: $0.attractiveness)
        }
    }

    /// One scenario's own parts, checked: its new sites (placed in the study area and attached to the roads
    /// of every mode their categories use), numbered from `firstSite`, and its changes on site indexes.
    static func prepare(_ spec: StudyFile.ScenarioSpec, study: Study, network: StudyNetwork, rules: [String: CoverageRule],
                        facilitySites: [Site], firstSite: Int) throws -> (newSites: [Site], changes: [Change]) {
        guard !spec.name.trimmingCharacters(in: .whitespaces).isEmpty else { throw ScenarioError(scenario: "?", message: "a scenario needs a name") }
        var newSites: [Site] = []
        var openedNames = Set<String>()
        for (k, o) in (spec.open ?? []).enumerated() {
            let site = try Self.newSite(o, index: k, scenario: spec.name, study: study, takenNames: openedNames)
            openedNames.insert(site.name)
            for mode in Set(site.categories.compactMap { rules[$0]?.mode }).sorted(by: { $0.rawValue < $1.rawValue }) {
                let snapper = network.snapper(mode)
                if case .failure(let f) = snapper.snap(site.location) {
                    throw ScenarioError(scenario: spec.name, message: "the new facility `\(site.name)` cannot be reached by \(mode.rawValue): "
                                        + SnapReport.message(f, limit: snapper.options.maxSnapMeters))
                }
            }
            newSites.append(site)
        }
        let opened = Array(firstSite..<(firstSite + newSites.count))
        let changes = try Self.changes(spec, opened: opened, sites: facilitySites, study: study)
        // The changes must also apply in order (nothing closed twice) on the study's own facilities.
        let all = facilitySites + newSites
        _ = try Plan(sites: all).applying(changes.map { c in
            // Indexes of new sites are shifted to follow the facilities directly.
            if case .open(let s) = c { return .open(s - firstSite + facilitySites.count) }
            return c
        }, sites: all, scenario: spec.name)
        return (newSites, changes)
    }

    /// Why a scenario cannot be used with this study, in words (nil when it can): for saved scenarios,
    /// which must not stop the others from loading.
    public static func problem(with spec: StudyFile.ScenarioSpec, study: Study, network: StudyNetwork) -> String? {
        do {
            let rules = try Self.rules(study)
            let facilitySites = Self.sites(of: study)
            _ = try prepare(spec, study: study, network: network, rules: rules, facilitySites: facilitySites, firstSite: facilitySites.count)
            return nil
        } catch let e as ScenarioError {
            return e.message
        } catch {
            return "\(error)"
        }
    }

    public func scenario(named name: String) throws -> ResolvedScenario {
        guard let s = scenarios.first(where: { $0.name == name }) else {
            throw AnalysisSetupError("no scenario `\(name)` in the study (scenarios: \(scenarios.map(\.name).joined(separator: ", ")))")
        }
        return s
    }

    /// A new facility of a scenario, placed in the working CRS and checked against the study area.
    static func newSite(_ o: StudyFile.NewFacility, index: Int, scenario: String, study: Study, takenNames: Set<String>) throws -> Site {
        let name = o.name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw ScenarioError(scenario: scenario, message: "a new facility (number \(index + 1)) has an empty name") }
        if takenNames.contains(name) {
            throw ScenarioError(scenario: scenario, message: "two new facilities are named `\(name)`")
        }
        guard !o.categories.isEmpty else { throw ScenarioError(scenario: scenario, message: "the new facility `\(name)` has no category") }
        for c in o.categories where !study.categories.contains(where: { $0.key == c }) {
            throw ScenarioError(scenario: scenario, message: "the new facility `\(name)`: category `\(c)` is not defined by the study")
        }
        let given = [o.lonlat != nil, o.xy != nil, o.at != nil].filter { $0 }.count
        guard given == 1 else {
            throw ScenarioError(scenario: scenario, message: "the new facility `\(name)`: give its position once, as `lonlat`, `xy` or `at`")
        }
        for (key, value) in [("capacity", o.capacity), ("annual_cost", o.annualCost)] {
            if let v = value, !(v.isFinite && v >= 0 && v < 1e12) {
                throw ScenarioError(scenario: scenario, message: "the new facility `\(name)`: \(key) must be a number from 0")
            }
        }
        var location: Coordinate
        if let ll = o.lonlat {
            guard ll.count == 2, (-180...180).contains(ll[0]), (-90...90).contains(ll[1]) else {
                throw ScenarioError(scenario: scenario, message: "the new facility `\(name)`: lonlat must be [longitude, latitude]")
            }
            location = try Transformer(from: .wgs84, to: study.crs).transform(Coordinate(x: ll[0], y: ll[1]))
        } else if let xy = o.xy {
            guard xy.count == 2, xy.allSatisfy({ $0.isFinite && abs($0) < 1e9 }) else {
                throw ScenarioError(scenario: scenario, message: "the new facility `\(name)`: xy must be [x, y] in the working CRS")
            }
            location = Coordinate(x: xy[0], y: xy[1])
        } else {
            let place = o.at ?? ""
            // An id names one place; a name may name several, and then the planner must choose.
            let villages = study.demand.filter { $0.id == place }.isEmpty ? study.demand.filter { $0.name == place } : study.demand.filter { $0.id == place }
            let areas = study.areas.filter { $0.id == place }.isEmpty ? study.areas.filter { $0.name == place } : study.areas.filter { $0.id == place }
            if villages.count > 1 || (villages.isEmpty && areas.count > 1) {
                let listed = villages.count > 1 ? villages.map { "village `\($0.id)`" } : areas.map { "area `\($0.id)`" }
                throw ScenarioError(scenario: scenario, message: "the new facility `\(name)`: `at: \(place)` names \(listed.count) places ("
                                    + listed.joined(separator: ", ") + "); give the id instead")
            }
            if let d = villages.first {
                location = d.location
            } else if let a = areas.first {
                location = try GEOSContext().pointOnSurface(a.geometry)
            } else {
                throw ScenarioError(scenario: scenario, message: "the new facility `\(name)`: no village or area is called `\(place)`")
            }
        }
        if !study.areas.isEmpty {
            let geos = try GEOSContext()
            let area = try PreparedGeometry(geos.unaryUnion(study.areas.map(\.geometry)), context: geos)
            let d = try area.distance(to: location)
            if d > 1000 {
                throw ScenarioError(scenario: scenario, message: String(format: "the new facility `%@` lies %.0f m outside the study area", name, d))
            }
        }
        let id = o.id ?? "\(scenario)#\(index + 1)"
        return Site(id: id, name: name, categories: o.categories, location: location, capacity: o.capacity,
                    annualCost: o.annualCost, isCandidate: true)
    }

    static func changes(_ spec: StudyFile.ScenarioSpec, opened: [Int], sites: [Site], study: Study) throws -> [Change] {
        func index(_ id: String, _ what: String) throws -> Int {
            guard let i = sites.firstIndex(where: { $0.id == id && !$0.isCandidate }) else {
                throw ScenarioError(scenario: spec.name, message: "\(what): no facility has the id `\(id)`")
            }
            return i
        }
        var out: [Change] = []
        for id in spec.close ?? [] { out.append(.close(try index(id, "close"))) }
        for s in opened { out.append(.open(s)) }
        for m in spec.merge ?? [] {
            guard !m.close.isEmpty else { throw ScenarioError(scenario: spec.name, message: "merge into `\(m.keep)` closes nothing") }
            out.append(.merge(keep: try index(m.keep, "merge"), close: try m.close.map { try index($0, "merge") }))
        }
        for r in spec.recategorise ?? [] {
            for c in r.categories where !study.categories.contains(where: { $0.key == c }) {
                throw ScenarioError(scenario: spec.name, message: "recategorise `\(r.id)`: category `\(c)` is not defined by the study")
            }
            out.append(.recategorise(try index(r.id, "recategorise"), r.categories))
        }
        guard !out.isEmpty else { throw ScenarioError(scenario: spec.name, message: "the scenario changes nothing") }
        return out
    }
}

public struct AnalysisSetupError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
