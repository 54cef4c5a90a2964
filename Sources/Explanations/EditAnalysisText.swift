// An edit analysis as a table per family, and per task and method when a sweep spans several.
import Foundation

public enum EditAnalysisText {
    public static func render(_ a: EditAnalysis) -> String {
        var lines = ["\(a.edits) edits from \(a.runs) run\(a.runs == 1 ? "" : "s") (observational: the search chose these edits)", ""]
        lines += table(a.families)
        for group in a.groups {
            lines += ["", "\(group.task), \(group.method): \(group.edits) edits"] + table(group.families)
        }
        return lines.joined(separator: "\n")
    }

    static func table(_ families: [EditFamilySummary]) -> [String] {
        ["family                       edits   Δ task loss   Δ log-ppl (measured)   raised dev accuracy"] + families.map { f in
            let raised = f.raisedDevAccuracy.map { String(format: "%5.1f%% of %d", 100 * $0, f.evaluated) } ?? "— (none evaluated)"
            let perplexity = f.meanDeltaLogPerplexity.map { String(format: "%+9.4f (%d)", $0, f.logPerplexityMeasured) } ?? "— (λ = 0)"
            return f.name.padding(toLength: 27, withPad: " ", startingAt: 0)
                + String(format: "  %5d   %+11.4f   ", f.count, f.meanDeltaTaskLoss) + perplexity.padding(toLength: 22, withPad: " ", startingAt: 0) + raised
        }
    }
}
