import Foundation
import KlyngeGEOS
import KlyngeGeo
import KlyngeIO

/// What `klynge import-osm` did.
public struct OSMImportSummary: Sendable, Codable {
    public var roads = 0
    public var places = 0
    public var placesWithPopulation = 0
    public var populationTotal = 0
    public var facilities = 0
    public var facilitiesByCategory: [String: Int] = [:]
    /// Facilities mapped twice (a node inside its building, a building inside its site) merged into one.
    public var merged: [String] = []
    public var warnings: [String] = []
}

/// Turns an OSM extract (.osm.pbf, .osm, .osm.gz) into the layers a study uses:
/// `roads`, `places` and `facilities`, in one GeoPackage in EPSG:4326.
public struct OSMImporter {
    public var tags: TagTable

    public init(tags: TagTable = .defaultTable) { self.tags = tags }

    /// The OSM driver configuration: every tag in `all_tags`, so any tag table works.
    static let driverConfig = """
    closed_ways_are_polygons=aeroway,amenity,boundary,building,craft,geological,historic,landuse,leisure,military,natural,office,place,shop,sport,tourism,highway=platform,public_transport=platform
    report_all_nodes=no
    report_all_ways=no
    [points]
    osm_id=yes
    attributes=name
    all_tags=yes
    [lines]
    osm_id=yes
    attributes=name,highway
    all_tags=yes
    [multipolygons]
    osm_id=yes
    attributes=name
    all_tags=yes
    [multilinestrings]
    osm_id=yes
    attributes=name
    [other_relations]
    osm_id=yes
    attributes=name

    """

    struct Candidate {
        var osmId: String
        var name: String
        var category: String
        var tag: String
        var geometry: Geometry
        var merged: [String] = []
    }

    /// Refuses (before writing) an extract with no roads unless `allowEmpty`: a study cannot route on it, and a
    /// wrong bounding box should not silently replace a good output.
    public func run(input: String, output: URL, allowEmpty: Bool = false) throws -> OSMImportSummary {
        guard OSMFiles.isOSM(input) else {
            throw ImportError(path: input, message: "not an OSM extract (expected .osm.pbf, .osm or .osm.gz)")
        }
        guard FileManager.default.fileExists(atPath: input) else {
            throw ImportError(path: input, message: "no such file")
        }
        let source = OSMFiles.gdalPath(input)
        let config = try InMemoryFile(name: "osmconf.ini", contents: Self.driverConfig)
        let base = OpenOptions(driverOptions: ["CONFIG_FILE=\(config.path)"], allowedDrivers: ["OSM"])
        var summary = OSMImportSummary()
        let geos = try GEOSContext()

        // One open per layer: the OSM driver streams the file once per layer read this way.
        // Files whose node ids are not ascending are read again without the driver's fast index.
        let (points, lines, polygons) = try OSMFiles.withIndexFallback(base) { open in
            func read(_ layer: String) throws -> [Feature] {
                let ds = try VectorSource(source, options: open)
                return try ds.layer(named: layer).readFeatures()
            }
            return (try read("points"), try read("lines"), try read("multipolygons"))
        }

        let roads = buildRoads(lines)
        summary.roads = roads.features.count
        if roads.features.isEmpty {
            let why = "no roads (no ways tagged `highway`): check the extract's area, or the tag table's road exclusions"
            guard allowEmpty else {
                throw ImportError(path: input, message: why + "; nothing was written (give --allow-empty to write the other layers anyway)")
            }
            summary.warnings.append(why)
        }
        let places = try buildPlaces(points: points, polygons: polygons, geos: geos, summary: &summary)
        let facilities = try buildFacilities(points: points, polygons: polygons, geos: geos, summary: &summary)
        try VectorWriter.write([roads, places, facilities], to: output, format: .geoPackage)
        return summary
    }

    static func tags(_ f: Feature) -> [String: String] {
        var t = HStore.parse(f["all_tags"].text ?? "")
        if t["name"] == nil, let n = f["name"].text { t["name"] = n }
        return t
    }

    /// `node/…`, `way/…` or `relation/…`: OSM ids are unique only per element type.
    static func osmId(_ f: Feature, layer: String) -> String {
        if layer == "multipolygons" {
            if let w = f["osm_way_id"].text { return "way/\(w)" }
            return "relation/\(f["osm_id"].text ?? "?")"
        }
        return "\(layer == "points" ? "node" : "way")/\(f["osm_id"].text ?? "?")"
    }

    func buildRoads(_ lines: [Feature]) -> FeatureTable {
        let keys = ["highway", "name", "ref", "maxspeed", "oneway", "junction", "access", "motor_vehicle",
                    "bicycle", "foot", "bridge", "tunnel", "service", "surface"]
        var features: [Feature] = []
        for f in lines {
            let t = Self.tags(f)
            guard let hw = t["highway"], !tags.roadExclude.contains(hw), let g = f.geometry, !g.lineParts.isEmpty else { continue }
            var attrs: [String: AttributeValue] = ["osm_id": .string(Self.osmId(f, layer: "lines"))]
            for k in keys { attrs[k] = t[k].map(AttributeValue.string) ?? .null }
            features.append(Feature(geometry: g, attributes: attrs))
        }
        let fields = [FieldDefinition(name: "osm_id", type: .string)] + keys.map { FieldDefinition(name: $0, type: .string) }
        return FeatureTable(name: "roads", crs: .wgs84, fields: fields, features: features)
    }

