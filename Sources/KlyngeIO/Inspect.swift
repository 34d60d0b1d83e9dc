import Foundation
import KlyngeGeo

/// What `klynge inspect` reports for one layer.
public struct LayerInfo: Hashable, Sendable, Codable {
    public var name: String
    public var geometryType: String
    public var featureCount: Int
    /// `EPSG:n` where known, else the CRS as WKT, nil when the layer has no CRS.
    public var crs: String?
    /// [minx, miny, maxx, maxy] in the layer's CRS, x = easting/longitude; nil for an empty layer.
    public var extent: [Double]?
}

public struct SourceInfo: Hashable, Sendable, Codable {
    public var source: String
    public var driver: String
    public var layers: [LayerInfo]
}

/// OSM extracts as GDAL reads them.
public enum OSMFiles {
    public static let suffixes = [".osm.pbf", ".pbf", ".osm", ".osm.gz", ".osm.bz2"]

    public static func isOSM(_ path: String) -> Bool {
        let lower = path.lowercased()
        return suffixes.contains { lower.hasSuffix($0) }
    }

    /// GDAL reads gzip through /vsigzip/.
    public static func gdalPath(_ path: String) -> String {
        path.lowercased().hasSuffix(".gz") && !path.hasPrefix("/vsi") ? "/vsigzip/" + path : path
    }

    /// The driver's fast node index needs ascending node ids; JOSM and Overpass exports may have them in any
    /// order (and negative ids), and GDAL then stops with a hint to turn the index off.
    public static func needsPlainIndex(_ error: Error) -> Bool {
        "\(error)".contains("OSM_USE_CUSTOM_INDEXING")
    }

    /// Runs `body` with the fast index, and again without it when the file's node ids need that.
    public static func withIndexFallback<T>(_ base: OpenOptions, _ body: (OpenOptions) throws -> T) throws -> T {
        var fast = base
        fast.driverOptions = base.driverOptions.filter { !$0.hasPrefix("USE_CUSTOM_INDEXING=") } + ["USE_CUSTOM_INDEXING=YES"]
        do {
            return try body(fast)
        } catch where needsPlainIndex(error) {
            var plain = base
            plain.driverOptions = base.driverOptions.filter { !$0.hasPrefix("USE_CUSTOM_INDEXING=") } + ["USE_CUSTOM_INDEXING=NO"]
            return try body(plain)
        }
    }
}

public enum Inspector {
    /// Describes every layer of a source. For OSM files each layer is read in its own pass
    /// (the driver streams), so counts agree with a per-layer `ogrinfo`.
    public static func inspect(_ source: String, options: OpenOptions? = nil) throws -> SourceInfo {
        guard OSMFiles.isOSM(source) else { return try inspectOnce(source, options: options) }
        let info = try OSMFiles.withIndexFallback(options ?? OpenOptions(allowedDrivers: ["OSM"])) {
            try inspectOnce(OSMFiles.gdalPath(source), options: $0)
        }
        return SourceInfo(source: source, driver: info.driver, layers: info.layers)
    }

    static func inspectOnce(_ source: String, options: OpenOptions?) throws -> SourceInfo {
        let ds = try VectorSource(source, options: options)
        let isOSM = ds.driverName == "OSM"
        var layers: [LayerInfo] = []
        for i in 0..<ds.layerCount {
            // The OSM driver serves one layer per pass: reopen for each so every count is complete.
            let src = isOSM && i > 0 ? try VectorSource(source, options: options) : ds
            let layer = try src.layer(at: i)
            let (count, env) = try layer.countAndExtent()
            layers.append(LayerInfo(name: layer.name, geometryType: layer.geometryTypeName,
                                    featureCount: count, crs: layer.crs?.definition,
                                    extent: env?.array))
        }
        return SourceInfo(source: source, driver: ds.driverName, layers: layers)
    }
}
