import Foundation
import KlyngeGEOS
import KlyngeGeo
import KlyngeIO
import KlyngeProj
import KlyngeStudy

/// Options that come from the command line rather than the study file.
public struct LoadOptions: Sendable {
    /// CRS to assume for every layer that declares none and has no `assume_crs` of its own.
    public var assumeCRS: CRS?
    /// Sources given on the command line, by layer role (`areas`, …), replacing the study file's:
    /// e.g. a `PG:` connection string kept out of the study file. Paths are taken as given.
    public var sourceOverrides: [String: String]

    public init(assumeCRS: CRS? = nil, sourceOverrides: [String: String] = [:]) {
        self.assumeCRS = assumeCRS
        self.sourceOverrides = sourceOverrides
    }
}

/// The result of loading: the study (nil when a layer could not be read at all) and the report.
public struct LoadResult: Sendable {
    public var study: Study?
    public var report: ValidationReport
    /// The study is usable: loaded and without errors.
    public var isUsable: Bool { study != nil && !report.hasErrors }
}

/// Loads a study file: reads each layer, maps fields, reprojects, repairs and validates.
/// Every problem becomes an `ValidationIssue` naming file, layer, feature and field; nothing is written.
public struct StudyLoader {
    public let options: LoadOptions

    public init(options: LoadOptions = LoadOptions()) { self.options = options }

    public func load(path: String) throws -> LoadResult {
        // Saved scenarios live in the scenario store; commands that analyse add them (StoredScenarios).
        let file = try StudyFile.load(path: path)
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            return try load(file, baseFolder: base)
        } catch let e as StudyFileError where e.path == "crs" {
            // Named by its key while loading; the file is known here.
            throw StudyFileError(path: SourcePath.display(path), message: "`crs`: \(e.message)")
        }
    }

    public func load(_ file: StudyFile, baseFolder: URL) throws -> LoadResult {
        var run = LoadRun(file: file, base: baseFolder, options: options, geos: try GEOSContext())
        return try run.execute()
    }
}

/// A raw layer: features in their source CRS, with what is needed to name them.
struct RawLayer {
    var role: LayerRole
    var spec: StudyFile.LayerSpec
    var displaySource: String
    var layerName: String
    var crs: CRS
    var features: [Feature]
    var summary: LayerSummary
}

struct LoadRun {
    let file: StudyFile
    let base: URL
    let options: LoadOptions
    let geos: GEOSContext
    var issues: [ValidationIssue] = []
    var summaries: [LayerSummary] = []

    init(file: StudyFile, base: URL, options: LoadOptions, geos: GEOSContext) {
        self.file = file
        self.base = base
        self.options = options
        self.geos = geos
    }

    var maxOutsideMeters: Double { file.checks?.maxOutsideMeters ?? 1000 }

    mutating func execute() throws -> LoadResult {
        for role in options.sourceOverrides.keys where LayerRole(rawValue: role) == nil {
            throw StudyFileError(path: "--source", message: "unknown layer `\(role)`; use areas, demand, facilities, roads, locator or land")
        }
        var raw: [LayerRole: RawLayer] = [:]
        for role in LayerRole.allCases {
            guard let spec = file.layers[role] else { continue }
            if let layer = read(role: role, spec: spec) { raw[role] = layer }
        }
        let workingCRS = try chooseWorkingCRS(raw)
        var study = Study(name: file.name, crs: workingCRS, language: file.language ?? "da",
                          categories: (file.categoryOrder.filter { file.categories[$0] != nil }
                                       + file.categories.keys.sorted().filter { !file.categoryOrder.contains($0) }).map { key in
                              let l = file.categories[key]!
                              return Category(key: key, labelDa: l.da, labelEn: l.en)
                          },
                          areas: [], demand: [], demandDerivedFromAreas: file.layers.demand == nil,
                          facilities: [], roads: [], network: file.network ?? StudyFile.NetworkSettings(),
                          coverage: file.coverage ?? [:], scenarios: file.scenarios ?? [],
                          clusters: file.clusters ?? StudyFile.ClusterSettings())
        study.description = file.description
        study.attribution = Self.attribution(given: file.attribution, layers: Array(raw.values))
        study.surveyFiles = (file.surveys ?? []).map { $0.hasPrefix("/") ? $0 : base.appendingPathComponent($0).standardizedFileURL.path }
        let complete = LayerRole.allCases.allSatisfy { file.layers[$0] == nil || raw[$0] != nil }

        var reprojected: [LayerRole: RawLayer] = [:]
        for (role, layer) in raw {
            reprojected[role] = reproject(layer, to: workingCRS)
        }
        if let areas = reprojected[.areas] {
            study.areas = buildAreas(areas)
            if let join = areas.spec.join { joinTable(join, to: &study.areas) }
        }
        let areaIndex = try AreaIndex(areas: study.areas, geos: geos)
        if let demand = reprojected[.demand] {
            study.demand = buildDemand(demand, areas: areaIndex)
        } else if file.layers.demand == nil && file.layers.areas != nil {
            study.demand = deriveDemand(from: study.areas, areaLayer: reprojected[.areas])
        }
        if let facilities = reprojected[.facilities] {
            study.facilities = buildFacilities(facilities, areas: areaIndex)
        }
        if let roads = reprojected[.roads] { study.roads = buildRoads(roads) }
        if let locator = reprojected[.locator] { study.locator = buildOutline(locator) }
        if let land = reprojected[.land] { study.land = buildOutline(land) }
        if let source = file.clusters?.source { readClusterTable(source, into: &study) }
        for spec in file.facts ?? [] {
            if let layer = readFacts(spec, crs: workingCRS, study: study, areas: areaIndex) { study.facts.append(layer) }
        }
        if let plan = file.plan {
            study.plan = StudyPlan(chosenScenario: plan.scenario, focusAreas: (plan.focusAreas ?? []).map(FocusArea.init))
            for spec in plan.sketches ?? [] {
                if let layer = readSketch(spec, crs: workingCRS) { study.plan.sketches.append(layer) }
            }
        }

        for i in summaries.indices {
            switch summaries[i].role {
            case .areas: summaries[i].featuresLoaded = study.areas.count
                summaries[i].extent = Envelope(covering: study.areas.flatMap { $0.geometry.allCoordinates })?.array
            case .demand: summaries[i].featuresLoaded = study.demand.count
                summaries[i].extent = Envelope(covering: study.demand.map(\.location))?.array
            case .facilities: summaries[i].featuresLoaded = study.facilities.count
                summaries[i].extent = Envelope(covering: study.facilities.map(\.location))?.array
            case .roads: summaries[i].featuresLoaded = study.roads.count
                summaries[i].extent = Envelope(covering: study.roads.flatMap { $0.parts.flatMap { $0 } })?.array
            case .locator: summaries[i].featuresLoaded = study.locator.count
                summaries[i].extent = Envelope(covering: study.locator.flatMap(\.allCoordinates))?.array
            case .land: summaries[i].featuresLoaded = study.land.count
                summaries[i].extent = Envelope(covering: study.land.flatMap(\.allCoordinates))?.array
            case .facts, .sketch: break  // counted as each layer is read
            }
        }
        let report = ValidationReport(workingCRS: workingCRS.definition, layers: summaries, issues: issues)
        return LoadResult(study: complete ? study : nil, report: report)
    }