    func buildPlaces(points: [Feature], polygons: [Feature], geos: GEOSContext,
                     summary: inout OSMImportSummary) throws -> FeatureTable {
        var features: [Feature] = []
        var names = Set<String>()
        func add(_ f: Feature, layer: String, at c: Coordinate, tags t: [String: String]) {
            let id = Self.osmId(f, layer: layer)
            var population: AttributeValue = .null
            if let raw = t["population"] {
                if let n = AttributeValue.string(raw).number, n >= 0, n == n.rounded() {
                    population = .int(Int64(n))
                    summary.placesWithPopulation += 1
                    summary.populationTotal += Int(n)
                } else {
                    summary.warnings.append("\(id) (\(t["name"] ?? "unnamed")): population `\(raw)` is not a whole number; left empty")
                }
            }
            features.append(Feature(geometry: .point(c), attributes: [
                "osm_id": .string(id), "name": t["name"].map(AttributeValue.string) ?? .null,
                "place": .string(t["place"] ?? ""), "population": population,
                "population_source": t["source:population"].map(AttributeValue.string) ?? .null,
            ]))
        }
        for f in points {
            let t = Self.tags(f)
            guard let p = t["place"], tags.places.contains(p), case .point(let c)? = f.geometry else { continue }
            names.insert(t["name"] ?? "")
            add(f, layer: "points", at: c, tags: t)
        }
        // A settlement mapped only as an area becomes a point inside it (unless its node exists).
        for f in polygons {
            let t = Self.tags(f)
            guard let p = t["place"], tags.places.contains(p), let g = f.geometry,
                  !names.contains(t["name"] ?? "") else { continue }
            let valid = try geos.validity(g).isValid ? g : try geos.makeValid(g)
            add(f, layer: "multipolygons", at: try geos.pointOnSurface(valid), tags: t)
        }
        summary.places = features.count
        let fields = [FieldDefinition(name: "osm_id", type: .string), FieldDefinition(name: "name", type: .string),
                      FieldDefinition(name: "place", type: .string), FieldDefinition(name: "population", type: .integer),
                      FieldDefinition(name: "population_source", type: .string)]
        return FeatureTable(name: "places", crs: .wgs84, fields: fields, features: features)
    }

    func buildFacilities(points: [Feature], polygons: [Feature], geos: GEOSContext,
                         summary: inout OSMImportSummary) throws -> FeatureTable {
        var candidates: [Candidate] = []
        for (layer, features) in [("points", points), ("multipolygons", polygons)] {
            for f in features {
                let t = Self.tags(f)
                guard let (category, tag) = tags.category(for: t), var g = f.geometry, !g.isEmpty else { continue }
                if layer == "multipolygons" {
                    let v = try geos.validity(g)
                    if !v.isValid {
                        g = try geos.makeValid(g)
                        summary.warnings.append("\(Self.osmId(f, layer: layer)): invalid outline (\(v.reason ?? "")) made valid")
                    }
                }
                candidates.append(Candidate(osmId: Self.osmId(f, layer: layer), name: t["name"] ?? "",
                                            category: category, tag: tag, geometry: g))
            }
        }
        let kept = try Self.mergeDuplicates(candidates, geos: geos)
        var features: [Feature] = []
        for c in kept {
            let location: Coordinate
            if case .point(let p) = c.geometry { location = p } else { location = try geos.pointOnSurface(c.geometry) }
            features.append(Feature(geometry: .point(location), attributes: [
                "osm_id": .string(c.osmId), "name": .string(c.name), "category": .string(c.category),
                "osm_tag": .string(c.tag), "osm_geometry": .string(c.geometry.kind.family.rawValue),
                "merged_osm_ids": c.merged.isEmpty ? .null : .string(c.merged.joined(separator: ";")),
            ]))
            summary.facilitiesByCategory[c.category, default: 0] += 1
            if !c.merged.isEmpty { summary.merged.append("\(c.osmId) \(c.name) ← \(c.merged.joined(separator: ", "))") }
        }
        summary.facilities = features.count
        let fields = ["osm_id", "name", "category", "osm_tag", "osm_geometry", "merged_osm_ids"].map {
            FieldDefinition(name: $0, type: .string)
        }
        return FeatureTable(name: "facilities", crs: .wgs84, fields: fields, features: features)
    }

    /// One facility mapped several times (a node inside its building outline; a building inside
    /// its tagged site) becomes one: same category, the inner one covered by the outer, and
    /// the same name or one of them unnamed. The outermost outline is kept.
    static func mergeDuplicates(_ candidates: [Candidate], geos: GEOSContext) throws -> [Candidate] {
        var list = candidates
        // Larger outlines first, so each inner feature finds its outermost container.
        let areas = try list.map { $0.geometry.kind.family == .polygonal ? try geos.area($0.geometry) : 0 }
        let order = list.indices.sorted { areas[$0] > areas[$1] }
        var absorbed = Set<Int>()
        for outer in order where areas[outer] > 0 && !absorbed.contains(outer) {
            let prepared = try PreparedGeometry(list[outer].geometry, context: geos)
            guard let env = list[outer].geometry.envelope else { continue }
            for inner in list.indices where inner != outer && !absorbed.contains(inner) && areas[inner] <= areas[outer] {
                let a = list[outer], b = list[inner]
                guard a.category == b.category,
                      a.name.isEmpty || b.name.isEmpty || a.name.lowercased() == b.name.lowercased() else { continue }
                let probe = b.geometry.kind.family == .polygonal ? try geos.pointOnSurface(b.geometry) : b.geometry.pointParts.first
                guard let probe, env.contains(probe), try prepared.covers(probe) else { continue }
                absorbed.insert(inner)
                if list[outer].name.isEmpty { list[outer].name = b.name }
                list[outer].merged.append(b.osmId)
                list[outer].merged.append(contentsOf: b.merged)
            }
        }
        return list.indices.filter { !absorbed.contains($0) }.map { list[$0] }
    }
}
