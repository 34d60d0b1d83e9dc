import ArgumentParser
import Foundation
import KlyngeIO
import KlyngeGeo
import KlyngeJobs
import KlyngeQR
import KlyngeStore
import KlyngeStudy
import KlyngeStudyAnalysis
import KlyngeSurvey

/// The study's surveys, and one of them by id (the only one when the study has one).
struct SurveyOptions: ParsableArguments {
    @OptionGroup var study: StudyOptions
    @Option(help: "The survey's id (needed when the study has more than one).") var survey: String?

    func load() throws -> (study: Study, catalog: SurveyCatalog, survey: SurveyDefinition) {
        let s = try loadUsableStudy(study)
        let catalog = try SurveyCatalog.load(s)
        return (s, catalog, try catalog.pick(survey))
    }

    /// The survey's stored responses; unreadable records are named and left out.
    func responses(_ survey: SurveyDefinition) throws -> [SurveyResponse] { try storedResponses(study, survey) }
}

/// A survey's stored responses; records that cannot be read are named and left out.
func storedResponses(_ options: StudyOptions, _ survey: SurveyDefinition) throws -> [SurveyResponse] {
    let (responses, unreadable) = try options.surveyStore().responses(survey: survey.id)
    for r in unreadable { warn("note: the stored response `\(r)` cannot be read and is left out") }
    return responses
}

/// A survey of the study (the only one when `id` is nil) and its stored responses, for the analysis commands.
func surveyAnswers(_ options: StudyOptions, study: Study, id: String?) throws -> (survey: SurveyDefinition, responses: [SurveyResponse], catalog: SurveyCatalog) {
    let catalog = try SurveyCatalog.load(study)
    let survey = try catalog.pick(id)
    return (survey, try storedResponses(options, survey), catalog)
}

