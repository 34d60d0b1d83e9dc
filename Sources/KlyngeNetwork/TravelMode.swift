import Foundation
import KlyngeGeo

/// How one travels along the network.
public enum TravelMode: String, Sendable, Hashable, CaseIterable, Codable {
    /// Metres along every line of the roads layer, in both directions; no durations.
    case distance
    case car
    case bike
    case walk

    /// Whether costs are durations (seconds) rather than metres.
    public var isTimed: Bool { self != .distance }
}

/// The rules of one travel mode: speeds by road class, which classes may be used, one-way handling,
/// and the speed of the off-network leg from a point to the road.
public struct ModeProfile: Sendable, Hashable {
    public var mode: TravelMode
    /// Speed by road class (km/h).
    public var speedsKmh: [String: Double]
    /// Classes the mode may not use.
    public var forbiddenClasses: Set<String>
    /// Speed for lines without a class, or with a class neither listed nor forbidden (nil: not usable).
    public var unclassifiedSpeedKmh: Double?
    /// Use the speed-limit field where present (then `maxspeedFactor × limit`, capped by `maxSpeedKmh`).
    public var useMaxspeed: Bool
    public var maxspeedFactor: Double
    public var maxSpeedKmh: Double
    /// Respect one-way streets.
    public var respectsOneway: Bool
    /// Speed of the off-network leg between a point and its snapped position on the road.
    public var accessSpeedKmh: Double

    public init(mode: TravelMode, speedsKmh: [String: Double], forbiddenClasses: Set<String> = [], unclassifiedSpeedKmh: Double?,
                useMaxspeed: Bool, maxspeedFactor: Double = 1, maxSpeedKmh: Double, respectsOneway: Bool, accessSpeedKmh: Double) {
        self.mode = mode
        self.speedsKmh = speedsKmh
        self.forbiddenClasses = forbiddenClasses
        self.unclassifiedSpeedKmh = unclassifiedSpeedKmh
        self.useMaxspeed = useMaxspeed
        self.maxspeedFactor = maxspeedFactor
        self.maxSpeedKmh = maxSpeedKmh
        self.respectsOneway = respectsOneway
        self.accessSpeedKmh = accessSpeedKmh
    }

    /// The speed on a road (km/h), or nil when the mode may not use it.
    public func speedKmh(roadClass: String?, maxspeed: String?) -> Double? {
        let classSpeed: Double?
        if let c = roadClass, !c.isEmpty {
            if forbiddenClasses.contains(c) { return nil }
            classSpeed = speedsKmh[c] ?? unclassifiedSpeedKmh
        } else {
            classSpeed = unclassifiedSpeedKmh
        }
        guard let base = classSpeed, base > 0 else { return nil }
        if useMaxspeed, let limit = maxspeed.flatMap(Maxspeed.kmh) {
            return Swift.min(limit * maxspeedFactor, maxSpeedKmh)
        }
        return Swift.min(base, maxSpeedKmh)
    }

    /// Whether the profile knows a class: lists a speed for it or forbids it. Unknown classes are
    /// travelled at `unclassifiedSpeedKmh` and worth reporting.
    public func knows(roadClass: String) -> Bool {
        speedsKmh[roadClass] != nil || forbiddenClasses.contains(roadClass)
    }

    /// OSM `highway` values that are not roads for anyone.
    static let notRoads: Set<String> = ["proposed", "construction", "abandoned", "razed", "disused", "platform",
                                        "bus_stop", "elevator", "raceway", "bus_guideway", "escape", "rest_area", "services"]

    // MARK: Danish defaults

    /// Car: OSM classes at typical Danish driving speeds; speed limits used where tagged.
    public static let car = ModeProfile(
        mode: .car,
        speedsKmh: [
            "motorway": 110, "motorway_link": 60, "trunk": 80, "trunk_link": 50,
            "primary": 80, "primary_link": 50, "secondary": 70, "secondary_link": 50,
            "tertiary": 60, "tertiary_link": 40, "unclassified": 50, "road": 40,
            "residential": 40, "living_street": 15, "service": 20,
        ],
        forbiddenClasses: notRoads.union(["footway", "cycleway", "path", "steps", "pedestrian", "track", "bridleway",
                                          "corridor", "via_ferrata"]),
        unclassifiedSpeedKmh: 50, useMaxspeed: true, maxSpeedKmh: 130, respectsOneway: true, accessSpeedKmh: 20)

