import Foundation
import KlyngeGeo
import Yams

/// The study file (YAML) as written by a kommune: the one document of an analysis.
/// Paths are relative to the study file's folder; a `PG:` string names a PostGIS database.
public struct StudyFile: Codable, Sendable, Hashable {
    public var name: String
    public var description: String?
    /// Working CRS; default EPSG:25832 for data in Denmark, else the UTM zone of the data.
    public var crs: String?
    /// Language of labels in outputs: "da" (default) or "en".
    public var language: String?
    /// The facility vocabulary: key → labels.
    public var categories: [String: CategoryLabels]
    public var layers: Layers
    public var checks: Checks?
    /// Road network settings (defaults documented in the README).
    public var network: NetworkSettings?
    /// What counts as reaching a facility, per category (`default` for the rest).
    public var coverage: [String: CoverageRule]?
    /// Named consolidation scenarios: changes against the baseline.
    public var scenarios: [ScenarioSpec]?
    /// Which areas form which cluster, and each cluster's hub.
    public var clusters: ClusterSettings?
    /// Credits printed on maps ("© OpenStreetMap contributors", …).
    public var attribution: [String]?
    /// Citizen survey files (YAML), relative to the study file.
    public var surveys: [String]?
    /// Further layers of facts (associations, businesses, dwellings, population by age …), aggregated per
    /// village, area and cluster by the measures each declares.
    public var facts: [FactSpec]?
    /// The idea catalogue and masterplan: the chosen scenario, focus areas and the planner's sketch layers.
    public var plan: PlanSpec?
    /// The order of `categories` as written (YAML mappings decode unordered).
    public var categoryOrder: [String] = []

    public init(name: String, description: String? = nil, crs: String? = nil, language: String? = nil,
                categories: [String: CategoryLabels], layers: Layers, checks: Checks? = nil) {
        self.name = name
        self.description = description
        self.crs = crs
        self.language = language
        self.categories = categories
        self.layers = layers
        self.checks = checks
    }

    public struct CategoryLabels: Codable, Sendable, Hashable {
        public var da: String
        public var en: String
        enum CodingKeys: String, CodingKey, CaseIterable { case da, en }
        public init(da: String, en: String) {
            self.da = da
            self.en = en
        }
    }

    /// The layers. A study file needs `areas` and `facilities`; code may leave them out
    /// (a bare origin–destination matrix has neither).
    public struct Layers: Codable, Sendable, Hashable {
        public var areas: LayerSpec?
        public var demand: LayerSpec?
        public var facilities: LayerSpec?
        public var roads: LayerSpec?
        /// The wider region (a country or region outline) a map's locator inset shows the study in.
        public var locator: LayerSpec?
        /// Land around the study (other kommuner, a coastline's land polygons), so maps draw sea only where it is.
        public var land: LayerSpec?
        enum CodingKeys: String, CodingKey, CaseIterable { case areas, demand, facilities, roads, locator, land }
        public init(areas: LayerSpec?, demand: LayerSpec? = nil, facilities: LayerSpec?, roads: LayerSpec? = nil) {
            self.areas = areas
            self.demand = demand
            self.facilities = facilities
            self.roads = roads
        }
    }

    /// How the road network is built and travelled. Every value is optional; see the README for defaults.
    public struct NetworkSettings: Codable, Sendable, Hashable {
        /// Vertices closer than this (metres) are joined.
        public var vertexToleranceMeters: Double?
        /// Points farther than this from a usable road are reported, not attached.
        public var maxSnapMeters: Double?
        /// Attach points only to the largest connected piece of the network.
        public var largestComponentOnly: Bool?
        /// A point whose nearest road is on a small cut-off piece: `main_network` (default, attached to the main
        /// network's nearest road and flagged) or `unattached` (reported, counted as unreachable).
        public var cutOffPieces: String?
        /// Off-network legs longer than this are flagged in the snap report.
        public var suspiciousSnapMeters: Double?
        /// Per-mode overrides: `car`, `bike`, `walk`.
        public var modes: [String: ModeSettings]?
        /// The roads' own class values → the profile's classes (e.g. `Motorvej: motorway`).
        public var classValues: [String: String]?
        public var oneway: OnewaySettings?