    // MARK: reading

    mutating func read(role: LayerRole, spec: StudyFile.LayerSpec) -> RawLayer? {
        let path = (role == .facts || role == .sketch ? nil : options.sourceOverrides[role.rawValue]) ?? SourcePath.resolve(spec.source, relativeTo: base)
        let shown = SourcePath.display(path)
        do {
            if spec.join != nil, role != .areas {
                issues.append(ValidationIssue(.error, file: shown, layer: spec.layer, field: "join", "only the `areas` layer takes a joined table"))
            }
            guard var open = openOptions(path, numberFormat: spec.numberFormat, shown: shown, layer: spec.layer),
                  let encoding = textEncoding(spec.encoding, path: path, open: &open, shown: shown, layer: spec.layer) else { return nil }
            open.driverOptions += spec.openOptions ?? []
            let ds = try VectorSource(path, options: open)
            let layer = try ds.layer(named: spec.layer)
            layer.textEncoding = encoding
            let name = layer.name
            let declared = layer.crs
            let assumed = spec.assumeCRS.map(CRS.init) ?? options.assumeCRS
            // A table of facts joined by code has no positions, so no CRS to ask for.
            let table = role == .facts && spec.fields[StudyFile.FactSpec.joinKeyRole] != nil
            guard let crs = declared ?? assumed ?? (table ? CRS.wgs84 : nil) else {
                issues.append(ValidationIssue(.error, file: shown, layer: name,
                                    "the layer has no CRS (a Shapefile without .prj, a CSV …); state one with `assume_crs:` in the study file or --assume-crs"))
                return nil
            }
            if declared == nil, let assumed {
                do { _ = try assumed.describe() } catch {
                    issues.append(ValidationIssue(.error, file: shown, layer: name, field: "assume_crs", "\(error)"))
                    return nil
                }
            }
            let features = try layer.readFeatures(where: spec.filter)
            reportUndecodable(layer, shown: shown, given: spec.encoding)
            let types = Set(features.compactMap { $0.geometry?.typeName }).sorted()
            let summary = LayerSummary(role: role, source: shown, layer: name, featuresRead: features.count,
                                       featuresLoaded: 0, geometryTypes: types,
                                       sourceCRS: declared.map { $0.shortName } ?? (table && assumed == nil ? "none (a table)" : "\(crs.shortName) (assumed)"), extent: nil)
            summaries.append(summary)
            if features.isEmpty {
                issues.append(ValidationIssue(.error, file: shown, layer: name,
                                    spec.filter == nil ? "the layer is empty" : "no feature matches `where: \(spec.filter!)`"))
            }
            // Every mapped field must exist in the source. Names match exactly, or else without regard
            // to case (PostgreSQL folds `SOGNEKODE` to `sognekode` on import).
            let fieldNames = layer.fields.map(\.name)
            func resolve(_ wanted: String) -> String? {
                if fieldNames.contains(wanted) { return wanted }
                let folded = fieldNames.filter { $0.lowercased() == wanted.lowercased() }
                return folded.count == 1 ? folded[0] : nil
            }
            var resolvedSpec = spec
            var missing = false
            for (role, field) in spec.fields.sorted(by: { $0.key < $1.key }) {
                if let actual = resolve(field) { resolvedSpec.fields[role] = actual; continue }
                missing = true
                issues.append(ValidationIssue(.error, file: shown, layer: name, field: field,
                                    "mapped as `\(role)` but the layer has no such field (fields: \(fieldNames.joined(separator: ", ")))"))
            }
            if let d = spec.dissolve {
                if let actual = resolve(d) { resolvedSpec.dissolve = actual } else {
                    missing = true
                    issues.append(ValidationIssue(.error, file: shown, layer: name, field: d, "`dissolve` names a field the layer does not have"))
                }
            }
            // Without its fields the layer cannot be checked feature by feature.
            if missing { return nil }
            return RawLayer(role: role, spec: resolvedSpec, displaySource: shown, layerName: name, crs: crs,
                            features: features, summary: summary)
        } catch let e as GDALError {
            issues.append(ValidationIssue(.error, file: shown, layer: e.layer ?? spec.layer, "cannot read \(role): \(e.message)"))
        } catch {
            issues.append(ValidationIssue(.error, file: shown, layer: spec.layer, "cannot read \(role): \(error)"))
        }
        return nil
    }

