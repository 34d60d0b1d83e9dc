import Foundation
import KlyngeGeo

/// `klynge:aggregate` on a circle layer: when the layer has more than `above` points without a name, those
/// points are merged per square cell of `cellMillimetres` on paper and per look (the same colours), into one
/// dot at their weighted centre. The `sum` properties are added up (so a dot sized by population shows the
/// cell's people), other numbers become weighted means. Named points are always drawn as they are.
public struct Aggregation: Sendable, Hashable {
    public var cellMillimetres: Double
    public var above: Int
    public var sum: [String]

    static let cellRange = 0.5...50.0

    static func parse(_ json: JSONValue?, layer: String) throws -> Aggregation? {
        guard let json else { return nil }
        let key = "metadata.klynge:aggregate"
        guard let o = json.object else { throw StyleError(layer: layer, property: key, "an object: {\"cell-mm\": 3, \"above\": 1000, \"sum\": [\"population\"]}") }
        for k in o.keys.sorted() where !["cell-mm", "above", "sum"].contains(k) {
            throw StyleError(layer: layer, property: "\(key).\(k)", "unknown key (known: above, cell-mm, sum)")
        }
        let cell = o["cell-mm"]?.number ?? 3
        guard cellRange.contains(cell) else { throw StyleError(layer: layer, property: "\(key).cell-mm", "must be from 0.5 to 50 mm, got \(cell)") }
        let above = o["above"]?.number ?? 1000
        guard above >= 0, above <= 10_000_000, above == above.rounded() else {
            throw StyleError(layer: layer, property: "\(key).above", "a whole number of points from 0, got \(above)")
        }
        var sum: [String] = []
        if let s = o["sum"] {
            guard case .array(let items) = s, items.allSatisfy({ $0.string != nil }) else {
                throw StyleError(layer: layer, property: "\(key).sum", "a list of property names, e.g. [\"population\"]")
            }
            sum = items.compactMap(\.string)
        }
        return Aggregation(cellMillimetres: cell, above: Int(above), sum: sum)
    }
}

/// What aggregation did to one layer, for the legend.
struct AggregationNote: Sendable {
    var points: Int
    var dots: Int
    var cellMeters: Double
}

extension MapRenderer {
    /// Metres on the ground per point on paper, from the page and the extent alone (the frame's exact size
    /// waits for the title's text, which the styled GeoJSON never lays out), so every output agrees.
    static func approximateMetersPerPoint(_ r: MapRequest) -> Double {
        let margin = max(min(r.page.widthPt, r.page.heightPt) * 0.04, 12)
        let w = max(1, r.page.widthPt - 2 * margin), h = max(1, r.page.heightPt * 0.8 - 2 * margin)
        return max((r.extent.maxX - r.extent.minX) / w, (r.extent.maxY - r.extent.minY) / h, 1e-9)
    }

    /// A round cell size near `meters` (1, 2, 2.5 or 5 × a power of ten), so the legend can name it.
    static func roundCell(_ meters: Double) -> Double {
        let p = pow(10, floor(log10(max(meters, 1e-9))))
        return [1, 2, 2.5, 5, 10].map { $0 * p }.min { abs($0 - meters) < abs($1 - meters) }!
    }

    /// Each drawn layer's features (after its filter, points merged where the layer aggregates), worked out
    /// once per map; with what the aggregation did.
    static func layerFeatures(_ r: MapRequest) -> (features: [String: [Feature]], notes: [String: AggregationNote]) {
        var out: [String: [Feature]] = [:], notes: [String: AggregationNote] = [:]
        for layer in r.style.layers {
            if !layer.hasItsData(r.data) { out[layer.id] = []; continue }
            let fs = features(layer, r.data)
            guard let agg = layer.aggregate, layer.type == .circle else { out[layer.id] = fs; continue }
            let (merged, note) = aggregate(layer, fs, agg, cellMeters: roundCell(agg.cellMillimetres / 25.4 * 72 * approximateMetersPerPoint(r)))
            out[layer.id] = merged
            if let note { notes[layer.id] = note }
        }
        return (out, notes)
    }

    static func aggregate(_ layer: StyleLayer, _ fs: [Feature], _ agg: Aggregation, cellMeters: Double) -> ([Feature], AggregationNote?) {
        func named(_ f: Feature) -> Bool { !(f.attributes["name"]?.text ?? "").isEmpty }
        // A point whose cell number would not fit an integer (a degenerate extent) is drawn as it is.
        func inRange(_ c: Coordinate) -> Bool { abs(c.x / cellMeters) < 1e15 && abs(c.y / cellMeters) < 1e15 }
        let anonymous = fs.indices.filter { !named(fs[$0]) && fs[$0].geometry?.pointParts.count == 1 && inRange(fs[$0].geometry!.pointParts[0]) }
        guard anonymous.count > agg.above else { return (fs, nil) }
        struct Key: Hashable { var cx: Int64, cy: Int64, look: [StyleValue] }
        let keys = Context.lookKeys(layer)
        var groups: [Key: [Int]] = [:]
        for i in anonymous {
            let c = fs[i].geometry!.pointParts[0]
            let key = Key(cx: Int64(floor(c.x / cellMeters)), cy: Int64(floor(c.y / cellMeters)), look: Context.look(layer, keys, fs[i].attributes))
            groups[key, default: []].append(i)
        }
        let anonymousSet = Set(anonymous)
        var out = fs.indices.filter { !anonymousSet.contains($0) }.map { fs[$0] }
        // Cells in a fixed order, so every band and output draws the same map.
        for key in groups.keys.sorted(by: { ($0.cy, $0.cx) < ($1.cy, $1.cx) }) {
            let members = groups[key]!.map { fs[$0] }
            let weights = members.map { m in max(0, agg.sum.first.flatMap { m.attributes[$0]?.number } ?? 1) }
            let total = weights.reduce(0, +)
            let w = total > 0 ? weights : Array(repeating: 1, count: members.count)
            let wsum = total > 0 ? total : Double(members.count)
            var x = 0.0, y = 0.0
            for (m, wi) in zip(members, w) { let c = m.geometry!.pointParts[0]; x += c.x * wi; y += c.y * wi }
            var attributes = members[0].attributes
            var sums = attributes
            for field in agg.sum { sums[field] = .double(members.reduce(0) { $0 + ($1.attributes[field]?.number ?? 0) }) }
            for (k, v) in members[0].attributes where !agg.sum.contains(k) {
                guard case .double = v else { continue }
                let values = members.map { $0.attributes[k]?.number }
                guard values.allSatisfy({ $0 != nil }) else { continue }
                attributes[k] = .double(zip(values, w).reduce(0) { $0 + $1.0! * $1.1 } / wsum)
            }
            for field in agg.sum { attributes[field] = sums[field] }
            // Means must not move a dot into another colour class; if they would, the first member's values stay.
            if Context.look(layer, keys, attributes) != key.look { attributes = sums }
            attributes["id"] = .string("cell \(key.cx) \(key.cy)")
            attributes["klynge_points"] = .int(Int64(members.count))
            attributes["klynge_cell_m"] = .double(cellMeters)
            out.append(Feature(geometry: .point(Coordinate(x: x / wsum, y: y / wsum)), attributes: attributes))
        }
        return (out, AggregationNote(points: anonymous.count, dots: groups.count, cellMeters: cellMeters))
    }
}
