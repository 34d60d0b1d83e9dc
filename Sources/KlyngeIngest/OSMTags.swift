import Foundation
import Yams

/// The tag table of `klynge import-osm`: which OSM tags make a facility of which category,
/// which `place` values are settlements, which `highway` values are not roads.
/// The default is `TagTable.defaultYAML`; `--tags FILE` replaces it.
public struct TagTable: Codable, Sendable, Hashable {
    public struct Rule: Codable, Sendable, Hashable {
        /// `key=value`, `key=v1|v2` or `key=*`.
        public var match: String
        /// Optional regular expression the `name` must match (e.g. to tell a music school from a school).
        public var nameMatches: String?
        public var category: String

        enum CodingKeys: String, CodingKey {
            case match, category
            case nameMatches = "name_matches"
        }

        var key: String { String(match.split(separator: "=", maxSplits: 1).first ?? "") }
        var values: [String] {
            let parts = match.split(separator: "=", maxSplits: 1)
            return parts.count == 2 ? parts[1].split(separator: "|").map(String.init) : ["*"]
        }

        func matches(_ tags: [String: String]) -> String? {
            guard let v = tags[key] else { return nil }
            guard values.contains("*") || values.contains(v) else { return nil }
            if let pattern = nameMatches {
                guard let name = tags["name"], name.range(of: pattern, options: .regularExpression) != nil else { return nil }
            }
            return "\(key)=\(v)"
        }
    }

    /// Evaluated in order; the first matching rule decides.
    public var facilities: [Rule]
    public var places: [String]
    public var roadExclude: [String]

    enum CodingKeys: String, CodingKey {
        case facilities, places
        case roadExclude = "road_exclude"
    }

    /// The first rule that matches the tags: (category, the tag that matched).
    public func category(for tags: [String: String]) -> (category: String, tag: String)? {
        for rule in facilities {
            if let tag = rule.matches(tags) { return (rule.category, tag) }
        }
        return nil
    }

    public static func parse(yaml: String, path: String) throws -> TagTable {
        let table: TagTable
        do { table = try YAMLDecoder().decode(TagTable.self, from: yaml) } catch {
            throw ImportError(path: path, message: "not a valid tag table: \(error)")
        }
        for rule in table.facilities {
            guard rule.match.contains("="), !rule.key.isEmpty else {
                throw ImportError(path: path, message: "rule `\(rule.match)`: write `key=value`, `key=a|b` or `key=*`")
            }
            if let p = rule.nameMatches, (try? NSRegularExpression(pattern: p)) == nil {
                throw ImportError(path: path, message: "rule `\(rule.match)`: `\(p)` is not a valid regular expression")
            }
        }
        return table
    }

    public static let defaultTable: TagTable = {
        do { return try parse(yaml: defaultYAML, path: "built-in tag table") } catch { fatalError("\(error)") }
    }()

    /// The built-in table, documented in the README (`klynge import-osm --print-tags` prints it).
    public static let defaultYAML = """
    # Klynge import-osm tag table. Rules are tried in order; the first match decides.
    facilities:
      - match: amenity=school
        name_matches: "(?i)musikskole|music school|kulturskole"
        category: music_school
      - match: amenity=community_centre|village_hall
        category: hall
      - match: amenity=school
        category: school
      - match: shop=supermarket|convenience|general
        category: shop
      - match: leisure=sports_centre|sports_hall
        category: sports_hall
      - match: building=sports_hall
        category: sports_hall
      - match: amenity=library
        category: library
      - match: amenity=kindergarten|childcare
        category: childcare
      - match: amenity=townhall
        category: townhall
      - match: amenity=doctors|clinic
        category: doctor
      - match: amenity=place_of_worship
        category: church
    places: [city, town, village, hamlet, isolated_dwelling]
    road_exclude: [proposed, construction, abandoned, razed, disused, platform, bus_stop, elevator, rest_area, services]

    """
}

public struct ImportError: Error, CustomStringConvertible {
    public let path: String
    public let message: String
    public var description: String { "\(path): \(message)" }
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
}

/// Parses OGR's hstore text (`"k"=>"v","k2"=>"v2"`), the form of the OSM driver's `all_tags`.
public enum HStore {
    public static func parse(_ s: String) -> [String: String] {
        var out: [String: String] = [:]
        var chars = Array(s.unicodeScalars)[...]
        func quoted() -> String? {
            while let c = chars.first, c == " " || c == "," { chars.removeFirst() }
            guard chars.first == "\"" else { return nil }
            chars.removeFirst()
            var v = String.UnicodeScalarView()
            while let c = chars.popFirst() {
                if c == "\\", let n = chars.popFirst() { v.append(n); continue }
                if c == "\"" { return String(v) }
                v.append(c)
            }
            return nil
        }
        while let k = quoted() {
            while let c = chars.first, c == " " { chars.removeFirst() }
            guard chars.starts(with: "=>".unicodeScalars) else { break }
            chars.removeFirst(2)
            guard let v = quoted() else { break }
            out[k] = v
        }
        return out
    }
}
