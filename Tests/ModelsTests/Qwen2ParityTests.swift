// Qwen2.5-Coder 0.5B Instruct (qwen2: QKV biases, an untied Q8_0 head, 14 query / 2 key-value heads) against
// transformers on the same GGUF (fixtures from scripts/make_qwen2_reference.py, which loads it in float32).
// Needs the model: $LEGIBLE_QWEN_GGUF, else models/qwen2.5-coder-0.5b/…gguf (scripts/fetch-model
// qwen2.5-coder-0.5b, which scripts/test runs). Skipped without it, except under CI (CI set), where it fails.
//
// Tolerances. Both sides run float32 on the same dequantized weights; summation order alone differs. Qwen's
// residual stream is far smaller than Gemma's (no large norm gains), and the logits reach ~20: 1e-3 absolute on
// logits, as for Gemma, and 1e-3 relative on input gradients.
import Foundation
import Testing
import Kernels
import Models
import TestSupport
import WeightFiles

enum QwenModel {
    static let path: String? = {
        if let path = ProcessInfo.processInfo.environment["LEGIBLE_QWEN_GGUF"], !path.isEmpty { return path }
        let local = fixtures.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("models/qwen2.5-coder-0.5b/qwen2.5-coder-0.5b-instruct.gguf").path
        return FileManager.default.fileExists(atPath: local) ? local : nil
    }()
    static var isRequired: Bool { !(ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty }

    /// Loaded once for every test in the process: dequantizing 630M weights is the slow part.
    static let shared = Result { () throws -> DecoderModel in
        guard let path else { throw ModelLoadError.missingFile("models/qwen2.5-coder-0.5b", hint: "scripts/fetch-model qwen2.5-coder-0.5b") }
        return try DecoderModel.load(gguf: URL(fileURLWithPath: path))
    }
}

@Suite(.serialized, .enabled(if: QwenModel.path != nil || QwenModel.isRequired,
                             "needs the Qwen2.5-Coder 0.5B GGUF (scripts/fetch-model qwen2.5-coder-0.5b)"))
struct Qwen2ParityTests {
    let reference: SafetensorsFile
    let model: DecoderModel

    init() throws {
        reference = try SafetensorsFile(path: fixtures.appendingPathComponent("qwen2/reference.safetensors").path)
        model = try QwenModel.shared.get()
    }

    func ints(_ name: String) throws -> [Int32] { try reference.floats(name).map { Int32($0) } }

    @Test func configurationMatchesTransformers() {
        let c = model.config
        #expect(c.architecture == .qwen2 && c.layers == 24 && c.width == 896 && c.heads == 14 && c.kvHeads == 2 && c.headSize == 64)
        #expect(c.feedForwardWidth == 4864 && c.vocabularySize == 151_936 && c.globalRopeBase == 1_000_000)
        #expect(c.attentionBias && !c.tiedHead && c.slidingWindow == nil && c.feedForward == .swiglu)
        #expect(model.parameterCount == 630_167_424)
    }

    @Test(arguments: 0..<4)
    func lastPositionLogits(prompt: Int) throws {
        let ids = try ints("prompt\(prompt).ids")
        let logits = try model.forward(ids: [ids]) { .lastTokens(of: $0) }
        let row = Array(logits.row(0))
        let sample = try ints("sample_ids").map { row[Int($0)] }
        #expect(maxAbsDifference(sample, try reference.floats("prompt\(prompt).sample_logits")) < 1e-3)
        let topIds = try ints("prompt\(prompt).top_ids"), topLogits = try reference.floats("prompt\(prompt).top_logits")
        #expect(maxAbsDifference(topIds.map { row[Int($0)] }, topLogits) < 1e-3)
        let m = Double(row.max()!)
        let logSumExp = m + Foundation.log(row.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) })
        #expect(abs(logSumExp - Double(try reference.floats("prompt\(prompt).logsumexp")[0])) < 1e-3)
    }

    @Test func everyPositionOfPromptZeroAndItsHeadInputs() throws {
        let ids = try ints("prompt0.ids")
        let logits = try model.forward(ids: [ids]) { .allTokens(of: $0) }
        let sampleIds = try ints("sample_ids")
        let ours = (0..<ids.count).flatMap { r in sampleIds.map { logits.row(r)[Int($0)] } }
        #expect(maxAbsDifference(ours, try reference.floats("prompt0.all_sample_logits")) < 1e-3)
        let hidden = Array(UnsafeBufferPointer(start: model.lastHeadInputs, count: ids.count * model.width))
        #expect(relativeError(hidden, try reference.floats("prompt0.final_hidden")) < 1e-4)
    }

    @Test func threeHundredTokens() throws {
        let ids = try ints("long.ids"), positions = try ints("long.positions").map(Int.init)
        let logits = try model.forward(ids: [ids]) { _ in HeadRequest(rows: positions) }
        let sampleIds = try ints("sample_ids")
        let ours = positions.indices.flatMap { r in sampleIds.map { logits.row(r)[Int($0)] } }
        #expect(maxAbsDifference(ours, try reference.floats("long.sample_logits")) < 2e-3)
    }

    @Test func inputGradientsMatchAutograd() throws {
        let ids = try ints("grad.ids"), C = model.width
        let inputs = FloatBuffer(count: ids.count * C)
        try model.embed(ids, into: inputs.pointer)
        #expect(maxAbsDifference(inputs.array, try reference.floats("grad.inputs_embeds")) == 0)
        let batch = RaggedBatch(lengths: [ids.count])

        let full = try model.forward(inputs: inputs.pointer, batch: batch, head: .lastTokens(of: batch))
        let (fullLoss, dFull) = meanCrossEntropy(full, targets: try ints("grad.target"))
        #expect(abs(fullLoss - (try reference.floats("grad.loss_full")[0])) < 1e-4)
        let dInputsFull = try withExtendedLifetime(dFull) { try model.backward(dLogits: dFull.pointer, mode: .frozenWeights) }
        #expect(relativeError(Array(UnsafeBufferPointer(start: dInputsFull, count: ids.count * C)), try reference.floats("grad.d_inputs_full")) < 1e-3)

        let subset = try model.forward(inputs: inputs.pointer, batch: batch, head: .allTokens(of: batch, vocabulary: try ints("grad.subset_vocab")))
        let (subsetLoss, dSubset) = meanCrossEntropy(subset, targets: try ints("grad.subset_targets"))
        #expect(abs(subsetLoss - (try reference.floats("grad.loss_subset")[0])) < 1e-4)
        let dInputsSubset = try withExtendedLifetime(dSubset) { try model.backward(dLogits: dSubset.pointer, mode: .frozenWeights) }
        #expect(relativeError(Array(UnsafeBufferPointer(start: dInputsSubset, count: ids.count * C)), try reference.floats("grad.d_inputs_subset")) < 1e-3)
    }

    /// The smallest top-2 gap of the reference's greedy steps is ~0.07, far above the 1e-3 logit tolerance.
    @Test func greedyContinuation() throws {
        let expected = try ints("greedy.tokens")
        let tokens = try model.generate(prompt: try ints("greedy.prompt_ids"), options: GenerationOptions(maxTokens: expected.count))
        #expect(tokens == expected)
    }
}
