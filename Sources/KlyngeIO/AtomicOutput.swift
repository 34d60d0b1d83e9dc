import Foundation

/// Writes outputs through a temporary file in the destination folder, renamed into place only
/// when the whole write succeeded: a failed run leaves neither a partial file nor a temporary one.
public enum AtomicOutput {
    public struct Failure: Error, CustomStringConvertible {
        public let path: String
        public let message: String
        public var description: String { "\(path): \(message)" }
    }

    /// Calls `write` with a temporary path (same folder, same extension), then renames it to `url`.
    public static func write(to url: URL, _ write: (URL) throws -> Void) throws {
        let dir = url.deletingLastPathComponent()
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue else {
            throw Failure(path: url.path, message: "the folder \(dir.path) does not exist")
        }
        let ext = url.pathExtension
        let tmpName = ".\(url.deletingPathExtension().lastPathComponent).klynge-tmp-\(UUID().uuidString.prefix(8))"
            + (ext.isEmpty ? "" : ".\(ext)")
        let tmp = dir.appendingPathComponent(tmpName)
        do {
            try write(tmp)
            if FileManager.default.fileExists(atPath: url.path) {
                _ = try FileManager.default.replaceItemAt(url, withItemAt: tmp)
            } else {
                try FileManager.default.moveItem(at: tmp, to: url)
            }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            // Some drivers leave side files (journals) next to the temporary file.
            for suffix in ["-journal", "-wal", "-shm"] {
                try? FileManager.default.removeItem(atPath: tmp.path + suffix)
            }
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
