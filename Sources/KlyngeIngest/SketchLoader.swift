import Foundation
import KlyngeGeo
import KlyngeStudy

/// The plan's sketch layers: whatever a planner drew in QGIS (points, lines, areas), in the working CRS, with an
/// optional name and kind. Invalid areas are repaired and reported like the study's own; empty shapes are skipped.
extension LoadRun {
    mutating func readSketch(_ spec: StudyFile.SketchSpec, crs: CRS) -> SketchLayer? {
        guard let raw = read(role: .sketch, spec: spec.layerSpec) else { return nil }
        let layer = reproject(raw, to: crs)
        var items: [SketchLayer.Item] = []
        for f in layer.features {
            guard let g = f.geometry, !g.isEmpty else { continue }
            let shape: Geometry
            if g.polygons.isEmpty {
                shape = g
            } else {
                guard let valid = repaired(g, f, layer) else { continue }
                shape = valid
            }
            items.append(SketchLayer.Item(name: text(f, "name", layer), kind: text(f, "kind", layer), geometry: shape))
        }
        summaries[summaries.count - 1].featuresLoaded = items.count
        summaries[summaries.count - 1].extent = Envelope(covering: items.flatMap { $0.geometry.allCoordinates })?.array
        return SketchLayer(id: spec.id, labelDa: spec.label?.da ?? spec.id, labelEn: spec.label?.en ?? spec.label?.da ?? spec.id, items: items)
    }
}
