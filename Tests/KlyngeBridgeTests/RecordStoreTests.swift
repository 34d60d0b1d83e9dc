import Foundation
import Testing
import KlyngeIO
import KlyngeTestSupport

/// The GeoPackage record store under the ways the service uses it: several tables of one file written at
/// once from two threads (scenario saves beside survey answers), and several records in one transaction.
@Suite struct RecordStoreTests {
    @Test func twoTablesOfOneFileTakeWritesAtOnce() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("store.gpkg").path
        _ = try GeoPackageRecordStore(path: path)
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            do {
                let s = try GeoPackageRecordStore(path: path, table: i == 0 ? "klynge_scenarios" : "klynge_survey_responses")
                for n in 0..<60 { try s.put(id: "r\(n)", name: "t\(i)", document: "{}") }
            } catch {
                failures.add("\(error)")
            }
        }
        #expect(failures.all.isEmpty, "\(failures.all)")
        #expect(try GeoPackageRecordStore(path: path, readOnly: true).all().count == 60)
        #expect(try GeoPackageRecordStore(path: path, table: "klynge_survey_responses", readOnly: true).all().count == 60)
    }

    @Test func putAllKeepsEveryRecordWithRisingVersions() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let s = try GeoPackageRecordStore(path: folder.appendingPathComponent("store.gpkg").path, table: "t")
        let saved = try s.putAll([("a", "x", "1"), ("b", "x", "2"), ("a", "x", "3")])
        #expect(saved.map(\.version) == [1, 2, 3])
        #expect(try s.get("a")?.document == "3" && s.all().count == 2)
    }

    /// The conditional writes the service uses, with the same rules as in PostgreSQL: a new id or nothing (all
    /// records or none), a replace or delete only at the version the client edited, and a stamp that moves with
    /// every change.
    @Test func conditionalWritesKeepTheirRules() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let s = try GeoPackageRecordStore(path: folder.appendingPathComponent("store.gpkg").path, table: "t")
        let stamps = Failures()
        stamps.add(try s.stamp())
        let made = try #require(try s.insertNew([("a", "A", "1"), ("b", "B", "2")]))
        stamps.add(try s.stamp())
        #expect(made.map(\.id) == ["a", "b"])
        #expect(try s.insertNew([("c", "C", "3"), ("a", "A", "x")]) == nil, "one id in use: nothing written")
        #expect(try s.get("c") == nil && s.get("a")?.document == "1")
        #expect(try s.replace(id: "a", name: "A", document: "stale", ifVersion: made[0].version + 100) == nil)
        let replaced = try #require(try s.replace(id: "a", name: "A", document: "new", ifVersion: made[0].version))
        stamps.add(try s.stamp())
        #expect(try replaced.version > made[1].version && s.get("a")?.document == "new")
        #expect(try s.replace(id: "zz", name: "Z", document: "", ifVersion: 1) == nil, "no record: nothing to replace")
        #expect(try !s.delete("a", ifVersion: made[0].version) && s.delete("a", ifVersion: replaced.version))
        stamps.add(try s.stamp())
        #expect(Set(stamps.all).count == 4, "\(stamps.all)")
    }
}

/// Errors collected from concurrent work.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}
