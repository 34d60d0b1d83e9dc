import Dispatch
import Foundation
import KlyngeGeo

/// Limits on a matrix: only the nearest destinations, and cut-offs.
public struct MatrixOptions: Sendable, Hashable {
    /// Keep only the k cheapest reachable destinations per origin.
    public var nearest: Int?
    /// Leave out pairs slower than this (timed modes).
    public var maxDurationSeconds: Double?
    /// Leave out pairs longer than this.
    public var maxDistanceMeters: Double?
    /// Worker threads (the machine's cores by default).
    public var threads: Int

    public init(nearest: Int? = nil, maxDurationSeconds: Double? = nil, maxDistanceMeters: Double? = nil,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.nearest = nearest
        self.maxDurationSeconds = maxDurationSeconds
        self.maxDistanceMeters = maxDistanceMeters
        self.threads = max(threads, 1)
    }

    /// With a cut-off or a nearest-k limit, rows beyond it are left out rather than written empty.
    public var isSparse: Bool { nearest != nil || maxDurationSeconds != nil || maxDistanceMeters != nil }
}

/// One cell of a matrix: nil cost when unreachable (or an end not attached to the network).
public struct MatrixEntry: Sendable, Hashable {
    public var origin: Int
    public var destination: Int
    public var cost: PathCost?
    public init(origin: Int, destination: Int, cost: PathCost?) {
        self.origin = origin
        self.destination = destination
        self.cost = cost
    }
}

public struct MatrixSummary: Sendable, Hashable {
    public var origins = 0
    public var destinations = 0
    public var pairsWritten = 0
    /// Pairs with both ends on the network but no path between them.
    public var unreachablePairs = 0
    /// Pairs with an end that could not be attached (beyond the snap limit or on a small piece).
    public var unattachedPairs = 0
    /// Searches ran from the destinations over the reverse graph (the smaller side).
    public var searchedFromDestinations = false
    public var searches = 0

    public init(origins: Int = 0, destinations: Int = 0) {
        self.origins = origins
        self.destinations = destinations
    }
}

/// A finished block of the matrix, handed out before the next is computed. Cells come in origin order
/// within the block; a nil cost is an unreachable pair or one with an end not attached.
/// A block is valid only during the `emit` call that receives it (its buffers are reused).
public struct MatrixBlock {
    enum Storage {
        /// Every pair of `sources` (a range of the searched side) × all targets, row per source.
        case dense(sources: Range<Int>, reverse: Bool, width: Int, cost: UnsafeBufferPointer<Double>, meters: UnsafeBufferPointer<Double>)
        case sparse([MatrixEntry])
    }
    let storage: Storage

    public var count: Int {
        switch storage {
        case .dense(let sources, _, let width, _, _): sources.count * width
        case .sparse(let entries): entries.count
        }
    }

    /// Calls `body(origin, destination, cost)` for every cell of the block.
    public func forEach(_ body: (Int, Int, PathCost?) throws -> Void) rethrows {
        switch storage {
        case .sparse(let entries):
            for e in entries { try body(e.origin, e.destination, e.cost) }
        case .dense(let sources, let reverse, let width, let cost, let meters):
            // One walk over dense storage: the whole block as a single part.
            let all = MatrixBlockPart(storage: .dense(sources: sources, reverse: reverse, width: width, cost: cost, meters: meters,
                                                      outer: reverse ? 0..<width : sources))
            try all.forEach(body)
        }
    }

    /// The block's cells in `forEach` order, cut into at most `count` consecutive parts that may be walked on
    /// different threads (a writer formats each part into its own buffer, then writes them in order).
    public func parts(_ count: Int) -> [MatrixBlockPart] {
        switch storage {
        case .sparse(let entries):
            let n = max(1, min(count, entries.count))
            return (0..<n).map { k in MatrixBlockPart(storage: .sparse(Array(entries[(entries.count * k / n)..<(entries.count * (k + 1) / n)]))) }
        case .dense(let sources, let reverse, let width, let cost, let meters):
            // The outer loop of `forEach`: origins (all of them when searched from the destinations).
            let outer = reverse ? 0..<width : sources
            let n = max(1, min(count, outer.count))
            return (0..<n).map { k in
                let lo = outer.lowerBound + outer.count * k / n, hi = outer.lowerBound + outer.count * (k + 1) / n
                return MatrixBlockPart(storage: .dense(sources: sources, reverse: reverse, width: width, cost: cost, meters: meters, outer: lo..<hi))
            }
        }
    }

    public var entries: [MatrixEntry] {
        var out: [MatrixEntry] = []
        out.reserveCapacity(count)
        forEach { out.append(MatrixEntry(origin: $0, destination: $1, cost: $2)) }
        return out
    }
}