    /// Bike: 15 km/h on every road a bicycle may use (not motorways and motortrafikveje).
    public static let bike = ModeProfile(
        mode: .bike,
        speedsKmh: Dictionary(uniqueKeysWithValues: [
            "primary", "primary_link", "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified",
            "road", "residential", "living_street", "service", "track", "cycleway", "path", "bridleway",
        ].map { ($0, 15.0) }).merging(["footway": 8, "pedestrian": 8], uniquingKeysWith: { $1 }),
        forbiddenClasses: notRoads.union(["motorway", "motorway_link", "trunk", "trunk_link", "steps", "corridor", "via_ferrata"]),
        unclassifiedSpeedKmh: 15, useMaxspeed: false, maxSpeedKmh: 15, respectsOneway: false, accessSpeedKmh: 10)

    /// Walk: 5 km/h on every road but motorways and motortrafikveje.
    public static let walk = ModeProfile(
        mode: .walk,
        speedsKmh: Dictionary(uniqueKeysWithValues: [
            "primary", "primary_link", "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified",
            "road", "residential", "living_street", "service", "track", "cycleway", "path", "bridleway", "footway",
            "pedestrian", "steps", "corridor",
        ].map { ($0, 5.0) }),
        forbiddenClasses: notRoads.union(["motorway", "motorway_link", "trunk", "trunk_link"]),
        unclassifiedSpeedKmh: 5, useMaxspeed: false, maxSpeedKmh: 5, respectsOneway: false, accessSpeedKmh: 5)

    /// Distance: every line, both directions; costs are metres. The access "speed" is unused.
    public static let distance = ModeProfile(
        mode: .distance, speedsKmh: [:], unclassifiedSpeedKmh: 1, useMaxspeed: false, maxSpeedKmh: .infinity,
        respectsOneway: false, accessSpeedKmh: 1)

    public static func defaults(for mode: TravelMode) -> ModeProfile {
        switch mode {
        case .distance: .distance
        case .car: .car
        case .bike: .bike
        case .walk: .walk
        }
    }
}

/// Speed-limit values: numbers in km/h, `N mph`, and the implicit Danish forms.
public enum Maxspeed {
    public static let implicit: [String: Double] = [
        "DK:urban": 50, "DK:rural": 80, "DK:motorway": 130, "walk": 5, "none": 130,
    ]

    public static func kmh(_ raw: String) -> Double? {
        let s = raw.trimmingCharacters(in: .whitespaces)
        if let v = implicit[s] { return v }
        // "50;70" (varying by lane or time): the lowest value.
        if s.contains(";") { return s.split(separator: ";").compactMap { kmh(String($0)) }.min() }
        if s.hasSuffix("mph"), let v = Double(s.dropLast(3).trimmingCharacters(in: .whitespaces)) { return v * 1.609344 }
        let digits = s.hasSuffix("km/h") ? String(s.dropLast(4)).trimmingCharacters(in: .whitespaces) : s
        if let v = Double(digits), v > 0 { return v }
        return nil
    }
}

/// One-way values. Forward is the direction the line is drawn in.
public struct OnewayRules: Sendable, Hashable {
    public var forward: Set<String>
    public var backward: Set<String>
    /// Classes that are one-way in drawing direction without a tag (OSM motorways).
    public var impliedClasses: Set<String>

    public init(forward: Set<String>, backward: Set<String>, impliedClasses: Set<String>) {
        self.forward = forward
        self.backward = backward
        self.impliedClasses = impliedClasses
    }

    /// OSM values, plus the `FT`/`TF` of many road registers.
    public static let standard = OnewayRules(
        forward: ["yes", "true", "1", "FT", "ft"], backward: ["-1", "reverse", "TF", "tf"], impliedClasses: ["motorway"])

    public enum Direction: Sendable { case both, forwardOnly, backwardOnly }

    public func direction(oneway: String?, roadClass: String?) -> Direction {
        if let o = oneway?.trimmingCharacters(in: .whitespaces) {
            if forward.contains(o) { return .forwardOnly }
            if backward.contains(o) { return .backwardOnly }
            if ["no", "false", "0"].contains(o) { return .both }
        }
        if let c = roadClass, impliedClasses.contains(c) { return .forwardOnly }
        return .both
    }
}
