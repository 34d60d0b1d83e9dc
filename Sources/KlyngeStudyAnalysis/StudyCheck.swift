import KlyngeAnalysis
import KlyngeGeo
import KlyngeNetwork
import KlyngeStore
import KlyngeStudy

/// Everything beyond the layers that the analysis and the main job would refuse, found all at once and each named
/// by its key path: coverage rules, network settings, scenarios, clusters, and report file names. `validate`
/// runs it, so a study it passes is one `report` accepts.
public enum StudyCheck {
    public static func findings(_ study: Study, file: String?) -> [ValidationIssue] {
        var out: [ValidationIssue] = []
        func refuse(_ key: String, _ message: String) { out.append(ValidationIssue(.error, file: file, key: key, message)) }
        let ruleCheck = StudyAnalysis.ruleCheck(study)
        for p in ruleCheck.problems { refuse(p.key, p.message) }
        for p in SurveyCatalog.problems(study) { refuse("surveys", p) }
        var network: StudyNetwork?
        do {
            network = try StudyNetwork(study: study)
        } catch let e as NetworkSetupError {
            refuse("network", e.message)
        } catch {
            refuse("network", "\(error)")
        }
        // Scenarios: each on its own, as the analysis resolves them.
        var names: [String: Int] = [:]
        var ids: [String: String] = [:]
        var files: [String: String] = [:]
        let facilitySites = StudyAnalysis.sites(of: study)
        for (i, spec) in study.scenarios.enumerated() {
            let key = "scenarios[\(i)]"
            if let first = names[spec.name] {
                refuse(key + ".name", "scenarios[\(first)] has the same name `\(spec.name)`")
                continue
            }
            names[spec.name] = i
            let id = ScenarioNaming.id(for: spec.name)
            if let other = ids[id] { refuse(key + ".name", "`\(spec.name)` and `\(other)` have the same id `\(id)`; rename one") }
            ids[id] = spec.name
            let file = "compare-" + MainReportNames.safe(spec.name)
            if let other = files[file] { refuse(key + ".name", "`\(spec.name)` and `\(other)` would write the same report file \(file).geojson; rename one") }
            files[file] = spec.name
            guard let network else { continue }
            do {
                _ = try StudyAnalysis.prepare(spec, study: study, network: network, rules: ruleCheck.rules, facilitySites: facilitySites,
                                              firstSite: facilitySites.count)
            } catch let e as ScenarioError {
                refuse(key, "scenario `\(spec.name)`: \(e.message)")
            } catch {
                refuse(key, "scenario `\(spec.name)`: \(error)")
            }
        }
        // Clusters, when the study has them (the report then includes them).
        let geography = ClusterGeography(study: study)
        for p in geography.problems { refuse(p.key, p.message) }
        if let m = study.clusters.candidateMinutes, !(m.isFinite && m > 0) { refuse("clusters.candidate_minutes", "must be a positive number of minutes") }
        for (k, pair) in (study.clusters.links ?? []).enumerated() {
            guard pair.count == 2 else { refuse("clusters.links[\(k)]", "a link is a pair of two areas, not \(pair.count)"); continue }
            for key in pair { if let problem = study.area(matching: key).problem(key) { refuse("clusters.links[\(k)]", problem) } }
        }
        // Points that no road of a mode in use reaches: counted as unreachable, worth a look.
        if let network {
            for mode in Set(ruleCheck.rules.values.map(\.mode)).sorted(by: { $0.rawValue < $1.rawValue }) {
                for r in SnapReport.study(study, snapper: network.snapper(mode), suspiciousMeters: network.suspiciousSnapMeters) where r.snap == nil {
                    out.append(ValidationIssue(.warning, file: file, layer: r.layer, featureId: r.id,
                                               "\(r.name.isEmpty ? "(unnamed)" : r.name), by \(mode.rawValue): \(r.warning ?? "not attached") (counted as unreachable)"))
                }
            }
        }
        return out
    }
}

/// File names of the main job's outputs.
public enum MainReportNames {
    /// A scenario name made safe as part of a file name.
    public static func safe(_ name: String) -> String { name.map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined() }
}
