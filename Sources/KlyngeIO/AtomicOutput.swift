import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes outputs through a temporary file in the destination folder, renamed into place only
/// when the whole write succeeded: a failed run leaves neither a partial file nor a temporary one.
public enum AtomicOutput {
    public struct Failure: Error, CustomStringConvertible {
        public let path: String
        public let message: String
        public var description: String { "\(path): \(message)" }
        public init(path: String, message: String) {
            self.path = path
            self.message = message
        }
    }

    /// Calls `write` with a temporary path (same folder, same extension), then renames it to `url`.
    public static func write(to url: URL, _ write: (URL) throws -> Void) throws {
        try withoutActuallyEscaping(write) { try writeAll([(url, $0)]) }
    }

    /// Several outputs of one run (a map and its GeoJSON, a table and its map): every folder is checked
    /// first, each output is written to a temporary beside its place, and only when all are complete are
    /// they renamed into place. A failure leaves no new file and no temporary.
    public static func writeAll(_ outputs: [(url: URL, write: (URL) throws -> Void)]) throws {
        for o in outputs {
            let dir = o.url.deletingLastPathComponent()
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue else {
                throw Failure(path: o.url.path, message: "the folder \(dir.path) does not exist")
            }
        }
        var staged: [Staged] = []
        var current: Staged?
        do {
            for o in outputs {
                let s = Staged(o.url)
                current = s
                Temporaries.removeStale(in: s.dir)
                try o.write(s.temporary)
                staged.append(s)
            }
            current = nil
            for s in staged { try s.publish() }
        } catch {
            for s in staged + (current.map { [$0] } ?? []) { s.discard() }
            let failed = current ?? staged.last
            throw Temporaries.explain(error, path: failed?.url.path ?? "", folder: failed?.dir ?? URL(fileURLWithPath: "."))
        }
    }

    /// One output under way: its temporary (and the side files a multi-file format writes with its stem).
    struct Staged {
        let url: URL
        let dir: URL
        let stem: String
        let temporaryStem: String
        let temporary: URL

        init(_ url: URL) {
            self.url = url
            dir = url.deletingLastPathComponent()
            let ext = url.pathExtension
            stem = url.deletingPathExtension().lastPathComponent
            temporaryStem = ".\(stem)" + Temporaries.marker()
            temporary = dir.appendingPathComponent(temporaryStem + (ext.isEmpty ? "" : ".\(ext)"))
        }

        // Multi-file formats (a Shapefile's .shx, .dbf, .prj) write side files with the same stem.
        func sideFiles() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasPrefix(temporaryStem) }
        }

        func publish() throws {
            for name in sideFiles() {
                let final = dir.appendingPathComponent(stem + name.dropFirst(temporaryStem.count))
                // A folder (a published site) replaces the previous one: that is moved aside first (rename(2)
                // cannot replace a folder that has files), and removed once the new one is in place.
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path, isDirectory: &isDir), isDir.boolValue,
                   FileManager.default.fileExists(atPath: final.path) {
                    let aside = dir.appendingPathComponent(".\(stem).old" + Temporaries.marker())
                    guard rename(final.path, aside.path) == 0 else {
                        throw Failure(path: final.path, message: "cannot move the previous folder aside: \(String(cString: strerror(errno)))")
                    }
                    guard rename(dir.appendingPathComponent(name).path, final.path) == 0 else {
                        let cause = String(cString: strerror(errno))
                        _ = rename(aside.path, final.path)
                        throw Failure(path: final.path, message: "cannot move the finished folder into place: \(cause)")
                    }
                    try? FileManager.default.removeItem(at: aside)
                    continue
                }
                // rename(2) replaces an existing file atomically.
                guard rename(dir.appendingPathComponent(name).path, final.path) == 0 else {
                    throw Failure(path: final.path, message: "cannot move the finished file into place: \(String(cString: strerror(errno)))")
                }
            }
        }

        func discard() {
            for name in sideFiles() { try? FileManager.default.removeItem(at: dir.appendingPathComponent(name)) }
        }
    }

    /// Writes text to a path (a temporary of `writeAll`), naming `shown` in the error.
    public static func writeText(_ text: String, to url: URL, shown: String) throws {
        do { try Data(text.utf8).write(to: url) } catch {
            throw Failure(path: shown, message: "cannot write: \(error.localizedDescription)")
        }
    }

    /// Writes text atomically.
    public static func write(text: String, to url: URL) throws {
        try write(to: url) { tmp in
            do { try Data(text.utf8).write(to: tmp) } catch {
                throw Failure(path: url.path, message: "cannot write: \(error.localizedDescription)")
            }
        }
    }
}

