import Foundation
import KlyngeGeo

/// Respondents in one group (a village, area, cluster, or a facility's users from one village). A count
/// from 1 to below the survey's minimum group size is suppressed: `respondents` is nil and `suppressed`
/// true, so no household can be singled out. Zero is shown.
public struct GroupCount: Sendable, Hashable, Encodable {
    public var id: String
    public var name: String
    public var respondents: Int?
    public var suppressed: Bool

    init(id: String, name: String, count: Int, minimum: Int) {
        self.id = id
        self.name = name
        suppressed = count > 0 && count < minimum
        respondents = suppressed ? nil : count
    }

    enum CodingKeys: String, CodingKey { case id, name, respondents, suppressed }
    /// A suppressed count is written as null, so readers see that it was withheld, not forgotten.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(respondents, forKey: .respondents)
        try c.encode(suppressed, forKey: .suppressed)
    }
}

public struct OptionCount: Sendable, Hashable, Encodable {
    public var id: String
    public var label: String
    public var count: Int
}

public struct NumberSummary: Sendable, Hashable, Encodable {
    public var count: Int
    public var mean: Double
    public var median: Double
    public var minimum: Double
    public var maximum: Double
}

/// One question's tally over the whole survey.
public struct QuestionTally: Sendable, Hashable, Encodable {
    public var id: String
    public var text: String
    public var type: String
    /// Respondents who answered it.
    public var answered: Int
    public var options: [OptionCount]?
    public var number: NumberSummary?
    /// Free texts (text questions), in alphabetical order so their order tells nothing; only in the
    /// administrator's results.
    public var texts: [String]?
}

public struct BlockTally: Sendable, Hashable, Encodable {
    public var id: String
    public var title: String
    public var questions: [QuestionTally]
}

public struct ShareCount: Sendable, Hashable, Encodable {
    public var id: String
    public var label: String
    public var count: Int
    /// Of those who use a facility of the category.
    public var share: Double
}

/// A facility's users as respondents said: how many, and from which villages (its revealed catchment).
public struct FacilityUsers: Sendable, Hashable, Encodable {
    public var id: String
    public var name: String
    public var users: Int
    public var villages: [GroupCount]
}

/// What respondents said about one category's facilities.
public struct FacilityUseSummary: Sendable, Hashable, Encodable {
    public var question: String
    public var category: String
    public var categoryLabel: String
    public var answered: Int
    /// Respondents who use no facility of the category.
    public var usingNone: Int
    public var facilities: [FacilityUsers]
    public var modes: [ShareCount]
    public var frequencies: [ShareCount]
}

/// A pin as the results and the map show it.
public struct PinRecord: Sendable, Hashable, Encodable {
    /// `<response id>-<question>-<n>`, for moderation.
    public var id: String
    public var question: String
    public var kind: PinKind
    public var text: String
    public var lon: Double
    public var lat: Double
    public var status: PlacePin.Status
}

/// The survey's results: counts with suppression, tallies, facility use and pins.
public struct SurveyResults: Sendable, Encodable {
    public var survey: String
    public var title: String
    public var minimumGroupSize: Int
    public var respondents: Int
    public var web: Int
    public var paper: Int
    /// Respondents per home village, area and cluster (suppressed below the minimum group size).
    public var byVillage: [GroupCount]
    public var byArea: [GroupCount]
    public var byCluster: [GroupCount]
    /// Respondents who gave no home village.
    public var noVillage: Int
    public var blocks: [BlockTally]
    public var facilityUse: [FacilityUseSummary]
    public var pinsByKind: [ShareCount]
    public var pins: [PinRecord]
    /// Filled by the study's analysis (travel times): do people use their nearest facility?
    public var observedVersusNearest: [ObservedUse] = []
}

