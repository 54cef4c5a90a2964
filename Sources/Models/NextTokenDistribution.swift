// Probabilities of the next token from one row of logits, computed in Double for the report.
import Foundation

public struct NextTokenDistribution {
    public struct Entry: Equatable {
        public let id: Int32
        public let probability: Double
        public let logProbability: Double
    }

    private let logits: [Float]
    private let logSumExp: Double

    public init(logits: UnsafeBufferPointer<Float>) {
        self.logits = Array(logits)
        let m = Double(logits.max() ?? 0)
        logSumExp = m + Foundation.log(logits.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) })
    }

    /// The k most likely tokens, most likely first (ties broken by the smaller id).
    public func top(_ k: Int) -> [Entry] {
        logits.withUnsafeBufferPointer { topIndices($0, k: k) }
            .map { i in
                let logProbability = Double(logits[i]) - logSumExp
                return Entry(id: Int32(i), probability: Foundation.exp(logProbability), logProbability: logProbability)
            }
    }
}
