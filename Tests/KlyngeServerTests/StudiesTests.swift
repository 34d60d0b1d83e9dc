import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import KlyngeIngest
import KlyngeStore
import KlyngeStudy
import KlyngeTestSupport
@testable import KlyngeServer

/// `serve --studies`: several studies in one service, each under /studies/<id>/ with its own tokens (kept as
/// digests), loaded on first use and unloaded beyond the memory bound.
@Suite(.serialized) struct StudiesTests {
    static let tokenA = "alfa-token-0123456789", tokenB = "beta-token-9876543210"

    static func service(folder: URL, memoryLimitBytes: Int = 1 << 40, defaultStudy: String? = nil) throws -> (StudiesResponder, StudyRegistry) {
        let file = TestSupport.data("samsoe/study.yaml")
        let entries = [StudyEntry(id: "alfa", name: "Alfa", file: file, tokens: try WriteTokens(hashed: [WriteTokens.line(for: tokenA)])),
                       StudyEntry(id: "beta", name: "Beta", file: file, tokens: WriteTokens(plain: [tokenB])),
                       StudyEntry(id: "gamma", name: "Gamma", file: file, tokens: .none)]
        let config = ServerConfig(maxBodyBytes: 4096, stylesFolder: TestSupport.packageRoot.appendingPathComponent("styles"), cancelWhenClientLeaves: false)
        let registry = StudyRegistry(entries: entries, memoryLimitBytes: memoryLimitBytes, config: config) { entry in
            let study = try #require(try StudyLoader().load(path: entry.file).study)
            let state = try ServiceState(study: study, store: .geoPackage(path: folder.appendingPathComponent("\(entry.id).gpkg").path),
                                         writable: entry.tokens.canWrite)
            return (state, nil)
        }
        return (StudiesResponder(registry: registry, defaultStudy: defaultStudy, config: config, ready: { true }), registry)
    }

    static func headers(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)", .contentType: "application/json"] }

