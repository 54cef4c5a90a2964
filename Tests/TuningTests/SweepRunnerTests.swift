// Running a sweep in-process on the tiny model: a sweep stopped mid-run resumes that run and skips the
// finished ones, ending where an uninterrupted sweep ends; a failing run does not stop the others.
import Foundation
import Models
import Reports
import Runs
import Sweeps
import Tasks
import Testing
import Tuning

struct SweepRunnerTests {
    struct Stop: Error {}

    /// pez and soft × λ 0 and 0.5 on the tiny task: 4 runs of 4 steps.
    func plan(data: URL, methods: String = #"["pez", "soft"]"#, scrutability: String = "[0, 0.5]",
              splits: String = #"["16-100"]"#, steps: Int = 4) throws -> SweepPlan {
        try SweepPlan(sweepConfiguration("""
            {"model": "tiny", "methods": \(methods), "scrutability": \(scrutability), "data": "\(data.path)", "splits": \(splits),
             "prompt_lengths": 4, "seeds": 1, "steps": \(steps), "batch": 6, "lr": 0.01, "eval_every": 2}
            """))
    }

    func runner(_ folder: URL, _ plan: SweepPlan, model: (any CausalLM)? = nil) throws -> SweepRunner {
        let sweep = SweepDirectory(folder)
        try sweep.create(plan)
        return SweepRunner(sweep: sweep, plan: plan, model: model ?? Tiny.model(), tokenizer: Tiny.tokenizer, modelName: "tiny", modelSHA256: "0")
    }

    @Test func aModelWithAnUntiedHeadRunsTheFluencyTermInItsContextForm() throws {
        let plan = try plan(data: Tiny.dataRoot(), methods: #""pez""#, scrutability: "0.5", steps: 2)
        #expect(plan.runs.map(\.tuning.fluencyGradient) == [.full])
        let runner = try runner(temporaryFolder("sweep-untied"), plan, model: Tiny.untied())
        let outcome = try runner.run { _ in }
        #expect(outcome.finished == [plan.runs[0].id] && outcome.failed.isEmpty)
        let report = try SweepReport(loading: runner.sweep)
        #expect(report.results.count == 1)
    }

    @Test func resumesAnInterruptedRunAndSkipsFinishedOnes() throws {
        let plan = try plan(data: Tiny.dataRoot())
        let runner = try runner(temporaryFolder("sweep-run"), plan)
        let sweep = runner.sweep
        let ids = plan.runs.map(\.id)

        // Stop after the second step of the second run, as Ctrl-C would.
        #expect(throws: Stop.self) {
            try runner.run { event in
                if case .job(let run, .step(let record)) = event, run.index == 1, record.step == 2 { throw Stop() }
            }
        }
        #expect(plan.runs.map(sweep.status(of:)) == [.finished, .interrupted(step: 2), .notStarted, .notStarted])

        var started: [(String, Bool)] = [], resumedAt: [Int] = [], skipped: [String] = [], finished: [String] = []
        let outcome = try runner.run { event in
            switch event {
            case .skipped(let run): skipped.append(run.id)
            case .started(let run, _, let count, let resuming): started.append((run.id, resuming)); #expect(count == 3)
            case .job(_, .resumed(let step)): resumedAt.append(step)
            case .finished(let run, _): finished.append(run.id)
            case .failed(let run, let message): Issue.record("\(run.id) failed: \(message)")
            case .job: break
            }
        }
        #expect(skipped == [ids[0]] && outcome.skipped == [ids[0]])
        #expect(started.map(\.0) == Array(ids[1...]) && started.map(\.1) == [true, false, false])
        #expect(resumedAt == [2])
        #expect(finished == Array(ids[1...]) && outcome.finished == finished && outcome.failed.isEmpty)
        #expect(plan.runs.allSatisfy { sweep.status(of: $0) == .finished })
        let log = try String(contentsOf: sweep.run(plan.runs[1]).log, encoding: .utf8)
        #expect(log.split(separator: "\n").count == 4)

        // Everything finished: nothing runs.
        let again = try runner.run { event in
            if case .started(let run, _, _, _) = event { Issue.record("\(run.id) ran again") }
        }
        #expect(again.skipped == ids && again.finished.isEmpty)

        // The resumed run ends as the same run does uninterrupted (its shard alone, in another sweep), even when
        // a run.json was left without a state by a process stopped before the first step.
        let fresh = try self.runner(temporaryFolder("sweep-run-fresh"), plan)
        let leftover = fresh.sweep.run(plan.runs[1])
        try FileManager.default.createDirectory(at: leftover.url, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: leftover.settings)
        let alone = try fresh.run(shard: SweepShard(index: 1, count: 4))
        #expect(alone.finished == [ids[1]])
        let results = sweep.results(plan), other = fresh.sweep.results(plan)
        #expect(results.count == 4 && other.map(\.run.id) == [ids[1]])
        let (a, b) = (results[1].report, other[0].report)
        #expect(a.prompt.ids == b.prompt.ids && a.bestStep == b.bestStep && a.devAccuracy == b.devAccuracy)
        #expect(a.test.accuracyProjected == b.test.accuracyProjected && a.scrutability.logPerplexity == b.scrutability.logPerplexity)

        // The report merges what finished.
        let report = try SweepReport(loading: sweep)
        #expect(report.results.count == 4 && report.pending.isEmpty && report.name == sweep.url.lastPathComponent)
        #expect(report.results.map(\.report.method) == ["pez", "pez", "soft", "soft"])
    }

    @Test func aFailingRunIsRecordedAndTheOthersGoOn() throws {
        // The tiny data has no 16-13 split: those runs fail when their task loads.
        let plan = try plan(data: Tiny.dataRoot(), methods: #""pez""#, scrutability: "0", splits: #"["16-100", "16-13"]"#, steps: 1)
        #expect(plan.runs.count == 2)
        let runner = try runner(temporaryFolder("sweep-fail"), plan)
        var failures: [String] = []
        let outcome = try runner.run { event in
            if case .failed(_, let message) = event { failures.append(message) }
        }
        #expect(outcome.finished == [plan.runs[0].id] && outcome.failed == [plan.runs[1].id])
        #expect(failures.count == 1 && failures[0].contains("has no split '16-13'"))
        guard case .failed(let message) = runner.sweep.status(of: plan.runs[1]) else {
            Issue.record("status is \(runner.sweep.status(of: plan.runs[1]))"); return
        }
        #expect(message.contains("16-13"))
        let report = try SweepReport(loading: runner.sweep)
        #expect(report.results.count == 1 && report.pending.count == 1)
        #expect(report.pendingTable.rows[0][2].hasPrefix("failed: "))
    }
}
