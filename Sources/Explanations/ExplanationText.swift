// An explanation as a person reads it in a terminal: the headline numbers, one row per token, the classes, the
// flipped examples and the guidelines.
import Foundation

public enum ExplanationText {
    public static func render(_ e: PromptExplanation) -> String {
        func pct(_ x: Double) -> String { String(format: "%5.1f%%", 100 * x) }
        func num(_ x: Double) -> String { String(format: "%+.3f", x) }
        var lines = [
            "prompt \(String(reflecting: e.text)) on \(e.task) \(e.split), \(e.examples) test examples, template \(String(reflecting: e.template))",
            "accuracy \(pct(e.accuracy)) (no prompt \(pct(e.accuracyEmpty))), mean label margin \(num(e.margin)) (no prompt \(num(e.marginEmpty)))",
            "",
            "token                 without          neutral                 saliency  nearest label word (cosine)",
        ]
        for t in e.tokens {
            let token = String(reflecting: t.text).padding(toLength: 20, withPad: " ", startingAt: 0)
            let neutral = "\(String(reflecting: t.neutral)) \(pct(t.accuracyNeutral))".padding(toLength: 22, withPad: " ", startingAt: 0)
            lines.append("\(token)  \(pct(t.accuracyWithout)) \(num(t.marginWithout))  \(neutral)  \(String(format: "%+8.3f", t.saliency))  "
                         + "\(String(reflecting: t.nearestLabelWord)) (\(String(format: "%.2f", t.labelAffinity.max() ?? 0)))")
        }
        lines += ["", "class                 predicted with / without the prompt"]
        for c in e.classes {
            lines.append("\(String(reflecting: c.label).padding(toLength: 20, withPad: " ", startingAt: 0))  \(pct(c.withPrompt)) / \(pct(c.withoutPrompt))")
        }
        for (title, flips) in [("fixed by the prompt (wrong without it)", e.fixed), ("broken by the prompt (right without it)", e.broken)] where !flips.isEmpty {
            lines += ["", title + ":"]
            lines += flips.map { "  [\($0.label); without: \($0.predictedWithout), with: \($0.predictedWith)] \($0.text)" }
        }
        if let t = e.transfer {
            lines += ["", "as text: \(pct(t.accuracyTextHere)) here; on \(t.model) \(pct(t.accuracyText)) (no prompt \(pct(t.accuracyEmpty)))"]
        }
        lines += ["", "guidelines:"] + e.guidelines.map { "- " + $0 }
        return lines.joined(separator: "\n")
    }
}