/// For one facility-used question: the share of respondents who use their nearest facility of the category,
/// and what the others use instead and what it costs them in minutes (measured by `mode`).
public struct ObservedUse: Sendable, Hashable, Encodable {
    public struct Elsewhere: Sendable, Hashable, Encodable {
        public var facility: String
        public var name: String
        public var respondents: Int
        public var meanExtraMinutes: Double
        public init(facility: String, name: String, respondents: Int, meanExtraMinutes: Double) {
            self.facility = facility
            self.name = name
            self.respondents = respondents
            self.meanExtraMinutes = meanExtraMinutes
        }
    }
    public var question: String
    public var category: String
    public var categoryLabel: String
    /// The mode travel times are measured by (the category's coverage mode).
    public var mode: String
    /// Respondents with a home village and a facility used, both reachable.
    public var respondents: Int
    public var usingNearest: Int
    public var shareUsingNearest: Double?
    public var elsewhere: [Elsewhere]
    public var meanExtraMinutes: Double?
    public var medianExtraMinutes: Double?
    /// Respondents left out because their village or facility has no road connection.
    public var unreachable: Int
    public init(question: String, category: String, categoryLabel: String, mode: String, respondents: Int, usingNearest: Int, shareUsingNearest: Double?,
                elsewhere: [Elsewhere], meanExtraMinutes: Double?, medianExtraMinutes: Double?, unreachable: Int) {
        self.question = question
        self.category = category
        self.categoryLabel = categoryLabel
        self.mode = mode
        self.respondents = respondents
        self.usingNearest = usingNearest
        self.shareUsingNearest = shareUsingNearest
        self.elsewhere = elsewhere
        self.meanExtraMinutes = meanExtraMinutes
        self.medianExtraMinutes = medianExtraMinutes
        self.unreachable = unreachable
    }
}

extension SurveyResults {
    /// The pins of the responses, approved ones only unless `everyStatus` (the administrator's view).
    public static func pins(survey: SurveyDefinition, responses: [SurveyResponse], everyStatus: Bool) -> [PinRecord] {
        var pins: [PinRecord] = []
        for r in responses.sorted(by: { $0.id < $1.id }) {
            for q in survey.questions {
                guard case .pins(let ps)? = r.answers[q.id] else { continue }
                for (i, p) in ps.enumerated() where everyStatus || p.status == .approved {
                    pins.append(PinRecord(id: "\(r.id)-\(q.id)-\(i + 1)", question: q.id, kind: p.kind, text: p.text, lon: p.lon, lat: p.lat, status: p.status))
                }
            }
        }
        return pins
    }

