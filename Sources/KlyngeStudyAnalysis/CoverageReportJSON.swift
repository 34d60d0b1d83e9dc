import Foundation
import KlyngeGeo
import KlyngeIngest

extension CoverageReport {
    /// The report as JSON with sorted keys: the same document `JSONEncoder` gives, written directly. The
    /// village rows dominate a kommune-sized answer and Foundation's encoder writes them at about 30 MB/s,
    /// too slow for a what-if answered on every click; the small parts still go through the encoder.
    public func jsonText() throws -> String {
        var out = "{\"areas\":"
        out += try JSONText.encode(areas)
        out += ",\"categories\":"
        out += try JSONText.encode(categories)
        out += ",\"notes\":" + (try JSONText.encode(notes))
        out += ",\"points\":["
        out.reserveCapacity(out.utf8.count + points.count * (120 + 160 * (points.first?.categories.count ?? 1)))
        for (i, p) in points.enumerated() {
            if i > 0 { out += "," }
            out += "{"
            if let a = p.areaId { out += "\"areaId\":" + JSONText.string(a) + "," }
            out += "\"categories\":["
            for (k, c) in p.categories.enumerated() {
                if k > 0 { out += "," }
                out += "{"
                if let a = c.accessPer1000 { out += "\"accessPer1000\":" + JSONText.number(a) + "," }
                out += "\"category\":" + JSONText.string(c.category) + ",\"covered\":" + (c.covered ? "true" : "false")
                if let m = c.distanceMeters { out += ",\"distanceMeters\":" + JSONText.number(m) }
                if let s = c.durationSeconds { out += ",\"durationSeconds\":" + JSONText.number(s) }
                if let e = c.enhancedAccessPer1000 { out += ",\"enhancedAccessPer1000\":" + JSONText.number(e) }
                if let id = c.facilityId { out += ",\"facilityId\":" + JSONText.string(id) }
                if let n = c.facilityName { out += ",\"facilityName\":" + JSONText.string(n) }
                if let g = c.gravity { out += ",\"gravity\":" + JSONText.number(g) }
                if let o = c.opportunities { out += ",\"opportunities\":" + String(o) }
                out += "}"
            }
            out += "],\"demandId\":" + JSONText.string(p.demandId) + ",\"name\":" + JSONText.string(p.name)
                + ",\"population\":" + JSONText.number(p.population) + "}"
        }
        out += "]"
        if let s = scenario { out += ",\"scenario\":" + JSONText.string(s) }
        out += ",\"study\":" + JSONText.string(study) + "}"
        return out
    }
}
