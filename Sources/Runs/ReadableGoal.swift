// The bar a prompt must clear to count as readable in Legible's reports: what a person could paste into a paper.
// Log-perplexity at most 7 nats per token (the manual prompt "Overall, the movie was" is at 4.35 under Gemma 3
// 270M; tuned PEZ prompts sit at 14–19), at least 60% whole words, at least 70% distinct tokens, and no odd tokens.
// The goal a user states adds accuracy: a readable prompt that, typed as text, beats the better of the two zero-shot
// baselines (no prompt, the task's manual prompt) by at least 8 points.
import Tasks

public struct ReadableGoal: Sendable, Equatable {
    public var maxLogPerplexity = 7.0
    public var minWordRatio = 0.6
    public var minDistinctRatio = 0.7
    public var maxOddTokens = 0
    /// Test accuracy as text over the best zero-shot baseline, in points, that the goal asks for.
    public var minGainPoints = 8.0

    public init() {}

    /// The better of the run's zero-shot accuracies: no prompt, and the manual prompt when the task has one.
    public static func bestZeroShot(_ report: RunReport) -> Double {
        max(report.zeroShot.accuracyEmpty, report.zeroShot.accuracyManual ?? 0)
    }

    /// Test accuracy with the prompt typed as text minus the best zero-shot accuracy (a fraction, not points).
    public static func gainAsText(_ report: RunReport) -> Double {
        report.test.accuracyText - bestZeroShot(report)
    }

    public func isReadable(_ report: RunReport) -> Bool { misses(report.scrutability).isEmpty }

    /// Readable, and at least `minGainPoints` above the best zero-shot baseline as typed text.
    public func isMet(_ report: RunReport) -> Bool {
        // Compared in tenths of a point, as reports print them, so a gain shown as +8.0 meets a bar of 8.
        isReadable(report) && (1000 * Self.gainAsText(report)).rounded() >= (10 * minGainPoints).rounded()
    }

    /// Where a run stands against the bar and the goal.
    public enum Verdict: Sendable, Equatable { case notReadable, readable, met }

    public func verdict(_ report: RunReport) -> Verdict {
        isMet(report) ? .met : isReadable(report) ? .readable : .notReadable
    }

    /// The bar in words, from the thresholds themselves.
    public var barDescription: String {
        "log-perplexity ≤ \(Self.number(maxLogPerplexity)), ≥ \(Int(100 * minWordRatio))% whole words, "
            + "≥ \(Int(100 * minDistinctRatio))% distinct tokens, " + (maxOddTokens == 0 ? "no odd tokens" : "at most \(maxOddTokens) odd tokens")
    }

    /// The goal in words: the bar plus the accuracy it asks for.
    public var goalDescription: String {
        "readable and at least \(Self.number(minGainPoints)) points above the best zero-shot baseline as typed text"
    }

    private static func number(_ x: Double) -> String { x == x.rounded() ? "\(Int(x))" : "\(x)" }

    /// The criteria the report's prompt misses, as short phrases; empty when it is readable.
    public func misses(_ s: RunReport.Scrutability) -> [String] {
        var missed: [String] = []
        if s.logPerplexity > maxLogPerplexity { missed.append("log-perplexity above \(Int(maxLogPerplexity))") }
        if s.wordRatio < minWordRatio { missed.append("under \(Int(100 * minWordRatio))% whole words") }
        if s.distinctRatio < minDistinctRatio { missed.append("under \(Int(100 * minDistinctRatio))% distinct tokens") }
        if s.oddTokens > maxOddTokens { missed.append("\(s.oddTokens) odd token\(s.oddTokens == 1 ? "" : "s")") }
        return missed
    }
}