        public init(vertexToleranceMeters: Double? = nil, maxSnapMeters: Double? = nil, largestComponentOnly: Bool? = nil,
                    suspiciousSnapMeters: Double? = nil, modes: [String: ModeSettings]? = nil, oneway: OnewaySettings? = nil) {
            self.vertexToleranceMeters = vertexToleranceMeters
            self.maxSnapMeters = maxSnapMeters
            self.largestComponentOnly = largestComponentOnly
            self.suspiciousSnapMeters = suspiciousSnapMeters
            self.modes = modes
            self.oneway = oneway
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case modes, oneway
            case vertexToleranceMeters = "vertex_tolerance_m"
            case maxSnapMeters = "max_snap_m"
            case largestComponentOnly = "largest_component_only"
            case cutOffPieces = "cut_off_pieces"
            case suspiciousSnapMeters = "suspicious_snap_m"
            case classValues = "class_values"
        }
    }

    public struct ModeSettings: Codable, Sendable, Hashable {
        /// Speeds by road class (km/h), merged over the defaults; 0 forbids a class, a speed allows a forbidden one.
        public var speedsKmh: [String: Double]?
        /// Speed for lines without a class; 0 forbids them.
        public var unclassifiedSpeedKmh: Double?
        public var useMaxspeed: Bool?
        public var maxspeedFactor: Double?
        public var maxSpeedKmh: Double?
        public var respectOneway: Bool?
        public var accessSpeedKmh: Double?

        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable {
            case speedsKmh = "speeds_kmh"
            case unclassifiedSpeedKmh = "unclassified_speed_kmh"
            case useMaxspeed = "use_maxspeed"
            case maxspeedFactor = "maxspeed_factor"
            case maxSpeedKmh = "max_speed_kmh"
            case respectOneway = "respect_oneway"
            case accessSpeedKmh = "access_speed_kmh"
        }
    }

