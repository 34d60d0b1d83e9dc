import Foundation

/// A place pin in an answer: where (longitude/latitude), what kind, what the respondent wrote, and
/// whether it may be shown publicly.
public struct PlacePin: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable, CaseIterable { case pending, approved, rejected }
    public var lon: Double
    public var lat: Double
    public var kind: PinKind
    public var text: String
    public var status: Status
    public init(lon: Double, lat: Double, kind: PinKind, text: String, status: Status) {
        self.lon = lon
        self.lat = lat
        self.kind = kind
        self.text = text
        self.status = status
    }
}

/// Which facility a respondent mostly uses (nil: none of the category), how often, and how they get there.
public struct FacilityUse: Sendable, Hashable, Codable {
    public var facility: String?
    public var frequency: UseFrequency?
    public var mode: TravelMeans?
    public init(facility: String?, frequency: UseFrequency?, mode: TravelMeans?) {
        self.facility = facility
        self.frequency = frequency
        self.mode = mode
    }
}

/// One answer, typed by its question's kind.
public enum AnswerValue: Sendable, Hashable {
    case choice(String)
    case choices([String])
    case text(String)
    case number(Double)
    case village(String)
    case facilityUse(FacilityUse)
    case pins([PlacePin])
}

extension AnswerValue: Codable {
    private enum Keys: String, CodingKey { case type, value }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        switch try c.decode(String.self, forKey: .type) {
        case "choice": self = .choice(try c.decode(String.self, forKey: .value))
        case "choices": self = .choices(try c.decode([String].self, forKey: .value))
        case "text": self = .text(try c.decode(String.self, forKey: .value))
        case "number": self = .number(try c.decode(Double.self, forKey: .value))
        case "village": self = .village(try c.decode(String.self, forKey: .value))
        case "facility_use": self = .facilityUse(try c.decode(FacilityUse.self, forKey: .value))
        case "pins": self = .pins(try c.decode([PlacePin].self, forKey: .value))
        case let t: throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "unknown answer type \(t)")
        }
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        switch self {
        case .choice(let v): try c.encode("choice", forKey: .type); try c.encode(v, forKey: .value)
        case .choices(let v): try c.encode("choices", forKey: .type); try c.encode(v, forKey: .value)
        case .text(let v): try c.encode("text", forKey: .type); try c.encode(v, forKey: .value)
        case .number(let v): try c.encode("number", forKey: .type); try c.encode(v, forKey: .value)
        case .village(let v): try c.encode("village", forKey: .type); try c.encode(v, forKey: .value)
        case .facilityUse(let v): try c.encode("facility_use", forKey: .type); try c.encode(v, forKey: .value)
        case .pins(let v): try c.encode("pins", forKey: .type); try c.encode(v, forKey: .value)
        }
    }
}

/// Where an answer came from: the public page, or a paper form typed in by the kommune.
public enum ResponseSource: String, Sendable, Hashable, Codable { case web, paper }

/// One stored response. It holds no address, device or time of day: the day it came in is enough to
/// follow the survey, and anything finer could tie an answer to a person.
public struct SurveyResponse: Sendable, Hashable, Codable {
    public var id: String
    public var survey: String
    /// YYYY-MM-DD in the survey's zone.
    public var receivedDay: String
    public var source: ResponseSource
    public var language: SurveyLanguage
    public var answers: [String: AnswerValue]

    public init(id: String, survey: String, receivedDay: String, source: ResponseSource, language: SurveyLanguage, answers: [String: AnswerValue]) {
        self.id = id
        self.survey = survey
        self.receivedDay = receivedDay
        self.source = source
        self.language = language
        self.answers = answers
    }

    public var homeVillage: String? {
        for v in answers.values { if case .village(let id) = v { return id } }
        return nil
    }
}

extension SurveyResponse {
    /// Respondents per facility named in the answers to a facility-used question (those using none are not counted).
    public static func facilityUsers(_ responses: [SurveyResponse], question: String) -> [String: Int] {
        var users: [String: Int] = [:]
        for r in responses { if case .facilityUse(let u)? = r.answers[question], let f = u.facility { users[f, default: 0] += 1 } }
        return users
    }

    /// A new random response id (64 bits, hex): unguessable, and saying nothing about who or when.
    public static func newId() -> String {
        var g = SystemRandomNumberGenerator()
        return String(format: "%016llx", g.next() as UInt64)
    }
}

extension SurveyDefinition {
    /// The calendar day of `date` in the survey's zone (YYYY-MM-DD): what a response keeps of its time.
    public func day(of date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = timeZone
        f.dateFormat = "yyyy-MM-dd"
        return f.string(from: date)
    }
}
