import Foundation

/// Why a submitted answer was refused, naming the question; nothing of it is stored.
public struct SubmissionProblem: Error, Sendable, Hashable, CustomStringConvertible {
    /// The question concerned, if one is.
    public var question: String?
    public var message: String
    public init(question: String?, message: String) {
        self.question = question
        self.message = message
    }
    public var description: String { question.map { "question `\($0)`: \(message)" } ?? message }
}

/// A JSON value as sent, before it is held to the survey.
indirect enum JSONValue: Decodable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    var string: String? { if case .string(let s) = self { s } else { nil } }
    var object: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
}

/// Holds a submission (the page's JSON, or a line of an import file) to the survey's definition and the
/// study's places. Accepts only what the definition asks: known questions, shown by their conditions,
/// valid options, villages and facilities of the study, numbers finite and in range, texts within their
/// length, pins inside the study's extent.
public struct SubmissionCheck: Sendable {
    public let survey: SurveyDefinition
    public let places: SurveyPlaces
    /// Nesting deeper than this is refused before decoding (no answer needs more than three levels).
    static let maxDepth = 8

    public init(survey: SurveyDefinition, places: SurveyPlaces) {
        self.survey = survey
        self.places = places
    }

    /// The response to store, or the first problem. Pins from the web wait for approval when the survey is
    /// moderated; paper answers, typed in by the kommune, do not.
    public func response(from body: Data, id: String, receivedDay: String, source: ResponseSource) throws(SubmissionProblem) -> SurveyResponse {
        var depth = 0, deepest = 0, inString = false, escaped = false
        for b in body {
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch b {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1; deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
            if deepest > Self.maxDepth { throw SubmissionProblem(question: nil, message: "the answer is nested deeper than any survey answer") }
        }
        let root: JSONValue
        do { root = try JSONDecoder().decode(JSONValue.self, from: body) } catch {
            throw SubmissionProblem(question: nil, message: "the body is not valid JSON")
        }
        guard let top = root.object else { throw SubmissionProblem(question: nil, message: "the body must be a JSON object with `answers`") }
        let known: Set<String> = ["language", "consent", "age_confirmed", "answers"]
        if let k = top.keys.sorted().first(where: { !known.contains($0) }) {
            throw SubmissionProblem(question: nil, message: "unknown key `\(k)` (known: \(known.sorted().joined(separator: ", ")))")
        }
        var language = SurveyLanguage.da
        if let l = top["language"] {
            guard let s = l.string, let lang = SurveyLanguage(rawValue: s), survey.languages.contains(lang) else {
                throw SubmissionProblem(question: nil, message: "`language` must be one of \(survey.languages.map(\.rawValue).joined(separator: ", "))")
            }
            language = lang
        }
        guard case .bool(true)? = top["consent"] else {
            throw SubmissionProblem(question: nil, message: "the answer can only be kept with consent (`consent`: true)")
        }
        if survey.minimumAge > 0 {
            guard case .bool(true)? = top["age_confirmed"] else {
                throw SubmissionProblem(question: nil, message: "the survey is for people aged \(survey.minimumAge) and over (`age_confirmed`: true)")
            }
        }
        guard let given = top["answers"]?.object else { throw SubmissionProblem(question: nil, message: "`answers` must be an object: question id → answer") }
        if let k = given.keys.sorted().first(where: { survey.question($0) == nil }) {
            throw SubmissionProblem(question: k, message: "the survey has no such question")
        }
        let pinStatus: PlacePin.Status = survey.moderation && source == .web ? .pending : .approved
        var answers: [String: AnswerValue] = [:]
        for q in survey.questions {
            let raw = given[q.id]
            let value: AnswerValue?
            if case .null? = raw { value = nil } else if let raw { value = try answer(raw, to: q, pinStatus: pinStatus) } else { value = nil }
            let shown = q.showIf.map { c in Self.matches(answers[c.question], c.values) } ?? true
            if !shown {
                if value != nil, let c = q.showIf {
                    throw SubmissionProblem(question: q.id, message: "is not asked with the answer given to `\(c.question)`, so it cannot be answered")
                }
                continue
            }
            if let value { answers[q.id] = value } else if q.required {
                throw SubmissionProblem(question: q.id, message: "must be answered")
            }
        }
        return SurveyResponse(id: id, survey: survey.id, receivedDay: receivedDay, source: source, language: language, answers: answers)
    }

    /// Whether a choice answer is one of `values` (any chosen one, for a multiple choice).
    public static func matches(_ answer: AnswerValue?, _ values: [String]) -> Bool {
        switch answer {
        case .choice(let c)?: values.contains(c)
        case .choices(let cs)?: cs.contains { values.contains($0) }
        default: false
        }
    }

    /// A typed answer, or nil for an empty one (no choice, blank text, no pins).
    func answer(_ raw: JSONValue, to q: SurveyQuestion, pinStatus: PlacePin.Status) throws(SubmissionProblem) -> AnswerValue? {
        func fail(_ m: String) -> SubmissionProblem { SubmissionProblem(question: q.id, message: m) }
        switch q.kind {
        case .single(let options):
            guard let s = raw.string else { throw fail("should be one option id") }
            guard options.contains(where: { $0.id == s }) else { throw fail("`\(Self.shown(s))` is not one of its options") }
            return .choice(s)
        case .multiple(let options, let maxChoices):
            guard case .array(let items) = raw else { throw fail("should be a list of option ids") }
            var chosen: [String] = []
            for item in items {
                guard let s = item.string else { throw fail("should be a list of option ids") }
                guard options.contains(where: { $0.id == s }) else { throw fail("`\(Self.shown(s))` is not one of its options") }
                guard !chosen.contains(s) else { throw fail("names `\(s)` twice") }
                chosen.append(s)
            }
            if let maxChoices, chosen.count > maxChoices { throw fail("allows at most \(maxChoices) choices, not \(chosen.count)") }
            return chosen.isEmpty ? nil : .choices(options.map(\.id).filter(chosen.contains))
        case .shortText(let maxLength), .longText(let maxLength):
            guard let s = raw.string else { throw fail("should be a text") }
            let t = try Self.cleanText(s, maxLength: maxLength, multiline: q.kind.typeName == "long_text", fail: fail)
            return t.isEmpty ? nil : .text(t)
        case .number(let lo, let hi, let whole):
            guard case .number(let v) = raw, v.isFinite else { throw fail("should be a number") }
            guard v >= lo, v <= hi else { throw fail("must be from \(Self.format(lo)) to \(Self.format(hi)), not \(Self.format(v))") }
            if whole, v.rounded() != v { throw fail("must be a whole number") }
            return .number(v)
        case .homeVillage:
            guard let s = raw.string else { throw fail("should be the id of a village") }
            guard places.village(s) != nil else { throw fail("`\(Self.shown(s))` is not one of the study's villages") }
            return .village(s)
        case .facilityUsed(let category):
            guard let o = raw.object else { throw fail("should be an object with `facility`, `frequency` and `mode`") }
            if let k = o.keys.sorted().first(where: { !["facility", "frequency", "mode"].contains($0) }) { throw fail("has an unknown key `\(Self.shown(k))`") }
            var facility: String?
            switch o["facility"] {
            case nil, .null?: facility = nil
            case .string(let s)?:
                guard places.facility(s, category: category) != nil else { throw fail("`\(Self.shown(s))` is not a facility of the category `\(category)`") }
                facility = s
            default: throw fail("`facility` should be a facility id, or null for none")
            }
            func pick<E: RawRepresentable & CaseIterable>(_ key: String, _: E.Type) throws(SubmissionProblem) -> E? where E.RawValue == String {
                switch o[key] {
                case nil, .null?: return nil
                case .string(let s)?:
                    guard let e = E(rawValue: s) else { throw fail("`\(key)` must be one of \(E.allCases.map(\.rawValue).joined(separator: ", "))") }
                    return e
                default: throw fail("`\(key)` must be one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
                }
            }
            let frequency = try pick("frequency", UseFrequency.self)
            let mode = try pick("mode", TravelMeans.self)
            if facility == nil {
                guard frequency == nil, mode == nil else { throw fail("gives how often and how, but no facility") }
            } else {
                guard frequency != nil else { throw fail("needs `frequency` (how often) with the facility") }
                guard mode != nil else { throw fail("needs `mode` (how the respondent gets there) with the facility") }
            }
            return .facilityUse(FacilityUse(facility: facility, frequency: frequency, mode: mode))
        case .placePins(let kinds, let maxPins, _, let maxLength):
            guard case .array(let items) = raw else { throw fail("should be a list of pins") }
            guard items.count <= maxPins else { throw fail("allows at most \(maxPins) pins, not \(items.count)") }
            var pins: [PlacePin] = []
            for (i, item) in items.enumerated() {
                guard let o = item.object else { throw fail("pin \(i + 1) should be an object with `lon`, `lat`, `kind` and `text`") }
                if let k = o.keys.sorted().first(where: { !["lon", "lat", "kind", "text"].contains($0) }) { throw fail("pin \(i + 1) has an unknown key `\(Self.shown(k))`") }
                guard case .number(let lon)? = o["lon"], case .number(let lat)? = o["lat"], lon.isFinite, lat.isFinite else {
                    throw fail("pin \(i + 1) needs `lon` and `lat` as finite numbers")
                }
                guard places.contains(lon: lon, lat: lat) else { throw fail("pin \(i + 1) is outside the study's area") }
                guard let ks = o["kind"]?.string, let kind = PinKind(rawValue: ks), kinds.contains(kind) else {
                    throw fail("pin \(i + 1): `kind` must be one of \(kinds.map(\.rawValue).joined(separator: ", "))")
                }
                var text = ""
                if let t = o["text"] {
                    guard let s = t.string else { throw fail("pin \(i + 1): `text` should be a text") }
                    text = try Self.cleanText(s, maxLength: maxLength, multiline: true, fail: fail)
                }
                // About a metre is enough for a place, and no finer position is kept than was meant.
                pins.append(PlacePin(lon: (lon * 100_000).rounded() / 100_000, lat: (lat * 100_000).rounded() / 100_000, kind: kind, text: text, status: pinStatus))
            }
            return pins.isEmpty ? nil : .pins(pins)
        }
    }

    /// Trimmed text, refused when too long or holding control characters (other than line breaks and tabs
    /// in long texts). The text is kept as written: it is escaped wherever it is shown, never filtered.
    static func cleanText(_ s: String, maxLength: Int, multiline: Bool, fail: (String) -> SubmissionProblem) throws(SubmissionProblem) -> String {
        let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
        guard t.count <= maxLength else { throw fail("is longer than \(maxLength) characters (\(t.count))") }
        for u in t.unicodeScalars where u.properties.generalCategory == .control {
            if multiline && (u == "\n" || u == "\r" || u == "\t") { continue }
            throw fail(multiline ? "holds a control character" : "must be one line, without control characters")
        }
        return t
    }

    /// A sent value in a message: short, and only printable.
    static func shown(_ s: String) -> String {
        let printable = String(String.UnicodeScalarView(s.unicodeScalars.filter { $0.properties.generalCategory != .control }))
        return printable.count > 40 ? String(printable.prefix(40)) + "…" : printable
    }

    static func format(_ v: Double) -> String {
        v.rounded() == v && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }
}
