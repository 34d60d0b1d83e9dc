/// One finding of validation, naming where it is.
public struct ValidationIssue: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Severity: String, Sendable, Codable, Comparable {
        case error, warning, repaired
        public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
        var rank: Int { switch self { case .error: 0; case .warning: 1; case .repaired: 2 } }
    }

    public var severity: Severity
    public var file: String?
    public var layer: String?
    public var featureId: String?
    public var field: String?
    /// The study file's key path the finding is about (`coverage.hall.minutes`, `scenarios[2].close`).
    public var key: String?
    public var message: String

    public init(_ severity: Severity, file: String?, layer: String? = nil, featureId: String? = nil,
                field: String? = nil, key: String? = nil, _ message: String) {
        self.severity = severity
        self.file = file
        self.layer = layer
        self.featureId = featureId
        self.field = field
        self.key = key
        self.message = message
    }

    public var description: String {
        var parts: [String] = []
        if let file { parts.append(file) }
        if let layer { parts.append("layer \(layer)") }
        if let featureId { parts.append("feature \(featureId)") }
        if let field { parts.append("field \(field)") }
        if let key { parts.append("key \(key)") }
        return "\(severity.rawValue): \(parts.joined(separator: ", ")): \(message)"
    }
}

/// What was read for one study layer.
public struct LayerSummary: Hashable, Sendable, Codable {
    public var role: LayerRole
    public var source: String
    public var layer: String?
    public var featuresRead: Int
    public var featuresLoaded: Int
    public var geometryTypes: [String]
    public var sourceCRS: String?
    /// Extent of what was loaded, in the working CRS.
    public var extent: [Double]?

    public init(role: LayerRole, source: String, layer: String?, featuresRead: Int, featuresLoaded: Int,
                geometryTypes: [String], sourceCRS: String?, extent: [Double]?) {
        self.role = role
        self.source = source
        self.layer = layer
        self.featuresRead = featuresRead
        self.featuresLoaded = featuresLoaded
        self.geometryTypes = geometryTypes
        self.sourceCRS = sourceCRS
        self.extent = extent
    }
}

/// The outcome of loading and validating a study.
public struct ValidationReport: Sendable, Codable {
    public var workingCRS: String
    public var layers: [LayerSummary]
    public var issues: [ValidationIssue]

    public init(workingCRS: String, layers: [LayerSummary] = [], issues: [ValidationIssue] = []) {
        self.workingCRS = workingCRS
        self.layers = layers
        self.issues = issues
    }

    public var errors: [ValidationIssue] { issues.filter { $0.severity == .error } }
    public var hasErrors: Bool { issues.contains { $0.severity == .error } }
}
