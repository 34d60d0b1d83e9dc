import Foundation
import KlyngeAnalysis
import KlyngeGEOS
import KlyngeGeo
import KlyngeNetwork
import KlyngeProj
import KlyngeStudy
import KlyngeSurvey

extension SurveyPlaces {
    /// The villages and facilities respondents pick from, in longitude/latitude, and the study's extent
    /// widened by 2 km (pins just outside a village area still count).
    public static func of(_ study: Study) throws -> SurveyPlaces {
        let toLonLat = try Transformer(from: study.crs, to: .wgs84)
        let clusterOf = Dictionary(study.areas.map { ($0.id, $0.cluster) }, uniquingKeysWith: { a, _ in a })
        let source = villageSource(for: study)
        var villages: [Village] = []
        switch source {
        case .demand:
            let lonLat = try toLonLat.transform(study.demand.map(\.location))
            villages = zip(study.demand, lonLat).map { d, p in
                Village(id: d.id, name: d.name, lon: p.x, lat: p.y, areaId: d.areaId, cluster: d.areaId.flatMap { clusterOf[$0] ?? nil })
            }
        case .areas:
            let geos = try GEOSContext()
            for a in study.areas {
                let p = try toLonLat.transform(try geos.pointOnSurface(a.geometry))
                villages.append(Village(id: a.id, name: a.name, lon: p.x, lat: p.y, areaId: a.id, cluster: a.cluster))
            }
        }
        villages.sort { ($0.name, $0.id) < ($1.name, $1.id) }
        var facilities: [String: [Place]] = [:]
        let lonLat = try toLonLat.transform(study.facilities.map(\.location))
        for (f, p) in zip(study.facilities, lonLat) {
            for c in f.categories { facilities[c, default: []].append(Place(id: f.id, name: f.name.isEmpty ? f.id : f.name, lon: p.x, lat: p.y)) }
        }
        for k in facilities.keys { facilities[k]!.sort { ($0.name, $0.id) < ($1.name, $1.id) } }
        let everything = study.areas.flatMap(\.geometry.allCoordinates) + study.demand.map(\.location) + study.facilities.map(\.location)
        guard let box = Envelope(covering: everything) else {
            throw AnalysisSetupError("the study has no areas, villages or facilities to survey")
        }
        let margin = 2_000.0
        let corners = try toLonLat.transform([
            Coordinate(x: box.minX - margin, y: box.minY - margin), Coordinate(x: box.maxX + margin, y: box.minY - margin),
            Coordinate(x: box.minX - margin, y: box.maxY + margin), Coordinate(x: box.maxX + margin, y: box.maxY + margin),
        ])
        var places = SurveyPlaces(villageSource: source, villages: villages, facilities: facilities, categories: study.categories,
                                  west: corners.map(\.x).min()!, south: corners.map(\.y).min()!,
                                  east: corners.map(\.x).max()!, north: corners.map(\.y).max()!)
        places.areas = study.areas.map { AreaRef(id: $0.id, name: $0.name, cluster: $0.cluster) }
        return places
    }
}

/// Observed against nearest use: what respondents said they use, held to the study's travel times.
public enum SurveyUse {
    /// The mode a category's use is measured by: its coverage rule's mode (car for a distance rule, as
    /// minutes are asked).
    public static func mode(for category: String, study: Study) throws -> TravelMode {
        let rule = try StudyAnalysis.rules(study)[category] ?? .standard
        return rule.mode == .distance ? .car : rule.mode
    }

