import Foundation
import KlyngeIO
import KlyngeNetwork
import KlyngeWork
import Synchronization

/// Writes a matrix as CSV (`from_id,to_id,distance_m,duration_s`), streaming block by block into a temporary
/// file that is renamed into place when complete. Each block is cut into parts formatted as bytes on every
/// core (no `String` per number: that was two thirds of the job), then written in order by a writer thread
/// while the next block is searched.
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
            // Blocks are written on their own thread while the next one is searched and formatted. Queued
            // writes end before the handle closes, also when the search fails (defers run last-first).
            let writer = OrderedWriter(handle: handle)
            defer { writer.wait() }
            summary = try MatrixEngine(graph: graph).compute(origins: origins, destinations: destinations, options: options,
                                                             progress: progress) { (block: MatrixBlock) in
                let parts = block.parts(threads)
                let out = Mutex<[[UInt8]]>(Array(repeating: [], count: parts.count))
                forEachInParallel(parts.count, threads: threads) { k in
                    let bytes = format(parts[k], from: from, to: to, timed: timed)
                    out.withLock { $0[k] = bytes }
                }
                try writer.enqueue(out.withLock { $0 })
            }
            try writer.finish()
        }
        return summary
    }

    /// Writes chunks to a file in the order given, on a thread of its own; at most `depth` batches wait, so
    /// memory stays bounded. The first write error is thrown by the next `enqueue` or by `finish`.
    final class OrderedWriter: @unchecked Sendable {
        private let handle: FileHandle
        private let queue = DispatchQueue(label: "klynge.ordered-writer")
        private let slots: DispatchSemaphore
        private let failure = Mutex<(any Error)?>(nil)

        init(handle: FileHandle, depth: Int = 2) {
            self.handle = handle
            slots = DispatchSemaphore(value: depth)
        }

        func enqueue(_ chunks: [[UInt8]]) throws {
            try rethrowFailure()
            slots.wait()
            queue.async { [self] in
                defer { slots.signal() }
                guard failure.withLock({ $0 == nil }) else { return }
                do {
                    for c in chunks { try handle.write(contentsOf: c) }
                } catch {
                    failure.withLock { $0 = error }
                }
            }
        }

        /// Waits for every queued write.
        func wait() { queue.sync {} }

        /// Waits for every queued write, and throws the first that failed.
        func finish() throws {
            wait()
            try rethrowFailure()
        }

        private func rethrowFailure() throws {
            if let error = failure.withLock({ $0 }) { throw error }
        }
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
            digitPairs.withUnsafeBufferPointer { pairBuffer in
                let pairs = pairBuffer.baseAddress!
                part.forEachRaw { o, d, cost, meters in
                    // Ids are short: a byte loop beats a call to memmove.
                    for i in fs[o]..<fs[o + 1] { out[p] = fb[i]; p += 1 }
                    out[p] = UInt8(ascii: ","); p += 1
                    for i in ts[d]..<ts[d + 1] { out[p] = tb[i]; p += 1 }
                    out[p] = UInt8(ascii: ","); p += 1
                    if !cost.isNaN {
                        p = writeFixed2(meters, out, p, pairs)
                        out[p] = UInt8(ascii: ","); p += 1
                        if timed { p = writeFixed2(cost, out, p, pairs) }
                    } else {
                        out[p] = UInt8(ascii: ","); p += 1
                    }
                    out[p] = UInt8(ascii: "\n"); p += 1
                }
            }}}}}
            initialized = p
        }
    }

    /// "00" "01" … "99": two digits per division halves the divisions of a digit-by-digit loop.
    static let digitPairs: [UInt8] = (0..<100).flatMap { [UInt8(ascii: "0") + UInt8($0 / 10), UInt8(ascii: "0") + UInt8($0 % 10)] }

    /// A number with two decimals, rounded half away from zero (as the hundredths are), into `out` at `start`;
    /// returns the position after it. `pairs` is `digitPairs`. Values beyond ±10¹⁵ (no travel cost is) are clamped.
    @inline(__always)
    static func writeFixed2(_ v: Double, _ out: UnsafeMutablePointer<UInt8>, _ start: Int, _ pairs: UnsafePointer<UInt8>) -> Int {
        var p = start
        let x = max(-1e17, min(1e17, v * 100))
        // Half away from zero without a libm call: the fraction of |x| is exact below 2⁵².
        let ax = abs(x)
        var m = UInt64(ax)
        if ax - Double(m) >= 0.5 { m += 1 }
        if x < 0 && m > 0 { out[p] = UInt8(ascii: "-"); p += 1 }
        var whole = m / 100
        let cents = Int(m - whole * 100)
        var digits = 1
        var limit: UInt64 = 10
        while whole >= limit { digits += 1; limit &*= 10 }  // whole < 10¹⁶: no overflow
        // The whole part from its last digit back, two at a time; then the point and the hundredths.
        var e = p + digits
        out[e] = UInt8(ascii: ".")
        out[e + 1] = pairs[2 * cents]
        out[e + 2] = pairs[2 * cents + 1]
        let end = e + 3
        while whole >= 100 {
            let r = Int(whole % 100)
            whole /= 100
            e -= 2
            out[e] = pairs[2 * r]
            out[e + 1] = pairs[2 * r + 1]
        }
        if whole >= 10 {
            out[e - 2] = pairs[2 * Int(whole)]
            out[e - 1] = pairs[2 * Int(whole) + 1]
        } else {
            out[e - 1] = UInt8(ascii: "0") + UInt8(whole)
        }
        return end
    }

    /// `writeFixed2` into an array (tests, small outputs).
    static func fixed2(_ v: Double) -> String {
        var out = [UInt8](repeating: 0, count: numberBytes + 1)
        let n = out.withUnsafeMutableBufferPointer { o in
            digitPairs.withUnsafeBufferPointer { writeFixed2(v, o.baseAddress!, 0, $0.baseAddress!) }
        }
        return String(decoding: out[0..<n], as: UTF8.self)
    }

    static func csvCell(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
