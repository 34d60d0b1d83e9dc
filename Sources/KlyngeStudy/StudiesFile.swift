import Foundation
import Yams

/// The studies one service serves (`klynge serve --studies`): a YAML file, or a folder whose subfolders each hold a
/// `study.yaml` (the folder's name is the study's id; a `tokens.txt` beside it, if any, holds its write tokens).
///
/// ```yaml
/// store: postgresql://klynge@db.kommune.dk/klynge   # optional: one shared store, each study under its id
/// memory_mb: 4096                                   # optional: loaded studies beyond this are unloaded, least used first
/// default: samsoe                                   # optional: also served at the top-level paths
/// studies:
///   - id: samsoe
///     file: samsoe/study.yaml                       # relative to this file
///     tokens: [sha256:5e88…]                         # digests only (klynge token new); none: read-only
///   - id: bornholm
///     file: ../bornholm/study.yaml
///     store: ../bornholm/scenarios.gpkg             # optional, this study's own store
/// ```
public struct StudiesFile: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var id: String
        /// The study file, as an absolute path.
        public var file: String
        /// Token lines (`sha256:<hex>`), checked by the service.
        public var tokens: [String]
        /// This study's own store (a file, relative paths made absolute, or a database).
        public var store: String?
    }

    public var studies: [Entry]
    public var store: String?
    public var memoryMegabytes: Int?
    public var defaultStudy: String?

    /// A study id: a path segment of lowercase letters, digits and `-`, 1 to 64 characters.
    public static func isValidId(_ id: String) -> Bool {
        (1...64).contains(id.count) && id.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
            && !id.hasPrefix("-")
    }

    private struct Raw: Decodable {
        struct RawEntry: Decodable {
            var id: String
            var file: String
            var tokens: [String]?
            var store: String?
        }
        var studies: [RawEntry]
        var store: String?
        var memory_mb: Int?
        var `default`: String?
    }

    /// Reads a studies file or folder; every problem names the file and the study.
    public static func load(path: String) throws -> StudiesFile {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw StudyFileError(path: path, message: "no such studies file or folder")
        }
        let out = isFolder.boolValue ? try folder(path) : try file(path)
        try out.check(path: path)
        return out
    }

    static func file(_ path: String) throws -> StudiesFile {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw StudyFileError(path: path, message: "cannot read the studies file as UTF-8 text")
        }
        // A misspelt key (`memory: 4096`, `token:`) is refused rather than silently ignored.
        if let root = try? Yams.compose(yaml: text), let top = root.mapping {
            let known = ["store", "memory_mb", "default", "studies"], entryKeys = ["id", "file", "tokens", "store"]
            for k in top.keys.compactMap(\.string) where !known.contains(k) {
                throw StudyFileError(path: path, message: "unknown key `\(k)` (known: \(known.joined(separator: ", ")))")
            }
            for (i, entry) in (top["studies"]?.sequence ?? []).enumerated() {
                for k in entry.mapping?.keys.compactMap(\.string) ?? [] where !entryKeys.contains(k) {
                    throw StudyFileError(path: path, message: "studies[\(i)]: unknown key `\(k)` (known: \(entryKeys.joined(separator: ", ")))")
                }
            }
        }
        let raw: Raw
        do { raw = try YAMLDecoder().decode(Raw.self, from: text) } catch let e as DecodingError {
            throw StudyFileError(path: path, message: DecodingProblem.describe(e, document: "YAML"))
        } catch {
            throw StudyFileError(path: path, message: "not valid YAML: \(error)")
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        func absolute(_ p: String) -> String { p.hasPrefix("/") ? p : folder.appendingPathComponent(p).standardizedFileURL.path }
        func place(_ s: String?) -> String? {
            guard let s else { return nil }
            return s.hasPrefix("postgresql://") || s.hasPrefix("postgres://") || s.hasPrefix("PG:") ? s : absolute(s)
        }
        return StudiesFile(studies: raw.studies.map { Entry(id: $0.id, file: absolute($0.file), tokens: $0.tokens ?? [], store: place($0.store)) },
                           store: place(raw.store), memoryMegabytes: raw.memory_mb, defaultStudy: raw.default)
    }

    static func folder(_ path: String) throws -> StudiesFile {
        let base = URL(fileURLWithPath: path)
        let names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
        var entries: [Entry] = []
        for name in names {
            let study = base.appendingPathComponent(name).appendingPathComponent("study.yaml")
            guard FileManager.default.fileExists(atPath: study.path) else { continue }
            let tokensFile = base.appendingPathComponent(name).appendingPathComponent("tokens.txt")
            let tokens = (try? String(contentsOf: tokensFile, encoding: .utf8)).map {
                $0.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
            } ?? []
            entries.append(Entry(id: name, file: study.path, tokens: tokens, store: nil))
        }
        return StudiesFile(studies: entries, store: nil, memoryMegabytes: nil, defaultStudy: nil)
    }

    func check(path: String) throws {
        guard !studies.isEmpty else { throw StudyFileError(path: path, message: "names no study (a folder needs subfolders with a study.yaml)") }
        var seen = Set<String>()
        for s in studies {
            guard Self.isValidId(s.id) else {
                throw StudyFileError(path: path, message: "study id `\(s.id.prefix(80))`: ids are 1 to 64 lowercase letters, digits and `-` (they are part of the address)")
            }
            guard seen.insert(s.id).inserted else { throw StudyFileError(path: path, message: "the study id `\(s.id)` is given twice") }
            guard FileManager.default.fileExists(atPath: s.file) else { throw StudyFileError(path: path, message: "study `\(s.id)`: no study file at \(s.file)") }
        }
        if let m = memoryMegabytes, !(64...1_048_576).contains(m) {
            throw StudyFileError(path: path, message: "`memory_mb` goes from 64 to 1048576, not \(m)")
        }
        if let d = defaultStudy, !seen.contains(d) { throw StudyFileError(path: path, message: "`default`: no study `\(d)`") }
    }
}
