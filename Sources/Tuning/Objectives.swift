// The losses a prompt is tuned on, each with its gradient: the task's cross-entropy over the verbalizer words,
// scrutability (how fluent the projected prompt is to the model itself; PEZ's fluency term, Patel et al.'s
// scrutability; its gradient optionally through MuCoLa's continuous targets, Kumar et al. 2022), and
// faithfulness (how close the soft prompt stays to its readable projection).
import Foundation
import Kernels
import Models

/// Mean cross-entropy over the label words from their class scores (B, classes), log-softmaxed here: loss,
/// d(loss)/d(scores), and correct predictions.
func taskLoss(_ logits: Logits, labels: [Int], weight: Float = 1) -> (loss: Float, dLogits: [Float], correct: Int) {
    let (B, K) = (logits.rows, logits.columns)
    var dLogits = [Float](repeating: 0, count: B * K)
    var loss = 0.0, correct = 0
    for b in 0..<B {
        let row = logSoftmax(Array(logits.row(b)))
        loss -= Double(row[labels[b]])
        if PromptClassifier.predicted(row) == labels[b] { correct += 1 }
        for k in 0..<K { dLogits[b * K + k] = weight * (Foundation.exp(row[k]) - (k == labels[b] ? 1 : 0)) / Float(B) }
    }
    return (Float(loss / Double(B)) * weight, dLogits, correct)
}

/// KL(p ‖ q) per example between two rows of label log-probabilities, and its gradients with respect to the
/// logits that produced p and q.
func klDivergence(p: [Float], q: [Float]) -> (kl: Float, dP: [Float], dQ: [Float]) {
    let pp = p.map { Foundation.exp($0) }, qq = q.map { Foundation.exp($0) }
    let kl = zip(pp, zip(p, q)).reduce(Float(0)) { $0 + $1.0 * ($1.1.0 - $1.1.1) }
    let dP = (0..<p.count).map { pp[$0] * (p[$0] - q[$0] - kl) }
    let dQ = (0..<p.count).map { qq[$0] - pp[$0] }
    return (kl, dP, dQ)
}

/// Scrutability: the model's mean negative log-likelihood of a prompt's tokens, read left to right after a
/// beginning-of-sequence token. Its exponent is the prompt's perplexity.
public final class FluencyScorer {
    public let model: any CausalLM
    /// Gemma's <bos>; GPT-2 has none and conventionally starts from <|endoftext|>.
    public let start: Int32
    // Reused across calls: the head spans the whole vocabulary (262,144 columns for Gemma).
    private var inputs = FloatBuffer(count: 0)       // (n + 1, C)
    private var probabilities = FloatBuffer(count: 0)  // (n, V)
    private var dLogits = FloatBuffer(count: 0)        // (n, V); first the scored logits of the full form
    private var losses = FloatBuffer(count: 0)         // (n), then the per-row loss weights
    private var dHeadInputs = FloatBuffer(count: 0)    // (n, C)

    public init(model: any CausalLM, start: Int32) {
        self.model = model; self.start = start
    }

