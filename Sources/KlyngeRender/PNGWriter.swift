import CZlib
import Dispatch
import Foundation
import Synchronization
import KlyngeWork

/// A PNG encoder for Cairo's ARGB32 surfaces, faster than Cairo's own for large print maps: rows are
/// filtered (Sub) and deflated at a fast level in bands on all cores, the bands joined into one valid
/// zlib stream (each band ends on a full flush, as pigz does); the resolution goes into a pHYs chunk.
/// Opaque images are written as RGB.
enum PNGWriter {
    /// `opaque`: the caller knows every pixel is opaque (a painted page); otherwise it is checked.
    static func write(argb data: UnsafePointer<UInt8>, width: Int, height: Int, stride: Int, dpi: Double, opaque known: Bool = false,
                      threads: Int = coreCount, control: WorkControl = .unlimited, to path: String) throws {
        // Opaque if every alpha byte is 255 (ARGB32 is native-endian: alpha is byte 3 on little-endian).
        var opaque = true
        for y in 0..<height where opaque && !known {
            let row = data + y * stride
            for x in 0..<width where row[x * 4 + 3] != 255 { opaque = false; break }
        }
        let channels = opaque ? 3 : 4
        let rowBytes = 1 + width * channels
        let bands = max(1, min(height / 64, max(1, threads) * 4))
        let rowsPerBand = (height + bands - 1) / bands
        let outputs = OutputBox(count: bands)
        let source = PixelBox(data)
        forEachInParallel(bands, threads: threads) { b in
            guard !control.isStopped else { return }
            let data = source.data
            let y0 = b * rowsPerBand, y1 = min(height, y0 + rowsPerBand)
            guard y0 < y1 else { return }
            var raw = [UInt8](repeating: 0, count: (y1 - y0) * rowBytes)
            raw.withUnsafeMutableBufferPointer { out in
                let dst = out.baseAddress!
                for y in y0..<y1 {
                    let src = data + y * stride
                    let o = dst + (y - y0) * rowBytes
                    o[0] = 1  // filter: Sub (each byte minus the same channel of the pixel to its left)
                    if channels == 3 {
                        var pr: UInt8 = 0, pg: UInt8 = 0, pb: UInt8 = 0
                        var q = o + 1
                        for x in 0..<width {
                            let s4 = src + x * 4
                            let r = s4[2], g = s4[1], bl = s4[0]
                            q[0] = r &- pr; q[1] = g &- pg; q[2] = bl &- pb
                            pr = r; pg = g; pb = bl
                            q += 3
                        }
                    } else {
                        var prev: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
                        for x in 0..<width {
                            // Un-premultiply and reorder BGRA → RGBA.
                            let bl = src[x * 4], g = src[x * 4 + 1], r = src[x * 4 + 2], a = src[x * 4 + 3]
                            var px = (r, g, bl, a)
                            if a != 255 && a != 0 {
                                func un(_ c: UInt8) -> UInt8 { UInt8(min(255, (Int(c) * 255 + Int(a) / 2) / Int(a))) }
                                px = (un(r), un(g), un(bl), a)
                            }
                            let p = o + 1 + x * 4
                            p[0] = px.0 &- prev.0; p[1] = px.1 &- prev.1; p[2] = px.2 &- prev.2; p[3] = px.3 &- prev.3
                            prev = px
                        }
                    }
                }
            }
            outputs.set(b, deflateBand(raw, last: y1 == height), adler: raw.withUnsafeBufferPointer {
                UInt32(adler32(1, $0.baseAddress, uInt($0.count)))
            }, length: raw.count)
        }
        try control.check()
        // The zlib stream: header, the bands' raw deflate data, the Adler-32 of all filtered bytes.
        var stream = Data([0x78, 0x01])
        var adler: UInt32 = 1
        for b in 0..<bands where outputs.lengths[b] > 0 {
            stream.append(outputs.data[b])
            adler = UInt32(adler32_combine(uLong(adler), uLong(outputs.adlers[b]), off_t(outputs.lengths[b])))
        }
        stream.append(contentsOf: be(adler))
        var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        chunk("IHDR", be(UInt32(width)) + be(UInt32(height)) + [8, opaque ? 2 : 6, 0, 0, 0], into: &png)
        let ppm = UInt32((dpi / 0.0254).rounded())
        chunk("pHYs", be(ppm) + be(ppm) + [1], into: &png)
        chunk("IDAT", [UInt8](stream), into: &png)
        chunk("IEND", [], into: &png)
        guard FileManager.default.createFile(atPath: path, contents: png) else {
            throw RenderError("cannot write \(path)")
        }
    }

    /// Raw deflate of one band at level 1; a full flush ends every band but the last.
    static func deflateBand(_ input: [UInt8], last: Bool) -> Data {
        var zs = z_stream()
        _ = deflateInit2_(&zs, 1, Z_DEFLATED, -15, 8, Z_RLE, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        defer { deflateEnd(&zs) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&zs, uLong(input.count))) + 64)
        var produced = 0
        input.withUnsafeBufferPointer { inBuf in
            out.withUnsafeMutableBufferPointer { outBuf in
                zs.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
                zs.avail_in = uInt(inBuf.count)
                zs.next_out = outBuf.baseAddress
                zs.avail_out = uInt(outBuf.count)
                _ = deflate(&zs, last ? Z_FINISH : Z_FULL_FLUSH)
                produced = outBuf.count - Int(zs.avail_out)
            }
        }
        return Data(out[0..<produced])
    }

    static func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    static func chunk(_ type: String, _ body: [UInt8], into png: inout Data) {
        let typed = Array(type.utf8) + body
        png.append(contentsOf: be(UInt32(body.count)))
        png.append(contentsOf: typed)
        let crc = typed.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
        png.append(contentsOf: be(crc))
    }

    /// The surface's pixels, only read by the workers.
    final class PixelBox: @unchecked Sendable {
        let data: UnsafePointer<UInt8>
        init(_ data: UnsafePointer<UInt8>) { self.data = data }
    }

    /// Each band's output, written by the worker that owns the band.
    final class OutputBox: Sendable {
        struct Bands: Sendable {
            var data: [Data]
            var adlers: [UInt32]
            var lengths: [Int]
        }
        let bands: Mutex<Bands>
        init(count: Int) {
            bands = Mutex(Bands(data: Array(repeating: Data(), count: count), adlers: Array(repeating: 1, count: count),
                                lengths: Array(repeating: 0, count: count)))
        }
        func set(_ i: Int, _ d: Data, adler: UInt32, length: Int) {
            bands.withLock { b in
                b.data[i] = d
                b.adlers[i] = adler
                b.lengths[i] = length
            }
        }
        var data: [Data] { bands.withLock { $0.data } }
        var adlers: [UInt32] { bands.withLock { $0.adlers } }
        var lengths: [Int] { bands.withLock { $0.lengths } }
    }
}
