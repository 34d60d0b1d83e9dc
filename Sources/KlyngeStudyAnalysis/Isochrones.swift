import Foundation
import Synchronization
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
        /// Threads for the buffering and dissolving (1 in the service, whose maps each run on one worker).
        public var threads = coreCount
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
        let budgets = request.budgets.sorted(by: >)
        let timed = request.mode.isTimed && !request.budgetsInMeters

        // One polygon per facility (or all together) and budget; each is dissolved on its own thread with
        // its own GEOS context, as the dissolve is most of an isochrone's time.
        struct Job { var id: String, name: String, count: Int, budget: Double, lines: [[Coordinate]] }
        var jobs: [Job] = []
        func add(id: String, name: String, count: Int, lines: [[[Coordinate]]]) {
            for (i, budget) in budgets.enumerated() { jobs.append(Job(id: id, name: name, count: count, budget: budget, lines: lines[i])) }
        }
        if request.union {
            add(id: "*", name: request.category ?? "*", count: attached.count,
                lines: graph.reachableLines(toward: attached.map(\.1), budgets: budgets, query: query, inMeters: request.budgetsInMeters))
        } else {
            for (f, s) in attached {
                add(id: f.id, name: f.name, count: 1,
                    lines: graph.reachableLines(toward: [s], budgets: budgets, query: query, inMeters: request.budgetsInMeters))
            }
        }
        // The largest first, so the two threads finish together.
        let order = jobs.indices.sorted { jobs[$0].lines.count > jobs[$1].lines.count }
        let results = Mutex([Swift.Result<Geometry?, Error>?](repeating: nil, count: jobs.count))
        let next = Mutex(0)
        let (bufferMeters, control) = (request.bufferMeters, request.control)
        forEachInParallel(min(max(1, request.threads), jobs.count), threads: request.threads) { [jobs] _ in
            let geos = Swift.Result { try GEOSContext() }
            while true {
                let k = next.withLock { n -> Int? in
                    guard n < order.count else { return nil }
                    defer { n += 1 }
                    return order[n]
                }
                guard let k else { return }
                let outcome = Swift.Result<Geometry?, Error> {
                    guard !jobs[k].lines.isEmpty else { return nil }
                    let key = DissolveCache.Key(lines: jobs[k].lines, bufferMeters: bufferMeters)
                    if let cached = DissolveCache.shared.geometry(for: key) { return cached.isEmpty ? nil : cached }
                    let g = try geos.get().bufferedUnion(lines: jobs[k].lines, distanceMeters: bufferMeters, quadrantSegments: 4, check: control.check)
                    DissolveCache.shared.keep(g, for: key)
                    return g.isEmpty ? nil : g
                }
                results.withLock { $0[k] = outcome }
            }
        }
        var features: [Feature] = []
        for (k, job) in jobs.enumerated() {
            guard let g = try results.withLock({ $0[k] })?.get() else { continue }
            features.append(Feature(geometry: g, attributes: [
                "facility_id": .string(job.id), "facility_name": .string(job.name), "facilities": .int(Int64(job.count)),
                "category": request.category.map(AttributeValue.string) ?? .null,
                "mode": .string(request.mode.rawValue),
                "minutes": timed ? .double(job.budget / 60) : .null,
                "meters": timed ? .null : .double(job.budget),
                "buffer_m": .double(request.bufferMeters),
            ]))
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

/// Dissolved service areas by the exact input of their dissolve (the reachable lines and the buffer), so a
/// service drawing the same map again, or another style with the same bands, skips GEOS. The key is the input
/// itself (hashed twice), so an entry cannot outlive a change of roads, facilities, scenario or budget.
/// Bounded by the vertices it holds; the least recently used entries go first.
public final class DissolveCache: Sendable {
    public struct Key: Hashable, Sendable {
        let first: Int, second: Int, lines: Int, points: Int
        let bufferMeters: Double

        public init(lines: [[Coordinate]], bufferMeters: Double) {
            var a = Hasher(), b = Hasher()
            // Two differently salted hashes: a collision needs both to collide.
            a.combine(0x6b6c796e6765 as UInt64)
            b.combine(0x69736f6368726f6e as UInt64)
            var points = 0
            for line in lines {
                a.combine(line.count); b.combine(line.count)
                for c in line {
                    a.combine(c.x.bitPattern); a.combine(c.y.bitPattern)
                    b.combine(c.y.bitPattern); b.combine(c.x.bitPattern)
                }
                points += line.count
            }
            first = a.finalize()
            second = b.finalize()
            self.lines = lines.count
            self.points = points
            self.bufferMeters = bufferMeters
        }
    }

    private struct Entry { var geometry: Geometry, vertices: Int, used: UInt64 }
    private struct State { var entries: [Key: Entry] = [:], clock: UInt64 = 0, vertices = 0, hits = 0 }
    private let state = Mutex(State())
    /// The most vertices kept (about 16 bytes each).
    public let maxVertices: Int

    public static let shared = DissolveCache(maxVertices: 4_000_000)

    public init(maxVertices: Int) { self.maxVertices = maxVertices }

    /// How many answers came from the cache (for tests and the benchmark).
    public var hits: Int { state.withLock { $0.hits } }

    public func geometry(for key: Key) -> Geometry? {
        state.withLock { s in
            guard var e = s.entries[key] else { return nil }
            s.clock += 1
            e.used = s.clock
            s.entries[key] = e
            s.hits += 1
            return e.geometry
        }
    }

    public func keep(_ geometry: Geometry, for key: Key) {
        let vertices = geometry.allCoordinates.count
        guard vertices <= maxVertices / 4 else { return }
        state.withLock { s in
            if let old = s.entries.removeValue(forKey: key) { s.vertices -= old.vertices }
            while s.vertices + vertices > maxVertices, let oldest = s.entries.min(by: { $0.value.used < $1.value.used }) {
                s.entries.removeValue(forKey: oldest.key)
                s.vertices -= oldest.value.vertices
            }
            s.clock += 1
            s.entries[key] = Entry(geometry: geometry, vertices: vertices, used: s.clock)
            s.vertices += vertices
        }
    }
}
