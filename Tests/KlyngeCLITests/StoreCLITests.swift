import Foundation
import Testing
import KlyngeTestSupport

/// `klynge store`: a study's GeoPackage store (scenarios, a proposal, survey answers) into a real PostgreSQL and
/// back, every record checked on arrival, and the outputs of the store's readers identical from both copies.
/// Runs where `make test` set up a database (KLYNGE_TEST_PG).
@Suite(.serialized) struct StoreCLITests {
    static let pg = ProcessInfo.processInfo.environment["KLYNGE_TEST_PG"].flatMap { $0.isEmpty ? nil : $0 }
    let klynge = TestSupport.klyngeBinary

    @Test(.enabled(if: Self.pg != nil, "needs KLYNGE_TEST_PG (make test sets it up)"))
    func aStoreGoesToPostgreSQLAndBackUnchanged() throws {
        let pg = try #require(Self.pg)
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let study = try TestSupport.sampleStudy(in: folder)
        let store = folder.appendingPathComponent("store.gpkg").path, back = folder.appendingPathComponent("back.gpkg").path
        let key = "test-\(UUID().uuidString.prefix(8))"
        try TestSupport.write("- name: Uden Sambiosen\n  description: \"Æ, ø og å – og \\\"citater\\\"\"\n  close: [node/5938809867]\n",
                              to: folder.appendingPathComponent("s.yaml"))
        for args in [["survey", "import", study, "--store", store, TestSupport.data("samsoe/survey-demo-answers.jsonl")],
                     ["regions", study, "--clusters", "3", "--max-minutes", "12", "--store", store, "--save", "Tre klynger",
                      "-o", folder.appendingPathComponent("r.gpkg").path],
                     ["scenarios", "import", study, folder.appendingPathComponent("s.yaml").path, "--store", store]] {
            let r = try TestSupport.run(klynge, args)
            #expect(r.status == 0, "\(args[0]): \(r.stderr)")
        }
        let imported = try TestSupport.run(klynge, ["store", "import", study, "--store", store, "--database", pg, "--study-key", key])
        #expect(imported.status == 0 && imported.stdout.contains("1 scenarios, 1 proposals, 60 survey responses"), "\(imported.stdout)\(imported.stderr)")
        // A second import would mix two stores: refused, unless told to replace.
        let again = try TestSupport.run(klynge, ["store", "import", study, "--store", store, "--database", pg, "--study-key", key])
        #expect(again.status != 0 && again.stderr.contains("--replace"), "\(again.stderr)")
        let exported = try TestSupport.run(klynge, ["store", "export", study, "--database", pg, "--study-key", key, "-o", back])
        #expect(exported.status == 0, "\(exported.stderr)")
        // Everything that reads a store says the same of both copies, and of the database itself (--store postgresql://…).
        for args in [["survey", "results", study, "--json"], ["regions", "compare", study, "--json"], ["compare", study, "--scenario", "Uden Sambiosen", "--json"]] {
            let a = try TestSupport.run(klynge, args + ["--store", store]), b = try TestSupport.run(klynge, args + ["--store", back])
            let c = try TestSupport.run(klynge, args + ["--store", pg, "--study-key", key])
            #expect(a.status == 0 && a.stdout == b.stdout && !a.stdout.isEmpty, "\(args.prefix(2)): \(a.stderr) \(b.stderr)")
            #expect(c.status == 0 && c.stdout == a.stdout, "\(args.prefix(2)) from the database: \(c.stderr)")
        }
        // A write through the command line goes to the database, with the database's own version.
        let saved = try TestSupport.run(klynge, ["scenarios", "import", study, folder.appendingPathComponent("s2.yaml").path, "--store", pg, "--study-key", key])
        #expect(saved.status != 0 && saved.stderr.contains("s2.yaml"), "a missing file is named: \(saved.stderr)")
        try TestSupport.write("- name: Kun i databasen\n  close: [node/5938809867]\n", to: folder.appendingPathComponent("s2.yaml"))
        let saved2 = try TestSupport.run(klynge, ["scenarios", "import", study, folder.appendingPathComponent("s2.yaml").path, "--store", pg, "--study-key", key])
        #expect(saved2.status == 0 && !saved2.stdout.contains("hemmelig"), "\(saved2.stderr)")
        let listed = try TestSupport.run(klynge, ["scenarios", "list", study, "--store", pg, "--study-key", key])
        #expect(listed.stdout.contains("kun-i-databasen") && listed.stdout.contains("PostgreSQL database"), "\(listed.stdout)")
        // The saved scenario as YAML, from both (the first line names the store).
        var yaml: [String] = []
        for (name, s) in [("a.yaml", store), ("b.yaml", back)] {
            let out = folder.appendingPathComponent(name).path
            let r = try TestSupport.run(klynge, ["scenarios", "export", study, "--store", s, "-o", out])
            #expect(r.status == 0, "\(r.stderr)")
            yaml.append(try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").dropFirst().joined(separator: "\n"))
        }
        #expect(yaml[0] == yaml[1] && yaml[0].contains("Uden Sambiosen") && yaml[0].contains("citater"), "\(yaml)")
        // A wrong password is a clean error that never shows it, and writes nothing.
        let bad = try TestSupport.run(klynge, ["store", "export", study, "--database", "postgresql://klynge:hemmeligt-ord@127.0.0.1:1/x?connect_timeout=2",
                                               "-o", folder.appendingPathComponent("x.gpkg").path])
        #expect(bad.status != 0 && bad.stderr.contains("cannot connect") && !bad.stderr.contains("hemmeligt-ord"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("x.gpkg").path))
    }
}
