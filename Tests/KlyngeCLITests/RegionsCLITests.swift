import Foundation
import Testing
import KlyngeTestSupport

/// `klynge regions` end to end on the sample, each proposal checked from outside: every area in exactly one
/// cluster, clusters connected through the neighbour pairs the proposal lists, and each village's time to
/// its hub recomputed from `klynge matrix` (village to village) against the limit.
/// A PNG's size from its header.
enum PNGSize {
    static func read(_ path: String) throws -> (Int, Int) {
        let d = try Data(contentsOf: URL(fileURLWithPath: path))
        func be(_ o: Int) -> Int { d[o..<o + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (be(16), be(20))
    }
}

@Suite(.serialized) struct RegionsCLITests {
    let klynge = TestSupport.klyngeBinary
    let study = TestSupport.data("samsoe/study.yaml")

    func json(_ args: [String]) throws -> [String: Any] {
        let r = try TestSupport.run(klynge, args)
        #expect(r.status == 0, "\(args): \(r.stderr)")
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    }

    /// Village → area and weight, from the coverage answer (not from the regions code).
    func villages() throws -> [String: (area: String, name: String, weight: Double)] {
        let cov = try json(["coverage", study, "--category", "hall", "--json"])
        var out: [String: (String, String, Double)] = [:]
        for p in cov["points"] as! [[String: Any]] {
            out[p["demandId"] as! String] = (p["areaId"] as! String, p["name"] as! String, (p["population"] as! NSNumber).doubleValue)
        }
        return out
    }

    /// Seconds from each village to each village by car, from `klynge matrix`.
    func matrix(in folder: URL) throws -> [String: [String: Double]] {
        let csv = folder.appendingPathComponent("m.csv").path
        let r = try TestSupport.run(klynge, ["matrix", study, "--from", "demand", "--to", "demand", "-o", csv])
        #expect(r.status == 0, "\(r.stderr)")
        var out: [String: [String: Double]] = [:]
        for line in try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if let s = Double(f[3]) { out[f[0], default: [:]][f[1]] = s }
        }
        return out
    }

    func check(_ p: [String: Any], maxMinutes: Double?, villages: [String: (area: String, name: String, weight: Double)],
               times: [String: [String: Double]]) {
        let clusters = p["clusters"] as! [[String: Any]]
        let pairs = (p["contiguity"] as! [[String: Any]]).map { ($0["a"] as! String, $0["b"] as! String) }
        let areaIds = ["7240", "7241", "7242", "7243", "7244"]
        var seen: [String] = []
        for c in clusters {
            let areas = (c["areas"] as! [[String: Any]]).map { $0["id"] as! String }
            seen += areas
            // Connected through the listed pairs (indexes in the study's area order).
            let idx = Set(areas)
            var reached: Set<String> = [areas[0]], grew = true
            while grew {
                grew = false
                for (x, y) in pairs {
                    if idx.contains(x) && idx.contains(y) && reached.contains(x) != reached.contains(y) { reached.formUnion([x, y]); grew = true }
                }
            }
            #expect(reached == idx, "cluster \(c["name"]!) is not connected")
            let hub = (c["hub"] as! [String: Any])["id"] as! String
            #expect(areas.contains(villages[hub]!.area), "the hub lies outside its cluster")
            for (id, v) in villages where areas.contains(v.area) {
                let t = id == hub ? 0 : times[id]?[hub]
                #expect(t != nil, "\(v.name) cannot reach its hub")
                if let maxMinutes, let t { #expect(t <= maxMinutes * 60 + 0.5, "\(v.name): \(t / 60) min to the hub") }
            }
        }
        #expect(seen.sorted() == areaIds)
    }

    @Test func proposalsHoldEveryConstraint() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let villages = try self.villages(), times = try matrix(in: folder)
        let three = try json(["regions", study, "--clusters", "3", "--json"])
        #expect((three["search"] as! [String: Any])["proven"] as? Bool == true)
        #expect((three["clusters"] as! [[String: Any]]).count == 3)
        check(three, maxMinutes: nil, villages: villages, times: times)
        let twice = try json(["regions", study, "--clusters", "2", "--require", "school,school", "--json"])
        #expect((twice["clusters"] as! [[String: Any]]).allSatisfy { ($0["required"] as! [String: Int])["school"]! >= 1 })
        let limited = try json(["regions", study, "--max-clusters", "--min-population", "600", "--max-minutes", "12", "--json"])
        for c in limited["clusters"] as! [[String: Any]] { #expect((c["population"] as! NSNumber).doubleValue >= 600) }
        check(limited, maxMinutes: 12, villages: villages, times: times)
        // Kolby is locked with Nordby's parish: two far ends in one cluster, so every parish between joins them.
        let locked = try json(["regions", study, "--clusters", "2", "--lock", "7244=Nord", "--lock", "7243=Nord", "--json"])
        let nord = (locked["clusters"] as! [[String: Any]]).first { $0["name"] as? String == "Nord" }!
        #expect((nord["areas"] as! [[String: Any]]).count >= 4)
        check(locked, maxMinutes: nil, villages: villages, times: times)
    }

    @Test func impossibleRequestsNameTheirCauseAndWriteNothing() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("r.gpkg").path
        let cases: [([String], [String])] = [
            (["--clusters", "3", "--max-minutes", "4"], ["Nordby", "Langør", "limit 4 min"]),
            (["--clusters", "3", "--require", "library"], ["only 1 area(s) hold an open library"]),
            (["--max-clusters", "--min-population", "5000"], ["2774 people", "minimum of 5000"]),
            (["--clusters", "2", "--within", "SOGNEKODE"], ["5 separate groups"]),
            (["--clusters", "0"], ["--clusters must be at least 1"]),
            (["--clusters", "2", "--min-population=-5"], ["--min-population must be a positive"]),
            (["--clusters", "2", "--max-minutes", "nan"], ["--max-minutes must be a positive"]),
            (["--clusters", "2", "--min-population", "900", "--max-population", "800"], ["is above --max-population"]),
            (["--clusters", "2", "--require", "svømmehal"], ["unknown category `svømmehal`"]),
            (["--clusters", "2", "--within", "NOPE"], ["no field `NOPE`"]),
            (["--clusters", "2", "--lock", "Atlantis=X"], ["no area has the id or name `Atlantis`"]),
            (["--clusters", "2", "--max-minutes", "10", "--mode", "distance"], ["needs a timed mode"]),
        ]
        for (args, words) in cases {
            let r = try TestSupport.run(klynge, ["regions", study] + args + ["-o", out])
            #expect(r.status != 0, "\(args)")
            for w in words { #expect(r.stderr.contains(w), "\(args): \(r.stderr)") }
            #expect(!FileManager.default.fileExists(atPath: out), "\(args) wrote a file")
        }
    }

    @Test func theHeuristicRepeatsItselfAndAProposalIsSavedAndUsed() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let a = try json(["regions", study, "--clusters", "2", "--solver", "heuristic", "--seed", "7", "--json"])
        let b = try json(["regions", study, "--clusters", "2", "--solver", "heuristic", "--seed", "7", "--json"])
        #expect(a["assignments"] as! [String: String] == b["assignments"] as! [String: String])
        #expect((a["search"] as! [String: Any])["proven"] as? Bool == false)
        // The exact solver too gives the same partition in every process (rows and columns in a fixed order).
        let e1 = try json(["regions", study, "--clusters", "2", "--objective", "balance", "--solver", "exact", "--json"])
        let e2 = try json(["regions", study, "--clusters", "2", "--objective", "balance", "--solver", "exact", "--json"])
        #expect(e1["assignments"] as! [String: String] == e2["assignments"] as! [String: String])
        let store = folder.appendingPathComponent("s.gpkg").path
        let out = folder.appendingPathComponent("r.gpkg").path
        let save = try TestSupport.run(klynge, ["regions", study, "--store", store, "--clusters", "2", "--save", "To klynger", "-o", out])
        #expect(save.status == 0, "\(save.stderr)")
        let layers = try TestSupport.run("ogrinfo", ["-q", out])
        if layers.status == 0 { #expect(layers.stdout.contains("regions") && layers.stdout.contains("region_areas")) }
        let used = try json(["clusters", study, "--store", store, "--clustering", "To klynger", "--json"])
        #expect((used["clusters"] as! [[String: Any]]).count == 2)
        let missing = try TestSupport.run(klynge, ["clusters", study, "--store", store, "--clustering", "Tre"])
        #expect(missing.status != 0 && missing.stderr.contains("saved: To klynger"))
        // Deleted by name; deleting again names what is saved (nothing).
        let deleted = try TestSupport.run(klynge, ["regions", "delete", study, "--store", store, "To klynger"])
        #expect(deleted.status == 0 && deleted.stdout.contains("to-klynger"), "\(deleted.stderr)")
        let again = try TestSupport.run(klynge, ["regions", "delete", study, "--store", store, "To klynger"])
        #expect(again.status == 1 && again.stderr.contains("no saved clustering `To klynger`"), "\(again.stderr)")
        #expect(try TestSupport.run(klynge, ["clusters", study, "--store", store, "--clustering", "To klynger"]).status != 0)
    }

    /// Adjusted Rand index by counting pairs (Steinley's form), not by the contingency table the code uses.
    static func pairCountingARI(_ x: [String], _ y: [String]) -> Double {
        var a = 0.0, b = 0.0, c = 0.0, d = 0.0
        for i in x.indices {
            for j in x.indices where j > i {
                switch (x[i] == x[j], y[i] == y[j]) {
                case (true, true): a += 1
                case (true, false): b += 1
                case (false, true): c += 1
                case (false, false): d += 1
                }
            }
        }
        let denominator = (a + b) * (b + d) + (a + c) * (c + d)
        return denominator == 0 ? 1 : 2 * (a * d - b * c) / denominator
    }

    @Test func alternativesAreComparedAgainstTheFirst() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = folder.appendingPathComponent("s.gpkg").path
        for (k, name) in [(2, "To"), (3, "Tre")] {
            #expect(try TestSupport.run(klynge, ["regions", study, "--store", store, "--clusters", "\(k)", "--save", name]).status == 0)
        }
        let out = folder.appendingPathComponent("cmp.md").path
        let md = try TestSupport.run(klynge, ["regions", "compare", study, "--store", store, "-o", out])
        #expect(md.status == 0, "\(md.stderr)")
        #expect(md.stdout.contains("| Klyngeinddeling | Studiets egne | To | Tre |") && md.stdout.contains("Forsamlingshus: dækket med klyngens egne"))
        #expect(try String(contentsOfFile: out, encoding: .utf8) + "Wrote \(out)\n" == md.stdout)
        let cmp = try json(["regions", "compare", study, "--store", store, "--clustering", "Tre", "--clustering", "To", "--json"])
        let alternatives = cmp["alternatives"] as! [[String: Any]]
        #expect(alternatives.map { $0["clusters"] as! Int } == [3, 2])
        // The index against an independent count over the two proposals' assignments.
        let tre = try json(["regions", study, "--clusters", "3", "--json"])["assignments"] as! [String: String]
        let to = try json(["regions", study, "--clusters", "2", "--json"])["assignments"] as! [String: String]
        let ids = tre.keys.sorted()
        let expected = Self.pairCountingARI(ids.map { tre[$0]! }, ids.map { to[$0]! })
        #expect(abs((alternatives[1]["adjustedRand"] as! Double) - expected) < 0.001)
        #expect(alternatives[0]["adjustedRand"] == nil)
    }

    /// `--from` starts from a clustering and `--keep` keeps some of its clusters whole; clusterings are read
    /// back from the files `regions -o` writes and from a table a GIS would export.
    @Test func proposalsStartFromClusteringsAndFilesAreAlternatives() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let gpkg = folder.appendingPathComponent("three.gpkg").path
        let geojson = folder.appendingPathComponent("three.geojson").path
        let three = try json(["regions", study, "--clusters", "3", "-o", gpkg, "--json"])["assignments"] as! [String: String]
        #expect(try TestSupport.run(klynge, ["regions", study, "--clusters", "3", "-o", geojson]).status == 0)
        // A CSV such as a planner writes by hand: area id and cluster.
        let csv = folder.appendingPathComponent("hand.csv").path
        try ("area_id,cluster\n" + three.keys.sorted().map { "\($0),\(three[$0]!)" }.joined(separator: "\n") + "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        let cmp = try json(["regions", "compare", study, "--clustering", gpkg, "--clustering", geojson, "--clustering", csv, "--clustering", "study", "--json"])
        let alternatives = cmp["alternatives"] as! [[String: Any]]
        #expect(alternatives.map { $0["name"] as! String } == ["three", "three", "hand", "Studiets egne"])
        // The same partition from all three files: nothing changed, adjusted Rand index 1.
        for a in alternatives[1...2] { #expect(a["areasChanged"] as? Int == 0 && a["adjustedRand"] as? Double == 1) }
        #expect((alternatives[3]["areasChanged"] as! Int) > 0)

        // Started from its own answer, the heuristic keeps the optimum the exact solver proved.
        let from = try json(["regions", study, "--from", gpkg, "--solver", "heuristic", "--json"])
        #expect(from["assignments"] as! [String: String] == three)
        #expect((from["constraints"] as! [String]).contains("from: three"))
        // Kept whole: every area of the kept cluster stays together under its name.
        let kept = three.values.sorted().first!
        let keep = try json(["regions", study, "--from", csv, "--keep", kept, "--clusters", "2", "--json"])
        let keptAreas = three.filter { $0.value == kept }.map(\.key)
        let assigned = keep["assignments"] as! [String: String]
        #expect(Set(keptAreas.map { assigned[$0]! }) == [kept])
        // The study's own clusters are not contiguous on Samsø (Nordby and Besser do not touch): said, not used.
        let own = try TestSupport.run(klynge, ["regions", study, "--from", "study", "--solver", "heuristic"])
        #expect(own.status == 0 && own.stderr.contains("does not start from `study`: Nordøen is not contiguous"), "\(own.stderr)")
        // Bad references name what is wrong.
        let bad: [([String], String)] = [
            (["--from", "study", "--keep", "Atlantis"], "has no cluster `Atlantis` (its clusters: Midtøen, Nordøen, Sydøen)"),
            (["--keep", "Nordøen", "--clusters", "2"], "give --from too"),
            (["--from", folder.appendingPathComponent("none.gpkg").path], "no such file"),
        ]
        for (args, words) in bad {
            let r = try TestSupport.run(klynge, ["regions", study] + args)
            #expect(r.status != 0 && r.stderr.contains(words), "\(args): \(r.stderr)")
        }
        try "id;klynge\n7240;A\n7240;B\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let twice = try TestSupport.run(klynge, ["regions", "compare", study, "--clustering", csv])
        #expect(twice.status != 0 && twice.stderr.contains("area `7240` is in both `A` and `B`"), "\(twice.stderr)")
    }

    /// One map panel per clustering, in a grid sized to the study's shape; with the table, both or neither.
    @Test func comparisonsDrawSmallMultiples() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = folder.appendingPathComponent("s.gpkg").path
        for (k, name) in [(2, "To"), (3, "Tre")] {
            #expect(try TestSupport.run(klynge, ["regions", study, "--store", store, "--clusters", "\(k)", "--save", name]).status == 0)
        }
        let png = folder.appendingPathComponent("cmp.png").path
        let md = folder.appendingPathComponent("cmp.md").path
        let r = try TestSupport.run(klynge, ["regions", "compare", study, "--store", store, "--map", png, "--paper", "A4", "--dpi", "100", "-o", md],
                                    in: TestSupport.packageRoot)
        #expect(r.status == 0, "\(r.stderr)")
        let image = try PNGSize.read(png)
        // A4 landscape at 100 dpi; Samsø is tall, so three panels stand side by side.
        #expect(image == (1169, 827))
        #expect(FileManager.default.fileExists(atPath: md))
        let pdf = folder.appendingPathComponent("cmp.pdf").path
        #expect(try TestSupport.run(klynge, ["regions", "compare", study, "--store", store, "--map", pdf], in: TestSupport.packageRoot).status == 0)
        if TestSupport.isAvailable("pdftotext") {
            let text = try TestSupport.run("pdftotext", [pdf, "-"]).stdout
            for title in ["klyngeinddelinger sammenlignet", "Studiets egne", "To", "Tre"] { #expect(text.contains(title), "\(title)") }
        }
        // A table that cannot be written leaves no map either.
        let lost = folder.appendingPathComponent("lost.png").path
        let bad = try TestSupport.run(klynge, ["regions", "compare", study, "--store", store, "--map", lost, "-o", "/nonexistent/cmp.md"],
                                      in: TestSupport.packageRoot)
        #expect(bad.status != 0 && !FileManager.default.fileExists(atPath: lost), "\(bad.stderr)")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "\(leftovers)")
        let wrong = try TestSupport.run(klynge, ["regions", "compare", study, "--map", folder.appendingPathComponent("x.jpg").path])
        #expect(wrong.status != 0 && wrong.stderr.contains("--map writes .png, .pdf or .svg"))
    }

    /// A store whose writer lock is held (a running service) refuses --save, and then no file is written either.
    @Test(.enabled(if: TestSupport.isAvailable("flock"))) func aLockedStoreLeavesNothingWritten() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = folder.appendingPathComponent("s.gpkg").path
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = ["flock", store + ".lock", "sleep", "30"]
        try holder.run()
        defer { holder.terminate() }
        // Wait until the lock is held: a non-blocking try fails then.
        var held = false
        for _ in 0..<50 where !held {
            held = try TestSupport.run("flock", ["-n", store + ".lock", "true"]).status != 0
            if !held { Thread.sleep(forTimeInterval: 0.1) }
        }
        try #require(held)
        let out = folder.appendingPathComponent("r.gpkg").path
        let r = try TestSupport.run(klynge, ["regions", study, "--store", store, "--clusters", "2", "--save", "To", "-o", out])
        #expect(r.status != 0 && r.stderr.contains("writing to this scenario store"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
