import Foundation
import Testing
import KlyngeTestSupport
@testable import KlyngeStudy

/// The study file's schema has one source (the coding keys); the unknown-key check and the README follow it.
@Suite struct SchemaTests {
    static func readme() throws -> String {
        try String(contentsOf: TestSupport.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
    }

    /// The README's study-file examples: the YAML blocks whose first key is a study file's.
    static func studyBlocks(_ readme: String) -> [String] {
        let top = StudyFile.schema[""]!
        return readme.components(separatedBy: "```yaml\n").dropFirst().compactMap { part in
            let block = part.components(separatedBy: "```")[0]
            let first = block.split(separator: "\n").first.map { String($0.split(separator: ":")[0]) } ?? ""
            return top.contains(first) ? block : nil
        }
    }

    @Test func theReadmeExamplesUseOnlyKnownKeys() throws {
        let blocks = Self.studyBlocks(try Self.readme())
        #expect(blocks.count >= 3)
        for block in blocks { try StudyFile.checkKeys(yaml: block, path: "README.md") }
    }

    @Test func everyKeyIsDocumented() throws {
        let readme = try Self.readme()
        let examples = Self.studyBlocks(readme).joined(separator: "\n")
        var missing: [String] = []
        for (pattern, keys) in StudyFile.schema {
            for key in keys where !examples.contains("\(key):") && !readme.contains("`\(key)`") {
                missing.append(pattern.isEmpty ? key : "\(pattern).\(key)")
            }
        }
        #expect(missing.sorted() == [], "study-file keys the README never shows")
    }

    @Test func theCheckFollowsTheDecoder() throws {
        // A key the decoder reads is never refused as unknown: every schema key in place decodes.
        try StudyFile.checkKeys(yaml: """
            name: x
            layers:
              areas: { source: a.gpkg, encoding: latin1, overrides: [{ id: "1", exclude: true }], join: { source: b.csv, key: k, fields: {}, encoding: latin1 } }
            """, path: "t.yaml")
        #expect(throws: StudyFileError.self) { try StudyFile.checkKeys(yaml: "name: x\nlayers:\n  areas: { source: a, encodng: latin1 }\n", path: "t.yaml") }
        #expect(throws: StudyFileError.self) { try StudyFile.checkKeys(yaml: "name: x\nlayers:\n  areas: { source: a, overrides: [{ excluded: true }] }\n", path: "t.yaml") }
    }
}
