// The interface every language model in Legible offers: input embeddings in, logits out only where asked,
// and a backward to the input embeddings (frozen weights) or to the weights too (full).
import Kernels

/// Which logits to compute: rows of the packed batch, and optionally only some vocabulary rows.
public struct HeadRequest: Sendable {
    /// Packed row indices (see RaggedBatch) at which to apply the LM head.
    public var rows: [Int]
    /// Vocabulary ids whose logits are wanted, in this order; nil means the whole vocabulary.
    public var vocabulary: [Int32]?

    public init(rows: [Int], vocabulary: [Int32]? = nil) {
        self.rows = rows; self.vocabulary = vocabulary
    }

    /// The last real token of every example: what a classifier reads.
    public static func lastTokens(of batch: RaggedBatch, vocabulary: [Int32]? = nil) -> HeadRequest {
        HeadRequest(rows: batch.lastRows, vocabulary: vocabulary)
    }

    /// Every position of every example.
    public static func allTokens(of batch: RaggedBatch, vocabulary: [Int32]? = nil) -> HeadRequest {
        HeadRequest(rows: Array(0..<batch.tokenCount), vocabulary: vocabulary)
    }
}

public enum BackwardMode: Sendable {
    /// Gradients with respect to the input embeddings only; no weight-gradient GEMMs.
    case frozenWeights
    /// Input gradients plus weight gradients, accumulated into `gradients` (same layout as the parameters).
    case full
}

public enum ModelError: Error, CustomStringConvertible, Equatable {
    case sequenceTooLong(length: Int, limit: Int)
    case emptyBatch
    case tokenOutOfRange(id: Int32, vocabularySize: Int)
    case headRowOutOfRange(row: Int, tokenCount: Int)
    case backwardWithoutForward
    case cacheFull(needed: Int, capacity: Int)
    case precisionAlreadySet(String)

    public var description: String {
        switch self {
        case .sequenceTooLong(let length, let limit):
            return "a sequence of \(length) tokens exceeds the model's context of \(limit) positions"
        case .emptyBatch: return "the batch holds no tokens"
        case .tokenOutOfRange(let id, let size): return "token id \(id) is outside the vocabulary (0..<\(size))"
        case .headRowOutOfRange(let row, let count): return "LM head row \(row) is outside the batch's \(count) tokens"
        case .backwardWithoutForward: return "backward was called before a forward pass"
        case .cacheFull(let needed, let capacity): return "a key/value cache of \(capacity) tokens cannot take \(needed)"
        case .precisionAlreadySet(let precision):
            return "the weights are already rounded to \(precision); load the model again for another precision"
        }
    }
}

/// Logits for the rows of a HeadRequest: (R, Vsel), row-major, owned by the model until its next forward.
public struct Logits {
    public let pointer: UnsafePointer<Float>
    public let rows: Int
    public let columns: Int

    public init(pointer: UnsafePointer<Float>, rows: Int, columns: Int) {
        self.pointer = pointer; self.rows = rows; self.columns = columns
    }

    public func row(_ r: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: pointer + r * columns, count: columns)
    }
}

public protocol CausalLM: AnyObject {
    /// C: width of the input embeddings.
    var width: Int { get }
    /// V
    var vocabularySize: Int { get }
    /// Longest sequence the model accepts; nil when unbounded.
    var contextLength: Int? { get }
    var parameterCount: Int { get }
    /// Short description for reports: architecture and size.
    var summary: String { get }

    /// The token embedding matrix (V, C) as stored: what inputs are made of, and what prompts project onto.
    var tokenEmbeddings: UnsafePointer<Float> { get }
    /// The LM head (V, C): logits are final-normed hidden rows times its transpose. `tokenEmbeddings` itself when
    /// the model ties them.
    var headWeights: UnsafePointer<Float> { get }
    /// Input embeddings are token embedding rows times this (1 for GPT-2, √C for Gemma).
    var embeddingScale: Float { get }
    /// The frozen weights' matrix products, in the model's precision (Kernels/ReducedPrecision.swift).
    var products: FrozenProducts { get }

    /// Writes the input embeddings of `ids` into out (count, C): what the model itself uses for a token.
    func embed(_ ids: [Int32], into out: UnsafeMutablePointer<Float>) throws

    /// Runs the model on input embeddings (N, C), packed as described by `batch`, and returns logits at the
    /// requested rows. Buffers grow only when a batch is larger than any before.
    func forward(inputs: UnsafePointer<Float>, batch: RaggedBatch, head: HeadRequest) throws -> Logits

    /// The final-normed hidden rows (R, C) the LM head multiplied in the last forward(inputs:batch:head:), one per
    /// row of its head request, in that order: the logits are these rows times the head's transpose. For objectives that read them
    /// directly (FluencyScorer's continuous targets). Owned by the model and valid until its next such forward;
    /// backward and forward(continuing:) leave them alone. Meaningless before the first forward.
    var lastHeadInputs: UnsafePointer<Float> { get }

    /// From d(loss)/d(logits) for the last forward's head request (R, Vsel) and, when a loss also reads
    /// `lastHeadInputs` directly, d(loss)/d(lastHeadInputs) (R, C), returns d(loss)/d(inputs) (N, C).
    func backward(dLogits: UnsafePointer<Float>, dHeadInputs: UnsafePointer<Float>?, mode: BackwardMode) throws -> UnsafePointer<Float>

