import Foundation

public enum WKBError: Error, Equatable, CustomStringConvertible {
    case truncated(offset: Int)
    case unsupportedType(UInt32)
    case invalidByteOrder(UInt8)

    public var description: String {
        switch self {
        case .truncated(let o): "WKB ends early at byte \(o)"
        case .unsupportedType(let t): "unsupported WKB geometry type \(t)"
        case .invalidByteOrder(let b): "invalid WKB byte-order mark \(b)"
        }
    }
}

/// Well-known binary: the interchange between the value types and GDAL/GEOS.
/// Reads ISO and EWKB 2-D, Z, M and ZM variants (dropping Z and M); writes 2-D little-endian ISO.
public enum WKB {
    public static func decode(_ bytes: [UInt8]) throws -> Geometry {
        var reader = Reader(bytes: bytes)
        return try reader.geometry()
    }

    public static func encode(_ geometry: Geometry) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        write(geometry, into: &out)
        return out
    }

    private static func write(_ g: Geometry, into out: inout [UInt8]) {
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func f64(_ v: Double) { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        func coords(_ cs: [Coordinate]) { u32(UInt32(cs.count)); for c in cs { f64(c.x); f64(c.y) } }
        func header(_ type: UInt32) { out.append(1); u32(type) }
        switch g {
        case .point(let c): header(1); f64(c.x); f64(c.y)
        case .lineString(let cs): header(2); coords(cs)
        case .polygon(let rings): header(3); u32(UInt32(rings.count)); rings.forEach(coords)
        case .multiPoint(let cs):
            header(4); u32(UInt32(cs.count)); cs.forEach { write(.point($0), into: &out) }
        case .multiLineString(let ls):
            header(5); u32(UInt32(ls.count)); ls.forEach { write(.lineString($0), into: &out) }
        case .multiPolygon(let ps):
            header(6); u32(UInt32(ps.count)); ps.forEach { write(.polygon($0), into: &out) }
        case .collection(let gs):
            header(7); u32(UInt32(gs.count)); gs.forEach { write($0, into: &out) }
        }
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset = 0
        var littleEndian = true
        var dims = 2

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func u8() throws -> UInt8 {
            guard offset < bytes.count else { throw WKBError.truncated(offset: offset) }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func u32() throws -> UInt32 {
            guard offset + 4 <= bytes.count else { throw WKBError.truncated(offset: offset) }
            var v: UInt32 = 0
            for i in 0..<4 { v |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
            offset += 4
            return littleEndian ? v : v.byteSwapped
        }

        mutating func f64() throws -> Double {
            guard offset + 8 <= bytes.count else { throw WKBError.truncated(offset: offset) }
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
            offset += 8
            return Double(bitPattern: littleEndian ? v : v.byteSwapped)
        }

        mutating func coordinate() throws -> Coordinate {
            let x = try f64(), y = try f64()
            for _ in 2..<dims { _ = try f64() }
            return Coordinate(x: x, y: y)
        }

        mutating func coordinates() throws -> [Coordinate] {
            let n = Int(try u32())
            guard n <= (bytes.count - offset) / 16 + 1 else { throw WKBError.truncated(offset: offset) }
            var cs: [Coordinate] = []
            cs.reserveCapacity(n)
            for _ in 0..<n { cs.append(try coordinate()) }
            return cs
        }

        mutating func geometry() throws -> Geometry {
            let order = try u8()
            guard order <= 1 else { throw WKBError.invalidByteOrder(order) }
            littleEndian = order == 1
            var type = try u32()
            // EWKB flags.
            var hasZ = type & 0x8000_0000 != 0, hasM = type & 0x4000_0000 != 0
            if type & 0x2000_0000 != 0 { _ = try u32() }  // SRID
            type &= 0x0FFF_FFFF
            // ISO offsets.
            switch type / 1000 {
            case 1: hasZ = true
            case 2: hasM = true
            case 3: hasZ = true; hasM = true
            default: break
            }
            type %= 1000
            dims = 2 + (hasZ ? 1 : 0) + (hasM ? 1 : 0)
            switch type {
            case 1:
                let c = try coordinate()
                // An empty point is written as NaN, NaN.
                return c.isFinite ? .point(c) : .multiPoint([])
            case 2: return .lineString(try coordinates())
            case 3:
                let n = Int(try u32())
                var rings: [[Coordinate]] = []
                for _ in 0..<n { rings.append(try coordinates()) }
                return .polygon(rings)
            case 4, 5, 6, 7:
                let n = Int(try u32())
                var parts: [Geometry] = []
                for _ in 0..<n {
                    let saveEndian = littleEndian
                    parts.append(try geometry())
                    littleEndian = saveEndian
                }
                switch type {
                case 4: return .multiPoint(parts.flatMap { $0.pointParts })
                case 5: return .multiLineString(parts.flatMap { $0.lineParts })
                case 6: return .multiPolygon(parts.flatMap { $0.polygons })
                default: return .collection(parts)
                }
            default:
                throw WKBError.unsupportedType(type)
            }
        }
    }
}