/// A consecutive part of a `MatrixBlock`, to be walked on its own thread while the block's `emit` call runs.
/// It reads the block's buffers and never writes them, and it is valid only as long as the block is (the
/// engine reuses the buffers for the next block once `emit` returns): that is why it may cross threads.
public struct MatrixBlockPart: @unchecked Sendable {
    @usableFromInline
    enum Storage {
        case dense(sources: Range<Int>, reverse: Bool, width: Int, cost: UnsafeBufferPointer<Double>, meters: UnsafeBufferPointer<Double>,
                   outer: Range<Int>)
        case sparse([MatrixEntry])
    }
    @usableFromInline let storage: Storage

    /// Cells in this part.
    public var count: Int {
        switch storage {
        case .dense(let sources, let reverse, let width, _, _, let outer): outer.count * (reverse ? sources.count : width)
        case .sparse(let entries): entries.count
        }
    }

    /// As `forEach`, with the raw figures: `body(origin, destination, cost, meters)`, cost NaN for an empty cell.
    /// For writers of millions of cells, which need no optional per cell (inlinable, so their loop is one loop).
    @inlinable
    public func forEachRaw(_ body: (Int, Int, Double, Double) throws -> Void) rethrows {
        switch storage {
        case .sparse(let entries):
            for e in entries { try body(e.origin, e.destination, e.cost?.cost ?? .nan, e.cost?.meters ?? .nan) }
        case .dense(let sources, let reverse, let width, let cost, let meters, let outer):
            if reverse {
                for o in outer {
                    for d in sources { let k = (d - sources.lowerBound) * width + o; try body(o, d, cost[k], meters[k]) }
                }
            } else {
                for o in outer {
                    let row = (o - sources.lowerBound) * width
                    for d in 0..<width { try body(o, d, cost[row + d], meters[row + d]) }
                }
            }
        }
    }

    /// Calls `body(origin, destination, cost)` for the part's cells, in the block's order.
    public func forEach(_ body: (Int, Int, PathCost?) throws -> Void) rethrows {
        try forEachRaw { o, d, c, m in try body(o, d, c.isNaN ? nil : PathCost(cost: c, meters: m)) }
    }
}

/// Origin–destination costs on one mode graph. Searches run from the smaller side (reverse graph
/// when that is the destinations), in blocks spread over the threads; each block is handed to
/// `emit` as soon as it is done, so a large matrix never sits in memory whole.
public struct MatrixEngine: Sendable {
    public let graph: ModeGraph
    /// Cells per block (16 bytes each): by default about four times the graph's own size, at most 4 MB,
    /// and never less than one row per thread. Bounds the working memory whatever the matrix size.
    public var blockCells: Int?

    public init(graph: ModeGraph) { self.graph = graph }

    /// Where each target joins the network: its entries (a slot of a distinct node, cost, metres; legs
    /// included; one entry per node, the cheapest), and the distinct nodes, so each search's results are
    /// gathered once into a dense array before the pass over all targets.
    struct AccessTable {
        var start: [Int32] = [0]
        var slot: [Int32] = []
        var cost: [Double] = []
        var meters: [Double] = []
        var nodes: [Int32] = []
    }

    func accessTable(_ targets: [Snap?], departing: Bool) -> AccessTable {
        var t = AccessTable()
        var slotOf: [Int32: Int32] = [:]
        for s in targets {
            if let s {
                let leg = graph.legCost(s)
                let begin = t.slot.count
                graph.access(s, departing: departing) { n, c, m in
                    let slot: Int32
                    if let known = slotOf[n] { slot = known } else {
                        slot = Int32(t.nodes.count)
                        slotOf[n] = slot
                        t.nodes.append(n)
                    }
                    if let k = t.slot[begin...].firstIndex(of: slot) {
                        if leg + c < t.cost[k] { t.cost[k] = leg + c; t.meters[k] = s.distanceMeters + m }
                        return
                    }
                    t.slot.append(slot)
                    t.cost.append(leg + c)
                    t.meters.append(s.distanceMeters + m)
                }
            }
            t.start.append(Int32(t.slot.count))
        }
        return t
    }

    /// Convenience: all cells as entries (small matrices and tests).
    public func compute(origins: [Snap?], destinations: [Snap?], options: MatrixOptions = MatrixOptions(),
                        progress: ((Int, Int) -> Void)? = nil, emit: ([MatrixEntry]) throws -> Void) throws -> MatrixSummary {
        try compute(origins: origins, destinations: destinations, options: options, progress: progress) { try emit($0.entries) }
    }

