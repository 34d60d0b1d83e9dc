import Foundation

/// The layer types of the supported MapLibre subset.
public enum LayerType: String, Sendable, CaseIterable {
    case background, fill, line, circle, symbol
}

/// What a property holds, for validation.
enum PropertyKind: Sendable {
    case color, number, string, bool, numbers, enumeration([String]), text
}

/// The paint and layout properties each layer type supports (a documented subset of MapLibre's).
enum PropertySpecs {
    static let paint: [LayerType: [String: PropertyKind]] = [
        .background: ["background-color": .color, "background-opacity": .number],
        .fill: ["fill-color": .color, "fill-opacity": .number, "fill-outline-color": .color],
        .line: ["line-color": .color, "line-width": .number, "line-opacity": .number, "line-dasharray": .numbers],
        .circle: ["circle-radius": .number, "circle-color": .color, "circle-opacity": .number, "circle-stroke-color": .color,
                  "circle-stroke-width": .number, "circle-stroke-opacity": .number],
        .symbol: ["text-color": .color, "text-halo-color": .color, "text-halo-width": .number, "text-opacity": .number,
                  "icon-color": .color, "icon-opacity": .number],
    ]
    static let layout: [LayerType: [String: PropertyKind]] = [
        .background: ["visibility": .enumeration(["visible", "none"])],
        .fill: ["visibility": .enumeration(["visible", "none"]), "fill-sort-key": .number],
        .line: ["visibility": .enumeration(["visible", "none"]), "line-cap": .enumeration(["butt", "round", "square"]),
                "line-join": .enumeration(["bevel", "round", "miter"]), "line-sort-key": .number],
        .circle: ["visibility": .enumeration(["visible", "none"]), "circle-sort-key": .number],
        .symbol: ["visibility": .enumeration(["visible", "none"]), "text-field": .text, "text-size": .number, "text-font": .numbers,
                  "text-offset": .numbers, "text-anchor": .enumeration(["center", "left", "right", "top", "bottom", "top-left",
                                                                         "top-right", "bottom-left", "bottom-right"]),
                  "text-allow-overlap": .bool, "text-padding": .number, "text-transform": .enumeration(["none", "uppercase", "lowercase"]),
                  "icon-image": .string, "icon-size": .number, "icon-allow-overlap": .bool, "symbol-sort-key": .number],
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

    public func property(_ name: String) -> Expression? { paint[name] ?? layout[name] }
}

public struct Style: Sendable {
    public var name: String
    public var title: Label?
    public var layers: [StyleLayer]

    /// The Klynge data layers a style may draw.
    public static let dataLayers: Set<String> = ["areas", "demand", "facilities", "roads", "coverage", "isochrones", "scenario",
                                                 "scenario_facilities", "clusters", "hubs"]

    /// Parses and validates a style; every problem names the layer and property.
    public static func parse(_ data: Data, name: String) throws -> Style {
        let root: JSONValue
        do { root = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw StyleError(layer: nil, property: nil, "\(name) is not valid JSON: \(error)")
        }
        guard let obj = root.object else { throw StyleError(layer: nil, property: nil, "\(name): a style is a JSON object") }
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
                    if case .color = kind { e = e.resolvingColors() }
                    out[key] = e
                }
                return out
            }
            let paint = try properties("paint", PropertySpecs.paint[type]!)
            let layout = try properties("layout", PropertySpecs.layout[type]!)
            let meta = lo["metadata"]
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
                                     legend: Label.from(meta?["klynge:legend"]), legendItems: items))
        }
        return Style(name: obj["name"]?.string ?? name, title: Label.from(obj["metadata"]?["klynge:title"]), layers: layers)
    }

    static func check(_ v: StyleValue, _ kind: PropertyKind, layer: String, property: String) throws {
        func fail(_ what: String) -> StyleError { StyleError(layer: layer, property: property, "expected \(what), got \(v)") }
        switch kind {
        case .color: guard v.color != nil else { throw fail("a colour") }
        case .number: guard case .number = v else { throw fail("a number") }
        case .bool: guard case .bool = v else { throw fail("true or false") }
        case .string, .text: guard case .string = v else { throw fail("a string") }
        case .numbers: guard case .array = v else { throw fail("an array") }
        case .enumeration(let allowed):
            guard case .string(let s) = v, allowed.contains(s) else { throw fail("one of \(allowed.joined(separator: ", "))") }
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
