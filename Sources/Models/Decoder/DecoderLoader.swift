// Loads a decoder from a GGUF file: the architecture's configuration from its metadata, every tensor dequantized
// to float32 into one parameter allocation, names, shapes and types checked against the layout.
import Foundation
import WeightFiles

extension DecoderModel {
    /// The architectures whose GGUF files this reads, by `general.architecture`.
    public static let ggufArchitectures: [DecoderConfig.Architecture] = [.gemma3, .llama, .qwen2]

    public static func load(gguf url: URL) throws -> DecoderModel {
        let file: GGUFFile
        do { file = try GGUFFile(path: url.path) } catch { throw ModelLoadError.invalidConfig("\(error)") }
        let config: DecoderConfig
        do {
            let name = try file.metadata.string("general.architecture")
            guard let architecture = DecoderConfig.Architecture(rawValue: name) else {
                let known = ggufArchitectures.map { "\($0.displayName) ('\($0.rawValue)')" }.joined(separator: ", ")
                throw ModelLoadError.invalidConfig("\(file.path) holds a '\(name)' model; Legible reads GGUF files of \(known)")
            }
            switch architecture {
            case .gemma3: config = try DecoderConfig(gemma3: file)
            case .llama, .qwen2: config = try DecoderConfig(llama: file, architecture: architecture)
            case .gpt2: throw ModelLoadError.invalidConfig("\(file.path) holds GPT-2 in GGUF form; Legible reads GPT-2 from a Hugging Face folder (config.json + model.safetensors)")
            }
        } catch let error as GGUFError {
            throw ModelLoadError.invalidConfig("\(error)")
        }
        let model = try DecoderModel(config: config)
        try model.load(from: file)
        model.source = url.lastPathComponent
        return model
    }

    func load(from file: GGUFFile) throws {
        let expected = Set(layout.entries.map(\.name))
        // Llama-family files may carry precomputed RoPE frequencies; the model computes its own.
        let ignored: Set<String> = ["rope_freqs.weight"]
        if let stray = file.tensors.map(\.name).sorted().first(where: { !expected.contains($0) && !ignored.contains($0) }) {
            throw ModelLoadError.unexpectedTensor(name: stray)
        }
        for entry in layout.entries {
            guard let tensor = file.tensorInfo(entry.name) else { throw ModelLoadError.missingTensor(name: entry.name) }
            guard tensor.shape == entry.shape else {
                throw ModelLoadError.wrongShape(name: entry.name, expected: entry.shape, found: tensor.shape)
            }
            let destination = parameters.pointer + entry.offset
            do {
                try file.dequantize(tensor, into: UnsafeMutableBufferPointer(start: destination, count: entry.count))
            } catch {
                throw ModelLoadError.invalidConfig("\(error)")
            }
            if config.architecture == .llama, let heads = permutedHeads(entry.name) {
                unpermuteRotaryRows(destination, heads: heads, headSize: config.headSize, columns: entry.shape.count == 2 ? entry.shape[1] : 1)
            }
        }
    }

    /// The head count of a tensor llama.cpp permutes in Llama files (queries: H, keys: G), nil for the others.
    private func permutedHeads(_ name: String) -> Int? {
        if name.hasSuffix(".attn_q.weight") || name.hasSuffix(".attn_q.bias") { return config.heads }
        if name.hasSuffix(".attn_k.weight") || name.hasSuffix(".attn_k.bias") { return config.kvHeads }
        return nil
    }
}
