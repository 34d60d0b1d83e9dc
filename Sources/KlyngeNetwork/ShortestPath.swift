import KlyngeGeo

/// A start for a search: a node with the cost and metres already spent reaching it.
public struct Seed: Sendable, Hashable {
    public var node: Int32
    public var cost: Double
    public var meters: Double
    public init(node: Int32, cost: Double, meters: Double) {
        self.node = node
        self.cost = cost
        self.meters = meters
    }
}

/// A travel cost: `cost` in the mode's unit (seconds; metres for `distance`) and the metres travelled.
public struct PathCost: Sendable, Hashable {
    public var cost: Double
    public var meters: Double
    public init(cost: Double, meters: Double) {
        self.cost = cost
        self.meters = meters
    }
}

/// Reusable Dijkstra state for one thread: buffers sized once (owned here, freed in `deinit`), reset
/// lazily by a generation stamp, and an indexed 4-ary heap with decrease-key. A search allocates nothing.
public final class PathQuery {
    public let graph: ModeGraph
    private let n: Int
    private let cost: UnsafeMutablePointer<Double>
    private let meters: UnsafeMutablePointer<Double>
    private let reached: UnsafeMutablePointer<UInt32>
    private let settled: UnsafeMutablePointer<UInt32>
    private var generation: UInt32 = 0
    private let heap: IndexedHeap

    public init(graph: ModeGraph) {
        self.graph = graph
        n = graph.nodeCount
        cost = .allocate(capacity: max(n, 1))
        meters = .allocate(capacity: max(n, 1))
        reached = .allocate(capacity: max(n, 1))
        settled = .allocate(capacity: max(n, 1))
        cost.initialize(repeating: .infinity, count: max(n, 1))
        meters.initialize(repeating: 0, count: max(n, 1))
        reached.initialize(repeating: 0, count: max(n, 1))
        settled.initialize(repeating: 0, count: max(n, 1))
        heap = IndexedHeap(capacity: n)
    }

    deinit {
        cost.deallocate()
        meters.deallocate()
        reached.deallocate()
        settled.deallocate()
    }

    /// Settles every node whose cost is at most `cutoff`, from the seeds; along arcs (`reverse`: against them,
    /// giving the cost of reaching the seeds).
    public func run(from seeds: [Seed], reverse: Bool = false, cutoff: Double = .infinity) {
        generation &+= 1
        if generation == 0 {  // wrapped: clear the stamps once
            reached.update(repeating: 0, count: n)
            settled.update(repeating: 0, count: n)
            generation = 1
        }
        let gen = generation
        let cost = self.cost, meters = self.meters, reached = self.reached, settled = self.settled, heap = self.heap
        for s in seeds where s.cost <= cutoff {
            let v = Int(s.node)
            if reached[v] != gen || s.cost < cost[v] {
                reached[v] = gen
                cost[v] = s.cost
                meters[v] = s.meters
                heap.pushOrDecrease(Int32(v), s.cost)
            }
        }
        let g = graph
        let first = reverse ? g.firstIn : g.firstOut, other = reverse ? g.tail : g.head
        let arcCost = reverse ? g.inCost : g.arcCost, arcMeters = reverse ? g.inMeters : g.arcMeters
        first.withUnsafeBufferPointer { first in
        other.withUnsafeBufferPointer { other in
        arcCost.withUnsafeBufferPointer { arcC in
        arcMeters.withUnsafeBufferPointer { arcM in
            while heap.count > 0 {
                let (u32, du) = heap.popMin()
                let u = Int(u32)
                settled[u] = gen
                let mu = meters[u]
                for a in Int(first[u])..<Int(first[u + 1]) {
                    let v = Int(other[a])
                    let dv = du + arcC[a]
                    if dv > cutoff { continue }
                    if reached[v] != gen {
                        reached[v] = gen
                        cost[v] = dv
                        meters[v] = mu + arcM[a]
                        heap.pushOrDecrease(Int32(v), dv)
                    } else if dv < cost[v] && settled[v] != gen {
                        cost[v] = dv
                        meters[v] = mu + arcM[a]
                        heap.pushOrDecrease(Int32(v), dv)
                    }
                }
            }
        }}}}
    }

    /// Raw read access to the last run: costs, metres, settled stamps and the stamp that means "settled".
    /// For tight loops over many targets.
    func withResults<R>(_ body: (UnsafePointer<Double>, UnsafePointer<Double>, UnsafePointer<UInt32>, UInt32) throws -> R) rethrows -> R {
        try body(cost, meters, settled, generation)
    }

    /// The settled cost of a node in the last run, nil if it was not reached within the cut-off.
    @inline(__always)
    public func result(_ node: Int32) -> PathCost? {
        let v = Int(node)
        guard settled[v] == generation else { return nil }
        return PathCost(cost: cost[v], meters: meters[v])
    }
}

/// Costs between snapped points and the nodes at the ends of their edges.
extension ModeGraph {
    /// Cost of the off-network leg.
    @inline(__always)
    public func legCost(_ s: Snap) -> Double {
        profile.mode == .distance ? s.distanceMeters : s.distanceMeters / (profile.accessSpeedKmh / 3.6)
    }

