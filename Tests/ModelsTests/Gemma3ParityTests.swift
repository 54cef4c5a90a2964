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
    let reference: RealModelReference
    let model: DecoderModel

    init() throws {
        reference = try RealModelReference("gemma3/reference.safetensors")
        model = try #require(GemmaModel.shared)
    }

    @Test func configurationMatchesTransformers() {
        let c = model.config
        #expect(c.layers == 18 && c.width == 640 && c.heads == 4 && c.kvHeads == 1 && c.headSize == 256)
        #expect(c.feedForwardWidth == 2048 && c.vocabularySize == 262_144 && c.slidingWindow == 512)
        #expect((0..<18).filter { c.isGlobal(layer: $0) } == [5, 11, 17])
        #expect(c.embeddingScale == 25.298_221_588_134_766)
    }

    @Test(arguments: 0..<4)
    func lastPositionLogits(prompt: Int) throws {
        // The five most likely tokens in the same order (their gaps exceed the tolerance in these prompts).
        try reference.checkLastPosition(model, prompt: prompt, tolerance: 1e-3, topInOrder: 5)
    }

    @Test func everyPositionOfPromptZero() throws {
        let ids = try reference.ints("prompt0.ids")
        try reference.checkSampledLogits(model, ids: ids, rows: Array(ids.indices), key: "prompt0.all_sample_logits", tolerance: 1e-3)
    }

    @Test func slidingWindowAtSixHundredTokens() throws {
        try reference.checkSampledLogits(model, ids: try reference.ints("long.ids"), rows: try reference.ints("long.positions").map(Int.init),
                                         key: "long.sample_logits", tolerance: 2e-3)
    }

    @Test func inputGradientsMatchAutograd() throws {
        try reference.checkInputGradients(model, lossTolerance: 1e-4, gradientTolerance: 1e-3)
    }

    @Test(arguments: ["greedy", "greedy2"])
    func greedyContinuation(name: String) throws {
        let expected = try reference.ints("\(name).tokens")
        let tokens = try model.generate(prompt: try reference.ints("\(name).prompt_ids"), options: GenerationOptions(maxTokens: expected.count))
        #expect(tokens == expected)
    }
}
