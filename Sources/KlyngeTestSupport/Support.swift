import Foundation

/// Paths, temporary folders and subprocesses for the tests.
public enum TestSupport {
    /// The package root, found from this file's location.
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func data(_ relative: String) -> String {
        packageRoot.appendingPathComponent("data").appendingPathComponent(relative).path
    }

    /// A new empty folder, removed by the caller with `cleanup`.
    public static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("klynge-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A copy of the sample's study file in `folder`, its sources pointing at the bundled data, so that
    /// whatever a test saves beside the study (the scenario store) stays in its own folder.
    public static func sampleStudy(in folder: URL) throws -> String {
        let text = try String(contentsOfFile: data("samsoe/study.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "source: ", with: "source: \(data("samsoe"))/")
            .replacingOccurrences(of: "surveys: [survey.yaml]", with: "surveys: [\(data("samsoe"))/survey.yaml]")
        let path = folder.appendingPathComponent("study.yaml")
        try write(text, to: path)
        return path.path
    }

    public static func write(_ text: String, to url: URL) throws {
        try Data(text.utf8).write(to: url)
    }

    /// The built `klynge` executable next to the test runner (or in .build/debug).
    public static var klyngeBinary: String {
        let besideRunner = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("klynge").path
        if FileManager.default.isExecutableFile(atPath: besideRunner) { return besideRunner }
        return packageRoot.appendingPathComponent(".build/debug/klynge").path
    }

    public struct ProcessResult {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs a program (looked up on PATH when not a path) and collects its output.
    public static func run(_ program: String, _ arguments: [String], in folder: URL? = nil) throws -> ProcessResult {
        let p = Process()
        if program.contains("/") {
            p.executableURL = URL(fileURLWithPath: program)
            p.arguments = arguments
        } else {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = [program] + arguments
        }
        if let folder { p.currentDirectoryURL = folder }
        // stdout through a pipe, stderr through a file: neither can fill up and block the child.
        let out = Pipe()
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("klynge-stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errURL) }
        let errHandle = try FileHandle(forWritingTo: errURL)
        p.standardOutput = out
        p.standardError = errHandle
        try p.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        try? errHandle.close()
        let errData = (try? Data(contentsOf: errURL)) ?? Data()
        return ProcessResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }

    public static func isAvailable(_ program: String) -> Bool {
        (try? run("sh", ["-c", "command -v \(program)"]))?.status == 0
    }
}
