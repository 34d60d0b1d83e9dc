import Foundation
import KlyngeIO
import KlyngeNetwork

/// Writes a matrix as CSV (`from_id,to_id,distance_m,duration_s`), streaming block by block into
/// a temporary file that is renamed into place when complete.
public enum MatrixCSV {
    public static let header = "from_id,to_id,distance_m,duration_s\n"

    public static func write(to url: URL, fromIds: [String], toIds: [String], origins: [Snap?], destinations: [Snap?],
                             graph: ModeGraph, options: MatrixOptions,
                             progress: ((Int, Int) -> Void)? = nil) throws -> MatrixSummary {
        var summary = MatrixSummary()
        let timed = graph.mode.isTimed
        let fromCells = fromIds.map(csvCell), toCells = toIds.map(csvCell)
        try AtomicOutput.write(to: url) { tmp in
            guard FileManager.default.createFile(atPath: tmp.path, contents: nil),
                  let handle = try? FileHandle(forWritingTo: tmp) else {
                throw AtomicOutput.Failure(path: url.path, message: "cannot create the file")
            }
            defer { try? handle.close() }
            var buffer = header
            buffer.reserveCapacity(1 << 20)
            func flush() throws {
                try handle.write(contentsOf: Data(buffer.utf8))
                buffer.removeAll(keepingCapacity: true)
            }
            summary = try MatrixEngine(graph: graph).compute(origins: origins, destinations: destinations, options: options,
                                                             progress: progress) { (block: MatrixBlock) in
                try block.forEach { o, d, cost in
                    buffer += fromCells[o]
                    buffer += ","
                    buffer += toCells[d]
                    if let c = cost {
                        buffer += ","
                        buffer += fixed2(c.meters)
                        buffer += ","
                        if timed { buffer += fixed2(c.cost) }
                        buffer += "\n"
                    } else {
                        buffer += ",,\n"
                    }
                    if buffer.utf8.count > 1 << 20 { try flush() }
                }
            }
            try flush()
        }
        return summary
    }

    /// A number with two decimals, without Foundation's formatter in the hot loop.
    static func fixed2(_ v: Double) -> String {
        let hundredths = Int64((v * 100).rounded())
        let whole = hundredths / 100, frac = abs(hundredths % 100)
        let sign = hundredths < 0 && whole == 0 ? "-" : ""
        return sign + String(whole) + (frac < 10 ? ".0" : ".") + String(frac)
    }

    static func csvCell(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
