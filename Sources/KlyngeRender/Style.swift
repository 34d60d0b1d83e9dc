import Foundation
import KlyngeGeo

/// The layer types of the supported MapLibre subset.
public enum LayerType: String, Sendable, CaseIterable {
    case background, fill, line, circle, symbol
}

/// What a property holds, for validation. Numbers carry the range a literal must fall in.
enum PropertyKind: Sendable {
    case color, number(ClosedRange<Double>), string, bool, numbers, enumeration([String]), text, icon

    static let any = PropertyKind.number(-Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude)
    static let size = PropertyKind.number(0...Double.greatestFiniteMagnitude)
    static let opacity = PropertyKind.number(0...1)
}

/// The paint and layout properties each layer type supports (a documented subset of MapLibre's).
enum PropertySpecs {
    static let paint: [LayerType: [String: PropertyKind]] = [
        .background: ["background-color": .color, "background-opacity": .opacity],
        .fill: ["fill-color": .color, "fill-opacity": .opacity, "fill-outline-color": .color],
        .line: ["line-color": .color, "line-width": .size, "line-opacity": .opacity, "line-dasharray": .numbers],
        .circle: ["circle-radius": .size, "circle-color": .color, "circle-opacity": .opacity, "circle-stroke-color": .color,
                  "circle-stroke-width": .size, "circle-stroke-opacity": .opacity],
        .symbol: ["text-color": .color, "text-halo-color": .color, "text-halo-width": .size, "text-opacity": .opacity,
                  "icon-color": .color, "icon-opacity": .opacity],
    ]
    static let layout: [LayerType: [String: PropertyKind]] = [
        .background: ["visibility": .enumeration(["visible", "none"])],
        .fill: ["visibility": .enumeration(["visible", "none"]), "fill-sort-key": .any],
        .line: ["visibility": .enumeration(["visible", "none"]), "line-cap": .enumeration(["butt", "round", "square"]),
                "line-join": .enumeration(["bevel", "round", "miter"]), "line-sort-key": .any],
        .circle: ["visibility": .enumeration(["visible", "none"]), "circle-sort-key": .any],
        .symbol: ["visibility": .enumeration(["visible", "none"]), "text-field": .text, "text-size": .number(0.1...Double.greatestFiniteMagnitude), "text-font": .numbers,
                  "text-offset": .numbers, "text-anchor": .enumeration(["center", "left", "right", "top", "bottom", "top-left",
                                                                         "top-right", "bottom-left", "bottom-right"]),
                  "text-allow-overlap": .bool, "text-padding": .size, "text-transform": .enumeration(["none", "uppercase", "lowercase"]),
                  "icon-image": .icon, "icon-size": .number(0.01...Double.greatestFiniteMagnitude), "icon-allow-overlap": .bool, "symbol-sort-key": .any],
    ]
}

/// Labels in both languages (Danish first).
public struct Label: Sendable, Hashable {
    public var da: String
    public var en: String
    public func text(_ language: String) -> String { language == "en" ? en : da }

    static func from(_ json: JSONValue?) -> Label? {
        guard let json else { return nil }
        if let s = json.string { return Label(da: s, en: s) }
        guard let da = json["da"]?.string ?? json["en"]?.string else { return nil }
        return Label(da: da, en: json["en"]?.string ?? da)
    }
}

/// One legend entry of a layer: a label and the feature properties that give its swatch.
public struct LegendItem: Sendable, Hashable {
    public var label: Label
    public var properties: [String: StyleValue]
}

public struct StyleLayer: Sendable {
    public var id: String
    public var type: LayerType
    /// The Klynge data the layer draws (`areas`, `coverage`, …), through its source.
    public var data: String?
    public var filter: Expression?
    public var paint: [String: Expression]
    public var layout: [String: Expression]
    public var legend: Label?
    public var legendItems: [LegendItem]
    /// `klynge:legend-by`: one legend entry per value of this property among the features drawn (a cluster
    /// per swatch), labelled by `legend` with `{property}` filled in, or by the value.
    public var legendBy: String?
    /// `klynge:aggregate`: many unnamed points merged per cell (circle layers).
    public var aggregate: Aggregation?
    /// `klynge:inset`: drawn in the locator inset (the wider region, with the map's frame marked), not the map.
    public var inset = false
    /// `klynge:if-data`: drawn only when this Klynge layer has features (a sea colour only where land is known).
    public var ifData: String?