    /// For each facility-used question: respondents with a home village who use a facility of the category.
    /// The nearest is the category's facility (baseline) with the least travel time from the home village's
    /// demand point (for area villages: the area's most populous demand point); ties count as nearest.
    public static func observed(survey: SurveyDefinition, responses: [SurveyResponse], places: SurveyPlaces,
                                analysis: StudyAnalysis) throws -> [ObservedUse] {
        let study = analysis.study
        var demandIndex: [String: Int] = [:]
        for (i, d) in study.demand.enumerated() where demandIndex[d.id] == nil { demandIndex[d.id] = i }
        if places.villageSource == .areas {
            // An area village travels from its most populous demand point.
            var best: [String: Int] = [:]
            for (i, d) in study.demand.enumerated() {
                guard let a = d.areaId else { continue }
                if let b = best[a], study.demand[b].weight >= d.weight { continue }
                best[a] = i
            }
            demandIndex = best
        }
        let facilityIndex = Dictionary(study.facilities.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        var out: [ObservedUse] = []
        for q in survey.questions {
            guard case .facilityUsed(let category) = q.kind else { continue }
            let mode = try mode(for: category, study: study)
            let table = try analysis.tables.table(mode)
            let candidates = study.facilities.indices.filter { study.facilities[$0].categories.contains(category) }
            var respondents = 0, nearest = 0, unreachable = 0
            var extras: [Double] = []
            var elsewhere: [String: [Double]] = [:]
            for r in responses {
                guard case .facilityUse(let use)? = r.answers[q.id], let used = use.facility, let home = r.homeVillage else { continue }
                guard let d = demandIndex[home], let s = facilityIndex[used] else { unreachable += 1; continue }
                let usedSeconds = table.value(d, s, .duration)
                let best = candidates.map { table.value(d, $0, .duration) }.min() ?? .infinity
                guard usedSeconds.isFinite, best.isFinite else { unreachable += 1; continue }
                respondents += 1
                // Float tables: a second's thousandth is a tie.
                if usedSeconds <= best + 1e-3 {
                    nearest += 1
                } else {
                    let extra = (usedSeconds - best) / 60
                    extras.append(extra)
                    elsewhere[used, default: []].append(extra)
                }
            }
            extras.sort()
            let median: Double? = extras.isEmpty ? nil
                : extras.count % 2 == 1 ? extras[extras.count / 2] : (extras[extras.count / 2 - 1] + extras[extras.count / 2]) / 2
            out.append(ObservedUse(
                question: q.id, category: category, categoryLabel: study.categories.first { $0.key == category }?.labelDa ?? category, mode: mode.rawValue, respondents: respondents, usingNearest: nearest,
                shareUsingNearest: respondents > 0 ? Double(nearest) / Double(respondents) : nil,
                elsewhere: elsewhere.keys.sorted().map { id in
                    let e = elsewhere[id]!
                    return ObservedUse.Elsewhere(facility: id, name: study.facilities[facilityIndex[id]!].name, respondents: e.count,
                                                 meanExtraMinutes: e.reduce(0, +) / Double(e.count))
                },
                meanExtraMinutes: extras.isEmpty ? nil : extras.reduce(0, +) / Double(extras.count), medianExtraMinutes: median,
                unreachable: unreachable))
        }
        return out
    }
}

/// The study's surveys, read and held to the study, with the places respondents pick from.
public struct SurveyCatalog: Sendable {
    public var surveys: [SurveyDefinition]
    public var places: SurveyPlaces

    public func survey(_ id: String) -> SurveyDefinition? { surveys.first { $0.id == id } }

    /// The survey named by `id`, or the study's only one when none is named.
    public func pick(_ id: String?) throws -> SurveyDefinition {
        if let id {
            guard let s = survey(id) else {
                throw AnalysisSetupError("the study has no survey `\(id.prefix(64))` (surveys: \(surveys.map(\.id).joined(separator: ", ")))")
            }
            return s
        }
        guard surveys.count == 1 else {
            throw AnalysisSetupError(surveys.isEmpty ? "the study names no survey (`surveys:` in the study file)"
                                     : "the study has \(surveys.count) surveys; name one (\(surveys.map(\.id).joined(separator: ", ")))")
        }
        return surveys[0]
    }

    /// Every survey of the study; the first problem (naming file and question) stops it.
    public static func load(_ study: Study) throws -> SurveyCatalog {
        let found = read(study)
        if let p = found.problems.first { throw AnalysisSetupError(p) }
        // A study without surveys needs no places (and may have nothing to pick from).
        guard !found.surveys.isEmpty else {
            return SurveyCatalog(surveys: [], places: SurveyPlaces(villageSource: .areas, villages: [], facilities: [:], categories: study.categories,
                                                                   west: 0, south: 0, east: 0, north: 0))
        }
        return SurveyCatalog(surveys: found.surveys, places: try SurveyPlaces.of(study))
    }

    /// Every problem of the study's surveys, for `validate`.
    public static func problems(_ study: Study) -> [String] { read(study).problems }