    @Test func aTokenOpensOnlyItsOwnStudy() async throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (responder, registry) = try Self.service(folder: folder)
        #expect(await registry.loadedIds().isEmpty, "nothing is loaded before it is asked for")
        try await Application(responder: responder).test(.router) { c in
            try await c.execute(uri: "/studies", method: .get) { r in
                let list = (try object(r))["studies"] as! [[String: Any]]
                #expect(list.map { $0["id"] as! String } == ["alfa", "beta", "gamma"])
            }
            // A's token on B: 401, and nothing saved; B's own token: 201, with B's prefix in Location.
            try await c.execute(uri: "/studies/beta/api/scenarios", method: .post, headers: Self.headers(Self.tokenA), body: ByteBuffer(string: closeHall)) { r in
                #expect(r.status == .unauthorized)
            }
            try await c.execute(uri: "/studies/beta/api/scenarios", method: .post, headers: Self.headers(Self.tokenB), body: ByteBuffer(string: closeHall)) { r in
                #expect(r.status == .created && r.headers[.location] == "/studies/beta/api/scenarios/luk-sambiosen")
            }
            try await c.execute(uri: "/studies/alfa/api/scenarios/luk-sambiosen", method: .get) { r in #expect(r.status == .notFound, "studies are apart") }
            try await c.execute(uri: "/studies/alfa/api/scenarios", method: .post, headers: Self.headers(Self.tokenB), body: ByteBuffer(string: closeHall)) { r in
                #expect(r.status == .unauthorized)
            }
            try await c.execute(uri: "/studies/alfa/api/scenarios", method: .post, headers: Self.headers(Self.tokenA), body: ByteBuffer(string: closeHall)) { r in
                #expect(r.status == .created)
            }
            // A study without tokens is read-only; an unknown study is a JSON 404; links carry the study's prefix.
            try await c.execute(uri: "/studies/gamma/api/scenarios", method: .post, headers: Self.headers(Self.tokenA), body: ByteBuffer(string: closeHall)) { r in
                #expect(r.status == .forbidden)
            }
            try await c.execute(uri: "/studies/zeta/collections", method: .get) { r in
                let status = ((try object(r))["error"] as? [String: Any])?["status"] as? Int
                #expect(r.status == .notFound && status == 404)
            }
            try await c.execute(uri: "/studies/alfa/collections?f=json", method: .get) { r in
                let collections = (try object(r))["collections"] as! [[String: Any]]
                let links = collections.flatMap { $0["links"] as! [[String: Any]] }.map { $0["href"] as! String }
                #expect(!links.isEmpty && links.allSatisfy { $0.contains("/studies/alfa/collections/") }, "\(links.prefix(2))")
            }
            try await c.execute(uri: "/studies/alfa", method: .get) { r in
                #expect(r.status == .movedPermanently && r.headers[.location] == "/studies/alfa/")
            }
            // Without a default study the single-study paths are not served.
            try await c.execute(uri: "/api/scenarios", method: .get) { r in #expect(r.status == .notFound) }
        }
        #expect(Set(await registry.loadedIds()) == ["alfa", "beta", "gamma"])
    }

    @Test func studiesBeyondTheMemoryBoundAreUnloadedLeastUsedFirst() async throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A bound below one study: only the study last asked for stays loaded.
        let (responder, registry) = try Self.service(folder: folder, memoryLimitBytes: 1, defaultStudy: "beta")
        try await Application(responder: responder).test(.router) { c in
            try await c.execute(uri: "/studies/alfa/api/categories", method: .get) { r in #expect(r.status == .ok) }
            try await c.execute(uri: "/studies/gamma/api/categories", method: .get) { r in #expect(r.status == .ok) }
            // The default study also answers at the single-study paths.
            try await c.execute(uri: "/api/scenarios", method: .get) { r in #expect(r.status == .ok) }
        }
        let loaded = await registry.loadedIds()
        #expect(loaded.first == "beta" && (loaded.count == 1 || StudyRegistry.residentBytes() == 0), "\(loaded)")
    }

    @Test func aStudiesFileIsCheckedAndKeepsNoPlaintextToken() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let study = TestSupport.data("samsoe/study.yaml")
        func write(_ text: String) throws -> String {
            let p = folder.appendingPathComponent("studies.yaml").path
            try text.write(toFile: p, atomically: true, encoding: .utf8)
            return p
        }
        let good = try StudiesFile.load(path: try write("studies:\n  - {id: samsoe, file: \(study), tokens: [\(WriteTokens.line(for: Self.tokenA))]}\n"))
        #expect(good.studies.map(\.id) == ["samsoe"])
        #expect(try WriteTokens(hashed: good.studies[0].tokens).accepts(authorization: "Bearer \(Self.tokenA)"))
        #expect(throws: TokenError.self) { try WriteTokens(hashed: [Self.tokenA]) }
        for (text, words) in [("studies:\n  - {id: Samsø, file: \(study)}\n", "ids are 1 to 64"),
                              ("studies:\n  - {id: a, file: \(study)}\n  - {id: a, file: \(study)}\n", "given twice"),
                              ("studies:\n  - {id: a, file: nowhere.yaml}\n", "no study file"),
                              ("default: b\nstudies:\n  - {id: a, file: \(study)}\n", "no study `b`"),
                              ("studies: []\n", "names no study"),
                              ("memory: 4096\nstudies:\n  - {id: a, file: \(study)}\n", "unknown key `memory`"),
                              ("studies:\n  - {id: a, file: \(study), token: [x]}\n", "studies[0]: unknown key `token`")] {
            do {
                _ = try StudiesFile.load(path: try write(text))
                Issue.record("accepted: \(text)")
            } catch let e as StudyFileError {
                #expect(e.message.contains(words), "\(e)")
            }
        }
        // A folder of study folders, each with its tokens beside it.
        let one = folder.appendingPathComponent("tree/samsoe")
        try FileManager.default.createDirectory(at: one, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: study, toPath: one.appendingPathComponent("study.yaml").path)
        try "# editors\n\(WriteTokens.line(for: Self.tokenB))\n".write(to: one.appendingPathComponent("tokens.txt"), atomically: true, encoding: .utf8)
        let tree = try StudiesFile.load(path: folder.appendingPathComponent("tree").path)
        #expect(tree.studies.map(\.id) == ["samsoe"] && tree.studies[0].tokens == [WriteTokens.line(for: Self.tokenB)])
    }
}
