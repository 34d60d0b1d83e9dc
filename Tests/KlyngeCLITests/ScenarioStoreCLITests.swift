import Foundation
import KlyngeTestSupport
import Testing

/// The command line and the service share one scenario store, and bad settings are refused before anything runs.
@Suite(.serialized) struct ScenarioStoreCLITests {
    let klynge = TestSupport.klyngeBinary
    let token = "proeve-token-123"

    func study(in folder: URL) throws -> String { try TestSupport.sampleStudy(in: folder) }

    func freePort() -> Int { Int.random(in: 20000...29999) }

    /// Starts `klynge serve` and waits until it answers; nil if it exited (its stderr is returned then).
    func serve(_ study: String, port: Int, extra: [String] = []) throws -> (Process?, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: klynge)
        p.arguments = ["serve", study, "--port", String(port), "--styles", TestSupport.packageRoot.appendingPathComponent("styles").path] + extra
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        for _ in 0..<150 {
            if !p.isRunning { return (nil, String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)) }
            if (try? curl(["-sf", "http://127.0.0.1:\(port)/conformance"]))?.status == 0 { return (p, "") }
            usleep(100_000)
        }
        p.terminate()
        return (nil, "did not start")
    }

    func curl(_ args: [String]) throws -> TestSupport.ProcessResult { try TestSupport.run("curl", args) }

    @Test func renderRefusesNonFiniteAndOutOfRangeSizes() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let s = try study(in: folder)
        let map = folder.appendingPathComponent("m.png").path
        for args in [["--dpi", "nan"], ["--dpi", "inf"], ["--dpi", "-5"], ["--width", "800", "--height", "600", "--dpi", "0"],
                     ["--width", "800", "--height", "600", "--dpi", "1e9"], ["--paper", "A0"], ["--width", "800"]] {
            let r = try TestSupport.run(klynge, ["render", s, "--style", "overview", "-o", map] + args)
            #expect(r.status != 0 && !r.stderr.contains("Fatal") && !FileManager.default.fileExists(atPath: map), "\(args): \(r.stderr)")
            #expect(r.stderr.contains("--") , "\(args): \(r.stderr)")
        }
    }

    @Test func serveRefusesWeakTokensFromEitherSource() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let s = try study(in: folder)
        for (env, args) in [("KLYNGE_TOKEN=   ", [String]()), ("KLYNGE_TOKEN=kort", []), ("X=1", ["--token", "kort"]), ("X=1", ["--token", "to ord her i"])] {
            let r = try TestSupport.run("env", [env, klynge, "serve", s, "--port", String(freePort())] + args)
            #expect(r.status != 0 && (r.stderr.contains("KLYNGE_TOKEN") || r.stderr.contains("--token")), "\(env) \(args): \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("study.scenarios.gpkg").path))
    }

    @Test(.enabled(if: TestSupport.isAvailable("curl"), "needs curl"))
    func theWebAndTheCommandLineShareOneStore() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let s = try study(in: folder)
        let store = folder.appendingPathComponent("study.scenarios.gpkg").path
        // An old YAML of saved scenarios is imported once, with a message.
        try TestSupport.write("- name: Fra YAML\n  close: [way/413945490]\n", to: folder.appendingPathComponent("study.scenarios.yaml"))
        let port = freePort()
        let (server, error) = try serve(s, port: port, extra: ["--token", token])
        let running = try #require(server, "\(error)")
        defer { running.terminate(); running.waitUntilExit() }
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("study.scenarios.yaml.imported").path))
        // A second writer is refused, naming the store.
        let (second, message) = try serve(s, port: freePort(), extra: ["--token", token])
        #expect(second == nil && message.contains("another klynge process"), "\(message)")
        second?.terminate()
        // Saved through the service (as the web page does) …
        let post = try curl(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "Authorization: Bearer \(token)",
                             "-H", "Content-Type: application/json", "-d", #"{"name": "Fra nettet", "close": ["node/5938809867"]}"#,
                             "http://127.0.0.1:\(port)/api/scenarios"])
        #expect(post.stdout == "201")
        // … listed and used by the command line while the service runs.
        let list = try TestSupport.run(klynge, ["scenarios", "list", s])
        #expect(list.status == 0 && list.stdout.contains("fra-nettet") && list.stdout.contains("fra-yaml"), "\(list.stdout)\(list.stderr)")
        let out = folder.appendingPathComponent("out")
        let report = try TestSupport.run(klynge, ["report", s, "--out-dir", out.path])
        #expect(report.status == 0, "\(report.stderr)")
        let summary = (try? String(contentsOf: out.appendingPathComponent("summary.md"), encoding: .utf8)) ?? ""
        #expect(summary.contains("Fra nettet") && summary.contains("Fra YAML"))
        // Writing from the command line while the service holds the store is refused, not interleaved.
        let busy = try TestSupport.run(klynge, ["scenarios", "delete", s, "fra-nettet"])
        #expect(busy.status != 0 && busy.stderr.contains("another klynge process"), "\(busy.stderr)")
        running.terminate()
        running.waitUntilExit()
        // The other way round: imported on the command line, served by the next service.
        let yaml = folder.appendingPathComponent("nye.yaml")
        try TestSupport.write("- name: Fra kommandolinjen\n  close: [way/463402465]\n- name: Forkert\n  close: [way/0]\n", to: yaml)
        let bad = try TestSupport.run(klynge, ["scenarios", "import", s, yaml.path])
        #expect(bad.status != 0 && bad.stderr.contains("way/0"), "\(bad.stderr)")
        try TestSupport.write("- name: Fra kommandolinjen\n  close: [way/463402465]\n", to: yaml)
        let good = try TestSupport.run(klynge, ["scenarios", "import", s, yaml.path])
        #expect(good.status == 0, "\(good.stderr)")
        let port2 = freePort()
        let (again, error2) = try serve(s, port: port2)
        let readOnly = try #require(again, "\(error2)")
        defer { readOnly.terminate(); readOnly.waitUntilExit() }
        let listed = try curl(["-s", "http://127.0.0.1:\(port2)/api/scenarios"])
        #expect(listed.stdout.contains("fra-kommandolinjen") && listed.stdout.contains("fra-nettet"), "\(listed.stdout)")
        let exported = folder.appendingPathComponent("ud.yaml").path
        #expect(try TestSupport.run(klynge, ["scenarios", "export", s, "-o", exported, "fra-nettet"]).status == 0)
        #expect(((try? String(contentsOfFile: exported, encoding: .utf8)) ?? "").contains("node/5938809867"))
        #expect(FileManager.default.fileExists(atPath: store))
    }
}
