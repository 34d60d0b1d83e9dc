import KlyngeGeo
import KlyngeStudy

/// What respondents can pick: the study's villages and facilities, with positions in longitude/latitude
/// for the page's map, and the study's extent (pins outside it are refused).
public struct SurveyPlaces: Sendable, Hashable {
    /// Where home villages come from.
    public enum VillageSource: String, Sendable, Hashable {
        /// The study's named demand points (villages and towns).
        case demand
        /// The study's areas (used when demand points are unnamed buildings or addresses).
        case areas
    }

    public struct Village: Sendable, Hashable {
        public var id: String
        public var name: String
        public var lon: Double
        public var lat: Double
        public var areaId: String?
        public var cluster: String?
        public init(id: String, name: String, lon: Double, lat: Double, areaId: String?, cluster: String?) {
            self.id = id
            self.name = name
            self.lon = lon
            self.lat = lat
            self.areaId = areaId
            self.cluster = cluster
        }
    }

    public struct Place: Sendable, Hashable {
        public var id: String
        public var name: String
        public var lon: Double
        public var lat: Double
        public init(id: String, name: String, lon: Double, lat: Double) {
            self.id = id
            self.name = name
            self.lon = lon
            self.lat = lat
        }
    }

    public struct AreaRef: Sendable, Hashable {
        public var id: String
        public var name: String
        public var cluster: String?
        public init(id: String, name: String, cluster: String?) {
            self.id = id
            self.name = name
            self.cluster = cluster
        }
    }

    public var villageSource: VillageSource
    public var villages: [Village]
    /// The study's areas (for counts per area and cluster).
    public var areas: [AreaRef] = []
    /// Category key → its facilities (baseline), in name order.
    public var facilities: [String: [Place]]
    public var categories: [Category]
    /// The study's extent in lon/lat, widened by a margin: pins must fall inside it.
    public var west: Double, south: Double, east: Double, north: Double

    public init(villageSource: VillageSource, villages: [Village], facilities: [String: [Place]], categories: [Category],
                west: Double, south: Double, east: Double, north: Double) {
        self.villageSource = villageSource
        self.villages = villages
        villageIndex = Dictionary(villages.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        self.facilities = facilities
        self.categories = categories
        self.west = west
        self.south = south
        self.east = east
        self.north = north
    }

    public func village(_ id: String) -> Village? { villageIndex[id].map { villages[$0] } }

    private let villageIndex: [String: Int]

    public func facility(_ id: String, category: String) -> Place? { facilities[category]?.first { $0.id == id } }

    public func contains(lon: Double, lat: Double) -> Bool { lon >= west && lon <= east && lat >= south && lat <= north }

    /// Named demand points are villages when every point has a name and there are few enough to list;
    /// otherwise (buildings, addresses) the areas are.
    public static let maxListedVillages = 2_000

    public static func villageSource(for study: Study) -> VillageSource {
        if study.demandDerivedFromAreas || study.demand.isEmpty { return .areas }
        let named = study.demand.allSatisfy { !$0.name.trimmingCharacters(in: .whitespaces).isEmpty }
        return named && study.demand.count <= maxListedVillages ? .demand : .areas
    }
}
