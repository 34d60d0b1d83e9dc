import Foundation
import KlyngeAnalysis
import KlyngeGeo
import KlyngeIngest
import KlyngeStudyAnalysis
import KlyngeStudy

/// The human-readable summary of the main job, in Danish (default) or English.
public struct SummaryWriter {
    public var language: String

    public init(language: String) { self.language = language == "en" ? "en" : "da" }

    func t(_ da: String, _ en: String) -> String { language == "en" ? en : da }

    var figures: Figures { Figures(language: language) }

    func number(_ v: Double, decimals: Int = 0) -> String { figures.number(v, decimals: decimals) }

    func measure(_ v: Double?, _ metric: Metric) -> String {
        guard let v else { return t("uopnåelig", "unreachable") }
        return figures.measure(v, metric)
    }

    /// A category's rule as people read it: `10,0 min i bil`.
    public func rule(_ s: CoverageSummary) -> String {
        let mode = switch s.mode {
        case .car: t("i bil", "by car")
        case .bike: t("på cykel", "by bike")
        case .walk: t("til fods", "on foot")
        case .distance: t("ad vej", "by road")
        }
        return "\(measure(s.threshold, s.metric)) \(mode)"
    }

    func label(_ study: Study, _ key: String) -> String {
        study.categories.first { $0.key == key }?.label(language: language) ?? key
    }

