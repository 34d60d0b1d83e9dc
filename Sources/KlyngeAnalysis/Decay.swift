import Foundation

/// How the pull of a facility falls with travel, used by attendance, market share (Huff), the gravity index
/// and the enhanced two-step floating catchment (E2SFCA). Parameters are stated per minute (time) or per km
/// (distance), the units a planner states them in; costs arrive in seconds or metres (`unitCost` per unit).
///
/// - linear: f(c) = max(0, 1 − c / cutoff), the cutoff in minutes or km;
/// - power: f(c) = (c / unit)^−β, and 1 within the first minute or km (so a facility next door does not pull
///   infinitely);
/// - exponential: f(c) = exp(−β · c / unit).
///
/// `cutoffCost` (seconds or metres, compared as `CostPrecision` says) sets f to 0 beyond it; linear has its own.
public struct DistanceDecay: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Shape: String, Sendable, Hashable, Codable, CaseIterable { case linear, power, exponential }

    public var shape: Shape
    /// linear: the cutoff (minutes or km); power: the exponent β; exponential: β per minute or km.
    public var parameter: Double
    /// Seconds per minute (60) or metres per km (1000).
    public var unitCost: Double
    /// Beyond this cost (seconds or metres) nothing is pulled; nil: no cutoff (power, exponential).
    public var cutoffCost: Double?

    public init(shape: Shape, parameter: Double, unitCost: Double, cutoffCost: Double? = nil) throws {
        guard parameter.isFinite, parameter > 0 else {
            throw LocationError("the \(shape.rawValue) decay's parameter must be a positive, finite number (got \(parameter))")
        }
        switch shape {
        case .linear: guard parameter <= 10_000 else { throw LocationError("the linear decay's cutoff is at most 10,000 minutes or km") }
        case .power: guard parameter <= 10 else { throw LocationError("the power decay's exponent is at most 10") }
        case .exponential: guard parameter <= 100 else { throw LocationError("the exponential decay's rate is at most 100 per minute or km") }
        }
        guard unitCost.isFinite, unitCost > 0 else { throw LocationError("the decay needs a positive unit") }
        if let c = cutoffCost, !(c.isFinite && c > 0) { throw LocationError("the decay's cutoff must be a positive number") }
        self.shape = shape
        self.parameter = parameter
        self.unitCost = unitCost
        self.cutoffCost = shape == .linear ? parameter * unitCost : cutoffCost
    }

    /// The same decay for costs in another unit (a category measured in km rather than minutes); a cutoff of
    /// power or exponential, given in the old unit's costs, does not carry over to another unit.
    public func inUnits(_ unitCost: Double) -> DistanceDecay {
        guard unitCost != self.unitCost else { return self }
        var out = self
        out.cutoffCost = shape == .linear ? parameter * unitCost : nil
        out.unitCost = unitCost
        return out
    }

    /// `linear:15`, `power:1.5`, `exponential:0.1` (the parameter after the colon).
    public static func parse(_ text: String, unitCost: Double, cutoffCost: Double? = nil) throws -> DistanceDecay {
        let parts = text.trimmingCharacters(in: .whitespaces).lowercased().split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let shape = Shape(rawValue: String(parts[0])), let value = Double(parts[1]) else {
            throw LocationError("`\(text)` is not a decay: write linear:CUTOFF, power:BETA or exponential:BETA (e.g. linear:15, power:1.5, exponential:0.1)")
        }
        return try DistanceDecay(shape: shape, parameter: value, unitCost: unitCost, cutoffCost: cutoffCost)
    }

    /// The weight of a stored cost, in [0, 1]; 0 for a place that cannot be reached.
    @inline(__always)
    public func weight(_ cost: Double) -> Double {
        guard cost.isFinite else { return 0 }
        if let cut = cutoffCost, cost > CostPrecision.limit(cut) { return 0 }
        let units = max(cost, 0) / unitCost
        switch shape {
        case .linear: return max(0, 1 - units / parameter)
        case .power: return units <= 1 ? 1 : pow(units, -parameter)
        case .exponential: return exp(-parameter * units)
        }
    }

    public var description: String {
        let cut = shape != .linear ? cutoffCost.map { String(format: ", nothing beyond %g", $0 / unitCost) } ?? "" : ""
        return "\(shape.rawValue) decay \(String(format: "%g", parameter))\(cut)"
    }
}
