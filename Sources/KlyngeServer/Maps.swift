import Foundation
import KlyngeData
import KlyngeRender

/// Maps over HTTP: the CLI's renderer, into a temporary file whose bytes are returned.
enum MapService {
    static func render(state: ServiceState, config: ServerConfig, style name: String, kind: OutputKind, scenario: String?,
                       category: String?, paper: String?, landscape: Bool, width: Int?, height: Int?, dpi: Double?,
                       language: String?) async throws -> [UInt8] {
        let style: Style
        do { style = try Style.load(name, stylesFolder: config.stylesFolder) } catch {
            throw ServiceError.notFound("no style `\(name)`")
        }
        let page: Page
        if let width, let height {
            guard (100...8000).contains(width), (100...8000).contains(height) else { throw ServiceError.badRequest("width and height go from 100 to 8000") }
            page = .pixels(width: width, height: height, dpi: dpi ?? 96)
        } else {
            guard let p = Page.paper(paper ?? "A4", landscape: landscape, dpi: min(max(dpi ?? 150, 36), 300)) else {
                throw ServiceError.badRequest("paper is A5, A4, A3, A2 or A1")
            }
            page = p
        }
        if let language, !["da", "en"].contains(language) { throw ServiceError.badRequest("lang is da or en") }
        let analysis = await state.snapshot()
        let request = try MapMaker.request(study: analysis.study, analysis: analysis, style: style, category: category,
                                           scenario: scenario, page: page, kind: kind, language: language)
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("klynge-map-\(UUID().uuidString).\(kind.rawValue)")
        defer { try? FileManager.default.removeItem(at: tmp) }
        _ = try MapRenderer.render(request, to: tmp.path)
        return [UInt8](try Data(contentsOf: tmp))
    }
}