    /// Distances in the working CRS may be off by at most this share over the study area (0.5 %: a UTM zone
    /// holds it across its 6° and one zone beyond; Web Mercator at 56° N is 78 % off).
    public static let maxScaleError = 0.005

    /// The study's CRS, or the default for where the data is; refused when it would distort distances.
    func chooseWorkingCRS(_ raw: [LayerRole: RawLayer]) throws -> CRS {
        // The locator's country and the land around are context: the study's own layers choose and check the CRS.
        let extent = try lonLatExtent(raw.filter { $0.key != .locator && $0.key != .land })
        var crs: CRS
        if let c = file.crs {
            crs = CRS(c)
            let d = try crs.describe()
            if d.isGeographic {
                throw StudyFileError(path: "crs", message: "the working CRS \(c) is geographic (degrees); distances need a projected CRS such as EPSG:25832")
            }
        } else if let extent {
            crs = CRS.defaultWorkingCRS(forLongitude: extent.center.x, latitude: extent.center.y)
        } else {
            crs = .etrs89UTM32
        }
        if let extent {
            let e = extent
            let samples = [e.center, Coordinate(x: e.minX, y: e.minY), Coordinate(x: e.maxX, y: e.minY), Coordinate(x: e.minX, y: e.maxY),
                           Coordinate(x: e.maxX, y: e.maxY), Coordinate(x: e.center.x, y: e.minY), Coordinate(x: e.center.x, y: e.maxY),
                           Coordinate(x: e.minX, y: e.center.y), Coordinate(x: e.maxX, y: e.center.y)]
            let error = try crs.maxScaleError(atLonLat: samples)
            if error > Self.maxScaleError {
                let suggestion = CRS.defaultWorkingCRS(forLongitude: e.center.x, latitude: e.center.y)
                throw StudyFileError(path: "crs", message: String(format: "the working CRS %@ stretches distances by up to %.1f %% over the study area (the limit is %.1f %%): every travel time and distance would be wrong. Use %@, the UTM zone of the study area%@",
                                                                  crs.shortName, error * 100, Self.maxScaleError * 100, suggestion.definition,
                                                                  file.crs == nil ? ", with `crs:` in the study file" : ""))
            }
        }
        return crs
    }

    /// The extent of every layer read, in longitude/latitude.
    func lonLatExtent(_ raw: [LayerRole: RawLayer]) throws -> Envelope? {
        var corners: [Coordinate] = []
        // One transformer per source CRS: creating one queries PROJ's database, the slow part of a load.
        var transformers: [String: Transformer] = [:]
        for role in LayerRole.allCases {
            guard let layer = raw[role],
                  let env = Envelope(covering: layer.features.compactMap { $0.geometry }.flatMap { $0.allCoordinates })
            else { continue }
            let t = try transformers[layer.crs.definition] ?? Transformer(from: layer.crs, to: .wgs84)
            transformers[layer.crs.definition] = t
            corners += try t.transform([Coordinate(x: env.minX, y: env.minY), Coordinate(x: env.maxX, y: env.minY),
                                        Coordinate(x: env.minX, y: env.maxY), Coordinate(x: env.maxX, y: env.maxY)])
        }
        return Envelope(covering: corners.filter { $0.x.isFinite && $0.y.isFinite })
    }

    mutating func reproject(_ layer: RawLayer, to crs: CRS) -> RawLayer {
        var out = layer
        if layer.crs.definition == crs.definition {
            // Already in the working CRS: nothing to transform, but a coordinate PROJ would refuse is refused here too.
            out.features = layer.features.filter { f in
                guard let g = f.geometry, g.allCoordinates.contains(where: { !$0.x.isFinite || !$0.y.isFinite }) else { return true }
                issues.append(ValidationIssue(.error, file: layer.displaySource, layer: layer.layerName, featureId: label(f, layer),
                                              "cannot reproject to \(crs.shortName): a coordinate is not a finite number"))
                return false
            }
            return out
        }
        do {
            let t = try Transformer(from: layer.crs, to: crs)
            out.features = []
            out.features.reserveCapacity(layer.features.count)
            for f in layer.features {
                var g = f
                if let geom = f.geometry {
                    do { g.geometry = try t.transform(geom) } catch {
                        issues.append(ValidationIssue(.error, file: layer.displaySource, layer: layer.layerName,
                                            featureId: label(f, layer), "cannot reproject to \(crs.shortName): \(error)"))
                        continue
                    }
                }
                out.features.append(g)
            }
        } catch {
            issues.append(ValidationIssue(.error, file: layer.displaySource, layer: layer.layerName, "\(error)"))
            out.features = []
        }
        return out
    }

