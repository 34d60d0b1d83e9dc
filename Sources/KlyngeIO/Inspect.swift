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

public enum Inspector {
    /// Describes every layer of a source. For OSM files each layer is read in its own pass
    /// (the driver streams), so counts agree with a per-layer `ogrinfo`.
    public static func inspect(_ source: String, options: OpenOptions? = nil) throws -> SourceInfo {
        let ds = try VectorSource(source, options: options)
        let isOSM = ds.driverName == "OSM"
        var layers: [LayerInfo] = []
        for i in 0..<ds.layerCount {
            // The OSM driver serves one layer per pass: reopen for each so every count is complete.
            let src = isOSM && i > 0 ? try VectorSource(source, options: options) : ds
            let layer = try src.layer(at: i)
            let (count, env) = layer.countAndExtent()
            layers.append(LayerInfo(name: layer.name, geometryType: layer.geometryTypeName,
                                    featureCount: count, crs: layer.crs?.definition,
                                    extent: env?.array))
        }
        return SourceInfo(source: source, driver: ds.driverName, layers: layers)
    }
}
