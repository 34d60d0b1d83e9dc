import CCrypto
import Foundation

/// The write tokens of one study, kept only as SHA-256 digests: a studies file holds `sha256:<hex>` lines
/// (`klynge token new` makes a token and its line), so no plaintext token sits on disk, and a token given on
/// the command line is hashed as it is read. A token of one study is unknown to every other.
public struct WriteTokens: Sendable {
    let digests: [[UInt8]]

    public static let none = WriteTokens(digests: [])

    init(digests: [[UInt8]]) { self.digests = digests }

    /// Tokens as given (`--token`, KLYNGE_TOKEN).
    public init(plain: [String]) {
        digests = plain.map(Self.digest)
    }

    /// Lines of a studies file: `sha256:` and 64 hex digits each.
    public init(hashed lines: [String]) throws {
        digests = try lines.map { line in
            let text = line.trimmingCharacters(in: .whitespaces)
            guard text.hasPrefix("sha256:"), text.count == 71, let bytes = Self.bytes(hex: String(text.dropFirst(7))) else {
                throw TokenError(message: "a token is written as `sha256:` and 64 hex digits (make one with `klynge token new`), not as the token itself")
            }
            return bytes
        }
    }

    /// Whether anyone may write.
    public var canWrite: Bool { !digests.isEmpty }

    /// Whether `Authorization: Bearer <token>` names one of the tokens. Digests are compared without stopping at
    /// the first difference, so timing tells nothing about them.
    func accepts(authorization: String?) -> Bool {
        guard let authorization, authorization.hasPrefix("Bearer "), authorization.utf8.count <= 1024 else { return false }
        let given = Self.digest(String(authorization.dropFirst(7)))
        var found = false
        for d in digests {
            var diff: UInt8 = 0
            for (x, y) in zip(d, given) { diff |= x ^ y }
            if diff == 0 && d.count == given.count { found = true }
        }
        return found
    }

    /// The line a studies file holds for `token`.
    public static func line(for token: String) -> String {
        "sha256:" + digest(token).map { String(format: "%02x", $0) }.joined()
    }

    static func digest(_ token: String) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var size: UInt32 = 0
        let bytes = Array(token.utf8)
        let ok = bytes.withUnsafeBytes { b in EVP_Digest(b.baseAddress, b.count, &out, &size, EVP_sha256(), nil) }
        precondition(ok == 1 && size == 32, "SHA-256 from libcrypto failed")
        return Array(out.prefix(32))
    }

    static func bytes(hex: String) -> [UInt8]? {
        let chars = Array(hex.lowercased())
        guard chars.count == 64 else { return nil }
        var out: [UInt8] = []
        for i in stride(from: 0, to: 64, by: 2) {
            guard let b = UInt8(String(chars[i...i + 1]), radix: 16) else { return nil }
            out.append(b)
        }
        return out
    }
}

public struct TokenError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}
