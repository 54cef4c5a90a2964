// Gemma 3 270M against transformers on the same GGUF (fixtures from scripts/make_gemma_reference.py, which
// loads the file in float32). Needs the model: $LEGIBLE_GEMMA_GGUF, else models/gemma-3-270m/…gguf
// (scripts/fetch-model gemma-3-270m); skipped without it, except under CI, where it fails.
//
// Tolerances. Both sides run float32 on the same dequantized weights; the residual stream grows to ~6·10⁴ by
// the last layer (Gemma's large norm gains), so summation-order differences of ~1e-7 relative become ~1e-4
// absolute in logits of magnitude ~10–30. Logits: 1e-3 absolute (the goal) on short prompts, 2e-3 at
// 600 tokens; input gradients 1e-3 relative.
import Foundation
import Testing
import Kernels
import Models
import TestSupport
import WeightFiles

enum GemmaModel {
    static let path: String? = {
        if let path = ProcessInfo.processInfo.environment["LEGIBLE_GEMMA_GGUF"] { return path }
        let local = fixtures.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("models/gemma-3-270m/gemma-3-270m-q4_k_m.gguf").path
        return FileManager.default.fileExists(atPath: local) ? local : nil
    }()

    /// Loaded once for every test in the process: dequantizing 270M weights is the slow part.
    static let shared: DecoderModel? = path.flatMap { try? DecoderModel.load(gguf: URL(fileURLWithPath: $0)) }
}

// Under CI (CI set) the model is fetched first, so the suite runs without it and fails rather than skip.
@Suite(.serialized, .enabled(if: GemmaModel.path != nil || QwenModel.isRequired, "needs the Gemma 3 270M GGUF (scripts/fetch-model gemma-3-270m)"))
struct Gemma3ParityTests {
    let reference: SafetensorsFile
    let model: DecoderModel

    init() throws {
        reference = try SafetensorsFile(path: fixtures.appendingPathComponent("gemma3/reference.safetensors").path)
        model = try #require(GemmaModel.shared)
    }

    func ints(_ name: String) throws -> [Int32] { try reference.floats(name).map { Int32($0) } }

    @Test func configurationMatchesTransformers() {
        let c = model.config
        #expect(c.layers == 18 && c.width == 640 && c.heads == 4 && c.kvHeads == 1 && c.headSize == 256)
        #expect(c.feedForwardWidth == 2048 && c.vocabularySize == 262_144 && c.slidingWindow == 512)
        #expect((0..<18).filter { c.isGlobal(layer: $0) } == [5, 11, 17])
        #expect(c.embeddingScale == 25.298_221_588_134_766)
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
        // The five most likely tokens in the same order (their gaps exceed the tolerance in these prompts).
        let ours = row.indices.sorted { row[$0] > row[$1] }.prefix(5).map(Int32.init)
        #expect(Array(ours) == Array(topIds.prefix(5)))
        let m = Double(row.max()!)
        let logSumExp = m + Foundation.log(row.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) })
        #expect(abs(logSumExp - Double(try reference.floats("prompt\(prompt).logsumexp")[0])) < 1e-3)
    }

    @Test func everyPositionOfPromptZero() throws {
        let ids = try ints("prompt0.ids")
        let logits = try model.forward(ids: [ids]) { .allTokens(of: $0) }
        let sampleIds = try ints("sample_ids")
        let ours = (0..<ids.count).flatMap { r in sampleIds.map { logits.row(r)[Int($0)] } }
        #expect(maxAbsDifference(ours, try reference.floats("prompt0.all_sample_logits")) < 1e-3)
    }

    @Test func slidingWindowAtSixHundredTokens() throws {
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

        // Full-vocabulary cross-entropy at the last position.
        let full = try model.forward(inputs: inputs.pointer, batch: batch, head: .lastTokens(of: batch))
        let (fullLoss, dFull) = meanCrossEntropy(full, targets: try ints("grad.target"))
        #expect(abs(fullLoss - (try reference.floats("grad.loss_full")[0])) < 1e-4)
        let dInputsFull = try withExtendedLifetime(dFull) { try model.backward(dLogits: dFull.pointer, mode: .frozenWeights) }
        #expect(relativeError(Array(UnsafeBufferPointer(start: dInputsFull, count: ids.count * C)), try reference.floats("grad.d_inputs_full")) < 1e-3)

        // Mean cross-entropy over every position on five vocabulary rows.
        let subset = try model.forward(inputs: inputs.pointer, batch: batch, head: .allTokens(of: batch, vocabulary: try ints("grad.subset_vocab")))
        let (subsetLoss, dSubset) = meanCrossEntropy(subset, targets: try ints("grad.subset_targets"))
        #expect(abs(subsetLoss - (try reference.floats("grad.loss_subset")[0])) < 1e-4)
        let dInputsSubset = try withExtendedLifetime(dSubset) { try model.backward(dLogits: dSubset.pointer, mode: .frozenWeights) }
        #expect(relativeError(Array(UnsafeBufferPointer(start: dInputsSubset, count: ids.count * C)), try reference.floats("grad.d_inputs_subset")) < 1e-3)
    }

    @Test(arguments: ["greedy", "greedy2"])
    func greedyContinuation(name: String) throws {
        let expected = try ints("\(name).tokens")
        let tokens = try model.generate(prompt: try ints("\(name).prompt_ids"), options: GenerationOptions(maxTokens: expected.count))
        #expect(tokens == expected)
    }
}
