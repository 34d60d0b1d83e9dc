import Dispatch
import Foundation
import Synchronization

/// Why a piece of work stopped before it was done.
public enum WorkStopped: Error, Sendable, Equatable, CustomStringConvertible {
    /// The caller no longer wants the answer (an HTTP client went away).
    case cancelled
    /// The work ran past its time limit.
    case timedOut(limitSeconds: Double)

    public var description: String {
        switch self {
        case .cancelled: return "the work was cancelled"
        case .timedOut(let s): return String(format: "the work took longer than its limit of %.0f s", s)
        }
    }
}

/// A stop signal for long work: cancelled from another thread, or past a deadline. Long loops call
/// `check()` (or read `isStopped`) now and then, so abandoned work stops within a fraction of a second.
public final class WorkControl: Sendable {
    private let cancelled = Mutex(false)
    private let deadline: DispatchTime?
    public let limitSeconds: Double?

    /// `timeLimitSeconds`: nil for no limit.
    public init(timeLimitSeconds: Double? = nil) {
        limitSeconds = timeLimitSeconds
        deadline = timeLimitSeconds.map { .now() + .nanoseconds(Int(min($0, 86_400) * 1e9)) }
    }

    /// Work that is never stopped (the command line).
    public static let unlimited = WorkControl()

    public func cancel() {
        cancelled.withLock { $0 = true }
    }

    /// Why the work should stop now, if it should.
    public var reason: WorkStopped? {
        if cancelled.withLock({ $0 }) { return .cancelled }
        if let deadline, DispatchTime.now() >= deadline { return .timedOut(limitSeconds: limitSeconds ?? 0) }
        return nil
    }

    public var isStopped: Bool { reason != nil }

    /// Seconds left before the deadline (nil without one).
    public var remainingSeconds: Double? {
        deadline.map { max(0, Double(Int64($0.uptimeNanoseconds) - Int64(DispatchTime.now().uptimeNanoseconds)) / 1e9) }
    }

    public func check() throws {
        if let r = reason { throw r }
    }
}

/// Runs `count` independent iterations on up to `threads` threads; one thread runs them in order on the
/// caller's thread (the service renders on its own worker threads and must not fan out further).
public func forEachInParallel(_ count: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
    if threads <= 1 || count <= 1 {
        for i in 0..<count { body(i) }
    } else {
        DispatchQueue.concurrentPerform(iterations: count, execute: body)
    }
}

/// The number of cores, for work that uses all of them.
public var coreCount: Int { ProcessInfo.processInfo.activeProcessorCount }