    /// Mean NLL of `targets` t when the model reads [start | prompt], in the chosen form. Row i of the head reads
    /// [start, p_0 … p_(i−1)]; ĥ_i (C) is its final-normed hidden state, s = model.embeddingScale, E the tied
    /// head (V, C). The `.full` form needs the head tied (PromptTuner refuses it otherwise).
    ///
    /// - `.context`: L = (1/n) Σ_i −log softmax(ĥ_i Eᵀ)[t_i]. The targets are ids, so the gradient reaches p_j
    ///   only through the contexts ĥ_i, i > j, that read it; the last prompt vector gets none.
    /// - `.full` (MuCoLa's continuous targets): L = (1/n) Σ_i −log softmax(ℓ̃_i)[t_i], where ℓ̃_i,v = ĥ_i · E_v for
    ///   v ≠ t_i and ℓ̃_i,t_i = ĥ_i · p_i / s: the prompt vector stands in for its token's output row (input
    ///   embeddings are rows × s). Besides the context path, d(L)/d(p_i) gains −(1 − p̃_i) · ĥ_i / (n · s),
    ///   p̃_i = softmax(ℓ̃_i)[t_i], which pulls p_i toward what the model expects at position i, the last
    ///   included. Where p_i = s · E_(t_i), as for PEZ's P′, ℓ̃_i is the head's own row of logits and the value is
    ///   `.context`'s, to rounding; off the token rows (a soft prompt) it is the NLL of the vectors themselves.
    ///
    /// Returns the chosen form's value; with `gradient`, adds weight · its exact gradient for the prompt (n, C).
    @discardableResult
    public func loss(prompt: PromptEmbeddings, targets: [Int32], weight: Float = 1, gradient: UnsafeMutablePointer<Float>? = nil,
                     form: FluencyGradient = .full) throws -> Float {
        let (n, C) = (prompt.length, prompt.width)
        precondition(targets.count == n, "one target per prompt position")
        guard n > 0 else { return 0 }
        if inputs.count < (n + 1) * C { inputs = FloatBuffer(count: (n + 1) * C) }
        try model.embed([start], into: inputs.pointer)
        prompt.values.withUnsafeBufferPointer { (inputs.pointer + C).update(from: $0.baseAddress!, count: n * C) }
        let batch = RaggedBatch(lengths: [n + 1])
        // Row i reads [start, p0 … p(i−1)] and predicts token i.
        let logits = try model.forward(inputs: inputs.pointer, batch: batch, head: HeadRequest(rows: Array(0..<n)))
        let V = logits.columns, s = model.embeddingScale
        if probabilities.count < n * V { probabilities = FloatBuffer(count: n * V); dLogits = FloatBuffer(count: n * V) }
        if losses.count < n { losses = FloatBuffer(count: n) }
        if dHeadInputs.count < n * C { dHeadInputs = FloatBuffer(count: n * C) }
        let hidden = model.lastHeadInputs  // (n, C) ĥ, untouched by the backward below
        var scored = logits.pointer
        if form == .full {
            // ℓ̃: the head's logits with each target's replaced by ĥ_i · p_i / s (in dLogits until the backward).
            dLogits.pointer.update(from: logits.pointer, count: n * V)
            prompt.values.withUnsafeBufferPointer { p in
                for i in 0..<n { dLogits.pointer[i * V + Int(targets[i])] = dot(hidden + i * C, p.baseAddress! + i * C, count: C) / s }
            }
            scored = UnsafePointer(dLogits.pointer)
        }
        targets.withUnsafeBufferPointer {
            crossEntropyForward(losses: losses.pointer, probs: probabilities.pointer, logits: scored, targets: $0.baseAddress!, R: n, V: V)
        }
        let mean = (0..<n).reduce(Float(0)) { $0 + losses[$1] } / Float(n)
        if let gradient {
            dLogits.pointer.update(repeating: 0, count: n * V)
            losses.pointer.update(repeating: weight / Float(n), count: n)
            targets.withUnsafeBufferPointer {
                crossEntropyBackward(dlogits: dLogits.pointer, probs: probabilities.pointer, targets: $0.baseAddress!, dlosses: losses.pointer, R: n, V: V)
            }
            var dHidden: UnsafePointer<Float>?
            if form == .full {
                // The target's logit is ĥ_i · p_i / s, not ĥ_i · E_(t_i): its derivative d reaches ĥ_i along p_i / s
                // (dHeadInputs, into the model's backward) and p_i along ĥ_i / s (the target term), and not the
                // head's row E_(t_i), so it leaves dLogits.
                prompt.values.withUnsafeBufferPointer { p in
                    for i in 0..<n {
                        let column = i * V + Int(targets[i])
                        let d = dLogits.pointer[column] / s  // weight · (p̃_i − 1) / (n · s)
                        dLogits.pointer[column] = 0
                        for k in 0..<C {
                            dHeadInputs.pointer[i * C + k] = d * p[i * C + k]
                            gradient[i * C + k] += d * hidden[i * C + k]
                        }
                    }
                }
                dHidden = UnsafePointer(dHeadInputs.pointer)
            }
            let dInputs = try model.backward(dLogits: dLogits.pointer, dHeadInputs: dHidden, mode: .frozenWeights)
            addInPlace(gradient, dInputs + C, count: n * C)
        }
        return mean
    }

    /// Log-perplexities of several prompts given as ids, in one batch: each prompt's mean NLL after the start token.
    public func logPerplexities(_ prompts: [[Int32]]) throws -> [Float] {
        guard !prompts.isEmpty, prompts.allSatisfy({ !$0.isEmpty }) else { return prompts.map { _ in 0 } }
        let sequences = prompts.map { [start] + $0 }
        let batch = RaggedBatch(lengths: sequences.map(\.count))
        // Row offset+i reads [start, p0 … p(i−1)] and predicts token i.
        let rows = zip(batch.offsets, prompts).flatMap { offset, prompt in (0..<prompt.count).map { offset + $0 } }
        let logits = try model.forward(ids: sequences) { _ in HeadRequest(rows: rows) }
        let (R, V) = (rows.count, logits.columns)
        if probabilities.count < R * V { probabilities = FloatBuffer(count: R * V); dLogits = FloatBuffer(count: R * V) }
        if losses.count < R { losses = FloatBuffer(count: R) }
        prompts.flatMap { $0 }.withUnsafeBufferPointer {
            crossEntropyForward(losses: losses.pointer, probs: probabilities.pointer, logits: logits.pointer, targets: $0.baseAddress!, R: R, V: V)
        }
        var row = 0
        return prompts.map { prompt in
            let total = (row..<(row + prompt.count)).reduce(0.0) { $0 + Double(losses[$1]) }
            row += prompt.count
            return Float(total / Double(prompt.count))
        }
    }

    /// Log-perplexity of token ids (a prompt's text re-tokenized): mean NLL after the start token.
    public func logPerplexity(of ids: [Int32]) throws -> Float {
        guard !ids.isEmpty else { return 0 }
        return try loss(prompt: model.promptEmbeddings(of: ids), targets: ids, form: .context)
    }
}

/// Faithfulness as a distance: mean over positions of ‖P_i − P′_i‖², and weight · its gradient for P.
func projectionDistance(_ prompt: PromptEmbeddings, _ projected: PromptEmbeddings, weight: Float, gradient: inout [Float]) -> Float {
    let n = Float(max(prompt.length, 1))
    var total = 0.0
    for i in prompt.values.indices {
        let d = prompt.values[i] - projected.values[i]
        total += Double(d * d)
        gradient[i] += weight * 2 * d / n
    }
    return Float(total) / n
}
