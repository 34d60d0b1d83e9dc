import Foundation
import KlyngeAnalysis
import KlyngeGeo
import KlyngeIngest
import KlyngeStudy

extension Comparison {
    /// Demand points with before, after and change per category, ready to map.
    public func table(study: Study, engine: CoverageEngine, before: Plan, after: Plan) -> FeatureTable {
        var fields: [FieldDefinition] = [.init(name: "id", type: .string), .init(name: "name", type: .string),
                                         .init(name: "population", type: .real)]
        let cats = categories.map(\.category)
        for c in cats {
            fields += [.init(name: "\(c)_before", type: .real), .init(name: "\(c)_after", type: .real),
                       .init(name: "\(c)_delta", type: .real), .init(name: "\(c)_status", type: .string),
                       .init(name: "\(c)_facility_before", type: .string), .init(name: "\(c)_facility_after", type: .string)]
        }
        let x = engine.evaluate(before, categories: cats), y = engine.evaluate(after, categories: cats)
        let features = study.demand.indices.map { d -> Feature in
            var a: [String: AttributeValue] = ["id": .string(study.demand[d].id), "name": .string(study.demand[d].name),
                                               "population": .double(study.demand[d].weight)]
            for c in cats {
                guard let b = x[c], let n = y[c] else { continue }
                // Minutes for time rules, km for distance rules.
                let scale = b.rule.metric == .duration ? 60.0 : 1000.0
                func v(_ value: Double) -> AttributeValue { value.isFinite ? .double((value / scale * 100).rounded() / 100) : .null }
                a["\(c)_before"] = v(b.value[d])
                a["\(c)_after"] = v(n.value[d])
                a["\(c)_delta"] = b.value[d].isFinite && n.value[d].isFinite ? v(n.value[d] - b.value[d]) : .null
                let status = b.isCovered(d) == n.isCovered(d) ? (b.isCovered(d) ? "covered" : "not covered")
                    : (b.isCovered(d) ? "loses coverage" : "gains coverage")
                a["\(c)_status"] = .string(status)
                a["\(c)_facility_before"] = b.site[d] >= 0 ? .string(engine.sites[Int(b.site[d])].name) : .null
                a["\(c)_facility_after"] = n.site[d] >= 0 ? .string(engine.sites[Int(n.site[d])].name) : .null
            }
            return Feature(geometry: .point(study.demand[d].location), attributes: a)
        }
        return FeatureTable(name: "comparison", crs: study.crs, fields: fields, features: features)
    }
}