    /// How to open a table whose numbers follow `numberFormat`; nil, with an issue, for an unknown format.
    mutating func openOptions(_ path: String, numberFormat: String?, shown: String, layer: String?) -> OpenOptions? {
        var open = OpenOptions.defaults(for: path)
        guard let f = numberFormat else { return open }
        guard ["da", "international"].contains(f) else {
            issues.append(ValidationIssue(.error, file: shown, layer: layer, field: "number_format", "`\(f)` is not a number format (da, international)"))
            return nil
        }
        // Danish numbers must reach us as text: GDAL's own type guess would read "1.234" as 1.234.
        if f == "da" { open.driverOptions.removeAll { $0.hasPrefix("AUTODETECT_TYPE") } }
        return open
    }

    /// The layer's `encoding:`: GDAL recodes a Shapefile itself (its ENCODING open option); other sources are
    /// decoded here. Nil, with an issue, for an unknown name.
    mutating func textEncoding(_ name: String?, path: String, open: inout OpenOptions, shown: String, layer: String?) -> TextEncoding? {
        guard let name else { return .utf8 }
        guard let encoding = TextEncoding(name: name) else {
            issues.append(ValidationIssue(.error, file: shown, layer: layer, field: "encoding",
                                          "`\(name)` is not a text encoding Klynge reads (\(TextEncoding.allCases.map(\.rawValue).joined(separator: ", ")))"))
            return nil
        }
        if path.lowercased().hasSuffix(".shp") || path.lowercased().hasSuffix(".dbf") {
            open.driverOptions.append("ENCODING=\(encoding.gdalName)")
            return .utf8
        }
        return encoding
    }

    /// Text that was not valid in the layer's encoding is shown with U+FFFD: say so, once per layer.
    mutating func reportUndecodable(_ layer: VectorLayer, shown: String, given: String?) {
        guard let first = layer.undecodableText.first else { return }
        let n = layer.undecodableText.count
        let hint = given == nil ? "the file is probably Latin-1 or Windows-1252: add `encoding: latin1` (or `windows-1252`) to the layer"
            : "check the layer's `encoding: \(given!)`"
        issues.append(ValidationIssue(.warning, file: shown, layer: layer.name, featureId: String(first),
                                      "\(n) feature(s) have text that is not valid \(given ?? "UTF-8") (shown as �); \(hint)"))
    }

    static func number(_ v: AttributeValue, format: String?) -> Double? {
        format == "da" ? v.danishNumber : v.number
    }

    /// A code as joins compare it: "0766" (DAGI) and "766" (Danmarks Statistik) are the same kommune.
    static func joinCode(_ s: String) -> String {
        let t = s.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty, t.allSatisfy({ $0.isASCII && $0.isNumber }) else { return t }
        let digits = t.drop { $0 == "0" }
        return digits.isEmpty ? "0" : String(digits)
    }

    /// Population and cluster per area from a separate table (e.g. Danmarks Statistik by parish code).
    mutating func joinTable(_ join: StudyFile.JoinSpec, to areas: inout [Area]) {
        let path = SourcePath.resolve(join.source, relativeTo: base)
        let shown = SourcePath.display(path)
        guard var open = openOptions(path, numberFormat: join.numberFormat, shown: shown, layer: join.layer),
              let encoding = textEncoding(join.encoding, path: path, open: &open, shown: shown, layer: join.layer) else { return }
        do {
            let layer = try VectorSource(path, options: open).layer(named: join.layer)
            layer.textEncoding = encoding
            defer { reportUndecodable(layer, shown: shown, given: join.encoding) }
            let names = layer.fields.map(\.name)
            for f in [join.key] + join.fields.values.sorted() where !names.contains(f) {
                issues.append(ValidationIssue(.error, file: shown, layer: layer.name, field: f, "no such field (fields: \(names.joined(separator: ", ")))"))
                return
            }
            for role in join.fields.keys where !["population", "cluster"].contains(role) {
                issues.append(ValidationIssue(.error, file: shown, layer: layer.name, field: role, "a join maps `population` or `cluster`"))
                return
            }
            let code = Self.joinCode
            var rows: [String: Feature] = [:]
            for f in try layer.readFeatures() {
                guard let raw = f[join.key].text, !code(raw).isEmpty else { continue }
                let key = code(raw)
                if rows[key] != nil {
                    issues.append(ValidationIssue(.error, file: shown, layer: layer.name, featureId: key, field: join.key, "two rows have this key"))
                }
                rows[key] = f
            }
            let ids = Set(areas.map { code($0.id) })
            for key in rows.keys.sorted() where !ids.contains(key) {
                issues.append(ValidationIssue(.warning, file: shown, layer: layer.name, featureId: key, field: join.key, "no area has this id"))
            }
            for i in areas.indices {
                guard let row = rows[code(areas[i].id)] else {
                    issues.append(ValidationIssue(.warning, file: shown, layer: layer.name, featureId: areas[i].id, field: join.key,
                                                  "no row for this area"))
                    continue
                }
                if let field = join.fields["population"] {
                    let v = row[field]
                    guard let n = Self.number(v, format: join.numberFormat), n >= 0 else {
                        issues.append(ValidationIssue(.error, file: shown, layer: layer.name, featureId: areas[i].id, field: field,
                                                      "`\(v.text ?? "")` is not a population"))
                        continue
                    }
                    areas[i].population = n
                }
                if let field = join.fields["cluster"], let c = row[field].text, !c.isEmpty { areas[i].cluster = c }
            }
        } catch {
            issues.append(ValidationIssue(.error, file: shown, "cannot read the joined table: \(error)"))
        }
    }

