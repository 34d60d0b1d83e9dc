import Foundation
import KlyngeIO
import KlyngeNetwork
import KlyngeWork
import Synchronization

/// Writes a matrix as CSV (`from_id,to_id,distance_m,duration_s`), streaming block by block into a temporary
/// file that is renamed into place when complete. Each block is cut into parts formatted as bytes on every
/// core (no `String` per number: that was two thirds of the job), then written in order.
public enum MatrixCSV {
    public static let header = "from_id,to_id,distance_m,duration_s\n"

    public static func write(to url: URL, fromIds: [String], toIds: [String], origins: [Snap?], destinations: [Snap?],
                             graph: ModeGraph, options: MatrixOptions,
                             progress: ((Int, Int) -> Void)? = nil) throws -> MatrixSummary {
        var summary = MatrixSummary()
        let timed = graph.mode.isTimed
        let from = Cells(fromIds.map(csvCell)), to = Cells(toIds.map(csvCell))
        let threads = max(1, options.threads)
        try AtomicOutput.write(to: url) { tmp in
            guard FileManager.default.createFile(atPath: tmp.path, contents: nil),
                  let handle = try? FileHandle(forWritingTo: tmp) else {
                throw AtomicOutput.Failure(path: url.path, message: "cannot create the file")
            }
            defer { try? handle.close() }
            // Write errors are put in words by AtomicOutput (Temporaries.explain).
            try handle.write(contentsOf: Array(header.utf8))
            summary = try MatrixEngine(graph: graph).compute(origins: origins, destinations: destinations, options: options,
                                                             progress: progress) { (block: MatrixBlock) in
                let parts = block.parts(threads)
                let out = Mutex<[[UInt8]]>(Array(repeating: [], count: parts.count))
                forEachInParallel(parts.count, threads: threads) { k in
                    let bytes = format(parts[k], from: from, to: to, timed: timed)
                    out.withLock { $0[k] = bytes }
                }
                for bytes in out.withLock({ $0 }) { try handle.write(contentsOf: bytes) }
            }
        }
        return summary
    }

    /// Ids as CSV cells, their bytes in one array (no per-row copies of strings).
    struct Cells: Sendable {
        let bytes: [UInt8]
        let start: [Int]
        let longest: Int
        init(_ cells: [String]) {
            var bytes: [UInt8] = [], start = [0]
            for c in cells { bytes += c.utf8; start.append(bytes.count) }
            self.bytes = bytes
            self.start = start
            longest = zip(start.dropFirst(), start).map { $0 - $1 }.max() ?? 0
        }
    }

    /// The longest number `appendFixed2` writes: sign, 17 digits, point, 2 decimals.
    static let numberBytes = 21

    /// One part's rows as UTF-8 bytes, written straight into one buffer sized for the longest row.
    static func format(_ part: MatrixBlockPart, from: Cells, to: Cells, timed: Bool) -> [UInt8] {
        let rowBytes = from.longest + to.longest + 2 * numberBytes + 4
        return [UInt8](unsafeUninitializedCapacity: part.count * rowBytes) { buffer, initialized in
            var p = 0
            let out = buffer.baseAddress!
            from.bytes.withUnsafeBufferPointer { fb in
            to.bytes.withUnsafeBufferPointer { tb in
            from.start.withUnsafeBufferPointer { fs in
            to.start.withUnsafeBufferPointer { ts in
                part.forEachRaw { o, d, cost, meters in
                    // Ids are short: a byte loop beats a call to memmove.
                    for i in fs[o]..<fs[o + 1] { out[p] = fb[i]; p += 1 }
                    out[p] = UInt8(ascii: ","); p += 1
                    for i in ts[d]..<ts[d + 1] { out[p] = tb[i]; p += 1 }
                    out[p] = UInt8(ascii: ","); p += 1
                    if !cost.isNaN {
                        p = writeFixed2(meters, out, p)
                        out[p] = UInt8(ascii: ","); p += 1
                        if timed { p = writeFixed2(cost, out, p) }
                    } else {
                        out[p] = UInt8(ascii: ","); p += 1
                    }
                    out[p] = UInt8(ascii: "\n"); p += 1
                }
            }}}}
            initialized = p
        }
    }

    /// A number with two decimals, rounded half away from zero (as the hundredths are), digit by digit
    /// into `out` at `start`; returns the position after it. Values beyond ±10¹⁵ (no travel cost is) are clamped.
    @inline(__always)
    static func writeFixed2(_ v: Double, _ out: UnsafeMutablePointer<UInt8>, _ start: Int) -> Int {
        var p = start
        let x = max(-1e17, min(1e17, v * 100))
        // Half away from zero without a libm call: the fraction of |x| is exact below 2⁵².
        let ax = abs(x)
        var m = UInt64(ax)
        if ax - Double(m) >= 0.5 { m += 1 }
        if x < 0 && m > 0 { out[p] = UInt8(ascii: "-"); p += 1 }
        // Digits: at least three (0.05 is 005 hundredths), the point before the last two.
        var count = 3
        var t = m / 1000
        while t > 0 { count += 1; t /= 10 }
        var q = p + count  // the point takes one byte
        p = q + 1
        var written = 0
        while written < count {
            if written == 2 { out[q] = UInt8(ascii: "."); q -= 1 }
            out[q] = UInt8(ascii: "0") + UInt8(m % 10)
            m /= 10
            q -= 1
            written += 1
        }
        return p
    }

    /// `writeFixed2` into an array (tests, small outputs).
    static func fixed2(_ v: Double) -> String {
        var out = [UInt8](repeating: 0, count: numberBytes + 1)
        let n = out.withUnsafeMutableBufferPointer { writeFixed2(v, $0.baseAddress!, 0) }
        return String(decoding: out[0..<n], as: UTF8.self)
    }

    static func csvCell(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
