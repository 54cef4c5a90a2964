// The plots of a sweep report, one set per task: accuracy vs log-perplexity and accuracy vs KL (a point per
// run, numbered, a colour and marker per method, the Pareto front as a step line), and accuracy and
// log-perplexity against λ (a line per method, mean over split seeds and seeds with min–max bars).
import Foundation
import Runs
import Sweeps
import Tuning

public struct SweepChart {
    /// File name in the report folder, e.g. "accuracy-vs-log-ppl.svg".
    public var file: String
    public var chart: SVGChart
}

extension SweepReport {
    public var charts: [SweepChart] {
        let many = tasks.count > 1
        return tasks.flatMap { task -> [SweepChart] in
            let suffix = many ? "-\(task)" : ""
            let title = { (text: String) in many ? "\(text) (\(task))" : text }
            return [
                SweepChart(file: "accuracy-vs-log-ppl\(suffix).svg",
                           chart: scatter(task: task, axis: .logPerplexity, xLabel: "log-perplexity of the prompt (lower reads better)",
                                          title: title("\(accuracy.title.capitalizedFirst) vs log-perplexity"), front: perplexityFront)),
                SweepChart(file: "accuracy-vs-lambda\(suffix).svg",
                           chart: againstLambda(task: task, value: accuracy.value, yLabel: accuracy.title,
                                                title: title("\(accuracy.title.capitalizedFirst) against λ"))),
                SweepChart(file: "log-ppl-vs-lambda\(suffix).svg",
                           chart: againstLambda(task: task, value: SweepMetric.logPerplexity.value, yLabel: "log-perplexity of the prompt",
                                                title: title("Log-perplexity against λ"))),
                SweepChart(file: "accuracy-vs-kl\(suffix).svg",
                           chart: scatter(task: task, axis: .kl, xLabel: "KL(soft ‖ projected) over the labels (lower is more faithful)",
                                          title: title("\(accuracy.title.capitalizedFirst) vs KL"), front: klFront)),
            ]
        }
    }

    /// What a point's tooltip says about its run.
    func describe(_ result: SweepResult) -> String {
        let (run, r) = (result.run, result.report)
        return "№\(run.index) \(run.method.rawValue) \(run.task) \(run.split) λ=\(SweepRun.format(run.scrutability)) γ=\(SweepRun.format(run.faithfulness)) n=\(run.promptLength) seed \(run.seed)\n"
            + "\(accuracy.title) \(Self.fixed(accuracy.value(r))), log-ppl \(Self.fixed(r.scrutability.logPerplexity)), KL \(Self.fixed(r.faithfulness.kl))\n"
            + Self.quoted(r.prompt.text)
    }

    /// Reference points beside the runs, one pair per template the runs used (zero-shot accuracy depends on it):
    /// the task's manual prompt at its own log-perplexity, and no prompt at all at 0 (nothing to read). Means over
    /// the runs' reports, which all measure the same test examples.
    func zeroShotReferences(_ members: [Int], firstStyle: Int) -> [SVGChart.Series] {
        let templates = members.map { results[$0].report.template }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        return templates.enumerated().flatMap { k, template -> [SVGChart.Series] in
            let reports = members.map { results[$0].report }.filter { $0.template == template }
            let mean = { (values: [Double]) in values.reduce(0, +) / Double(max(values.count, 1)) }
            let zero = reports.map(\.zeroShot)
            let suffix = templates.count > 1 ? ", \(Self.quoted(template))" : ""
            var series = [SVGChart.Series(name: "no prompt\(suffix)", style: firstStyle + 2 * k, points: [
                SVGChart.Point(x: 0, y: mean(zero.map(\.accuracyEmpty)), tooltip: "the template with no prompt\(suffix)", isReference: true)])]
            let perplexities = zero.compactMap(\.manualLogPerplexity)
            let manualAccuracies = zero.compactMap(\.accuracyManual)
            if !perplexities.isEmpty, !manualAccuracies.isEmpty, let manual = zero.first?.manualPrompt ?? nil {
                series.append(SVGChart.Series(name: "manual prompt\(suffix)", style: firstStyle + 2 * k + 1, points: [
                    SVGChart.Point(x: mean(perplexities), y: mean(manualAccuracies), tooltip: "manual prompt \(Self.quoted(manual))\(suffix)", isReference: true)]))
            }
            return series
        }
    }

    func scatter(task: String, axis: SweepMetric, xLabel: String, title: String, front: [Int]) -> SVGChart {
        let methods = plan.configuration.methods
        let members = results.indices.filter { results[$0].run.task == task }
        let onFront = Set(front)
        let series = methods.enumerated().compactMap { style, method -> SVGChart.Series? in
            let points = members.filter { results[$0].run.method == method }.map { i -> SVGChart.Point in
                let r = results[i].report
                return SVGChart.Point(x: axis.value(r) ?? .nan, y: accuracy.value(r) ?? .nan, label: "\(results[i].run.index)",
                                      tooltip: describe(results[i]), id: results[i].run.id, highlighted: onFront.contains(i))
            }
            return points.isEmpty ? nil : SVGChart.Series(name: method.rawValue, style: style, points: points)
        }
        let references = axis.key == SweepMetric.logPerplexity.key ? zeroShotReferences(members, firstStyle: methods.count) : []
        var chart = SVGChart(title: title, xLabel: xLabel, yLabel: accuracy.title, series: series + references)
        let frontPoints = front.filter { results[$0].run.task == task }
            .map { (x: axis.value(results[$0].report) ?? .nan, y: accuracy.value(results[$0].report) ?? .nan) }
        chart.front = ParetoFront.staircase(frontPoints, x: .minimize, y: .maximize)
        return chart
    }

    /// One line per method (and per γ, prompt length when those vary) over the λ values, as categories.
    func againstLambda(task: String, value: @escaping (RunReport) -> Double?, yLabel: String, title: String) -> SVGChart {
        let config = plan.configuration
        let lambdas = config.scrutability.sorted()
        let taskGroups = groups.filter { $0.key.task == task }
        var lines: [SVGChart.Series] = []
        for method in config.methods {
            for gamma in config.faithfulness {
                for length in config.promptLengths {
                    let points = lambdas.enumerated().compactMap { position, lambda -> SVGChart.Point? in
                        guard let group = taskGroups.first(where: {
                            $0.key.method == method && $0.key.scrutability == lambda && $0.key.faithfulness == gamma && $0.key.promptLength == length
                        }), let s = group.statistics(value) else { return nil }
                        let bar = s.count > 1 ? s.min...s.max : nil
                        return SVGChart.Point(x: Double(position), y: s.mean, range: bar,
                                              tooltip: "\(method.rawValue) λ=\(SweepRun.format(lambda)) γ=\(SweepRun.format(gamma)) n=\(length): mean \(Self.fixed(s.mean)), min \(Self.fixed(s.min)), max \(Self.fixed(s.max)) over \(s.count) run\(s.count == 1 ? "" : "s")")
                    }
                    guard !points.isEmpty else { continue }
                    var name = method.rawValue
                    if config.faithfulness.count > 1 { name += " γ=\(SweepRun.format(gamma))" }
                    if config.promptLengths.count > 1 { name += " n=\(length)" }
                    lines.append(SVGChart.Series(name: name, style: lines.count, points: points, connected: true))
                }
            }
        }
        var chart = SVGChart(title: title, xLabel: "λ (weight of the scrutability term)", yLabel: yLabel, series: lines)
        chart.xAxis = .categories(lambdas.map { SweepRun.format($0) })
        return chart
    }
}

extension String {
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
