// The human-readable summary of a report.
import Foundation
import Reports
import Runs
import Sweeps
import Tasks

enum ReportText {
    static func summary(_ r: RunReport) -> String {
        let pct = { (x: Double) in String(format: "%.1f%%", 100 * x) }
        var lines = [
            "\(r.method) prompt on \(r.task) \(r.split) (\(r.model)), \(r.test.examples) test examples",
            "  prompt:      \(String(reflecting: r.prompt.text))",
            "  tokens:      \(r.prompt.tokens.map { String(reflecting: $0) }.joined(separator: " "))",
            "  accuracy:    " + [r.test.accuracy.map { "soft \(pct($0))" }, "projected \(pct(r.test.accuracyProjected))",
                                 "text \(pct(r.test.accuracyText))"].compactMap { $0 }.joined(separator: ", "),
            "  zero-shot:   no prompt \(pct(r.zeroShot.accuracyEmpty)), "
                + (r.zeroShot.manualPrompt.map { "manual \(String(reflecting: $0)) \(r.zeroShot.accuracyManual.map(pct) ?? "?")" } ?? "no manual prompt (the task gives none)"),
        ]
        if let predicts = predictionRates(r) { lines.append("  predicts:    " + predicts) }
        lines += [
            String(format: "  faithful:    KL %.4f, agreement %@%@, accuracy gap %+.1f points, cosine to nearest %.3f",
                   r.faithfulness.kl, pct(r.faithfulness.agreement),
                   r.faithfulness.agreementEmpty.map { " (soft with no prompt \(pct($0)))" } ?? "",
                   100 * r.faithfulness.accuracyGap, r.faithfulness.cosineToNearest),
            String(format: "  readable:    log-perplexity %.2f, distinct %.2f, whole words %.2f, odd tokens %d",
                   r.scrutability.logPerplexity, r.scrutability.distinctRatio, r.scrutability.wordRatio, r.scrutability.oddTokens),
        ]
        if r.steps > 0 {
            lines.append(String(format: "  time:        %.0f s tuning (%.2f steps/s), %.0f s evaluating", r.timing.seconds,
                                r.timing.stepsPerSecond, r.timing.evaluationSeconds))
        }
        return lines.joined(separator: "\n")
    }

    /// Each variant's share of predictions per class, e.g. "(terrible/great) soft 50/50%, projected 100/0%, …":
    /// a prompt that answers one class for everything shows 100 there. Nil for reports older than the rates.
    static func predictionRates(_ r: RunReport) -> String? {
        guard let rates = r.test.predictionRates else { return nil }
        let shares = { (x: [Double]) in x.map { String(format: "%.0f", 100 * $0) }.joined(separator: "/") + "%" }
        let variants: [(String, [Double]?)] = [
            ("soft", rates.soft), ("projected", rates.projected), ("text", rates.text),
            ("no prompt", r.zeroShot.predictionRatesEmpty), ("manual", r.zeroShot.predictionRatesManual), ("true labels", r.test.labelRates),
        ]
        let classes = r.verbalizers.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "/")
        return "(\(classes)) " + variants.compactMap { name, x in x.map { "\(name) \(shares($0))" } }.joined(separator: ", ")
    }
}
