// report.json's per-class prediction rates and the empty prompt's agreement with the soft prompt, against counts
// made here from the classifier's scores; and reports written before these fields still decode.
import Foundation
@testable import Runs
@testable import Sweeps
@testable import Tasks
import TestSupport
import Testing
@testable import Tuning
@testable import Reports

@Suite struct PredictionRateTests {
    /// The most probable class of a row, written out without the library's helpers.
    static func best(_ row: [Float]) -> Int {
        var best = 0
        for c in 1..<row.count where row[c] > row[best] { best = c }
        return best
    }

    static func directRates(_ scores: [[Float]], classes: Int) -> [Double] {
        var counts = [Double](repeating: 0, count: classes)
        for row in scores { counts[best(row)] += 1 }
        return counts.map { $0 / Double(scores.count) }
    }

    static func directAgreement(_ a: [[Float]], _ b: [[Float]]) -> Double {
        Double(zip(a, b).filter { best($0.0) == best($0.1) }.count) / Double(a.count)
    }

    @Test func ratesOfATinyModelsEvaluationSumToOneAndMatchADirectCount() throws {
        let model = Tiny.model(), task = try Tiny.task()
        // 9 of the 12 test sentences (alternating positive, negative, …), rows 0 1 2 4 5 6 8 9 10: 6 positive, 3 negative.
        let limit = 9
        let evaluator = PromptEvaluator(model: model, tokenizer: Tiny.tokenizer, task: task, batchSize: 4, testLimit: limit)
        let soft = PromptEmbeddings(length: 4, width: model.width, values: randomArray(4 * model.width, seed: 5, scale: 2))
        let ids: [Int32] = [464, 3807, 318, 257]
        let evaluation = try evaluator.evaluate(soft: soft, ids: ids)

        let K = task.verbalizer.classCount
        let examples = task.testExamples(limit: limit), empty = PromptEmbeddings.empty(width: model.width)
        let classifier = PromptClassifier(model: model, verbalizer: task.verbalizer, batchSize: 4)
        let softScores = try classifier.labelLogProbabilities(examples, prompt: soft)
        let projectedScores = try classifier.labelLogProbabilities(examples, prompt: model.promptEmbeddings(of: ids))
        let text = Tiny.tokenizer.decode(ids)
        let textScores = try classifier.labelLogProbabilities(task.testWithText(text, tokenizer: Tiny.tokenizer, limit: limit), prompt: empty)
        let emptyScores = try classifier.labelLogProbabilities(task.testWithText("", tokenizer: Tiny.tokenizer, limit: limit), prompt: empty)
        let manualScores = try classifier.labelLogProbabilities(
            task.testWithText(try #require(task.definition.manualPrompt), tokenizer: Tiny.tokenizer, limit: limit), prompt: empty)

        let rates = try #require(evaluation.test.predictionRates)
        let reported: [(String, [Double]?, [[Float]])] = [
            ("soft", rates.soft, softScores), ("projected", rates.projected, projectedScores), ("text", rates.text, textScores),
            ("empty", evaluation.zeroShot.predictionRatesEmpty, emptyScores),
            ("manual", evaluation.zeroShot.predictionRatesManual, manualScores),
        ]
        for (name, rate, scores) in reported {
            let rate = try #require(rate, "\(name)")
            #expect(rate.count == K, "\(name)")
            #expect(abs(rate.reduce(0, +) - 1) < 1e-12, "\(name): \(rate)")
            // The same batches through the same model: the same scores, so exactly the same counts.
            #expect(rate == Self.directRates(scores, classes: K), "\(name): \(rate) vs \(Self.directRates(scores, classes: K))")
        }
        #expect(evaluation.test.labelRates == [3.0 / 9, 6.0 / 9])
        #expect(evaluation.test.rows == .spread)  // 9 of 12: the report says which rows

        let agreementEmpty = try #require(evaluation.faithfulness.agreementEmpty)
        #expect(agreementEmpty == Self.directAgreement(softScores, emptyScores))
        #expect(evaluation.faithfulness.agreement == Self.directAgreement(softScores, projectedScores))
    }

    @Test func withoutASoftPromptThereIsNoSoftRateAndNoEmptyAgreement() throws {
        let model = Tiny.model(), task = try Tiny.task()
        let evaluator = PromptEvaluator(model: model, tokenizer: Tiny.tokenizer, task: task, testLimit: 4)
        let evaluation = try evaluator.evaluate(soft: nil, ids: [464, 3807])
        #expect(evaluation.test.predictionRates?.soft == nil && evaluation.test.predictionRates?.projected.count == 2)
        #expect(evaluation.faithfulness.agreementEmpty == nil)
    }

    @Test func aPromptThatAnswersOneClassHasRateOneForIt() {
        // Three classes; every row prefers class 2, by a wide margin or barely.
        let scores: [[Float]] = [[-3, -2, -0.1], [-1.2, -1.1, -1.0], [-9, -9, -0.01], [-0.7, -0.69, -0.68]]
        #expect(ClassRates.predicted(scores, classes: 3) == [0, 0, 1])
        let mixed: [[Float]] = [[-0.1, -3, -3], [-3, -0.1, -3], [-3, -3, -0.1], [-0.2, -2, -3]]
        #expect(ClassRates.predicted(mixed, classes: 3) == [0.5, 0.25, 0.25])
        // Agreement of a one-class prompt with another is the other's rate for that class.
        #expect(ClassRates.agreement(scores, mixed) == 0.25)
        let labels = [0, 2, 2, 1, 2].map { EncodedExample(prefix: [], suffix: [], label: $0) }
        #expect(ClassRates.labels(labels, classes: 3) == [0.2, 0.2, 0.6])
    }

    /// report.json as `tune` wrote it before the rates and agreement_empty existed.
    static let olderReport = """
    {"method": "pez", "model": "gemma-3-270m", "task": "sst-2", "split": "16-100", "template": "{prompt} {sentence} It was",
     "verbalizers": [" terrible", " great"], "steps": 40, "best_step": 35, "dev_accuracy": 0.75,
     "prompt": {"ids": [1, 2], "text": " a b", "tokens": ["\\u2581a", "\\u2581b"]},
     "test": {"accuracy": 0.53, "accuracy_projected": 0.713, "accuracy_text": 0.733, "examples": 300},
     "zero_shot": {"accuracy_empty": 0.563, "accuracy_manual": 0.59, "manual_prompt": "Overall, the movie was"},
     "faithfulness": {"kl": 0.48, "agreement": 0.35, "accuracy_gap": -0.183, "cosine_to_nearest": 0.18},
     "scrutability": {"log_ppl": 18.39, "distinct_ratio": 1, "word_ratio": 0.6, "odd_tokens": 3},
     "timing": {"seconds": 241, "steps_per_second": 0.17, "evaluation_seconds": 30}}
    """

    @Test func anOlderReportWithoutTheNewFieldsStillDecodes() throws {
        let report = try JSONDecoder().decode(RunReport.self, from: Data(Self.olderReport.utf8))
        #expect(report.test.accuracyProjected == 0.713 && report.faithfulness.agreement == 0.35)
        #expect(report.test.predictionRates == nil && report.test.labelRates == nil)
        #expect(report.zeroShot.predictionRatesEmpty == nil && report.zeroShot.predictionRatesManual == nil)
        #expect(report.faithfulness.agreementEmpty == nil)
        // Written again, it gains no keys it did not have.
        let written = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        #expect(!written.contains("rates") && !written.contains("agreement_empty"))
    }

    @Test func theNewFieldsRoundTripUnderTheirKeys() throws {
        var report = try JSONDecoder().decode(RunReport.self, from: Data(Self.olderReport.utf8))
        report.test.labelRates = [0.5, 0.5]
        report.test.predictionRates = RunReport.PredictionRates(soft: [0.25, 0.75], projected: [1, 0], text: [0.9, 0.1])
        report.zeroShot.predictionRatesEmpty = [0, 1]
        report.zeroShot.predictionRatesManual = [0.6, 0.4]
        report.faithfulness.agreementEmpty = 0.25
        let data = try JSONEncoder().encode(report)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let test = try #require(json["test"] as? [String: Any]), zeroShot = try #require(json["zero_shot"] as? [String: Any])
        let faithfulness = try #require(json["faithfulness"] as? [String: Any])
        #expect(test["label_rates"] as? [Double] == [0.5, 0.5])
        #expect((test["prediction_rates"] as? [String: Any])?["projected"] as? [Double] == [1, 0])
        #expect(zeroShot["prediction_rates_empty"] as? [Double] == [0, 1] && zeroShot["prediction_rates_manual"] as? [Double] == [0.6, 0.4])
        #expect(faithfulness["agreement_empty"] as? Double == 0.25)
        let again = try JSONDecoder().decode(RunReport.self, from: data)
        #expect(again.test.predictionRates == report.test.predictionRates && again.faithfulness.agreementEmpty == 0.25)
    }
}

@Suite struct ReadableGoalTests {
    @Test func aPromptIsReadableOnlyWhenItClearsEveryBar() {
        let goal = ReadableGoal()
        let manual = RunReport.Scrutability(logPerplexity: 4.35, distinctRatio: 1, wordRatio: 0.8, oddTokens: 0)
        #expect(goal.misses(manual).isEmpty)
        #expect(goal.misses(.init(logPerplexity: 7.01, distinctRatio: 1, wordRatio: 0.8, oddTokens: 0)) == ["log-perplexity above 7"])
        // " is is is is is": fluent by repetition only.
        #expect(goal.misses(.init(logPerplexity: 4.4, distinctRatio: 0.2, wordRatio: 1, oddTokens: 0)) == ["under 70% distinct tokens"])
        #expect(goal.misses(.init(logPerplexity: 16, distinctRatio: 1, wordRatio: 0.4, oddTokens: 2)).count == 3)
    }

    @Test func theGoalAddsEightPointsOverTheBestZeroShotBaselineAsText() throws {
        let goal = ReadableGoal()
        let plan = try SweepPlan(sweepConfiguration(#"{"model": "m", "methods": ["gcg"], "steps": 1}"#))
        var report = fakeReport(plan.runs[0], accuracy: 0.9, logPPL: 5, kl: 0, prompt: "p")
        report.scrutability.wordRatio = 0.8
        // Zero-shot: no prompt 0.5, manual 0.6; the better one counts.
        #expect(ReadableGoal.bestZeroShot(report) == 0.6)
        for (text, met) in [(0.68, true), (0.679, false), (0.9, true), (0.5, false)] {
            report.test.accuracyText = text
            #expect(goal.isMet(report) == met, "text accuracy \(text)")
        }
        // Without a manual prompt the empty prompt is the baseline.
        report.zeroShot.accuracyManual = nil
        report.test.accuracyText = 0.58
        #expect(ReadableGoal.bestZeroShot(report) == 0.5 && goal.isMet(report))
        // Accurate but not readable is not the goal.
        report.scrutability.logPerplexity = 7.2
        #expect(goal.isReadable(report) == false && goal.isMet(report) == false)
        #expect(goal.verdict(report) == .notReadable)
        // The words reports print come from the thresholds.
        #expect(goal.barDescription == "log-perplexity ≤ 7, ≥ 60% whole words, ≥ 70% distinct tokens, no odd tokens")
        var stricter = goal
        stricter.minGainPoints = 10
        #expect(stricter.goalDescription.contains("at least 10 points"))
    }

    @Test func aSharedZeroShotCacheGivesTheSameReportWithoutRecomputing() throws {
        let model = Tiny.model(), task = try Tiny.task()
        let ids: [Int32] = [464, 3807, 318, 257]
        let plain = try PromptEvaluator(model: model, tokenizer: Tiny.tokenizer, task: task, batchSize: 4).evaluate(soft: nil, ids: ids)
        let cache = ZeroShotCache()
        let first = try PromptEvaluator(model: model, tokenizer: Tiny.tokenizer, task: task, batchSize: 4, zeroShotCache: cache).evaluate(soft: nil, ids: ids)
        #expect(cache.count == 2)  // no prompt and the manual prompt
        var passes: [String] = []
        let second = try PromptEvaluator(model: model, tokenizer: Tiny.tokenizer, task: task, batchSize: 4, zeroShotCache: cache)
            .evaluate(soft: nil, ids: [464, 3807, 318, 318]) { passes.append($0) }
        #expect(cache.count == 2 && !passes.contains { $0.hasPrefix("zero-shot") })
        for report in [first, second] {
            #expect(report.zeroShot.accuracyEmpty == plain.zeroShot.accuracyEmpty && report.zeroShot.accuracyManual == plain.zeroShot.accuracyManual)
            #expect(report.zeroShot.predictionRatesEmpty == plain.zeroShot.predictionRatesEmpty)
        }
        // Another test subset is another key.
        _ = try PromptEvaluator(model: model, tokenizer: Tiny.tokenizer, task: task, batchSize: 4, testLimit: 5, zeroShotCache: cache).evaluate(soft: nil, ids: ids)
        #expect(cache.count == 4)
    }

    @Test func aZeroShotCacheFolderServesALaterProcessAndSurvivesABadFile() throws {
        let model = Tiny.model(), task = try Tiny.task()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("legible-zero-shot-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let ids: [Int32] = [464, 3807, 318, 257]
        let evaluate = { (cache: ZeroShotCache, passes: inout [String]) in
            try PromptEvaluator(model: model, tokenizer: Tiny.tokenizer, task: task, batchSize: 4, zeroShotCache: cache)
                .evaluate(soft: nil, ids: ids) { passes.append($0) }
        }
        var firstPasses: [String] = [], laterPasses: [String] = []
        let first = try evaluate(ZeroShotCache(directory: folder), &firstPasses)
        #expect(firstPasses.filter { $0.hasPrefix("zero-shot") }.count == 2)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }
        #expect(files.count == 2)
        // A new cache on the same folder, as a later process makes it: no zero-shot pass, the same numbers.
        let later = try evaluate(ZeroShotCache(directory: folder), &laterPasses)
        #expect(!laterPasses.contains { $0.hasPrefix("zero-shot") })
        #expect(later.zeroShot.accuracyEmpty == first.zeroShot.accuracyEmpty && later.zeroShot.accuracyManual == first.zeroShot.accuracyManual)
        #expect(later.zeroShot.predictionRatesEmpty == first.zeroShot.predictionRatesEmpty)
        // A damaged file is recomputed and rewritten.
        try Data("{\"scores\": [[1]]}".utf8).write(to: folder.appendingPathComponent(files[0]))
        var repairPasses: [String] = []
        let repaired = try evaluate(ZeroShotCache(directory: folder), &repairPasses)
        #expect(repairPasses.filter { $0.hasPrefix("zero-shot") }.count == 1)
        #expect(repaired.zeroShot.accuracyEmpty == first.zeroShot.accuracyEmpty && repaired.zeroShot.accuracyManual == first.zeroShot.accuracyManual)
    }

    @Test func theZeroShotKeyIsTheExamplesTokensAndTheLabelWords() throws {
        let examples = [EncodedExample(prefix: [1, 2], suffix: [3], label: 0), EncodedExample(prefix: [1], suffix: [2, 3], label: 1)]
        let words = Verbalizer(words: ["a", "b"], tokens: [[5], [6]])
        let key = ZeroShotCache.key(examples: examples, verbalizer: words)
        #expect(key.count == 64 && key == ZeroShotCache.key(examples: examples, verbalizer: words))
        // The same ids split differently between prefix and suffix, other label words, or one example fewer are other keys.
        var moved = examples
        moved[0] = EncodedExample(prefix: [1], suffix: [2, 3], label: 0)
        #expect(ZeroShotCache.key(examples: moved, verbalizer: words) != key)
        #expect(ZeroShotCache.key(examples: examples, verbalizer: Verbalizer(words: ["a", "b"], tokens: [[5], [7]])) != key)
        #expect(ZeroShotCache.key(examples: Array(examples.prefix(1)), verbalizer: words) != key)
        // Scores of bfloat16 products are kept apart from float32's.
        #expect(ZeroShotCache.key(examples: examples, verbalizer: words, precision: .fp32) == key)
        #expect(ZeroShotCache.key(examples: examples, verbalizer: words, precision: .bf16) != key)
        let cache = ZeroShotCache.userCache(modelSHA256: "abc", environment: ["XDG_CACHE_HOME": "/somewhere"])
        #expect(cache.directory?.path == "/somewhere/legible/zero-shot/abc")
        #expect(ZeroShotCache.userCache(modelSHA256: "abc", environment: ["LEGIBLE_CACHE_DIR": "/x", "XDG_CACHE_HOME": "/y"]).directory?.path
                == "/x/zero-shot/abc")
    }

    @Test func nonFiniteScoresStopTheEvaluationInsteadOfCountingAsTheFirstClass() throws {
        let model = Tiny.model(), task = try Tiny.task()
        var values = randomArray(4 * model.width, seed: 5, scale: 2)
        values[7] = .nan
        let soft = PromptEmbeddings(length: 4, width: model.width, values: values)
        let evaluator = PromptEvaluator(model: model, tokenizer: Tiny.tokenizer, task: task, batchSize: 4)
        #expect(throws: TuningError.invalidConfiguration("the model's class scores with the soft prompt are not finite numbers: its weights or the prompt hold NaN or infinity")) {
            try evaluator.evaluate(soft: soft, ids: [464, 3807, 318, 257])
        }
    }
}
