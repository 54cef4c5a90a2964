// A small SVG chart writer for reports: scatter or line series with a marker and colour each, optional
// vertical error bars, point labels and tooltips, a step line (a Pareto front), axes with "nice" ticks
// (Heckbert, "Nice numbers for graph labels", Graphics Gems 1990) and a legend. No plotting library.
import Foundation
import Runs
import Sweeps

public struct SVGChart {
    public struct Point {
        public var x: Double
        public var y: Double
        /// A vertical error bar from low to high.
        public var range: ClosedRange<Double>?
        /// Drawn beside the point (a run number).
        public var label: String?
        /// Shown on hover (SVG <title>).
        public var tooltip: String?
        /// Written as the point's data-run attribute.
        public var id: String?
        /// Ringed, and the ring shown in the legend under `frontName`: a point on the front.
        public var highlighted: Bool
        /// A reference beside the data (a zero-shot baseline), written with class "reference" instead of "point".
        public var isReference: Bool

        public init(x: Double, y: Double, range: ClosedRange<Double>? = nil, label: String? = nil, tooltip: String? = nil,
                    id: String? = nil, highlighted: Bool = false, isReference: Bool = false) {
            self.x = x; self.y = y; self.range = range; self.label = label; self.tooltip = tooltip; self.id = id
            self.highlighted = highlighted; self.isReference = isReference
        }
    }

    public struct Series {
        public var name: String
        /// Picks the colour and marker: series with the same style look the same.
        public var style: Int
        public var points: [Point]
        /// Joins the points in x order with a line.
        public var connected: Bool

        public init(name: String, style: Int, points: [Point], connected: Bool = false) {
            self.name = name; self.style = style; self.points = points; self.connected = connected
        }
    }

    public enum XAxis {
        case linear
        /// Evenly spaced categories; a point's x is the category's index.
        case categories([String])
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var xAxis: XAxis = .linear
    /// A polyline drawn as given, e.g. `ParetoFront.staircase`.
    public var front: [(x: Double, y: Double)] = []
    public var frontName = "Pareto front"
    public var width = 760.0
    public var height = 460.0

    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.series = series
    }

    /// Okabe–Ito colours, distinguishable with the common colour-vision deficiencies.
    public static let colors = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
    public static let markers = ["circle", "square", "triangle", "diamond", "cross"]

