// Fuzz target: GPT-2 tokenizer files. The input is cut at each `partSeparator`: the first part is read as a
// tokenizer.json, and with a second part the two are read as vocab.json + merges.txt; a third part, when present,
// is the text each tokenizer built encodes (else `sampleText`).
import Foundation
import FuzzSupport
import Tokenizers

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let files = parts(of: input(data, size))
    let text = files.count > 2 ? String(decoding: files[2], as: UTF8.self) : sampleText
    let json = Scratch.write(files[0], to: "tokenizer.json")
    allowingErrors { exercise(try GPT2Tokenizer(tokenizerJSON: json), text: text) }
    if files.count > 1 {
        let vocabulary = Scratch.write(files[0], to: "vocab.json")
        let merges = Scratch.write(files[1], to: "merges.txt")
        allowingErrors { exercise(try GPT2Tokenizer(vocabularyFile: vocabulary, mergesFile: merges), text: text) }
    }
    return 0
}

runFuzzer(fuzz)
