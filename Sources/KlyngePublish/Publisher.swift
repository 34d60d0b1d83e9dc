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
        // Hidden files count too (a `.git` folder is someone's work); only Klynge's own temporaries do not.
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: site.path)) ?? []).filter { !$0.contains(".klynge-tmp-") }
        if !names.isEmpty && !names.contains(SiteWriter.manifestName) { throw RefusedFolder(path: site.path) }
    }

    public static func publish(_ doc: ReportDocument, site: URL?, pdf: URL?, threads: Int = coreCount) throws -> Written {
        if let site { try checkSiteFolder(site) }
        let figures = doc.figures
        var written = Written(pages: 0, maps: 0, pdfPages: nil)
        let pdfName = pdf.map { $0.lastPathComponent }
        let staged = StagedPDF()
        var outputs: [(url: URL, write: (URL) throws -> Void)] = []
        // Every map is drawn on its own thread, both cores busy: as SVG for the site, and recorded for the PDF,
        // which then only replays them in order.
        func drawMaps(svgFolder: URL?) throws -> [String: MapRecording] {
            let svgJobs = svgFolder == nil ? 0 : figures.count, pdfJobs = pdf == nil ? 0 : figures.count
            let svgs = ParallelResults<Int>(count: svgJobs), recorded = ParallelResults<MapRecording>(count: pdfJobs)
            forEachInParallel(svgJobs + pdfJobs, threads: threads) { i in
                if i < pdfJobs {
                    recorded.set(i, Result { try MapRenderer.record(figures[i].map) })
                } else if let svgFolder {
                    let k = i - pdfJobs
                    svgs.set(k, Result {
                        var request = figures[k].map
                        request.kind = .svg
                        request.threads = 1
                        _ = try MapRenderer.render(request, to: svgFolder.appendingPathComponent(SiteWriter.mapName(figures[k])).path)
                        return 0
                    })
                }
            }
            _ = try svgs.all(missing: "a map was not drawn")
            let recordings = try recorded.all(missing: "a map was not recorded")
            return Dictionary(uniqueKeysWithValues: zip(figures.map(\.id), recordings))
        }
        if let site {
            outputs.append((site, { folder in
                try FileManager.default.createDirectory(at: folder.appendingPathComponent("maps"), withIntermediateDirectories: true)
                let recordings = try drawMaps(svgFolder: folder)
                if let pdfName {
                    let inSite = folder.appendingPathComponent(pdfName)
                    written.pdfPages = try DocumentPDF.write(doc, to: inSite.path, recordings: recordings).pages
                    staged.url = inSite
                }
                let pages = SiteWriter(doc: doc, pdfName: pdfName).pages()
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
                    written.pdfPages = try DocumentPDF.write(doc, to: file.path, recordings: try drawMaps(svgFolder: nil)).pages
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

/// Results of work spread over threads (`forEachInParallel`), each slot set once from its own thread.
final class ParallelResults<Value: Sendable>: @unchecked Sendable {
    private var values: [Result<Value, Error>?]
    private let lock = NSLock()
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<Value, Error>) {
        lock.lock()
        values[i] = r
        lock.unlock()
    }
    /// Every value in order, or the first error.
    func all(missing: String) throws -> [Value] { try values.map { try ($0 ?? .failure(RenderError(missing))).get() } }
}
