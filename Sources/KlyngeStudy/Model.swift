import KlyngeGeo

/// A facility category of the study's vocabulary.
public struct Category: Hashable, Sendable, Codable {
    public var key: String
    public var labelDa: String
    public var labelEn: String
    public init(key: String, labelDa: String, labelEn: String) {
        self.key = key
        self.labelDa = labelDa
        self.labelEn = labelEn
    }
    public func label(language: String) -> String { language == "en" ? labelEn : labelDa }
}

/// A village or parish polygon (after dissolve and repair), in the working CRS.
public struct Area: Hashable, Sendable {
    public var id: String
    public var name: String
    public var population: Double?
    public var cluster: String?
    public var geometry: Geometry
    /// Every attribute of the source (of the first part, after a dissolve), for `regions --within FIELD`.
    public var attributes: [String: AttributeValue]
    public init(id: String, name: String, population: Double?, cluster: String?, geometry: Geometry,
                attributes: [String: AttributeValue] = [:]) {
        self.id = id
        self.name = name
        self.population = population
        self.cluster = cluster
        self.geometry = geometry
        self.attributes = attributes
    }
}

/// Where people live: a point with a weight (population), in the working CRS.
public struct DemandPoint: Hashable, Sendable {
    public var id: String
    public var name: String
    public var location: Coordinate
    public var weight: Double
    /// The area the point lies in, if any.
    public var areaId: String?
    public init(id: String, name: String, location: Coordinate, weight: Double, areaId: String?) {
        self.id = id
        self.name = name
        self.location = location
        self.weight = weight
        self.areaId = areaId
    }
}

/// A meeting place: one point (polygons reduced to a point on the surface), one or more categories.
public struct Facility: Hashable, Sendable {
    public var id: String
    public var name: String
    public var categories: [String]
    public var location: Coordinate
    /// Every other attribute of the source, as it was.
    public var attributes: [String: AttributeValue]
    /// Mapped roles: places, annual running cost (the study's currency), condition.
    public var capacity: Double?
    public var annualCost: Double?
    public var condition: String?
    /// What draws people to it beyond nearness (floor area, opening hours, a score): the market-share models' weight.
    public var attractiveness: Double?

    public init(id: String, name: String, categories: [String], location: Coordinate, attributes: [String: AttributeValue],
                capacity: Double? = nil, annualCost: Double? = nil, condition: String? = nil, attractiveness: Double? = nil) {
        self.attractiveness = attractiveness
        self.id = id
        self.name = name
        self.categories = categories
        self.location = location
        self.attributes = attributes
        self.capacity = capacity
        self.annualCost = annualCost
        self.condition = condition
    }
}

/// A road centre-line, in the working CRS.
public struct Road: Hashable, Sendable {
    public var id: String
    public var parts: [[Coordinate]]
    public var roadClass: String?
    public var maxspeed: String?
    public var oneway: String?
    public var name: String?
    public init(id: String, parts: [[Coordinate]], roadClass: String?, maxspeed: String?, oneway: String?, name: String?) {
        self.id = id
        self.parts = parts
        self.roadClass = roadClass
        self.maxspeed = maxspeed
        self.oneway = oneway
        self.name = name
    }
}

/// A loaded study, every geometry in `crs`.
public struct Study: Sendable {
    public var name: String
    public var description: String?
    public var crs: CRS
    public var language: String
    public var categories: [Category]
    public var areas: [Area]
    public var demand: [DemandPoint]
    /// Whether demand was derived from the areas (no demand layer in the study file).
    public var demandDerivedFromAreas: Bool
    public var facilities: [Facility]
    public var roads: [Road]
    /// How the road network is built and travelled (the study file's `network:` section).
    public var network: StudyFile.NetworkSettings
    public var coverage: [String: StudyFile.CoverageRule]
    public var scenarios: [StudyFile.ScenarioSpec]
    public var clusters: StudyFile.ClusterSettings
    public var attribution: [String] = []
    /// The wider region's polygons (working CRS), for a map's locator inset; empty without a `locator` layer.
    public var locator: [Geometry] = []
    /// Land polygons around the study (working CRS), so a map can tell sea from land; empty without a `land` layer.
    public var land: [Geometry] = []
    /// The study's citizen survey files, as absolute paths (read by the survey module).
    public var surveyFiles: [String] = []
    /// Layers of facts tied to villages and areas (`facts:`), in the study file's order.
    public var facts: [FactLayer] = []
    /// The idea catalogue and masterplan (`plan:`): chosen scenario, focus areas and sketch layers.
    public var plan = StudyPlan()

    public init(name: String, crs: CRS, language: String, categories: [Category], areas: [Area],
                demand: [DemandPoint], demandDerivedFromAreas: Bool, facilities: [Facility], roads: [Road],
                network: StudyFile.NetworkSettings = StudyFile.NetworkSettings(),
                coverage: [String: StudyFile.CoverageRule] = [:], scenarios: [StudyFile.ScenarioSpec] = [],
                clusters: StudyFile.ClusterSettings = StudyFile.ClusterSettings()) {
        self.network = network
        self.coverage = coverage
        self.scenarios = scenarios
        self.clusters = clusters
        self.name = name
        self.crs = crs
        self.language = language
        self.categories = categories
        self.areas = areas
        self.demand = demand
        self.demandDerivedFromAreas = demandDerivedFromAreas
        self.facilities = facilities
        self.roads = roads
    }
}