    /// Area id → cluster name from a table; rows for unknown areas are errors.
    mutating func readClusterTable(_ source: String, into study: inout Study) {
        let path = SourcePath.resolve(source, relativeTo: base)
        let shown = SourcePath.display(path)
        let areaField = file.clusters?.fields?["area"] ?? "area", clusterField = file.clusters?.fields?["cluster"] ?? "cluster"
        do {
            let layer = try VectorSource(path).layer(named: file.clusters?.layer)
            let names = layer.fields.map(\.name)
            for f in [areaField, clusterField] where !names.contains(f) {
                issues.append(ValidationIssue(.error, file: shown, layer: layer.name, field: f,
                                              "no such field (fields: \(names.joined(separator: ", "))); map `clusters.fields.area` and `.cluster`"))
                return
            }
            var assignments = study.clusters.assignments ?? [:]
            let known = Set(study.areas.map(\.id))
            for f in try layer.readFeatures() {
                guard let a = f[areaField].text, let c = f[clusterField].text, !c.isEmpty else {
                    issues.append(ValidationIssue(.error, file: shown, layer: layer.name, featureId: "FID \(f.fid.map(String.init) ?? "?")",
                                                  "a row without an area id or a cluster name"))
                    continue
                }
                if !known.contains(a) {
                    issues.append(ValidationIssue(.error, file: shown, layer: layer.name, featureId: a, field: areaField, "no area has this id"))
                }
                assignments[a] = c
            }
            study.clusters.assignments = assignments
        } catch {
            issues.append(ValidationIssue(.error, file: shown, "cannot read the cluster table: \(error)"))
        }
    }

    // MARK: field access

    /// The feature's id for messages: the mapped id where present, else the source FID.
    func label(_ f: Feature, _ layer: RawLayer) -> String {
        if let idField = layer.spec.fields["id"], let t = f[idField].text, !t.isEmpty { return t }
        return "FID \(f.fid.map(String.init) ?? "?")"
    }

    func text(_ f: Feature, _ role: String, _ layer: RawLayer) -> String? {
        guard let field = layer.spec.fields[role], let raw = f[field].text else { return nil }
        // Most values have no surrounding blanks; Foundation's trimming is the slow part of a large layer.
        let t = raw.first?.isWhitespace == true || raw.last?.isWhitespace == true ? raw.trimmingCharacters(in: .whitespaces) : raw
        return t.isEmpty ? nil : t
    }

    /// A numeric role: nil when unmapped or null; an error issue when present but not a number.
    mutating func number(_ f: Feature, _ role: String, _ layer: RawLayer) -> (value: Double?, ok: Bool) {
        guard let field = layer.spec.fields[role] else { return (nil, true) }
        let v = f[field]
        if v.isNull { return (nil, true) }
        guard let n = Self.number(v, format: layer.spec.numberFormat) else {
            issues.append(ValidationIssue(.error, file: layer.displaySource, layer: layer.layerName, featureId: label(f, layer),
                                field: field, "`\(v.text ?? "")` is not a number (\(role))"))
            return (nil, false)
        }
        if n < 0 {
            issues.append(ValidationIssue(.error, file: layer.displaySource, layer: layer.layerName, featureId: label(f, layer),
                                field: field, "\(role) is negative (\(v.text ?? ""))"))
            return (nil, false)
        }
        return (n, true)
    }

    /// The mapped id; an error when missing.
    mutating func requireId(_ f: Feature, _ layer: RawLayer) -> String? {
        guard let field = layer.spec.fields["id"] else { return f.fid.map(String.init) }
        if let t = text(f, "id", layer) { return t }
        issues.append(ValidationIssue(.error, file: layer.displaySource, layer: layer.layerName,
                            featureId: "FID \(f.fid.map(String.init) ?? "?")", field: field, "the id is missing"))
        return nil
    }

    mutating func checkDuplicates(_ ids: [String], _ layer: RawLayer) {
        var seen: [String: Int] = [:]
        for id in ids { seen[id, default: 0] += 1 }
        for (id, n) in seen.sorted(by: { $0.key < $1.key }) where n > 1 {
            issues.append(ValidationIssue(.error, file: layer.displaySource, layer: layer.layerName, featureId: id,
                                field: layer.spec.fields["id"], "the id is used by \(n) features; ids must be unique"))
        }
    }

