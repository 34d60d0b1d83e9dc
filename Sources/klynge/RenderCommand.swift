import ArgumentParser
import Foundation
import KlyngeAnalysis
import KlyngeStudyAnalysis
import KlyngeIngest
import KlyngeJobs
import KlyngeGeo
import KlyngeIO
import KlyngeRender
import KlyngeStore
import KlyngeStudy
import KlyngeSurvey

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Draw a finished map (PNG, SVG, PDF) of the study from a style in styles/ (or a style file).",
        discussion: "Styles: overview, coverage, scenario, clusters, masterplan. `--geojson` also writes the map's layers with simplestyle properties."
    )

    @OptionGroup var options: StudyOptions
    @Option(help: "A style name (styles/NAME.json) or a style file.")
    var style: String
    @Option(help: "Draw this scenario (for the scenario style; default: the study's first).")
    var scenario: String?
    @Option(help: "The category shown by coverage and scenario maps (default: the study's first category).")
    var category: String?
    @Option(help: "Paper size: A5, A4, A3, A2, A1 (default A4).")
    var paper: String?
    @Flag(help: "Landscape orientation (default: the orientation that fits the map's frame).")
    var landscape = false
    @Flag(help: "Portrait orientation.")
    var portrait = false
    @Option(help: "Resolution of PNG output (dots per inch).")
    var dpi: Double?
    @Option(help: "Width in pixels (instead of a paper size).")
    var width: Int?
    @Option(help: "Height in pixels (instead of a paper size).")
    var height: Int?
    @Option(help: "A proposal saved by `regions --save`, drawn in place of the study's own clusters.")
    var clustering: String?
    @Option(help: "A citizen survey of the study, for styles that draw its pins and flows (the survey style).")
    var survey: String?
    @Option(help: "What the map shows: study, area:ID, cluster:NAME or bbox:minx,miny,maxx,maxy (working CRS).")
    var frame: String = "study"
    @Option(help: "Map title (default: the study's name).")
    var title: String?
    @Option(help: "Language of the map text: da or en (default: the study's).")
    var lang: String?
    @Option(help: "Folder of named styles.")
    var styles: String = "styles"
    @Option(name: .shortAndLong, help: "The map: .png, .svg or .pdf.")
    var output: String?
    @Option(help: "Also (or only) write the map's layers as RFC 7946 GeoJSON with simplestyle properties.")
    var geojson: String?

    func validate() throws {
        guard output != nil || geojson != nil else { throw ValidationError("name the map with -o FILE.png|.svg|.pdf (or --geojson FILE)") }
        if let output, OutputKind.from(path: output) == nil { throw ValidationError("the map is written as .png, .svg or .pdf") }
        if landscape && portrait { throw ValidationError("--landscape and --portrait exclude each other") }
        _ = try page()
        if let lang, !["da", "en"].contains(lang) { throw ValidationError("--lang is da or en") }
    }

    func run() throws {
        try failing {
            // The style first: its errors stop the run before any data is read or file written.
            let styleFolder = stylesFolder(styles)
            let theStyle = try Style.load(style, stylesFolder: styleFolder)
            // Saved scenarios need the road network to be checked; a map of a study without roads has none.
            var study = try loadUsableStudy(options)
            let store = try options.scenarioStore()
            var network: StudyNetwork?
            if store.exists || FileManager.default.fileExists(atPath: ScenarioStore.legacyYAMLPath(forStudy: options.study)) {
                network = try StudyNetwork(study: study)
                study = try savedScenarios(options, study: study, network: network!).study
            }
            if let clustering, let saved = try namedClustering(clustering, options) { study = study.using(saved) }
            let needsSurvey = !Set(theStyle.layers.compactMap(\.data)).isDisjoint(with: MapData.surveyLayers)
            var surveyInput: SurveyMapInput?
            if needsSurvey || survey != nil {
                let answers = try surveyAnswers(options, study: study, id: survey)
                surveyInput = SurveyMapInput(survey: answers.survey, places: answers.catalog.places, responses: answers.responses)
            }
            let extent = try frameExtent(study: study)
            let page = try self.page(fitting: extent)
            // The same request builder as the server's /maps.
            let request = try MapMaker.request(study: study, analysis: nil, network: network, style: theStyle, category: category, scenario: scenario,
                                               page: page, kind: output.flatMap(OutputKind.from(path:)) ?? .png, language: lang,
                                               title: title, extent: extent, survey: surveyInput)
            // The map and its GeoJSON are published together, or neither: every path is checked before drawing.
            var report: RenderReport?
            var outputs: [(url: URL, write: (URL) throws -> Void)] = []
            if let output { outputs.append((URL(fileURLWithPath: output), { tmp in report = try MapRenderer.render(request, to: tmp.path) })) }
            let styled = geojson.map { _ in styledTable(request, crs: study.crs) }
            if let geojson, let styled {
                outputs.append((URL(fileURLWithPath: geojson), { tmp in try AtomicOutput.writeText(try Exporter.geoJSON(styled), to: tmp, shown: geojson) }))
            }
            try AtomicOutput.writeAll(outputs)
            if let output, let report {
                for w in report.warnings { warn("warning: \(w)") }
                let sizeText = request.kind == .png ? "\(page.pixelWidth) × \(page.pixelHeight) px at \(Int(page.dpi)) dpi"
                    : String(format: "%.0f × %.0f pt", page.widthPt, page.heightPt)
                print("Wrote \(output) (\(sizeText)); scale 1:\(Int(report.viewport.scaleDenominator.rounded())), "
                      + "scale bar \(report.scaleBar.label), \(report.labels.count) labels")
            }
            if let geojson, let styled { print("Wrote \(geojson): \(styled.features.count) styled features") }
        }
    }

    /// The page asked for, every number checked (NaN and infinities included) by the renderer's one checked path.
    /// Without --landscape or --portrait a paper turns to fit the frame: landscape when it is wider than tall.
    func page(fitting extent: Envelope? = nil) throws -> Page {
        let wide = extent.map { ($0.maxX - $0.minX) > ($0.maxY - $0.minY) } ?? false
        do {
            return try Page.checked(paper: paper, landscape: landscape || (!portrait && wide), dpi: dpi, width: width, height: height, defaultDPI: 300,
                                    maxPixels: 400_000_000)
        } catch let e as PageError {
            throw ValidationError("--\(e.parameter): \(e.message)")
        }
    }

    func frameExtent(study: Study) throws -> Envelope {
        let all = Envelope(covering: study.areas.flatMap { $0.geometry.allCoordinates })
            ?? Envelope(covering: study.demand.map(\.location) + study.facilities.map(\.location))
        if frame == "study" {
            guard let all else { throw ValidationError("the study has nothing to draw") }
            return all
        }
        if frame.hasPrefix("area:") {
            let id = String(frame.dropFirst(5))
            guard let a = study.areas.first(where: { $0.id == id || $0.name == id }), let e = a.geometry.envelope else {
                throw ValidationError("no area `\(id)`")
            }
            return e
        }
        if frame.hasPrefix("cluster:") {
            let name = String(frame.dropFirst(8))
            let areas = study.areas.filter { ($0.cluster ?? study.clusters.assignments?[$0.id]) == name }
            guard let e = Envelope(covering: areas.flatMap { $0.geometry.allCoordinates }) else { throw ValidationError("no cluster `\(name)`") }
            return e
        }
        if frame.hasPrefix("bbox:") {
            let v = frame.dropFirst(5).split(separator: ",").compactMap { Double($0) }
            guard v.count == 4, v[2] > v[0], v[3] > v[1] else { throw ValidationError("bbox:minx,miny,maxx,maxy in the working CRS") }
            return Envelope(minX: v[0], minY: v[1], maxX: v[2], maxY: v[3])
        }
        throw ValidationError("--frame is study, area:ID, cluster:NAME or bbox:minx,miny,maxx,maxy")
    }

    /// Every drawn feature with simplestyle properties (fill, stroke, marker-color, title), in RFC 7946 GeoJSON.
    func styledTable(_ request: MapRequest, crs: CRS) -> FeatureTable {
        // A text-only label of a point another layer draws (a village's name beside its dot) becomes that
        // feature's title rather than a second feature.
        var drawn: [DrawnFeature] = []
        var pointAt: [String: Int] = [:]
        for d in MapRenderer.styledFeatures(request) {
            if case .point(let c)? = d.feature.geometry {
                let key = "\(d.feature["id"].text ?? "")|\(c.x)|\(c.y)"
                if d.icon == nil, let i = pointAt[key] {
                    if let t = d.title { drawn[i].title = t }
                    continue
                }
                if pointAt[key] == nil { pointAt[key] = drawn.count }
            }
            drawn.append(d)
        }
        var names = Set<String>()
        let features = drawn.map { d -> Feature in
            var a = d.feature.attributes
            a["klynge_layer"] = .string(d.layer)
            if let f = d.fill { a["fill"] = .string(f.hex); a["fill-opacity"] = .double((f.a * 100).rounded() / 100) }
            if let s = d.stroke { a["stroke"] = .string(s.hex); a["stroke-opacity"] = .double((s.a * 100).rounded() / 100) }
            if let w = d.strokeWidth { a["stroke-width"] = .double(w) }
            if let m = d.marker { a["marker-color"] = .string(m.hex); a["marker-size"] = .string(d.markerSize ?? "small") }
            if let icon = d.icon { a["marker-symbol"] = .string(icon) }
            if let t = d.title { a["title"] = .string(t) }
            names.formUnion(a.keys)
            return Feature(geometry: d.feature.geometry, attributes: a)
        }
        return FeatureTable(name: "map", crs: crs, fields: names.sorted().map { FieldDefinition(name: $0, type: .string) }, features: features)
    }
}

/// `--styles` as a folder URL: absolute, or under the current directory.
func stylesFolder(_ path: String) -> URL {
    URL(fileURLWithPath: path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path)
}
