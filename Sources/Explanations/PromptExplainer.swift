// Why a prompt works, measured on a task's test examples with the prompt read as its token ids: each token's
// effect when removed and when replaced by a neutral function word, gradient × input saliency on the label
// margin, each token's affinity to the label words, prediction rates with and without the prompt, the examples the
// prompt flips, the shortest sub-prompt (by greedy removal) that keeps 90% of the gain, and plain guidelines read off
// those numbers (iPOE's step from explanations to rules). Every accuracy here is an exact evaluation, not an estimate.
import Foundation
import Models
import Tasks
import Tokenizers
import Tuning

public struct PromptExplanation: Codable, Sendable, Equatable {
    public struct Token: Codable, Sendable, Equatable {
        public var id: Int32
        public var text: String
        /// The prompt with this token removed, the rest spliced as ids.
        public var accuracyWithout: Double
        public var marginWithout: Double
        /// The neutral function word that replaces it (the one nearest it by cosine, other than itself), and the
        /// prompt's scores then.
        public var neutral: String
        public var accuracyNeutral: Double
        public var marginNeutral: Double
        /// Σ over the token's vector of gradient × input of the mean label margin.
        public var saliency: Double
        /// Cosine of the token's embedding to each label word's (its first token), in class order.
        public var labelAffinity: [Double]
        public var nearestLabelWord: String
    }

    public struct ClassRate: Codable, Sendable, Equatable {
        public var label: String
        /// Share of the examples predicted as this class, with the prompt and with no prompt.
        public var withPrompt: Double
        public var withoutPrompt: Double
    }

    public struct Flip: Codable, Sendable, Equatable {
        public var text: String
        public var label: String
        public var predictedWithout: String
        public var predictedWith: String
    }

    public struct SubPrompt: Codable, Sendable, Equatable {
        public var ids: [Int32]
        public var text: String
        public var accuracy: Double
        /// Its gain over no prompt ÷ the whole prompt's gain.
        public var gainKept: Double
    }

    /// The prompt's text typed into the template on another model, with that model's tokenizer.
    public struct Transfer: Codable, Sendable, Equatable {
        public var model: String
        /// On the other model: the text, and no prompt.
        public var accuracyText: Double
        public var accuracyEmpty: Double
        /// The same text on the prompt's own model, for comparison.
        public var accuracyTextHere: Double
    }

    public var task: String
    public var split: String
    public var template: String
    public var text: String
    public var examples: Int
    public var accuracy: Double
    public var margin: Double
    public var accuracyEmpty: Double
    public var marginEmpty: Double
    public var tokens: [Token]
    public var classes: [ClassRate]
    /// Examples wrong with no prompt and right with it, and the other way round: a few of each.
    public var fixed: [Flip]
    public var broken: [Flip]
    public var subPrompt: SubPrompt?
    public var neutralWords: [String]
    public var transfer: Transfer?
    public var guidelines: [String]
}

public final class PromptExplainer {
    /// Frequent function words a token may be replaced by: a word that says nothing about any task.
    public static let neutralWords = [" the", " a", " of", " and", " to", " in", " is", " it", ","]
    /// Flipped examples shown in each direction.
    static let flipsShown = 3
    /// The share of the prompt's gain the sub-prompt must keep.
    static let keptGain = 0.9

    let model: any CausalLM
    let tokenizer: any Tokenizer
    let task: PromptTask
    let classifier: PromptClassifier
    let testLimit: Int?
    let testRows: TestRows
    let rows: [Int]
    let examples: [EncodedExample]
    /// Whether scores run after the examples' cached prefixes, and that cache, made on first use (see cachedPrefixes).
    let cachesPrefixes: Bool
    private var prefixScorer: CachedPrefixClassifier?

    public init(model: any CausalLM, tokenizer: any Tokenizer, task: PromptTask, testLimit: Int?, testRows: TestRows = .spread, batchSize: Int = 16) {
        self.model = model; self.tokenizer = tokenizer; self.task = task; self.testLimit = testLimit; self.testRows = testRows
        classifier = PromptClassifier(model: model, verbalizer: task.verbalizer, batchSize: batchSize)
        rows = PromptTask.testIndices(count: task.test.count, limit: testLimit, rows: testRows)
        let examples = rows.map { task.test[$0] }
        self.examples = examples
        let prefixTokens = examples.reduce(0) { $0 + $1.prefix.count }
        cachesPrefixes = examples.contains { $0.prefix != examples.first?.prefix }
            && prefixTokens * model.makeCache(capacity: 1).bytesPerToken <= Self.prefixCacheBudget
    }