/// An area named by its id, or by a name only one area has.
public enum AreaMatch: Sendable, Equatable {
    case found(Int)
    case ambiguous(ids: [String])
    case none

    /// In words, for a key path or option: nil when found.
    public func problem(_ key: String) -> String? {
        switch self {
        case .found: nil
        case .ambiguous(let ids): "`\(key)` names \(ids.count) areas (ids \(ids.joined(separator: ", "))); use an id"
        case .none: "no area has the id or name `\(key)`"
        }
    }
}

extension Study {
    /// Each area's people: its own population when the data gives one, else the sum of its demand points.
    public func areaPopulations() -> [String: Double] {
        var fromDemand: [String: Double] = [:]
        for d in demand { if let a = d.areaId { fromDemand[a, default: 0] += d.weight } }
        return Dictionary(areas.map { ($0.id, $0.population ?? fromDemand[$0.id] ?? 0) }, uniquingKeysWith: { a, _ in a })
    }

    public func area(matching key: String) -> AreaMatch {
        if let i = areas.firstIndex(where: { $0.id == key }) { return .found(i) }
        let named = areas.indices.filter { areas[$0].name == key }
        if named.count == 1 { return .found(named[0]) }
        return named.isEmpty ? .none : .ambiguous(ids: named.map { areas[$0].id })
    }
}

/// How a fact measure is aggregated over the records of a place.
public enum FactAggregate: Sendable, Hashable {
    case count
    case sum(field: String)
    case mean(field: String)
    /// Per 1,000 inhabitants: of the field's sum, or of the count without a field.
    case per1000(field: String?)
    /// The sum of `field` over the sum of `of`.
    case share(field: String, of: String)
}

public struct FactMeasure: Sendable, Hashable {
    public var id: String
    public var labelDa: String
    public var labelEn: String
    public var aggregate: FactAggregate
    public init(id: String, labelDa: String, labelEn: String, aggregate: FactAggregate) {
        self.id = id
        self.labelDa = labelDa
        self.labelEn = labelEn
        self.aggregate = aggregate
    }
}

/// One fact (a feature or a table row): the village and area it belongs to, and its numeric values by the
/// layer's field names (a missing value is absent, never zero).
public struct FactRecord: Sendable, Hashable {
    public var villageId: String?
    public var areaId: String?
    public var values: [String: Double]
    public init(villageId: String?, areaId: String?, values: [String: Double]) {
        self.villageId = villageId
        self.areaId = areaId
        self.values = values
    }
}

/// A layer of facts, read and tied to the study's places.
public struct FactLayer: Sendable, Hashable {
    public var id: String
    public var labelDa: String
    public var labelEn: String
    public var measures: [FactMeasure]
    public var records: [FactRecord]
    /// Tied to areas only (a table joined by area code): it has no village figures.
    public var areasOnly: Bool
    public init(id: String, labelDa: String, labelEn: String, measures: [FactMeasure], records: [FactRecord], areasOnly: Bool) {
        self.id = id
        self.labelDa = labelDa
        self.labelEn = labelEn
        self.measures = measures
        self.records = records
        self.areasOnly = areasOnly
    }
}

/// The steering group's plan: the scenario it chose, its focus areas and the planner's sketch layers.
public struct StudyPlan: Sendable, Hashable {
    public var chosenScenario: String?
    public var focusAreas: [FocusArea] = []
    public var sketches: [SketchLayer] = []
    public init(chosenScenario: String? = nil, focusAreas: [FocusArea] = [], sketches: [SketchLayer] = []) {
        self.chosenScenario = chosenScenario
        self.focusAreas = focusAreas
        self.sketches = sketches
    }
}

/// One focus area (indsatsområde) of the idea catalogue, in the study's language.
public struct FocusArea: Sendable, Hashable {
    public var title: String
    public var vision: String?
    public var potential: String?
    public var advantages: [String]
    public var obstacles: [String]
    public var priority: PlanPriority?
    /// When it happens, as written (`2027–2028`).
    public var timeline: String?
    /// The scenario that carries it out.
    public var scenario: String?

    /// From the study file (its priority checked by `StudyFile.checkPlan`).
    public init(_ spec: StudyFile.FocusAreaSpec) {
        title = spec.title
        vision = spec.vision
        potential = spec.potential
        advantages = spec.advantages ?? []
        obstacles = spec.obstacles ?? []
        priority = spec.priority.flatMap(PlanPriority.init(rawValue:))
        timeline = spec.timeline
        scenario = spec.scenario
    }
}

/// A layer a planner drew (new paths, a village green, a new meeting place), in the working CRS.
public struct SketchLayer: Sendable, Hashable {
    public struct Item: Sendable, Hashable {
        public var name: String?
        public var kind: String?
        public var geometry: Geometry
        public init(name: String?, kind: String?, geometry: Geometry) {
            self.name = name
            self.kind = kind
            self.geometry = geometry
        }
    }
    public var id: String
    public var labelDa: String
    public var labelEn: String
    public var items: [Item]
    public init(id: String, labelDa: String, labelEn: String, items: [Item]) {
        self.id = id
        self.labelDa = labelDa
        self.labelEn = labelEn
        self.items = items
    }
    public func label(language: String) -> String { language == "en" ? labelEn : labelDa }
}
