// Builds the packed input embeddings of a batch of examples with a prompt spliced into each, and folds the
// input gradient back onto the prompt. Dimensions: N packed tokens, n prompt length, C channels.
import Kernels
import Models

struct PromptedBatch {
    private(set) var inputs = FloatBuffer(count: 0)  // (N, C), grown as needed
    private(set) var batch = RaggedBatch(lengths: [1])
    /// Packed row where each sequence's prompt begins.
    private(set) var promptStarts: [Int] = []

    /// Fills `inputs` with embed(prefix) | prompt | embed(suffix) | embed(continuation) for each example and, within
    /// it, each continuation (label-word tokens; by default one empty continuation, the example alone).
    ///
    /// With `sharingStart`, when every sequence begins with the same prefix and the prompt (a prompt-first template)
    /// and has a suffix after it, prefix | prompt is stored once as the batch's shared start and each sequence holds
    /// only suffix | continuation: the start's rows run once per pass instead of once per sequence.
    mutating func assemble(_ examples: ArraySlice<EncodedExample>, prompt: PromptEmbeddings, model: any CausalLM,
                           continuations: [[Int32]] = [[]], sharingStart: Bool = false) throws {
        let n = prompt.length, C = model.width
        let first = examples.first!
        let shares = sharingStart && n > 0 && examples.count * continuations.count > 1
            && examples.allSatisfy { $0.prefix == first.prefix && !$0.suffix.isEmpty }
        let start = shares ? first.prefix.count + n : 0
        batch = RaggedBatch(lengths: examples.flatMap { example in
            continuations.map { example.length(promptLength: n) - start + $0.count }
        }, sharedStart: start)
        if inputs.count < batch.tokenCount * C { inputs = FloatBuffer(count: batch.tokenCount * C) }
        promptStarts = []
        var row = 0
        func embedPrefixAndPrompt(_ prefix: [Int32]) throws {
            if !prefix.isEmpty { try model.embed(prefix, into: inputs.pointer + row * C) }
            row += prefix.count
            promptStarts.append(row)
            if n > 0 {
                prompt.values.withUnsafeBufferPointer { (inputs.pointer + row * C).update(from: $0.baseAddress!, count: n * C) }
            }
            row += n
        }
        if shares { try embedPrefixAndPrompt(first.prefix) }
        for example in examples {
            for continuation in continuations {
                if !shares { try embedPrefixAndPrompt(example.prefix) }
                let after = example.suffix + continuation
                if !after.isEmpty { try model.embed(after, into: inputs.pointer + row * C) }
                row += after.count
            }
        }
    }

    /// Σ over sequences of d(loss)/d(inputs) at the prompt rows: the gradient for the shared prompt (n, C).
    func promptGradient(from dInputs: UnsafePointer<Float>, promptLength n: Int, width C: Int, into gradient: inout [Float]) {
        gradient.withUnsafeMutableBufferPointer { g in
            for start in promptStarts {
                addInPlace(g.baseAddress!, dInputs + start * C, count: n * C)
            }
        }
    }
}