    /// A polygonal geometry, repaired if invalid (reported), or nil with an error.
    mutating func polygonal(_ f: Feature, _ layer: RawLayer) -> Geometry? {
        guard let g = f.geometry, !g.isEmpty else {
            issues.append(ValidationIssue(.error, file: layer.displaySource, layer: layer.layerName, featureId: label(f, layer),
                                "the feature has no geometry"))
            return nil
        }
        guard g.kind.family == .polygonal || (g.kind == .geometryCollection && !g.polygons.isEmpty) else {
            issues.append(ValidationIssue(.error, file: layer.displaySource, layer: layer.layerName, featureId: label(f, layer),
                                "wrong geometry type \(g.typeName): \(layer.role) must be polygons"))
            return nil
        }
        return repaired(g, f, layer)
    }

    mutating func repaired(_ g: Geometry, _ f: Feature, _ layer: RawLayer) -> Geometry? {
        do {
            let v = try geos.validity(g)
            if v.isValid { return g }
            let fixed = try geos.makeValid(g)
            issues.append(ValidationIssue(.repaired, file: layer.displaySource, layer: layer.layerName, featureId: label(f, layer),
                                "invalid geometry (\(v.reason ?? "invalid")) made valid with GEOS"))
            return fixed
        } catch {
            issues.append(ValidationIssue(.error, file: layer.displaySource, layer: layer.layerName, featureId: label(f, layer),
                                "geometry cannot be checked or repaired: \(error)"))
            return nil
        }
    }

    // MARK: building the study

    mutating func buildAreas(_ layer: RawLayer) -> [Area] {
        struct Part {
            var id: String; var name: String; var population: Double?; var populationKnown: Bool; var cluster: String?; var geometry: Geometry
            var attributes: [String: AttributeValue]
        }
        var parts: [Part] = []
        var groups: [String: [Int]] = [:]
        var order: [String] = []
        for f in layer.features {
            guard let id = requireId(f, layer) else { continue }
            let pop = number(f, "population", layer)
            guard pop.ok, let g = polygonal(f, layer) else { continue }
            let key = layer.spec.dissolve.flatMap { f[$0].text } ?? "\u{0}\(parts.count)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(parts.count)
            parts.append(Part(id: id, name: text(f, "name", layer) ?? id, population: pop.value,
                              populationKnown: pop.value != nil, cluster: text(f, "cluster", layer), geometry: g,
                              attributes: f.attributes))
        }
        var areas: [Area] = []
        for key in order {
            let members = groups[key]!.map { parts[$0] }
            var geometry = members[0].geometry
            if members.count > 1 {
                do { geometry = try geos.unaryUnion(members.map(\.geometry)) } catch {
                    issues.append(ValidationIssue(.error, file: layer.displaySource, layer: layer.layerName, featureId: members[0].id,
                                        field: layer.spec.dissolve, "dissolve failed: \(error)"))
                    continue
                }
                let ids = Set(members.map(\.id))
                if ids.count > 1 {
                    issues.append(ValidationIssue(.warning, file: layer.displaySource, layer: layer.layerName, featureId: members[0].id,
                                        field: layer.spec.fields["id"],
                                        "dissolved features with different ids (\(ids.sorted().joined(separator: ", "))); the first is kept"))
                }
            }
            let pops = members.compactMap(\.population)
            // Several polygons of one parish normally repeat the parish population: sum only distinct-id parts.
            var population: Double?
            if !pops.isEmpty {
                var byId: [String: Double] = [:]
                for m in members { if let p = m.population { byId[m.id] = p } }
                population = byId.values.reduce(0, +)
            }
            areas.append(Area(id: members[0].id, name: members[0].name, population: population,
                              cluster: members[0].cluster, geometry: geometry, attributes: members[0].attributes))
        }
        checkDuplicates(areas.map(\.id), layer)
        return areas
    }

    mutating func point(_ f: Feature, _ layer: RawLayer) -> Coordinate? {
        guard let g = f.geometry, !g.isEmpty else {
            issues.append(ValidationIssue(.error, file: layer.displaySource, layer: layer.layerName, featureId: label(f, layer),
                                "the feature has no geometry"))
            return nil
        }
        switch g.kind.family {
        case .puntal:
            let pts = g.pointParts
            if pts.count > 1 {
                issues.append(ValidationIssue(.warning, file: layer.displaySource, layer: layer.layerName, featureId: label(f, layer),
                                    "a multipoint of \(pts.count) points: its first point is used"))
            }
            return pts.first
        case .polygonal:
            guard let valid = repaired(g, f, layer) else { return nil }
            do { return try geos.pointOnSurface(valid) } catch {
                issues.append(ValidationIssue(.error, file: layer.displaySource, layer: layer.layerName, featureId: label(f, layer), "\(error)"))
                return nil
            }
        default:
            issues.append(ValidationIssue(.error, file: layer.displaySource, layer: layer.layerName, featureId: label(f, layer),
                                "wrong geometry type \(g.typeName): \(layer.role) must be points or polygons"))
            return nil
        }
    }