    static func read(_ study: Study) -> (surveys: [SurveyDefinition], problems: [String]) {
        var surveys: [SurveyDefinition] = [], problems: [String] = []
        var files: [String: String] = [:]
        let hasVillages = !study.demand.isEmpty || !study.areas.isEmpty
        for path in study.surveyFiles {
            do {
                let s = try SurveyFile.load(path: path)
                if let other = files[s.id] {
                    problems.append("\(path): the survey id `\(s.id)` is also used by \(other)")
                    continue
                }
                files[s.id] = path
                let p = s.problems(categories: study.categories.map(\.key), hasVillages: hasVillages).map { "\(path): \($0)" }
                problems += p
                if p.isEmpty { surveys.append(s) }
            } catch {
                problems.append("\(error)")
            }
        }
        return (surveys, problems)
    }
}

extension SurveyPlaces {
    /// The areas' outer rings in longitude/latitude for the survey page's map, thinned to a vertex every
    /// `spacingMeters` or more, so that all rings together keep at most about `maxVertices` (a background to
    /// point at on a phone, not a boundary to measure on).
    public static func outlines(of study: Study, spacingMeters: Double = 25, maxVertices: Int = 8_000) throws -> [[[Double]]] {
        let toLonLat = try Transformer(from: study.crs, to: .wgs84)
        var rings: [[Coordinate]] = []
        func add(_ polygon: [[Coordinate]]) { if let outer = polygon.first { rings.append(outer) } }
        for a in study.areas {
            switch a.geometry {
            case .polygon(let p): add(p)
            case .multiPolygon(let ps): ps.forEach(add)
            default: break
            }
        }
        let perimeter = rings.reduce(0.0) { sum, ring in sum + zip(ring, ring.dropFirst()).reduce(0.0) { $0 + hypot($1.1.x - $1.0.x, $1.1.y - $1.0.y) } }
        let spacing = max(spacingMeters, perimeter / Double(max(1, maxVertices)))
        return try rings.map { ring in
            var kept: [Coordinate] = []
            for (i, c) in ring.enumerated() {
                if let last = kept.last, i < ring.count - 1, hypot(c.x - last.x, c.y - last.y) < spacing { continue }
                kept.append(c)
            }
            return try toLonLat.transform(kept).map { [($0.x * 100_000).rounded() / 100_000, ($0.y * 100_000).rounded() / 100_000] }
        }
    }
}

/// Respondents who use facilities a plan closes: "users affected", next to the population affected. Counted
/// per facility-used question; a facility closes for a category when it served it before and does not after
/// (closed, merged away, or recategorised).
public struct UsersAffected: Sendable, Hashable, Encodable {
    public struct Facility: Sendable, Hashable, Encodable {
        public var id: String
        public var name: String
        public var users: Int
    }
    public var survey: String
    public var question: String
    public var category: String
    /// Respondents who named a facility of the category.
    public var respondents: Int
    public var affected: Int
    public var share: Double?
    public var closed: [Facility]

    /// Users per facility of each facility-used question, from the responses.
    public static func between(_ before: Plan, _ after: Plan, survey: SurveyDefinition, responses: [SurveyResponse],
                               analysis: StudyAnalysis, categories only: [String]? = nil) -> [UsersAffected] {
        let sites = analysis.sites
        var out: [UsersAffected] = []
        for q in survey.questions {
            guard case .facilityUsed(let category) = q.kind, only?.contains(category) ?? true else { continue }
            let users = SurveyResponse.facilityUsers(responses, question: q.id)
            let respondents = users.values.reduce(0, +)
            let closed = sites.indices.filter { before.serves($0, category) && !after.serves($0, category) }
                .map { Facility(id: sites[$0].id, name: sites[$0].name, users: users[sites[$0].id] ?? 0) }
            let affected = closed.map(\.users).reduce(0, +)
            out.append(UsersAffected(survey: survey.id, question: q.id, category: category, respondents: respondents, affected: affected,
                                     share: respondents > 0 ? Double(affected) / Double(respondents) : nil, closed: closed))
        }
        return out
    }

    /// Users of each facility of `category` by the survey's questions on it (for ranking closures).
    public static func users(of category: String, survey: SurveyDefinition, responses: [SurveyResponse]) -> [String: Int] {
        var users: [String: Int] = [:]
        for q in survey.questions {
            guard case .facilityUsed(let c) = q.kind, c == category else { continue }
            users.merge(SurveyResponse.facilityUsers(responses, question: q.id), uniquingKeysWith: +)
        }
        return users
    }
}
