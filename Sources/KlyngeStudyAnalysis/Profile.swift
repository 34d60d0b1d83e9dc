import Foundation
import KlyngeGeo
import KlyngeStudy

/// The data picture: for the study as a whole, each cluster, each area and each village, its people and every
/// fact layer's measures. A measure a place cannot have (a mean of nothing, a share of zero, per 1,000 of
/// nobody, village figures of a table joined by area) is null, never zero.
public struct Profile: Sendable, Encodable {
    public struct Column: Sendable, Hashable, Encodable {
        /// `<layer>.<measure>`.
        public var key: String
        public var layer: String
        public var measure: String
        public var label: String
        public var layerLabel: String
    }

    public enum Level: String, Sendable, Encodable, CaseIterable { case study, cluster, area, village }

    public struct Row: Sendable, Encodable {
        public var level: Level
        public var id: String
        public var name: String
        public var population: Double
        /// Column key → value (null where the place cannot have one).
        public var values: [String: Double?]

        enum CodingKeys: String, CodingKey { case level, id, name, population, values }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(level, forKey: .level)
            try c.encode(id, forKey: .id)
            try c.encode(name, forKey: .name)
            try c.encode(population, forKey: .population)
            var v = c.nestedContainer(keyedBy: DynamicCodingKey.self, forKey: .values)
            for (k, x) in values.sorted(by: { $0.key < $1.key }) { try v.encode(x, forKey: DynamicCodingKey(k)) }
        }
    }

    public var study: String
    public var columns: [Column]
    public var rows: [Row]

    public init(study: Study, language: String = "da") {
        self.study = study.name
        columns = study.facts.flatMap { layer in
            layer.measures.map { m in
                Column(key: "\(layer.id).\(m.id)", layer: layer.id, measure: m.id, label: language == "en" ? m.labelEn : m.labelDa,
                       layerLabel: language == "en" ? layer.labelEn : layer.labelDa)
            }
        }
        let areaPeople = study.areaPopulations()
        let clusterOf = Dictionary(study.areas.map { ($0.id, $0.cluster ?? study.clusters.assignments?[$0.id]) }, uniquingKeysWith: { a, _ in a })
        func people(_ a: Area) -> Double { areaPeople[a.id] ?? 0 }

        // Each layer's records grouped once by village and by area: a row then reads only its own.
        let byVillage = study.facts.map { Dictionary(grouping: $0.records.filter { $0.villageId != nil }, by: { $0.villageId! }) }
        let byArea = study.facts.map { Dictionary(grouping: $0.records.filter { $0.areaId != nil }, by: { $0.areaId! }) }
        func values(_ records: (Int) -> [FactRecord], population: Double, villageLevel: Bool) -> [String: Double?] {
            var out: [String: Double?] = [:]
            for (i, layer) in study.facts.enumerated() {
                let mine = records(i)
                for m in layer.measures {
                    let key = "\(layer.id).\(m.id)"
                    if villageLevel && layer.areasOnly { out[key] = .some(nil); continue }
                    out[key] = .some(Self.aggregate(m.aggregate, mine, population: population))
                }
            }
            return out
        }

        var rows: [Row] = []
        let total = study.areas.isEmpty ? study.demand.reduce(0) { $0 + $1.weight } : study.areas.reduce(0) { $0 + people($1) }
        rows.append(Row(level: .study, id: "study", name: study.name, population: total,
                        values: values({ study.facts[$0].records }, population: total, villageLevel: false)))
        let clusters = Array(Set(study.areas.compactMap { clusterOf[$0.id] ?? nil })).sorted()
        for c in clusters {
            let members = study.areas.filter { clusterOf[$0.id] == c }
            let pop = members.reduce(0) { $0 + people($1) }
            rows.append(Row(level: .cluster, id: c, name: c, population: pop,
                            values: values({ i in members.flatMap { byArea[i][$0.id] ?? [] } }, population: pop, villageLevel: false)))
        }
        for a in study.areas {
            let pop = people(a)
            rows.append(Row(level: .area, id: a.id, name: a.name, population: pop, values: values({ byArea[$0][a.id] ?? [] }, population: pop, villageLevel: false)))
        }
        if !study.demandDerivedFromAreas {
            for d in study.demand {
                rows.append(Row(level: .village, id: d.id, name: d.name, population: d.weight,
                                values: values({ byVillage[$0][d.id] ?? [] }, population: d.weight, villageLevel: true)))
            }
        }
        self.rows = rows
    }

    /// One measure over the records of a place.
    public static func aggregate(_ a: FactAggregate, _ records: [FactRecord], population: Double) -> Double? {
        func sum(_ f: String) -> (total: Double, n: Int) {
            var t = 0.0, n = 0
            for r in records { if let v = r.values[f] { t += v; n += 1 } }
            return (t, n)
        }
        switch a {
        case .count: return Double(records.count)
        case .sum(let f): return sum(f).total
        case .mean(let f):
            let s = sum(f)
            return s.n > 0 ? s.total / Double(s.n) : nil
        case .per1000(let f):
            guard population > 0 else { return nil }
            return (f.map { sum($0).total } ?? Double(records.count)) / population * 1000
        case .share(let f, let of):
            let whole = sum(of).total
            return whole > 0 ? sum(f).total / whole : nil
        }
    }
}

extension Profile {
    /// The profile as tables: the areas (polygons) and villages (points) with their figures, and every level
    /// in one table without geometry (the one a CSV holds). Columns are `<layer>_<measure>`.
    public func tables(study: Study) -> [FeatureTable] {
        let names = columns.map { ($0.key, $0.key.replacingOccurrences(of: ".", with: "_")) }
        var fields: [FieldDefinition] = [.init(name: "level", type: .string), .init(name: "id", type: .string), .init(name: "name", type: .string),
                                         .init(name: "population", type: .real)]
        fields += names.map { FieldDefinition(name: $0.1, type: .real) }
        func feature(_ r: Row, _ geometry: Geometry?) -> Feature {
            var a: [String: AttributeValue] = ["level": .string(r.level.rawValue), "id": .string(r.id), "name": .string(r.name), "population": .double(r.population)]
            for (key, name) in names { a[name] = (r.values[key] ?? nil).map(AttributeValue.double) ?? .null }
            return Feature(geometry: geometry, attributes: a)
        }
        let areaGeometry = Dictionary(study.areas.map { ($0.id, $0.geometry) }, uniquingKeysWith: { a, _ in a })
        let villageAt = Dictionary(study.demand.map { ($0.id, $0.location) }, uniquingKeysWith: { a, _ in a })
        let areas = rows.filter { $0.level == .area }.map { feature($0, areaGeometry[$0.id]) }
        let villages = rows.filter { $0.level == .village }.map { feature($0, villageAt[$0.id].map(Geometry.point)) }
        return [FeatureTable(name: "profile_areas", crs: study.crs, fields: fields, features: areas),
                FeatureTable(name: "profile_villages", crs: study.crs, fields: fields, features: villages),
                FeatureTable(name: "profile", crs: study.crs, fields: fields, features: rows.map { feature($0, nil) })]
    }
}
