// Fuzz target: a .gguf file read as Legible reads a Gemma 3, Llama or Qwen2 model: header, metadata, tensor table, every
// tensor's data dequantized, the tokenizer its metadata carries (SentencePiece or byte-level BPE), and the model loaded and run.
import Foundation
import FuzzSupport
import Models
import Tokenizers
import WeightFiles

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let url = Scratch.write(input(data, size), to: "model.gguf")
    allowingErrors {
        let file = try GGUFFile(path: url.path)
        for (key, value) in file.metadata.entries {
            _ = (key, value.typeDescription, value.intValue, value.floatValue, value.stringArray, value.intArray, value.floatArray)
        }
        for tensor in file.tensors {
            allowingErrors { _ = try file.dequantize(tensor) }
        }
        allowingErrors { exercise(try SentencePieceTokenizer(vocabulary: SentencePieceVocabulary(gguf: file.metadata))) }
        allowingErrors { exercise(try GPT2Tokenizer(gguf: file.metadata)) }
    }
    allowingErrors { exercise(try DecoderModel.load(gguf: url)) }
    return 0
}

runFuzzer(fuzz)
