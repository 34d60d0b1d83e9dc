import CQREncode

/// A QR code's modules, encoded by libqrencode: `width` × `width`, row by row, true for dark.
/// The quiet zone (four light modules around it) is left to whoever draws it.
public struct QRCode: Sendable, Hashable {
    /// How much of the code may be damaged (a poster's corner torn, a smudge) and still read.
    public enum Correction: String, Sendable, CaseIterable {
        case low = "L", medium = "M", quartile = "Q", high = "H"
        var level: QRecLevel {
            switch self {
            case .low: QR_ECLEVEL_L
            case .medium: QR_ECLEVEL_M
            case .quartile: QR_ECLEVEL_Q
            case .high: QR_ECLEVEL_H
            }
        }
    }

    public let width: Int
    public let version: Int
    public let modules: [Bool]

    public struct EncodingError: Error, CustomStringConvertible, Sendable {
        public let message: String
        public var description: String { message }
    }

    /// Encodes `text` (UTF-8, as bytes) in the smallest version that holds it.
    public init(text: String, correction: Correction = .quartile) throws {
        guard !text.isEmpty else { throw EncodingError(message: "nothing to encode") }
        // 8-bit mode keeps the text's bytes exactly (a URL's case and every character).
        guard let code = QRcode_encodeString8bit(text, 0, correction.level) else {
            throw EncodingError(message: "the text is too long for a QR code (\(text.utf8.count) bytes; at most about 1,600 at this correction level)")
        }
        defer { QRcode_free(code) }
        let w = Int(code.pointee.width)
        width = w
        version = Int(code.pointee.version)
        // Bit 0 of each byte is the module's colour (1 = dark); the other bits describe its role.
        modules = (0..<(w * w)).map { code.pointee.data[$0] & 1 == 1 }
    }

    public func isDark(x: Int, y: Int) -> Bool { modules[y * width + x] }
}
