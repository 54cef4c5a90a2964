// Fuzz target: a prompt.safetensors as `legible eval` and `legible decode` read it: the tensor, its metadata
// (model, task, configuration, token ids) and the checks they make against the model before using it.
import Foundation
import FuzzSupport
import Runs
import Tuning

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let url = Scratch.write(input(data, size), to: "prompt.safetensors")
    allowingErrors { _ = try PromptFile.read(from: url, modelSHA256: String(repeating: "0", count: 64), modelName: "fuzz") }
    allowingErrors {
        let file = try PromptFile.read(from: url)
        for i in 0..<file.prompt.length { _ = file.prompt.row(i) }
        try file.metadata.configuration?.validate()
    }
    return 0
}

runFuzzer(fuzz)
