// Evaluation with a prompt-first template runs the examples' shared start, [prefix | prompt], once and each
// suffix after its cached keys and values. The scores must be those of running every example whole. Tolerance
// 1e-5 on log-probabilities: the same float32 arithmetic in other GEMM shapes and summation orders, on tiny
// models whose logits are O(1), differs by a few 1e-7.
import Testing
import Kernels
import Models
import TestSupport
@testable import Tuning

@Suite struct SharedStartTests {
    /// Ids below 50 so that every tiny model (Gemma's vocabulary is 50) reads them.
    static let verbalizers = [Verbalizer(words: ["a", "b"], tokens: [[3], [9]]),
                              Verbalizer(words: ["a b", "c", "a d"], tokens: [[3, 4], [9], [3, 11]])]
    static let models: [(String, () -> DecoderModel)] = [("gpt-2", { Tiny.model() }), ("gemma 3, window 3", { Tiny.gemma() }),
                                                         ("qwen2, untied", { Tiny.untied() })]

    static func examples(prefix: [Int32], count: Int = 7, seed: UInt64 = 11) -> [EncodedExample] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { i in
            EncodedExample(prefix: prefix, suffix: (0..<(2 + Int(rng.next() % 6))).map { _ in Int32(1 + rng.next() % 48) }, label: i % 2)
        }
    }

    static func prompt(length: Int, width: Int) -> PromptEmbeddings {
        PromptEmbeddings(length: length, width: width, values: randomArray(length * width, seed: 21, scale: 0.5))
    }

    @Test(arguments: 0..<3, [0, 1])
    func sharedStartScoresEqualWholeSequences(model m: Int, verbalizer v: Int) throws {
        let (name, make) = Self.models[m]
        let model = make()
        let classifier = PromptClassifier(model: model, verbalizer: Self.verbalizers[v], batchSize: 3)
        for promptLength in [0, 3] {
            let examples = Self.examples(prefix: [2, 7]), prompt = Self.prompt(length: promptLength, width: model.width)
            #expect(PromptClassifier.SharedStart(examples, prompt: prompt) != nil)
            let shared = try classifier.labelLogProbabilities(examples, prompt: prompt)
            let whole = try classifier.wholeLabelLogProbabilities(examples, prompt: prompt)
            #expect(shared.count == examples.count)
            for (a, b) in zip(shared, whole) {
                #expect(maxAbsDifference(a, b) < 1e-5, "\(name), prompt length \(promptLength): \(a) vs \(b)")
            }
        }
    }

    /// A training step's forward and backward with the shared start in the batch: the class scores and the prompt's
    /// gradient are those of running every example whole (the gradient summed over the sequences' copies of the start).
    @Test(arguments: 0..<3, [0, 1])
    func aTrainingStepWithTheSharedStartMatchesWholeSequences(model m: Int, verbalizer v: Int) throws {
        let (name, make) = Self.models[m]
        let model = make()
        let classifier = PromptClassifier(model: model, verbalizer: Self.verbalizers[v], batchSize: 3)
        let examples = Self.examples(prefix: [2, 7]), prompt = Self.prompt(length: 3, width: model.width)
        let K = Self.verbalizers[v].classCount
        let dScores = randomArray(examples.count * K, seed: 41)
        func step(sharing: Bool) throws -> (scores: [Float], gradient: [Float], rows: Int) {
            let logits = try classifier.forward(examples[...], prompt: prompt, sharingStart: sharing)
            let scores = (0..<logits.rows).flatMap { Array(logits.row($0)) }
            var gradient = [Float](repeating: 0, count: prompt.values.count)
            try dScores.withUnsafeBufferPointer { try classifier.promptGradient(dLogits: $0.baseAddress!, prompt: prompt, into: &gradient) }
            return (scores, gradient, classifier.prompted.batch.tokenCount)
        }
        let whole = try step(sharing: false), shared = try step(sharing: true)
        #expect(maxAbsDifference(shared.scores, whole.scores) < 1e-5, "\(name): scores")
        #expect(relativeError(shared.gradient.doubles, whole.gradient.doubles) < 1e-5, "\(name): prompt gradient")
        // The start, two prefix ids and three prompt rows, is stored once instead of once per sequence.
        let sequences = classifier.prompted.batch.count
        #expect(sequences >= examples.count && classifier.prompted.batch.sharedStart == 5)
        #expect(shared.rows == whole.rows - (sequences - 1) * 5, "\(name)")
    }

    /// Prompts typed as text: whole sequences in the prefix, nothing after; they share their first ids.
    @Test(arguments: 0..<3)
    func sharedTokensOfTextPromptsScoreAsWholeSequences(model m: Int) throws {
        let (name, make) = Self.models[m]
        let model = make()
        let classifier = PromptClassifier(model: model, verbalizer: Self.verbalizers[1], batchSize: 3)
        let empty = PromptEmbeddings.empty(width: model.width)
        var examples = Self.examples(prefix: [2, 7, 30, 31]).map { EncodedExample(prefix: $0.prefix + $0.suffix, suffix: [], label: $0.label) }
        examples[4].prefix[3] = 40  // one example parts from the rest after three ids
        let start = try #require(PromptClassifier.SharedStart(examples, prompt: empty))
        #expect(start.tokens == [2, 7, 30] && start.rests.allSatisfy { !$0.isEmpty })
        let shared = try classifier.labelLogProbabilities(examples, prompt: empty)
        let whole = try classifier.wholeLabelLogProbabilities(examples, prompt: empty)
        for (a, b) in zip(shared, whole) { #expect(maxAbsDifference(a, b) < 1e-5, "\(name): \(a) vs \(b)") }
    }

    @Test func sharingNeedsACommonStartAndSomethingAfterIt() throws {
        let prompt = Self.prompt(length: 2, width: 32), none = Self.prompt(length: 0, width: 32)
        var differing = Self.examples(prefix: [2, 7])
        differing[3].prefix = [2, 8]  // "{sentence} {prompt}": the sentence is before the prompt
        #expect(PromptClassifier.SharedStart(differing, prompt: prompt) == nil)
        #expect(try #require(PromptClassifier.SharedStart(differing, prompt: none)).tokens == [2])  // ids alone share <bos>
        var ending = Self.examples(prefix: [2])
        ending[0].suffix = []  // the label is read at the prompt's last token
        #expect(PromptClassifier.SharedStart(ending, prompt: prompt) == nil)
        // The same whole sequence twice: each keeps its last id to be read at.
        let twice = [EncodedExample(prefix: [2, 5, 6], suffix: [], label: 0), EncodedExample(prefix: [2, 5, 6], suffix: [], label: 1)]
        #expect(try #require(PromptClassifier.SharedStart(twice, prompt: none)).rests == [[6], [6]])
        #expect(PromptClassifier.SharedStart([EncodedExample(prefix: [3], suffix: [4], label: 0), EncodedExample(prefix: [5], suffix: [4], label: 0)],
                                             prompt: none) == nil)
        #expect(PromptClassifier.SharedStart(Array(Self.examples(prefix: [2]).prefix(1)), prompt: prompt) == nil)
    }
}
