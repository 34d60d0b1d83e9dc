import KlyngeGeo
import KlyngeNetwork

/// What coverage is measured in.
public enum Metric: String, Sendable, Hashable, Codable {
    /// Travel time, seconds.
    case duration
    /// Distance along the route, metres.
    case distance
}

/// The one precision of travel costs: kept, compared and published to the hundredth (of a second, or of a
/// metre), rounded half away from zero, as `klynge matrix` writes them. A point exactly at a threshold
/// therefore counts the same in `coverage`, `optimize`, the service and a recomputation from the CSV. A
/// threshold is taken to the hundredth below it (599.999 s is 599.99 s). Costs are stored as the nearest
/// `Float`, which holds every hundredth up to 131,072 (36 hours, or 131 km) apart from its neighbours.
public enum CostPrecision {
    /// The stored value of a cost: rounded to the hundredth, as the nearest `Float`.
    @inline(__always)
    public static func stored(_ cost: Double) -> Float {
        Float((cost * 100).rounded(.toNearestOrAwayFromZero) / 100)
    }

    /// What a stored cost is compared with: within the threshold when `cost <= limit(threshold)`. Half a
    /// hundredth above the threshold's last whole hundredth, so that a stored value's `Float` error (under
    /// 0.004 up to 131,072) never moves it across.
    @inline(__always)
    public static func limit(_ threshold: Double) -> Double {
        guard threshold.isFinite else { return threshold }
        return (threshold * 100 + 1e-7).rounded(.down) / 100 + 0.005
    }
}

/// When a demand point counts as reaching a facility of a category.
public struct CoverageRule: Sendable, Hashable {
    public var mode: TravelMode
    public var metric: Metric
    /// Seconds for `duration`, metres for `distance`.
    public var threshold: Double

    public init(mode: TravelMode, metric: Metric, threshold: Double) {
        self.mode = mode
        self.metric = metric
        self.threshold = threshold
    }

    /// Whether a stored cost is within the threshold (`CostPrecision`).
    @inline(__always)
    public func covers(_ cost: Double) -> Bool { cost <= CostPrecision.limit(threshold) }

    /// 10 minutes by car: the default for a category the study does not set.
    public static let standard = CoverageRule(mode: .car, metric: .duration, threshold: 600)
}

/// A place a facility is or may be: the study's facilities and the sites scenarios open.
public struct Site: Sendable, Hashable {
    public var id: String
    public var name: String
    public var categories: [String]
    public var location: Coordinate
    public var capacity: Double?
    public var annualCost: Double?
    /// The market-share models' weight beyond nearness (`Facility.attractiveness`).
    public var attractiveness: Double?
    /// Opened only by a scenario (closed in the baseline).
    public var isCandidate: Bool

    public init(id: String, name: String, categories: [String], location: Coordinate, capacity: Double? = nil,
                annualCost: Double? = nil, isCandidate: Bool = false, attractiveness: Double? = nil) {
        self.attractiveness = attractiveness
        self.id = id
        self.name = name
        self.categories = categories
        self.location = location
        self.capacity = capacity
        self.annualCost = annualCost
        self.isCandidate = isCandidate
    }
}

/// A demand point as the analysis sees it.
public struct DemandSite: Sendable, Hashable {
    public var id: String
    public var name: String
    public var weight: Double
    public var areaId: String?
    public init(id: String, name: String, weight: Double, areaId: String?) {
        self.id = id
        self.name = name
        self.weight = weight
        self.areaId = areaId
    }
}

/// Costs from every demand point to every site by one mode: computed once, shared by every scenario.
/// Stored as `Float`, to the hundredth of a second and a metre (`CostPrecision`); NaN = unreachable.
public struct AccessTable: Sendable {
    public let demandCount: Int
    public let siteCount: Int
    let seconds: [Float]
    let meters: [Float]

    /// `cost(d, s)` gives (seconds, metres) or nil; seconds are metres for the `distance` mode.
    public init(demandCount: Int, siteCount: Int, cost: (Int, Int) -> PathCost?) {
        self.demandCount = demandCount
        self.siteCount = siteCount
        var sec = [Float](repeating: .nan, count: demandCount * siteCount)
        var m = [Float](repeating: .nan, count: demandCount * siteCount)
        for d in 0..<demandCount {
            for s in 0..<siteCount {
                if let c = cost(d, s) {
                    sec[d * siteCount + s] = CostPrecision.stored(c.cost)
                    m[d * siteCount + s] = CostPrecision.stored(c.meters)
                }
            }
        }
        seconds = sec
        meters = m
    }

