import KlyngeAnalysis
import KlyngeGeo
import KlyngeNetwork
import KlyngeStudy
import KlyngeWork

/// The study's demand points against sites, per mode: the one place costs are computed. Every point is snapped
/// once per mode (the snap report comes from these records); new sites gain columns with one search each per
/// mode, so a what-if, an optimize run or a cluster hub never rebuilds what is there.
public struct CostTables: Sendable {
    public struct ModeTable: Sendable {
        public let demand: [SnapRecord]
        public let sites: [SnapRecord]
        public let table: AccessTable
    }

    public let network: StudyNetwork
    public let demand: [DemandSite]
    /// Where each demand point is (the same order as `demand`).
    public let demandLocations: [Coordinate]
    public private(set) var sites: [Site]
    public private(set) var modes: [TravelMode: ModeTable]

    /// Snaps the demand points and sites for each mode and searches the table.
    public init(network: StudyNetwork, demand: [DemandPoint], sites: [Site], modes: Set<TravelMode>,
                control: WorkControl = .unlimited) throws {
        self.network = network
        self.demand = demand.map { DemandSite(id: $0.id, name: $0.name, weight: $0.weight, areaId: $0.areaId) }
        demandLocations = demand.map(\.location)
        self.sites = sites
        self.modes = [:]
        for mode in modes.sorted(by: { $0.rawValue < $1.rawValue }) {
            try control.check()
            try addMode(mode)
        }
    }

    /// The access table of a mode (built on first use for a mode no rule asked for).
    public func table(_ mode: TravelMode) throws -> AccessTable {
        try including(mode).modes[mode]!.table
    }

    /// These tables with `mode` searched too, when it is not there yet.
    public func including(_ mode: TravelMode) throws -> CostTables {
        guard modes[mode] == nil else { return self }
        var out = self
        try out.addMode(mode)
        return out
    }

    /// Every point that could not be attached, per mode (each counts as unreachable by that mode).
    public var unattached: [SnapRecord] {
        modes.keys.sorted(by: { $0.rawValue < $1.rawValue }).flatMap { m in
            (modes[m]!.demand + modes[m]!.sites).filter { $0.snap == nil }
        }
    }

    /// The tables with columns for `newSites` appended (indexes continue after `sites`): one search per new site
    /// and mode, run from the sites over the reverse graph.
    public func adding(_ newSites: [Site], control: WorkControl = .unlimited) throws -> CostTables {
        guard !newSites.isEmpty else { return self }
        var out = self
        out.sites += newSites
        for (mode, mt) in modes {
            try control.check()
            let snapper = network.snapper(mode)
            let records = SnapReport.snap(layer: "facilities", points: newSites.map { ($0.id, $0.name, $0.location) }, snapper: snapper,
                                    suspiciousMeters: network.suspiciousSnapMeters)
            let (seconds, meters) = try Self.search(graph: snapper.graph, demand: mt.demand, sites: records)
            out.modes[mode] = ModeTable(demand: mt.demand, sites: mt.sites + records,
                                        table: mt.table.appendingSites(count: newSites.count, seconds: seconds, meters: meters))
        }
        return out
    }

    /// Costs from the demand points to `sites` by one mode, as a table of its own (for optimize candidates and
    /// cluster hubs, which no coverage rule needs): one search per site, from the already snapped demand points.
    public func columns(for sites: [Site], mode: TravelMode, layer: String = "candidates") throws -> ModeTable {
        let mt = try including(mode).modes[mode]!
        let snapper = network.snapper(mode)
        let records = SnapReport.snap(layer: layer, points: sites.map { ($0.id, $0.name, $0.location) }, snapper: snapper,
                                suspiciousMeters: network.suspiciousSnapMeters)
        let (seconds, meters) = try Self.search(graph: snapper.graph, demand: mt.demand, sites: records)
        return ModeTable(demand: mt.demand, sites: records,
                         table: AccessTable(demandCount: demand.count, siteCount: sites.count, seconds: seconds, meters: meters))
    }

    private mutating func addMode(_ mode: TravelMode) throws {
        let snapper = network.snapper(mode)
        let suspicious = network.suspiciousSnapMeters
        let d = SnapReport.snap(layer: "demand", points: zip(demand, demandLocations).map { ($0.id, $0.name, $1) }, snapper: snapper,
                          suspiciousMeters: suspicious)
        let s = SnapReport.snap(layer: "facilities", points: sites.map { ($0.id, $0.name, $0.location) }, snapper: snapper, suspiciousMeters: suspicious)
        let (seconds, meters) = try Self.search(graph: snapper.graph, demand: d, sites: s)
        modes[mode] = ModeTable(demand: d, sites: s,
                                table: AccessTable(demandCount: demand.count, siteCount: sites.count, seconds: seconds, meters: meters))
    }

    /// Demand-major seconds and metres, NaN where unreachable.
    private static func search(graph: ModeGraph, demand: [SnapRecord], sites: [SnapRecord]) throws -> (seconds: [Float], meters: [Float]) {
        let width = sites.count
        var seconds = [Float](repeating: .nan, count: demand.count * width)
        var meters = [Float](repeating: .nan, count: demand.count * width)
        _ = try MatrixEngine(graph: graph).compute(origins: demand.map(\.snap), destinations: sites.map(\.snap)) { (block: MatrixBlock) in
            block.forEach { o, d, c in
                if let c {
                    seconds[o * width + d] = CostPrecision.stored(c.cost)
                    meters[o * width + d] = CostPrecision.stored(c.meters)
                }
            }
        }
        return (seconds, meters)
    }
}