    /// The nodes a point can leave by (`departing`) or be reached from, with the cost and metres along its
    /// edge: along the allowed directions, and at no cost a node the point sits on (so a point at a node is
    /// not cut off from it by a one-way edge it happened to snap to). At most four, on the stack.
    @inline(__always)
    func access(_ s: Snap, departing: Bool, _ body: (Int32, Double, Double) -> Void) {
        let e = Int(s.edge), len = network.edgeLengthMeters[e], c = edgeCost[e]
        let frac = len > 0 ? s.offsetMeters / len : 0
        let from = network.edgeFrom[e], to = network.edgeTo[e]
        if edgeForward[e] {
            if departing { body(to, (1 - frac) * c, len - s.offsetMeters) } else { body(from, frac * c, s.offsetMeters) }
        }
        if edgeBackward[e] {
            if departing { body(from, frac * c, s.offsetMeters) } else { body(to, (1 - frac) * c, len - s.offsetMeters) }
        }
        if s.offsetMeters <= 1e-6 { body(from, 0, 0) }
        if s.offsetMeters >= len - 1e-6 { body(to, 0, 0) }
    }

    /// Seeds for leaving a point (forward search from an origin).
    public func departureSeeds(_ s: Snap) -> [Seed] {
        var seeds: [Seed] = []
        departureSeeds(s, into: &seeds)
        return seeds
    }

    /// As above, appending to a reusable buffer.
    public func departureSeeds(_ s: Snap, into seeds: inout [Seed]) {
        let leg = legCost(s)
        access(s, departing: true) { seeds.append(Seed(node: $0, cost: leg + $1, meters: s.distanceMeters + $2)) }
    }

    /// Seeds for arriving at a point (reverse search from a destination).
    public func arrivalSeeds(_ s: Snap) -> [Seed] {
        var seeds: [Seed] = []
        arrivalSeeds(s, into: &seeds)
        return seeds
    }

    /// As above, appending to a reusable buffer.
    public func arrivalSeeds(_ s: Snap, into seeds: inout [Seed]) {
        let leg = legCost(s)
        access(s, departing: false) { seeds.append(Seed(node: $0, cost: leg + $1, meters: s.distanceMeters + $2)) }
    }

    /// Origin → destination along their shared edge, if they share one and the direction is allowed.
    @inline(__always)
    public func sameEdgeCost(from o: Snap, to d: Snap) -> PathCost? {
        guard o.edge == d.edge else { return nil }
        let e = Int(o.edge), len = network.edgeLengthMeters[e], c = edgeCost[e]
        let delta = d.offsetMeters - o.offsetMeters
        guard (delta >= 0 && edgeForward[e]) || (delta <= 0 && edgeBackward[e]) else { return nil }
        let along = abs(delta)
        return PathCost(cost: legCost(o) + legCost(d) + (len > 0 ? along / len * c : 0),
                        meters: o.distanceMeters + d.distanceMeters + along)
    }

    /// The cost to a destination after a forward search from an origin.
    @inline(__always)
    func arrival(at d: Snap, _ q: PathQuery) -> PathCost? {
        best(d, departing: false, q)
    }

    /// The cost from an origin after a reverse search from a destination.
    @inline(__always)
    func departure(from o: Snap, _ q: PathQuery) -> PathCost? {
        best(o, departing: true, q)
    }

    @inline(__always)
    private func best(_ s: Snap, departing: Bool, _ q: PathQuery) -> PathCost? {
        let leg = legCost(s)
        var best: PathCost?
        access(s, departing: departing) { node, cost, meters in
            guard let r = q.result(node) else { return }
            let total = r.cost + cost + leg
            if best == nil || total < best!.cost { best = PathCost(cost: total, meters: r.meters + meters + s.distanceMeters) }
        }
        return best
    }
}

/// An indexed 4-ary min-heap over node ids with decrease-key, in buffers allocated once.
final class IndexedHeap {
    private let keys: UnsafeMutablePointer<Double>
    private let items: UnsafeMutablePointer<Int32>
    /// Position of each node in the heap, -1 when absent.
    private let position: UnsafeMutablePointer<Int32>
    private(set) var count = 0

    init(capacity: Int) {
        let c = max(capacity, 1)
        keys = .allocate(capacity: c)
        items = .allocate(capacity: c)
        position = .allocate(capacity: c)
        position.initialize(repeating: -1, count: c)
    }

    deinit {
        keys.deallocate()
        items.deallocate()
        position.deallocate()
    }

    @inline(__always)
    func pushOrDecrease(_ v: Int32, _ key: Double) {
        let p = Int(position[Int(v)])
        if p >= 0 {
            siftUp(p, v, key)
        } else {
            count += 1
            siftUp(count - 1, v, key)
        }
    }

    /// The minimum; the heap must not be empty.
    @inline(__always)
    func popMin() -> (Int32, Double) {
        let top = items[0], key = keys[0]
        position[Int(top)] = -1
        count -= 1
        if count > 0 { siftDown(0, items[count], keys[count]) }
        return (top, key)
    }

    @inline(__always)
    private func siftUp(_ start: Int, _ item: Int32, _ key: Double) {
        var i = start
        while i > 0 {
            let parent = (i - 1) >> 2
            guard key < keys[parent] else { break }
            items[i] = items[parent]
            keys[i] = keys[parent]
            position[Int(items[i])] = Int32(i)
            i = parent
        }
        items[i] = item
        keys[i] = key
        position[Int(item)] = Int32(i)
    }

    @inline(__always)
    private func siftDown(_ start: Int, _ item: Int32, _ key: Double) {
        var i = start
        let n = count
        while true {
            let first = (i << 2) + 1
            if first >= n { break }
            var best = first
            var bestKey = keys[first]
            let last = min(first + 4, n)
            var c = first + 1
            while c < last {
                if keys[c] < bestKey { best = c; bestKey = keys[c] }
                c += 1
            }
            guard bestKey < key else { break }
            items[i] = items[best]
            keys[i] = bestKey
            position[Int(items[i])] = Int32(i)
            i = best
        }
        items[i] = item
        keys[i] = key
        position[Int(item)] = Int32(i)
    }
}
