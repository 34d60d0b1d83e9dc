import Foundation
import Yams

/// A survey definition that cannot be used: the file, where in it (block, question) and why.
public struct SurveyDefinitionError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let location: String
    public let message: String
    public init(file: String, location: String, message: String) {
        self.file = file
        self.location = location
        self.message = message
    }
    public var description: String { location.isEmpty ? "\(file): \(message)" : "\(file): \(location): \(message)" }
}

/// Reads a survey file (YAML). Every key is known: a misspelt one is an error naming the question, as
/// is a missing text, an unknown type, a duplicate id, a condition on a missing or later question, or
/// dates in the wrong order. The study is not needed here; `SurveyCheck` holds the survey to it.
public enum SurveyFile {
    /// A survey file is a few hundred lines; larger, or expanding through aliases, is refused unread.
    static let maxBytes = 1 << 20
    static let maxValues = 50_000

    public static func load(path: String) throws -> SurveyDefinition {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SurveyDefinitionError(file: path, location: "", message: "cannot read the survey file (missing or unreadable)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SurveyDefinitionError(file: path, location: "", message: "the survey file is not UTF-8 text")
        }
        return try parse(yaml: text, file: path)
    }

    public static func parse(yaml: String, file: String) throws -> SurveyDefinition {
        guard yaml.utf8.count <= maxBytes else {
            throw SurveyDefinitionError(file: file, location: "", message: "the survey file is larger than 1 MB")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch {
            throw SurveyDefinitionError(file: file, location: "", message: "not valid YAML (\(String(describing: error).split(separator: "\n").first ?? ""))")
        }
        guard let root else { throw SurveyDefinitionError(file: file, location: "", message: "the survey file is empty") }
        var values = 0
        func count(_ n: Node) throws {
            values += 1
            guard values <= maxValues else {
                throw SurveyDefinitionError(file: file, location: "", message: "the survey expands to more than \(maxValues) values (through YAML aliases?)")
            }
            switch n {
            case .mapping(let m): for (k, v) in m { try count(k); try count(v) }
            case .sequence(let s): for v in s { try count(v) }
            default: break
            }
        }
        try count(root)
        return try Reader(file: file).survey(root)
    }
}

/// Walks the composed YAML with the location of each value, so errors say where.
private struct Reader {
    let file: String

    func fail(_ at: String, _ message: String) -> SurveyDefinitionError {
        SurveyDefinitionError(file: file, location: at, message: message)
    }

    func mapping(_ node: Node, _ at: String, keys: Set<String>) throws -> [String: Node] {
        guard case .mapping(let m) = node else { throw fail(at, "should be a set of keys") }
        var out: [String: Node] = [:]
        for (k, v) in m {
            guard let key = k.string else { throw fail(at, "has a key that is not a text") }
            guard keys.contains(key) else {
                throw fail(at, "unknown key `\(key)` (known here: \(keys.sorted().joined(separator: ", ")))")
            }
            out[key] = v
        }
        return out
    }

    func string(_ node: Node?, _ at: String, required: Bool = true) throws -> String? {
        guard let node else {
            if required { throw fail(at, "is missing") }
            return nil
        }
        guard case .scalar(let s) = node else { throw fail(at, "should be a text") }
        return s.string
    }

