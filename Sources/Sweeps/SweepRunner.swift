// Runs a sweep's plan (or one shard of it) with one loaded model: each run is a `TuningJob` in its own run
// directory. Finished runs (report.json) are skipped and interrupted ones (state.json) resumed, so a stopped
// sweep, run again, continues where it stopped.
import Foundation
import Models
import Runs
import Tasks
import Tokenizers
import Tuning

public enum SweepEvent {
    /// Finished by an earlier process.
    case skipped(SweepRun)
    /// The `position`-th of `count` runs this process has to do (1-based); `resuming` when it continues a saved state.
    case started(SweepRun, position: Int, count: Int, resuming: Bool)
    case job(SweepRun, TuningJobEvent)
    case finished(SweepRun, RunReport)
    /// The run threw; the sweep goes on with the next run, and the message is kept in the run's error.txt.
    case failed(SweepRun, String)
}

/// What one call of `SweepRunner.run` did, by run id.
public struct SweepOutcome: Sendable, Equatable {
    public var finished: [String] = []
    public var skipped: [String] = []
    public var failed: [String] = []
}

public struct SweepRunner {
    public var sweep: SweepDirectory
    public var plan: SweepPlan
    public var model: any CausalLM
    public var tokenizer: any Tokenizer
    /// The name reports carry (the model's folder or file name) and its weights' sha256, checked on resume.
    public var modelName: String
    public var modelSHA256: String
    /// Zero-shot scores shared by the runs (a sweep's λ values share their task's); in memory unless given a folder.
    public var zeroShotCache = ZeroShotCache()

    public init(sweep: SweepDirectory, plan: SweepPlan, model: any CausalLM, tokenizer: any Tokenizer, modelName: String, modelSHA256: String) {
        self.sweep = sweep; self.plan = plan; self.model = model; self.tokenizer = tokenizer
        self.modelName = modelName; self.modelSHA256 = modelSHA256
    }

    /// Runs the shard's unfinished runs in plan order. An error thrown by `onEvent` stops the sweep at once
    /// (after the current step; that run resumes next time) and is rethrown; an error of a run itself is
    /// reported as `.failed` and the sweep goes on.
    @discardableResult
    public func run(shard: SweepShard = .all, onEvent: (SweepEvent) throws -> Void = { _ in }) throws -> SweepOutcome {
        struct Stop: Error { let underlying: Error }
        let config = plan.configuration
        var tasks: [String: Result<PromptTask, Error>] = [:]
        var outcome = SweepOutcome()
        let mine = plan.runs(in: shard)
        let todo = mine.filter { sweep.status(of: $0) != .finished }
        for run in mine where sweep.status(of: run) == .finished {
            outcome.skipped.append(run.id)
            try onEvent(.skipped(run))
        }
        for (position, run) in todo.enumerated() {
            let directory = sweep.run(run)
            let manager = FileManager.default
            try? manager.removeItem(at: sweep.errorFile(run))
            let resuming = manager.fileExists(atPath: directory.state.path)
            if !resuming {
                // Stopped before its first step: start over.
                try? manager.removeItem(at: directory.settings)
                try? manager.removeItem(at: directory.log)
            }
            try onEvent(.started(run, position: position + 1, count: todo.count, resuming: resuming))
            let result: Result<RunReport, Error>
            do {
                let template = config.templateText(for: run.method)
                let key = "\(run.task)/\(run.split)/\(template)"
                let loaded = tasks[key] ?? Result {
                    try PromptTask(name: run.task, split: run.split, dataRoot: URL(fileURLWithPath: config.data),
                                   overrides: TaskDescription(labelWords: config.verbalizers, template: config.template),
                                   defaultTemplate: template, tokenizer: tokenizer, maxSentenceTokens: config.maxSentenceTokens)
                }
                tasks[key] = loaded
                // As `tune` does (recorded in the run's run.json).
                let tuning = run.tuning.fittingFluencyGradient(to: model)
                var job = TuningJob(model: model, tokenizer: tokenizer, modelName: modelName, modelSHA256: modelSHA256,
                                    task: try loaded.get(), configuration: tuning, dataRoot: config.data, testLimit: config.testLimit)
                job.zeroShotCache = zeroShotCache
                job.testRows = config.testRows
                result = .success(try job.run(in: directory, resume: resuming) { event in
                    do { try onEvent(.job(run, event)) } catch { throw Stop(underlying: error) }
                })
            } catch let stop as Stop {
                throw stop.underlying
            } catch {
                result = .failure(error)
            }
            switch result {
            case .success(let report):
                outcome.finished.append(run.id)
                try onEvent(.finished(run, report))
            case .failure(let error):
                let message = "\(error)"
                try? manager.createDirectory(at: directory.url, withIntermediateDirectories: true)
                try? Data((message + "\n").utf8).write(to: sweep.errorFile(run), options: .atomic)
                outcome.failed.append(run.id)
                try onEvent(.failed(run, message))
            }
        }
        return outcome
    }
}
