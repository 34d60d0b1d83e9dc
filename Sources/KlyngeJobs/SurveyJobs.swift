import Foundation
import KlyngeGeo
import KlyngeIngest
import KlyngeIO
import KlyngeQR
import KlyngeRender
import KlyngeStudyAnalysis
import KlyngeSurvey

/// The survey's outputs, shared by the command line and the service: results with the travel-time
/// comparison, exports, and QR codes for posters.
public enum SurveyJobs {
    /// Tallies with observed-versus-nearest use from the study's travel times.
    public static func results(survey: SurveyDefinition, places: SurveyPlaces, responses: [SurveyResponse], analysis: StudyAnalysis,
                               language: SurveyLanguage, administrator: Bool) throws -> SurveyResults {
        var r = SurveyResults(survey: survey, places: places, responses: responses, language: language, includeTexts: administrator)
        r.observedVersusNearest = try SurveyUse.observed(survey: survey, responses: responses, places: places, analysis: analysis)
        return r
    }

    /// Responses and pins: GeoJSON (both, a `layer` field tells them apart), GeoPackage (two layers) or CSV
    /// (`layer` picks one; responses unless told).
    public static func export(survey: SurveyDefinition, places: SurveyPlaces, responses: [SurveyResponse], to url: URL, csvLayer: String = "responses") throws {
        let tables = [SurveyExport.responses(survey: survey, places: places, responses: responses), SurveyExport.pins(survey: survey, responses: responses)]
        switch ExportFormat.from(path: url.path) {
        case .csv?:
            guard let t = tables.first(where: { $0.name == csvLayer }) else {
                throw ExportError(path: url.path, message: "a CSV holds one layer: `responses` or `pins`, not `\(csvLayer)`")
            }
            try Exporter.write([t], to: url)
        default: try Exporter.writeAny(tables, to: url)
        }
    }

    /// A QR code for `url` with the survey's title above and the address below.
    public static func writeQR(url: String, title: String?, to path: String, sideMillimeters: Double, dpi: Double,
                               correction: QRCode.Correction) throws {
        guard let kind = OutputKind.from(path: path) else { throw RenderError("\(path): use .png, .svg or .pdf for a QR code") }
        let code = try QRCode(text: try asciiURL(url), correction: correction)
        let sheet = QRCodeSheet(modules: code.modules, width: code.width, title: title, caption: url, sideMillimeters: sideMillimeters)
        try AtomicOutput.write(to: URL(fileURLWithPath: path)) { tmp in try sheet.render(kind: kind, dpi: dpi, to: tmp.path) }
    }

    /// The address as ASCII, as URLs travel: other characters percent-encoded as UTF-8 (a QR code's byte mode
    /// has no agreed text encoding, so scanners would guess). A host must already be ASCII (its xn-- form).
    public static func asciiURL(_ url: String) throws -> String {
        guard let u = URL(string: url), let host = u.host, host.unicodeScalars.allSatisfy(\.isASCII) else {
            throw RenderError("\(url): write the host in ASCII (its xn-- form) for a QR code")
        }
        var out = ""
        for s in url.unicodeScalars {
            if s.isASCII { out.unicodeScalars.append(s) } else { for b in String(s).utf8 { out += String(format: "%%%02X", b) } }
        }
        return out
    }

    /// A survey page's address is http(s) with a host; anything else would print a code that leads nowhere.
    public static func checkedSurveyURL(_ text: String) -> String? {
        guard let u = URL(string: text), let scheme = u.scheme?.lowercased(), ["http", "https"].contains(scheme), let host = u.host, !host.isEmpty else { return nil }
        return text
    }
}

extension SurveyResults {
    /// The results as Markdown in Danish, for the steering group's papers.
    public func markdown() -> String {
        func pct(_ s: Double) -> String { String(format: "%.0f %%", s * 100) }
        func decimal(_ v: Double) -> String { String(format: "%.1f", v).replacingOccurrences(of: ".", with: ",") }
        func count(_ g: GroupCount) -> String { g.suppressed ? "under \(minimumGroupSize)" : String(g.respondents ?? 0) }
        let modeNames = ["car": "bil", "bike": "cykel", "walk": "gang"]
        var out = ["# \(Self.escaped(title))", "", "\(respondents) svar (\(web) på nettet, \(paper) fra papir). For en gruppe med under \(minimumGroupSize) svar vises antallet ikke.", ""]
        out += ["## Svar pr. landsby", "", "| Landsby | Svar |", "|---|---:|"] + byVillage.map { "| \(Self.escaped($0.name)) | \(count($0)) |" }
        out += ["", "## Svar pr. område", "", "| Område | Svar |", "|---|---:|"] + byArea.map { "| \(Self.escaped($0.name)) | \(count($0)) |" }
        if !byCluster.isEmpty {
            out += ["", "## Svar pr. klynge", "", "| Klynge | Svar |", "|---|---:|"] + byCluster.map { "| \(Self.escaped($0.name)) | \(count($0)) |" }
        }
        for b in blocks {
            out += ["", "## \(Self.escaped(b.title))"]
            for q in b.questions {
                out += ["", "**\(Self.escaped(q.text))** (\(q.answered) svar)"]
                if let options = q.options { out += [""] + options.map { "- \(Self.escaped($0.label)): \($0.count)" } }
                if let n = q.number {
                    out += ["", "Gennemsnit \(decimal(n.mean)), median \(decimal(n.median)) (fra \(decimal(n.minimum)) til \(decimal(n.maximum)))"]
                }
                // Respondents' words are quoted as text: markup in them is shown, never interpreted.
                if let texts = q.texts { out += [""] + texts.map { "> " + Self.escaped($0.replacingOccurrences(of: "\n", with: " ")) } }
            }
        }
        for u in facilityUse {
            out += ["", "## Brug: \(Self.escaped(u.categoryLabel))", "", "| Sted | Brugere |", "|---|---:|"]
                + u.facilities.map { "| \(Self.escaped($0.name)) | \($0.users) |" }
            out += ["", "\(u.usingNone) bruger ingen. Transport: " + u.modes.filter { $0.count > 0 }.map { "\($0.label.lowercased()) \(pct($0.share))" }.joined(separator: ", ") + "."]
        }
        for o in observedVersusNearest {
            let share = o.shareUsingNearest.map(pct) ?? "–"
            out += ["", "## Det nærmeste sted eller et andet? \(Self.escaped(o.categoryLabel)) (rejsetid i \(modeNames[o.mode] ?? o.mode))", "",
                    "\(o.usingNearest) af \(o.respondents) bruger det nærmeste (\(share))."]
            if let mean = o.meanExtraMinutes { out.append("De øvrige har i gennemsnit \(decimal(mean)) minutter længere.") }
            out += o.elsewhere.map { "- \(Self.escaped($0.name)): \($0.respondents) svar, \(decimal($0.meanExtraMinutes)) min længere" }
        }
        return out.joined(separator: "\n") + "\n"
    }

    static func escaped(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\\", "`", "*", "_", "[", "]", "#", "|": out += "\\" + String(ch)
            default: out.append(ch)
            }
        }
        return out
    }
}
