// Errors from loading or building a tokenizer: what went wrong, where, and what to do about it.

/// A tokenizer could not be loaded or built. The description is written for the person running the program.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// The directory holds none of the tokenizer files this package reads.
    case noTokenizerFiles(directory: String)
    /// A file could not be read.
    case unreadableFile(path: String, reason: String)
    /// A file was read but its content is not what its format requires.
    case malformedFile(path: String, reason: String)
    /// The file is valid but describes a tokenizer this package does not implement.
    case unsupported(path: String, reason: String)
    /// libsentencepiece rejected a model or an operation; `message` is the library's own.
    case sentencePiece(operation: String, message: String)
    /// Vocabulary arrays handed to a builder are inconsistent.
    case invalidVocabulary(reason: String)
    /// The directory holds several `.gguf` files, each with its own vocabulary, and nothing says which to read.
    case severalGGUFFiles(directory: String, files: [String])

    public var description: String {
        switch self {
        case .noTokenizerFiles(let directory):
            return "No tokenizer files in \(directory). Expected one of: tokenizer.json, "
                + "vocab.json + merges.txt, encoder.json + vocab.bpe (GPT-2), tokenizer.model (SentencePiece), "
                + "or a single .gguf file. "
                + "Hint: for GPT-2, copy OpenAI's encoder.json and vocab.bpe into that directory."
        case .unreadableFile(let path, let reason):
            return "Cannot read \(path): \(reason)"
        case .malformedFile(let path, let reason):
            return "\(path) is not a valid tokenizer file: \(reason)"
        case .unsupported(let path, let reason):
            return "\(path) describes a tokenizer that is not supported: \(reason)"
        case .sentencePiece(let operation, let message):
            return "SentencePiece could not \(operation): \(message)"
        case .invalidVocabulary(let reason):
            return "Invalid tokenizer vocabulary: \(reason)"
        case .severalGGUFFiles(let directory, let files):
            return "\(directory) holds \(files.count) .gguf files (\(files.joined(separator: ", "))), each with its own "
                + "vocabulary; give the path of the model's .gguf file, or keep one per directory"
        }
    }
}
