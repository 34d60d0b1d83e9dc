import Foundation

/// The languages a survey can be answered in; Danish is the default and always present.
public enum SurveyLanguage: String, Sendable, Hashable, CaseIterable, Codable {
    case da, en
}

/// A text shown to respondents, in Danish and optionally English (English falls back to Danish).
public struct LocalizedText: Sendable, Hashable, Codable {
    public var da: String
    public var en: String?
    public init(da: String, en: String? = nil) {
        self.da = da
        self.en = en
    }
    public func text(_ language: SurveyLanguage) -> String { language == .en ? (en ?? da) : da }
}

/// A survey, as the study defines it: what is asked, of whom, and when.
public struct SurveyDefinition: Sendable, Hashable {
    /// Key in URLs (`/survey/<id>/`) and in the store: lower-case ASCII letters, digits and hyphens.
    public var id: String
    public var title: LocalizedText
    public var introduction: LocalizedText
    /// What respondents agree to before answering (shown with a checkbox that must be ticked).
    public var consent: LocalizedText
    /// How answers are kept and used (shown on the page, linked from the consent).
    public var privacy: LocalizedText
    /// Answers are accepted from `opens` up to (not including) `closes`.
    public var opens: Date
    public var closes: Date
    /// The zone the dates were given in (day boundaries), Europe/Copenhagen unless told.
    public var timeZone: TimeZone
    public var languages: [SurveyLanguage]
    /// Respondents confirm that they are at least this old.
    public var minimumAge: Int
    /// Results for a village, area, cluster or facility with fewer respondents are suppressed.
    public var minimumGroupSize: Int
    /// One submission per device (a random cookie set by the page); the address rate limit applies regardless.
    public var onePerDevice: Bool
    /// Place pins are shown publicly only after an administrator approves them.
    public var moderation: Bool
    public var blocks: [SurveyBlock]

    public init(id: String, title: LocalizedText, introduction: LocalizedText, consent: LocalizedText, privacy: LocalizedText,
                opens: Date, closes: Date, timeZone: TimeZone, languages: [SurveyLanguage] = [.da], minimumAge: Int = 16,
                minimumGroupSize: Int = 5, onePerDevice: Bool = true, moderation: Bool = false, blocks: [SurveyBlock]) {
        self.id = id
        self.title = title
        self.introduction = introduction
        self.consent = consent
        self.privacy = privacy
        self.opens = opens
        self.closes = closes
        self.timeZone = timeZone
        self.languages = languages
        self.minimumAge = minimumAge
        self.minimumGroupSize = minimumGroupSize
        self.onePerDevice = onePerDevice
        self.moderation = moderation
        self.blocks = blocks
    }

    /// Every question in the order shown.
    public var questions: [SurveyQuestion] { blocks.flatMap(\.questions) }

    public func question(_ id: String) -> SurveyQuestion? { questions.first { $0.id == id } }

    /// Whether answers are taken at `now` (an administrator may have closed it early).
    public func isOpen(at now: Date, closedEarlyAt: Date? = nil) -> Bool {
        now >= opens && now < min(closes, closedEarlyAt ?? closes)
    }
}

/// A block of questions under one heading (meeting places, activities, associations, communication …).
public struct SurveyBlock: Sendable, Hashable {
    public var id: String
    public var title: LocalizedText
    public var introduction: LocalizedText?
    public var questions: [SurveyQuestion]
    public init(id: String, title: LocalizedText, introduction: LocalizedText? = nil, questions: [SurveyQuestion]) {
        self.id = id
        self.title = title
        self.introduction = introduction
        self.questions = questions
    }
}

/// One question.
public struct SurveyQuestion: Sendable, Hashable {
    public var id: String
    public var text: LocalizedText
    public var help: LocalizedText?
    public var required: Bool
    public var kind: QuestionKind
    /// Shown (and answerable) only when an earlier choice question has one of the given answers.
    public var showIf: SurveyCondition?
    public init(id: String, text: LocalizedText, help: LocalizedText? = nil, required: Bool = false, kind: QuestionKind,
                showIf: SurveyCondition? = nil) {
        self.id = id
        self.text = text
        self.help = help
        self.required = required
        self.kind = kind
        self.showIf = showIf
    }
}

/// A choice offered by a single or multiple choice question.
public struct SurveyOption: Sendable, Hashable {
    public var id: String
    public var label: LocalizedText
    public init(id: String, label: LocalizedText) {
        self.id = id
        self.label = label
    }
}

