// Finds out what a path holds and loads the matching architecture.
import Foundation

public enum ModelLoader {
    public static func load(_ url: URL) throws -> any CausalLM {
        var directory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &directory) else {
            throw ModelLoadError.missingFile(url.path, hint: "scripts/fetch-model downloads models into models/")
        }
        if !directory.boolValue, url.pathExtension == "gguf" { return try DecoderModel.load(gguf: url) }
        if directory.boolValue {
            let config = url.appendingPathComponent("config.json")
            if FileManager.default.fileExists(atPath: config.path) {
                // GPT-2 folders written before model_type existed have none.
                let modelType = (try? HuggingFaceConfig(config))?.string("model_type") ?? "gpt2"
                return modelType == "gpt2" ? try GPT2.load(directory: url) : try DecoderModel.load(huggingFace: url)
            }
            // Two .gguf files (say two quantizations) leave nothing to say which is the model: ask, do not guess.
            let ggufs = try ggufFiles(in: url)
            if ggufs.count > 1 {
                throw ModelLoadError.severalModelFiles(directory: url.path, files: ggufs.map(\.lastPathComponent))
            }
            if let gguf = ggufs.first { return try DecoderModel.load(gguf: gguf) }
        }
        throw ModelLoadError.unknownModel(url.path)
    }

    /// The .gguf files in a directory, in name order. Listed by path: on Linux, Foundation's URL variant
    /// returns nothing for a directory reached through a symbolic link.
    public static func ggufFiles(in directory: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".gguf") }
            .sorted()
            .map { directory.appendingPathComponent($0) }
    }
}
