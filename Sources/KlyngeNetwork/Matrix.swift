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
}

public struct MatrixSummary: Sendable, Hashable {
    public var origins = 0
    public var destinations = 0
    public var pairsWritten = 0
    /// Pairs with both ends on the network but no path between them.
    public var unreachablePairs = 0
    /// Pairs with an end that could not be attached (beyond the snap limit or on a small piece).
    public var unattachedPairs = 0
    /// Searches run from destinations over the reverse graph (the smaller side).
    public var searchedFromDestinations = false
    public var searches = 0

    public init(origins: Int = 0, destinations: Int = 0) {
        self.origins = origins
        self.destinations = destinations
    }
}

/// Origin–destination costs on one mode graph. Searches run from the smaller side (reverse graph
/// when that is the destinations), in blocks spread over the threads; each block is handed to
/// `emit` as soon as it is done, so a large matrix never sits in memory whole.
public struct MatrixEngine: Sendable {
    public let graph: ModeGraph

    public init(graph: ModeGraph) { self.graph = graph }

    /// Rows come out grouped by block; `progress(done, total)` is called after each block.
    public func compute(origins: [Snap?], destinations: [Snap?], options: MatrixOptions = MatrixOptions(),
                        progress: ((Int, Int) -> Void)? = nil,
                        emit: ([MatrixEntry]) throws -> Void) throws -> MatrixSummary {
        var summary = MatrixSummary(origins: origins.count, destinations: destinations.count)
        let reverse = destinations.count < origins.count
        summary.searchedFromDestinations = reverse
        let sources = reverse ? destinations : origins
        let targets = reverse ? origins : destinations
        let timed = graph.mode.isTimed
        // A search may stop at the cut-off (legs only add to the cost).
        let cutoff = timed ? (options.maxDurationSeconds ?? .infinity) : (options.maxDistanceMeters ?? .infinity)
        let blockSize = max(1, min(512, 2_000_000 / max(targets.count, 1)))
        var topK: [[MatrixEntry]] = reverse && options.nearest != nil ? Array(repeating: [], count: origins.count) : []
        let threads = options.threads
        let graph = self.graph

        func accept(_ c: PathCost) -> Bool {
            if let m = options.maxDistanceMeters, c.meters > m { return false }
            if timed, let m = options.maxDurationSeconds, c.cost > m { return false }
            return true
        }

        var blockStart = 0
        while blockStart < sources.count {
            let block = blockStart..<min(blockStart + blockSize, sources.count)
            let width = targets.count
            // Results of the block, row per source: written by disjoint workers, read after the join.
            let results = UnsafeMutableBufferPointer<PathCost?>.allocate(capacity: block.count * width)
            results.initialize(repeating: nil)
            defer { results.deallocate() }
            let box = ResultBox(results)
            DispatchQueue.concurrentPerform(iterations: min(threads, block.count)) { worker in
                let query = PathQuery(graph: graph)
                var seeds: [Seed] = []
                seeds.reserveCapacity(2)
                var i = block.lowerBound + worker
                while i < block.upperBound {
                    defer { i += threads }
                    guard let s = sources[i] else { continue }
                    seeds.removeAll(keepingCapacity: true)
                    if reverse { graph.arrivalSeeds(s, into: &seeds) } else { graph.departureSeeds(s, into: &seeds) }
                    query.run(from: seeds, reverse: reverse, cutoff: cutoff)
                    let row = (i - block.lowerBound) * width
                    for j in 0..<width {
                        guard let t = targets[j] else { continue }
                        var best = reverse ? graph.departure(from: t, query) : graph.arrival(at: t, query)
                        if let direct = reverse ? graph.sameEdgeCost(from: t, to: s) : graph.sameEdgeCost(from: s, to: t),
                           best == nil || direct.cost < best!.cost {
                            best = direct
                        }
                        box.buffer[row + j] = best
                    }
                }
            }
            summary.searches += block.count

            // Emit in origin order within the block.
            var out: [MatrixEntry] = []
            if !reverse {
                for i in block {
                    var row: [MatrixEntry] = []
                    for j in 0..<width {
                        let c = results[(i - block.lowerBound) * width + j]
                        if origins[i] == nil || destinations[j] == nil {
                            if !options.isSparse { summary.unattachedPairs += 1; row.append(MatrixEntry(origin: i, destination: j, cost: nil)) }
                            continue
                        }
                        guard let c else {
                            if !options.isSparse { summary.unreachablePairs += 1; row.append(MatrixEntry(origin: i, destination: j, cost: nil)) }
                            continue
                        }
                        if accept(c) { row.append(MatrixEntry(origin: i, destination: j, cost: c)) }
                    }
                    if let k = options.nearest {
                        row.sort { ($0.cost!.cost, $0.destination) < ($1.cost!.cost, $1.destination) }
                        row = Array(row.prefix(k))
                    }
                    out += row
                }
            } else {
                for o in 0..<width {
                    for d in block {
                        let c = results[(d - block.lowerBound) * width + o]
                        if origins[o] == nil || destinations[d] == nil {
                            if !options.isSparse { summary.unattachedPairs += 1; out.append(MatrixEntry(origin: o, destination: d, cost: nil)) }
                            continue
                        }
                        guard let c else {
                            if !options.isSparse { summary.unreachablePairs += 1; out.append(MatrixEntry(origin: o, destination: d, cost: nil)) }
                            continue
                        }
                        guard accept(c) else { continue }
                        let entry = MatrixEntry(origin: o, destination: d, cost: c)
                        if let k = options.nearest {
                            Self.insert(entry, into: &topK[o], keep: k)
                        } else {
                            out.append(entry)
                        }
                    }
                }
            }
            summary.pairsWritten += out.count
            try emit(out)
            blockStart = block.upperBound
            progress?(blockStart, sources.count)
        }
        if reverse, options.nearest != nil {
            for row in topK {
                summary.pairsWritten += row.count
                try emit(row)
            }
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

/// Lets the workers of one block write disjoint cells of a buffer that outlives them.
private final class ResultBox: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<PathCost?>
    init(_ buffer: UnsafeMutableBufferPointer<PathCost?>) { self.buffer = buffer }
}