struct SurveyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "survey",
        abstract: "The citizen survey: check it, print its QR code, import paper answers, and report or export the results.",
        discussion: "Surveys are YAML files named by the study (`surveys:`). Answers live in the study's store (<study>.scenarios.gpkg unless --store). `klynge serve` publishes the survey at /survey/<id>/.",
        subcommands: [Check.self, QR.self, Results.self, Export.self, Import.self, Close.self]
    )

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Read the study's surveys and hold them to the study; exit 1 naming the question on a problem.")
        @OptionGroup var options: StudyOptions

        func run() throws {
            try failing {
                let study = try loadUsableStudy(options)
                let catalog = try SurveyCatalog.load(study)
                guard !catalog.surveys.isEmpty else { throw ValidationError("the study names no survey (`surveys:` in the study file)") }
                let f = ISO8601DateFormatter()
                for s in catalog.surveys {
                    print("\(s.id): \(s.title.da) — \(s.questions.count) questions in \(s.blocks.count) blocks; open \(f.string(from: s.opens)) to \(f.string(from: s.closes)); "
                          + "\(catalog.places.villages.count) villages (\(catalog.places.villageSource.rawValue)); languages \(s.languages.map(\.rawValue).joined(separator: ", "))")
                }
            }
        }
    }

    struct QR: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a QR code for the survey's public page (PNG, SVG or PDF), for posters and flyers.")
        @OptionGroup var options: SurveyOptions
        @Option(help: "The page's public address, e.g. https://klynge.kommune.dk/survey/samsoe-2027/.") var url: String
        @Option(name: .shortAndLong, help: "Output file: .png, .svg or .pdf.") var output: String
        @Option(name: .customLong("size-mm"), help: "The code's side with its margin, in millimetres (default 50).") var sizeMillimeters: Double = 50
        @Option(help: "PNG resolution (default 300).") var dpi: Double = 300
        @Option(help: "Error correction: L, M, Q (default) or H.") var correction: String = "Q"

        func validate() throws {
            guard sizeMillimeters.isFinite, (15...1000).contains(sizeMillimeters) else { throw ValidationError("--size-mm must be from 15 to 1000 mm") }
            guard dpi.isFinite, (72...1200).contains(dpi) else { throw ValidationError("--dpi must be from 72 to 1200") }
            guard QRCode.Correction(rawValue: correction.uppercased()) != nil else { throw ValidationError("--correction must be L, M, Q or H") }
            guard SurveyJobs.checkedSurveyURL(url) != nil else { throw ValidationError("--url must be an http or https address with a host, not `\(url)`") }
        }

        func run() throws {
            try failing {
                let (_, _, survey) = try options.load()
                if !url.contains("/survey/\(survey.id)") {
                    warn("note: \(url) does not end in /survey/\(survey.id)/, the page `klynge serve` publishes this survey at")
                }
                try SurveyJobs.writeQR(url: url, title: survey.title.da, to: output, sideMillimeters: sizeMillimeters, dpi: dpi,
                                       correction: QRCode.Correction(rawValue: correction.uppercased())!)
                print("Wrote \(output)")
            }
        }
    }

    struct Results: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tally the survey: responses per village, area and cluster (suppressed below the minimum group size), choices, facility use, observed versus nearest use, pins.")
        @OptionGroup var options: SurveyOptions
        @Flag(help: "Print JSON.") var json = false
        @Option(name: .shortAndLong, help: "Write to a file (.json or .md) instead of printing.") var output: String?
        @Option(help: "Language of labels: da (default) or en.") var language: String = "da"

        func run() throws {
            try failing {
                guard let lang = SurveyLanguage(rawValue: language) else { throw ValidationError("--language must be da or en") }
                let (study, catalog, survey) = try options.load()
                let analysis = try StudyAnalysis(study: study)
                let results = try SurveyJobs.results(survey: survey, places: catalog.places, responses: try options.responses(survey),
                                                     analysis: analysis, language: lang, administrator: true)
                let asJSON = json || output.map { $0.lowercased().hasSuffix(".json") } ?? false
                let text = asJSON ? try JSONText.encode(results, pretty: true) + "\n" : results.markdown()
                if let output {
                    try AtomicOutput.writeText(text, to: URL(fileURLWithPath: output), shown: output)
                    print("Wrote \(output)")
                } else {
                    print(text, terminator: "")
                }
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the responses and pins: .geojson (RFC 7946, flat properties), .gpkg (two layers) or .csv (one layer, see --layer).")
        @OptionGroup var options: SurveyOptions
        @Option(name: .shortAndLong, help: "Output file.") var output: String
        @Option(help: "For CSV: responses (default) or pins.") var layer: String = "responses"

        func run() throws {
            try failing {
                let (_, catalog, survey) = try options.load()
                let responses = try options.responses(survey)
                try SurveyJobs.export(survey: survey, places: catalog.places, responses: responses, to: URL(fileURLWithPath: output), csvLayer: layer)
                print("Wrote \(responses.count) responses to \(output)")
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import answers typed in from paper forms: a file of JSON lines, each as the page sends it. All are checked first; all are saved, or none.",
            discussion: "Each line: {\"consent\": true, \"age_confirmed\": true, \"answers\": {QUESTION: ANSWER, …}}. Imported answers are marked as paper answers, are accepted in or after the survey's window, and their pins need no moderation.")
        @OptionGroup var options: SurveyOptions
        @Argument(help: "The JSON-lines file.") var file: String

        func run() throws {
            try failing {
                let (_, catalog, survey) = try options.load()
                guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                    throw ValidationError("\(file): cannot read the file (missing, unreadable or not UTF-8)")
                }
                let check = SubmissionCheck(survey: survey, places: catalog.places)
                let day = survey.day(of: Date())
                var responses: [SurveyResponse] = []
                for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    let trimmed = line.trimmingCharacters(in: .whitespaces)
                    if trimmed.isEmpty { continue }
                    do {
                        responses.append(try check.response(from: Data(trimmed.utf8), id: SurveyResponse.newId(), receivedDay: day, source: .paper))
                    } catch {
                        throw ValidationError("\(file), line \(i + 1): \(error); nothing was imported")
                    }
                }
                guard !responses.isEmpty else { throw ValidationError("\(file): no answers to import") }
                let store = try options.study.surveyStore()
                let scenarioStore = try options.study.scenarioStore()
                try scenarioStore.withWriterLock { try store.saveAll(responses) }
                print("Imported \(responses.count) paper answers into \(options.study.storeLabel)")
            }
        }
    }

    struct Close: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close the survey now, before its closing date (answers are refused from then on).")
        @OptionGroup var options: SurveyOptions

        func run() throws {
            try failing {
                let (_, _, survey) = try options.load()
                let store = try options.study.surveyStore()
                try options.study.scenarioStore().withWriterLock { try store.closeEarly(survey: survey.id, at: Date()) }
                print("Closed \(survey.id)")
            }
        }
    }
}