    public struct OnewaySettings: Codable, Sendable, Hashable {
        /// Values meaning one-way in the drawing direction (default yes, true, 1, FT).
        public var forward: [String]?
        /// Values meaning one-way against it (default -1, reverse, TF).
        public var backward: [String]?
        /// Classes one-way without a tag (default motorway).
        public var impliedClasses: [String]?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case forward, backward
            case impliedClasses = "implied_classes"
        }
    }

    /// Limits for validation.
    public struct Checks: Codable, Sendable, Hashable {
        /// Facilities and demand points up to this far outside the areas are warned about;
        /// farther is an error. Default 1000 m.
        public var maxOutsideMeters: Double?
        enum CodingKeys: String, CodingKey, CaseIterable { case maxOutsideMeters = "max_outside_m" }
    }

    /// One layer: where it comes from and how its fields map.
    public struct LayerSpec: Codable, Sendable, Hashable {
        public var source: String
        public var layer: String?
        /// CRS to assume when the source declares none (e.g. CSV, Shapefile without .prj).
        public var assumeCRS: String?
        /// OGR SQL WHERE clause to select features.
        public var filter: String?
        /// Field mapping: role → the source's field name.
        public var fields: [String: String]
        /// Areas: dissolve features sharing this field's value into one.
        public var dissolve: String?
        /// Facilities: source category values → study category keys.
        public var categoryValues: [String: String]?
        /// Facilities: per-feature corrections by id or by name.
        public var overrides: [Override]?
        /// Extra GDAL open options (`KEY=VALUE`).
        public var openOptions: [String]?
        /// `da`: numbers written as text in the Danish way ("632.340" is 632340, "12,5" is 12.5).
        public var numberFormat: String?
        /// Areas: population (and cluster) from a separate table, e.g. a Danmarks Statistik table by parish code.
        public var join: JoinSpec?
        /// The text encoding of the source when it is not UTF-8: `latin1`, `windows-1252` (GDAL's ENCODING for a Shapefile).
        public var encoding: String?

        public init(source: String, layer: String? = nil, assumeCRS: String? = nil, filter: String? = nil,
                    fields: [String: String], dissolve: String? = nil, categoryValues: [String: String]? = nil,
                    overrides: [Override]? = nil, openOptions: [String]? = nil) {
            self.source = source
            self.layer = layer
            self.assumeCRS = assumeCRS
            self.filter = filter
            self.fields = fields
            self.dissolve = dissolve
            self.categoryValues = categoryValues
            self.overrides = overrides
            self.openOptions = openOptions
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case source, layer, fields, dissolve, overrides
            case assumeCRS = "assume_crs"
            case filter = "where"
            case categoryValues = "category_values"
            case openOptions = "open_options"
            case numberFormat = "number_format"
            case join, encoding
        }
    }

    /// A table joined to the areas by id: `key` is its id field; `fields` maps `population` and/or `cluster`.
    public struct JoinSpec: Codable, Sendable, Hashable {
        public var source: String
        public var layer: String?
        public var key: String
        public var fields: [String: String]
        public var numberFormat: String?
        public var encoding: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case source, layer, key, fields, encoding
            case numberFormat = "number_format"
        }
    }

    /// A correction to one facility, matched by id or by exact name.
    public struct Override: Codable, Sendable, Hashable {
        public var id: String?
        public var name: String?
        /// New category (or `;`-separated categories).
        public var category: String?
        /// Drop the feature from the study.
        public var exclude: Bool?
        enum CodingKeys: String, CodingKey, CaseIterable { case id, name, category, exclude }
        public init(id: String? = nil, name: String? = nil, category: String? = nil, exclude: Bool? = nil) {
            self.id = id
            self.name = name
            self.category = category
            self.exclude = exclude
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, description, crs, language, categories, layers, checks, network, coverage, scenarios, clusters, attribution, surveys, facts, plan
    }

    /// A layer of facts: where it comes from (as a layer), which numeric fields it has (`fields`: name → the
    /// source's field), how it is tied to places (by position, or for a table by `join` to area or village
    /// ids), and what is reported (`measures`).
    public struct FactSpec: Codable, Sendable, Hashable {
        public var id: String
        public var label: CategoryLabels?
        public var source: String
        public var layer: String?
        public var assumeCRS: String?
        public var filter: String?
        public var fields: [String: String]?
        public var join: FactJoin?
        public var measures: [FactMeasureSpec]
        public var openOptions: [String]?
        public var numberFormat: String?
        public var encoding: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case id, label, source, layer, fields, join, measures, encoding
            case assumeCRS = "assume_crs"
            case filter = "where"
            case openOptions = "open_options"
            case numberFormat = "number_format"
        }

        /// The source part, read like any layer (`key` is the join field, when there is one).
        public var layerSpec: LayerSpec {
            var f = fields ?? [:]
            if let join { f[FactSpec.joinKeyRole] = join.key }
            var spec = LayerSpec(source: source, layer: layer, assumeCRS: assumeCRS, filter: filter, fields: f, openOptions: openOptions)
            spec.numberFormat = numberFormat
            spec.encoding = encoding
            return spec
        }
        /// The mapping name the join field is read under (never a name a measure can use).
        public static let joinKeyRole = " key"
    }

    /// The plan a steering group writes (`plan:`): which scenario it chose, its focus areas (indsatsområder)
    /// and the layers a planner drew in QGIS (new paths, a village green, a new meeting place).
    public struct PlanSpec: Codable, Sendable, Hashable {
        /// The chosen scenario (one of `scenarios`), shown as the plan.
        public var scenario: String?
        public var focusAreas: [FocusAreaSpec]?
        public var sketches: [SketchSpec]?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case scenario, sketches
            case focusAreas = "focus_areas"
        }
    }

    /// One focus area of the idea catalogue, in the study's language.
    public struct FocusAreaSpec: Codable, Sendable, Hashable {
        public var title: String
        public var vision: String?
        public var potential: String?
        public var advantages: [String]?
        public var obstacles: [String]?
        /// high, medium or low.
        public var priority: String?
        /// When it happens, as written (`2027–2028`).
        public var timeline: String?
        /// A scenario of the study that carries it out.
        public var scenario: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case title, vision, potential, advantages, obstacles, priority, timeline, scenario }
    }

    /// A sketch layer: points, lines or areas from any GDAL source, with an optional name and kind per feature.
    public struct SketchSpec: Codable, Sendable, Hashable {
        public var id: String
        public var label: CategoryLabels?
        public var source: String
        public var layer: String?
        public var assumeCRS: String?
        public var filter: String?
        /// `name` and `kind` → the source's fields.
        public var fields: [String: String]?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case id, label, source, layer, fields
            case assumeCRS = "assume_crs"
            case filter = "where"
        }
        public var layerSpec: LayerSpec { LayerSpec(source: source, layer: layer, assumeCRS: assumeCRS, filter: filter, fields: fields ?? [:]) }
    }

    /// A table of facts tied to places by a code: `to` is `areas` or `villages`, `key` the table's field.
    public struct FactJoin: Codable, Sendable, Hashable {
        public var to: String
        public var key: String
        enum CodingKeys: String, CodingKey, CaseIterable { case to, key }
    }

    /// One figure of a fact layer per place: `count`, `sum`/`mean` of a field, `per_1000` inhabitants (of a
    /// field's sum, or of the count without one), or `share` (the sum of `field` over the sum of `of`).
    public struct FactMeasureSpec: Codable, Sendable, Hashable {
        public var id: String
        public var label: CategoryLabels?
        public var aggregate: String
        public var field: String?
        public var of: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case id, label, aggregate, field, of }
    }

    /// A threshold: `minutes` (travel time) or `km` (distance along the chosen route), by a mode.
    public struct CoverageRule: Codable, Sendable, Hashable {
        public var minutes: Double?
        public var km: Double?
        /// car (default), bike, walk or distance.
        public var mode: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case minutes, km, mode }
        public init(minutes: Double? = nil, km: Double? = nil, mode: String? = nil) {
            self.minutes = minutes
            self.km = km
            self.mode = mode
        }
    }

    /// A scenario as written in the study file.
    public struct ScenarioSpec: Codable, Sendable, Hashable {
        public var name: String
        public var description: String?
        /// Facility ids to close.
        public var close: [String]?
        public var open: [NewFacility]?
        public var merge: [Merge]?
        public var recategorise: [Recategorise]?
        enum CodingKeys: String, CodingKey, CaseIterable { case name, description, close, open, merge, recategorise }
        public init(name: String, description: String? = nil, close: [String]? = nil, open: [NewFacility]? = nil,
                    merge: [Merge]? = nil, recategorise: [Recategorise]? = nil) {
            self.name = name
            self.description = description
            self.close = close
            self.open = open
            self.merge = merge
            self.recategorise = recategorise
        }
    }

    /// A facility a scenario opens: at `lonlat`, at working-CRS `xy`, or `at` a named village or area.
    public struct NewFacility: Codable, Sendable, Hashable {
        public var id: String?
        public var name: String
        public var categories: [String]
        public var lonlat: [Double]?
        public var xy: [Double]?
        public var at: String?
        public var capacity: Double?
        public var annualCost: Double?
        public init(id: String? = nil, name: String, categories: [String], lonlat: [Double]? = nil, xy: [Double]? = nil,
                    at: String? = nil, capacity: Double? = nil, annualCost: Double? = nil) {
            self.id = id
            self.name = name
            self.categories = categories
            self.lonlat = lonlat
            self.xy = xy
            self.at = at
            self.capacity = capacity
            self.annualCost = annualCost
        }
        enum CodingKeys: String, CodingKey, CaseIterable {
            case id, name, categories, lonlat, xy, at, capacity
            case annualCost = "annual_cost"
        }
    }

    /// Keep one facility and close the others; the kept one takes over their categories and capacity.
    public struct Merge: Codable, Sendable, Hashable {
        public var keep: String
        public var close: [String]
        enum CodingKeys: String, CodingKey, CaseIterable { case keep, close }
        public init(keep: String, close: [String]) {
            self.keep = keep
            self.close = close
        }
    }

    public struct Recategorise: Codable, Sendable, Hashable {
        public var id: String
        public var categories: [String]
        enum CodingKeys: String, CodingKey, CaseIterable { case id, categories }
        public init(id: String, categories: [String]) {
            self.id = id
            self.categories = categories
        }
    }

    /// Clusters: area id → cluster name (when the areas layer maps no `cluster` field), hubs by cluster,
    /// and the drive within which same-category facilities are consolidation candidates.
    public struct ClusterSettings: Codable, Sendable, Hashable {
        public var assignments: [String: String]?
        /// A table (CSV, spreadsheet export, any GDAL source) of area id → cluster name, with `fields: {area:, cluster:}`.
        public var source: String?
        public var layer: String?
        public var fields: [String: String]?
        /// Cluster → the name or id of its hub village (default: its most populous village).
        public var hubs: [String: String]?
        public var candidateMinutes: Double?
        /// Pairs of areas (ids or names) that `regions` treats as neighbours although they share no boundary
        /// and no road: a ferry island and its harbour parish.
        public var links: [[String]]?
        public init(assignments: [String: String]? = nil, hubs: [String: String]? = nil, candidateMinutes: Double? = nil,
                    links: [[String]]? = nil) {
            self.assignments = assignments
            self.hubs = hubs
            self.candidateMinutes = candidateMinutes
            self.links = links
        }
        enum CodingKeys: String, CodingKey, CaseIterable {
            case assignments, hubs, source, layer, fields, links
            case candidateMinutes = "candidate_minutes"
        }
    }

}

