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
    let reference: RealModelReference
    let model: DecoderModel

    init() throws {
        reference = try RealModelReference("qwen2/reference.safetensors")
        model = try QwenModel.shared.get()
    }

    @Test func configurationMatchesTransformers() {
        let c = model.config
        #expect(c.architecture == .qwen2 && c.layers == 24 && c.width == 896 && c.heads == 14 && c.kvHeads == 2 && c.headSize == 64)
        #expect(c.feedForwardWidth == 4864 && c.vocabularySize == 151_936 && c.globalRopeBase == 1_000_000)
        #expect(c.attentionBias && !c.tiedHead && c.slidingWindow == nil && c.feedForward == .swiglu)
        #expect(model.parameterCount == 630_167_424)
    }

    @Test(arguments: 0..<4)
    func lastPositionLogits(prompt: Int) throws {
        try reference.checkLastPosition(model, prompt: prompt, tolerance: 1e-3)
    }

    @Test func everyPositionOfPromptZeroAndItsHeadInputs() throws {
        let ids = try reference.ints("prompt0.ids")
        try reference.checkSampledLogits(model, ids: ids, rows: Array(ids.indices), key: "prompt0.all_sample_logits", tolerance: 1e-3)
        let hidden = Array(UnsafeBufferPointer(start: model.lastHeadInputs, count: ids.count * model.width))
        #expect(relativeError(hidden, try reference.floats("prompt0.final_hidden")) < 1e-4)
    }

    @Test func threeHundredTokens() throws {
        try reference.checkSampledLogits(model, ids: try reference.ints("long.ids"), rows: try reference.ints("long.positions").map(Int.init),
                                         key: "long.sample_logits", tolerance: 2e-3)
    }

    @Test func inputGradientsMatchAutograd() throws {
        try reference.checkInputGradients(model, lossTolerance: 1e-4, gradientTolerance: 1e-3)
    }

    /// The smallest top-2 gap of the reference's greedy steps is ~0.07, far above the 1e-3 logit tolerance.
    @Test func greedyContinuation() throws {
        let expected = try reference.ints("greedy.tokens")
        let tokens = try model.generate(prompt: try reference.ints("greedy.prompt_ids"), options: GenerationOptions(maxTokens: expected.count))
        #expect(tokens == expected)
    }
}