    /// The chart as a standalone SVG element (no XML declaration, so it can also be inlined in HTML).
    public func render() -> String {
        let plot = (left: 72.0, right: width - 190.0, top: 44.0, bottom: height - 58.0)
        let points = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        let ys = points.flatMap { [$0.y] + ($0.range.map { [$0.lowerBound, $0.upperBound] } ?? []) } + front.map(\.y)
        let yAxis = Self.niceAxis(ys.filter(\.isFinite))
        let xTicks: [(value: Double, label: String)]
        let xDomain: ClosedRange<Double>
        switch xAxis {
        case .linear:
            let axis = Self.niceAxis((points.map(\.x) + front.map(\.x)).filter(\.isFinite))
            xDomain = axis.domain; xTicks = axis.ticks
        case .categories(let names):
            xDomain = -0.5...(Double(max(names.count, 1)) - 0.5)
            xTicks = names.enumerated().map { (Double($0.offset), $0.element) }
        }
        // Series side by side within a category, so equal values do not hide each other.
        let dodge: (Int) -> Double = { position in
            guard case .categories = xAxis, series.count > 1 else { return 0 }
            return (Double(position) - Double(series.count - 1) / 2) * min(0.08, 0.5 / Double(series.count))
        }
        let sx = { (x: Double) in plot.left + (x - xDomain.lowerBound) / (xDomain.upperBound - xDomain.lowerBound) * (plot.right - plot.left) }
        let sy = { (y: Double) in plot.bottom - (y - yAxis.domain.lowerBound) / (yAxis.domain.upperBound - yAxis.domain.lowerBound) * (plot.bottom - plot.top) }
        let e = TextEscaping.xml

        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" \
        font-family="Helvetica, Arial, sans-serif" font-size="12" role="img" aria-label="\(e(title))">
        <title>\(e(title))</title>
        <rect x="0" y="0" width="\(f(width))" height="\(f(height))" fill="#ffffff"/>
        <text x="\(f(width / 2))" y="24" text-anchor="middle" font-size="15" font-weight="bold">\(e(title))</text>

        """
        // Grid, ticks and tick labels.
        svg += "<g class=\"axes\" stroke=\"#dddddd\" stroke-width=\"1\">\n"
        for tick in yAxis.ticks {
            svg += "<line x1=\"\(f(plot.left))\" y1=\"\(f(sy(tick.value)))\" x2=\"\(f(plot.right))\" y2=\"\(f(sy(tick.value)))\"/>\n"
        }
        for tick in xTicks {
            svg += "<line x1=\"\(f(sx(tick.value)))\" y1=\"\(f(plot.top))\" x2=\"\(f(sx(tick.value)))\" y2=\"\(f(plot.bottom))\"/>\n"
        }
        svg += "</g>\n<g class=\"ticks\" fill=\"#333333\">\n"
        for tick in yAxis.ticks {
            svg += "<text x=\"\(f(plot.left - 8))\" y=\"\(f(sy(tick.value) + 4))\" text-anchor=\"end\">\(e(tick.label))</text>\n"
        }
        for tick in xTicks {
            svg += "<text x=\"\(f(sx(tick.value)))\" y=\"\(f(plot.bottom + 18))\" text-anchor=\"middle\">\(e(tick.label))</text>\n"
        }
        svg += """
        </g>
        <rect x="\(f(plot.left))" y="\(f(plot.top))" width="\(f(plot.right - plot.left))" height="\(f(plot.bottom - plot.top))" fill="none" stroke="#333333"/>
        <text x="\(f((plot.left + plot.right) / 2))" y="\(f(height - 14))" text-anchor="middle" font-size="13">\(e(xLabel))</text>
        <text x="18" y="\(f((plot.top + plot.bottom) / 2))" text-anchor="middle" font-size="13" transform="rotate(-90 18 \(f((plot.top + plot.bottom) / 2)))">\(e(yLabel))</text>

        """
        // The front under the points.
        let frontPoints = front.filter { $0.x.isFinite && $0.y.isFinite }
        if !frontPoints.isEmpty {
            svg += "<polyline class=\"front\" fill=\"none\" stroke=\"#555555\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\" points=\""
            svg += frontPoints.map { "\(f(sx($0.x))),\(f(sy($0.y)))" }.joined(separator: " ") + "\"/>\n"
        }
        for (position, s) in series.enumerated() {
            let color = Self.colors[s.style % Self.colors.count]
            let shift = dodge(position)
            let shown = s.points.filter { $0.x.isFinite && $0.y.isFinite }.map { point -> Point in
                var moved = point
                moved.x += shift
                return moved
            }
            svg += "<g class=\"series\" data-name=\"\(e(s.name))\">\n"
            if s.connected, shown.count > 1 {
                svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\""
                svg += shown.sorted { $0.x < $1.x }.map { "\(f(sx($0.x))),\(f(sy($0.y)))" }.joined(separator: " ") + "\"/>\n"
            }
            for point in shown {
                if let range = point.range, range.lowerBound.isFinite, range.upperBound.isFinite {
                    let (x, lo, hi) = (sx(point.x), sy(range.lowerBound), sy(range.upperBound))
                    svg += "<path class=\"error-bar\" stroke=\"\(color)\" stroke-width=\"1.2\" fill=\"none\" d=\"M\(f(x)) \(f(lo))V\(f(hi))M\(f(x - 4)) \(f(lo))H\(f(x + 4))M\(f(x - 4)) \(f(hi))H\(f(x + 4))\"/>\n"
                }
                let (x, y) = (sx(point.x), sy(point.y))
                svg += "<g class=\"\(point.isReference ? "reference" : "point")\"" + (point.id.map { " data-run=\"\(e($0))\"" } ?? "") + ">"
                if let tooltip = point.tooltip { svg += "<title>\(e(tooltip))</title>" }
                if point.highlighted { svg += Self.ring(x: x, y: y) }
                svg += Self.marker(s.style, x: x, y: y, color: color)
                if let label = point.label {
                    svg += "<text class=\"label\" x=\"\(f(x + 6))\" y=\"\(f(y - 6))\" font-size=\"10\" fill=\"#333333\">\(e(label))</text>"
                }
                svg += "</g>\n"
            }
            svg += "</g>\n"
        }
        // Legend.
        var y = plot.top + 8
        svg += "<g class=\"legend\">\n"
        for s in series {
            let color = Self.colors[s.style % Self.colors.count]
            svg += Self.marker(s.style, x: plot.right + 22, y: y, color: color)
            svg += "<text x=\"\(f(plot.right + 34))\" y=\"\(f(y + 4))\">\(e(s.name))</text>\n"
            y += 20
        }
        if !frontPoints.isEmpty || series.contains(where: { $0.points.contains(where: \.highlighted) }) {
            svg += Self.ring(x: plot.right + 22, y: y)
            svg += "<line x1=\"\(f(plot.right + 12))\" y1=\"\(f(y))\" x2=\"\(f(plot.right + 30))\" y2=\"\(f(y))\" stroke=\"#555555\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>\n"
            svg += "<text x=\"\(f(plot.right + 34))\" y=\"\(f(y + 4))\">\(e(frontName))</text>\n"
        }
        svg += "</g>\n</svg>\n"
        return svg
    }

    static func ring(x: Double, y: Double) -> String {
        "<circle class=\"ring\" cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"8\" fill=\"none\" stroke=\"#555555\" stroke-width=\"1.2\"/>"
    }

    static func marker(_ style: Int, x: Double, y: Double, color: String) -> String {
        let paint = "fill=\"\(color)\" stroke=\"#ffffff\" stroke-width=\"0.8\""
        switch markers[style % markers.count] {
        case "square": return "<rect x=\"\(f(x - 4))\" y=\"\(f(y - 4))\" width=\"8\" height=\"8\" \(paint)/>"
        case "triangle": return "<path d=\"M\(f(x)) \(f(y - 5))L\(f(x + 5)) \(f(y + 4))L\(f(x - 5)) \(f(y + 4))Z\" \(paint)/>"
        case "diamond": return "<path d=\"M\(f(x)) \(f(y - 5.5))L\(f(x + 5)) \(f(y))L\(f(x)) \(f(y + 5.5))L\(f(x - 5)) \(f(y))Z\" \(paint)/>"
        case "cross": return "<path d=\"M\(f(x - 4)) \(f(y - 4))L\(f(x + 4)) \(f(y + 4))M\(f(x - 4)) \(f(y + 4))L\(f(x + 4)) \(f(y - 4))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2.2\"/>"
        default: return "<circle cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"4.5\" \(paint)/>"
        }
    }

    /// The data's range widened by 6% on each side (so no point sits on the frame), with ticks at "nice" steps
    /// inside it, labelled with as many decimals as the step needs.
    static func niceAxis(_ values: [Double]) -> (domain: ClosedRange<Double>, ticks: [(value: Double, label: String)]) {
        var lo = values.min() ?? 0, hi = values.max() ?? 1
        if hi - lo < 1e-12 {
            let pad = abs(lo) > 1e-12 ? abs(lo) * 0.05 : 0.5
            lo -= pad; hi += pad
        }
        let margin = (hi - lo) * 0.06
        lo -= margin; hi += margin
        let step = niceNumber((hi - lo) / 6)
        let fraction = step / pow(10, log10(step).rounded(.down))
        let decimals = max(0, Int((-log10(step) - 1e-9).rounded(.up)) + (abs(fraction - 2.5) < 1e-9 ? 1 : 0))
        let first = (lo / step).rounded(.up), last = (hi / step).rounded(.down)
        let ticks = stride(from: first, through: last + 0.5, by: 1).map { k -> (value: Double, label: String) in
            let value = k * step
            let label = String(format: "%.\(decimals)f", value)
            return (value, label.hasPrefix("-") && Double(label) == 0 ? String(label.dropFirst()) : label)
        }
        return (lo...hi, ticks)
    }

    /// 1, 2, 2.5 or 5 times a power of ten, at least x.
    static func niceNumber(_ x: Double) -> Double {
        let exponent = log10(x).rounded(.down)
        let power = pow(10, exponent)
        let fraction = x / power
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10
        return nice * power
    }
}

/// Coordinates with one decimal.
private func f(_ x: Double) -> String { String(format: "%.1f", x) }
