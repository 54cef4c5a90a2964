// Measures a prompt on a task's test set: accuracy and per-class prediction rates with the soft prompt, its
// projection and its text; zero-shot baselines; faithfulness (soft vs projected, and soft vs no prompt as the
// baseline for agreement) and scrutability (how readable the text is).
import Foundation
import Models
import Tasks
import Tokenizers
import Tuning

public struct PromptEvaluation: Sendable {
    public var test: RunReport.Test
    public var zeroShot: RunReport.ZeroShot
    public var faithfulness: RunReport.Faithfulness
    public var scrutability: RunReport.Scrutability
    public var prompt: RunReport.Prompt
    public var seconds: Double
}

public final class PromptEvaluator {
    public let model: any CausalLM
    public let tokenizer: any Tokenizer
    public let task: PromptTask
    public let batchSize: Int
    /// Evaluate on `testLimit` test examples spread evenly over the test file (nil: all of them).
    public let testLimit: Int?
    /// Which rows a limited evaluation reads.
    public let testRows: TestRows
    /// Where zero-shot scores computed for the same model are kept (nil: computed every time).
    public let zeroShotCache: ZeroShotCache?
    /// Whether a start every test example shares (`<bos>` and the prompt, with a prompt-first template) is run once
    /// per pass (PromptClassifier.sharesStart); off only to measure what that saves.
    public let sharesStart: Bool

    public init(model: any CausalLM, tokenizer: any Tokenizer, task: PromptTask, batchSize: Int = 16, testLimit: Int? = nil,
                testRows: TestRows = .spread, zeroShotCache: ZeroShotCache? = nil, sharesStart: Bool = true) {
        self.model = model; self.tokenizer = tokenizer; self.task = task; self.batchSize = batchSize; self.testLimit = testLimit
        self.testRows = testRows; self.zeroShotCache = zeroShotCache; self.sharesStart = sharesStart
    }

    /// Scores of the test rows with a text prompt typed into the template, from the cache when it has them.
    func zeroShotScores(_ text: String, classifier: PromptClassifier, announce: () -> Void) throws -> [[Float]] {
        let examples = try task.testWithText(text, tokenizer: tokenizer, limit: testLimit, rows: testRows)
        func compute() throws -> [[Float]] {
            announce()
            return try classifier.labelLogProbabilities(examples, prompt: PromptEmbeddings.empty(width: model.width))
        }
        guard let zeroShotCache else { return try compute() }
        return try zeroShotCache.scores(examples: examples, verbalizer: task.verbalizer, precision: model.products.precision,
                                         compute: compute)
    }

    var testExamples: [EncodedExample] { task.testExamples(limit: testLimit, rows: testRows) }

