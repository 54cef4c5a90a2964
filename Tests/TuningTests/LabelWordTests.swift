// Label words of several tokens: class scores against a brute-force reading of the whole sequence (the model run
// on [prefix | prompt | suffix | word], each token's log-softmax over the vocabulary summed by hand in Double, then
// a log-softmax over the classes), in both classifiers, and the prompt gradient through them. Tolerance 1e-4 on
// log-probabilities: float32 logits and log-sum-exps over at most 50,257 entries, summed over three tokens, are
// good to a few 1e-6 here.
import Foundation
import Testing
import Kernels
import Models
import TestSupport
@testable import Tuning
import Tasks

/// Class log-probabilities of one example with the prompt's input embeddings spliced in, each word read by running
/// the model on the whole sequence that ends with it.
func bruteForceLabelLogProbabilities(_ model: any CausalLM, _ example: EncodedExample, prompt: PromptEmbeddings,
                                     words: [[Int32]]) throws -> [Double] {
    let C = model.width
    let context = example.length(promptLength: prompt.length)
    let wordScores = try words.map { word -> Double in
        let sequence = RaggedBatch(lengths: [context + word.count])
        var inputs = [Float](repeating: 0, count: sequence.tokenCount * C)
        try inputs.withUnsafeMutableBufferPointer { buffer in
            let p = buffer.baseAddress!
            if !example.prefix.isEmpty { try model.embed(example.prefix, into: p) }
            for (i, v) in prompt.values.enumerated() { p[example.prefix.count * C + i] = v }
            try model.embed(example.suffix + word, into: p + (example.prefix.count + prompt.length) * C)
        }
        // Rows context − 1 … predict the word's tokens, one after another.
        let rows = Array((context - 1)..<(context - 1 + word.count))
        let logits = try inputs.withUnsafeBufferPointer {
            try model.forward(inputs: $0.baseAddress!, batch: sequence, head: HeadRequest(rows: rows))
        }
        return word.enumerated().reduce(0.0) { total, token in
            let row = logits.row(token.offset).map(Double.init)
            let m = row.max()!
            let logNormalizer = m + Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - m) })
            return total + row[Int(token.element)] - logNormalizer
        }
    }
    let m = wordScores.max()!
    let logSum = m + Foundation.log(wordScores.reduce(0) { $0 + Foundation.exp($1 - m) })
    return wordScores.map { $0 - logSum }
}

@Suite struct LabelWordTests {
    /// A one-token word with a three-token one, two-token words, and words that share their first token.
    static let wordLists = [[" unwatchable", " great"], [" negative sentiment", " positive sentiment"], [" very bad", " very good", " fine"]]

    let model = Tiny.model()

    func verbalizer(_ words: [String]) throws -> Verbalizer { try Verbalizer(words: words, tokenizer: Tiny.tokenizer) }

    func prompt(seed: UInt64 = 4) -> PromptEmbeddings {
        PromptEmbeddings(length: 4, width: 32, values: randomArray(4 * 32, seed: seed, scale: 0.5))
    }

    @Test func wordsThatBeginAlikeShareTheirRows() {
        let readings = LabelWordReadings(Verbalizer(words: ["a", "b", "c"], tokens: [[5, 17, 3], [8], [5, 20]]))
        // One sequence, [context | 5 17], read after the context, after 5 and after 5 17.
        #expect(readings.continuations == [[5, 17]])
        #expect(readings.readings.map(\.depth) == [0, 1, 2])
        #expect(readings.readings.map { $0.targets.map(\.word) } == [[0, 1, 2], [0, 2], [0]])
        #expect(readings.readings.map { $0.targets.map(\.token) } == [[5, 8, 5], [17, 20], [3]])
    }

    @Test(arguments: wordLists)
    func promptClassifierScoresAreTheWordsSummedLogProbabilities(words: [String]) throws {
        let task = try Tiny.task()
        let verbalizer = try verbalizer(words)
        #expect(!verbalizer.isSingleToken)
        let classifier = PromptClassifier(model: model, verbalizer: verbalizer, batchSize: 4)
        let examples = Array(task.train.prefix(6)), p = prompt()
        let scores = try classifier.labelLogProbabilities(examples, prompt: p)
        for (example, row) in zip(examples, scores) {
            let expected = try bruteForceLabelLogProbabilities(model, example, prompt: p, words: verbalizer.tokens)
            #expect(maxAbsDifference(row.doubles, expected) < 1e-4, "\(row) vs \(expected)")
        }
    }

