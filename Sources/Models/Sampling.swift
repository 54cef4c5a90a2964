// Next-token choice: greedy, or sampling with temperature, top-k and top-p (nucleus, Holtzman et al. 2020),
// from a seeded generator so a run can be repeated.
import Kernels

public struct SamplingOptions: Sendable {
    /// 0 picks the most likely token (greedy).
    public var temperature: Float = 1
    /// Keep only the k most likely tokens; nil keeps all.
    public var topK: Int?
    /// Keep the smallest set of most likely tokens whose probability reaches p; nil keeps all.
    public var topP: Float?
    public var seed: UInt64 = 0

    public init(temperature: Float = 1, topK: Int? = nil, topP: Float? = nil, seed: UInt64 = 0) {
        self.temperature = temperature; self.topK = topK; self.topP = topP; self.seed = seed
    }

    public static let greedy = SamplingOptions(temperature: 0)
}

public struct Sampler {
    public let options: SamplingOptions
    private var rng: SeededGenerator

    public init(_ options: SamplingOptions) {
        self.options = options
        rng = SeededGenerator(seed: options.seed)
    }

    public mutating func next(from logits: UnsafeBufferPointer<Float>) -> Int32 {
        if options.temperature <= 0 || options.topK == 1 { return Int32(argmax(logits)) }
        // Candidates by falling logit, cut by top-k, then turned into probabilities at the temperature.
        var candidates = options.topK.map { topIndices(logits, k: $0) }
            ?? Array(0..<logits.count).sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        let top = logits[candidates[0]]
        var weights = candidates.map { Double(fastExp((logits[$0] - top) / options.temperature)) }
        let total = weights.reduce(0, +)
        weights = weights.map { $0 / total }
        if let p = options.topP, p < 1 {
            var cumulative = 0.0, keep = 0
            while keep < weights.count && (keep == 0 || cumulative < Double(p)) { cumulative += weights[keep]; keep += 1 }
            candidates.removeSubrange(keep...)
            weights.removeSubrange(keep...)
        }
        var u = Double(rng.nextUnit()) * weights.reduce(0, +)
        for (id, w) in zip(candidates, weights) {
            u -= w
            if u < 0 { return Int32(id) }
        }
        return Int32(candidates.last!)
    }
}

/// Indices of the k largest values, largest first (the earlier index first among equals). One pass that
/// mostly compares against the current k-th value: k is small next to the vocabulary.
public func topIndices(_ values: UnsafeBufferPointer<Float>, k: Int) -> [Int] {
    let k = min(k, values.count)
    guard k > 0 else { return [] }
    var top = (0..<k).sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
    var threshold = values[top[k - 1]]
    for i in k..<values.count where values[i] > threshold {
        var j = k - 1
        while j > 0 && values[top[j - 1]] < values[i] { top[j] = top[j - 1]; j -= 1 }
        top[j] = i
        threshold = values[top[k - 1]]
    }
    return top
}

public func argmax(_ values: UnsafeBufferPointer<Float>) -> Int {
    var best = 0
    for i in 1..<values.count where values[i] > values[best] { best = i }
    return best
}