    /// Class scores of the test examples with a prompt of these ids (none: the template alone).
    func scores(_ ids: [Int32]) throws -> [[Float]] {
        if let cached = try cachedPrefixes(), !ids.isEmpty || examples.allSatisfy({ !$0.suffix.isEmpty }) {
            return try cached.labelLogProbabilities(prompts: [ids], examples: Array(examples.indices))[0]
        }
        return try classifier.labelLogProbabilities(examples, prompt: model.promptEmbeddings(of: ids))
    }

    /// Memory the examples' cached prefixes may take.
    static let prefixCacheBudget = 2 << 30

    /// With a sentence-first template ("{sentence} {prompt}") each example's prefix is its own and most of its tokens,
    /// and an explanation scores the same examples under some 2n + 2 + n²/2 prompts: their keys and values are
    /// computed once, on the first call, and each prompt then runs only [prompt | suffix]. nil when the examples share
    /// their prefix (the classifier runs a shared start once per call already) or the cache would pass the budget.
    private func cachedPrefixes() throws -> CachedPrefixClassifier? {
        guard cachesPrefixes else { return nil }
        if let prefixScorer { return prefixScorer }
        prefixScorer = try CachedPrefixClassifier(model: model, examples: examples, verbalizer: task.verbalizer,
                                                  sequencesPerPass: max(classifier.batchSize, 64))
        return prefixScorer
    }

    func accuracy(_ scores: [[Float]]) -> Double { PromptClassifier.accuracy(scores, examples) }

    func margin(_ scores: [[Float]]) -> Double {
        zip(scores, examples).reduce(0.0) { $0 + PromptClassifier.margin($1.0, label: $1.1.label) } / Double(max(examples.count, 1))
    }

    /// `progress` receives a short label before each pass over the examples.
    public func explain(ids: [Int32], progress: (String) -> Void = { _ in }) throws -> PromptExplanation {
        guard !ids.isEmpty else { throw TuningError.invalidConfiguration("the prompt has no tokens to explain") }
        guard !examples.isEmpty else { throw TuningError.invalidConfiguration("the task has no test examples to explain the prompt on") }
        let labels = task.definition.labels.count == task.verbalizer.classCount ? task.definition.labels : task.verbalizer.words
        progress("the prompt")
        let withPrompt = try scores(ids)
        progress("no prompt")
        let without = try scores([])
        let (accuracy, accuracyEmpty) = (self.accuracy(withPrompt), self.accuracy(without))

        progress("saliency")
        let prompt = try model.promptEmbeddings(of: ids)
        let (margin, gradient) = try classifier.marginAndGradient(examples, prompt: prompt)
        let C = model.width
        let neutral = neutralTokens()
        guard neutral.count >= 2 else {
            throw TuningError.invalidConfiguration("this tokenizer writes fewer than two of the neutral words \(Self.neutralWords) as one token each")
        }
        var tokens: [PromptExplanation.Token] = []
        for (i, id) in ids.enumerated() {
            progress("token \(i + 1) of \(ids.count)")
            var removed = ids
            removed.remove(at: i)
            let removedScores = try scores(removed)
            let affinity = labelAffinity(id)
            // A token that is itself a neutral word is replaced by the nearest other one.
            let replacement = neutral.filter { $0.id != id }.max { embeddingCosine(model, id, $0.id) < embeddingCosine(model, id, $1.id) }!
            var replaced = ids
            replaced[i] = replacement.id
            let replacedScores = try scores(replaced)
            let saliency = (0..<C).reduce(0.0) { $0 + Double(gradient[i * C + $1]) * Double(prompt.values[i * C + $1]) }
            tokens.append(PromptExplanation.Token(
                id: id, text: tokenizer.decode([id]), accuracyWithout: self.accuracy(removedScores), marginWithout: self.margin(removedScores),
                neutral: replacement.text, accuracyNeutral: self.accuracy(replacedScores), marginNeutral: self.margin(replacedScores),
                saliency: saliency, labelAffinity: affinity,
                nearestLabelWord: task.verbalizer.words[affinity.indices.max { affinity[$0] < affinity[$1] }!]))
        }

        let predicted = withPrompt.map(PromptClassifier.predicted), predictedEmpty = without.map(PromptClassifier.predicted)
        let K = task.verbalizer.classCount, n = Double(examples.count)
        let classes = (0..<K).map { k in
            PromptExplanation.ClassRate(label: labels[k], withPrompt: Double(predicted.filter { $0 == k }.count) / n,
                                        withoutPrompt: Double(predictedEmpty.filter { $0 == k }.count) / n)
        }
        let flip = { (e: Int) in
            PromptExplanation.Flip(text: self.task.data.test[self.rows[e]].text, label: labels[self.examples[e].label],
                                   predictedWithout: labels[predictedEmpty[e]], predictedWith: labels[predicted[e]])
        }
        let fixed = examples.indices.filter { predictedEmpty[$0] != examples[$0].label && predicted[$0] == examples[$0].label }
        let broken = examples.indices.filter { predictedEmpty[$0] == examples[$0].label && predicted[$0] != examples[$0].label }

        let sub = accuracy > accuracyEmpty ? try shortestSubPrompt(ids, accuracy: accuracy, accuracyEmpty: accuracyEmpty, progress: progress) : nil
        var explanation = PromptExplanation(
            task: task.definition.name, split: task.split, template: task.template.text, text: tokenizer.decode(ids), examples: examples.count,
            accuracy: accuracy, margin: margin, accuracyEmpty: accuracyEmpty, marginEmpty: self.margin(without), tokens: tokens,
            classes: classes, fixed: fixed.prefix(Self.flipsShown).map(flip), broken: broken.prefix(Self.flipsShown).map(flip),
            subPrompt: sub, neutralWords: neutral.map(\.text), transfer: nil, guidelines: [])
        explanation.guidelines = Guidelines.read(explanation)
        return explanation
    }

