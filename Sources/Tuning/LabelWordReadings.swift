// Label words of several tokens. A word's score is the sum of its tokens' log-probabilities,
// log p(w₁ | x) + log p(w₂ | x, w₁) + …, each from the softmax over the whole vocabulary at its position, and the
// classes' log-probabilities are the log-softmax of these scores over the words. With one token per word the
// softmax's normalizer is the same for every word and cancels, so the words' bare logits give the same classes:
// the classifiers keep that cheaper path, and use these readings only when some word is longer.
//
// Each example's context x runs once per continuation (x followed by some word's leading tokens), and the head
// reads a full-vocabulary row wherever a word's next token is predicted. Words that begin with the same tokens
// share those rows; the context's own last row predicts every word's first token.
// Dimensions: K words, R readings (head rows) per example, S continuations per example, V vocabulary.
import Kernels
import Models

struct LabelWordReadings {
    struct Reading {
        /// The continuation whose sequence holds this row.
        var continuation: Int
        /// Word tokens before the row: 0 is the context's last token.
        var depth: Int
        /// Each word whose next token this row predicts, with that token.
        var targets: [(word: Int, token: Int32)]
    }

    let wordCount: Int
    /// Word tokens appended to each example's context, one sequence per continuation.
    let continuations: [[Int32]]
    let readings: [Reading]

    init(_ verbalizer: Verbalizer) {
        let words = verbalizer.tokens
        // The leading tokens after which some word goes on: a row is read after each.
        var starts: [[Int32]] = []
        for word in words {
            for depth in 0..<word.count where !starts.contains(Array(word.prefix(depth))) { starts.append(Array(word.prefix(depth))) }
        }
        // A sequence through the longest starts passes through every shorter one on its way.
        let continuations = starts.filter { start in !starts.contains { $0.count > start.count && $0.starts(with: start) } }
        readings = starts.map { start in
            Reading(continuation: continuations.firstIndex { $0.starts(with: start) }!, depth: start.count,
                    targets: words.indices.filter { words[$0].count > start.count && words[$0].starts(with: start) }
                        .map { (word: $0, token: words[$0][start.count]) })
        }
        self.continuations = continuations
        wordCount = words.count
    }

    /// Packed rows (examples × R, example-major) of a batch that holds, for each example in turn, its context
    /// followed by each continuation; `contextLengths` are the examples' tokens before the continuations.
    func headRows(in batch: RaggedBatch, contextLengths: [Int]) -> [Int] {
        let S = continuations.count
        precondition(batch.count == contextLengths.count * S, "one sequence per example and continuation")
        return contextLengths.enumerated().flatMap { example, length in
            readings.map { batch.offsets[example * S + $0.continuation] + length - 1 + $0.depth }
        }
    }

    /// One example's word scores (K) from the logits (R, V) at its readings: for each word, the sum over its tokens
    /// of logit − log Σ exp(row). `scratch` holds V floats.
    func wordScores(logits: UnsafePointer<Float>, vocabularySize V: Int, scratch: UnsafeMutablePointer<Float>,
                    into scores: UnsafeMutablePointer<Float>) {
        scores.update(repeating: 0, count: wordCount)
        for (r, reading) in readings.enumerated() {
            let row = logits + r * V
            scratch.update(from: row, count: V)
            let logNormalizer = Float(softmaxRow(scratch, count: V))
            for target in reading.targets { scores[target.word] += row[Int(target.token)] - logNormalizer }
        }
    }

    /// d(loss)/d(logits) (R, V) for one example from d(loss)/d(word scores) (K): a row adds, for each word it
    /// predicts, dScore · (onehot(token) − softmax(row)).
    func logitsGradient(dScores: UnsafePointer<Float>, logits: UnsafePointer<Float>, vocabularySize V: Int,
                        into dLogits: UnsafeMutablePointer<Float>) {
        for (r, reading) in readings.enumerated() {
            let d = dLogits + r * V
            d.update(from: logits + r * V, count: V)
            softmaxRow(d, count: V)
            scaleInPlace(d, -reading.targets.reduce(0) { $0 + dScores[$1.word] }, count: V)
            for target in reading.targets { d[Int(target.token)] += dScores[target.word] }
        }
    }
}
