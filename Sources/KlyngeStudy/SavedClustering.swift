/// A named clustering of a study's areas, as `regions --save` keeps it in the store: each area's cluster
/// and each cluster's hub. `clusters`, `report` and `render` use it in place of the study's own clusters.
public struct SavedClustering: Codable, Sendable, Hashable {
    public var name: String
    /// What it was made under (constraints, objective, solver), for whoever opens it later.
    public var description: String?
    /// Area id → cluster name.
    public var assignments: [String: String]
    /// Cluster name → the id of its hub (a village, or a facility).
    public var hubs: [String: String]

    public init(name: String, description: String?, assignments: [String: String], hubs: [String: String]) {
        self.name = name
        self.description = description
        self.assignments = assignments
        self.hubs = hubs
    }
}

extension Study {
    /// The study with a saved clustering in place of its own clusters (the areas' `cluster` field is set
    /// aside, and consolidation settings are kept). Cluster reports travel to hub villages: a facility hub
    /// leaves its cluster's most populous village as the hub there.
    public func using(_ clustering: SavedClustering) -> Study {
        var s = self
        for i in s.areas.indices { s.areas[i].cluster = nil }
        s.clusters.assignments = clustering.assignments
        let villages = Set(demand.map(\.id))
        s.clusters.hubs = clustering.hubs.filter { villages.contains($0.value) }
        s.clusters.source = nil
        return s
    }
}
