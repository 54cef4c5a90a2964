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
        guard let k = options.topK else { return Int32(withoutTopK(logits)) }
        // Candidates by falling logit, cut by top-k, then turned into probabilities at the temperature.
        var candidates = topIndices(logits, k: k)
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

    /// Sampling over the whole vocabulary (262,144 words for Gemma) without sorting it: one pass for the largest
    /// logit and the total weight; then, with top-p, the most likely words in falling order only as far as the
    /// nucleus reaches (the k largest found in one pass, k = 256, then 2,048, then all), else a walk
    /// through the vocabulary in index order to the drawn point.
    private mutating func withoutTopK(_ logits: UnsafeBufferPointer<Float>) -> Int {
        let top = logits[argmax(logits)], T = options.temperature
        let weight = { (i: Int) in Double(fastExp((logits[i] - top) / T)) }
        var total = 0.0
        for i in logits.indices { total += weight(i) }
        if let p = options.topP, p < 1 {
            var k = min(256, logits.count)
            while true {
                let candidates = topIndices(logits, k: k)
                var cumulative = 0.0, keep = 0
                while keep < candidates.count && (keep == 0 || cumulative < Double(p) * total) { cumulative += weight(candidates[keep]); keep += 1 }
                if cumulative >= Double(p) * total || k == logits.count {
                    var u = Double(rng.nextUnit()) * cumulative
                    for id in candidates[..<keep] {
                        u -= weight(id)
                        if u < 0 { return id }
                    }
                    return candidates[keep - 1]
                }
                // Past 2,048 the one-pass selection's insertions cost more than sorting everything.
                k = k < 2048 ? min(k * 8, logits.count) : logits.count
            }
        }
        var u = Double(rng.nextUnit()) * total
        for i in logits.indices {
            u -= weight(i)
            if u < 0 { return i }
        }
        return logits.count - 1
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