    /// Gemma: the input embeddings scaled by √C, a sliding window shorter than the sequences, and a verbalizer of
    /// ids (vocabulary 50) with a shared first token.
    static let gemmaWords = Verbalizer(words: ["a", "b", "c"], tokens: [[5, 17, 3], [8], [5, 20]])
    static let gemmaExamples = [EncodedExample(prefix: [2, 7, 9], suffix: [11, 4], label: 0), EncodedExample(prefix: [2], suffix: [30], label: 2),
                                EncodedExample(prefix: [2, 41, 12, 6], suffix: [], label: 1)]

    @Test func promptClassifierOnGemma() throws {
        let gemma = Tiny.gemma()
        let (verbalizer, examples) = (Self.gemmaWords, Self.gemmaExamples)
        let p = prompt(seed: 9)
        let scores = try PromptClassifier(model: gemma, verbalizer: verbalizer).labelLogProbabilities(examples, prompt: p)
        for (example, row) in zip(examples, scores) {
            let expected = try bruteForceLabelLogProbabilities(gemma, example, prompt: p, words: verbalizer.tokens)
            #expect(maxAbsDifference(row.doubles, expected) < 1e-4, "\(row) vs \(expected)")
        }
    }

    @Test(arguments: [5, 128])
    func cachedPrefixScoresAreTheWordsSummedLogProbabilities(sequencesPerPass: Int) throws {
        for words in Self.wordLists {
            let task = try Tiny.task(template: TaskTemplate.rlprompt)
            let verbalizer = try verbalizer(words)
            let cached = try CachedPrefixClassifier(model: model, examples: task.train, verbalizer: verbalizer, sequencesPerPass: sequencesPerPass)
            // 3 prompts × 12 examples: with three rows per pair, more than one group of head rows.
            let prompts: [[Int32]] = [[464, 3807, 318], [1110, 11, 257], [464, 13, 13]]
            let indices = Array(task.train.indices)
            let scores = try cached.labelLogProbabilities(prompts: prompts, examples: indices)
            // Prompts that begin alike, their start run once and appended to the examples' caches.
            let shared = try cached.labelLogProbabilities(prompts: [[464, 3807, 318], [464, 13, 13]], sharing: [464], examples: [1, 4, 7])
            for (p, prompt) in prompts.enumerated() {
                let embeddings = try model.promptEmbeddings(of: prompt)
                for e in indices {
                    let expected = try bruteForceLabelLogProbabilities(model, task.train[e], prompt: embeddings, words: verbalizer.tokens)
                    #expect(maxAbsDifference(scores[p][e].doubles, expected) < 1e-4, "\(words), prompt \(p), example \(e)")
                    if p != 1, let slot = [1, 4, 7].firstIndex(of: e) {
                        #expect(maxAbsDifference(shared[p == 0 ? 0 : 1][slot].doubles, expected) < 1e-4, "\(words), shared prompt \(p), example \(e)")
                    }
                }
            }
        }
    }

    /// One-token words keep the restricted head: forward hands out the words' bare logits, whose log-softmax
    /// is the full-vocabulary reading's.
    @Test func singleTokenWordsKeepTheirLogits() throws {
        let task = try Tiny.task()
        #expect(task.verbalizer.isSingleToken)
        let classifier = PromptClassifier(model: model, verbalizer: task.verbalizer)
        let examples = Array(task.train.prefix(4)), p = prompt()
        let forward = try classifier.forward(examples[...], prompt: p)
        let logits = (0..<examples.count).map { Array(forward.row($0)) }  // before the model's next forward
        let same = Tiny.model()
        for (b, example) in examples.enumerated() {
            // The words' logits at the last token, from the model alone.
            var prompted = PromptedBatch()
            try prompted.assemble([example], prompt: p, model: same)
            let head = try same.forward(inputs: prompted.inputs.pointer, batch: prompted.batch,
                                        head: .lastTokens(of: prompted.batch, vocabulary: task.verbalizer.firstTokens))
            #expect(maxAbsDifference(logits[b], Array(head.row(0))) < 1e-5)
            let expected = try bruteForceLabelLogProbabilities(model, example, prompt: p, words: task.verbalizer.tokens)
            #expect(maxAbsDifference(try classifier.labelLogProbabilities([example], prompt: p)[0].doubles, expected) < 1e-4)
        }
        let cached = try CachedPrefixClassifier(model: model, examples: examples, verbalizer: task.verbalizer)
        let ids: [Int32] = [464, 3807, 318]
        let scores = try cached.labelLogProbabilities(prompts: [ids], examples: Array(examples.indices))[0]
        for (example, row) in zip(examples, scores) {
            let expected = try bruteForceLabelLogProbabilities(model, example, prompt: model.promptEmbeddings(of: ids), words: task.verbalizer.tokens)
            #expect(maxAbsDifference(row.doubles, expected) < 1e-4)
        }
    }

