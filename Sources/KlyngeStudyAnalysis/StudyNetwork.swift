import Foundation
import KlyngeGeo
import KlyngeIngest
import Synchronization
import KlyngeNetwork
import KlyngeStudy
import KlyngeWork

public struct NetworkSetupError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// The study's road network with its settings: built once, then one graph and snapper per mode.
public struct StudyNetwork: Sendable {
    public let roads: RoadNetwork
    public let settings: StudyFile.NetworkSettings
    public let snapOptions: SnapOptions
    public let oneway: OnewayRules
    /// One graph and snapper per mode, built on first use and shared: the analysis, the cluster report,
    /// isochrones and every what-if of the service ask for the same ones.
    private let snappers = SnapperCache()
    /// Off-network legs longer than this are flagged (default 250 m).
    public var suspiciousSnapMeters: Double { settings.suspiciousSnapMeters ?? 250 }

    public init(study: Study) throws {
        guard !study.roads.isEmpty else {
            throw NetworkSetupError(message: "the study has no roads: add a `roads` layer to the study file")
        }
        try self.init(roads: study.roads, settings: study.network)
    }

    /// From the study's roads, their class values translated by `network.class_values`.
    public init(roads: [Road], settings: StudyFile.NetworkSettings) throws {
        let map = settings.classValues ?? [:]
        let lines = roads.map {
            RoadLine(id: $0.id, parts: $0.parts, roadClass: $0.roadClass.map { map[$0] ?? $0 }, maxspeed: $0.maxspeed, oneway: $0.oneway)
        }
        try self.init(lines: lines, settings: settings)
    }

    public init(lines: [RoadLine], settings: StudyFile.NetworkSettings) throws {
        self.settings = settings
        let tolerance = settings.vertexToleranceMeters ?? 0.01
        guard tolerance >= 0, tolerance < 10 else {
            throw NetworkSetupError(message: "network.vertex_tolerance_m must be between 0 and 10 m, not \(tolerance)")
        }
        roads = RoadNetwork(lines: lines, vertexToleranceMeters: tolerance)
        guard let cutOff = CutOffPolicy(rawValue: settings.cutOffPieces ?? CutOffPolicy.mainNetwork.rawValue) else {
            throw NetworkSetupError(message: "network.cut_off_pieces is \(CutOffPolicy.allCases.map(\.rawValue).joined(separator: " or ")), not `\(settings.cutOffPieces ?? "")`")
        }
        snapOptions = SnapOptions(maxSnapMeters: settings.maxSnapMeters ?? 1000,
                                  largestComponentOnly: settings.largestComponentOnly ?? true, cutOff: cutOff)
        var rules = OnewayRules.standard
        if let o = settings.oneway {
            if let f = o.forward { rules.forward = Set(f) }
            if let b = o.backward { rules.backward = Set(b) }
            if let i = o.impliedClasses { rules.impliedClasses = Set(i) }
        }
        oneway = rules
        for key in (settings.modes ?? [:]).keys where TravelMode(rawValue: key) == nil || key == "distance" {
            throw NetworkSetupError(message: "network.modes: unknown mode `\(key)` (car, bike, walk)")
        }
    }

    /// The mode's profile: the Danish defaults with the study's overrides.
    public func profile(_ mode: TravelMode) -> ModeProfile {
        var p = ModeProfile.defaults(for: mode)
        guard mode != .distance, let o = settings.modes?[mode.rawValue] else { return p }
        for (cls, v) in o.speedsKmh ?? [:] {
            if v > 0 {
                p.speedsKmh[cls] = v
                p.forbiddenClasses.remove(cls)
            } else {
                p.speedsKmh[cls] = nil
                p.forbiddenClasses.insert(cls)
            }
        }
        if let v = o.unclassifiedSpeedKmh { p.unclassifiedSpeedKmh = v > 0 ? v : nil }
        if let v = o.useMaxspeed { p.useMaxspeed = v }
        if let v = o.maxspeedFactor { p.maxspeedFactor = v }
        if let v = o.maxSpeedKmh { p.maxSpeedKmh = v }
        if let v = o.respectOneway { p.respectsOneway = v }
        if let v = o.accessSpeedKmh, v > 0 { p.accessSpeedKmh = v }
        return p
    }

