import Foundation
import Testing
import KlyngeGeo
import KlyngeNetwork
import KlyngeTestSupport
@testable import KlyngeJobs

/// The byte-level matrix writer against plain Swift formatting and against the cell-by-cell matrix.
@Suite struct MatrixCSVTests {
    /// The reference: hundredths rounded half away from zero, written with `String`.
    static func reference(_ v: Double) -> String {
        let h = Int64((v * 100).rounded())
        let sign = h < 0 ? "-" : ""
        let m = h.magnitude
        return sign + String(m / 100) + "." + (m % 100 < 10 ? "0" : "") + String(m % 100)
    }

    @Test func numbersAreWrittenAsTheReferenceWritesThem() {
        var state: UInt64 = 42
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        var values: [Double] = [0, 0.004, 0.005, 0.049, 0.05, 0.994, 0.995, 1, 9.99, 10, 99.995, 100, 123456.785, 1e9, 1e12 + 0.25, -0.5, -1234.5]
        for _ in 0..<20_000 { values.append(next() * pow(10, Double(Int(next() * 9)))) }
        for v in values { #expect(MatrixCSV.fixed2(v) == Self.reference(v), "\(v)") }
    }

    @Test func theFileHoldsEveryCellInOrder() throws {
        // A small grid network; every origin to every destination, with one unattached destination.
        var lines: [RoadLine] = []
        for i in 0...4 {
            lines.append(RoadLine(id: "h\(i)", parts: [[Coordinate(x: 0, y: Double(i) * 100), Coordinate(x: 400, y: Double(i) * 100)]],
                                  roadClass: "residential", maxspeed: nil, oneway: nil))
            lines.append(RoadLine(id: "v\(i)", parts: [[Coordinate(x: Double(i) * 100, y: 0), Coordinate(x: Double(i) * 100, y: 400)]],
                                  roadClass: "residential", maxspeed: nil, oneway: nil))
        }
        let graph = ModeGraph(network: RoadNetwork(lines: lines), profile: .defaults(for: .car))
        let snapper = Snapper(graph: graph)
        func at(_ x: Int, _ y: Int) -> Snap? { try? snapper.snap(Coordinate(x: Double(x), y: Double(y))).get() }
        let origins: [Snap?] = (0..<37).map { k in at(k * 11 % 400, k * 29 % 400 + 3) }
        let destinations: [Snap?] = (0..<5).map { k in k == 3 ? nil : at(k * 97 % 400 + 2, k * 53 % 400) }
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("m.csv")
        let ids = (0..<37).map { "o,\($0)" }  // a comma: the cell is quoted
        var options = MatrixOptions()
        options.threads = 2
        _ = try MatrixCSV.write(to: url, fromIds: ids, toIds: (0..<5).map { "d\($0)" }, origins: origins, destinations: destinations,
                                graph: graph, options: options)
        var expected = [MatrixCSV.header]
        var cells: [MatrixEntry] = []
        _ = try MatrixEngine(graph: graph).compute(origins: origins, destinations: destinations) { cells += $0 }
        for e in cells {
            let values = e.cost.map { MatrixCSV.fixed2($0.meters) + "," + MatrixCSV.fixed2($0.cost) } ?? ","
            expected.append("\"o,\(e.origin)\",d\(e.destination),\(values)\n")
        }
        #expect(try String(contentsOf: url, encoding: .utf8) == expected.joined())
    }
}