/// What a place pin says about the place.
public enum PinKind: String, Sendable, Hashable, CaseIterable, Codable {
    case wish, problem, meetingPlace = "meeting_place"

    public func label(_ language: SurveyLanguage) -> String {
        switch (self, language) {
        case (.wish, .da): "Ønske"
        case (.wish, .en): "Wish"
        case (.problem, .da): "Problem"
        case (.problem, .en): "Problem"
        case (.meetingPlace, .da): "Mødested"
        case (.meetingPlace, .en): "Meeting place"
        }
    }
}

/// How often a respondent uses a facility.
public enum UseFrequency: String, Sendable, Hashable, CaseIterable, Codable {
    case daily, weekly, monthly, yearly, rarely

    public func label(_ language: SurveyLanguage) -> String {
        switch (self, language) {
        case (.daily, .da): "Dagligt"
        case (.daily, .en): "Daily"
        case (.weekly, .da): "Hver uge"
        case (.weekly, .en): "Weekly"
        case (.monthly, .da): "Hver måned"
        case (.monthly, .en): "Monthly"
        case (.yearly, .da): "Nogle gange om året"
        case (.yearly, .en): "A few times a year"
        case (.rarely, .da): "Sjældnere"
        case (.rarely, .en): "Less often"
        }
    }
}

/// How a respondent usually travels there.
public enum TravelMeans: String, Sendable, Hashable, CaseIterable, Codable {
    case walk, bike, car, bus, other

    public func label(_ language: SurveyLanguage) -> String {
        switch (self, language) {
        case (.walk, .da): "Til fods"
        case (.walk, .en): "On foot"
        case (.bike, .da): "Cykel"
        case (.bike, .en): "Bicycle"
        case (.car, .da): "Bil"
        case (.car, .en): "Car"
        case (.bus, .da): "Bus eller anden kollektiv trafik"
        case (.bus, .en): "Bus or other public transport"
        case (.other, .da): "Andet"
        case (.other, .en): "Other"
        }
    }
}

/// The kinds of question a survey can ask.
public enum QuestionKind: Sendable, Hashable {
    case single(options: [SurveyOption])
    /// `maxChoices` nil: any number.
    case multiple(options: [SurveyOption], maxChoices: Int?)
    case shortText(maxLength: Int)
    case longText(maxLength: Int)
    case number(minimum: Double, maximum: Double, wholeNumber: Bool)
    /// The respondent's village, picked from a list or by a pin snapped to the nearest village; only the
    /// village is sent and stored, never a position.
    case homeVillage
    /// Which facility of a category the respondent mostly uses (or none), how often and how they get there.
    case facilityUsed(category: String)
    /// "Mark a place and tell us about it": up to `maxPins` pins, each with a kind and a text.
    case placePins(kinds: [PinKind], maxPins: Int, followUp: LocalizedText, maxLength: Int)

    /// The name used in survey files and in the page (`type:`).
    public var typeName: String {
        switch self {
        case .single: "single"
        case .multiple: "multiple"
        case .shortText: "short_text"
        case .longText: "long_text"
        case .number: "number"
        case .homeVillage: "home_village"
        case .facilityUsed: "facility_used"
        case .placePins: "place_pins"
        }
    }

    public var options: [SurveyOption] {
        switch self {
        case .single(let o), .multiple(let o, _): o
        default: []
        }
    }
}

/// Show a question only if an earlier single or multiple choice question was answered with one of `values`.
public struct SurveyCondition: Sendable, Hashable {
    public var question: String
    public var values: [String]
    public init(question: String, values: [String]) {
        self.question = question
        self.values = values
    }
}

extension SurveyDefinition {
    /// What the survey asks of the study that the study does not have, naming the question (empty when fine).
    public func problems(categories: [String], hasVillages: Bool) -> [String] {
        var out: [String] = []
        for q in questions {
            switch q.kind {
            case .facilityUsed(let c) where !categories.contains(c):
                out.append("survey `\(id)`, question `\(q.id)`: the study has no facility category `\(c)` (categories: \(categories.joined(separator: ", ")))")
            case .homeVillage where !hasVillages:
                out.append("survey `\(id)`, question `\(q.id)`: the study has no villages or areas to pick a home village from")
            default: break
            }
        }
        return out
    }
}
