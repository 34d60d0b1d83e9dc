import Foundation
import KlyngeStore
import KlyngeStudy

/// A saved scenario the study cannot use, with the reason (it stays in the store, to be edited or deleted).
public struct InvalidScenario: Sendable {
    public enum Kind: Sendable {
        /// The record is not a readable scenario.
        case unreadable
        /// Its name or id is another scenario's.
        case nameTaken
        /// It does not fit the study (a facility gone, a place off the roads).
        case unfit
    }
    public var saved: SavedScenario
    public var kind: Kind
    public var reason: String
    public init(saved: SavedScenario, kind: Kind, reason: String) {
        self.saved = saved
        self.kind = kind
        self.reason = reason
    }
}

/// The study's own scenarios together with the usable saved ones; the same rules for the command line
/// and the service.
public struct ScenarioSet: Sendable {
    /// The study with the usable saved scenarios after its own.
    public var study: Study
    /// Scenario name → id (unique across the study's own and the saved ones).
    public var ids: [String: String]
    public var valid: [SavedScenario]
    public var invalid: [InvalidScenario]
}

public enum StoredScenarios {
    /// Sorts saved scenarios into usable and invalid: unreadable records, names or ids taken by another
    /// scenario, and scenarios that no longer fit the study (a facility removed, a place off the roads) are
    /// listed with their reason and never stop the others.
    public static func merge(study: Study, network: StudyNetwork, saved: [SavedScenario]) -> ScenarioSet {
        var ids: [String: String] = [:]
        var taken: [String: String] = [:]  // id → whose
        for s in study.scenarios {
            let id = ScenarioNaming.id(for: s.name)
            ids[s.name] = id
            taken[id] = "the study's own scenario `\(s.name)`"
        }
        var valid: [SavedScenario] = []
        var invalid: [InvalidScenario] = []
        for s in saved {
            guard let spec = s.spec else { invalid.append(InvalidScenario(saved: s, kind: .unreadable, reason: s.problem ?? "unreadable")); continue }
            let keys = Set([s.record.id, ScenarioNaming.id(for: spec.name)])
            if let clash = keys.sorted().compactMap({ taken[$0] }).first {
                invalid.append(InvalidScenario(saved: s, kind: .nameTaken, reason: "its name or id is used by \(clash)"))
                continue
            }
            if let problem = StudyAnalysis.problem(with: spec, study: study, network: network) {
                invalid.append(InvalidScenario(saved: s, kind: .unfit, reason: problem))
                continue
            }
            for k in keys { taken[k] = "the saved scenario `\(s.record.id)`" }
            ids[spec.name] = s.record.id
            valid.append(s)
        }
        var merged = study
        merged.scenarios += valid.compactMap(\.spec)
        return ScenarioSet(study: merged, ids: ids, valid: valid, invalid: invalid)
    }
}
