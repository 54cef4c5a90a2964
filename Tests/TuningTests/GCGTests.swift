// The gradient-guided discrete search (gcg): its one-hot gradient against loss differences, its exact candidate
// scores against separate evaluations, GPO's edit budget, and the whole search on a tiny model and task.
import Foundation
import Kernels
import Models
import Reports
import Runs
import Sweeps
import Tasks
import TestSupport
import Testing
@testable import Tuning

@Suite struct GCGTests {
    let model = Tiny.model()

    func tuner(_ configure: (inout TuningConfiguration) -> Void = { _ in }) throws -> GCGTuner {
        var c = Tiny.configuration(.gcg, steps: 8)
        c.search.candidates = 16; c.search.candidatesPerPosition = 8; c.evaluateEvery = 4
        configure(&c)
        return try GCGTuner(model: model, tokenizer: Tiny.tokenizer, data: try Tiny.task(template: TaskTemplate.rlprompt).tuningData,
                            configuration: c)
    }

    @Test func oneHotGradientIsTheLossDerivativeTowardEachToken() throws {
        // G[i, v] − G[i, current] is d/dt of the loss with row i at s·(E_current + t·(E_v − E_current)), t = 0.
        let gcg = try tuner()
        let examples = Array(gcg.data.train.prefix(6))
        let classifier = PromptClassifier(model: model, verbalizer: gcg.data.verbalizer)
        try gcg.oneHotGradient(examples: examples)
        let base = try model.promptEmbeddings(of: gcg.ids)
        let (C, s) = (model.width, model.embeddingScale)
        for (i, v) in [(0, Int32(464)), (2, Int32(3807)), (3, Int32(11))] {
            let G = gcg.oneHotScores(position: i)
            let analytic = Double(G[Int(v)] - G[Int(gcg.ids[i])])
            let toward = try model.promptEmbeddings(of: [v]).values
            func loss(_ t: Float) throws -> Double {
                var prompt = base
                for j in 0..<C { prompt.values[i * C + j] = base.values[i * C + j] + t * (toward[j] - base.values[i * C + j]) }
                return try meanTaskLoss(classifier, examples, prompt)
            }
            let h: Float = 1e-2
            let numeric = (try loss(h) - loss(-h)) / Double(2 * h)
            // Float forward, smooth loss: central differences agree to a few percent (floor for tiny derivatives).
            #expect(abs(numeric - analytic) <= 0.03 * max(abs(numeric), 1e-3), "position \(i) → \(v): numeric \(numeric), analytic \(analytic)")
            #expect(s == 1)  // GPT-2's input embeddings are the rows themselves
        }
        #expect(gcg.oneHotScores(position: 1).contains { $0 != 0 })
    }

    @Test func candidateScoresAreTheExactObjective() throws {
        let gcg = try tuner { $0.scrutability = 0.7; $0.search.repetitionPenalty = 2 }
        let prompts: [[Int32]] = [[464, 3807, 318, 257], [11, 11, 11, 13], [1110, 257, 3807, 40]]
        let indices = [0, 3, 5, 7]
        let scored = try gcg.score(prompts, examples: indices)
        let classifier = PromptClassifier(model: model, verbalizer: gcg.data.verbalizer)
        let fluency = FluencyScorer(model: model, start: 50256)
        for (p, prompt) in prompts.enumerated() {
            let examples = indices.map { gcg.data.train[$0] }
            let task = try meanTaskLoss(classifier, examples, try model.promptEmbeddings(of: prompt))
            let logPPL = try fluency.logPerplexity(of: prompt)
            let repeats = prompt.count - Set(prompt).count
            let expected = task + 0.7 * (Double(logPPL) + 2 * Double(repeats) / Double(prompt.count))
            // Cached prefixes and whole sequences sum in different orders: 1e-4 relative.
            #expect(abs(Double(scored[p].terms.task) - task) < 1e-4 * max(1, task))
            #expect(abs(Double(scored[p].terms.logPerplexity - logPPL)) < 1e-4 * Double(max(1, logPPL)))
            #expect(abs(Double(scored[p].terms.total) - expected) < 1e-4 * max(1, expected))
        }
        #expect(scored[1].terms.repetition == 2 * 2 / 4)  // "11 11 11": two repeats of four tokens
    }

    @Test func candidatesSharingTheirStartScoreAsWholePrompts() throws {
        let gcg = try tuner { $0.scrutability = 0.5 }
        let current: [Int32] = [464, 3807, 318, 257]
        let prompts: [[Int32]] = [current, [464, 3807, 318, 11], [464, 13, 318, 257], [40, 3807, 318, 257], [464, 3807, 1110, 13]]
        let indices = [1, 2, 6, 9]
        let whole = try gcg.score(prompts, examples: indices)
        let shared = try gcg.score(prompts, examples: indices, reference: current)
        for (a, b) in zip(whole, shared) {
            // Extended caches attend in another grouping of the same sums: 1e-5 relative.
            #expect(abs(a.terms.task - b.terms.task) < 1e-5 * max(1, a.terms.task) && a.correct == b.correct)
            #expect(a.terms.logPerplexity == b.terms.logPerplexity)
        }
    }