    /// Road classes the mode's profile neither lists nor forbids, with how many lines carry each: they are
    /// travelled at the profile's speed for unclassified roads, which deserves a warning.
    public func unknownClasses(_ mode: TravelMode) -> [(roadClass: String, lines: Int)] {
        guard mode != .distance else { return [] }
        let p = profile(mode)
        var counts: [String: Int] = [:]
        for c in roads.roadClass { if let c, !c.isEmpty, !p.knows(roadClass: c) { counts[c, default: 0] += 1 } }
        return counts.sorted { $0.value > $1.value }.map { ($0.key, $0.value) }
    }

    public func graph(_ mode: TravelMode) -> ModeGraph {
        snapper(mode).graph
    }

    public func snapper(_ mode: TravelMode) -> Snapper {
        snappers.get(mode) {
            Snapper(graph: ModeGraph(network: roads, profile: profile(mode), oneway: oneway), options: snapOptions)
        }
    }
}

/// Built under the lock, so two threads asking for the same mode build it once.
private final class SnapperCache: Sendable {
    private let built = Mutex<[TravelMode: Snapper]>([:])

    func get(_ mode: TravelMode, build: () -> Snapper) -> Snapper {
        built.withLock { cache in
            if let s = cache[mode] { return s }
            let s = build()
            cache[mode] = s
            return s
        }
    }
}

/// One point's attachment to the network, for the snap report.
public struct SnapRecord: Sendable {
    public var layer: String
    public var id: String
    public var name: String
    public var location: Coordinate
    public var snap: Snap?
    public var failure: SnapFailure?
    /// Why this attachment deserves a look, if it does.
    public var warning: String?
}

public enum SnapReport {
    /// Snaps on every core for large layers (the snapper is immutable and shared).
    public static func snap(layer: String, points: [(id: String, name: String, location: Coordinate)],
                            snapper: Snapper, suspiciousMeters: Double) -> [SnapRecord] {
        let parts = points.count >= 4096 ? coreCount : 1
        guard parts > 1 else { return snapEach(layer: layer, points[...], snapper: snapper, suspiciousMeters: suspiciousMeters) }
        let chunks = (0..<parts).map { k in (points.count * k / parts)..<(points.count * (k + 1) / parts) }
        let out = Mutex<[[SnapRecord]]>(Array(repeating: [], count: parts))
        forEachInParallel(parts, threads: parts) { k in
            let records = snapEach(layer: layer, points[chunks[k]], snapper: snapper, suspiciousMeters: suspiciousMeters)
            out.withLock { $0[k] = records }
        }
        return out.withLock { $0.flatMap { $0 } }
    }

    private static func snapEach(layer: String, _ points: ArraySlice<(id: String, name: String, location: Coordinate)>,
                                 snapper: Snapper, suspiciousMeters: Double) -> [SnapRecord] {
        points.map { p in
            switch snapper.snap(p.location) {
            case .success(let s):
                var warning = s.distanceMeters > suspiciousMeters
                    ? String(format: "long off-network leg: %.0f m to the nearest usable road", s.distanceMeters) : nil
                if let piece = s.passedOver {
                    warning = String(format: "attached to the main network %.0f m away: the nearest road (%.0f m) is on a piece of %d nodes cut off from it (`network.cut_off_pieces`)",
                                     s.distanceMeters, piece.distanceMeters, piece.nodes)
                }
                return SnapRecord(layer: layer, id: p.id, name: p.name, location: p.location, snap: s, failure: nil, warning: warning)
            case .failure(let f):
                return SnapRecord(layer: layer, id: p.id, name: p.name, location: p.location, snap: nil, failure: f,
                                  warning: message(f, limit: snapper.options.maxSnapMeters))
            }
        }
    }

    public static func message(_ f: SnapFailure, limit: Double) -> String {
        switch f {
        case .beyondLimit(let nearest?):
            String(format: "not attached: the nearest usable road is %.0f m away (limit %.0f m, `network.max_snap_m`)", nearest, limit)
        case .beyondLimit(nil):
            "not attached: the mode has no usable road"
        case .disconnectedComponent(let c, let nodes, let d):
            String(format: "not attached: the nearest road (%.0f m) is on a piece of %d nodes (component %d) cut off from the main network", d, nodes, c)
        }
    }

    /// The study's demand points and facilities, attached for one mode.
    public static func study(_ study: Study, snapper: Snapper, suspiciousMeters: Double) -> [SnapRecord] {
        snap(layer: "demand", points: study.demand.map { ($0.id, $0.name, $0.location) }, snapper: snapper, suspiciousMeters: suspiciousMeters)
            + snap(layer: "facilities", points: study.facilities.map { ($0.id, $0.name, $0.location) }, snapper: snapper,
                   suspiciousMeters: suspiciousMeters)
    }
}
