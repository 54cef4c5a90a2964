// What the fuzz targets share: a scratch folder for the readers that take paths, one input cut into several
// files, the rule that a thrown error is a handled input (crashes, traps, sanitizer reports, hangs and runaway
// memory are the findings), and what a target does with a tokenizer or a model a file built.
import Foundation
import CLibFuzzer
import Models
import Tokenizers

public enum Scratch {
    /// One folder per process, reused by every input; removed when libFuzzer exits normally.
    public static let folder: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("legible-fuzz-\(getpid())")
        try? FileManager.default.removeItem(at: url)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: Scratch.folder) }
        return url
    }()

    /// Writes `bytes` to `name` (a path relative to the scratch folder, subfolders created) and returns its URL.
    @discardableResult
    public static func write(_ bytes: some Sequence<UInt8>, to name: String) -> URL {
        let url = folder.appendingPathComponent(name)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        // Plain POSIX calls: FileManager writes through a temporary file and a rename, which cost more than most reads.
        // A failed write would make the reader see a stale file, not a crash: stop loudly instead.
        let bytes = Array(bytes)
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0, bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == bytes.count, close(fd) == 0 else {
            fatalError("cannot write the fuzz input to \(url.path): \(String(cString: strerror(errno)))")
        }
        return url
    }

    /// Removes `name` from the scratch folder if it is there.
    public static func remove(_ name: String) {
        try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
    }
}

/// Between the files of one input (config.json and model.safetensors, vocab.json and merges.txt, a data file and
/// its task.json). Text, so the seed files stay readable; the seeds hold it, so mutations mostly keep it.
public let partSeparator = Array("\n--8<--\n".utf8)

/// The input cut at each `partSeparator`; an input without one is a single part.
public func parts(of input: UnsafeBufferPointer<UInt8>) -> [ArraySlice<UInt8>] {
    let bytes = Array(input)
    var parts: [ArraySlice<UInt8>] = []
    var start = 0, i = 0
    while i + partSeparator.count <= bytes.count {
        if bytes[i..<(i + partSeparator.count)].elementsEqual(partSeparator) {
            parts.append(bytes[start..<i])
            i += partSeparator.count
            start = i
        } else {
            i += 1
        }
    }
    parts.append(bytes[start...])
    return parts
}

/// Runs one reader on an input. An error is the reader doing its job; its message is built too, since a message
/// can trap as well (a range or a format string built from the bad value).
public func allowingErrors(_ body: () throws -> Void) {
    do { try body() } catch { _ = String(describing: error) }
}

/// The fuzzer's bytes as a buffer.
public func input(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(start: size > 0 ? data : nil, count: size)
}

/// GPT-2's byte alphabet with no merges: one token per byte, so any text encodes (the data or the state is under test,
/// not the tokenizer).
public let byteTokenizer: GPT2Tokenizer = {
    var vocabulary: [String: Int32] = [:]
    var next: UInt32 = 256
    for byte in 0..<256 {
        let printable = (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte)
        let scalar = printable ? Unicode.Scalar(UInt32(byte))! : Unicode.Scalar(next)!
        if !printable { next += 1 }
        vocabulary[String(scalar)] = Int32(byte)
    }
    return try! GPT2Tokenizer(vocabulary: vocabulary, merges: [], addedTokens: ["<|endoftext|>": 256])
}()

/// Text with what tokenizers treat specially: punctuation, runs of spaces, a tab and line breaks, digits,
/// accents, other scripts, an emoji, and special tokens written out.
public let sampleText = "Hello, world!  It was great.\n\t\r\n 12345 café naïve 日本語 🙂 <|endoftext|><bos><start_of_turn>user"

/// Uses a tokenizer a file built the way tuning does: every id `encode` gives must be inside the vocabulary, since
/// the model indexes its embedding table by them; decoding and the readable forms must not trap on any id.
public func exercise(_ tokenizer: any Tokenizer, text: String = sampleText) {
    let ids = tokenizer.encode(text, addSpecial: true)
    for id in ids where id < 0 || Int(id) >= tokenizer.vocabularySize {
        fatalError("encode gave id \(id) outside the vocabulary of \(tokenizer.vocabularySize)")
    }
    _ = tokenizer.decode(ids + [-1, Int32(clamping: tokenizer.vocabularySize), .max])
    for id in ids.prefix(64) + [0, -1, Int32(clamping: tokenizer.vocabularySize)] {
        _ = tokenizer.readableToken(for: id)
        if let token = tokenizer.token(for: id) { _ = tokenizer.id(for: token) }
    }
}

/// Starts libFuzzer with the command line and `testOneInput`; returns only through exit.
public func runFuzzer(_ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
}

/// Runs a model a file built, as tuning and `legible generate` do: a forward and backward pass over a batch of two,
/// and a few greedy tokens through the key/value cache. The loader's checks exist so that the configuration
/// (context, heads, window) cannot crash these; the weights may be anything.
public func exercise(_ model: any CausalLM) {
    let ids = (0..<5).map { Int32($0 % model.vocabularySize) }
    allowingErrors {
        let logits = try model.forward(ids: [ids, [ids[0]]]) { .allTokens(of: $0) }
        let dLogits = [Float](repeating: 0.01, count: logits.rows * logits.columns)
        _ = try model.backward(dLogits: dLogits, mode: .frozenWeights)
    }
    allowingErrors { try model.generate(prompt: ids, options: GenerationOptions(maxTokens: 3)) }
}
