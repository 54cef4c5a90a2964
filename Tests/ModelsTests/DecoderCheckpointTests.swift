// The decoder against transformers on tiny random checkpoints (scripts/make_tiny_decoders.py): a Qwen2 with QKV
// biases and an untied head, a Llama with a tied head and linear RoPE scaling saved as bf16 shards, each read both
// from its Hugging Face folder and from its GGUF twin (the Llama one with q/k permuted as llama.cpp writes them),
// and a Gemma 3 folder as transformers 5 writes it (layer_types, RoPE bases per layer type, a sliding window that
// cuts the sequence, query_pre_attn_scalar ≠ head_dim, norms stored as w for 1 + w). And the configuration values
// the engine does not implement, refused by name.
//
// Tolerances: both sides run float32 on identical weights (bf16 widens to float32 exactly); the logits (|x| < ~10)
// differ by summation order only, ~1e-6, so 1e-4 absolute; input gradients 1e-4 relative.
import Foundation
import Testing
import Kernels
import Models
import TestSupport
import WeightFiles

@Suite struct DecoderCheckpointTests {
    enum Checkpoint: String, CaseIterable, CustomTestStringConvertible {
        case qwen2Folder = "tiny-qwen2", qwen2GGUF = "tiny-qwen2.gguf", llamaFolder = "tiny-llama", llamaGGUF = "tiny-llama.gguf"
        case gemma3Folder = "tiny-gemma3"
        var testDescription: String { rawValue }
        var reference: String { rawValue.replacingOccurrences(of: ".gguf", with: "") + "/reference.safetensors" }
        func load() throws -> DecoderModel {
            try #require(try ModelLoader.load(fixtures.appendingPathComponent(rawValue)) as? DecoderModel)
        }
    }

    @Test(arguments: Checkpoint.allCases)
    func logitsAtEveryPositionMatchTransformers(_ checkpoint: Checkpoint) throws {
        let model = try checkpoint.load()
        let reference = try SafetensorsFile(path: fixtures.appendingPathComponent(checkpoint.reference).path)
        for i in 0..<2 {
            let ids = try reference.floats("ids\(i)").map { Int32($0) }
            let logits = try model.forward(ids: [ids]) { .allTokens(of: $0) }
            let ours = Array(UnsafeBufferPointer(start: logits.pointer, count: logits.rows * logits.columns))
            #expect(maxAbsDifference(ours, try reference.floats("logits\(i)")) < 1e-4, "\(checkpoint) ids\(i)")
        }
    }

    @Test(arguments: Checkpoint.allCases)
    func inputGradientsMatchAutograd(_ checkpoint: Checkpoint) throws {
        let model = try checkpoint.load()
        let reference = try SafetensorsFile(path: fixtures.appendingPathComponent(checkpoint.reference).path)
        let inputs = try reference.floats("grad.inputs_embeds"), C = model.width
        let ids = try reference.floats("ids0").map { Int32($0) }
        let embedded = FloatBuffer(count: ids.count * C)
        try model.embed(ids, into: embedded.pointer)
        #expect(embedded.array == inputs)  // the rows as stored (Gemma: times √C in float32, as transformers does)
        let batch = RaggedBatch(lengths: [ids.count])
        let logits = try model.forward(inputs: inputs, batch: batch, head: .lastTokens(of: batch))
        let (_, dLogits) = meanCrossEntropy(logits, targets: try reference.floats("grad.target").map { Int32($0) })
        let dInputs = try withExtendedLifetime(dLogits) { try model.backward(dLogits: dLogits.pointer, mode: .frozenWeights) }
        #expect(relativeError(Array(UnsafeBufferPointer(start: dInputs, count: inputs.count)), try reference.floats("grad.d_inputs")) < 1e-4)
    }

    @Test func folderAndGGUFTwinHoldTheSameWeights() throws {
        for (folder, gguf) in [(Checkpoint.qwen2Folder, Checkpoint.qwen2GGUF), (.llamaFolder, .llamaGGUF)] {
            let a = try folder.load(), b = try gguf.load()
            #expect(a.config == b.config, "\(folder)")
            #expect(a.parameters.array == b.parameters.array, "\(folder): the GGUF's q/k rows are unpermuted exactly")
        }
    }

