import Foundation
import KlyngeGEOS
import KlyngeGeo
import KlyngeIngest
import KlyngeNetwork
import KlyngeStudy
import KlyngeWork

/// Service areas as polygons: the reachable network (cut at the exact point) buffered by
/// `bufferMeters` and dissolved with GEOS.
public enum Isochrones {
    public struct Request: Sendable {
        public var mode: TravelMode
        /// Budgets in seconds (timed modes) or metres (`distance`).
        public var budgets: [Double]
        public var category: String?
        /// One area per budget for all the selected facilities together.
        public var union: Bool
        public var bufferMeters: Double
        /// The budgets are metres along the mode's fastest paths (a km rule on a timed mode), not seconds.
        public var budgetsInMeters = false
        /// Stops the buffering and dissolving of a map nobody waits for.
        public var control: WorkControl = .unlimited

        public init(mode: TravelMode, budgets: [Double], category: String?, union: Bool, bufferMeters: Double = 100) {
            self.mode = mode
            self.budgets = budgets
            self.category = category
            self.union = union
            self.bufferMeters = bufferMeters
        }
    }

    public struct Result: Sendable {
        public var table: FeatureTable
        /// Facilities that could not be attached to the network (left out).
        public var unattached: [SnapRecord]
    }

    public static func build(study: Study, network: StudyNetwork, request: Request) throws -> Result {
        if let c = request.category, !study.categories.contains(where: { $0.key == c }) {
            throw NetworkSetupError(message: "unknown category `\(c)` (the study has: \(study.categories.map(\.key).joined(separator: ", ")))")
        }
        let facilities = study.facilities.filter { f in request.category.map { f.categories.contains($0) } ?? true }
        guard !facilities.isEmpty else {
            throw NetworkSetupError(message: "no facility of category `\(request.category ?? "any")` to start from")
        }
        let snapper = network.snapper(request.mode)
        let graph = snapper.graph
        let records = SnapReport.snap(layer: "facilities", points: facilities.map { ($0.id, $0.name, $0.location) },
                                      snapper: snapper, suspiciousMeters: network.suspiciousSnapMeters)
        let attached = zip(facilities, records).compactMap { f, r in r.snap.map { (f, $0) } }
        let query = PathQuery(graph: graph)
        let geos = try GEOSContext()
        let budgets = request.budgets.sorted(by: >)
        let timed = request.mode.isTimed && !request.budgetsInMeters
        var features: [Feature] = []

        func polygon(_ lines: [[Coordinate]]) throws -> Geometry? {
            guard !lines.isEmpty else { return nil }
            // Buffering pieces one by one and dissolving them (cascaded union) is far faster than
            // buffering the whole multi-line at once.
            let pieces = try lines.enumerated().map { k, line in
                if k % 256 == 0 { try request.control.check() }
                return try geos.buffer(.lineString(line), distance: request.bufferMeters, quadrantSegments: 4)
            }
            let g = try geos.unaryUnion(pieces)
            return g.isEmpty ? nil : g
        }
        func add(id: String, name: String, count: Int, lines: [[[Coordinate]]]) throws {
            for (i, budget) in budgets.enumerated() {
                guard let g = try polygon(lines[i]) else { continue }
                features.append(Feature(geometry: g, attributes: [
                    "facility_id": .string(id), "facility_name": .string(name), "facilities": .int(Int64(count)),
                    "category": request.category.map(AttributeValue.string) ?? .null,
                    "mode": .string(request.mode.rawValue),
                    "minutes": timed ? .double(budget / 60) : .null,
                    "meters": timed ? .null : .double(budget),
                    "buffer_m": .double(request.bufferMeters),
                ]))
            }
        }
        if request.union {
            let lines = graph.reachableLines(toward: attached.map(\.1), budgets: budgets, query: query, inMeters: request.budgetsInMeters)
            try add(id: "*", name: request.category ?? "*", count: attached.count, lines: lines)
        } else {
            for (f, s) in attached {
                try add(id: f.id, name: f.name, count: 1, lines: graph.reachableLines(toward: [s], budgets: budgets, query: query,
                                                                                      inMeters: request.budgetsInMeters))
            }
        }
        let fields: [FieldDefinition] = [
            .init(name: "facility_id", type: .string), .init(name: "facility_name", type: .string),
            .init(name: "facilities", type: .integer), .init(name: "category", type: .string),
            .init(name: "mode", type: .string), .init(name: "minutes", type: .real), .init(name: "meters", type: .real),
            .init(name: "buffer_m", type: .real),
        ]
        return Result(table: FeatureTable(name: "isochrones", crs: study.crs, fields: fields, features: features),
                      unattached: records.filter { $0.snap == nil })
    }
}