    public func write(study: Study, baseline: CoverageReport, comparisons: [(String, String?, Comparison)],
                      impacts: [(String, [ClosureImpact])], clusters: ClusterReport?) -> String {
        var out = "# Klynge – \(study.name): \(t("sammenfatning", "summary"))\n\n"
        if let d = study.description { out += d + "\n\n" }
        out += t("Befolkning i alt: ", "Population: ") + number(baseline.categories.first?.population ?? 0)
            + t(" i \(study.demand.count) byer og \(study.areas.count) områder.\n\n", " in \(study.demand.count) villages and \(study.areas.count) areas.\n\n")
        out += "## " + t("Dækning i dag", "Coverage today") + "\n\n"
        for s in baseline.categories where s.openFacilities > 0 {
            out += "- **\(label(study, s.category))** (\(rule(s))): \(s.openFacilities) " + t("åbne", "open") + "; "
            out += "\(number(s.coveredShare * 100, decimals: 1)) % " + t("dækket", "covered")
            out += " (\(number(s.coveredPopulation)) / \(number(s.population))); "
            if s.populationBeyond > 0 {
                // Not covered, in its two kinds, each with what it means.
                out += "\(number(s.populationBeyondReachable)) " + t("når en, men længere væk", "reach one farther away")
                if s.populationUnreachable > 0 {
                    out += ", \(number(s.populationUnreachable)) " + t("i \(s.pointsUnreachable) byer når ingen ad vejene",
                                                                       "in \(s.pointsUnreachable) villages reach none by road")
                }
                out += "; "
            }
            out += t("median ", "median ") + measure(s.median, s.metric) + ", 90 %: " + measure(s.p90, s.metric)
            if let worst = s.worstReachableName, let value = s.maxReachable {
                let qualifier = s.populationUnreachable > 0 ? t(" (blandt dem, der når frem)", " (of those who reach one)") : ""
                out += "; " + t("længst", "farthest") + qualifier + ": \(worst) (\(measure(value, s.metric)))"
            }
            out += ".\n"
        }
        // Areas whose own population disagrees with their villages' (the figures count the villages).
        let mismatched = baseline.areas.filter { a in
            a.populationInAreaLayer.map { $0 > 0 && abs($0 - a.population) > CoverageReport.populationMismatchShare * $0 } ?? false
        }
        if !mismatched.isEmpty {
            out += "\n" + t("Bemærk: tallene regner med byernes indbyggere. For disse områder angiver områdelaget et andet tal:",
                            "Note: the figures count the villages' people. For these areas the areas layer gives another number:") + "\n\n"
            for a in mismatched {
                out += "- \(a.name) (\(a.areaId)): " + t("områdelaget \(number(a.populationInAreaLayer ?? 0)), byerne \(number(a.population)) (\(a.villages) byer)",
                                                       "areas layer \(number(a.populationInAreaLayer ?? 0)), villages \(number(a.population)) (\(a.villages) villages)") + "\n"
            }
        }
        for (name, description, cmp) in comparisons {
            out += "\n## " + t("Scenarie: ", "Scenario: ") + name + "\n\n"
            if let description { out += description + "\n\n" }
            out += t("Åbne faciliteter: ", "Open facilities: ") + "\(cmp.openBefore) → \(cmp.openAfter)"
            if let a = cmp.annualCostBefore, let b = cmp.annualCostAfter {
                out += t("; årlige udgifter: ", "; annual cost: ") + "\(number(a)) → \(number(b)) (\(b >= a ? "+" : "")\(number(b - a)))"
            }
            out += ".\n\n"
            for c in cmp.categories where c.before.openFacilities != c.after.openFacilities || !c.losing.isEmpty || !c.gaining.isEmpty
                || c.before.mean != c.after.mean {
                out += "- **\(label(study, c.category))**: " + t("dækket ", "covered ")
                    + "\(number(c.before.coveredShare * 100, decimals: 1)) % → \(number(c.after.coveredShare * 100, decimals: 1)) %"
                out += "; " + t("gennemsnit ", "mean ") + measure(c.before.mean, c.before.metric) + " → " + measure(c.after.mean, c.after.metric)
                if !c.losing.isEmpty {
                    out += "; " + t("mister dækning: ", "lose coverage: ")
                        + c.losing.map { "\($0.name) (\(number($0.population)), \(measure($0.before, c.before.metric)) → \(measure($0.after, c.after.metric)))" }
                        .joined(separator: ", ")
                }
                if !c.gaining.isEmpty {
                    out += "; " + t("får dækning: ", "gain coverage: ") + c.gaining.map { "\($0.name) (\(number($0.population)))" }.joined(separator: ", ")
                }
                if let l = c.largestIncrease {
                    out += "; " + t("største forlængelse: ", "largest increase: ") + "\(l.name) \(measure(l.before, c.before.metric)) → \(measure(l.after, c.after.metric))"
                }
                out += ".\n"
            }
        }
        if !impacts.isEmpty {
            out += "\n## " + t("Hvis én facilitet lukker", "If one facility closes") + "\n\n"
            for (c, list) in impacts where !list.isEmpty {
                let least = list.first!, most = list.last!
                let unit = study.coverage[c]?.km != nil ? t("personkm", "person-km") : t("personminutter", "person-minutes")
                let scale = study.coverage[c]?.km != nil ? 1000.0 : 60.0
                func describe(_ i: ClosureImpact) -> String {
                    "\(i.name.isEmpty ? i.siteId : i.name) (\(number(i.populationLosingCoverage)) " + t("mister dækning", "lose coverage")
                        + ", +\(number(i.addedPersonUnits / scale)) \(unit)"
                        + (i.populationLeftWithout > 0 ? ", \(number(i.populationLeftWithout)) " + t("uden nogen", "left without any") : "") + ")"
                }
                out += "- **\(label(study, c))**: " + t("mindst kritisk ", "least critical ") + describe(least) + "; "
                    + t("mest kritisk ", "most critical ") + describe(most) + ".\n"
            }
        }
        if let clusters {
            out += "\n## " + t("Klynger", "Clusters") + "\n\n"
            for c in clusters.clusters {
                out += "- **\(c.name)**: \(number(c.population)) " + t("indbyggere", "inhabitants") + ", \(number(c.areaKm2, decimals: 1)) km², "
                out += t("knudepunkt ", "hub ") + (c.hub ?? "–")
                if let far = c.villages.filter({ $0.minutesToHub != nil }).max(by: { $0.minutesToHub! < $1.minutesToHub! }) {
                    out += t(" (længst dertil: ", " (farthest: ") + "\(far.name), \(number(far.minutesToHub!, decimals: 1)) min)"
                }
                let have = c.categories.filter { $0.facilities > 0 }.map { "\(label(study, $0.category)) \($0.facilities)" }
                out += "; " + (have.isEmpty ? t("ingen faciliteter", "no facilities") : have.joined(separator: ", "))
                if !c.consolidationCandidates.isEmpty {
                    out += "; " + t("kandidater til sammenlægning: ", "consolidation candidates: ")
                        + c.consolidationCandidates.map { "\($0.a) + \($0.b) (\(number($0.minutes, decimals: 1)) min)" }.joined(separator: ", ")
                }
                out += ".\n"
            }
        }
        return out
    }
}
