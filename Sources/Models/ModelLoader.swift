// Finds out what a path holds and loads the matching architecture.
import Foundation

public enum ModelLoader {
    public static func load(_ url: URL) throws -> any CausalLM {
        var directory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &directory) else {
            throw ModelLoadError.missingFile(url.path, hint: "scripts/fetch-model downloads models into models/")
        }
        if directory.boolValue, FileManager.default.fileExists(atPath: url.appendingPathComponent("config.json").path) {
            return try GPT2.load(directory: url)
        }
        throw ModelLoadError.unknownModel(url.path)
    }
}