    /// Accuracy with a text prompt typed into the template ("" for none), on the same test rows.
    public func textAccuracy(_ text: String) throws -> Double {
        let typed = try task.testWithText(text, tokenizer: tokenizer, limit: testLimit, rows: testRows)
        let scores = try classifier.labelLogProbabilities(typed, prompt: PromptEmbeddings.empty(width: model.width))
        return PromptClassifier.accuracy(scores, typed)
    }

    /// Adds how the explanation's text does on `other` (an explainer of the same task on another model), and the
    /// guideline that says so.
    public func addTransfer(to explanation: inout PromptExplanation, on other: PromptExplainer, modelName: String,
                            progress: (String) -> Void = { _ in }) throws {
        progress("the text here")
        let here = try textAccuracy(explanation.text)
        progress("the text on \(modelName)")
        let there = try other.textAccuracy(explanation.text)
        progress("no prompt on \(modelName)")
        explanation.transfer = PromptExplanation.Transfer(model: modelName, accuracyText: there, accuracyEmpty: try other.textAccuracy(""),
                                                          accuracyTextHere: here)
        explanation.guidelines = Guidelines.read(explanation)
    }

    /// Greedy removal: drop, one at a time, the token whose removal keeps the most accuracy, while the rest keeps at
    /// least 90% of the prompt's gain over no prompt. The result's accuracy is that of its own evaluation.
    func shortestSubPrompt(_ ids: [Int32], accuracy: Double, accuracyEmpty: Double, progress: (String) -> Void) throws -> PromptExplanation.SubPrompt {
        let floor = accuracyEmpty + Self.keptGain * (accuracy - accuracyEmpty)
        var (current, currentAccuracy) = (ids, accuracy)
        while current.count > 1 {
            progress("shortest sub-prompt: \(current.count) tokens")
            var best: (ids: [Int32], accuracy: Double)?
            for i in current.indices {
                var shorter = current
                shorter.remove(at: i)
                let a = self.accuracy(try scores(shorter))
                if a >= floor, a > best?.accuracy ?? -1 { best = (shorter, a) }
            }
            guard let best else { break }
            (current, currentAccuracy) = best
        }
        return PromptExplanation.SubPrompt(ids: current, text: tokenizer.decode(current), accuracy: currentAccuracy,
                                           gainKept: (currentAccuracy - accuracyEmpty) / (accuracy - accuracyEmpty))
    }

    /// The neutral words this tokenizer writes as one token.
    func neutralTokens() -> [(id: Int32, text: String)] {
        Self.neutralWords.compactMap { word in
            let ids = tokenizer.encode(word)
            return ids.count == 1 && Int(ids[0]) < model.vocabularySize ? (ids[0], word) : nil
        }
    }

    func labelAffinity(_ id: Int32) -> [Double] { task.verbalizer.firstTokens.map { embeddingCosine(model, id, $0) } }
}
