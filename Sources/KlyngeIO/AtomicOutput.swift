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
        let dir = url.deletingLastPathComponent()
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue else {
            throw Failure(path: url.path, message: "the folder \(dir.path) does not exist")
        }
        let ext = url.pathExtension
        let stem = url.deletingPathExtension().lastPathComponent
        let tmpStem = ".\(stem).klynge-tmp-\(UUID().uuidString.prefix(8))"
        let tmp = dir.appendingPathComponent(tmpStem + (ext.isEmpty ? "" : ".\(ext)"))
        // Multi-file formats (a Shapefile's .shx, .dbf, .prj) write side files with the same stem.
        func sideFiles() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasPrefix(tmpStem) }
        }
        do {
            try write(tmp)
            for name in sideFiles() {
                let final = dir.appendingPathComponent(stem + name.dropFirst(tmpStem.count))
                let from = dir.appendingPathComponent(name)
                // rename(2) replaces an existing file atomically.
                guard rename(from.path, final.path) == 0 else {
                    throw Failure(path: final.path, message: "cannot move the finished file into place: \(String(cString: strerror(errno)))")
                }
            }
        } catch {
            for name in sideFiles() { try? FileManager.default.removeItem(at: dir.appendingPathComponent(name)) }
            throw error
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
