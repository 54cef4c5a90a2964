// A tuned prompt on disk: prompt.safetensors holds the continuous prompt (n, C) as tensor "prompt" and, in
// its metadata, the decoded token ids and text, the model and its weights' sha256, the task and template,
// the verbalizers, the method and its hyperparameters. Loading refuses a prompt made for another model.
import Foundation
import Tasks
import Tuning
import WeightFiles

public struct PromptMetadata: Codable, Sendable, Equatable {
    public var model: String
    public var modelSHA256: String
    public var method: String
    public var task: String
    public var split: String
    public var template: String
    public var verbalizers: [String]
    public var ids: [Int32]
    public var text: String
    public var configuration: TuningConfiguration?
    /// The data root the task was read from (nil in files written before it was recorded).
    public var data: String?
    /// The task as resolved when tuning, task.json format (labels, label words, manual prompt, columns), so the
    /// prompt can be evaluated again from this file alone.
    public var taskDescription: TaskDescription?

    public init(model: String, modelSHA256: String, method: String, task: String, split: String, template: String,
                verbalizers: [String], ids: [Int32], text: String, configuration: TuningConfiguration?,
                data: String? = nil, taskDescription: TaskDescription? = nil) {
        self.model = model; self.modelSHA256 = modelSHA256; self.method = method; self.task = task; self.split = split
        self.template = template; self.verbalizers = verbalizers; self.ids = ids; self.text = text
        self.configuration = configuration; self.data = data; self.taskDescription = taskDescription
    }
}

public enum PromptFileError: Error, CustomStringConvertible, Equatable {
    case notAPromptFile(String)
    case differentModel(file: String, tunedOn: String, loaded: String)
    case notFinite(String)
    /// The tensor and the metadata disagree, or the tensor holds no vectors a model could read.
    case malformed(String, reason: String)

    public var description: String {
        switch self {
        case .notAPromptFile(let path): return "\(path) is not a Legible prompt file (no 'legible' metadata or no 'prompt' tensor)"
        case .differentModel(let file, let tunedOn, let loaded):
            return "\(file) was tuned on \(tunedOn); it cannot be used with \(loaded): the weights differ"
        case .notFinite(let path): return "\(path) holds a prompt with NaN or infinite values"
        case .malformed(let path, let reason): return "\(path) is not a valid Legible prompt file: \(reason)"
        }
    }
}

public struct PromptFile: Sendable, Equatable {
    public var prompt: PromptEmbeddings
    public var metadata: PromptMetadata

    public init(prompt: PromptEmbeddings, metadata: PromptMetadata) {
        self.prompt = prompt; self.metadata = metadata
    }

    public func write(to url: URL) throws {
        let json = String(decoding: try JSONEncoder.sortedKeys.encode(metadata), as: UTF8.self)
        try SafetensorsWriter.write(
            [.init(name: "prompt", shape: [prompt.length, prompt.width], values: prompt.values)],
            metadata: ["format": "legible-prompt", "legible": json, "model": metadata.model,
                       "method": metadata.method, "text": metadata.text],
            to: url)
    }

    /// Reads a prompt; with `modelSHA256`, refuses one tuned on other weights.
    public static func read(from url: URL, modelSHA256: String? = nil, modelName: String = "this model") throws -> PromptFile {
        let file = try SafetensorsFile(path: url.path)
        guard let json = file.metadata["legible"], let entry = file.entries["prompt"], entry.shape.count == 2,
              let metadata = try? JSONDecoder().decode(PromptMetadata.self, from: Data(json.utf8))
        else { throw PromptFileError.notAPromptFile(url.path) }
        if let modelSHA256, modelSHA256 != metadata.modelSHA256 {
            throw PromptFileError.differentModel(file: url.path, tunedOn: "\(metadata.model) (sha256 \(metadata.modelSHA256.prefix(12))…)",
                                                 loaded: "\(modelName) (sha256 \(modelSHA256.prefix(12))…)")
        }
        // One row per token id, each as wide as a model: an empty width would let the row count be anything.
        guard entry.shape[0] == metadata.ids.count, entry.shape[1] >= 1 else {
            throw PromptFileError.malformed(url.path, reason: "its prompt is \(entry.shape[0]) × \(entry.shape[1]) for \(metadata.ids.count) token ids")
        }
        let values = try file.floats("prompt")
        guard values.allSatisfy(\.isFinite) else { throw PromptFileError.notFinite(url.path) }
        let prompt = PromptEmbeddings(length: entry.shape[0], width: entry.shape[1], values: values)
        return PromptFile(prompt: prompt, metadata: metadata)
    }
}