    public func property(_ name: String) -> Expression? { paint[name] ?? layout[name] }

    /// Not switched off with `visibility: none`.
    public var isVisible: Bool { layout["visibility"]?.evaluate([:]).string != "none" }

    /// Whether the Klynge layer `klynge:if-data` names has features (always, without the key).
    public func hasItsData(_ data: [String: [Feature]]) -> Bool { ifData.map { !(data[$0] ?? []).isEmpty } ?? true }
}

public struct Style: Sendable {
    public var name: String
    public var title: Label?
    public var layers: [StyleLayer]

    /// The Klynge data layers a style may draw.
    public static let dataLayers: Set<String> = ["areas", "demand", "facilities", "roads", "coverage", "isochrones", "scenario",
                                                 "scenario_facilities", "clusters", "hubs", "locator", "land", "survey_pins", "survey_flows", "sketches",
                                                 "access", "access_facilities"]

    /// Parses and validates a style; every problem names the layer and property.
    public static func parse(_ data: Data, name: String) throws -> Style {
        let root: JSONValue
        do { root = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw StyleError(layer: nil, property: nil, "\(name) is not valid JSON" + jsonErrorPlace(data))
        }
        guard let obj = root.object else { throw StyleError(layer: nil, property: nil, "\(name): a style is a JSON object") }
        guard obj["version"]?.number == 8 else {
            let got = obj["version"].map { v in v.number.map { $0 == $0.rounded() ? String(Int($0)) : String($0) } ?? v.string.map { "\"\($0)\"" } ?? "another value" }
            throw StyleError(layer: nil, property: "version", "Klynge reads MapLibre style version 8, got \(got ?? "none")")
        }
        try checkMetadata(obj["metadata"], known: ["klynge:title"], layer: nil)
        let knownTop: Set<String> = ["version", "name", "metadata", "sources", "layers", "glyphs", "sprite", "center", "zoom"]
        for k in obj.keys where !knownTop.contains(k) {
            throw StyleError(layer: nil, property: k, "unknown top-level key")
        }
        // Sources: { "id": { "type": "geojson", "data": "klynge:<layer>" } }.
        var sources: [String: String] = [:]
        for (id, src) in obj["sources"]?.object ?? [:] {
            guard src["type"]?.string == "geojson", let d = src["data"]?.string, d.hasPrefix("klynge:") else {
                throw StyleError(layer: nil, property: "sources.\(id)", "a source is {\"type\": \"geojson\", \"data\": \"klynge:<layer>\"}")
            }
            let layer = String(d.dropFirst("klynge:".count))
            guard dataLayers.contains(layer) else {
                throw StyleError(layer: nil, property: "sources.\(id)", "unknown Klynge layer `\(layer)` (known: \(dataLayers.sorted().joined(separator: ", ")))")
            }
            sources[id] = layer
        }
        guard case .array(let layerList)? = obj["layers"] else { throw StyleError(layer: nil, property: "layers", "missing `layers` array") }
        var layers: [StyleLayer] = []
        var ids = Set<String>()
        for l in layerList {
            guard let lo = l.object, let id = lo["id"]?.string else { throw StyleError(layer: nil, property: "id", "every layer needs an `id`") }
            guard ids.insert(id).inserted else { throw StyleError(layer: id, property: "id", "two layers have this id") }
            guard let typeName = lo["type"]?.string else { throw StyleError(layer: id, property: "type", "missing layer type") }
            guard let type = LayerType(rawValue: typeName) else {
                throw StyleError(layer: id, property: "type", "unknown layer type `\(typeName)` (supported: \(LayerType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            let knownKeys: Set<String> = ["id", "type", "source", "filter", "paint", "layout", "metadata", "minzoom", "maxzoom"]
            for k in lo.keys where !knownKeys.contains(k) { throw StyleError(layer: id, property: k, "unknown layer key") }
            var data: String?
            if type != .background {
                guard let src = lo["source"]?.string else { throw StyleError(layer: id, property: "source", "missing `source`") }
                guard let d = sources[src] else { throw StyleError(layer: id, property: "source", "no source `\(src)` in `sources`") }
                data = d
            }
            let filter = try lo["filter"].map { try Expression.compile(StyleValue.from(json: $0), layer: id, property: "filter") }
            func properties(_ group: String, _ specs: [String: PropertyKind]) throws -> [String: Expression] {
                var out: [String: Expression] = [:]
                for (key, value) in lo[group]?.object ?? [:] {
                    guard let kind = specs[key] else {
                        throw StyleError(layer: id, property: key, "unknown \(group) property for a \(type.rawValue) layer (supported: \(specs.keys.sorted().joined(separator: ", ")))")
                    }
                    var e = try Expression.compile(StyleValue.from(json: value), layer: id, property: key)
                    if case .literal(let v) = e { try check(v, kind, layer: id, property: key) }
                    if case .icon = kind { try checkIcons(value, layer: id, property: key) }
                    if case .color = kind { e = e.resolvingColors() }
                    out[key] = e
                }
                return out
            }
            let paint = try properties("paint", PropertySpecs.paint[type]!)
            let layout = try properties("layout", PropertySpecs.layout[type]!)
            let meta = lo["metadata"]
            try checkMetadata(meta, known: ["klynge:legend", "klynge:legend-items", "klynge:legend-by", "klynge:aggregate", "klynge:inset", "klynge:if-data"], layer: id)
            var ifData: String?
            if let d = meta?["klynge:if-data"] {
                guard let name = d.string, Style.dataLayers.contains(name) else {
                    throw StyleError(layer: id, property: "metadata.klynge:if-data", "name a Klynge layer (\(Style.dataLayers.sorted().joined(separator: ", ")))")
                }
                ifData = name
            }
            var inset = false
            if let i = meta?["klynge:inset"] {
                guard case .bool(let b) = i else { throw StyleError(layer: id, property: "metadata.klynge:inset", "true or false") }
                guard !b || type == .fill || type == .line else {
                    throw StyleError(layer: id, property: "metadata.klynge:inset", "the locator inset draws fill and line layers")
                }
                inset = b
            }
            let aggregate = try Aggregation.parse(meta?["klynge:aggregate"], layer: id)
            if aggregate != nil && type != .circle {
                throw StyleError(layer: id, property: "metadata.klynge:aggregate", "only circle layers merge their points")
            }
            if let by = meta?["klynge:legend-by"], by.string == nil {
                throw StyleError(layer: id, property: "metadata.klynge:legend-by", "name a feature property, e.g. \"cluster\"")
            }
            var items: [LegendItem] = []
            if case .array(let list)? = meta?["klynge:legend-items"] {
                for item in list {
                    guard let label = Label.from(item["label"]) else {
                        throw StyleError(layer: id, property: "metadata.klynge:legend-items", "each item needs a `label`")
                    }
                    var props: [String: StyleValue] = [:]
                    for (k, v) in item["properties"]?.object ?? [:] { props[k] = StyleValue.from(json: v) }
                    items.append(LegendItem(label: label, properties: props))
                }
            }
            layers.append(StyleLayer(id: id, type: type, data: data, filter: filter, paint: paint, layout: layout,
                                     legend: Label.from(meta?["klynge:legend"]), legendItems: items, legendBy: meta?["klynge:legend-by"]?.string,
                                     aggregate: aggregate, inset: inset, ifData: ifData))
        }
        return Style(name: obj["name"]?.string ?? name, title: Label.from(obj["metadata"]?["klynge:title"]), layers: layers)
    }

    static func check(_ v: StyleValue, _ kind: PropertyKind, layer: String, property: String) throws {
        func fail(_ what: String) -> StyleError { StyleError(layer: layer, property: property, "expected \(what), got \(v)") }
        switch kind {
        case .color: guard v.color != nil else { throw fail("a colour") }
        case .number(let range):
            guard case .number(let n) = v else { throw fail("a number") }
            guard range.contains(n) else {
                throw StyleError(layer: layer, property: property, range.upperBound == 1 && range.lowerBound == 0 ? "must be from 0 to 1, got \(n)"
                                 : "must be at least \(range.lowerBound == 0 ? "0" : "\(range.lowerBound)"), got \(n)")
            }
        case .bool: guard case .bool = v else { throw fail("true or false") }
        case .string, .text, .icon: guard case .string = v else { throw fail("a string") }
        case .numbers: guard case .array = v else { throw fail("an array") }
        case .enumeration(let allowed):
            guard case .string(let s) = v, allowed.contains(s) else { throw fail("one of \(allowed.joined(separator: ", "))") }
        }
    }

    /// `klynge:` keys in a metadata object must be ones Klynge reads: a misspelt one would be ignored silently.
    static func checkMetadata(_ meta: JSONValue?, known: Set<String>, layer: String?) throws {
        guard let keys = meta?.object?.keys else { return }
        for k in keys.sorted() where k.hasPrefix("klynge:") && !known.contains(k) {
            throw StyleError(layer: layer, property: "metadata.\(k)", "unknown Klynge metadata key (known here: \(known.sorted().joined(separator: ", ")))")
        }
    }

    /// Every icon an `icon-image` can give (a literal, or the outputs of `match`, `case` and `coalesce`) must
    /// be one the renderer draws.
    static func checkIcons(_ value: JSONValue, layer: String, property: String) throws {
        func outputs(_ v: JSONValue) -> [JSONValue] {
            guard case .array(let a) = v, let op = a.first?.string else { return [v] }
            switch op {
            case "match": return a.count < 3 ? [] : stride(from: 3, to: a.count - 1, by: 2).flatMap { outputs(a[$0]) } + outputs(a[a.count - 1])
            case "case": return a.count < 2 ? [] : stride(from: 2, to: a.count - 1, by: 2).flatMap { outputs(a[$0]) } + outputs(a[a.count - 1])
            case "coalesce": return a.dropFirst().flatMap(outputs)
            case "literal": return a.count > 1 ? [a[1]] : []
            default: return []  // data-driven: checked when drawn
            }
        }
        for case .string(let name) in outputs(value) where !Icons.names.contains(name) {
            throw StyleError(layer: layer, property: property, "unknown icon `\(name)` (icons: \(Icons.names.sorted().joined(separator: ", ")))")
        }
    }

    /// "at line L, column C" of the first JSON syntax error, when Foundation says where it is.
    static func jsonErrorPlace(_ data: Data) -> String {
        do { _ = try JSONSerialization.jsonObject(with: data); return "" } catch let e as NSError {
            let text = (e.userInfo[NSDebugDescriptionErrorKey] as? String) ?? ""
            guard let r = text.range(of: "character "), let offset = Int(text[r.upperBound...].prefix { $0.isNumber }) else {
                return text.isEmpty ? "" : ": \(text)"
            }
            var line = 1, column = 1
            for byte in data.prefix(offset) {
                if byte == UInt8(ascii: "\n") { line += 1; column = 1 } else if byte & 0xC0 != 0x80 { column += 1 }
            }
            return ": \(text.split(separator: " around").first ?? "syntax error") at line \(line), column \(column)"
        }
    }

    /// Loads `NAME` from a styles folder, or a file path.
    public static func load(_ nameOrPath: String, stylesFolder: URL) throws -> Style {
        let direct = URL(fileURLWithPath: nameOrPath)
        let url = nameOrPath.hasSuffix(".json") ? direct : stylesFolder.appendingPathComponent(nameOrPath + ".json")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            let known = ((try? FileManager.default.contentsOfDirectory(atPath: stylesFolder.path)) ?? [])
                .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
            throw StyleError(layer: nil, property: nil, "no style `\(nameOrPath)` (\(url.path)); styles: \(known.joined(separator: ", "))")
        }
        return try parse(data, name: url.lastPathComponent)
    }
}
