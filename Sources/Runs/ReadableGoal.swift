// The bar a prompt must clear to count as readable in Legible's reports: what a person could paste into a paper.
// Log-perplexity at most 7 nats per token (the manual prompt "Overall, the movie was" is at 4.35 under Gemma 3
// 270M; tuned PEZ prompts sit at 14–19), at least 60% whole words, at least 70% distinct tokens, and no odd tokens.
import Tasks

public struct ReadableGoal: Sendable, Equatable {
    public var maxLogPerplexity = 7.0
    public var minWordRatio = 0.6
    public var minDistinctRatio = 0.7
    public var maxOddTokens = 0

    public init() {}

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
