// A model with its tokenizer, as the commands use them.
import Foundation
import Runs
import Models
import Tokenizers
import WeightFiles

struct LoadedModel {
    let model: any CausalLM
    /// nil when the model directory holds no tokenizer files: commands then take --ids.
    let tokenizer: (any Tokenizer)?
    let path: String
    /// The file holding the weights (model.safetensors or the .gguf).
    let weightsFile: URL

    static func load(_ options: ModelOptions) throws -> LoadedModel {
        options.applyThreads()
        let url = URL(fileURLWithPath: options.model)
        let model = try ModelLoader.load(url)
        try options.applyPrecision(to: model)
        let directory = url.hasDirectoryPath || isDirectory(url) ? url : url.deletingLastPathComponent()
        // A .gguf file named on its own carries the vocabulary, whatever other .gguf files sit beside it.
        let ggufFile = url.pathExtension == "gguf" && !isDirectory(url) ? url.lastPathComponent : nil
        let tokenizer = TokenizerLoader.formats(in: directory, ggufFile: ggufFile).isEmpty
            ? nil : try TokenizerLoader.load(directory: directory, ggufFile: ggufFile)
        // The file whose checksum ties prompts to these weights: a Hugging Face folder's model.safetensors (or, when
        // sharded, its index), else the .gguf.
        let huggingFace = isDirectory(url) && FileManager.default.fileExists(atPath: url.appendingPathComponent("config.json").path)
        let single = directory.appendingPathComponent("model.safetensors")
        let weights = huggingFace
            ? (FileManager.default.fileExists(atPath: single.path) ? single : directory.appendingPathComponent("model.safetensors.index.json"))
            : isDirectory(url) ? try ModelLoader.ggufFiles(in: url).first ?? url : url
        return LoadedModel(model: model, tokenizer: tokenizer, path: options.model, weightsFile: weights)
    }

    /// The tokenizer, or an error saying the model directory lacks one.
    func requireTokenizer() throws -> any Tokenizer {
        guard let tokenizer else { throw CLIError("\(path) has no tokenizer files; prompt tuning needs the model's tokenizer") }
        return tokenizer
    }

    /// A prompt file tuned on these weights (any weights with `anyModel`, for its text alone), checked to fit this
    /// model. A file from other weights is refused with `otherModelHint` after the reason.
    func readPrompt(_ path: String, anyModel: Bool = false, otherModelHint: String) throws -> PromptFile {
        let file: PromptFile
        do {
            file = try PromptFile.read(from: URL(fileURLWithPath: path), modelSHA256: anyModel ? nil : try weightsSHA256(), modelName: name)
        } catch let error as PromptFileError {
            throw CLIError("\(error)" + (error.isDifferentModel ? "; \(otherModelHint)" : ""))
        }
        if !anyModel { try requireFits(file, path: path) }
        return file
    }

    /// A short name for reports: the directory or file name.
    var name: String { URL(fileURLWithPath: path).standardizedFileURL.lastPathComponent }

    /// sha256 of the weights file, computed on first use and then remembered (a command may ask more than once).
    func weightsSHA256() throws -> String {
        if let known = checksum.value { return known }
        let digest = try SHA256.hexDigest(ofFile: weightsFile.path)
        checksum.value = digest
        return digest
    }
    private let checksum = Remembered()
    private final class Remembered { var value: String? }

    /// Ids from --ids, or from --text through the tokenizer.
    func ids(text: String?, ids: String?) throws -> [Int32] {
        if let ids { return try parseIds(ids) }
        guard let text else { throw CLIError("give --text or --ids") }
        guard let tokenizer else { throw CLIError("\(path) has no tokenizer files (vocab.json + merges.txt, tokenizer.json or encoder.json + vocab.bpe); pass --ids instead of text") }
        // As transformers does by default: Gemma's <bos> first; GPT-2 adds nothing.
        return tokenizer.encode(text, addSpecial: true)
    }

    func render(_ id: Int32) -> String? { tokenizer?.readableToken(for: id) }
}

func isDirectory(_ url: URL) -> Bool {
    var directory: ObjCBool = false
    return FileManager.default.fileExists(atPath: url.path, isDirectory: &directory) && directory.boolValue
}

/// An error for the user, printed as it is.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension LoadedModel {
    /// A prompt file read back (its rows already match its ids) must also fit this model: its width and its ids.
    func requireFits(_ file: PromptFile, path: String) throws {
        guard file.prompt.width == model.width else {
            throw CLIError("\(path) holds \(file.prompt.width)-wide vectors; \(name) is \(model.width) wide")
        }
        guard file.metadata.ids.allSatisfy({ (0..<Int32(model.vocabularySize)).contains($0) }) else {
            throw CLIError("\(path): its token ids do not fit \(name)'s vocabulary")
        }
    }
}
