/// Why a regionalisation request cannot be met, found before any search: each obstacle names the areas,
/// categories or numbers at fault. An empty list does not promise a solution (the constraints can still
/// conflict together); the exact solver proves that, the heuristic can only say it found none.
public enum RegionObstacle: Sendable, Hashable {
    /// Areas whose villages reach no hub they could share a cluster with (within the time limit, if any).
    case noHub(areas: [Int])
    /// A group of areas, separate from the rest, whose whole population is below the minimum.
    case belowMinimum(areas: [Int], population: Double)
    /// One area that alone holds more people than the maximum.
    case aboveMaximum(area: Int, population: Double)
    /// A separate group of areas with no open facility of a required category.
    case missingCategory(category: String, areas: [Int])
    /// Fewer areas hold an open facility of a required category than clusters are asked for.
    case tooFewHolders(category: String, holders: Int, asked: Int)
    /// More clusters asked for than areas that can hold a hub.
    case tooManyClusters(asked: Int, possible: Int)
    /// Fewer clusters asked for than there are separate groups of areas.
    case tooFewClusters(asked: Int, pieces: Int)
    /// `k` clusters of the minimum population need more people than there are.
    case tooFewPeople(asked: Int, needed: Double, total: Double)
    /// Areas locked to one cluster lie in separate groups.
    case lockApart(label: String, areas: [Int])
    /// More fixed hubs than clusters, or two fixed hubs in areas locked together.
    case fixedHubs(String)
}

extension RegionProblem {
    /// Connected groups of areas that no cluster can join: pieces of the contiguity graph, split further at
    /// `--within` boundaries.
    public var pieces: [[Int]] {
        var piece = Array(repeating: -1, count: areaCount), out: [[Int]] = []
        for start in 0..<areaCount where piece[start] < 0 {
            var members = [start], stack = [start]
            piece[start] = out.count
            while let a = stack.popLast() {
                for b in neighbours[a] where piece[b] < 0 && group[b] == group[a] {
                    piece[b] = out.count
                    members.append(b)
                    stack.append(b)
                }
            }
            out.append(members.sorted())
        }
        return out
    }

    /// Hubs area `i` may share a cluster with: reached within the limit, same `--within` group, same piece.
    func usableHubs(_ i: Int, pieceOf: [Int]) -> [Int] {
        hubs.indices.filter { h in cost[i][h].isFinite && pieceOf[hubs[h].area] == pieceOf[i] }
    }

    public func obstacles() -> [RegionObstacle] {
        var out: [RegionObstacle] = []
        let pieces = self.pieces
        var pieceOf = Array(repeating: 0, count: areaCount)
        for (p, m) in pieces.enumerated() { for i in m { pieceOf[i] = p } }
        let stranded = (0..<areaCount).filter { usableHubs($0, pieceOf: pieceOf).isEmpty }
        if !stranded.isEmpty { out.append(.noHub(areas: stranded)) }
        for m in pieces {
            let pop = m.reduce(0) { $0 + population[$1] }
            if let lo = minPopulation, pop < lo { out.append(.belowMinimum(areas: m, population: pop)) }
            for (r, name) in required.enumerated() where !m.contains(where: { areaHas[$0][r] }) {
                out.append(.missingCategory(category: name, areas: m))
            }
        }
        if let hi = maxPopulation {
            for i in 0..<areaCount where population[i] > hi { out.append(.aboveMaximum(area: i, population: population[i])) }
        }
        let hosts = Set(hubs.map(\.area)).count
        if case .exactly(let k) = count {
            if k > hosts { out.append(.tooManyClusters(asked: k, possible: hosts)) }
            if k < pieces.count { out.append(.tooFewClusters(asked: k, pieces: pieces.count)) }
            let total = population.reduce(0, +)
            if let lo = minPopulation, Double(k) * lo > total { out.append(.tooFewPeople(asked: k, needed: Double(k) * lo, total: total)) }
            if fixedHubs.count > k { out.append(.fixedHubs("\(fixedHubs.count) fixed hubs for \(k) clusters")) }
            for (r, name) in required.enumerated() {
                let holders = (0..<areaCount).filter { areaHas[$0][r] }.count
                if holders < k { out.append(.tooFewHolders(category: name, holders: holders, asked: k)) }
            }
        }
        var lockPieces: [String: Set<Int>] = [:], lockAreas: [String: [Int]] = [:]
        for (i, label) in locks {
            lockPieces[label, default: []].insert(pieceOf[i])
            lockAreas[label, default: []].append(i)
        }
        for label in lockPieces.keys.sorted() where lockPieces[label]!.count > 1 {
            out.append(.lockApart(label: label, areas: lockAreas[label]!.sorted()))
        }
        for label in lockAreas.keys.sorted() {
            let fixedIn = fixedHubs.filter { h in lockAreas[label]!.contains(hubs[h].area) }
            if fixedIn.count > 1 { out.append(.fixedHubs("two fixed hubs in areas locked to \(label)")) }
        }
        return out
    }

    /// An obstacle in words, naming areas by name and id.
    public func describe(_ o: RegionObstacle) -> String {
        func names(_ areas: [Int]) -> String {
            let shown = areas.prefix(8).map { areaNames[$0].isEmpty ? areaIds[$0] : "\(areaNames[$0]) (\(areaIds[$0]))" }
            return shown.joined(separator: ", ") + (areas.count > 8 ? " and \(areas.count - 8) more" : "")
        }
        func people(_ x: Double) -> String { String(Int(x.rounded())) }
        switch o {
        case .noHub(let areas):
            return "\(names(areas)): no possible hub is reached from every village of the area"
                + " (within the time limit, inside the same --within group and on connected land)"
        case .belowMinimum(let areas, let pop):
            return "\(names(areas)): together only \(people(pop)) people, with no neighbour to join, below the minimum of \(people(minPopulation ?? 0))"
        case .aboveMaximum(let i, let pop):
            return "\(names([i])): \(people(pop)) people alone, above the maximum of \(people(maxPopulation ?? 0))"
        case .missingCategory(let category, let areas):
            return "\(names(areas)): no open \(category) in this group of areas, so its cluster cannot have one"
        case .tooFewHolders(let category, let holders, let k):
            return "\(k) clusters asked for, but only \(holders) area(s) hold an open \(category), so at most \(holders) cluster(s) can have one"
        case .tooManyClusters(let k, let possible):
            return "\(k) clusters asked for, but only \(possible) area(s) hold a village or facility that can be a hub"
        case .tooFewClusters(let k, let pieces):
            return "\(k) clusters asked for, but the areas form \(pieces) separate groups (islands, --within boundaries), each needing its own cluster"
        case .tooFewPeople(let k, let needed, let total):
            return "\(k) clusters of at least \(people(minPopulation ?? 0)) people need \(people(needed)), but the areas hold \(people(total))"
        case .lockApart(let label, let areas):
            return "\(names(areas)) are locked to \(label) but lie in separate groups of areas"
        case .fixedHubs(let text):
            return text
        }
    }
}
