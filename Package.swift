// swift-tools-version:6.0
import PackageDescription

// The project's own code builds with warnings as errors (dependencies keep their own settings).
let strict: [SwiftSetting] = [.unsafeFlags(["-warnings-as-errors"])]

let package = Package(
    name: "Klynge",
    // Synchronization's Mutex (macOS 15) is the newest API used; Linux has no minimum.
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "klynge", targets: ["klynge"]),
        .executable(name: "klynge-bench", targets: ["klynge-bench"]),
        .library(name: "KlyngeStudyAnalysis", targets: ["KlyngeStudyAnalysis"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        // C libraries through pkg-config; each is wrapped by exactly one Swift module.
        .systemLibrary(name: "CGEOS", pkgConfig: "geos", providers: [.apt(["libgeos-dev"])]),
        .systemLibrary(name: "CPROJ", pkgConfig: "proj", providers: [.apt(["libproj-dev"])]),
        .systemLibrary(name: "CGDAL", pkgConfig: "gdal", providers: [.apt(["libgdal-dev"])]),
        // GLPK (Debian ships no .pc file: the module map links it).
        .systemLibrary(name: "CGLPK", providers: [.apt(["libglpk-dev"])]),
        // zlib, for a fast parallel PNG encoder.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Cairo with Pango for text (pkg-config `pangocairo` brings cairo, pango and glib).
        // libqrencode, for the survey's QR codes.
        .systemLibrary(name: "CQREncode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"])]),
        // libpq, the PostgreSQL client library (the shared store of several instances).
        .systemLibrary(name: "CPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // libcrypto (OpenSSL), for SHA-256 of the service's write tokens.
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCairo", pkgConfig: "pangocairo", providers: [.apt(["libcairo2-dev", "libpango1.0-dev"])]),

        // Pure Swift value types: geometry, features, WKB, GeoJSON.
        .target(name: "KlyngeGeo"),
        // Stop signals and thread budgets for long work (the service cancels abandoned requests with them).
        .target(name: "KlyngeWork"),
        // Handle owners for the C libraries.
        .target(name: "KlyngeGEOS", dependencies: ["CGEOS", "KlyngeGeo"]),
        .target(name: "KlyngeProj", dependencies: ["CPROJ", "KlyngeGeo"]),
        .target(name: "KlyngeIO", dependencies: ["CGDAL", "KlyngeGeo"]),
        // The road network: graph, profiles, snapping, shortest paths, matrices, isochrone lines.
        .target(name: "KlyngeNetwork", dependencies: ["KlyngeGeo"]),
        // QR codes as module grids (libqrencode; the handle stays inside).
        .target(name: "KlyngeQR", dependencies: ["CQREncode"]),
        // Mixed-integer programmes as values, solved by GLPK (the handle stays inside).
        .target(name: "KlyngeMIP", dependencies: ["CGLPK"]),
        // Coverage, scenarios, comparison, closure impact, clusters, location-allocation: over access tables.
        .target(name: "KlyngeAnalysis", dependencies: ["KlyngeNetwork", "KlyngeGeo", "KlyngeMIP", "KlyngeWork"]),
        // Maps: MapLibre-subset styles, expressions, layout, labels, Cairo/Pango drawing to PNG, SVG and PDF.
        .target(name: "KlyngeRender", dependencies: ["CCairo", "CZlib", "KlyngeGeo", "KlyngeWork"]),
        // The study: schema of the study file and the loaded model (no I/O).
        .target(name: "KlyngeStudy", dependencies: ["KlyngeGeo", .product(name: "Yams", package: "Yams")]),
        // The citizen survey: its definition (from YAML), answers held to it, and tallies with suppression.
        .target(name: "KlyngeSurvey", dependencies: ["KlyngeGeo", "KlyngeStudy", .product(name: "Yams", package: "Yams")]),
        // The shared store in PostgreSQL: the connection (libpq; the handle stays inside), schema migrations, records.
        .target(name: "KlyngePostgres", dependencies: ["CPQ", "KlyngeIO"]),
        // The one scenario store of a study, shared by the command line and the service: records, ids, the writer's lock.
        .target(name: "KlyngeStore", dependencies: ["KlyngeGeo", "KlyngeIO", "KlyngePostgres", "KlyngeStudy", "KlyngeSurvey", .product(name: "Yams", package: "Yams")]),
        // Ingest: loading and validating a study from GDAL sources, OSM import, joins, point files, export.
        .target(name: "KlyngeIngest", dependencies: ["KlyngeGeo", "KlyngeGEOS", "KlyngeProj", "KlyngeIO", "KlyngeStudy", "KlyngeWork",
                                                     .product(name: "Yams", package: "Yams")]),
        // The study's analysis: its network, the one set of cost tables, scenario resolution, coverage, clusters,
        // optimize set-up and map data. It opens no files.
        .target(name: "KlyngeStudyAnalysis", dependencies: ["KlyngeIngest", "KlyngeGeo", "KlyngeGEOS", "KlyngeProj", "KlyngeNetwork", "KlyngeAnalysis",
                                                            "KlyngeStudy", "KlyngeStore", "KlyngeSurvey", "KlyngeWork"]),
        // Jobs with outputs: the main-job report (validated first, published together), matrices, maps.
        .target(name: "KlyngeJobs", dependencies: ["KlyngeStudyAnalysis", "KlyngeIngest", "KlyngeSurvey", "KlyngeQR", "KlyngeAnalysis", "KlyngeNetwork", "KlyngeRender", "KlyngeIO",
                                                   "KlyngeGeo", "KlyngeStudy", "KlyngeWork"]),
        // The published plan (`klynge publish`): the report as a document, written as a static site and an A4 PDF.
        .target(name: "KlyngePublish", dependencies: ["KlyngeJobs", "KlyngeStudyAnalysis", "KlyngeAnalysis", "KlyngeRender", "KlyngeStudy", "KlyngeSurvey",
                                                      "KlyngeIO", "KlyngeGeo", "KlyngeWork"]),
        // The HTTP service: OGC API Features, the analysis API, maps; handlers call the library, never compute inline.
        .target(name: "KlyngeServer", dependencies: ["CCrypto", "KlyngeJobs", "KlyngeStudyAnalysis", "KlyngeIngest", "KlyngeAnalysis", "KlyngeStudy", "KlyngeRender", "KlyngeIO", "KlyngeGeo",
                                                     "KlyngeProj", "KlyngeStore", "KlyngePostgres", "KlyngeSurvey", "KlyngeWork", .product(name: "Hummingbird", package: "hummingbird")],
                // The web page's files, compiled into the binary (no CDN, no files to deploy beside it).
                resources: [.embedInCode("Web/index.html"), .embedInCode("Web/app.css"), .embedInCode("Web/app.js"),
                            .embedInCode("Web/survey.html"), .embedInCode("Web/survey.css"), .embedInCode("Web/survey.js"), .embedInCode("Web/survey-map.js"),
                            .embedInCode("Web/survey-admin.html"), .embedInCode("Web/survey-admin.js")]),
        .executableTarget(name: "klynge", dependencies: ["KlyngeServer", "KlyngePublish", "KlyngePostgres", "KlyngeStore", "KlyngeWork", "KlyngeSurvey", "KlyngeQR",
            "KlyngeJobs", "KlyngeStudyAnalysis", "KlyngeIngest", "KlyngeStudy", "KlyngeIO", "KlyngeGeo", "KlyngeNetwork", "KlyngeAnalysis", "KlyngeRender",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Fixtures, paths and process helpers shared by the tests.
        .target(name: "KlyngeTestSupport", dependencies: ["KlyngeGeo"]),
        // `make bench`: matrices, scenarios, what-ifs, maps and location-allocation, with inputs for the peers in scripts/.
        .executableTarget(name: "klynge-bench", dependencies: ["KlyngeJobs", "KlyngeStudyAnalysis", "KlyngeIngest", "KlyngeNetwork", "KlyngeAnalysis", "KlyngeStudy", "KlyngeGeo",
                                                                "KlyngeRender", "KlyngeIO", "KlyngeGEOS", "KlyngeProj"]),
        .testTarget(name: "KlyngeGeoTests", dependencies: ["KlyngeGeo"]),
        .testTarget(name: "KlyngeSurveyTests", dependencies: ["KlyngeSurvey", "KlyngeStudy", "KlyngeGeo"]),
        .testTarget(name: "KlyngeNetworkTests", dependencies: ["KlyngeNetwork", "KlyngeGeo"]),
        .testTarget(name: "KlyngeRenderTests", dependencies: ["KlyngeRender", "KlyngeGeo", "KlyngeTestSupport"], resources: [.copy("golden")]),
        .testTarget(name: "KlyngeAnalysisTests", dependencies: ["KlyngeAnalysis", "KlyngeNetwork", "KlyngeGeo", "KlyngeMIP"]),
        .testTarget(name: "KlyngeBridgeTests", dependencies: ["KlyngeGEOS", "KlyngeProj", "KlyngeIO", "KlyngeGeo", "KlyngeTestSupport"]),
        .testTarget(name: "KlyngeIngestTests", dependencies: ["KlyngeIngest", "KlyngeStudy", "KlyngeIO", "KlyngeGeo", "KlyngeGEOS", "KlyngeTestSupport"]),
        .testTarget(name: "KlyngeStudyAnalysisTests", dependencies: ["KlyngeStudyAnalysis", "KlyngeJobs", "KlyngeIngest", "KlyngeStudy", "KlyngeIO", "KlyngeGeo", "KlyngeSurvey",
                                                                     "KlyngeGEOS", "KlyngeNetwork", "KlyngeAnalysis", "KlyngeTestSupport",
                                                                     .product(name: "Yams", package: "Yams")]),
        .testTarget(name: "KlyngeServerTests", dependencies: ["KlyngeServer", "KlyngeStudyAnalysis", "KlyngeIngest", "KlyngeStudy", "KlyngeGeo", "KlyngeTestSupport", "KlyngeStore", "KlyngeIO", "KlyngeSurvey",
                                                             "KlyngePostgres", "KlyngeAnalysis",
                                                             "KlyngeWork", .product(name: "HummingbirdTesting", package: "hummingbird")]),
        .testTarget(name: "KlyngePostgresTests", dependencies: ["KlyngePostgres", "KlyngeIO"]),
        .testTarget(name: "KlyngeCLITests", dependencies: ["klynge", "KlyngeGeo", "KlyngeTestSupport"]),
    ]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + strict
}
