import ArgumentParser
import Foundation
import KlyngeIO
import KlyngePostgres
import KlyngeStore
import KlyngeStudy

struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "The shared PostgreSQL store: make or update its schema, and move a study's records between a GeoPackage store and PostgreSQL.",
        discussion: """
        A study's records (saved scenarios, proposals, survey answers) are kept in PostgreSQL under a study key: \
        by default made from the study's name (`Samsø` → `samsoe`), or --study-key. Moving them checks every \
        record on arrival (id, name, document, time of the last change); versions, and so ETags, are the \
        receiving store's own.
        """,
        subcommands: [Init.self, Migrate.self, Import.self, Export.self]
    )

    struct Database: ParsableArguments {
        @Option(help: "The database: postgresql://USER@HOST/DB or PG:dbname=… (as GDAL takes it).")
        var database: String

        func validate() throws {
            guard PostgresConnection.isConnectionString(database) else {
                throw ValidationError("--database is a postgresql:// address or a PG: string")
            }
        }
    }

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make the schema `klynge` in the database (or bring it up to date).")
        @OptionGroup var db: Database
        func run() throws {
            try failing { print("Schema klynge at version \(try StoreTransfer.migrate(connection: db.database))") }
        }
    }

    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Bring the schema `klynge` up to date (safe while other instances start).")
        @OptionGroup var db: Database
        func run() throws {
            try failing { print("Schema klynge at version \(try StoreTransfer.migrate(connection: db.database))") }
        }
    }

    /// The study's key in the database.
    static func summary(_ counts: [String: Int]) -> String {
        StoreTransfer.kinds.map { "\(counts[$0] ?? 0) \($0.replacingOccurrences(of: "klynge_", with: "").replacingOccurrences(of: "_", with: " "))" }
            .joined(separator: ", ")
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Copy the study's GeoPackage store (--store, default beside the study) into PostgreSQL.")
        @OptionGroup var options: StudyOptions
        @OptionGroup var db: Database
        @Flag(help: "Replace the study's records if the database has some.") var replace = false

        func run() throws {
            try failing {
                let key = try options.key()
                guard FileManager.default.fileExists(atPath: options.storePath) else {
                    throw ValidationError("no store at \(options.storePath) (name one with --store)")
                }
                // The study first: one that cannot be loaded is refused before anything is written.
                let study = try loadUsableStudy(options)
                let records = try StoreTransfer.read(geoPackage: options.storePath)
                let counts = try StoreTransfer.write(connection: db.database, study: key, records: records, replace: replace)
                // The study's CRS and areas, so that the records get their geometries for QGIS.
                try StoreLocation(db.database, study: key).describe(study)
                print("Imported \(StoreCommand.summary(counts)) into study `\(key)`; every record checked")
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the study's records from PostgreSQL to a GeoPackage store (a backup, or to work offline).")
        @OptionGroup var options: StudyOptions
        @OptionGroup var db: Database
        @Option(name: .shortAndLong, help: "The GeoPackage to write (replaced as a whole).") var output: String

        func validate() throws {
            guard output.lowercased().hasSuffix(".gpkg") else { throw ValidationError("-o writes a .gpkg store") }
        }

        func run() throws {
            try failing {
                let key = try options.key()
                let records = try StoreTransfer.read(connection: db.database, study: key)
                var counts: [String: Int] = [:]
                try AtomicOutput.write(to: URL(fileURLWithPath: output)) { tmp in counts = try StoreTransfer.write(geoPackage: tmp.path, records: records) }
                print("Wrote \(output): \(StoreCommand.summary(counts)) of study `\(key)`; every record checked")
            }
        }
    }
}
