import Foundation
import KlyngeGeo
import KlyngeStudy

/// Facts tied to places: features by where they lie (their area, and the nearest village in it), table rows
/// by an area or village code. Every mapped field is numeric; a value that is not a number is an error naming
/// the feature and field, and a missing one stays missing.
extension LoadRun {
    mutating func readFacts(_ spec: StudyFile.FactSpec, crs: CRS, study: Study, areas: AreaIndex) -> FactLayer? {
        guard let raw = read(role: .facts, spec: spec.layerSpec) else { return nil }
        let names = Array((spec.fields ?? [:]).keys).sorted()
        var records: [FactRecord] = []
        var positions: [Coordinate] = []
        var failed = false
        if let join = spec.join {
            let code = Self.joinCode
            let toAreas = join.to == "areas"
            var byCode: [String: (village: String?, area: String?)] = [:]
            if toAreas { for a in study.areas { byCode[code(a.id)] = (nil, a.id) } } else { for d in study.demand { byCode[code(d.id)] = (d.id, d.areaId) } }
            for f in raw.features {
                guard let key = text(f, StudyFile.FactSpec.joinKeyRole, raw) else {
                    issues.append(ValidationIssue(.error, file: raw.displaySource, layer: raw.layerName, featureId: label(f, raw), field: join.key,
                                                  "the row has no \(toAreas ? "area" : "village") code"))
                    failed = true
                    continue
                }
                guard let place = byCode[code(key)] else {
                    issues.append(ValidationIssue(.error, file: raw.displaySource, layer: raw.layerName, featureId: key, field: join.key,
                                                  "no \(toAreas ? "area" : "village") of the study has this code"))
                    failed = true
                    continue
                }
                guard let values = factValues(f, names: names, raw) else { failed = true; continue }
                records.append(FactRecord(villageId: place.village, areaId: place.area, values: values))
            }
        } else {
            let layer = reproject(raw, to: crs)
            // The nearest village of the same area (of all, without areas), by straight line.
            var villagesByArea: [String: [DemandPoint]] = [:]
            for d in study.demand { villagesByArea[d.areaId ?? "", default: []].append(d) }
            // Facts often come for a whole country (registers, Danmarks Statistik): those beyond the study area
            // (farther than `checks.max_outside_m` from it) are left out and counted, not refused one by one.
            var outside = 0
            defer {
                if outside > 0 {
                    issues.append(ValidationIssue(.warning, file: layer.displaySource, layer: layer.layerName,
                                                  "\(outside) feature(s) lie outside the study area and are left out of the facts"))
                }
            }
            for f in layer.features {
                guard let c = point(f, layer), let values = factValues(f, names: names, layer) else { failed = true; continue }
                var area: String?
                if !study.areas.isEmpty {
                    area = areas.areaId(containing: c)
                    if area == nil {
                        guard let d = areas.distanceToStudyArea(c), d <= maxOutsideMeters else { outside += 1; continue }
                        area = areas.nearestAreaId(c)
                    }
                }
                positions.append(c)
                let candidates = villagesByArea[area ?? ""] ?? study.demand
                let village = candidates.min { hypot($0.location.x - c.x, $0.location.y - c.y) < hypot($1.location.x - c.x, $1.location.y - c.y) }
                records.append(FactRecord(villageId: village?.id, areaId: area ?? village?.areaId, values: values))
            }
        }
        if failed { return nil }
        let measures = spec.measures.map { m -> FactMeasure in
            let aggregate: FactAggregate
            switch FactAggregateName(rawValue: m.aggregate)! {
            case .count: aggregate = .count
            case .sum: aggregate = .sum(field: m.field!)
            case .mean: aggregate = .mean(field: m.field!)
            case .per1000: aggregate = .per1000(field: m.field)
            case .share: aggregate = .share(field: m.field!, of: m.of!)
            }
            return FactMeasure(id: m.id, labelDa: m.label?.da ?? m.id, labelEn: m.label?.en ?? m.label?.da ?? m.id, aggregate: aggregate)
        }
        summaries[summaries.count - 1].featuresLoaded = records.count
        summaries[summaries.count - 1].extent = Envelope(covering: positions)?.array
        return FactLayer(id: spec.id, labelDa: spec.label?.da ?? spec.id, labelEn: spec.label?.en ?? spec.label?.da ?? spec.id,
                         measures: measures, records: records, areasOnly: spec.join?.to == "areas")
    }

    /// The mapped numeric values of one feature; nil (with the error recorded) when one is not a number.
    mutating func factValues(_ f: Feature, names: [String], _ layer: RawLayer) -> [String: Double]? {
        var values: [String: Double] = [:]
        for name in names {
            guard let field = layer.spec.fields[name] else { continue }
            let v = f[field]
            if v.isNull || v.text?.trimmingCharacters(in: .whitespaces).isEmpty == true { continue }
            guard let n = Self.number(v, format: layer.spec.numberFormat), n.isFinite else {
                issues.append(ValidationIssue(.error, file: layer.displaySource, layer: layer.layerName, featureId: label(f, layer), field: field,
                                              "`\(v.text ?? "")` is not a number (`\(name)` of the fact layer)"))
                return nil
            }
            values[name] = n
        }
        return values
    }
}
