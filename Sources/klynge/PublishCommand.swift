import ArgumentParser
import Foundation
import KlyngeAnalysis
import KlyngeGeo
import KlyngeJobs
import KlyngePublish
import KlyngeRender
import KlyngeStore
import KlyngeStudy
import KlyngeStudyAnalysis
import KlyngeSurvey

struct PublishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish the plan: a static website (HTML, CSS, SVG maps) and/or a print-ready A4 PDF with contents, page numbers and captions.",
        discussion: """
        Chapters: the cluster and its villages (with the data picture), meeting places and services today, the \
        scenarios and the chosen plan (`plan.scenario`), the cluster geography (with saved proposals as alternatives), \
        what citizens said (a survey with stored answers), and the idea catalogue and masterplan (`plan:` in the study \
        file). A chapter whose data the study does not have is left out. `-o DIR -o plan.pdf` writes both, the PDF also \
        inside the site; all files are published together or not at all.
        """
    )

    @OptionGroup var options: StudyOptions
    @Option(name: .shortAndLong, help: "The site's folder, or a .pdf file (repeat for both).")
    var output: [String] = []
    @Option(help: "A proposal saved by `regions --save` (or a clustering file) as the cluster geography.")
    var clustering: String?
    @Option(help: "Only these scenarios (repeatable; default: all of the study's and the saved ones).")
    var scenario: [String] = []
    @Option(help: "The citizen survey whose results are shown (default: the study's survey with stored answers, if any).")
    var survey: String?
    @Option(help: "Language: da or en (default: the study's).")
    var lang: String?
    @Option(help: "Folder of named styles.")
    var styles: String = "styles"

    func validate() throws {
        if let lang, !["da", "en"].contains(lang) { throw ValidationError("--lang is da or en") }
        guard !output.isEmpty else { throw ValidationError("name the site's folder and/or the PDF with -o DIR / -o plan.pdf") }
        let pdfs = output.filter { $0.lowercased().hasSuffix(".pdf") }
        guard pdfs.count <= 1, output.count - pdfs.count <= 1 else { throw ValidationError("-o takes one folder and one .pdf at most") }
    }

    func run() throws {
        try failing {
            let folder = stylesFolder(styles)
            let site = output.first { !$0.lowercased().hasSuffix(".pdf") }.map { URL(fileURLWithPath: $0) }
            let pdf = output.first { $0.lowercased().hasSuffix(".pdf") }.map { URL(fileURLWithPath: $0) }
            // Refused before any work: a folder of someone else's files is never replaced.
            if let site { try Publisher.checkSiteFolder(site) }
            let started = Date()
            // With the chosen clustering, and the study as it is (its own clusters are an alternative considered).
            let (analysis, own) = try loadAnalysisKeepingOwn(options, clustering: clustering)
            let study = analysis.study
            let language = lang ?? study.language
            for name in scenario { _ = try analysis.scenario(named: name) }
            let chosen = study.plan.chosenScenario
            var scenarios = scenario.isEmpty ? analysis.scenarios : try scenario.map { try analysis.scenario(named: $0) }
            if let chosen, let i = scenarios.firstIndex(where: { $0.name == chosen }) { scenarios.insert(scenarios.remove(at: i), at: 0) }
            let alternatives = try clusterings(analysis, own: own, language: language)
            let surveyPart = try surveyResults(analysis, language: language)
            let input = PlanInputs(analysis: analysis, scenarios: scenarios, chosenScenario: chosen, alternatives: alternatives,
                                   survey: surveyPart, language: language, style: { try Style.load($0, stylesFolder: folder) })
            let doc = try PlanReport.document(input)
            let written = try Publisher.publish(doc, site: site, pdf: pdf)
            let seconds = Date().timeIntervalSince(started)
            let chapters = doc.chapters.map(\.title).joined(separator: "; ")
            if let site { print("Wrote \(site.path)/: \(written.pages) pages, \(written.maps) maps (index.html)") }
            if let pdf { print("Wrote \(pdf.path): \(written.pdfPages ?? 0) A4 pages") }
            print("Chapters: \(chapters)")
            print(String(format: "Published in %.1f s", seconds))
        }
    }

    /// The clusterings considered: the study's own and every saved proposal, when there are two or more, in the
    /// order of `regions compare` (so the areas changed are counted against the study's own).
    func clusterings(_ analysis: StudyAnalysis, own study: Study, language: String) throws -> ClusteringComparison? {
        let store = try options.scenarioStore()
        let saved = store.exists ? try store.proposals().compactMap(\.clustering) : []
        let ownName = language == "en" ? "The study's own" : "Studiets egne"
        // Named explicitly: the analysis may carry a chosen proposal in place of the study's own clusters.
        let own = try? SavedClustering.own(study, name: ownName)
        guard saved.count + (own == nil ? 0 : 1) >= 2 else { return nil }
        let alternatives: [(name: String, clustering: SavedClustering?)] = (own.map { [(ownName, $0)] } ?? []) + saved.map { ($0.name, $0) }
        return try ClusteringComparison(analysis: analysis, alternatives: alternatives)
    }

    /// The survey chapter's results: the named survey, or the study's first with stored answers.
    func surveyResults(_ analysis: StudyAnalysis, language: String) throws -> (id: String, results: SurveyResults)? {
        let study = analysis.study
        guard !study.surveyFiles.isEmpty else {
            if let survey { throw ValidationError("--survey: the study declares no surveys (`surveys:`), so there is no `\(survey)`") }
            return nil
        }
        let catalog = try SurveyCatalog.load(study)
        let candidates = try survey.map { [try catalog.pick($0)] } ?? catalog.surveys
        for definition in candidates {
            let responses = try storedResponses(options, definition)
            guard !responses.isEmpty || survey != nil else { continue }
            let results = try SurveyJobs.results(survey: definition, places: catalog.places, responses: responses, analysis: analysis,
                                                 language: SurveyLanguage(rawValue: language) ?? .da, administrator: false)
            return (definition.id, results)
        }
        return nil
    }
}