    /// An empty key/value cache for one sequence of up to `capacity` tokens (at most the model's context).
    func makeCache(capacity: Int) -> KeyValueCache

    /// Runs new tokens after cached ones: sequence s of `batch` (input embeddings packed in `inputs`, (N, C))
    /// continues `caches[s]`. With `extend`, each cache keeps the new keys and values (decoding); without, the
    /// caches are left as they were, so one cached prefix serves any number of continuations. Returns the
    /// final-normed hidden states (N, C), owned by the model until its next continuation.
    func forward(inputs: UnsafePointer<Float>, batch: RaggedBatch, continuing caches: [KeyValueCache], extend: Bool) throws -> UnsafePointer<Float>
}

public extension CausalLM {
    /// Backward from the logits alone: what every loss that reads only the logits uses.
    func backward(dLogits: UnsafePointer<Float>, mode: BackwardMode) throws -> UnsafePointer<Float> {
        try backward(dLogits: dLogits, dHeadInputs: nil, mode: mode)
    }

    /// Convenience: forward from token ids, one array per example.
    func forward(ids: [[Int32]], head: (RaggedBatch) -> HeadRequest) throws -> Logits {
        let batch = try Self.batch(for: ids)
        let flat = ids.flatMap { $0 }
        let inputs = FloatBuffer(count: flat.count * width)
        try embed(flat, into: inputs.pointer)
        return try forward(inputs: inputs.pointer, batch: batch, head: head(batch))
    }

    /// A KV-cached decoder for generation, holding up to `capacity` tokens.
    func makeDecoder(capacity: Int) -> any TokenDecoder { CachedDecoder(model: self, cache: makeCache(capacity: capacity)) }

    /// Caches holding each of `prefixes`, computed in one batch, with room for `room` more tokens each: the
    /// shared starts of later continuations.
    /// An empty prefix gives an empty cache.
    func cachePrefixes(_ prefixes: [[Int32]], room: Int = 0) throws -> [KeyValueCache] {
        let caches = prefixes.map { makeCache(capacity: $0.count + room) }
        let filled = prefixes.indices.filter { !prefixes[$0].isEmpty }
        guard !filled.isEmpty else { return caches }
        let batch = RaggedBatch(lengths: filled.map { prefixes[$0].count })
        let inputs = FloatBuffer(count: batch.tokenCount * width)
        try embed(filled.flatMap { prefixes[$0] }, into: inputs.pointer)
        _ = try forward(inputs: inputs.pointer, batch: batch, continuing: filled.map { caches[$0] }, extend: true)
        return caches
    }

    /// Whether the LM head is the token embedding matrix.
    var isHeadTied: Bool { headWeights == tokenEmbeddings }

    /// logits (R, S) = hidden · Wᵀ for final-normed hidden rows (R, C) and the LM head W, over `vocabulary`
    /// (all V when nil).
    func headLogits(hidden: UnsafePointer<Float>, rows R: Int, vocabulary: [Int32]? = nil, into out: UnsafeMutablePointer<Float>) {
        let C = width
        guard let vocabulary else {
            products.linearForward(out: out, inp: hidden, weight: headWeights, bias: nil, layout: .outputMajor, N: R, I: C, O: vocabularySize)
            return
        }
        let rows = products.input(hidden, count: R * C)
        for r in 0..<R {
            for (j, id) in vocabulary.enumerated() {
                out[r * vocabulary.count + j] = dot(rows + r * C, headWeights + Int(id) * C, count: C)
            }
        }
    }

    static func batch(for ids: [[Int32]]) throws -> RaggedBatch {
        guard !ids.isEmpty, ids.allSatisfy({ !$0.isEmpty }) else { throw ModelError.emptyBatch }
        return RaggedBatch(lengths: ids.map(\.count))
    }
}

/// Incremental decoding with a key/value cache: feed tokens, get the next-token logits (V).
public protocol TokenDecoder: AnyObject {
    /// Tokens held in the cache so far.
    var position: Int { get }
    var capacity: Int { get }
    /// Appends tokens and returns the logits after the last one.
    func append(_ ids: [Int32]) throws -> UnsafeBufferPointer<Float>
    func reset()
}

/// TokenDecoder for any CausalLM: one sequence continuing its own cache, the full head on its last token.
final class CachedDecoder: TokenDecoder {
    let model: any CausalLM
    private let cache: KeyValueCache
    private var inputs = GrowableBuffer()  // (n, C)
    private let logits: FloatBuffer        // (V)
    var position: Int { cache.position }
    var capacity: Int { cache.capacity }

    init(model: any CausalLM, cache: KeyValueCache) {
        self.model = model; self.cache = cache
        logits = FloatBuffer(count: model.vocabularySize)
    }

    func reset() { cache.reset() }

    func append(_ ids: [Int32]) throws -> UnsafeBufferPointer<Float> {
        guard !ids.isEmpty else { throw ModelError.emptyBatch }
        let C = model.width
        inputs.reserve(ids.count * C)
        try model.embed(ids, into: inputs.pointer)
        let hidden = try model.forward(inputs: inputs.pointer, batch: RaggedBatch(lengths: [ids.count]), continuing: [cache], extend: true)
        model.headLogits(hidden: hidden + (ids.count - 1) * C, rows: 1, into: logits.pointer)
        return UnsafeBufferPointer(start: logits.pointer, count: model.vocabularySize)
    }
}
