// Fuzz target: a task's few-shot data and its task.json. The input is `rows [<partSeparator> task.json]`. The rows
// are read as .tsv, .csv and .jsonl in turn; whichever reads is then laid out as a task folder (the same rows for
// train, dev and test) and loaded as tuning loads it: labels resolved, template parsed, every example encoded.
import Foundation
import FuzzSupport
import Tasks
import Tokenizers

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let files = parts(of: input(data, size))
    let root = Scratch.folder.appendingPathComponent("data")
    if files.count > 1 { Scratch.write(files[1], to: "data/fuzz/task.json") } else { Scratch.remove("data/fuzz/task.json") }
    var description = TaskDescription()
    allowingErrors { description = try TaskDescription.read(taskFolder: root.appendingPathComponent("fuzz")) ?? description }
    for format in DataFileFormat.allCases {
        var readable = false
        allowingErrors {
            _ = try DataFile.read(Scratch.write(files[0], to: "rows.\(format.rawValue)"), columns: description.columns)
            readable = true
        }
        guard readable else { continue }
        // Exactly one file per split: the other formats' files would be refused as ambiguous.
        for other in DataFileFormat.allCases where other != format {
            for split in ["train", "dev", "test"] { Scratch.remove("data/fuzz/s/\(split).\(other.rawValue)") }
        }
        for split in ["train", "dev", "test"] { Scratch.write(files[0], to: "data/fuzz/s/\(split).\(format.rawValue)") }
        allowingErrors { _ = try PromptTask(name: "fuzz", split: "s", dataRoot: root, tokenizer: byteTokenizer) }
    }
    return 0
}

runFuzzer(fuzz)
