// Fuzz target: a Hugging Face folder, config.json and model.safetensors, read as Legible loads it (GPT-2, or the
// Llama family and Gemma 3 by config.json's model_type; seeds for GPT-2 and Qwen2). The input
// is `config.json <partSeparator> model.safetensors`; without a separator it is the safetensors file alone. A model
// that loads is run.
import Foundation
import FuzzSupport
import Models
import WeightFiles

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let files = parts(of: input(data, size))
    if files.count > 1 { Scratch.write(files[0], to: "gpt2/config.json") } else { Scratch.remove("gpt2/config.json") }
    let weights = Scratch.write(files[files.count - 1], to: "gpt2/model.safetensors")
    allowingErrors {
        let file = try SafetensorsFile(path: weights.path)
        for (name, entry) in file.entries {
            allowingErrors { _ = try file.rawBytes(name) }
            allowingErrors { _ = try file.floats(name, expectedShape: entry.shape) }
        }
    }
    allowingErrors { exercise(try ModelLoader.load(weights.deletingLastPathComponent())) }
    return 0
}

runFuzzer(fuzz)