    /// `soft` is the continuous prompt when there is one; `ids` the tokens it is read as.
    /// `progress` receives a short label before each pass over the test set.
    public func evaluate(soft: PromptEmbeddings?, ids: [Int32], progress: (String) -> Void = { _ in }) throws -> PromptEvaluation {
        let started = Date()
        let classifier = PromptClassifier(model: model, verbalizer: task.verbalizer, batchSize: batchSize, sharesStart: sharesStart)
        let projector = VocabularyProjector(model: model, allowed: [Bool](repeating: true, count: model.vocabularySize))
        let examples = testExamples
        let projected = try projector.embeddings(of: ids)
        let text = tokenizer.decode(ids)

        progress("projected prompt")
        let projectedScores = try classifier.labelLogProbabilities(examples, prompt: projected)
        var softScores = projectedScores
        if let soft {
            progress("soft prompt")
            softScores = try classifier.labelLogProbabilities(examples, prompt: soft)
        }
        progress("prompt as text")
        let empty = PromptEmbeddings.empty(width: model.width)
        let textScores = try classifier.labelLogProbabilities(try task.testWithText(text, tokenizer: tokenizer, limit: testLimit, rows: testRows), prompt: empty)
        let emptyScores = try zeroShotScores("", classifier: classifier) { progress("zero-shot, no prompt") }
        let manual = task.definition.manualPrompt
        var manualScores: [[Float]]?
        if let manual {
            manualScores = try zeroShotScores(manual, classifier: classifier) { progress("zero-shot, manual prompt") }
        }

        // A non-finite weight or prompt value turns every score into NaN, and NaN compares false: the "accuracy"
        // would be that of always answering the first class. Say so instead.
        for (name, scores) in [("the prompt", projectedScores), ("the soft prompt", softScores), ("the prompt as text", textScores),
                               ("no prompt", emptyScores)] where scores.contains(where: { $0.contains { !$0.isFinite } }) {
            throw TuningError.invalidConfiguration("the model's class scores with \(name) are not finite numbers: its weights or the prompt hold NaN or infinity")
        }
        let softAccuracy = PromptClassifier.accuracy(softScores, examples)
        let projectedAccuracy = PromptClassifier.accuracy(projectedScores, examples)
        let kl = zip(softScores, projectedScores).reduce(0.0) { total, pair in
            total + zip(pair.0, pair.1).reduce(0.0) { $0 + Double(Foundation.exp($1.0)) * Double($1.0 - $1.1) }
        } / Double(max(examples.count, 1))
        let cosines = soft.map { projector.cosine($0, ids) } ?? [Float](repeating: 1, count: ids.count)
        let K = task.verbalizer.classCount
        let rates = { (scores: [[Float]]) in ClassRates.predicted(scores, classes: K) }

        let fluency = FluencyScorer(model: model, start: tokenizer.specialTokens.beginningOfSequence ?? tokenizer.specialTokens.endOfText ?? 0)
        let readable = ReadabilityMetrics(ids: ids, tokenizer: tokenizer)
        return PromptEvaluation(
            test: RunReport.Test(accuracy: soft == nil ? nil : softAccuracy, accuracyProjected: projectedAccuracy,
                                 accuracyText: PromptClassifier.accuracy(textScores, examples), examples: examples.count,
                                 labelRates: ClassRates.labels(examples, classes: K),
                                 predictionRates: RunReport.PredictionRates(soft: soft == nil ? nil : rates(softScores),
                                                                            projected: rates(projectedScores), text: rates(textScores)),
                                 rows: testLimit.map { $0 < task.test.count ? testRows : nil } ?? nil),
            zeroShot: RunReport.ZeroShot(accuracyEmpty: PromptClassifier.accuracy(emptyScores, examples),
                                         accuracyManual: manualScores.map { PromptClassifier.accuracy($0, examples) }, manualPrompt: manual,
                                         predictionRatesEmpty: rates(emptyScores), predictionRatesManual: manualScores.map(rates),
                                         manualLogPerplexity: try manual.map { Double(try fluency.logPerplexity(of: tokenizer.encode($0))) }),
            faithfulness: RunReport.Faithfulness(kl: kl, agreement: ClassRates.agreement(softScores, projectedScores),
                                                 accuracyGap: softAccuracy - projectedAccuracy,
                                                 cosineToNearest: cosines.isEmpty ? 1 : Double(cosines.reduce(0, +)) / Double(cosines.count),
                                                 agreementEmpty: soft == nil ? nil : ClassRates.agreement(softScores, emptyScores)),
            scrutability: RunReport.Scrutability(logPerplexity: Double(try fluency.logPerplexity(of: tokenizer.encode(text))),
                                                 distinctRatio: readable.distinctRatio, wordRatio: readable.wordRatio,
                                                 oddTokens: readable.oddTokens),
            prompt: RunReport.Prompt(ids: ids, text: text, tokens: tokenizer.readableTokens(for: ids)),
            seconds: Date().timeIntervalSince(started))
    }
}

/// Readability of a token sequence, independent of the model.
public struct ReadabilityMetrics: Sendable, Equatable {
    /// Distinct tokens ÷ tokens: 1 when no token repeats.
    public var distinctRatio: Double
    /// Share of tokens that start a word and are all letters.
    public var wordRatio: Double
    /// Tokens a person would find odd: special, non-ASCII, or neither word nor punctuation.
    public var oddTokens: Int

    public init(ids: [Int32], tokenizer: any Tokenizer) {
        let n = Double(max(ids.count, 1))
        distinctRatio = Double(Set(ids).count) / n
        let texts = ids.map { tokenizer.decode([$0]) }
        wordRatio = Double(texts.filter(TokenFilter.isWholeWord).count) / n
        oddTokens = zip(ids, texts).filter { id, text in
            TokenFilter.isSpecial(id, tokenizer) || !text.unicodeScalars.allSatisfy(\.isASCII)
                || !(TokenFilter.isWord(text) || Self.isPunctuation(text))
        }.count
    }

    static func isPunctuation(_ text: String) -> Bool {
        let body = text.trimmingCharacters(in: .whitespaces)
        return !body.isEmpty && body.unicodeScalars.allSatisfy { CharacterSet.punctuationCharacters.contains($0) || CharacterSet.decimalDigits.contains($0) }
    }
}