    @Test func editBudgetDecaysByACosineFromMaxToMin() {
        let budget = EditBudget(maximum: 5, minimum: 1)
        let T = 100
        #expect(budget.positions(atStep: 0, of: T, promptLength: 10) == 5)
        #expect(budget.positions(atStep: T, of: T, promptLength: 10) == 1)
        #expect(budget.positions(atStep: T / 2, of: T, promptLength: 10) == 3)
        let schedule = (0...T).map { budget.positions(atStep: $0, of: T, promptLength: 10) }
        #expect(zip(schedule, schedule.dropFirst()).allSatisfy { $0 >= $1 })  // never grows
        #expect(budget.positions(atStep: 0, of: T, promptLength: 2) == 2)      // at most the prompt
        for t in [10, 25, 80] {
            let exact = 1 + 4 * 0.5 * (1 + cos(Double.pi * Double(t) / Double(T)))
            #expect(budget.positions(atStep: t, of: T, promptLength: 10) == Int(exact.rounded()))
        }
        #expect(EditBudget(parsing: "3:1") == EditBudget(maximum: 3, minimum: 1))
        #expect(EditBudget(parsing: "2") == EditBudget(maximum: 2, minimum: 2))
        #expect(EditBudget(parsing: "x:1") == nil && EditBudget(parsing: "1:2:3") == nil)
        #expect(EditBudget(maximum: 1, minimum: 2).validate() != nil)
    }

    @Test func candidatesChangeTheBudgetsPositionsFromTheirPools() {
        let current: [Int32] = [1, 2, 3, 4, 5]
        let pools: [[Int32]] = [[10, 11], [20], [], [40, 41, 42], [50]]
        let candidates = GCGTuner.candidates(from: current, pools: pools, edits: 2, count: 30, seed: 9)
        #expect(Set(candidates).count == candidates.count && !candidates.contains(current))
        for candidate in candidates {
            let changed = (0..<5).filter { candidate[$0] != current[$0] }
            #expect(changed.count == 2 && !changed.contains(2))
            for i in changed { #expect(pools[i].contains(candidate[i])) }
        }
    }

    @Test func searchLowersTheObjectiveAndNeverPicksAnExcludedToken() throws {
        let gcg = try tuner { $0.scrutability = 0.3; $0.steps = 10 }
        var records: [StepRecord] = []
        try gcg.run { records.append($0) }
        #expect(records.count == 10)
        for record in records {
            let search = try #require(record.search)
            // Accepted only when better on the batch; otherwise the prompt stays.
            #expect(search.after.total <= search.before.total)
            #expect(search.accepted == (search.after.total < search.before.total))
            #expect(search.accepted == !(record.edits ?? []).isEmpty)
            for id in record.ids { #expect(gcg.allowed[Int(id)], "excluded token \(id) chosen") }
            // An accepted prompt is what typing its text after the sentence gives: its text accuracy is its accuracy.
            if search.accepted { #expect(gcg.typed(record.ids) == record.ids, "\(record.text)") }
        }
        #expect(records.contains { $0.search!.accepted })
        // On one fixed batch, the objective of the final prompt is below the initial prompt's.
        let all = Array(0..<gcg.data.train.count)
        let initial = try PromptTuner.initialIds(gcg.configuration, data: gcg.data, tokenizer: Tiny.tokenizer, allowed: gcg.allowed)
        let scores = try gcg.score([initial, gcg.ids], examples: all)
        #expect(scores[1].terms.total < scores[0].terms.total, "initial \(scores[0].terms), final \(scores[1].terms)")
        // Edits record the old and new tokens where the prompt changed.
        for edit in records.flatMap({ $0.edits ?? [] }) {
            #expect(edit.old.id != edit.new.id && edit.after.total < edit.before.total)
        }
        #expect(gcg.state.best != nil)
    }

    @Test func resumingEqualsNotStopping() throws {
        let whole = try tuner { $0.search.editBudget = EditBudget(maximum: 3, minimum: 1); $0.search.trajectory = 3 }
        try whole.run { _ in }
        let first = try tuner { $0.search.editBudget = EditBudget(maximum: 3, minimum: 1); $0.search.trajectory = 3; $0.steps = 8 }
        struct Stop: Error {}
        do { try first.run { if $0.step == 3 { throw Stop() } } } catch is Stop {}
        let saved = try JSONDecoder().decode(TuningState.self, from: JSONEncoder().encode(first.state))
        var c = first.configuration
        c.steps = 8
        let second = try GCGTuner(model: model, tokenizer: Tiny.tokenizer, data: first.data, configuration: c, resuming: saved)
        try second.run { _ in }
        #expect(second.ids == whole.ids && second.state.best?.ids == whole.state.best?.ids)
        #expect(second.state.trajectory == whole.state.trajectory && !(whole.state.trajectory ?? []).isEmpty)
    }

    @Test func devLossSelectionKeepsTheLowestDevLoss() throws {
        let gcg = try tuner { $0.selection = .devLoss; $0.scrutability = 0.2; $0.evaluateEvery = 2 }
        var losses: [(step: Int, loss: Double)] = []
        try gcg.run { record in if let loss = record.devLoss { losses.append((record.step, loss)) } }
        #expect(losses.count == 4)
        let best = try #require(gcg.state.best)
        let lowest = losses.min { $0.loss < $1.loss || ($0.loss == $1.loss && $0.step > $1.step) }!
        #expect(best.devLoss == lowest.loss && best.step == lowest.step)
    }

    @Test func textInitializationStartsFromTheManualPrompt() throws {
        let gcg = try tuner { $0.initialization = .text(" the movie was"); $0.promptLength = 3; $0.steps = 0 }
        #expect(gcg.ids == Tiny.tokenizer.encode(" the movie was"))
        // After the sentence the prompt is typed after a space, with or without one in the given text.
        let spaced = try tuner { $0.initialization = .text("the movie was"); $0.promptLength = 3; $0.steps = 0 }
        #expect(spaced.ids == gcg.ids)
    }
}