    /// Points outside every area: a warning up to the limit, an error beyond.
    mutating func checkInside(_ c: Coordinate, id: String, _ layer: RawLayer, areas: AreaIndex) -> String? {
        guard let area = areas.areaId(containing: c) else {
            guard let d = areas.distanceToStudyArea(c) else { return nil }
            let severity: ValidationIssue.Severity = d > maxOutsideMeters ? .error : .warning
            issues.append(ValidationIssue(severity, file: layer.displaySource, layer: layer.layerName, featureId: id,
                                String(format: "lies %.0f m outside the study area%@", d,
                                       severity == .error ? " (limit \(Int(maxOutsideMeters)) m, `checks.max_outside_m`)" : "")))
            return areas.nearestAreaId(c)
        }
        return area
    }

    mutating func buildDemand(_ layer: RawLayer, areas: AreaIndex) -> [DemandPoint] {
        var out: [DemandPoint] = []
        for f in layer.features {
            guard let id = requireId(f, layer) else { continue }
            let w = number(f, "weight", layer)
            guard w.ok, let c = point(f, layer) else { continue }
            var weight = 1.0
            if layer.spec.fields["weight"] != nil {
                guard let v = w.value else {
                    issues.append(ValidationIssue(.error, file: layer.displaySource, layer: layer.layerName, featureId: id,
                                        field: layer.spec.fields["weight"], "the weight (population) is missing"))
                    continue
                }
                weight = v
            }
            let mappedArea = text(f, "area", layer)
            let area = checkInside(c, id: id, layer, areas: areas)
            out.append(DemandPoint(id: id, name: text(f, "name", layer) ?? id, location: c, weight: weight,
                                   areaId: mappedArea ?? area))
        }
        checkDuplicates(out.map(\.id), layer)
        return out
    }

    mutating func deriveDemand(from areas: [Area], areaLayer: RawLayer?) -> [DemandPoint] {
        var out: [DemandPoint] = []
        for a in areas {
            guard let pop = a.population else {
                issues.append(ValidationIssue(.error, file: areaLayer?.displaySource, layer: areaLayer?.layerName, featureId: a.id,
                                    field: file.layers.areas?.fields["population"],
                                    "no demand layer, so demand comes from the areas, but this area has no population"))
                continue
            }
            do {
                out.append(DemandPoint(id: a.id, name: a.name, location: try geos.pointOnSurface(a.geometry),
                                       weight: pop, areaId: a.id))
            } catch {
                issues.append(ValidationIssue(.error, file: areaLayer?.displaySource, layer: areaLayer?.layerName, featureId: a.id, "\(error)"))
            }
        }
        return out
    }

