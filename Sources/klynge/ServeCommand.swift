import ArgumentParser
import Foundation
import Hummingbird
import KlyngeData
import KlyngeServer
import KlyngeStudy

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the study over HTTP: OGC API Features, the analysis API and maps.",
        discussion: "Binds to 127.0.0.1 unless --host says otherwise. Writes need the bearer token (--token or KLYNGE_TOKEN); without one the service is read-only."
    )

    @OptionGroup var options: StudyOptions
    @Option(help: "Address to bind.")
    var host: String = "127.0.0.1"
    @Option(help: "Port.")
    var port: Int = 8080
    @Option(help: "Bearer token for writes (default: the KLYNGE_TOKEN environment variable).")
    var token: String?
    @Option(help: "Where saved scenarios live (default: <study>.scenarios.gpkg beside the study).")
    var store: String?
    @Option(help: "Folder of named styles.")
    var styles: String = "styles"
    @Option(name: .customLong("max-body"), help: "Largest request body in bytes.")
    var maxBody: Int = 256 * 1024

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port goes from 1 to 65535") }
        if let token, token.count < 8 { throw ValidationError("use a token of at least 8 characters") }
    }

    func run() async throws {
        let started = Date()
        let study: KlyngeStudy.Study
        do { study = try loadUsableStudy(options) } catch let e as ExitCode { throw e } catch {
            warn("klynge: error: \(error)")
            throw ExitCode.failure
        }
        let storePath = store ?? URL(fileURLWithPath: options.study).deletingPathExtension().path + ".scenarios.gpkg"
        warn("Building the network and the analysis of \(study.name)…")
        let state: ServiceState
        do { state = try ServiceState(study: study, storePath: storePath) } catch {
            warn("klynge: error: \(error)")
            throw ExitCode.failure
        }
        let stylesFolder = URL(fileURLWithPath: styles.hasPrefix("/") ? styles : FileManager.default.currentDirectoryPath + "/" + styles)
        let config = ServerConfig(host: host, port: port, token: token ?? ProcessInfo.processInfo.environment["KLYNGE_TOKEN"],
                                  maxBodyBytes: maxBody, stylesFolder: stylesFolder)
        warn(String(format: "Ready in %.1f s: http://%@:%d/ (%@; scenarios in %@)", Date().timeIntervalSince(started), host, port,
                    config.token == nil ? "read-only" : "writes need the token", storePath))
        try await buildApplication(state: state, config: config).runService()
    }
}
