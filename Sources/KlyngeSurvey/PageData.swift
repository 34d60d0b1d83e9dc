import Foundation

/// What the public page needs to show a survey: its texts in every offered language, its questions,
/// the villages and facilities to pick from (with positions for the map), the study's outline, and whether
/// answers are taken now. Every text reaches the page as data and is set with `textContent`.
public struct SurveyPageData: Sendable, Encodable {
    public struct Text: Sendable, Encodable {
        var da: String
        var en: String
        init(_ t: LocalizedText) {
            da = t.da
            en = t.en ?? t.da
        }
    }
    struct Option: Sendable, Encodable { var id: String; var label: Text }
    struct Question: Sendable, Encodable {
        var id: String
        var type: String
        var text: Text
        var help: Text?
        var required: Bool
        var options: [Option]?
        var maxChoices: Int?
        var maxLength: Int?
        var minimum: Double?
        var maximum: Double?
        var wholeNumber: Bool?
        var category: String?
        var categoryLabel: Text?
        var pinKinds: [Option]?
        var maxPins: Int?
        var followUp: Text?
        var showIf: Condition?
    }
    struct Condition: Sendable, Encodable { var question: String; var values: [String] }
    struct Block: Sendable, Encodable { var id: String; var title: Text; var introduction: Text?; var questions: [Question] }
    struct Place: Sendable, Encodable { var id: String; var name: String; var lon: Double; var lat: Double }

    var id: String
    var title: Text
    var introduction: Text
    var consent: Text
    var privacy: Text
    var languages: [String]
    var minimumAge: Int
    var onePerDevice: Bool
    var moderation: Bool
    var opens: String
    var closes: String
    /// "open", "not_yet_open" or "closed".
    var status: String
    var blocks: [Block]
    var villages: [Place]
    var facilities: [String: [Place]]
    /// The study's extent [west, south, east, north] and its area outlines (rings of [lon, lat]).
    var bbox: [Double]
    var outlines: [[[Double]]]

    public init(survey: SurveyDefinition, places: SurveyPlaces, outlines: [[[Double]]], now: Date, closedEarlyAt: Date?) {
        let iso = ISO8601DateFormatter()
        id = survey.id
        title = Text(survey.title)
        introduction = Text(survey.introduction)
        consent = Text(survey.consent)
        privacy = Text(survey.privacy)
        languages = survey.languages.map(\.rawValue)
        minimumAge = survey.minimumAge
        onePerDevice = survey.onePerDevice
        moderation = survey.moderation
        opens = iso.string(from: survey.opens)
        let end = min(survey.closes, closedEarlyAt ?? survey.closes)
        closes = iso.string(from: end)
        status = survey.isOpen(at: now, closedEarlyAt: closedEarlyAt) ? "open" : now < survey.opens ? "not_yet_open" : "closed"
        let categoryLabels = Dictionary(places.categories.map { ($0.key, LocalizedText(da: $0.labelDa, en: $0.labelEn)) }, uniquingKeysWith: { a, _ in a })
        var used = Set<String>()
        blocks = survey.blocks.map { b in
            Block(id: b.id, title: Text(b.title), introduction: b.introduction.map(Text.init), questions: b.questions.map { q in
                var out = Question(id: q.id, type: q.kind.typeName, text: Text(q.text), help: q.help.map(Text.init), required: q.required)
                out.showIf = q.showIf.map { Condition(question: $0.question, values: $0.values) }
                switch q.kind {
                case .single(let o): out.options = o.map { Option(id: $0.id, label: Text($0.label)) }
                case .multiple(let o, let m):
                    out.options = o.map { Option(id: $0.id, label: Text($0.label)) }
                    out.maxChoices = m
                case .shortText(let m), .longText(let m): out.maxLength = m
                case .number(let lo, let hi, let whole):
                    out.minimum = lo
                    out.maximum = hi
                    out.wholeNumber = whole
                case .homeVillage: break
                case .facilityUsed(let c):
                    out.category = c
                    out.categoryLabel = categoryLabels[c].map(Text.init)
                    used.insert(c)
                case .placePins(let kinds, let maxPins, let followUp, let maxLength):
                    out.pinKinds = kinds.map { Option(id: $0.rawValue, label: Text(LocalizedText(da: $0.label(.da), en: $0.label(.en)))) }
                    out.maxPins = maxPins
                    out.followUp = Text(followUp)
                    out.maxLength = maxLength
                }
                return out
            })
        }
        villages = places.villages.map { Place(id: $0.id, name: $0.name, lon: $0.lon, lat: $0.lat) }
        facilities = Dictionary(uniqueKeysWithValues: used.map { c in
            (c, (places.facilities[c] ?? []).map { Place(id: $0.id, name: $0.name, lon: $0.lon, lat: $0.lat) })
        })
        bbox = [places.west, places.south, places.east, places.north]
        self.outlines = outlines
    }
}
