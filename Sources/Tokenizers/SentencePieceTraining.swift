// Training a SentencePiece model with libsentencepiece's trainer (spm_train's flags), through the shim.

import CSentencePiece
import Foundation

private let trainingLock = NSLock()

extension SentencePieceTokenizer {
    /// Trains a model on the text file `input` (one sentence per line) and writes `<modelPrefix>.model`
    /// and `<modelPrefix>.vocab`; returns the model file. `options` are further spm_train flags
    /// (`["character_coverage": "1.0"]`). With `quiet` (the default) the library's progress log is silenced.
    @discardableResult
    public static func train(
        input: URL, modelPrefix: URL, vocabularySize: Int, modelType: SentencePieceVocabulary.ModelType = .unigram,
        options: [String: String] = [:], quiet: Bool = true
    ) throws -> URL {
        let typeName: String
        switch modelType {
        case .unigram: typeName = "unigram"
        case .bpe: typeName = "bpe"
        case .word: typeName = "word"
        case .character: typeName = "char"
        }
        for path in [input.path, modelPrefix.path] where path.contains(where: \.isWhitespace) {
            throw TokenizerError.sentencePiece(
                operation: "train a model", message: "the trainer's flag string cannot carry the path \(path), which contains a space")
        }
        var flags = [
            "--input=\(input.path)", "--model_prefix=\(modelPrefix.path)",
            "--vocab_size=\(vocabularySize)", "--model_type=\(typeName)",
        ]
        for (key, value) in options.sorted(by: { $0.key < $1.key }) { flags.append("--\(key)=\(value)") }
        try train(arguments: flags.joined(separator: " "), quiet: quiet)
        return URL(fileURLWithPath: modelPrefix.path + ".model")
    }

    /// Runs the trainer with a flag string as spm_train takes it. Paths must not contain spaces.
    /// Calls are serialized: the library's trainer keeps global state, and two trainings at once
    /// produce wrong models.
    public static func train(arguments: String, quiet: Bool = true) throws {
        trainingLock.lock()
        defer { trainingLock.unlock() }
        if let message = take(csp_train(arguments, quiet ? 1 : 0)) {
            throw TokenizerError.sentencePiece(operation: "train a model", message: message)
        }
    }
}
