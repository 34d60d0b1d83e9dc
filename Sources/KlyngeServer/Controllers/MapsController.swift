import Foundation
import Hummingbird
import KlyngeStudyAnalysis
import KlyngeIngest
import KlyngeJobs
import KlyngeRender

/// Maps over HTTP: named styles only (never a path), drawn on the work pool with a pixel cap and a time limit.
struct MapsController {
    let state: ServiceState
    let config: ServerConfig
    let heavy: HeavyWork

    func add(to router: Router<KlyngeRequestContext>) {
        router.get("/maps/:file", use: map)
    }

    @Sendable func map(_ request: Request, _ context: KlyngeRequestContext) async throws -> Response {
        let file = try pathParameter(context, "file")
        let parts = file.split(separator: ".")
        guard parts.count == 2, let kind = OutputKind(rawValue: String(parts[1])), parts[0].count <= 64,
              parts[0].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw ServiceError.notFound("ask for /maps/STYLE.png, .svg or .pdf")
        }
        let style: Style
        do { style = try Style.load(String(parts[0]), stylesFolder: config.stylesFolder) } catch {
            throw ServiceError.notFound("no style `\(parts[0])`")
        }
        let q = Query(request)
        let page = try Page.checked(paper: try q.text("paper", maxLength: 10), landscape: try q.bool("landscape") ?? false,
                                    dpi: try q.double("dpi", in: Page.dpiRange), width: try q.int("width", in: Page.pixelRange),
                                    height: try q.int("height", in: Page.pixelRange), defaultDPI: 150, maxPixels: config.limits.maxMapPixels)
        let language = try q.text("lang", maxLength: 5)
        if let language, !["da", "en"].contains(language) { throw ServiceError.badRequest("lang is da or en", parameter: "lang") }
        let snapshot = await state.snapshot()
        let scenario = try q.text("scenario").map { try snapshot.scenario($0).name }
        let category = try AnalysisController.category(q, snapshot.analysis)
        // A survey style draws what is public anyway: approved pins, and flows whose small counts are withheld.
        var surveyInput: SurveyMapInput?
        if !Set(style.layers.compactMap(\.data)).isDisjoint(with: MapData.surveyLayers) {
            let catalog = state.surveys.catalog
            let definition = try q.text("survey", maxLength: 64).map { try state.surveys.survey($0) } ?? catalog.pick(nil)
            surveyInput = SurveyMapInput(survey: definition, places: catalog.places, responses: try state.surveys.responses(definition))
        }
        let survey = surveyInput
        let bytes = try await heavy.run(request, lane: .heavy, seconds: config.limits.mapSeconds) { control in
            let map = try MapMaker.request(study: snapshot.analysis.study, analysis: snapshot.analysis, style: style, category: category,
                                           scenario: scenario, page: page, kind: kind, language: language, survey: survey, control: control,
                                           // One thread per map: the pool's width bounds the cores maps take from everything else.
                                           threads: 1)
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("klynge-map-\(UUID().uuidString).\(kind.rawValue)")
            defer { try? FileManager.default.removeItem(at: tmp) }
            _ = try MapRenderer.render(map, to: tmp.path)
            return [UInt8](try Data(contentsOf: tmp))
        }
        let type = ["png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"][kind.rawValue]!
        return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
