import KlyngeGEOS
import KlyngeGeo
import KlyngeStudy

/// The study's layers as they can be exported.
public enum StudyLayer: String, CaseIterable, Sendable {
    case areas, demand, facilities, roads
}

/// Turns the loaded study into feature tables in the working CRS.
public enum StudyTables {
    public static func table(_ layer: StudyLayer, of study: Study) throws -> FeatureTable {
        switch layer {
        case .areas: return try areas(study)
        case .demand: return demand(study)
        case .facilities: return facilities(study)
        case .roads: return roads(study)
        }
    }

    static func areas(_ study: Study) throws -> FeatureTable {
        let geos = try GEOSContext()
        let fields = [FieldDefinition(name: "id", type: .string), FieldDefinition(name: "name", type: .string),
                      FieldDefinition(name: "population", type: .real), FieldDefinition(name: "cluster", type: .string),
                      FieldDefinition(name: "area_km2", type: .real)]
        let features = try study.areas.map { a in
            Feature(geometry: a.geometry, attributes: [
                "id": .string(a.id), "name": .string(a.name),
                "population": a.population.map(AttributeValue.double) ?? .null,
                "cluster": a.cluster.map(AttributeValue.string) ?? .null,
                "area_km2": .double((try geos.area(a.geometry) / 1e6 * 1000).rounded() / 1000),
            ])
        }
        return FeatureTable(name: "areas", crs: study.crs, fields: fields, features: features)
    }

    static func demand(_ study: Study) -> FeatureTable {
        let fields = [FieldDefinition(name: "id", type: .string), FieldDefinition(name: "name", type: .string),
                      FieldDefinition(name: "weight", type: .real), FieldDefinition(name: "area_id", type: .string)]
        let features = study.demand.map { d in
            Feature(geometry: .point(d.location), attributes: [
                "id": .string(d.id), "name": .string(d.name), "weight": .double(d.weight),
                "area_id": d.areaId.map(AttributeValue.string) ?? .null,
            ])
        }
        return FeatureTable(name: "demand", crs: study.crs, fields: fields, features: features)
    }

    static func facilities(_ study: Study) -> FeatureTable {
        var fields = [FieldDefinition(name: "id", type: .string), FieldDefinition(name: "name", type: .string),
                      FieldDefinition(name: "category", type: .string), FieldDefinition(name: "category_label", type: .string),
                      FieldDefinition(name: "capacity", type: .real), FieldDefinition(name: "annual_cost", type: .real),
                      FieldDefinition(name: "condition", type: .string), FieldDefinition(name: "attractiveness", type: .real)]
        let labels = Dictionary(uniqueKeysWithValues: study.categories.map { ($0.key, $0.label(language: study.language)) })
        // Extra attributes keep their names and their types (text where a field mixes types).
        var extraTypes: [String: FieldType] = [:]
        for f in study.facilities {
            for (k, v) in f.attributes {
                let t: FieldType? = switch v {
                case .null: nil
                case .int: .integer
                case .double: .real
                case .bool: .boolean
                case .string: .string
                }
                guard let t else { continue }
                if let old = extraTypes[k], old != t {
                    extraTypes[k] = (Set([old, t]) == [.integer, .real]) ? .real : .string
                } else if extraTypes[k] == nil {
                    extraTypes[k] = t
                }
            }
        }
        let reserved = Set(fields.map(\.name))
        let extraNames = Set(study.facilities.flatMap { $0.attributes.keys }).subtracting(reserved).sorted()
        fields += extraNames.map { FieldDefinition(name: $0, type: extraTypes[$0] ?? .string) }
        let features = study.facilities.map { f in
            var attrs: [String: AttributeValue] = [
                "id": .string(f.id), "name": .string(f.name), "category": .string(f.categories.joined(separator: ";")),
                "category_label": .string(f.categories.map { labels[$0] ?? $0 }.joined(separator: "; ")),
                "capacity": f.capacity.map(AttributeValue.double) ?? .null,
                "annual_cost": f.annualCost.map(AttributeValue.double) ?? .null,
                "condition": f.condition.map(AttributeValue.string) ?? .null,
                "attractiveness": f.attractiveness.map(AttributeValue.double) ?? .null,
            ]
            for k in extraNames {
                let v = f.attributes[k] ?? .null
                attrs[k] = coerce(v, to: extraTypes[k] ?? .string)
            }
            return Feature(geometry: .point(f.location), attributes: attrs)
        }
        return FeatureTable(name: "facilities", crs: study.crs, fields: fields, features: features)
    }

    static func coerce(_ v: AttributeValue, to type: FieldType) -> AttributeValue {
        switch (v, type) {
        case (.int(let i), .real): .double(Double(i))
        case (.null, _): .null
        case (_, .string): v.text.map(AttributeValue.string) ?? .null
        default: v
        }
    }

    static func roads(_ study: Study) -> FeatureTable {
        let fields = ["id", "class", "maxspeed", "oneway", "name"].map { FieldDefinition(name: $0, type: .string) }
        let features = study.roads.map { r in
            Feature(geometry: r.parts.count == 1 ? .lineString(r.parts[0]) : .multiLineString(r.parts), attributes: [
                "id": .string(r.id),
                "class": r.roadClass.map(AttributeValue.string) ?? .null,
                "maxspeed": r.maxspeed.map(AttributeValue.string) ?? .null,
                "oneway": r.oneway.map(AttributeValue.string) ?? .null,
                "name": r.name.map(AttributeValue.string) ?? .null,
            ])
        }
        return FeatureTable(name: "roads", crs: study.crs, fields: fields, features: features)
    }
}
