// How close two tokens are in the model's input embedding: the cosine of their rows, which affinity to a label word
// (explain) and the label-word-like edit family (edits) both read.
import Models
import Tokenizers

/// The cosine of two tokens' embedding rows.
public func embeddingCosine(_ model: any CausalLM, _ a: Int32, _ b: Int32) -> Double {
    let C = model.width, e = model.tokenEmbeddings
    let (x, y) = (e + Int(a) * C, e + Int(b) * C)
    var (dot, xx, yy) = (0.0, 0.0, 0.0)
    for c in 0..<C { dot += Double(x[c]) * Double(y[c]); xx += Double(x[c]) * Double(x[c]); yy += Double(y[c]) * Double(y[c]) }
    return dot / max((xx * yy).squareRoot(), 1e-12)
}

/// A token's largest cosine to a set of label words (their first tokens), the words' ids looked up once per set.
public final class LabelWordCosine {
    let model: any CausalLM
    let tokenizer: any Tokenizer
    var wordIds: [[String]: [Int32]] = [:]

    public init(model: any CausalLM, tokenizer: any Tokenizer) { self.model = model; self.tokenizer = tokenizer }

    /// nil for a token outside the model's vocabulary or words the tokenizer writes as nothing.
    public func largest(_ id: Int32, words: [String]) -> Double? {
        if wordIds[words] == nil { wordIds[words] = words.compactMap { tokenizer.encode($0).first } }
        guard id >= 0, Int(id) < model.vocabularySize else { return nil }
        return wordIds[words]!.filter { Int($0) < model.vocabularySize }.map { embeddingCosine(model, id, $0) }.max()
    }
}
