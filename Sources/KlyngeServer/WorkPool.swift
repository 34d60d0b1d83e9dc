import Foundation
import Hummingbird
import KlyngeWork
#if canImport(Glibc)
import Glibc
#endif

/// Work that is not light runs here (maps, solves and rebuilds in one pool; what-ifs and comparisons in a
/// second), on a few threads of its own at a lower priority, never on the threads that answer light
/// requests. A bounded queue sheds load with 503; every job has a time limit and stops when cancelled.
public final class WorkPool: @unchecked Sendable {
    private struct Job {
        var control: WorkControl
        var run: () -> Void
    }

    private let condition = NSCondition()
    private var queue: [Job] = []
    private var running = 0
    let workers: Int
    let queueLimit: Int
    /// The nice value of the pool's threads: above 0, light requests win the cores when both want them.
    let niceness: Int32

    init(workers: Int, queueLimit: Int, niceness: Int32 = 10) {
        self.workers = max(1, workers)
        self.queueLimit = max(0, queueLimit)
        self.niceness = niceness
        for k in 0..<self.workers {
            let t = Thread { [unowned self] in self.loop() }
            t.name = "klynge-work-\(k)"
            t.stackSize = 8 << 20
            t.start()
        }
    }

    /// Jobs waiting and running, for the busy answer's Retry-After.
    var load: (queued: Int, running: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (queue.count, running)
    }

    private func loop() {
        #if canImport(Glibc)
        // Light requests come first: heavy work yields the cores to them. On Linux `who = 0` sets the nice
        // value of the calling thread only.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
        #endif
        while true {
            condition.lock()
            while queue.isEmpty { condition.wait() }
            let job = queue.removeFirst()
            running += 1
            condition.unlock()
            job.run()
            condition.lock()
            running -= 1
            condition.unlock()
        }
    }

    /// Runs `body` on a worker. Throws `ServiceError.busy` when the queue is full; the body sees `control`,
    /// which is cancelled when the calling task is (the client went away) and carries the time limit.
    func run<T: Sendable>(control: WorkControl, _ body: @escaping @Sendable (WorkControl) throws -> T) async throws -> T {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
                let job = Job(control: control) {
                    // Work that nobody waits for any more is not started.
                    if let stop = control.reason {
                        continuation.resume(throwing: stop)
                        return
                    }
                    do { continuation.resume(returning: try body(control)) } catch { continuation.resume(throwing: error) }
                }
                condition.lock()
                if queue.count >= queueLimit && running >= workers {
                    let waiting = queue.count
                    condition.unlock()
                    continuation.resume(throwing: ServiceError.busy(retryAfterSeconds: max(1, min(60, 2 * (waiting + 1) / workers))))
                    return
                }
                queue.append(job)
                condition.signal()
                condition.unlock()
            }
        } onCancel: {
            control.cancel()
        }
    }
}

/// Where work that is not light runs: maps and solves on the heavy lane, what-ifs and comparisons on the
/// analysis lane; each with a time limit. Heavy work is also cancelled when its client disconnects: watching
/// for that ends the connection after the answer, which is fine for a map but would break keep-alive for the
/// page's quick what-ifs, which their time limit bounds instead.
struct HeavyWork: Sendable {
    enum Lane { case heavy, analysis }
    let heavy: WorkPool
    let analysis: WorkPool
    let watchClient: Bool

    func run<T: Sendable>(_ request: Request, lane: Lane, seconds: Double,
                          _ body: @escaping @Sendable (WorkControl) throws -> T) async throws -> T {
        let control = WorkControl(timeLimitSeconds: seconds)
        let pool = lane == .heavy ? heavy : analysis
        guard watchClient && lane == .heavy else { return try await pool.run(control: control, body) }
        return try await request.body.consumeWithInboundCloseHandler { _ in
            try await pool.run(control: control, body)
        } onInboundClosed: {
            control.cancel()
        }
    }
}
