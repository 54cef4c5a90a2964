// `legible sweep plan|run|report`: the interpretability–performance trade-off as a grid of tune runs, run in
// shards, merged into one report (tables, Pareto fronts, SVG plots, index.html).
import ArgumentParser
import Foundation
import Reports
import Runs
import Sweeps
import Tasks
import Tuning

struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tune a grid of prompts (methods × λ × γ × tasks × splits × prompt lengths × seeds) and report the trade-off.",
        discussion: """
          legible sweep plan CONFIG.json --out sweeps/NAME
              expand the grid into numbered runs (sweeps/NAME/plan.json)
          legible sweep run sweeps/NAME [--shard i/n]
              run them; run again to continue where it stopped
          legible sweep report sweeps/NAME
              merge the finished runs into sweeps/NAME/report/
        """,
        subcommands: [PlanCommand.self, RunCommand.self, ReportCommand.self])

    struct PlanCommand: ParsableCommand {
        private static let d = SweepConfiguration.tune
        static let configuration = CommandConfiguration(
            commandName: "plan",
            abstract: "Expand a sweep configuration into numbered runs, written to OUT/plan.json.",
            discussion: """
            CONFIG is a JSON object. "model" is required; every other key is optional
            and defaults to `legible tune`'s default. A list key also takes one value.
            Unknown keys are an error.

            Grid (runs = the product of the list lengths; seeds vary fastest):
              methods ["\(d.method)"]   scrutability (λ) [0]   faithfulness (γ) [0]
              tasks ["sst-2"]   splits ["16-100"]      prompt_lengths [\(d.promptLength)]   seeds [\(d.seed)]
            Tuning: steps \(d.steps), batch \(d.batchSize), lr \(d.learningRate), weight_decay \(d.weightDecay),
              clip \(d.maxGradientNorm) (rlprompt: lr 5e-5, weight_decay 0, clip 5), faithfulness_kl 0,
              langevin 0, eval_every \(d.evaluateEvery), metric "\(d.metric)", initialization "random",
              exclude_non_ascii, exclude_non_words, exclude_unstable (false)
              fluency_gradient "full" (soft, pez; or "context"), select "dev-accuracy" (or "dev-loss")
            RLPrompt: fluent_top_k (none), samples_per_step 16, policy_hidden 2048
            gcg: candidates 64, candidates_per_position 64, edit_budget "1:1",
              trajectory 0, repetition_penalty 4
            Task: data "data/fewshot", template (text, "pez" or "rlprompt"; default
              "pez", and "rlprompt" for rlprompt and gcg runs), verbalizers,
              max_sentence_tokens 128, test_limit (none)
            Model: precision "fp32" (or "bf16", as --precision, for every run)

            Paths are relative to the directory `sweep run` starts in. Re-planning
            with a different configuration is refused: run ids would change meaning.
            """)

        @Argument(help: ArgumentHelp("The sweep configuration (JSON).", valueName: "config")) var config: String
        @Option(help: ArgumentHelp("The sweep folder, e.g. sweeps/NAME.", valueName: "folder")) var out: String

        func run() throws {
            guard let data = FileManager.default.contents(atPath: config) else { throw CLIError("cannot read '\(config)'") }
            let configuration = try SweepConfiguration.decode(data)
            let plan = try SweepPlan(configuration)
            let missing = configuration.missingData()
            if !missing.isEmpty { throw SweepError.missingData(missing) }
            guard FileManager.default.fileExists(atPath: configuration.model) else {
                throw CLIError("no model at '\(configuration.model)'; scripts/fetch-model downloads one into models/")
            }
            let sweep = SweepDirectory(URL(fileURLWithPath: out))
            let created = try sweep.create(plan)
            for run in plan.runs { print("\(run.id)  \(run.directory)") }
            print(created ? "planned \(plan.runs.count) runs in \(sweep.planFile.path); next: legible sweep run \(out)"
                          : "\(sweep.planFile.path) already holds this plan (\(plan.runs.count) runs)")
        }
    }

    struct RunCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run a planned sweep, or one shard of it, with the model loaded once.",
            discussion: """
            Each run is an ordinary `tune` run directory under FOLDER/runs/. Runs with a report.json are skipped, runs \
            with a state.json are resumed, so running the same command again continues a stopped sweep. Ctrl-C stops \
            after the current step. Shard i/n takes the runs whose index % n == i (indices from 0): start n processes, \
            on one machine or many sharing the folder, with 0/n … (n-1)/n (see scripts/slurm-sweep.sh). A run that \
            fails is recorded in its error.txt and retried next time; the exit status is then 1.
            """)

        @Argument(help: ArgumentHelp("The sweep folder made by `sweep plan`.", valueName: "folder")) var sweep: String
        @Option(help: ArgumentHelp("Take the runs whose index % n == i (0 ≤ i < n).", valueName: "i/n")) var shard = "0/1"
        @Option(help: "BLAS threads (default: OpenBLAS's own choice, usually one per core).") var threads: Int?
        @OptionGroup var zeroShotCacheOptions: ZeroShotCacheOptions

        func validate() throws {
            if let threads { try ModelOptions.validate(threads: threads) }
            do { _ = try SweepShard(parsing: shard) } catch { throw ValidationError("\(error)") }
        }

        func run() throws {
            let console = Console()
            let directory = SweepDirectory(URL(fileURLWithPath: sweep))
            let plan = try directory.loadPlan()
            let shard = try SweepShard(parsing: self.shard)
            let mine = plan.runs(in: shard)
            let done = mine.filter { directory.status(of: $0) == .finished }.count
            console.line("shard \(shard): \(mine.count) of \(plan.runs.count) runs, \(done) finished earlier")
            guard done < mine.count else {
                print("nothing to do in shard \(shard); legible sweep report \(sweep) merges the results")
                return
            }
            let model = plan.configuration.model
            console.status("loading \(model)")
            let options = try ModelOptions.parse(["--model", model, "--precision", plan.configuration.precision.rawValue]
                                                 + (threads.map { ["--threads", "\($0)"] } ?? []))
            let loaded = try LoadedModel.load(options)
            let modelSHA256 = try loaded.weightsSHA256()
            var runner = SweepRunner(sweep: directory, plan: plan, model: loaded.model, tokenizer: try loaded.requireTokenizer(),
                                     modelName: loaded.name, modelSHA256: modelSHA256)
            runner.zeroShotCache = zeroShotCacheOptions.cache(modelSHA256: modelSHA256)
            console.line("\(loaded.name): \(loaded.model.summary)")
            let interrupt = InterruptFlag()
            let outcome: SweepOutcome
            do {
                outcome = try runner.run(shard: shard) { event in
                    switch event {
                    case .skipped: break
                    case .started(let run, let position, let count, let resuming):
                        console.line("[\(position)/\(count)] \(run.id) \(Self.describe(run))\(resuming ? ", resuming" : "")")
                    case .job(let run, .resumed(let step)): console.line("  resuming at step \(step) of \(run.tuning.steps)")
                    case .job(let run, .step(let record)): console.progress(record, total: run.tuning.steps)
                    case .job(_, .evaluating(let label)): console.status("  evaluating on the test set: \(label)")
                    case .finished(let run, let report):
                        console.status("")
                        console.line("  finished \(run.id): \(Self.describe(report))")
                    case .failed(let run, let message):
                        console.status("")
                        console.line("  failed \(run.id): \(message)")
                    }
                    if interrupt.isSet { throw InterruptFlag.Interrupted() }
                }
            } catch is InterruptFlag.Interrupted {
                console.line("")
                console.line("stopped; run `legible sweep run \(sweep) --shard \(shard)` again to continue")
                throw interrupt.exitCode
            }
            print("shard \(shard): \(outcome.finished.count) runs finished now, \(outcome.skipped.count) earlier, \(outcome.failed.count) failed"
                  + (outcome.failed.isEmpty ? "" : " (\(outcome.failed.joined(separator: ", ")); see their error.txt)")
                  + "; legible sweep report \(sweep) merges the results")
            if !outcome.failed.isEmpty { throw ExitCode(1) }
        }

        static func describe(_ run: SweepRun) -> String {
            "\(run.method.rawValue) \(run.task) \(run.split) λ=\(SweepRun.format(run.scrutability)) γ=\(SweepRun.format(run.faithfulness)) n=\(run.promptLength) seed \(run.seed)"
        }

        static func describe(_ r: RunReport) -> String {
            var text = String(format: "accuracy projected %.3f, text %.3f", r.test.accuracyProjected, r.test.accuracyText)
            if let soft = r.test.accuracy { text += String(format: ", soft %.3f", soft) }
            text += String(format: "; log-ppl %.2f; KL %.4f; ", r.scrutability.logPerplexity, r.faithfulness.kl)
            return text + String(reflecting: r.prompt.text)
        }
    }

    struct ReportCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "Merge a sweep's finished runs into FOLDER/report/: tables, Pareto fronts, SVG plots, index.html.",
            discussion: """
            Writes runs.csv (every finished run), groups.csv and runs.md (mean ± standard deviation over split seeds and \
            seeds per method, λ, γ and prompt length; the Pareto fronts), accuracy-vs-log-ppl.svg, accuracy-vs-kl.svg, \
            accuracy-vs-lambda.svg, log-ppl-vs-lambda.svg (one set per task when there are several) and index.html, \
            which shows them all and reads offline. Runs still going or not started are listed, not counted.
            """)

        @Argument(help: ArgumentHelp("The sweep folder.", valueName: "folder")) var sweep: String
        @Option(help: "The accuracy plots and fronts use: projected (the prompt's tokens), text (typed back in) or soft.")
        var accuracy: SweepAccuracy = .projected

        func run() throws {
            let directory = SweepDirectory(URL(fileURLWithPath: sweep))
            let report = try SweepReport(loading: directory, accuracy: accuracy)
            try report.write(to: directory.reportFolder)
            print(report.summary)
            if !report.perplexityFront.isEmpty {
                print("Pareto front, \(accuracy.title) vs log-perplexity:")
                for i in report.perplexityFront {
                    let r = report.results[i]
                    print(String(format: "  %@  %@  %.3f  log-ppl %.2f  ", r.run.id, RunCommand.describe(r.run),
                                 accuracy.value(r.report) ?? .nan, r.report.scrutability.logPerplexity) + String(reflecting: r.report.prompt.text))
                }
            }
            print("wrote \(directory.reportFolder.appendingPathComponent("index.html").path) (and runs.csv, groups.csv, runs.md, the plots)")
        }
    }
}

extension SweepAccuracy: ExpressibleByArgument {}
