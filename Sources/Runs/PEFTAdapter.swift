// A soft prompt as a Hugging Face PEFT prompt-tuning adapter: a folder holding adapter_config.json (peft_type
// PROMPT_TUNING, task_type CAUSAL_LM) and adapter_model.safetensors, whose one tensor "prompt_embeddings"
// (num_virtual_tokens, token_dim) PEFT concatenates in front of the model's input embeddings. Those are the
// embeddings as the model feeds them to its first block, scaled already (Gemma multiplies its rows by √C inside its
// embedding module), which is the space Legible's prompts live in: the vectors cross unchanged.
//
// Placement differs. PEFT puts the virtual tokens before everything, <bos> included; a Legible template puts the
// prompt after <bos> (README, "Taking a prompt to PEFT").
import Foundation
import Tuning
import WeightFiles

public struct PEFTAdapter: Sendable, Equatable {
    public static let configFile = "adapter_config.json"
    public static let weightsFile = "adapter_model.safetensors"
    public static let tensorName = "prompt_embeddings"

    public var prompt: PromptEmbeddings
    /// What PEFT loads the adapter onto (`base_model_name_or_path`): a Hub id or a local folder.
    public var baseModel: String

    public init(prompt: PromptEmbeddings, baseModel: String) {
        self.prompt = prompt; self.baseModel = baseModel
    }

    /// The configuration PEFT's PromptTuningConfig reads. num_layers, num_attention_heads and
    /// num_transformer_submodules are left null: PEFT fills them from the base model's config when it loads.
    var configuration: [String: Any] {
        ["peft_type": "PROMPT_TUNING", "task_type": "CAUSAL_LM", "num_virtual_tokens": prompt.length,
         "token_dim": prompt.width, "base_model_name_or_path": baseModel, "prompt_tuning_init": "RANDOM",
         "inference_mode": true, "num_transformer_submodules": 1,
         "num_layers": NSNull(), "num_attention_heads": NSNull(), "prompt_tuning_init_text": NSNull(),
         "tokenizer_name_or_path": NSNull(), "tokenizer_kwargs": NSNull(), "revision": NSNull(),
         "modules_to_save": NSNull(), "auto_mapping": NSNull()]
    }

    /// Writes the two files into `folder` (made if missing), each atomically.
    public func write(to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let json = try JSONSerialization.data(withJSONObject: configuration, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(json, to: folder.appendingPathComponent(Self.configFile))
        try SafetensorsWriter.write([.init(name: Self.tensorName, shape: [prompt.length, prompt.width], values: prompt.values)],
                                    metadata: ["format": "pt"], to: folder.appendingPathComponent(Self.weightsFile))
    }

    /// Reads an adapter folder, refusing anything but causal-LM prompt tuning with a finite tensor of the shape its
    /// configuration states. F16 and BF16 tensors are widened to float32.
    public static func read(from folder: URL) throws -> PEFTAdapter {
        let configURL = folder.appendingPathComponent(configFile), weightsURL = folder.appendingPathComponent(weightsFile)
        guard let data = FileManager.default.contents(atPath: configURL.path) else {
            throw PEFTAdapterError.missing(configURL.path)
        }
        guard let config = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw PEFTAdapterError.invalid(configURL.path, "not a JSON object")
        }
        guard config["peft_type"] as? String == "PROMPT_TUNING" else {
            throw PEFTAdapterError.invalid(configURL.path, "peft_type is \(config["peft_type"] ?? "missing"), not PROMPT_TUNING (only prompt tuning holds a soft prompt Legible can use)")
        }
        guard config["task_type"] as? String == "CAUSAL_LM" else {
            throw PEFTAdapterError.invalid(configURL.path, "task_type is \(config["task_type"] ?? "missing"), not CAUSAL_LM")
        }
        guard let count = config["num_virtual_tokens"] as? Int, count >= 1 else {
            throw PEFTAdapterError.invalid(configURL.path, "num_virtual_tokens is missing or below 1")
        }
        if let submodules = config["num_transformer_submodules"] as? Int, submodules != 1 {
            throw PEFTAdapterError.invalid(configURL.path, "num_transformer_submodules is \(submodules); a causal LM's prompt has 1")
        }
        guard FileManager.default.fileExists(atPath: weightsURL.path) else { throw PEFTAdapterError.missing(weightsURL.path) }
        let file = try SafetensorsFile(path: weightsURL.path)
        guard let entry = file.entries[tensorName], entry.shape.count == 2 else {
            throw PEFTAdapterError.invalid(weightsURL.path, "no 2-D tensor '\(tensorName)'")
        }
        // PEFT saves num_virtual_tokens × num_transformer_submodules rows; for a causal LM that is the count.
        guard entry.shape[0] == count, entry.shape[1] >= 1 else {
            throw PEFTAdapterError.invalid(weightsURL.path, "'\(tensorName)' is \(entry.shape[0]) × \(entry.shape[1]) for \(count) virtual tokens")
        }
        if let dim = config["token_dim"] as? Int, dim != entry.shape[1] {
            throw PEFTAdapterError.invalid(configURL.path, "token_dim \(dim) differs from the tensor's width \(entry.shape[1])")
        }
        let values = try file.floats(tensorName)
        guard values.allSatisfy(\.isFinite) else { throw PEFTAdapterError.invalid(weightsURL.path, "the prompt holds NaN or infinite values") }
        return PEFTAdapter(prompt: PromptEmbeddings(length: entry.shape[0], width: entry.shape[1], values: values),
                           baseModel: config["base_model_name_or_path"] as? String ?? "")
    }
}

public enum PEFTAdapterError: Error, CustomStringConvertible, Equatable {
    case missing(String)
    case invalid(String, String)

    public var description: String {
        switch self {
        case .missing(let path): return "\(path) does not exist: a PEFT adapter folder holds \(PEFTAdapter.configFile) and \(PEFTAdapter.weightsFile)"
        case .invalid(let path, let reason): return "\(path) is not a PEFT prompt-tuning adapter Legible can read: \(reason)"
        }
    }
}