/// How urgent a focus area is.
public enum PlanPriority: String, Sendable, CaseIterable { case high, medium, low }

/// The aggregations a fact measure can use.
public enum FactAggregateName: String, Sendable, CaseIterable {
    case count, sum, mean, per1000 = "per_1000", share
    var needsField: Bool { self == .sum || self == .mean || self == .share }
}

/// The layers a study reads, each with its job.
public enum LayerRole: String, Sendable, Hashable, Codable, CaseIterable {
    case areas, demand, facilities, roads, locator, land
    /// A layer of facts (`facts:`), which maps its own fields.
    case facts
    /// A sketch layer of the plan (`plan.sketches`).
    case sketch

    /// The field roles its mapping knows: those it needs, and those it may have.
    public var fieldRoles: (required: [String], optional: [String]) {
        switch self {
        case .areas: (["id"], ["name", "population", "cluster"])
        case .demand: (["id"], ["name", "weight", "area"])
        case .facilities: (["id", "category"], ["name", "capacity", "annual_cost", "condition", "attractiveness"])
        case .roads: ([], ["id", "class", "maxspeed", "oneway", "name"])
        case .locator, .land: ([], ["name"])
        case .facts: ([], [])
        case .sketch: ([], ["name", "kind"])
        }
    }
}

extension StudyFile.Layers {
    public subscript(role: LayerRole) -> StudyFile.LayerSpec? {
        switch role {
        case .areas: areas
        case .demand: demand
        case .facilities: facilities
        case .roads: roads
        case .locator: locator
        case .land: land
        case .facts, .sketch: nil
        }
    }
}