    /// Tallies `responses` against the definition. `includeTexts`: the administrator's view (free texts,
    /// and pins of every status); otherwise only approved pins and no texts.
    public init(survey: SurveyDefinition, places: SurveyPlaces, responses: [SurveyResponse], language: SurveyLanguage, includeTexts: Bool) {
        let n = survey.minimumGroupSize
        self.survey = survey.id
        title = survey.title.text(language)
        minimumGroupSize = n
        respondents = responses.count
        web = responses.filter { $0.source == .web }.count
        paper = responses.count - web

        var perVillage: [String: Int] = [:]
        for r in responses { if let v = r.homeVillage { perVillage[v, default: 0] += 1 } }
        noVillage = responses.filter { $0.homeVillage == nil }.count
        byVillage = places.villages.map { GroupCount(id: $0.id, name: $0.name, count: perVillage[$0.id] ?? 0, minimum: n) }
        var perArea: [String: Int] = [:], perCluster: [String: Int] = [:]
        for (id, count) in perVillage {
            guard let v = places.village(id) else { continue }
            if let a = v.areaId { perArea[a, default: 0] += count }
            if let c = v.cluster { perCluster[c, default: 0] += count }
        }
        byArea = places.areas.map { GroupCount(id: $0.id, name: $0.name, count: perArea[$0.id] ?? 0, minimum: n) }
        let clusters = Array(Set(places.areas.compactMap(\.cluster))).sorted()
        byCluster = clusters.map { GroupCount(id: $0, name: $0, count: perCluster[$0] ?? 0, minimum: n) }

        blocks = survey.blocks.map { block in
            BlockTally(id: block.id, title: block.title.text(language), questions: block.questions.map { q in
                let given = responses.compactMap { $0.answers[q.id] }
                var t = QuestionTally(id: q.id, text: q.text.text(language), type: q.kind.typeName, answered: given.count)
                switch q.kind {
                case .single(let options), .multiple(let options, _):
                    t.options = options.map { o in
                        OptionCount(id: o.id, label: o.label.text(language), count: given.filter { SubmissionCheck.matches($0, [o.id]) }.count)
                    }
                case .number:
                    let values = given.compactMap { if case .number(let v) = $0 { v } else { nil } }.sorted()
                    if !values.isEmpty {
                        let mid = values.count / 2
                        t.number = NumberSummary(count: values.count, mean: values.reduce(0, +) / Double(values.count),
                                                 median: values.count % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2,
                                                 minimum: values[0], maximum: values[values.count - 1])
                    }
                case .shortText, .longText:
                    if includeTexts { t.texts = given.compactMap { if case .text(let s) = $0 { s } else { nil } }.sorted() }
                default: break
                }
                return t
            })
        }

        facilityUse = survey.questions.compactMap { q -> FacilityUseSummary? in
            guard case .facilityUsed(let category) = q.kind else { return nil }
            let uses: [(FacilityUse, String?)] = responses.compactMap { r in
                if case .facilityUse(let u)? = r.answers[q.id] { (u, r.homeVillage) } else { nil }
            }
            let using = uses.filter { $0.0.facility != nil }
            let total = Double(max(using.count, 1))
            let facilities = (places.facilities[category] ?? []).compactMap { f -> FacilityUsers? in
                let mine = using.filter { $0.0.facility == f.id }
                guard !mine.isEmpty else { return nil }
                var from: [String: Int] = [:]
                for (_, v) in mine { if let v { from[v, default: 0] += 1 } }
                let villages = from.keys.sorted().map { id in GroupCount(id: id, name: places.village(id)?.name ?? id, count: from[id]!, minimum: n) }
                return FacilityUsers(id: f.id, name: f.name, users: mine.count, villages: villages)
            }
            let label = places.categories.first { $0.key == category }?.label(language: language.rawValue) ?? category
            return FacilityUseSummary(
                question: q.id, category: category, categoryLabel: label, answered: uses.count, usingNone: uses.count - using.count, facilities: facilities,
                modes: TravelMeans.allCases.map { m in
                    let c = using.filter { $0.0.mode == m }.count
                    return ShareCount(id: m.rawValue, label: m.label(language), count: c, share: Double(c) / total)
                },
                frequencies: UseFrequency.allCases.map { f in
                    let c = using.filter { $0.0.frequency == f }.count
                    return ShareCount(id: f.rawValue, label: f.label(language), count: c, share: Double(c) / total)
                })
        }

        let pins = Self.pins(survey: survey, responses: responses, everyStatus: includeTexts)
        self.pins = pins
        let allPins = max(pins.count, 1)
        pinsByKind = PinKind.allCases.map { k in
            let c = pins.filter { $0.kind == k }.count
            return ShareCount(id: k.rawValue, label: k.label(language), count: c, share: Double(c) / Double(allPins))
        }
    }
}

/// What respondents said about one category's facilities, safe to show to anyone: users per facility, a
/// count below the minimum group size withheld (null). For the working group's page beside "who loses".
public struct PublicFacilityUse: Sendable, Hashable, Encodable {
    public var survey: String
    public var title: String
    public var question: String
    public var category: String
    public var minimumGroupSize: Int
    /// Respondents who named a facility of the category.
    public var respondents: Int
    /// Facility id → users (null: fewer than the minimum).
    public var users: [String: Int?]

    public static func of(survey: SurveyDefinition, responses: [SurveyResponse], language: SurveyLanguage) -> [PublicFacilityUse] {
        survey.questions.compactMap { q in
            guard case .facilityUsed(let category) = q.kind else { return nil }
            let counts = SurveyResponse.facilityUsers(responses, question: q.id)
            let minimum = survey.minimumGroupSize
            return PublicFacilityUse(survey: survey.id, title: survey.title.text(language), question: q.id, category: category, minimumGroupSize: minimum,
                                     respondents: counts.values.reduce(0, +), users: counts.mapValues { $0 < minimum ? nil : $0 })
        }
    }

    enum CodingKeys: String, CodingKey { case survey, title, question, category, minimumGroupSize, respondents, users }
    /// Withheld counts are written as null, so the page can say "fewer than N".
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(survey, forKey: .survey)
        try c.encode(title, forKey: .title)
        try c.encode(question, forKey: .question)
        try c.encode(category, forKey: .category)
        try c.encode(minimumGroupSize, forKey: .minimumGroupSize)
        try c.encode(respondents, forKey: .respondents)
        var u = c.nestedContainer(keyedBy: DynamicCodingKey.self, forKey: .users)
        for (k, v) in users.sorted(by: { $0.key < $1.key }) { try u.encode(v, forKey: DynamicCodingKey(k)) }
    }
}
