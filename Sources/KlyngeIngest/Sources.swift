import Foundation

/// Resolving and naming data sources.
public enum SourcePath {
    /// A study file's `source:` relative to the study's folder; `PG:` and `/vsi…` strings pass through.
    public static func resolve(_ source: String, relativeTo base: URL) -> String {
        if isConnectionString(source) || source.hasPrefix("/") { return source }
        return base.appendingPathComponent(source).standardizedFileURL.path
    }

    public static func isConnectionString(_ source: String) -> Bool {
        source.hasPrefix("PG:") || source.hasPrefix("/vsi")
    }

    /// The source as shown in messages: passwords in connection strings hidden.
    public static func display(_ source: String) -> String {
        guard source.hasPrefix("PG:") else {
            // Paths below the working folder are shown relative to it, as the user typed them.
            let cwd = FileManager.default.currentDirectoryPath
            return source.hasPrefix(cwd + "/") ? String(source.dropFirst(cwd.count + 1)) : source
        }
        return source.replacingOccurrences(of: #"password=\S+"#, with: "password=***", options: .regularExpression)
    }
}
