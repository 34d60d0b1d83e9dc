import Foundation
import KlyngeIO
import KlyngeRender
import KlyngeWork

/// Writes a published plan: the site folder, the PDF, or both, together or not at all. The maps and the PDF
/// are drawn in parallel (one map per core); nothing is moved into place until every file is complete.
public enum Publisher {
    public struct Written: Sendable {
        public var pages: Int
        public var maps: Int
        public var pdfPages: Int?
    }

    public struct RefusedFolder: Error, CustomStringConvertible {
        public let path: String
        public var description: String {
            "\(path): the folder has files that Klynge did not publish (no \(SiteWriter.manifestName)); name a new or empty folder, or a site published before"
        }
    }

    /// Whether `site` can be written: it does not exist, is empty, or is a site published before (which it replaces).
    public static func checkSiteFolder(_ site: URL) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: site.path, isDirectory: &isDir) else { return }
        guard isDir.boolValue else { throw AtomicOutput.Failure(path: site.path, message: "is a file; the site is written as a folder") }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: site.path)) ?? []).filter { !$0.hasPrefix(".") }
        if !names.isEmpty && !names.contains(SiteWriter.manifestName) { throw RefusedFolder(path: site.path) }
    }

    public static func publish(_ doc: ReportDocument, site: URL?, pdf: URL?, threads: Int = coreCount) throws -> Written {
        if let site { try checkSiteFolder(site) }
        let figures = doc.chapters.flatMap { c in c.blocks.compactMap { b -> ReportFigure? in if case .figure(let f) = b { return f } else { return nil } } }
        var written = Written(pages: 0, maps: 0, pdfPages: nil)
        let pdfName = pdf.map { $0.lastPathComponent }
        let staged = StagedPDF()
        var outputs: [(url: URL, write: (URL) throws -> Void)] = []
        if let site {
            outputs.append((site, { folder in
                let fm = FileManager.default
                try fm.createDirectory(at: folder.appendingPathComponent("maps"), withIntermediateDirectories: true)
                let pdfInSite = pdfName.map { folder.appendingPathComponent($0) }
                // Every map and the PDF at once, spread over the cores.
                let jobs = figures.count + (pdfInSite == nil ? 0 : 1)
                let results = JobResults(count: jobs)
                forEachInParallel(jobs, threads: threads) { i in
                    do {
                        if i == figures.count, let pdfInSite {
                            let summary = try DocumentPDF.write(doc, to: pdfInSite.path)
                            results.set(i, .success(summary.pages))
                        } else {
                            var request = figures[i].map
                            request.kind = .svg
                            request.threads = 1
                            _ = try MapRenderer.render(request, to: folder.appendingPathComponent(SiteWriter.mapName(figures[i])).path)
                            results.set(i, .success(0))
                        }
                    } catch {
                        results.set(i, .failure(error))
                    }
                }
                let values = try results.all()
                if pdfInSite != nil {
                    written.pdfPages = values.last
                    staged.url = pdfInSite
                }
                let writer = SiteWriter(doc: doc, pdfName: pdfName)
                let pages = writer.pages()
                var names = pages.map(\.name) + [SiteWriter.stylesheetName] + figures.map(SiteWriter.mapName)
                for p in pages { try Data(p.html.utf8).write(to: folder.appendingPathComponent(p.name)) }
                try Data(SiteWriter.stylesheet.utf8).write(to: folder.appendingPathComponent(SiteWriter.stylesheetName))
                if let pdfName { names.append(pdfName) }
                try Data((names.sorted().joined(separator: "\n") + "\n").utf8).write(to: folder.appendingPathComponent(SiteWriter.manifestName))
                written.pages = pages.count
                written.maps = figures.count
            }))
        }
        if let pdf {
            outputs.append((pdf, { file in
                if let inSite = staged.url {
                    try FileManager.default.copyItem(at: inSite, to: file)
                } else {
                    written.pdfPages = try DocumentPDF.write(doc, to: file.path).pages
                }
            }))
        }
        try AtomicOutput.writeAll(outputs)
        return written
    }
}

/// The PDF drawn into the site's staging folder, copied to its own place after.
final class StagedPDF: @unchecked Sendable {
    var url: URL?
}

/// Results of parallel jobs, each set once from its own thread.
final class JobResults: @unchecked Sendable {
    private var values: [Result<Int, Error>?]
    private let lock = NSLock()
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<Int, Error>) {
        lock.lock()
        values[i] = r
        lock.unlock()
    }
    func all() throws -> [Int] { try values.map { try ($0 ?? .failure(RenderError("a map was not drawn"))).get() } }
}
