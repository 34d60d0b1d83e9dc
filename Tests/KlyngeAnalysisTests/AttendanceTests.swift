import Foundation
import Testing
@testable import KlyngeAnalysis

/// Attendance and market share (Huff) against hand-worked figures and brute force over every set.
@Suite struct AttendanceTests {
    /// The three decays at stated points, in minutes (costs in seconds).
    @Test func decaysFollowTheirFormulas() throws {
        let linear = try DistanceDecay.parse("linear:10", unitCost: 60)
        #expect(linear.weight(0) == 1 && abs(linear.weight(300) - 0.5) < 1e-12 && linear.weight(600) == 0 && linear.weight(900) == 0)
        let power = try DistanceDecay.parse("power:2", unitCost: 60)
        #expect(power.weight(30) == 1 && abs(power.weight(120) - 0.25) < 1e-12 && power.weight(.infinity) == 0)
        let exponential = try DistanceDecay.parse("exponential:0.1", unitCost: 60, cutoffCost: 600)
        #expect(abs(exponential.weight(300) - exp(-0.5)) < 1e-12 && exponential.weight(600) > 0 && exponential.weight(600.01) == 0)
        for bad in ["linear", "power:-1", "exponential:nan", "gauss:2", "power:0", "linear:1e9"] {
            #expect(throws: LocationError.self) { try DistanceDecay.parse(bad, unitCost: 60) }
        }
    }

    /// Two villages, two sites, one competitor, worked by hand: village A (100 people) is 2 min from site 0,
    /// 4 min from site 1 and 2 min from the competitor; village B (50) is 4, 2 and unreachable. With power
    /// decay β = 1 and attractiveness 2, 1 and 1: site 0 alone captures 100 · (2/2)/(2/2 + 1/2) + 50 · 1 =
    /// 116.667; site 1 alone 100 · (1/4)/(1/4 + 1/2) + 50 = 83.333.
    @Test func huffSharesWorkedByHand() throws {
        var prob = LocationProblem(weights: [100, 50], candidateCount: 2, cost: [120, 240, 240, 120])
        prob.attractiveness = [2, 1]
        prob.competitors = .init(count: 1, cost: [120, .infinity], attractiveness: [1])
        let decay = try DistanceDecay.parse("power:1", unitCost: 60)
        let s = try LocationAllocation.solve(prob, .init(goal: .marketShare(facilities: 1, decay: decay)))
        #expect(s.chosen == [0] && abs(s.value - (100 * (1.0 / 1.5) + 50)) < 1e-9 && s.proven)
        #expect(abs(s.visitors![0] - s.value) < 1e-9 && abs(s.capturedShare! - s.value / 150) < 1e-12)
        // Both: A splits 1 : 0.25 : 0.5 between site 0, site 1 and the competitor; B 2/4 : 1/2 between the sites.
        let both = try LocationAllocation.solve(prob, .init(goal: .marketShare(facilities: 2, decay: decay)))
        let v0 = 100 * 1 / 1.75 + 50 * 0.5, v1 = 100 * 0.25 / 1.75 + 50 * 0.5
        #expect(abs(both.visitors![0] - v0) < 1e-9 && abs(both.visitors![1] - v1) < 1e-9 && abs(both.value - v0 - v1) < 1e-9)
        // Attendance (no competitors, the nearest chosen site): A at site 0 gives 100 · 1/2, B 50 · 1/4 there.
        let a = try LocationAllocation.solve(prob, .init(goal: .attendance(facilities: 1, decay: decay)))
        #expect(a.chosen == [0] && abs(a.value - 62.5) < 1e-9 && a.proven)
    }