    func text(_ node: Node?, _ at: String, required: Bool = true) throws -> LocalizedText? {
        guard let node else {
            if required { throw fail(at, "is missing") }
            return nil
        }
        if case .scalar(let s) = node {
            guard !s.string.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw fail(at, "is empty") }
            return LocalizedText(da: s.string)
        }
        let m = try mapping(node, at, keys: ["da", "en"])
        guard let da = try string(m["da"], at + ".da"), !da.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw fail(at + ".da", "the Danish text is empty")
        }
        return LocalizedText(da: da, en: try string(m["en"], at + ".en", required: false))
    }

    func int(_ node: Node?, _ at: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let node else { return value }
        guard case .scalar(let s) = node, let v = Int(s.string) else { throw fail(at, "should be a whole number") }
        guard range.contains(v) else { throw fail(at, "must be from \(range.lowerBound) to \(range.upperBound), not \(v)") }
        return v
    }

    func number(_ node: Node?, _ at: String) throws -> Double? {
        guard let node else { return nil }
        guard case .scalar(let s) = node, let v = Double(s.string), v.isFinite else { throw fail(at, "should be a finite number") }
        return v
    }

    func bool(_ node: Node?, _ at: String, default value: Bool) throws -> Bool {
        guard let node else { return value }
        guard case .scalar(let s) = node else { throw fail(at, "should be true or false") }
        switch s.string.lowercased() {
        case "true", "yes", "ja": return true
        case "false", "no", "nej": return false
        default: throw fail(at, "should be true or false, not `\(s.string)`")
        }
    }

    func list(_ node: Node?, _ at: String) throws -> [Node] {
        guard let node else { throw fail(at, "is missing") }
        guard case .sequence(let s) = node else { throw fail(at, "should be a list") }
        return Array(s)
    }

    func identifier(_ node: Node?, _ at: String) throws -> String {
        let s = try string(node, at)!
        guard SurveyIds.isValid(s) else {
            throw fail(at, "`\(s)` is not a usable id: use 1–64 lower-case letters a–z, digits, `-` or `_`, starting with a letter or digit")
        }
        return s
    }

    /// A date (the whole day in the survey's zone) or a date and time with an offset.
    func date(_ node: Node?, _ at: String, zone: TimeZone, endOfDay: Bool) throws -> Date {
        let s = try string(node, at)!.trimmingCharacters(in: .whitespaces)
        let day = DateFormatter()
        day.locale = Locale(identifier: "en_US_POSIX")
        day.timeZone = zone
        day.dateFormat = "yyyy-MM-dd"
        if s.count == 10, let d = day.date(from: s) {
            // The next midnight in the survey's zone: 23 or 25 hours later on a day the clocks change.
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            return endOfDay ? calendar.date(byAdding: .day, value: 1, to: d) ?? d : d
        }
        let full = ISO8601DateFormatter()
        if let d = full.date(from: s) { return d }
        throw fail(at, "`\(s)` is not a date (2027-01-31) or a date and time with a zone (2027-01-31T20:00:00+01:00)")
    }

    func survey(_ root: Node) throws -> SurveyDefinition {
        let m = try mapping(root, "", keys: ["id", "title", "introduction", "consent", "privacy", "opens", "closes", "timezone", "languages",
                                             "minimum_age", "minimum_group_size", "one_per_device", "moderation", "blocks"])
        let id = try identifier(m["id"], "id")
        let zoneName = try string(m["timezone"], "timezone", required: false) ?? "Europe/Copenhagen"
        guard let zone = TimeZone(identifier: zoneName) else { throw fail("timezone", "`\(zoneName)` is not a known time zone (e.g. Europe/Copenhagen)") }
        let opens = try date(m["opens"], "opens", zone: zone, endOfDay: false)
        // A closing date is the last day answers are taken.
        let closes = try date(m["closes"], "closes", zone: zone, endOfDay: true)
        guard opens < closes else { throw fail("closes", "the survey closes before it opens; `closes` must come after `opens`") }
        var languages: [SurveyLanguage] = [.da]
        if m["languages"] != nil {
            languages = try list(m["languages"], "languages").enumerated().map { i, n in
                let s = try string(n, "languages[\(i)]")!
                guard let l = SurveyLanguage(rawValue: s) else { throw fail("languages[\(i)]", "`\(s)` is not a language Klynge offers (da, en)") }
                return l
            }
            guard languages.contains(.da) else { throw fail("languages", "must include `da` (the survey's texts are written in Danish first)") }
            guard Set(languages).count == languages.count else { throw fail("languages", "names a language twice") }
        }
        var seenBlocks = Set<String>()
        var earlier: [String: SurveyQuestion] = [:]
        var blocks: [SurveyBlock] = []
        let blockNodes = try list(m["blocks"], "blocks")
        guard !blockNodes.isEmpty else { throw fail("blocks", "the survey has no question blocks") }
        for (i, b) in blockNodes.enumerated() {
            let block = try self.block(b, "blocks[\(i)]", earlier: earlier)
            guard seenBlocks.insert(block.id).inserted else { throw fail("blocks[\(i)]", "the block id `\(block.id)` is used twice") }
            for q in block.questions { earlier[q.id] = q }
            blocks.append(block)
        }
        let survey = SurveyDefinition(
            id: id, title: try text(m["title"], "title")!, introduction: try text(m["introduction"], "introduction")!,
            consent: try text(m["consent"], "consent")!, privacy: try text(m["privacy"], "privacy")!,
            opens: opens, closes: closes, timeZone: zone, languages: languages,
            minimumAge: try int(m["minimum_age"], "minimum_age", default: 16, range: 0...120),
            minimumGroupSize: try int(m["minimum_group_size"], "minimum_group_size", default: 5, range: 1...1000),
            onePerDevice: try bool(m["one_per_device"], "one_per_device", default: true),
            moderation: try bool(m["moderation"], "moderation", default: false), blocks: blocks)
        let homes = survey.questions.filter { $0.kind == .homeVillage }
        if homes.count > 1 {
            throw fail("question `\(homes[1].id)`", "the survey already asks for the home village (`\(homes[0].id)`); ask it once")
        }
        if languages.contains(.en) {
            // An English survey needs its own words for what respondents agree to.
            for (key, t) in [("title", survey.title), ("consent", survey.consent), ("privacy", survey.privacy)] where t.en == nil {
                throw fail(key, "the survey is offered in English, so `\(key)` needs an `en` text")
            }
        }
        return survey
    }

    func block(_ node: Node, _ at: String, earlier: [String: SurveyQuestion]) throws -> SurveyBlock {
        let m = try mapping(node, at, keys: ["id", "title", "introduction", "questions"])
        let id = try identifier(m["id"], at + ".id")
        let place = "block `\(id)`"
        var seen = earlier
        var questions: [SurveyQuestion] = []
        let nodes = try list(m["questions"], place + ".questions")
        guard !nodes.isEmpty else { throw fail(place, "has no questions") }
        for (i, q) in nodes.enumerated() {
            let question = try self.question(q, "\(place), question \(i + 1)", earlier: seen)
            guard seen[question.id] == nil else { throw fail("\(place), question `\(question.id)`", "the question id `\(question.id)` is used twice") }
            seen[question.id] = question
            questions.append(question)
        }
        return SurveyBlock(id: id, title: try text(m["title"], place + ".title")!, introduction: try text(m["introduction"], place + ".introduction", required: false),
                           questions: questions)
    }

    static let typeKeys: [String: Set<String>] = [
        "single": ["options"], "multiple": ["options", "max_choices"], "short_text": ["max_length"], "long_text": ["max_length"],
        "number": ["minimum", "maximum", "whole_number"], "home_village": [], "facility_used": ["category"],
        "place_pins": ["kinds", "max_pins", "follow_up", "max_length"],
    ]

    func question(_ node: Node, _ position: String, earlier: [String: SurveyQuestion]) throws -> SurveyQuestion {
        guard case .mapping(let raw) = node else { throw fail(position, "should be a set of keys") }
        // Named by its id from here on, when it has a usable one.
        let idText = raw["id"].flatMap { $0.string }
        let at = idText.map { position.components(separatedBy: ", question").first! + ", question `\($0)`" } ?? position
        let typeName = try string(raw["type"], at + ".type")!
        guard let extra = Self.typeKeys[typeName] else {
            throw fail(at + ".type", "unknown question type `\(typeName)` (known: \(Self.typeKeys.keys.sorted().joined(separator: ", ")))")
        }
        let m = try mapping(node, at, keys: Set(["id", "type", "text", "help", "required", "show_if"]).union(extra))
        let id = try identifier(m["id"], at + ".id")
        let kind: QuestionKind
        switch typeName {
        case "single", "multiple":
            let options = try list(m["options"], at + ".options").enumerated().map { i, n in try option(n, "\(at).options[\(i)]") }
            guard options.count >= 2 else { throw fail(at + ".options", "a choice question needs at least two options") }
            var ids = Set<String>()
            for o in options where !ids.insert(o.id).inserted { throw fail(at + ".options", "the option id `\(o.id)` is used twice") }
            if typeName == "single" { kind = .single(options: options) } else {
                let maxChoices = m["max_choices"] == nil ? nil : try int(m["max_choices"], at + ".max_choices", default: options.count, range: 1...options.count)
                kind = .multiple(options: options, maxChoices: maxChoices)
            }
        case "short_text": kind = .shortText(maxLength: try int(m["max_length"], at + ".max_length", default: 200, range: 1...1000))
        case "long_text": kind = .longText(maxLength: try int(m["max_length"], at + ".max_length", default: 2000, range: 1...10_000))
        case "number":
            let lo = try number(m["minimum"], at + ".minimum") ?? 0
            let hi = try number(m["maximum"], at + ".maximum") ?? 1_000_000
            guard lo < hi else { throw fail(at + ".maximum", "must be larger than `minimum` (\(lo))") }
            kind = .number(minimum: lo, maximum: hi, wholeNumber: try bool(m["whole_number"], at + ".whole_number", default: true))
        case "home_village": kind = .homeVillage
        case "facility_used": kind = .facilityUsed(category: try string(m["category"], at + ".category")!)
        default:
            var kinds = PinKind.allCases
            if m["kinds"] != nil {
                kinds = try list(m["kinds"], at + ".kinds").enumerated().map { i, n in
                    let s = try string(n, "\(at).kinds[\(i)]")!
                    guard let k = PinKind(rawValue: s) else {
                        throw fail("\(at).kinds[\(i)]", "`\(s)` is not a pin kind (\(PinKind.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    return k
                }
                guard !kinds.isEmpty else { throw fail(at + ".kinds", "lists no pin kinds") }
            }
            kind = .placePins(kinds: kinds, maxPins: try int(m["max_pins"], at + ".max_pins", default: 5, range: 1...50),
                              followUp: try text(m["follow_up"], at + ".follow_up", required: false) ?? LocalizedText(da: "Fortæl os om stedet", en: "Tell us about the place"),
                              maxLength: try int(m["max_length"], at + ".max_length", default: 1000, range: 1...10_000))
        }
        var condition: SurveyCondition?
        if let c = m["show_if"] {
            let cm = try mapping(c, at + ".show_if", keys: ["question", "equals", "in"])
            let target = try string(cm["question"], at + ".show_if.question")!
            guard let q = earlier[target] else {
                throw fail(at + ".show_if", "depends on the question `\(target)`, which is not asked before this one")
            }
            let valid = Set(q.kind.options.map(\.id))
            guard !valid.isEmpty else {
                throw fail(at + ".show_if", "depends on `\(target)`, a \(q.kind.typeName) question; a condition needs a single or multiple choice question")
            }
            var values: [String] = []
            if let e = cm["equals"] { values.append(try string(e, at + ".show_if.equals")!) }
            if cm["in"] != nil { values += try list(cm["in"], at + ".show_if.in").enumerated().map { i, n in try string(n, "\(at).show_if.in[\(i)]")! } }
            guard !values.isEmpty else { throw fail(at + ".show_if", "needs `equals` or `in` (the answers of `\(target)` that show this question)") }
            for v in values where !valid.contains(v) {
                throw fail(at + ".show_if", "`\(v)` is not an option of `\(target)` (options: \(valid.sorted().joined(separator: ", ")))")
            }
            condition = SurveyCondition(question: target, values: values)
        }
        return SurveyQuestion(id: id, text: try text(m["text"], at + ".text")!, help: try text(m["help"], at + ".help", required: false),
                              required: try bool(m["required"], at + ".required", default: false), kind: kind, showIf: condition)
    }

    func option(_ node: Node, _ at: String) throws -> SurveyOption {
        let m = try mapping(node, at, keys: ["id", "label"])
        let id = try identifier(m["id"], at + ".id")
        return SurveyOption(id: id, label: try text(m["label"], at + " (`\(id)`).label")!)
    }
}

/// Ids of surveys, blocks, questions and options: safe in URLs, CSV headers and store keys.
public enum SurveyIds {
    public static func isValid(_ s: String) -> Bool {
        guard (1...64).contains(s.utf8.count), let first = s.unicodeScalars.first, first != "-", first != "_" else { return false }
        return s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
    }
}
