// Loads a Hugging Face GPT-2 directory (config.json + model.safetensors) into one parameter allocation.
// Tensor names may carry the `transformer.` prefix; attention-mask buffers and the tied lm_head are skipped.
import Foundation
import WeightFiles

extension GPT2 {
    public static func load(directory: URL) throws -> GPT2 {
        let config = try GPT2Config.load(from: directory.appendingPathComponent("config.json"))
        let weightsURL = directory.appendingPathComponent("model.safetensors")
        guard FileManager.default.fileExists(atPath: weightsURL.path) else {
            throw ModelLoadError.missingFile(weightsURL.path, hint: "download it with scripts/fetch-model gpt2, or save a model with save_pretrained(..., safe_serialization=True)")
        }
        let file = try SafetensorsFile(path: weightsURL.path)
        let model = try GPT2(config: config)
        try model.load(from: file)
        return model
    }

    /// Checkpoint tensors that are not parameters: causal-mask buffers, and lm_head, which GPT-2 ties to wte.
    static func isIgnoredCheckpointTensor(_ name: String) -> Bool {
        name.hasSuffix(".attn.bias") || name.hasSuffix(".attn.masked_bias") || name == "lm_head.weight"
    }

    /// The checkpoint's name for a layout name, with or without the `transformer.` prefix.
    static func checkpointName(_ name: String, in file: SafetensorsFile) -> String? {
        if file.entries[name] != nil { return name }
        if file.entries["transformer." + name] != nil { return "transformer." + name }
        return nil
    }

    func load(from file: SafetensorsFile) throws {
        let known = Set(layout.entries.flatMap { [$0.name, "transformer." + $0.name] })
        if let stray = file.entries.keys.sorted().first(where: { !known.contains($0) && !Self.isIgnoredCheckpointTensor($0) }) {
            throw ModelLoadError.unexpectedTensor(name: stray)
        }
        for entry in layout.entries {
            guard let name = Self.checkpointName(entry.name, in: file), let stored = file.entries[name] else {
                throw ModelLoadError.missingTensor(name: entry.name)
            }
            guard ["F32", "F16", "BF16"].contains(stored.dtype) else {
                throw ModelLoadError.wrongDType(name: name, found: stored.dtype)
            }
            guard stored.shape == entry.shape else {
                throw ModelLoadError.wrongShape(name: name, expected: entry.shape, found: stored.shape)
            }
            try file.read(name, into: parameters.pointer + entry.offset)
        }
    }
}
