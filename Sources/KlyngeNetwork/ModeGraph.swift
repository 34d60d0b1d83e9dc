import KlyngeGeo

/// The network as one travel mode sees it: costs per edge (seconds, or metres for `distance`),
/// allowed directions, forward and reverse adjacency in CSR arrays, and connected components.
/// Immutable and `Sendable`: build once, query from many threads.
public final class ModeGraph: Sendable {
    public let network: RoadNetwork
    public let profile: ModeProfile
    /// Full traversal cost of each physical edge; `.infinity` where the mode may not use it.
    public let edgeCost: [Double]
    public let edgeForward: [Bool]
    public let edgeBackward: [Bool]
    /// Forward CSR: arcs leaving node `u` are `firstOut[u] ..< firstOut[u + 1]`.
    let firstOut: [Int32]
    let head: [Int32]
    let arcCost: [Double]
    let arcMeters: [Double]
    /// Reverse CSR: arcs entering node `v`, with their tails.
    let firstIn: [Int32]
    let tail: [Int32]
    let inCost: [Double]
    let inMeters: [Double]
    /// Weakly connected component of each node over usable edges (-1 for nodes with none).
    public let component: [Int32]
    public let componentSizes: [Int]
    public let largestComponent: Int32

    public var mode: TravelMode { profile.mode }
    public var nodeCount: Int { network.nodeCount }
    public var arcCount: Int { head.count }

    public func isUsable(edge e: Int) -> Bool { edgeForward[e] || edgeBackward[e] }

    public var memoryBytes: Int {
        network.memoryBytes + edgeCost.count * 10 + (firstOut.count + firstIn.count) * 4
            + head.count * 20 * 2 + component.count * 4
    }

    public init(network: RoadNetwork, profile: ModeProfile, oneway: OnewayRules = .standard) {
        self.network = network
        self.profile = profile
        let m = network.edgeCount, n = network.nodeCount
        var cost = [Double](repeating: .infinity, count: m)
        var fwd = [Bool](repeating: false, count: m), bwd = [Bool](repeating: false, count: m)
        for e in 0..<m {
            let r = Int(network.edgeRoad[e])
            let len = network.edgeLengthMeters[e]
            if profile.mode == .distance {
                cost[e] = len
                fwd[e] = true
                bwd[e] = true
                continue
            }
            guard let kmh = profile.speedKmh(roadClass: network.roadClass[r], maxspeed: network.roadMaxspeed[r]) else { continue }
            cost[e] = len / (kmh / 3.6)
            switch profile.respectsOneway ? oneway.direction(oneway: network.roadOneway[r], roadClass: network.roadClass[r]) : .both {
            case .both: fwd[e] = true; bwd[e] = true
            case .forwardOnly: fwd[e] = true
            case .backwardOnly: bwd[e] = true
            }
        }
        edgeCost = cost
        edgeForward = fwd
        edgeBackward = bwd

        // CSR by counting sort, forward and reverse.
        var outDeg = [Int32](repeating: 0, count: n + 1), inDeg = [Int32](repeating: 0, count: n + 1)
        for e in 0..<m {
            let u = Int(network.edgeFrom[e]), v = Int(network.edgeTo[e])
            if fwd[e] { outDeg[u + 1] += 1; inDeg[v + 1] += 1 }
            if bwd[e] { outDeg[v + 1] += 1; inDeg[u + 1] += 1 }
        }
        for i in 0..<n { outDeg[i + 1] += outDeg[i]; inDeg[i + 1] += inDeg[i] }
        let arcs = Int(outDeg[n])
        var h = [Int32](repeating: 0, count: arcs), ac = [Double](repeating: 0, count: arcs), am = [Double](repeating: 0, count: arcs)
        var t = [Int32](repeating: 0, count: arcs), ic = [Double](repeating: 0, count: arcs), im = [Double](repeating: 0, count: arcs)
        var nextOut = outDeg, nextIn = inDeg
        func add(_ u: Int, _ v: Int, _ c: Double, _ meters: Double) {
            let o = Int(nextOut[u]); nextOut[u] += 1
            h[o] = Int32(v); ac[o] = c; am[o] = meters
            let i = Int(nextIn[v]); nextIn[v] += 1
            t[i] = Int32(u); ic[i] = c; im[i] = meters
        }
        for e in 0..<m {
            let u = Int(network.edgeFrom[e]), v = Int(network.edgeTo[e])
            if fwd[e] { add(u, v, cost[e], network.edgeLengthMeters[e]) }
            if bwd[e] { add(v, u, cost[e], network.edgeLengthMeters[e]) }
        }
        firstOut = outDeg
        head = h
        arcCost = ac
        arcMeters = am
        firstIn = inDeg
        tail = t
        inCost = ic
        inMeters = im

        // Components by union-find over usable edges.
        var parent = Array(Int32(0)..<Int32(n))
        func find(_ x: Int32) -> Int32 {
            var x = x
            while parent[Int(x)] != x {
                parent[Int(x)] = parent[Int(parent[Int(x)])]
                x = parent[Int(x)]
            }
            return x
        }
        var touched = [Bool](repeating: false, count: n)
        for e in 0..<m where fwd[e] || bwd[e] {
            let a = find(network.edgeFrom[e]), b = find(network.edgeTo[e])
            touched[Int(network.edgeFrom[e])] = true
            touched[Int(network.edgeTo[e])] = true
            if a != b { parent[Int(max(a, b))] = min(a, b) }
        }
        var label = [Int32](repeating: -1, count: n)
        var rootLabel: [Int32: Int32] = [:]
        var sizes: [Int] = []
        for v in 0..<n where touched[v] {
            let r = find(Int32(v))
            if let l = rootLabel[r] { label[v] = l; sizes[Int(l)] += 1 } else {
                let l = Int32(sizes.count)
                rootLabel[r] = l
                sizes.append(1)
                label[v] = l
            }
        }
        component = label
        componentSizes = sizes
        largestComponent = sizes.isEmpty ? -1 : Int32(sizes.indices.max { sizes[$0] < sizes[$1] }!)
    }

    /// The component an edge belongs to (that of its start node), -1 if unusable.
    public func component(ofEdge e: Int) -> Int32 {
        isUsable(edge: e) ? component[Int(network.edgeFrom[e])] : -1
    }
}