    /// The task loss through summed token log-probabilities, including each row's full-vocabulary log-softmax,
    /// against central differences (ObjectiveTests' steps and tolerance).
    @Test(arguments: wordLists)
    func promptGradientThroughMultiTokenWords(words: [String]) throws {
        let task = try Tiny.task()
        let classifier = PromptClassifier(model: model, verbalizer: try verbalizer(words), batchSize: 16)
        let examples = Array(task.train.prefix(5))
        let labels = examples.map(\.label)
        let p = prompt(seed: 6)
        let scores = try classifier.forward(examples[...], prompt: p)
        let (_, dScores, _) = taskLoss(scores, labels: labels)
        var gradient = [Float](repeating: 0, count: p.values.count)
        try dScores.withUnsafeBufferPointer { try classifier.promptGradient(dLogits: $0.baseAddress!, prompt: p, into: &gradient) }
        #expect(gradient.contains { $0 != 0 })
        try expectGradient(gradient, at: p, floor: 1e-2) { try taskLoss(classifier.forward(examples[...], prompt: $0), labels: labels).loss }
    }

    /// The tiny GPT-2's random head is nearly flat over 50,257 words, so each row's log-normalizer barely moves
    /// with the prompt; over the tiny Gemma's 50 words it does, and this check fails without its share.
    @Test func promptGradientOnGemma() throws {
        let gemma = Tiny.gemma()
        let classifier = PromptClassifier(model: gemma, verbalizer: Self.gemmaWords)
        let examples = Self.gemmaExamples, labels = examples.map(\.label)
        let p = prompt(seed: 6)
        let scores = try classifier.forward(examples[...], prompt: p)
        let (_, dScores, _) = taskLoss(scores, labels: labels)
        var gradient = [Float](repeating: 0, count: p.values.count)
        try dScores.withUnsafeBufferPointer { try classifier.promptGradient(dLogits: $0.baseAddress!, prompt: p, into: &gradient) }
        try expectGradient(gradient, at: p, floor: 1e-2) { try taskLoss(classifier.forward(examples[...], prompt: $0), labels: labels).loss }
    }

    /// Tuning runs end to end on a multi-token verbalizer: PEZ through the gradient, gcg's search and RLPrompt's
    /// reward through the cached scores.
    @Test(arguments: [TuningMethod.pez, .gcg, .rlprompt])
    func tunersRunOnMultiTokenWords(method: TuningMethod) throws {
        let template = method.isDiscrete ? TaskTemplate.rlprompt : TaskTemplate.pez
        let task = try PromptTask(name: "sst-2", split: "16-100", dataRoot: Tiny.dataRoot(), template: template,
                                  verbalizers: [" unwatchable", " great"], tokenizer: Tiny.tokenizer)
        var c = Tiny.configuration(method, steps: 2)
        c.evaluateEvery = 2
        if method == .gcg { c.search.candidates = 8; c.search.candidatesPerPosition = 4 }
        if method == .rlprompt { c.promptLength = 2; c.policy.hiddenWidth = 32; c.policy.samplesPerStep = 4 }
        let tuner: any PromptSearch = switch method {
        case .gcg: try GCGTuner(model: model, tokenizer: Tiny.tokenizer, data: task.tuningData, configuration: c)
        case .rlprompt: try RLPromptTuner(model: model, tokenizer: Tiny.tokenizer, data: task.tuningData, configuration: c)
        default: try PromptTuner(model: model, tokenizer: Tiny.tokenizer, data: task.tuningData, configuration: c)
        }
        var records: [StepRecord] = []
        try tuner.run { records.append($0) }
        #expect(records.count == 2 && records.allSatisfy { $0.taskLoss.isFinite })
        #expect(records.last?.devAccuracy != nil)
    }
}
