import KlyngeGeo

/// The responses and pins as flat tables (longitude/latitude): one row per response at its home village
/// (no geometry without one), one column per answer; one row per pin. For GeoJSON, GeoPackage and CSV.
public enum SurveyExport {
    public static func responses(survey: SurveyDefinition, places: SurveyPlaces, responses: [SurveyResponse]) -> FeatureTable {
        var fields: [FieldDefinition] = [
            .init(name: "response_id", type: .string), .init(name: "received_day", type: .string), .init(name: "source", type: .string),
            .init(name: "language", type: .string), .init(name: "village_id", type: .string), .init(name: "village", type: .string),
            .init(name: "area_id", type: .string), .init(name: "cluster", type: .string),
        ]
        for q in survey.questions {
            switch q.kind {
            case .number: fields.append(.init(name: q.id, type: .real))
            case .facilityUsed:
                fields += [.init(name: q.id + "_facility", type: .string), .init(name: q.id + "_frequency", type: .string), .init(name: q.id + "_mode", type: .string)]
            case .placePins: fields.append(.init(name: q.id + "_pins", type: .integer))
            case .homeVillage: break  // village_id
            default: fields.append(.init(name: q.id, type: .string))
            }
        }
        let features = responses.map { r -> Feature in
            var a: [String: AttributeValue] = [
                "response_id": .string(r.id), "received_day": .string(r.receivedDay), "source": .string(r.source.rawValue),
                "language": .string(r.language.rawValue),
            ]
            var geometry: Geometry?
            if let id = r.homeVillage, let v = places.village(id) {
                a["village_id"] = .string(v.id)
                a["village"] = .string(v.name)
                a["area_id"] = v.areaId.map(AttributeValue.string) ?? .null
                a["cluster"] = v.cluster.map(AttributeValue.string) ?? .null
                geometry = .point(Coordinate(x: v.lon, y: v.lat))
            }
            for q in survey.questions {
                guard let answer = r.answers[q.id] else { continue }
                switch answer {
                case .choice(let c): a[q.id] = .string(c)
                case .choices(let cs): a[q.id] = .string(cs.joined(separator: ";"))
                case .text(let t): a[q.id] = .string(t)
                case .number(let n): a[q.id] = .double(n)
                case .village: break
                case .facilityUse(let u):
                    a[q.id + "_facility"] = .string(u.facility ?? "none")
                    a[q.id + "_frequency"] = u.frequency.map { .string($0.rawValue) } ?? .null
                    a[q.id + "_mode"] = u.mode.map { .string($0.rawValue) } ?? .null
                case .pins(let ps): a[q.id + "_pins"] = .int(Int64(ps.count))
                }
            }
            return Feature(geometry: geometry, attributes: a)
        }
        return FeatureTable(name: "responses", crs: .wgs84, fields: fields, features: features)
    }

    public static func pins(survey: SurveyDefinition, responses: [SurveyResponse]) -> FeatureTable {
        let fields: [FieldDefinition] = [
            .init(name: "pin_id", type: .string), .init(name: "response_id", type: .string), .init(name: "question", type: .string),
            .init(name: "kind", type: .string), .init(name: "text", type: .string), .init(name: "status", type: .string),
        ]
        var features: [Feature] = []
        for r in responses {
            for q in survey.questions {
                guard case .pins(let ps)? = r.answers[q.id] else { continue }
                for (i, p) in ps.enumerated() {
                    features.append(Feature(geometry: .point(Coordinate(x: p.lon, y: p.lat)), attributes: [
                        "pin_id": .string("\(r.id)-\(q.id)-\(i + 1)"), "response_id": .string(r.id), "question": .string(q.id),
                        "kind": .string(p.kind.rawValue), "text": .string(p.text), "status": .string(p.status.rawValue),
                    ]))
                }
            }
        }
        return FeatureTable(name: "pins", crs: .wgs84, fields: fields, features: features)
    }
}
