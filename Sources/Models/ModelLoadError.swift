// Errors from reading a model off disk, each with what the user can do about it.

public enum ModelLoadError: Error, CustomStringConvertible, Equatable {
    case missingFile(String, hint: String)
    case invalidConfig(String)
    /// A configuration value Legible refuses: the key as the model's file spells it, its value, what is valid.
    case invalidValue(key: String, value: String, expected: String)
    /// A model whose float32 parameters would not fit in this machine's memory (`ModelLimits.parameterBytes`).
    case tooLarge(model: String, bytes: Int, limit: Int)
    /// A directory that holds several weight files, with nothing to say which one is the model.
    case severalModelFiles(directory: String, files: [String])
    case missingTensor(name: String)
    case unexpectedTensor(name: String)
    case wrongShape(name: String, expected: [Int], found: [Int])
    case wrongDType(name: String, found: String)
    case unknownModel(String)

    public var description: String {
        switch self {
        case .missingFile(let path, let hint): return "\(path) not found: \(hint)"
        case .invalidConfig(let problem): return "invalid model config: \(problem)"
        case .invalidValue(let key, let value, let expected):
            return "invalid model config: \(key) = \(value); expected \(expected)"
        case .tooLarge(let model, let bytes, let limit):
            return "\(model) needs \(gigabytes(bytes)) for its float32 parameters; this machine has \(gigabytes(limit)) of memory"
        case .severalModelFiles(let directory, let files):
            return "\(directory) holds \(files.count) weight files (\(files.joined(separator: ", "))); give the path of the one to load"
        case .missingTensor(let name): return "checkpoint lacks tensor '\(name)'"
        case .unexpectedTensor(let name): return "checkpoint has tensor '\(name)', which this architecture does not use"
        case .wrongShape(let name, let expected, let found):
            return "tensor '\(name)' has shape \(found), expected \(expected)"
        case .wrongDType(let name, let found): return "tensor '\(name)' has dtype \(found); expected F32, F16 or BF16"
        case .unknownModel(let path):
            return "\(path) is not a model Legible knows: expected a directory with config.json and model.safetensors (GPT-2) or a .gguf file (Gemma 3, Llama, Qwen2)"
        }
    }

    private func gigabytes(_ bytes: Int) -> String {
        bytes >= 1 << 30 ? "\(bytes >> 30) GiB" : "\(bytes >> 20) MiB"
    }
}