/// Temporary outputs carry the writing process's id, so a later run can tell the leftovers of a killed one
/// (`kill -9`, power loss) from files another running process is still writing, and remove only those.
public enum Temporaries {
    static let tag = ".klynge-tmp-"

    /// `.klynge-tmp-<pid>-<random>`: unique per write.
    public static func marker() -> String {
        "\(tag)\(getpid())-\(UUID().uuidString.prefix(8))"
    }

    /// Removes temporaries (files, side files, staging folders) in `dir` whose process no longer runs.
    public static func removeStale(in dir: URL) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        for name in names where name.hasPrefix(".") {
            guard let r = name.range(of: tag) else { continue }
            let digits = name[r.upperBound...].prefix { $0.isNumber }
            guard let pid = Int32(digits), pid > 0, pid != getpid() else { continue }
            // kill(pid, 0) fails with ESRCH only when no such process exists.
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(at: dir.appendingPathComponent(name))
            }
        }
    }

    /// A write error in words, saying so when the disk is full (GDAL's own message then names a symptom, and
    /// Foundation's an error domain and code such as 640).
    public static func explain(_ error: Error, path: String, folder: URL) -> Error {
        var st = statvfs()
        if statvfs(folder.path, &st) == 0, UInt64(st.f_bavail) * UInt64(st.f_frsize) < 1 << 20 {
            return AtomicOutput.Failure(path: path, message: "cannot write: the disk is full")
        }
        if let e = error as? CocoaError {
            let cause = e.code == .fileWriteOutOfSpace ? "the disk is full"
                : (e.underlying as? POSIXError).map { String(cString: strerror($0.code.rawValue)) } ?? e.localizedDescription
            return AtomicOutput.Failure(path: path, message: "cannot write: \(cause)")
        }
        return error
    }
}

/// Several outputs published together (a report's files): each is written into a hidden staging folder beside
/// them, and only when every one is complete are they renamed into place, one rename each, the manifest last.
/// A failure before that changes nothing in the folder.
public final class OutputSet {
    public let folder: URL
    let staging: URL
    private(set) var names: [String] = []
    private var published = false

    public init(folder: URL) throws {
        self.folder = folder
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw AtomicOutput.Failure(path: folder.path, message: "cannot create the folder: \(error.localizedDescription)")
        }
        Temporaries.removeStale(in: folder)
        staging = folder.appendingPathComponent(".report" + Temporaries.marker())
        do {
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: false)
        } catch {
            throw AtomicOutput.Failure(path: folder.path, message: "cannot write in the folder: \(error.localizedDescription)")
        }
    }

    deinit { if !published { try? FileManager.default.removeItem(at: staging) } }

    /// Where to write `name` (a plain file name) before publishing.
    public func url(_ name: String) -> URL {
        precondition(!name.contains("/") && !name.hasPrefix("."))
        if !names.contains(name) { names.append(name) }
        return staging.appendingPathComponent(name)
    }

    public func add(text: String, name: String) throws {
        let u = url(name)
        let shown = folder.appendingPathComponent(name).path
        do { try Data(text.utf8).write(to: u) } catch {
            throw Temporaries.explain(AtomicOutput.Failure(path: shown, message: "cannot write: \(error.localizedDescription)"),
                                      path: shown, folder: folder)
        }
    }

    /// Moves every file into place, then the manifest (`manifest` names the files of the last complete set).
    /// Files the previous manifest listed that this set no longer has (a scenario since removed) are deleted.
    public func publish(manifest: String) throws {
        let previous = (try? String(contentsOf: folder.appendingPathComponent(manifest), encoding: .utf8))?
            .split(separator: "\n").map(String.init).filter { !$0.contains("/") && !$0.hasPrefix(".") && !$0.isEmpty } ?? []
        let list = names.sorted().joined(separator: "\n") + "\n"
        try add(text: list, name: manifest)
        for name in names where name != manifest {
            try move(name)
        }
        for name in previous where !names.contains(name) {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
        try move(manifest)
        published = true
        try? FileManager.default.removeItem(at: staging)
    }

    private func move(_ name: String) throws {
        let from = staging.appendingPathComponent(name), to = folder.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: from.path) else {
            throw AtomicOutput.Failure(path: to.path, message: "the file was never written")
        }
        guard rename(from.path, to.path) == 0 else {
            throw AtomicOutput.Failure(path: to.path, message: "cannot move the finished file into place: \(String(cString: strerror(errno)))")
        }
    }
}