    /// From demand-major arrays (`d * siteCount + s`), NaN for unreachable.
    public init(demandCount: Int, siteCount: Int, seconds: [Float], meters: [Float]) {
        self.demandCount = demandCount
        self.siteCount = siteCount
        self.seconds = seconds
        self.meters = meters
    }

    /// The table with `count` more sites: their columns come demand-major (`d * count + k`), NaN for unreachable.
    /// Copies the old columns once; nothing is searched again.
    public func appendingSites(count: Int, seconds newSeconds: [Float], meters newMeters: [Float]) -> AccessTable {
        precondition(newSeconds.count == demandCount * count && newMeters.count == demandCount * count)
        let width = siteCount + count
        var sec = [Float](repeating: .nan, count: demandCount * width)
        var m = [Float](repeating: .nan, count: demandCount * width)
        for d in 0..<demandCount {
            for s in 0..<siteCount {
                sec[d * width + s] = seconds[d * siteCount + s]
                m[d * width + s] = meters[d * siteCount + s]
            }
            for k in 0..<count {
                sec[d * width + siteCount + k] = newSeconds[d * count + k]
                m[d * width + siteCount + k] = newMeters[d * count + k]
            }
        }
        return AccessTable(demandCount: demandCount, siteCount: width, seconds: sec, meters: m)
    }

    @inline(__always)
    public func value(_ d: Int, _ s: Int, _ metric: Metric) -> Double {
        let v = metric == .duration ? seconds[d * siteCount + s] : meters[d * siteCount + s]
        return v.isNaN ? .infinity : Double(v)
    }

    public func cost(_ d: Int, _ s: Int) -> PathCost? {
        let c = seconds[d * siteCount + s]
        return c.isNaN ? nil : PathCost(cost: Double(c), meters: Double(meters[d * siteCount + s]))
    }
}

/// Which sites are open and what each one serves.
public struct Plan: Sendable, Hashable {
    public var open: [Bool]
    public var categories: [Set<String>]
    public var capacity: [Double?]

    public init(sites: [Site]) {
        open = sites.map { !$0.isCandidate }
        categories = sites.map { Set($0.categories) }
        capacity = sites.map(\.capacity)
    }

    public func serves(_ site: Int, _ category: String) -> Bool { open[site] && categories[site].contains(category) }

    /// The plan over more sites: the new ones appended closed (as candidates are), to be opened by changes.
    public func appending(_ sites: [Site]) -> Plan {
        var p = self
        p.open += sites.map { _ in false }
        p.categories += sites.map { Set($0.categories) }
        p.capacity += sites.map(\.capacity)
        return p
    }
}

/// One change of a scenario, on site indexes.
public enum Change: Sendable, Hashable {
    case close(Int)
    case open(Int)
    case recategorise(Int, [String])
    /// Keep the first, close the others; the kept one takes over their categories and capacity.
    case merge(keep: Int, close: [Int])
}

public struct ScenarioError: Error, Sendable, Hashable, CustomStringConvertible {
    public var scenario: String
    public var message: String
    public init(scenario: String, message: String) {
        self.scenario = scenario
        self.message = message
    }
    public var description: String { "scenario \(scenario): \(message)" }
}

extension Plan {
    /// The plan after the changes, in order. Closing what is not open, or opening what is, is an error.
    public func applying(_ changes: [Change], sites: [Site], scenario: String) throws -> Plan {
        var p = self
        func name(_ s: Int) -> String { "`\(sites[s].id)` (\(sites[s].name))" }
        for change in changes {
            switch change {
            case .close(let s):
                guard p.open[s] else { throw ScenarioError(scenario: scenario, message: "\(name(s)) is closed already") }
                p.open[s] = false
            case .open(let s):
                guard !p.open[s] else { throw ScenarioError(scenario: scenario, message: "\(name(s)) is open already") }
                p.open[s] = true
            case .recategorise(let s, let cats):
                guard !cats.isEmpty else { throw ScenarioError(scenario: scenario, message: "\(name(s)) would serve no category") }
                p.categories[s] = Set(cats)
            case .merge(let keep, let others):
                guard p.open[keep] else { throw ScenarioError(scenario: scenario, message: "merge keeps \(name(keep)), which is closed") }
                for o in others {
                    guard o != keep else { throw ScenarioError(scenario: scenario, message: "merge keeps and closes \(name(o))") }
                    guard p.open[o] else { throw ScenarioError(scenario: scenario, message: "merge closes \(name(o)), which is closed already") }
                    p.open[o] = false
                    p.categories[keep].formUnion(p.categories[o])
                    if let c = p.capacity[o] { p.capacity[keep] = (p.capacity[keep] ?? 0) + c }
                }
            }
        }
        return p
    }
}
