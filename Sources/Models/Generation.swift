// Text generation with a KV-cached decoder: feed the prompt once, then one token at a time.

public struct GenerationOptions: Sendable {
    public var maxTokens: Int
    public var sampling: SamplingOptions
    /// Generation stops after emitting any of these (typically end-of-text).
    public var stopTokens: Set<Int32>

    public init(maxTokens: Int, sampling: SamplingOptions = .greedy, stopTokens: Set<Int32> = []) {
        self.maxTokens = maxTokens; self.sampling = sampling; self.stopTokens = stopTokens
    }
}

extension CausalLM {
    /// Continues `prompt`; calls `onToken` with each new token as it is chosen and returns them all.
    /// Stops at a stop token, after maxTokens, or when the context is full.
    @discardableResult
    public func generate(prompt: [Int32], options: GenerationOptions, onToken: (Int32) -> Void = { _ in }) throws -> [Int32] {
        guard !prompt.isEmpty else { throw ModelError.emptyBatch }
        let limit = contextLength ?? (prompt.count + options.maxTokens)
        if prompt.count > limit { throw ModelError.sequenceTooLong(length: prompt.count, limit: limit) }
        let decoder = makeDecoder(capacity: min(limit, prompt.count + options.maxTokens))
        var sampler = Sampler(options.sampling)
        var logits = try decoder.append(prompt)
        var produced: [Int32] = []
        while produced.count < options.maxTokens {
            let next = sampler.next(from: logits)
            produced.append(next)
            onToken(next)
            if options.stopTokens.contains(next) || decoder.position >= decoder.capacity { break }
            logits = try decoder.append([next])
        }
        return produced
    }
}
