// Finds out what a path holds and loads the matching architecture.
import Foundation

public enum ModelLoader {
    public static func load(_ url: URL) throws -> any CausalLM {
        var directory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &directory) else {
            throw ModelLoadError.missingFile(url.path, hint: "scripts/fetch-model downloads models into models/")
        }
        if !directory.boolValue, url.pathExtension == "gguf" { return try Gemma3.load(gguf: url) }
        if directory.boolValue {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("config.json").path) {
                return try GPT2.load(directory: url)
            }
            if let gguf = try ggufFiles(in: url).first { return try Gemma3.load(gguf: gguf) }
        }
        throw ModelLoadError.unknownModel(url.path)
    }

    /// The .gguf files in a directory, in name order.
    public static func ggufFiles(in directory: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "gguf" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }
}