    public func compute(origins: [Snap?], destinations: [Snap?], options: MatrixOptions = MatrixOptions(),
                        progress: ((Int, Int) -> Void)? = nil, block emit: (MatrixBlock) throws -> Void) throws -> MatrixSummary {
        var summary = MatrixSummary(origins: origins.count, destinations: destinations.count)
        let reverse = destinations.count < origins.count
        summary.searchedFromDestinations = reverse
        let sources = reverse ? destinations : origins
        let targets = reverse ? origins : destinations
        let timed = graph.mode.isTimed
        // A search may stop at the cut-off (legs only add to the cost).
        let cutoff = timed ? (options.maxDurationSeconds ?? .infinity) : (options.maxDistanceMeters ?? .infinity)
        let width = targets.count
        let threads = options.threads
        let cells = blockCells ?? min(1 << 18, max(graph.memoryBytes / 4, 4096))
        let blockSize = max(threads, min(sources.count, cells / max(width, 1)))
        let access = accessTable(targets, departing: reverse)
        let unattachedTargets = targets.filter { $0 == nil }.count
        // Targets on each edge, for pairs that share an edge.
        // Targets sorted by edge (flat pairs, no per-edge arrays), for pairs that share an edge.
        let byEdge: [(edge: Int32, target: Int32)] = targets.indices.compactMap { j in
            targets[j].map { ($0.edge, Int32(j)) }
        }.sorted { $0.edge < $1.edge }
        @Sendable func onEdge(_ e: Int32) -> ArraySlice<(edge: Int32, target: Int32)> {
            var lo = 0, hi = byEdge.count
            while lo < hi { let mid = (lo + hi) / 2; if byEdge[mid].edge < e { lo = mid + 1 } else { hi = mid } }
            var end = lo
            while end < byEdge.count && byEdge[end].edge == e { end += 1 }
            return byEdge[lo..<end]
        }
        let graph = self.graph
        var topK: [[MatrixEntry]] = reverse && options.nearest != nil ? Array(repeating: [], count: origins.count) : []
        let costs = UnsafeMutableBufferPointer<Double>.allocate(capacity: blockSize * width)
        let meters = UnsafeMutableBufferPointer<Double>.allocate(capacity: blockSize * width)
        defer { costs.deallocate(); meters.deallocate() }
        let box = ResultBox(cost: costs, meters: meters)
        // One query per worker for the whole matrix: searches allocate nothing.
        let queries = (0..<threads).map { _ in PathQuery(graph: graph) }
        let queryBox = QueryBox(queries)
        let gatherBox = GatherBox(workers: threads, size: access.nodes.count)
        let emptyBox = CountBox(blockSize)

        func accept(_ c: PathCost) -> Bool {
            if let m = options.maxDistanceMeters, c.meters > m { return false }
            if timed, let m = options.maxDurationSeconds, c.cost > m { return false }
            return true
        }

        var blockStart = 0
        while blockStart < sources.count {
            let block = blockStart..<min(blockStart + blockSize, sources.count)
            DispatchQueue.concurrentPerform(iterations: min(threads, block.count)) { worker in
                let query = queryBox.queries[worker]
                var seeds: [Seed] = []
                seeds.reserveCapacity(4)
                var i = block.lowerBound + worker
                while i < block.upperBound {
                    defer { i += threads }
                    let row = (i - block.lowerBound) * width
                    guard let s = sources[i] else {
                        for j in 0..<width { box.cost[row + j] = .nan }
                        emptyBox.counts[i - block.lowerBound] = width
                        continue
                    }
                    seeds.removeAll(keepingCapacity: true)
                    if reverse { graph.arrivalSeeds(s, into: &seeds) } else { graph.departureSeeds(s, into: &seeds) }
                    query.run(from: seeds, reverse: reverse, cutoff: cutoff)
                    // Gather this search's results for the nodes targets join at, then one branch-light pass.
                    let gathered = gatherBox.buffers[worker]
                    query.withResults { dist, dm, settled, gen in
                        for (k, v) in access.nodes.enumerated() {
                            let v = Int(v)
                            gathered.cost[k] = settled[v] == gen ? dist[v] : .infinity
                            gathered.meters[k] = dm[v]
                        }
                    }
                    var empty = 0
                    access.start.withUnsafeBufferPointer { start in
                    access.slot.withUnsafeBufferPointer { slot in
                    access.cost.withUnsafeBufferPointer { acost in
                    access.meters.withUnsafeBufferPointer { ameters in
                        let gc = gathered.cost, gm = gathered.meters
                        let outCost = box.cost.baseAddress! + row, outMeters = box.meters.baseAddress! + row
                        for j in 0..<width {
                            var best = Double.infinity, bestMeters = 0.0
                            for k in Int(start[j])..<Int(start[j + 1]) {
                                let v = Int(slot[k])
                                let c = gc[v] + acost[k]
                                if c < best { best = c; bestMeters = gm[v] + ameters[k] }
                            }
                            if best < .infinity {
                                outCost[j] = best
                                outMeters[j] = bestMeters
                            } else {
                                outCost[j] = .nan
                                empty += 1
                            }
                        }
                    }}}}
                    emptyBox.counts[i - block.lowerBound] = empty
                    for pair in onEdge(s.edge) {
                        let j = Int(pair.target)
                        guard let t = targets[j] else { continue }
                        let direct = reverse ? graph.sameEdgeCost(from: t, to: s) : graph.sameEdgeCost(from: s, to: t)
                        if let direct, box.cost[row + j].isNaN || direct.cost < box.cost[row + j] {
                            if box.cost[row + j].isNaN { emptyBox.counts[i - block.lowerBound] -= 1 }
                            box.cost[row + j] = direct.cost
                            box.meters[row + j] = direct.meters
                        }
                    }
                }
            }
            summary.searches += block.count

            // Count what the block holds; with limits, keep only what passes them.
            let view = MatrixBlock(storage: .dense(sources: block, reverse: reverse, width: width,
                                                   cost: UnsafeBufferPointer(costs), meters: UnsafeBufferPointer(meters)))
            if options.isSparse {
                var out: [MatrixEntry] = []
                var row: [MatrixEntry] = []
                var currentOrigin = -1
                func flushRow() {
                    guard let k = options.nearest else { out += row; row.removeAll(); return }
                    row.sort { ($0.cost!.cost, $0.destination) < ($1.cost!.cost, $1.destination) }
                    out += row.prefix(k)
                    row.removeAll()
                }
                view.forEach { o, d, c in
                    guard let c, accept(c) else { return }
                    let entry = MatrixEntry(origin: o, destination: d, cost: c)
                    if reverse && options.nearest != nil { Self.insert(entry, into: &topK[o], keep: options.nearest!); return }
                    if o != currentOrigin { flushRow(); currentOrigin = o }
                    row.append(entry)
                }
                flushRow()
                summary.pairsWritten += out.count
                if !out.isEmpty { try emit(MatrixBlock(storage: .sparse(out))) }
            } else {
                // Empty cells: those with an end not attached, and the rest unreachable.
                let empty = emptyBox.counts[0..<block.count].reduce(0, +)
                let unattachedSources = block.filter { sources[$0] == nil }.count
                let unattached = unattachedSources * width + (block.count - unattachedSources) * unattachedTargets
                summary.unattachedPairs += unattached
                summary.unreachablePairs += empty - unattached
                summary.pairsWritten += view.count
                try emit(view)
            }
            blockStart = block.upperBound
            progress?(blockStart, sources.count)
        }
        if reverse, options.nearest != nil {
            let rows = topK.flatMap { $0 }
            summary.pairsWritten += rows.count
            if !rows.isEmpty { try emit(MatrixBlock(storage: .sparse(rows))) }
        }
        return summary
    }

