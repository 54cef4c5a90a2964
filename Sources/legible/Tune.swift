// `legible tune`: train a prompt on a few-shot task, then measure it. Progress on stderr; results in --out.
import ArgumentParser
import Dispatch
import Evaluation
import Foundation
import Models
import Tuning

struct Tune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tune a soft prompt (soft) or a readable hard prompt (pez) on a few-shot task.",
        discussion: """
        Writes OUT/prompt.safetensors, OUT/log.jsonl (one line per step), OUT/report.json and resumable state.
        Ctrl-C stops after the current step; run again with --resume to continue.
        Loss = task cross-entropy + λ·scrutability (NLL of the projected prompt) + γ·‖P − P′‖² + κ·KL(soft ‖ projected).
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var taskOptions: TaskOptions
    @Option(help: "soft: continuous prompt (Lester et al.); pez: hard prompt by projected gradients (Wen et al.).")
    var method: TuningMethod = .pez
    @Option(name: .customLong("prompt-length"), help: "Prompt tokens.") var promptLength = 10
    @Option(help: "Optimization steps.") var steps = 150
    @Option(help: "Training examples per step.") var batch = 16
    @Option(help: "AdamW learning rate in input-embedding units (Gemma 3's coordinates have std ≈ 1; scale it down for models with smaller embeddings).") var lr: Float = 1
    @Option(name: .customLong("weight-decay"), help: "AdamW decoupled weight decay.") var weightDecay: Float = 0.01
    @Option(help: "Clip the prompt gradient to this L2 norm (0: no clipping).") var clip: Float = 1
    @Option(help: "λ, weight of the scrutability (fluency) term.") var scrutability: Float = 0
    @Option(help: "γ, weight of the squared distance to the projection.") var faithfulness: Float = 0
    @Option(name: .customLong("faithfulness-kl"), help: "κ, weight of KL(soft ‖ projected) over the labels.") var faithfulnessKL: Float = 0
    @Option(help: "Projected Langevin noise temperature (FluentPrompt); 0 disables it.") var langevin: Float = 0
    @Option(help: "Random seed (initialization, batches, noise).") var seed: UInt64 = 0
    @Option(name: .customLong("eval-every"), help: "Dev accuracy every N steps.") var evalEvery = 10
    @Option(help: "Projection metric: cosine, l2 or dot.") var metric: ProjectionMetric = .cosine
    @Option(help: ArgumentHelp("Initial prompt: random, classwords, or text:<words>.", valueName: "init")) var initialization = "random"
    @Flag(name: .customLong("exclude-non-ascii"), help: "Never project onto non-ASCII tokens.") var excludeNonASCII = false
    @Flag(name: .customLong("exclude-non-words"), help: "Never project onto tokens that are not letters.") var excludeNonWords = false
    @Flag(name: .customLong("exclude-unstable"), help: "Never project onto tokens that do not survive detokenize → retokenize.") var excludeUnstable = false
    @Option(help: "Run directory.") var out: String
    @Flag(help: "Continue the run in --out where it stopped.") var resume = false

    func validate() throws {
        if promptLength < 1 { throw ValidationError("--prompt-length must be at least 1") }
        if steps < 0 { throw ValidationError("--steps cannot be negative") }
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
        if !(lr > 0) { throw ValidationError("--lr must be positive") }
        if scrutability < 0 || faithfulness < 0 || faithfulnessKL < 0 { throw ValidationError("loss weights cannot be negative") }
        _ = try parseInitialization()
    }

    func parseInitialization() throws -> PromptInitialization {
        switch initialization {
        case "random": return .randomTokens
        case "classwords": return .classWords
        case let value where value.hasPrefix("text:"): return .text(String(value.dropFirst(5)))
        default: throw ValidationError("--initialization must be random, classwords or text:<words>")
        }
    }

    var tuningConfiguration: TuningConfiguration {
        var c = TuningConfiguration()
        c.method = method; c.promptLength = promptLength; c.steps = steps; c.batchSize = batch
        c.learningRate = lr; c.weightDecay = weightDecay; c.maxGradientNorm = clip
        c.scrutability = scrutability; c.faithfulness = faithfulness; c.faithfulnessKL = faithfulnessKL
        c.langevinTemperature = langevin; c.seed = seed; c.evaluateEvery = evalEvery; c.metric = metric
        c.filter = TokenFilter(excludeNonASCII: excludeNonASCII, excludeNonWords: excludeNonWords, excludeUnstable: excludeUnstable)
        c.initialization = (try? parseInitialization()) ?? .randomTokens
        return c
    }

    func run() throws {
        let console = Console()
        console.status("loading \(modelOptions.model)")
        let loaded = try LoadedModel.load(modelOptions)
        let tokenizer = try loaded.requireTokenizer()
        let task = try taskOptions.load(tokenizer: tokenizer)
        let job = TuningJob(model: loaded.model, tokenizer: tokenizer, modelName: loaded.name, modelSHA256: try loaded.weightsSHA256(),
                            task: task, configuration: tuningConfiguration, dataRoot: taskOptions.data, testLimit: taskOptions.testLimit)
        console.line("\(method.rawValue) on \(task.definition.name) \(task.split): \(task.train.count) train, \(task.dev.count) dev, \(task.test.count) test examples; \(loaded.model.summary)")
        let directory = RunDirectory(URL(fileURLWithPath: out))
        let interrupt = InterruptFlag()
        let report: RunReport
        do {
            report = try job.run(in: directory, resume: resume) { event in
                switch event {
                case .resumed(let step): console.line("resuming \(out) at step \(step) of \(steps)")
                case .step(let record): console.progress(record, total: steps)
                case .evaluating(let label): console.status("evaluating on the test set: \(label)")
                }
                if interrupt.isSet { throw InterruptFlag.Interrupted() }
            }
        } catch is InterruptFlag.Interrupted {
            console.line("")
            console.line("stopped; run again with --resume to continue")
            throw ExitCode(130)
        }
        console.status("")
        print(ReportText.summary(report))
        console.line("wrote \(directory.prompt.path), \(directory.report.path)")
    }
}

extension TuningMethod: ExpressibleByArgument {}
extension ProjectionMetric: ExpressibleByArgument {}

/// Set by Ctrl-C (SIGINT); the tuning loop checks it between steps.
final class InterruptFlag: @unchecked Sendable {
    struct Interrupted: Error {}
    private let lock = NSLock()
    private var set = false
    private let source: DispatchSourceSignal

    init() {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [weak self] in
            guard let self else { return }
            self.lock.lock(); self.set = true; self.lock.unlock()
            FileHandle.standardError.write(Data("\ninterrupt: finishing the current step…\n".utf8))
        }
        source.resume()
    }

    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return set }
}