    /// Random problems with competitors and unreachable pairs: every objective equals the best over all sets,
    /// with and without required sites, for each decay; the heuristic's bound is never below the optimum.
    @Test(arguments: [7, 8, 9] as [UInt64])
    func attendanceAndMarketShareEqualBruteForce(_ seed: UInt64) throws {
        var rng = RNG(state: seed)
        let m = 25, n = 9, r = 3
        let weights = (0..<m).map { _ in Double(1 + rng.below(300)) }
        let cost = (0..<(m * n)).map { _ in rng.next() < 0.1 ? Double.infinity : (rng.next() * 1500 * 100).rounded() / 100 }
        var prob = LocationProblem(weights: weights, candidateCount: n, cost: cost)
        prob.attractiveness = (0..<n).map { _ in 0.5 + rng.next() * 3 }
        prob.competitors = .init(count: r, cost: (0..<(m * r)).map { _ in rng.next() < 0.2 ? .infinity : (rng.next() * 1500 * 100).rounded() / 100 },
                                 attractiveness: (0..<r).map { _ in 0.5 + rng.next() * 3 })
        let huff = { (set: [Int], decay: DistanceDecay) -> Double in
            (0..<m).reduce(0.0) { sum, i in
                let own = set.reduce(0.0) { $0 + prob.attractiveness![$1] * decay.weight(prob.c(i, $1)) }
                let rival = (0..<r).reduce(0.0) { $0 + prob.competitors!.attractiveness[$1] * decay.weight(prob.competitors!.cost[i * r + $1]) }
                return own + rival > 0 ? sum + weights[i] * own / (own + rival) : sum
            }
        }
        let attendance = { (set: [Int], decay: DistanceDecay) -> Double in
            (0..<m).reduce(0.0) { sum, i in sum + weights[i] * (set.map { decay.weight(prob.c(i, $0)) }.max() ?? 0) }
        }
        for text in ["linear:20", "power:1.5", "exponential:0.15"] {
            let decay = try DistanceDecay.parse(text, unitCost: 60)
            for p in [2, 3] {
                for required in [Set<Int>(), [4]] {
                    var q = prob
                    q.required = required
                    let sets = subsets(Array(0..<n), p).filter { required.isSubset(of: $0) }
                    let bestHuff = sets.map { huff($0, decay) }.max()!
                    let bestAttendance = sets.map { attendance($0, decay) }.max()!
                    let s = try LocationAllocation.solve(q, .init(goal: .marketShare(facilities: p, decay: decay)))
                    #expect(abs(s.value - bestHuff) <= 1e-9 * bestHuff && s.proven, "\(text) p=\(p): \(s.value) vs \(bestHuff)")
                    #expect(abs(huff(s.chosen, decay) - s.value) <= 1e-9 * bestHuff && required.isSubset(of: s.chosen))
                    let h = try LocationAllocation.solve(q, .init(goal: .marketShare(facilities: p, decay: decay), solver: .heuristic))
                    #expect(h.bound! >= bestHuff - 1e-9 * bestHuff && h.value <= bestHuff + 1e-9 * bestHuff)
                    for solver in [SolverChoice.auto, .exact] {
                        let a = try LocationAllocation.solve(q, .init(goal: .attendance(facilities: p, decay: decay), solver: solver))
                        #expect(abs(a.value - bestAttendance) <= 1e-9 * bestAttendance && a.proven, "\(text) p=\(p) \(solver): \(a.value) vs \(bestAttendance)")
                        #expect(abs(a.visitors!.reduce(0, +) - a.value) <= 1e-9 * bestAttendance)
                    }
                }
            }
            // Target share: the fewest sites reaching 60 % of the most any set captures.
            let target = 0.6 * huff(Array(0..<n), decay) / weights.reduce(0, +)
            let fewest = (1...n).first { k in subsets(Array(0..<n), k).contains { huff($0, decay) >= target * weights.reduce(0, +) } }!
            let t = try LocationAllocation.solve(prob, .init(goal: .targetShare(share: target, decay: decay)))
            #expect(Int(t.value) == fewest && t.chosen.count == fewest && t.proven && t.capturedShare! >= target - 1e-12)
        }
        // A share no set reaches is refused in numbers.
        do {
            _ = try LocationAllocation.solve(prob, .init(goal: .targetShare(share: 1, decay: try DistanceDecay.parse("power:1", unitCost: 60))))
            Issue.record("an unreachable target share was answered")
        } catch let e as LocationError {
            #expect(e.message.contains("captures only"), "\(e)")
        }
    }
}
