import ArgumentParser
import Foundation
import KlyngeStudyAnalysis
import KlyngeIngest
import KlyngeJobs
import KlyngeIO
import KlyngeStore
import KlyngeStudy
import Yams

/// The study with its saved scenarios from the store (the one the web page writes too). The old
/// `<study>.scenarios.yaml` is imported first, once. Saved scenarios the study cannot use are named with
/// their reason and left out; they never stop the command.
func loadStudyWithSaved(_ options: StudyOptions) throws -> (own: Study, network: StudyNetwork, set: ScenarioSet) {
    let study = try loadUsableStudy(options)
    let network = try StudyNetwork(study: study)
    return (study, network, try savedScenarios(options, study: study, network: network))
}

/// The saved scenarios sorted against the study.
func savedScenarios(_ options: StudyOptions, study: Study, network: StudyNetwork) throws -> ScenarioSet {
    let store = try options.scenarioStore()
    importLegacyScenarios(options, store: store)
    let set = StoredScenarios.merge(study: study, network: network, saved: try store.all())
    for i in set.invalid { warn("note: saved scenario `\(i.saved.record.id)` is left out: \(i.reason)") }
    return set
}

/// Imports `<study>.scenarios.yaml` into the store once, if the store is free (a running service holds it).
func importLegacyScenarios(_ options: StudyOptions, store: ScenarioStore) {
    guard FileManager.default.fileExists(atPath: ScenarioStore.legacyYAMLPath(forStudy: options.study)) else { return }
    do {
        if let note = try store.withWriterLock({ try store.importLegacyYAML(forStudy: options.study) }) { warn(note) }
    } catch {
        warn("note: \(ScenarioStore.legacyYAMLPath(forStudy: options.study)) was not imported: \(error)")
    }
}

struct ScenariosCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenarios",
        abstract: "Manage the saved scenarios of a study (the store shared with `klynge serve`).",
        discussion: "The store is <study>.scenarios.gpkg beside the study file unless --store names another. The study file's own scenarios are read-only and listed for reference.",
        subcommands: [List.self, Show.self, Export.self, Import.self, Delete.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the study's own and the saved scenarios, with invalid ones and why.")
        @OptionGroup var options: StudyOptions
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            try failing {
                let (study, _, set) = try loadStudyWithSaved(options)
                let own = study.scenarios
                if json {
                    struct Row: Encodable { var id: String; var name: String; var source: String; var version: Int64?; var updated: String?; var problem: String? }
                    let rows = own.map { Row(id: set.ids[$0.name] ?? "", name: $0.name, source: "study", version: nil, updated: nil, problem: nil) }
                        + set.valid.map { Row(id: $0.record.id, name: $0.spec?.name ?? $0.record.name, source: "saved", version: $0.record.version, updated: $0.record.updated, problem: nil) }
                        + set.invalid.map { Row(id: $0.saved.record.id, name: $0.saved.record.name, source: "saved", version: $0.saved.record.version, updated: $0.saved.record.updated, problem: $0.reason) }
                    try printJSON(rows)
                    return
                }
                print("Store: \(options.storeLabel)\(try options.scenarioStore().exists ? "" : " (nothing saved yet)")")
                for s in own { print("  \(set.ids[s.name] ?? "")\t\(s.name)\t(study file, read-only)") }
                for s in set.valid { print("  \(s.record.id)\t\(s.spec?.name ?? s.record.name)\tversion \(s.record.version), saved \(s.record.updated)") }
                for s in set.invalid { print("  \(s.saved.record.id)\t\(s.saved.record.name)\tINVALID: \(s.reason)") }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one saved scenario as YAML.")
        @OptionGroup var options: StudyOptions
        @Argument(help: "The scenario's id (see `list`).") var id: String

        func run() throws {
            try failing {
                guard let s = try options.scenarioStore().get(id) else { throw ValidationError("no saved scenario `\(id)` in \(options.storeLabel)") }
                guard let spec = s.spec else { throw ValidationError("saved scenario `\(id)`: \(s.problem ?? "unreadable")") }
                let encoder = YAMLEncoder()
                encoder.options.allowUnicode = true
                print(try encoder.encode(spec), terminator: "")
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write saved scenarios to a YAML file (a list, as the study file's `scenarios:`).")
        @OptionGroup var options: StudyOptions
        @Option(name: .shortAndLong, help: "The YAML file to write.") var output: String
        @Argument(help: "Ids to export (default: all readable ones).") var ids: [String] = []

        func run() throws {
            try failing {
                let all = try options.scenarioStore().all()
                for id in ids where !all.contains(where: { $0.record.id == id }) { throw ValidationError("no saved scenario `\(id)` in \(options.storeLabel)") }
                let chosen = all.filter { ids.isEmpty || ids.contains($0.record.id) }.compactMap(\.spec)
                let encoder = YAMLEncoder()
                encoder.options.allowUnicode = true
                try AtomicOutput.write(text: "# Scenarios exported from \(options.storeLabel)\n" + (try encoder.encode(chosen)), to: URL(fileURLWithPath: output))
                print("Wrote \(chosen.count) scenario(s) to \(output)")
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Save the scenarios of a YAML list in the store (each checked against the study first).")
        @OptionGroup var options: StudyOptions
        @Argument(help: "A YAML file with a list of scenarios.") var file: String
        @Flag(help: "Replace saved scenarios with the same id.") var replace = false

        func run() throws {
            try failing {
                guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
                let specs: [StudyFile.ScenarioSpec]
                do { specs = try YAMLDecoder().decode([StudyFile.ScenarioSpec].self, from: String(decoding: data, as: UTF8.self)) } catch {
                    throw ValidationError("\(file) is not a list of scenarios: \(error)")
                }
                let study = try loadUsableStudy(options)
                let store = try options.scenarioStore()
                importLegacyScenarios(options, store: store)
                // Every scenario is checked, with the saved ones, before any is saved: a bad file changes nothing.
                var saved = try store.all()
                for spec in specs {
                    let id = ScenarioNaming.id(for: spec.name)
                    if !replace, saved.contains(where: { $0.record.id == id }) {
                        throw ValidationError("\(file): a saved scenario has the id `\(id)` already (use --replace)")
                    }
                    saved.removeAll { $0.record.id == id }
                    saved.append(SavedScenario(record: StoredRecord(id: id, name: spec.name, document: "", version: 0, updated: ""), spec: spec, problem: nil))
                }
                let check = StoredScenarios.merge(study: study, network: try StudyNetwork(study: study), saved: saved)
                if let bad = check.invalid.first(where: { i in specs.contains { ScenarioNaming.id(for: $0.name) == i.saved.record.id } }) {
                    throw ValidationError("\(file): scenario `\(bad.saved.record.name)`: \(bad.reason)")
                }
                try store.withWriterLock { for spec in specs { try store.put(spec) } }
                print("Saved \(specs.count) scenario(s) in \(store.path)")
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete saved scenarios.")
        @OptionGroup var options: StudyOptions
        @Argument(help: "Ids to delete.") var ids: [String]

        func run() throws {
            try failing {
                let store = try options.scenarioStore()
                let all = try store.all()
                for id in ids where !all.contains(where: { $0.record.id == id }) { throw ValidationError("no saved scenario `\(id)` in \(options.storeLabel)") }
                try store.withWriterLock { for id in ids { try store.delete(id) } }
                print("Deleted \(ids.count) scenario(s) from \(store.path)")
            }
        }
    }
}