    /// Keeps `row` as the k cheapest entries, sorted.
    static func insert(_ e: MatrixEntry, into row: inout [MatrixEntry], keep k: Int) {
        let key = (e.cost!.cost, e.destination)
        if row.count == k, let last = row.last, key >= (last.cost!.cost, last.destination) { return }
        var i = row.count
        while i > 0 && key < (row[i - 1].cost!.cost, row[i - 1].destination) { i -= 1 }
        row.insert(e, at: i)
        if row.count > k { row.removeLast() }
    }
}

/// The block's result buffers, written by the workers at disjoint rows and read after they join.
private final class ResultBox: @unchecked Sendable {
    let cost: UnsafeMutableBufferPointer<Double>
    let meters: UnsafeMutableBufferPointer<Double>
    init(cost: UnsafeMutableBufferPointer<Double>, meters: UnsafeMutableBufferPointer<Double>) {
        self.cost = cost
        self.meters = meters
    }
}

/// Per-worker dense buffers for one search's results at the targets' nodes; worker `w` alone uses `buffers[w]`.
private final class GatherBox: @unchecked Sendable {
    struct Buffer { let cost: UnsafeMutablePointer<Double>; let meters: UnsafeMutablePointer<Double> }
    let buffers: [Buffer]
    init(workers: Int, size: Int) {
        buffers = (0..<workers).map { _ in
            Buffer(cost: .allocate(capacity: max(size, 1)), meters: .allocate(capacity: max(size, 1)))
        }
    }
    deinit { for b in buffers { b.cost.deallocate(); b.meters.deallocate() } }
}

/// Empty cells per row of a block, written by the worker that owns the row.
private final class CountBox: @unchecked Sendable {
    let counts: UnsafeMutableBufferPointer<Int>
    init(_ n: Int) { counts = .allocate(capacity: max(n, 1)); counts.initialize(repeating: 0) }
    deinit { counts.deallocate() }
}

/// One query per worker; worker `w` alone uses `queries[w]`.
private final class QueryBox: @unchecked Sendable {
    let queries: [PathQuery]
    init(_ queries: [PathQuery]) { self.queries = queries }
}
