import CGEOS
import KlyngeGeo

/// An error reported by GEOS, with GEOS's own message.
public struct GEOSError: Error, CustomStringConvertible, Equatable {
    public let operation: String
    public let message: String
    public var description: String { "GEOS \(operation) failed: \(message)" }
}

/// Collects the messages GEOS sends through its handler for one context.
final class MessageBox {
    var lastError: String?
}

/// One GEOS context (`GEOS_init_r`). Not shared across threads: make one per task.
/// Every operation takes and returns value types; GEOS handles never leave this module.
public final class GEOSContext {
    let handle: GEOSContextHandle_t
    private let box = MessageBox()

    public init() throws {
        guard let h = GEOS_init_r() else {
            throw GEOSError(operation: "init", message: "GEOS_init_r returned NULL")
        }
        handle = h
        let userdata = Unmanaged.passUnretained(box).toOpaque()
        let handler: GEOSMessageHandler_r = { message, userdata in
            guard let userdata, let message else { return }
            let box = Unmanaged<MessageBox>.fromOpaque(userdata).takeUnretainedValue()
            box.lastError = String(cString: message)
        }
        GEOSContext_setErrorMessageHandler_r(h, handler, userdata)
        // Notices (e.g. "Self-intersection at …") are kept too; validity reasons come from GEOSisValidReason_r.
        GEOSContext_setNoticeMessageHandler_r(h, { _, _ in }, nil)
    }

    deinit {
        GEOS_finish_r(handle)
    }

    func error(_ operation: String) -> GEOSError {
        let msg = box.lastError ?? "unknown error"
        box.lastError = nil
        return GEOSError(operation: operation, message: msg)
    }

    // MARK: conversion (WKB both ways keeps this module small and exact)

    func make(_ geometry: Geometry) throws -> GEOSHandle {
        let wkb = WKB.encode(geometry)
        guard let reader = GEOSWKBReader_create_r(handle) else { throw error("WKB reader") }
        defer { GEOSWKBReader_destroy_r(handle, reader) }
        let g = wkb.withUnsafeBufferPointer { GEOSWKBReader_read_r(handle, reader, $0.baseAddress, $0.count) }
        guard let g else { throw error("WKB read") }
        return GEOSHandle(context: self, pointer: g)
    }

    func value(_ g: GEOSHandle) throws -> Geometry {
        guard let writer = GEOSWKBWriter_create_r(handle) else { throw error("WKB writer") }
        defer { GEOSWKBWriter_destroy_r(handle, writer) }
        GEOSWKBWriter_setOutputDimension_r(handle, writer, 2)
        GEOSWKBWriter_setByteOrder_r(handle, writer, Int32(GEOS_WKB_NDR.rawValue))
        var size = 0
        guard let buf = GEOSWKBWriter_write_r(handle, writer, g.pointer, &size) else { throw error("WKB write") }
        defer { GEOSFree_r(handle, buf) }
        let bytes = Array(UnsafeBufferPointer(start: buf, count: size))
        do { return try WKB.decode(bytes) } catch {
            throw GEOSError(operation: "WKB decode", message: "\(error)")
        }
    }

    func owned(_ p: OpaquePointer?, _ operation: String) throws -> GEOSHandle {
        guard let p else { throw error(operation) }
        return GEOSHandle(context: self, pointer: p)
    }

    func predicate(_ r: CChar, _ operation: String) throws -> Bool {
        switch r {
        case 1: return true
        case 0: return false
        default: throw error(operation)
        }
    }
}

/// Owns one GEOS geometry; keeps its context alive.
final class GEOSHandle {
    let context: GEOSContext
    let pointer: OpaquePointer

    init(context: GEOSContext, pointer: OpaquePointer) {
        self.context = context
        self.pointer = pointer
    }

    deinit {
        GEOSGeom_destroy_r(context.handle, pointer)
    }
}
