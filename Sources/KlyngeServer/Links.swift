import Foundation
import Hummingbird

/// The address links in answers start with: the operator's public URL, or what the client used to reach
/// the service (the forwarded headers of a proxy, else Host). Never a wildcard bind address.
enum Links {
    static func base(_ request: Request, config: ServerConfig) -> String {
        origin(request, config: config) + config.pathPrefix
    }

    static func origin(_ request: Request, config: ServerConfig) -> String {
        if let url = config.publicURL { return url }
        let headers = request.headers
        var proto = "http"
        var host: String?
        if let forwarded = headers[FieldName("Forwarded")!] {
            // RFC 7239: the first element, e.g. `for=…;proto=https;host=example.dk`.
            let first = forwarded.split(separator: ",").first.map(String.init) ?? ""
            for pair in first.split(separator: ";") {
                let kv = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard kv.count == 2 else { continue }
                let value = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                if kv[0].lowercased() == "proto" { proto = value.lowercased() }
                if kv[0].lowercased() == "host" { host = value }
            }
        }
        if let p = headers[FieldName("X-Forwarded-Proto")!] { proto = p.split(separator: ",")[0].trimmingCharacters(in: .whitespaces).lowercased() }
        if host == nil, let h = headers[FieldName("X-Forwarded-Host")!] { host = h.split(separator: ",")[0].trimmingCharacters(in: .whitespaces) }
        if host == nil { host = headers[FieldName("Host")!] ?? request.head.authority }
        if !["http", "https"].contains(proto) { proto = "http" }
        if let h = host, isValidHost(h), !isWildcard(h) { return "\(proto)://\(h)" }
        return "http://\(hostForLinks(config.host)):\(config.port)"
    }

    /// host, host:port, [v6]:port — letters, digits and the punctuation of those forms only.
    static func isValidHost(_ h: String) -> Bool {
        !h.isEmpty && h.count <= 255 && h.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || ".-:[]_".unicodeScalars.contains($0)) }
    }

    static func isWildcard(_ h: String) -> Bool {
        h.hasPrefix("0.0.0.0") || h.hasPrefix("[::]") || h == "::" || h.hasPrefix(":::")
    }

    /// A bind address as a link host: wildcards become loopback, IPv6 literals get brackets.
    static func hostForLinks(_ host: String) -> String {
        switch host {
        case "0.0.0.0", "": return "127.0.0.1"
        case "::": return "[::1]"
        default: return host.contains(":") ? "[\(host)]" : host
        }
    }
}

/// Header names not predefined (HTTPTypes' field type is not re-exported by Hummingbird).
typealias FieldName = HTTPFields.Element.Name