/// Problems with the study file itself (before any data is read).
public struct StudyFileError: Error, CustomStringConvertible {
    public let path: String
    public let message: String
    public var description: String { "\(path): \(message)" }
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
}

extension StudyFile {
    /// Parses a study file, with the YAML position of a syntax error or the missing key.
    public static func parse(yaml: String, path: String) throws -> StudyFile {
        do {
            var file = try YAMLDecoder().decode(StudyFile.self, from: yaml)
            if let keys = try? Yams.compose(yaml: yaml)?["categories"]?.mapping?.keys {
                file.categoryOrder = keys.compactMap(\.string)
            }
            return file
        } catch let DecodingError.keyNotFound(key, ctx) {
            let at = (ctx.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: ".")
            throw StudyFileError(path: path, message: "missing key `\(at)`")
        } catch let DecodingError.dataCorrupted(ctx) where ctx.codingPath.isEmpty {
            let detail = ctx.underlyingError.map { "\($0)" } ?? ctx.debugDescription
            throw StudyFileError(path: path, message: "not valid YAML: \(detail)")
        } catch let e as DecodingError {
            if case .typeMismatch(_, let ctx) = e, ctx.codingPath.isEmpty {
                let empty = yaml.split(whereSeparator: \.isNewline).allSatisfy { $0.trimmingCharacters(in: .whitespaces).isEmpty || $0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }
                throw StudyFileError(path: path, message: empty ? "the study file is empty; it needs at least `name`, `categories` and `layers`"
                                     : "the study file must be a set of keys (`name:`, `categories:`, `layers:` …), not a single value or a list")
            }
            throw StudyFileError(path: path, message: DecodingProblem.describe(e, document: "YAML"))
        } catch let e as YamlError {
            throw StudyFileError(path: path, message: "not valid YAML: \(e)")
        } catch {
            throw StudyFileError(path: path, message: "\(error)")
        }
    }

