import Foundation

/// A coordinate reference system as the user or the data names it: `EPSG:25832`, a WKT
/// string or a PROJ string. Interpretation happens in the PROJ and GDAL bridges.
public struct CRS: Hashable, Sendable, Codable, CustomStringConvertible {
    public let definition: String

    public init(_ definition: String) {
        self.definition = definition.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public static let wgs84 = CRS("EPSG:4326")
    /// ETRS89 / UTM zone 32N: the Danish convention, Bornholm included.
    public static let etrs89UTM32 = CRS("EPSG:25832")

    public static func epsg(_ code: Int) -> CRS { CRS("EPSG:\(code)") }

    /// The EPSG code if the definition is of the form `EPSG:n`.
    public var epsgCode: Int? {
        let parts = definition.split(separator: ":")
        guard parts.count == 2, parts[0].uppercased() == "EPSG" else { return nil }
        return Int(parts[1])
    }

    public var description: String { definition }

    /// The default working CRS for data centred at a longitude/latitude: EPSG:25832 for
    /// Denmark (the national convention), otherwise the WGS 84 UTM zone of the point.
    public static func defaultWorkingCRS(forLongitude lon: Double, latitude lat: Double) -> CRS {
        if lon >= 7.5 && lon <= 15.7 && lat >= 54.4 && lat <= 58.0 { return .etrs89UTM32 }
        var zone = Int(((lon + 180) / 6).rounded(.down)) + 1
        zone = Swift.min(Swift.max(zone, 1), 60)
        // Norway and Svalbard exceptions of the UTM grid.
        if lat >= 56 && lat < 64 && lon >= 3 && lon < 12 { zone = 32 }
        if lat >= 72 && lat < 84 {
            if lon >= 0 && lon < 9 { zone = 31 } else if lon >= 9 && lon < 21 { zone = 33 }
            else if lon >= 21 && lon < 33 { zone = 35 } else if lon >= 33 && lon < 42 { zone = 37 }
        }
        return .epsg((lat >= 0 ? 32600 : 32700) + zone)
    }
}
