// The human-readable summary of a report.
import Evaluation
import Foundation

enum ReportText {
    static func summary(_ r: RunReport) -> String {
        let pct = { (x: Double) in String(format: "%.1f%%", 100 * x) }
        var lines = [
            "\(r.method) prompt on \(r.task) \(r.split) (\(r.model)), \(r.test.examples) test examples",
            "  prompt:      \(String(reflecting: r.prompt.text))",
            "  tokens:      \(r.prompt.tokens.map { String(reflecting: $0) }.joined(separator: " "))",
            "  accuracy:    " + [r.test.accuracy.map { "soft \(pct($0))" }, "projected \(pct(r.test.accuracyProjected))",
                                 "text \(pct(r.test.accuracyText))"].compactMap { $0 }.joined(separator: ", "),
            "  zero-shot:   no prompt \(pct(r.zeroShot.accuracyEmpty)), manual \(String(reflecting: r.zeroShot.manualPrompt)) \(pct(r.zeroShot.accuracyManual))",
            String(format: "  faithful:    KL %.4f, agreement %@, accuracy gap %+.1f points, cosine to nearest %.3f",
                   r.faithfulness.kl, pct(r.faithfulness.agreement), 100 * r.faithfulness.accuracyGap, r.faithfulness.cosineToNearest),
            String(format: "  readable:    log-perplexity %.2f, distinct %.2f, whole words %.2f, odd tokens %d",
                   r.scrutability.logPerplexity, r.scrutability.distinctRatio, r.scrutability.wordRatio, r.scrutability.oddTokens),
        ]
        if r.steps > 0 {
            lines.append(String(format: "  time:        %.0f s tuning (%.2f steps/s), %.0f s evaluating", r.timing.seconds,
                                r.timing.stepsPerSecond, r.timing.evaluationSeconds))
        }
        return lines.joined(separator: "\n")
    }
}