    public static func load(path: String) throws -> StudyFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StudyFileError(path: path, message: "cannot read the study file (missing or unreadable)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw StudyFileError(path: path, message: "the study file is not UTF-8 text")
        }
        try checkKeys(yaml: text, path: path)
        let study = try parse(yaml: text, path: path)
        try study.checkMappings(path: path)
        return study
    }

    /// Structural checks that need no data: required roles mapped, no unknown roles.
    public func checkMappings(path: String) throws {
        if layers.areas == nil { throw StudyFileError(path: path, message: "missing key `layers.areas`") }
        if layers.facilities == nil { throw StudyFileError(path: path, message: "missing key `layers.facilities`") }
        for role in LayerRole.allCases {
            guard let spec = layers[role] else { continue }
            let name = role.rawValue, roles = role.fieldRoles
            for r in roles.required where spec.fields[r] == nil {
                throw StudyFileError(path: path, message: "layers.\(name).fields: the `\(r)` field must be mapped")
            }
            let known = Set(roles.required + roles.optional)
            for r in spec.fields.keys where !known.contains(r) {
                throw StudyFileError(path: path, message: "layers.\(name).fields: unknown role `\(r)` (known: \(known.sorted().joined(separator: ", ")))")
            }
        }
        if categories.isEmpty {
            throw StudyFileError(path: path, message: "`categories` must define at least one facility category")
        }
        if let lang = language, !["da", "en"].contains(lang) {
            throw StudyFileError(path: path, message: "language must be `da` or `en`, not `\(lang)`")
        }
        try checkNumbers(path: path)
        try checkFacts(path: path)
        try checkPlan(path: path)
    }

    /// The plan's own rules: a chosen scenario the study has, priorities Klynge knows, sketch ids and fields.
    public func checkPlan(path: String) throws {
        guard let plan else { return }
        let names = Set((scenarios ?? []).map(\.name))
        if let s = plan.scenario, !names.contains(s) {
            throw StudyFileError(path: path, message: "`plan.scenario`: the study has no scenario `\(s)`")
        }
        for (i, f) in (plan.focusAreas ?? []).enumerated() {
            let at = "plan.focus_areas[\(i)]"
            if f.title.trimmingCharacters(in: .whitespaces).isEmpty { throw StudyFileError(path: path, message: "`\(at).title`: a focus area needs a title") }
            if let p = f.priority, PlanPriority(rawValue: p) == nil {
                throw StudyFileError(path: path, message: "`\(at).priority` (`\(f.title)`): `\(p)` is not a priority (high, medium, low)")
            }
            if let s = f.scenario, !names.contains(s) {
                throw StudyFileError(path: path, message: "`\(at).scenario` (`\(f.title)`): the study has no scenario `\(s)`")
            }
        }
        var ids = Set<String>()
        for (i, s) in (plan.sketches ?? []).enumerated() {
            let at = "plan.sketches[\(i)]"
            guard !s.id.isEmpty, s.id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
                throw StudyFileError(path: path, message: "`\(at).id` (`\(s.id)`): use letters, digits, `_` or `-` for a sketch layer's id")
            }
            guard ids.insert(s.id).inserted else { throw StudyFileError(path: path, message: "`\(at).id`: two sketch layers are called `\(s.id)`") }
            for role in (s.fields ?? [:]).keys where !["name", "kind"].contains(role) {
                throw StudyFileError(path: path, message: "`\(at).fields` (`\(s.id)`): unknown role `\(role)` (known: kind, name)")
            }
        }
    }

    /// The fact layers' own rules: ids, joins, and measures that name an aggregation Klynge has and the
    /// fields the layer maps.
    public func checkFacts(path: String) throws {
        var ids = Set<String>()
        for (i, f) in (facts ?? []).enumerated() {
            let at = "facts[\(i)]"
            func fail(_ key: String, _ message: String) -> StudyFileError { StudyFileError(path: path, message: "`\(at)\(key)` (`\(f.id)`): \(message)") }
            guard !f.id.isEmpty, f.id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
                throw fail(".id", "use letters, digits, `_` or `-` for a fact layer's id")
            }
            guard ids.insert(f.id).inserted else { throw fail(".id", "two fact layers have this id") }
            if let j = f.join, !["areas", "villages"].contains(j.to) {
                throw fail(".join.to", "a table joins to `areas` or `villages`, not `\(j.to)`")
            }
            let mapped = Set((f.fields ?? [:]).keys)
            guard !f.measures.isEmpty else { throw fail(".measures", "the layer reports nothing; give it at least one measure") }
            var measureIds = Set<String>()
            for (k, m) in f.measures.enumerated() {
                let mat = ".measures[\(k)]"
                guard measureIds.insert(m.id).inserted else { throw fail(mat + ".id", "two measures are called `\(m.id)`") }
                guard let kind = FactAggregateName(rawValue: m.aggregate) else {
                    throw fail(mat + ".aggregate", "`\(m.aggregate)` is not an aggregation (\(FactAggregateName.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                if kind.needsField, m.field == nil { throw fail(mat + ".field", "`\(m.aggregate)` needs a `field`") }
                if kind == .share, m.of == nil { throw fail(mat + ".of", "`share` needs `of` (the field the share is of)") }
                for name in [m.field, m.of].compactMap({ $0 }) where !mapped.contains(name) {
                    throw fail(mat, "`\(name)` is not one of the layer's `fields` (\(mapped.sorted().joined(separator: ", ")))")
                }
            }
        }
    }

    /// Settings that would give wrong numbers are refused, naming the key: every number finite and within
    /// what the setting can mean (a negative speed or snap distance, or NaN, silently changes every figure).
    public func checkNumbers(path: String) throws {
        func check(_ key: String, _ value: Double?, _ range: ClosedRange<Double>, _ meaning: String) throws {
            guard let v = value else { return }
            guard v.isFinite, range.contains(v) else {
                throw StudyFileError(path: path, message: "`\(key)` must be \(meaning), not \(v)")
            }
        }
        let speeds = 0.0...300.0
        if let n = network {
            try check("network.vertex_tolerance_m", n.vertexToleranceMeters, 0...100, "from 0 to 100 m")
            try check("network.max_snap_m", n.maxSnapMeters, 0.001...1_000_000, "a positive distance in metres")
            try check("network.suspicious_snap_m", n.suspiciousSnapMeters, 0...1_000_000, "a distance in metres from 0")
            for (mode, m) in (n.modes ?? [:]).sorted(by: { $0.key < $1.key }) {
                let at = "network.modes.\(mode)"
                for (cls, v) in (m.speedsKmh ?? [:]).sorted(by: { $0.key < $1.key }) {
                    try check("\(at).speeds_kmh.\(cls)", v, speeds, "a speed from 0 (forbidden) to 300 km/h")
                }
                try check("\(at).unclassified_speed_kmh", m.unclassifiedSpeedKmh, speeds, "a speed from 0 (forbidden) to 300 km/h")
                try check("\(at).maxspeed_factor", m.maxspeedFactor, 0.01...3, "a factor from 0.01 to 3")
                try check("\(at).max_speed_kmh", m.maxSpeedKmh, 1...300, "a speed from 1 to 300 km/h")
                try check("\(at).access_speed_kmh", m.accessSpeedKmh, 0.1...300, "a speed from 0.1 to 300 km/h")
            }
        }
        try check("checks.max_outside_m", checks?.maxOutsideMeters, 0...1_000_000, "a distance in metres from 0")
        for (key, rule) in (coverage ?? [:]).sorted(by: { $0.key < $1.key }) {
            try check("coverage.\(key).minutes", rule.minutes, 0.001...100_000, "a positive number of minutes")
            try check("coverage.\(key).km", rule.km, 0.001...100_000, "a positive number of km")
        }
        try check("clusters.candidate_minutes", clusters?.candidateMinutes, 0...100_000, "a number of minutes from 0")
    }
}