    static func splitCategories(_ s: String) -> [String] {
        s.split(whereSeparator: { $0 == ";" || $0 == "," || $0 == "|" })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    mutating func buildFacilities(_ layer: RawLayer, areas: AreaIndex) -> [Facility] {
        let spec = layer.spec
        let overrides = spec.overrides ?? []
        var used = Set<Int>()
        var out: [Facility] = []
        let mappedFields = Set(spec.fields.values)
        for f in layer.features {
            guard let id = requireId(f, layer) else { continue }
            let name = text(f, "name", layer) ?? ""
            var raw = text(f, "category", layer)
            var excluded = false
            for (i, o) in overrides.enumerated() where (o.id != nil && o.id == id) || (o.name != nil && o.name == name) {
                used.insert(i)
                if o.exclude == true { excluded = true }
                if let c = o.category { raw = c }
            }
            if excluded { continue }
            if spec.fields["category"] == nil && raw == nil {
                // A bare set of destinations (e.g. a matrix without a study): no categories to check.
                guard let c = point(f, layer) else { continue }
                out.append(Facility(id: id, name: name, categories: [], location: c, attributes: [:]))
                continue
            }
            guard let rawCategory = raw else {
                issues.append(ValidationIssue(.error, file: layer.displaySource, layer: layer.layerName, featureId: id,
                                    field: spec.fields["category"], "the category is missing"))
                continue
            }
            var categories: [String] = []
            var bad = false
            for value in Self.splitCategories(rawCategory) {
                let key = spec.categoryValues?[value] ?? value
                if file.categories[key] == nil {
                    issues.append(ValidationIssue(.error, file: layer.displaySource, layer: layer.layerName, featureId: id,
                                        field: spec.fields["category"],
                                        "category `\(value)` is not defined by the study (defined: \(file.categories.keys.sorted().joined(separator: ", "))); add it to `categories`, map it in `category_values`, or override the feature"))
                    bad = true
                } else if !categories.contains(key) {
                    categories.append(key)
                }
            }
            let capacity = number(f, "capacity", layer), cost = number(f, "annual_cost", layer)
            let attractiveness = number(f, "attractiveness", layer)
            guard !bad, capacity.ok, cost.ok, attractiveness.ok, let c = point(f, layer) else { continue }
            _ = checkInside(c, id: id, layer, areas: areas)
            var extra = f.attributes
            for k in mappedFields { extra.removeValue(forKey: k) }
            out.append(Facility(id: id, name: name, categories: categories, location: c, attributes: extra,
                                capacity: capacity.value, annualCost: cost.value, condition: text(f, "condition", layer),
                                attractiveness: attractiveness.value))
        }
        for (i, o) in overrides.enumerated() where !used.contains(i) {
            issues.append(ValidationIssue(.warning, file: layer.displaySource, layer: layer.layerName, featureId: o.id ?? o.name,
                                "the override matches no facility"))
        }
        checkDuplicates(out.map(\.id), layer)
        return out
    }

    mutating func buildRoads(_ layer: RawLayer) -> [Road] {
        var out: [Road] = []
        for f in layer.features {
            let id = text(f, "id", layer) ?? "FID \(f.fid.map(String.init) ?? "?")"
            guard let g = f.geometry, !g.isEmpty else {
                issues.append(ValidationIssue(.warning, file: layer.displaySource, layer: layer.layerName, featureId: id,
                                    "a road without geometry is skipped"))
                continue
            }
            guard g.kind.family == .lineal || (g.kind == .geometryCollection && !g.lineParts.isEmpty) else {
                issues.append(ValidationIssue(.error, file: layer.displaySource, layer: layer.layerName, featureId: id,
                                    "wrong geometry type \(g.typeName): roads must be lines"))
                continue
            }
            // A line needs two distinct points to be travelled; repeated points alone (zero length) are no road.
            let parts = g.lineParts.filter { p in p.count >= 2 && p.contains { $0 != p[0] } }
            guard !parts.isEmpty else {
                issues.append(ValidationIssue(.warning, file: layer.displaySource, layer: layer.layerName, featureId: id,
                                    "a road line of zero length (\(g.lineParts.map(\.count).reduce(0, +)) point(s), none apart) is skipped"))
                continue
            }
            out.append(Road(id: id, parts: parts, roadClass: text(f, "class", layer), maxspeed: text(f, "maxspeed", layer),
                            oneway: text(f, "oneway", layer), name: text(f, "name", layer)))
        }
        if layer.spec.fields["id"] != nil { checkDuplicates(out.map(\.id), layer) }
        return out
    }

    /// A context layer's polygons (the locator's country, the land around): only their shape is drawn, so
    /// anything but polygons is an error; invalid ones are repaired and reported.
    mutating func buildOutline(_ layer: RawLayer) -> [Geometry] {
        let what = layer.summary.role == .land ? "a land layer holds areas (land polygons)" : "a locator layer holds areas (a country or region outline)"
        var out: [Geometry] = []
        for (k, f) in layer.features.enumerated() {
            guard let g = f.geometry, !g.isEmpty else { continue }
            guard !g.polygons.isEmpty else {
                issues.append(ValidationIssue(.error, file: layer.displaySource, layer: layer.layerName, featureId: "FID \(f.fid.map(String.init) ?? String(k))",
                                    "wrong geometry type \(g.typeName): \(what)"))
                continue
            }
            // Invalid outlines are repaired and reported, as the study's own areas are.
            guard let valid = repaired(g.polygons.count == 1 ? .polygon(g.polygons[0]) : .multiPolygon(g.polygons), f, layer) else { continue }
            out.append(valid)
        }
        if out.isEmpty && !layer.features.isEmpty {
            issues.append(ValidationIssue(.error, file: layer.displaySource, layer: layer.layerName, "the \(layer.summary.role.rawValue) layer has no areas to draw"))
        }
        return out
    }
}

/// Point-in-area lookups for validation and area assignment.
public final class AreaIndex {
    private let areas: [(id: String, envelope: Envelope, prepared: PreparedGeometry)]
    private let source: [Area]
    private let geos: GEOSContext
    /// The study area as one shape, made on first use (only the distance checks need it, and a union of
    /// many areas is the costly part of the index).
    private lazy var union: PreparedGeometry? = source.isEmpty ? nil
        : (try? geos.unaryUnion(source.map(\.geometry))).flatMap { try? PreparedGeometry($0, context: geos) }

    public init(areas: [Area], geos: GEOSContext) throws {
        self.areas = try areas.compactMap { a in
            guard let env = a.geometry.envelope else { return nil }
            return (a.id, env, try PreparedGeometry(a.geometry, context: geos))
        }
        source = areas
        self.geos = geos
    }

    public func areaId(containing c: Coordinate) -> String? {
        for a in areas where a.envelope.contains(c) {
            if (try? a.prepared.covers(c)) == true { return a.id }
        }
        return nil
    }

    func distanceToStudyArea(_ c: Coordinate) -> Double? {
        try? union?.distance(to: c)
    }

    func nearestAreaId(_ c: Coordinate) -> String? {
        areas.min { ((try? $0.prepared.distance(to: c)) ?? .infinity) < ((try? $1.prepared.distance(to: c)) ?? .infinity) }?.id
    }
}

extension LoadRun {
    static let osmAttribution = "© OpenStreetMap contributors"

    /// The study's attribution lines, with OpenStreetMap's added when a layer comes from OSM (an extract, or a
    /// GeoPackage `klynge import-osm` made: it has `osm_id`) and no line names it: ODbL requires it on maps.
    static func attribution(given: [String]?, layers: [RawLayer]) -> [String] {
        var lines = given ?? []
        let fromOSM = layers.contains { l in
            let source = l.displaySource.lowercased()
            return source.hasSuffix(".pbf") || source.hasSuffix(".osm") || l.features.first?.attributes["osm_id"] != nil
        }
        if fromOSM && !lines.contains(where: { $0.localizedCaseInsensitiveContains("openstreetmap") }) { lines.append(osmAttribution) }
        return lines
    }
}

