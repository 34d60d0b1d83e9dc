import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One writer per store: an exclusive advisory lock on `<store>.lock`, held for as long as this value
/// lives (a service holds it for its whole life). A second writer is refused with the holder's pid, so two
/// processes can never interleave their writes and lose acknowledged saves.
public final class StoreLock: @unchecked Sendable {
    public let path: String
    private let fd: Int32

    public init(storePath: String) throws {
        path = storePath + ".lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StoreError(path: path, message: "cannot make the store's lock file (\(String(cString: strerror(errno)))): "
                             + "the folder must be writable to save scenarios; give --store in a writable folder, or start without a token (read-only)")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buffer, 31, 0)
            let holder = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "?"
            close(fd)
            throw StoreError(path: storePath, message: "another klynge process (pid \(holder)) is writing to this scenario store; "
                             + "stop it, save through it, or give another --store")
        }
        self.fd = fd
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit {
        _ = ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
    }
}