// MARK: unknown keys

extension StudyFile {
    /// The keys each part of a study file may have: a misspelt key (`feilds`) is an error naming where it is,
    /// not a silently ignored line.
    /// Derived from the coding keys, so the decoder and this check cannot drift apart (and a test holds the
    /// README's examples to it).
    public static let schema: [String: Set<String>] = {
        func keys<K: CodingKey & CaseIterable>(_: K.Type) -> Set<String> { Set(K.allCases.map(\.stringValue)) }
        return [
            "": keys(CodingKeys.self),
            "layers": keys(Layers.CodingKeys.self),
            "layers.*": keys(LayerSpec.CodingKeys.self),
            "layers.*.overrides[]": keys(Override.CodingKeys.self),
            "layers.*.join": keys(JoinSpec.CodingKeys.self),
            "checks": keys(Checks.CodingKeys.self),
            "network": keys(NetworkSettings.CodingKeys.self),
            "network.modes.*": keys(ModeSettings.CodingKeys.self),
            "network.oneway": keys(OnewaySettings.CodingKeys.self),
            "coverage.*": keys(CoverageRule.CodingKeys.self),
            "categories.*": keys(CategoryLabels.CodingKeys.self),
            "scenarios[]": keys(ScenarioSpec.CodingKeys.self),
            "scenarios[].open[]": keys(NewFacility.CodingKeys.self),
            "scenarios[].merge[]": keys(Merge.CodingKeys.self),
            "scenarios[].recategorise[]": keys(Recategorise.CodingKeys.self),
            "clusters": keys(ClusterSettings.CodingKeys.self),
            "facts[]": keys(FactSpec.CodingKeys.self),
            "facts[].label": keys(CategoryLabels.CodingKeys.self),
            "facts[].join": keys(FactJoin.CodingKeys.self),
            "facts[].measures[]": keys(FactMeasureSpec.CodingKeys.self),
            "facts[].measures[].label": keys(CategoryLabels.CodingKeys.self),
            "plan": keys(PlanSpec.CodingKeys.self),
            "plan.focus_areas[]": keys(FocusAreaSpec.CodingKeys.self),
            "plan.sketches[]": keys(SketchSpec.CodingKeys.self),
            "plan.sketches[].label": keys(CategoryLabels.CodingKeys.self),
        ]
    }()