    @Test func configurationsAreReadAsWritten() throws {
        let qwen = try Checkpoint.qwen2Folder.load().config, llama = try Checkpoint.llamaFolder.load().config
        #expect(qwen.architecture == .qwen2 && qwen.attentionBias && !qwen.tiedHead && qwen.feedForward == .swiglu)
        #expect(qwen.globalRopeBase == 1_000_000 && qwen.ropeLinearScaling == 1 && qwen.slidingWindow == nil)
        #expect(qwen.heads == 4 && qwen.kvHeads == 2 && qwen.headSize == 8 && !qwen.scalesEmbeddings && !qwen.queryKeyNorm)
        #expect(llama.architecture == .llama && !llama.attentionBias && llama.tiedHead && llama.ropeLinearScaling == 2)
        #expect(llama.globalRopeBase == 10_000)
        let gemma = try Checkpoint.gemma3Folder.load().config
        #expect(gemma.architecture == .gemma3 && gemma.tiedHead && gemma.queryKeyNorm && gemma.sandwichNorms && gemma.feedForward == .geglu)
        #expect(gemma.slidingWindow == 4 && gemma.slidingWindowPattern == 2 && gemma.queryPreAttentionScalar == 16)
        #expect(gemma.globalRopeBase == 1_000_000 && gemma.localRopeBase == 10_000)
        #expect((0..<3).map { gemma.isGlobal(layer: $0) } == [false, true, false])
    }

    // MARK: Refusals

    /// The tiny Qwen2 folder with config.json edited by `edit`, in a temporary folder.
    func editedQwen2(_ edit: (inout [String: Any]) -> Void) throws -> URL {
        let source = fixtures.appendingPathComponent("tiny-qwen2")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("legible-qwen2-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: source.appendingPathComponent("model.safetensors"), to: folder.appendingPathComponent("model.safetensors"))
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("config.json"))) as? [String: Any])
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: folder.appendingPathComponent("config.json"))
        return folder
    }

    func expectRefusal(naming key: String, _ edit: (inout [String: Any]) -> Void) throws {
        let folder = try editedQwen2(edit)
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            _ = try ModelLoader.load(folder)
            Issue.record("loaded a configuration with an unsupported \(key)")
        } catch let error as ModelLoadError {
            #expect(error.description.contains(key), "\(error)")
        }
    }

    @Test func unimplementedConfigurationValuesAreRefusedByName() throws {
        try expectRefusal(naming: "rope_parameters.rope_type") { $0["rope_parameters"] = ["rope_type": "yarn", "rope_theta": 1e6, "factor": 4.0] }
        try expectRefusal(naming: "rope_scaling.rope_type") { $0["rope_parameters"] = nil; $0["rope_theta"] = 1e6; $0["rope_scaling"] = ["type": "dynamic", "factor": 2.0] }
        try expectRefusal(naming: "use_sliding_window") { $0["use_sliding_window"] = true; $0["sliding_window"] = 4 }
        try expectRefusal(naming: "hidden_act") { $0["hidden_act"] = "gelu" }
        try expectRefusal(naming: "model_type") { $0["model_type"] = "mistral" }
        try expectRefusal(naming: "num_key_value_heads") { $0["num_key_value_heads"] = 3 }
    }

    @Test func aGemmaLayerPatternThatIsNotEveryNthLayerIsRefused() throws {
        let source = fixtures.appendingPathComponent("tiny-gemma3")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("legible-gemma3-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: source, to: folder)
        defer { try? FileManager.default.removeItem(at: folder) }
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("config.json"))) as? [String: Any])
        config["layer_types"] = ["full_attention", "sliding_attention", "sliding_attention"]
        try JSONSerialization.data(withJSONObject: config).write(to: folder.appendingPathComponent("config.json"))
        #expect { try ModelLoader.load(folder) } throws: { "\($0)".contains("layer_types") }
    }

    @Test func theOlderRopeSpellingIsReadToo() throws {
        let folder = try editedQwen2 { $0["rope_parameters"] = nil; $0["rope_theta"] = 1e6; $0["rope_scaling"] = ["type": "linear", "factor": 4.0] }
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = try #require(try ModelLoader.load(folder) as? DecoderModel).config
        #expect(config.globalRopeBase == 1_000_000 && config.ropeLinearScaling == 4)
    }

    @Test func aMissingShardIsNamed() throws {
        let source = fixtures.appendingPathComponent("tiny-llama")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("legible-llama-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: source, to: folder)
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.removeItem(at: folder.appendingPathComponent("model-00002-of-00003.safetensors"))
        #expect { try ModelLoader.load(folder) } throws: { "\($0)".contains("model-00002-of-00003.safetensors") }
    }
}