    /// Walks the YAML and reports the first key no part of the schema knows.
    /// A study file is a few hundred lines. One that expands, through YAML aliases, to more values than this
    /// ("billion laughs") is refused before anything walks or decodes it: composing keeps aliases shared, but
    /// every walk over the tree, and the decoder, would expand them.
    static let maxValues = 200_000
    static let maxBytes = 8 << 20

    static func checkKeys(yaml: String, path: String) throws {
        guard yaml.utf8.count <= maxBytes else {
            throw StudyFileError(path: path, message: "the study file is larger than \(maxBytes >> 20) MB; data belongs in the layers it names")
        }
        guard let root = try? Yams.compose(yaml: yaml) else { return }
        var values = 0
        func count(_ node: Node) throws {
            values += 1
            guard values <= maxValues else {
                throw StudyFileError(path: path, message: "the study file expands to more than \(maxValues) values (through YAML aliases?); "
                                     + "a study file needs a few hundred")
            }
            switch node {
            case .mapping(let m): for (k, v) in m { try count(k); try count(v) }
            case .sequence(let s): for item in s { try count(item) }
            default: break
            }
        }
        try count(root)
        func walk(_ node: Node, _ pattern: String, _ shown: String) throws {
            switch node {
            case .mapping(let m):
                var allowed: Set<String>?
                allowed = schema[pattern]
                for (k, v) in m {
                    guard let key = k.string else { continue }
                    if let allowed, !allowed.contains(key) {
                        throw StudyFileError(path: path, message: "unknown key `\(shown.isEmpty ? key : shown + "." + key)` (known here: \(allowed.sorted().joined(separator: ", ")))")
                    }
                    // Where the keys are names (categories, modes, coverage rules), their values follow the `*` pattern.
                    let childPattern: String
                    if ["categories", "coverage", "network.modes", "layers"].contains(pattern) { childPattern = pattern + ".*" }
                    else { childPattern = pattern.isEmpty ? key : pattern + "." + key }
                    // Free-form maps: field mappings, category values, speeds, assignments.
                    if ["fields", "category_values", "speeds_kmh", "assignments", "hubs", "class_values"].contains(key) { continue }
                    try walk(v, childPattern, shown.isEmpty ? key : shown + "." + key)
                }
            case .sequence(let s):
                for (i, item) in s.enumerated() { try walk(item, pattern + "[]", "\(shown)[\(i)]") }
            default: break
            }
        }
        try walk(root, "", "")
    }
}
